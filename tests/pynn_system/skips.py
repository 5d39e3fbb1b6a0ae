"""PyNN scenario tests we skip, each with the reason (also listed in
doc/pynn_scenarios_features.md)."""

SKIPS: dict[str, str] = {
    "test_composed_neuron_model_homogeneous_receptors":
        "PointNeuron (composed cell types) is not supported: cores run fixed kernels",
    "test_issue259": "expects spike_precision='off_grid' (exact spike times between grid "
                     "points): SpiNNaker 2 cores send spikes on the time grid (setup warns)",
}
