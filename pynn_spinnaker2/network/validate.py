"""Checks of a Network before mapping. Every error names the object at fault and the remedy."""

from __future__ import annotations

import numpy as np

from ..cells import CELL_TYPES
from ..errors import NetworkError
from ..synapses import SYNAPSE_TYPES
from .spec import CurrentSourceSpec, Network, PopulationSpec, ProjectionSpec

#: Largest delay, in time steps, the synaptic word can hold (12 bits).
MAX_DELAY_STEPS = 4095


def validate(network: Network) -> Network:
    """Raise a clear error for anything the mapper cannot compile; return the network."""
    if not network.timestep > 0:
        raise NetworkError(f"the time step must be positive, got {network.timestep} ms")
    labels = [p.label for p in network.populations]
    duplicates = {label for label in labels if labels.count(label) > 1}
    if duplicates:
        raise NetworkError(f"population labels must be unique; repeated: {sorted(duplicates)}")
    for pop in network.populations:
        _check_population(pop)
    by_label = {p.label: p for p in network.populations}
    names = [p.label for p in network.projections]
    repeated = {n for n in names if names.count(n) > 1}
    if repeated:
        raise NetworkError(f"projection labels must be unique; repeated: {sorted(repeated)}")
    for check in dict.fromkeys(CELL_TYPES[p.model].extra.get("check_network")
                               for p in network.populations):
        if check is not None:
            check(network)  # model-specific wiring rules (the EGRU's gates)
    for proj in network.projections:
        _check_projection(proj, by_label, network.timestep)
    for src in network.current_sources:
        _check_source_params(src)
        for label, idx in src.targets:
            if label not in by_label:
                raise NetworkError(f"current source {src.label!r} targets unknown population "
                                   f"{label!r}")
            target = by_label[label]
            if CELL_TYPES[target.model].is_source:
                raise NetworkError(f"current source {src.label!r} cannot inject current into "
                                   f"spike source population {label!r}")
            _check_indices(idx, target.size, f"current source {src.label!r}", label)
    return network


#: Current-source parameters (PyNN's names) and what they must be: "finite" (any finite
#: number), ">= 0" (finite and not negative), "> 0" (finite and positive), "stop" (>= 0, or
#: +inf for never). A parameter not listed must be finite.
_SOURCE_RULES = {"amplitude": "finite", "amplitudes": "finite", "offset": "finite",
                 "phase": "finite", "mean": "finite", "start": ">= 0", "times": ">= 0",
                 "frequency": ">= 0", "stdev": ">= 0", "dt": "> 0", "stop": "stop"}


def _check_source_params(src: CurrentSourceSpec) -> None:
    """Refuse NaN, infinite or negative current-source parameters, naming the source."""
    for name, value in src.params.items():
        values = np.asarray(value, dtype=float).reshape(-1)
        rule = _SOURCE_RULES.get(name, "finite")
        bad = np.isnan(values)
        if rule == "stop":
            bad |= values < 0
        else:
            bad |= ~np.isfinite(values)
            if rule == ">= 0":
                bad |= values < 0
            elif rule == "> 0":
                bad |= values <= 0
        if bad.any():
            want = {"finite": "a finite number", ">= 0": "a finite number >= 0",
                    "> 0": "a finite number > 0", "stop": "a number >= 0 (or inf: never)"}
            raise NetworkError(f"current source {src.label!r} ({src.kind}): {name} = "
                               f"{values[bad][0]!r} is not valid; {name} must be "
                               f"{want[rule]}; set it to one, e.g. with "
                               f"source.set({name}=...)")


#: PyNN standard-model parameters that have a sign (NEST refuses the others too): time
#: constants and capacitances > 0, a refractory period, a rate or a time window >= 0.
_POSITIVE = ("cm", "tau_m", "tau_syn_E", "tau_syn_I", "tau_w")
_NON_NEGATIVE = ("tau_refrac", "rate", "start", "duration")


def _check_range(pop: PopulationSpec, name: str, values: np.ndarray) -> None:
    """A time constant <= 0 or a negative rate would make NaN states or a crash in the
    emulator's random draws, with no word on the cause."""
    if name in _POSITIVE and np.any(values <= 0):
        bad = values[values <= 0][0]
        raise NetworkError(f"population {pop.label!r} ({pop.model}): {name} must be > 0, "
                           f"got {bad:g}")
    if name in _NON_NEGATIVE and np.any(values < 0):
        bad = values[values < 0][0]
        raise NetworkError(f"population {pop.label!r} ({pop.model}): {name} must be >= 0, "
                           f"got {bad:g}")


def _check_reset_below_threshold(pop: PopulationSpec, defaults: dict) -> None:
    """An integrate-and-fire neuron reset at or above its threshold would fire at every
    step after its refractory period; NEST refuses it (``V_reset < V_th``), so do we. (The
    adaptive exponential cells' ``v_thresh`` is a soft threshold a reset may lie above.)"""
    if not pop.model.startswith("IF_") or "v_reset" not in defaults:
        return
    reset = np.broadcast_to(pop.params.get("v_reset", defaults["v_reset"]), (pop.size,))
    thresh = np.broadcast_to(pop.params.get("v_thresh", defaults["v_thresh"]), (pop.size,))
    bad = np.flatnonzero(np.asarray(reset) >= np.asarray(thresh))
    if bad.size:
        i = int(bad[0])
        raise NetworkError(f"population {pop.label!r} ({pop.model}): neuron {i} has v_reset "
                           f"{float(reset[i]):g} mV >= v_thresh {float(thresh[i]):g} mV "
                           f"({bad.size} neurons in all); set v_reset below v_thresh")


def _check_population(pop: PopulationSpec) -> None:
    if pop.model not in CELL_TYPES:
        raise NotImplementedError(
            f"population {pop.label!r}: cell type {pop.model!r} is not supported on "
            f"SpiNNaker 2; supported cell types are {sorted(CELL_TYPES)}")
    if pop.size < 1:
        raise NetworkError(f"population {pop.label!r} must have at least one neuron")
    model = CELL_TYPES[pop.model]
    unknown = set(pop.params) - set(model.defaults)
    if unknown:
        raise NetworkError(f"population {pop.label!r} ({pop.model}) has unknown parameters "
                           f"{sorted(unknown)}; its parameters are {sorted(model.defaults)}")
    for name, values in {**pop.params, **pop.initial}.items():
        if np.shape(values) != (pop.size,):
            raise NetworkError(f"population {pop.label!r}: {name!r} has shape "
                               f"{np.shape(values)}, expected ({pop.size},)")
        if not np.all(np.isfinite(values)) and name != "duration":
            raise NetworkError(f"population {pop.label!r}: {name!r} has non-finite values")
        _check_range(pop, name, np.asarray(values))
    _check_reset_below_threshold(pop, model.defaults)
    if pop.model == "SpikeSourceArray":
        if pop.spike_times is None or len(pop.spike_times) != pop.size:
            raise NetworkError(f"population {pop.label!r}: a SpikeSourceArray needs one "
                               f"spike-time array per neuron")
        for i, times in enumerate(pop.spike_times):
            times = np.asarray(times, dtype=float)
            if not np.all(np.isfinite(times)):
                raise NetworkError(f"population {pop.label!r}, neuron {i}: spike times must "
                                   f"be finite, got {times.tolist()[:10]}; remove the NaN "
                                   f"or infinite times")
            if np.any(times <= 0):
                raise NetworkError(
                    f"population {pop.label!r}: neuron {i} has a spike at "
                    f"{float(times[times <= 0][0]):g} ms; spike times must be > 0 ms (a spike at "
                    f"t = 0 lies before the first step and could never be sent; NEST refuses it "
                    f"too): drop it or move it to the first step, t = dt")
    if model.extra.get("check") is not None:
        model.extra["check"](pop)
    for variable, spec in pop.record.items():
        if variable not in model.recordables:
            raise NetworkError(f"population {pop.label!r} ({pop.model}) cannot record "
                               f"{variable!r}; it can record {sorted(model.recordables)}")
        _check_indices(spec.indices, pop.size, f"recording of {variable!r}", pop.label)
    if pop.max_per_core is not None and pop.max_per_core < 1:
        raise NetworkError(f"population {pop.label!r}: neurons per core must be >= 1, got "
                           f"{pop.max_per_core}")


def _check_projection(proj: ProjectionSpec, pops: dict[str, PopulationSpec],
                      dt: float) -> None:
    for end in (proj.pre, proj.post):
        if end not in pops:
            raise NetworkError(f"projection {proj.label!r} refers to unknown population {end!r}")
    pre, post = pops[proj.pre], pops[proj.post]
    model = CELL_TYPES[post.model]
    if model.is_source:
        raise NetworkError(f"projection {proj.label!r} targets {post.label!r}, a "
                           f"{post.model}: spike sources cannot receive synapses")
    if proj.receptor not in model.receptors:
        raise NetworkError(f"projection {proj.label!r}: receptor type {proj.receptor!r} does "
                           f"not exist on {post.label!r} ({post.model}); use one of "
                           f"{list(model.receptors)}")
    synapse = SYNAPSE_TYPES.get(proj.synapse)
    if synapse is None:
        raise NotImplementedError(f"projection {proj.label!r}: synapse type {proj.synapse!r} "
                                  f"is not supported; use one of {sorted(SYNAPSE_TYPES)}")
    required = set(synapse.params)
    if not required <= set(proj.params) <= required | set(synapse.state):
        raise NetworkError(f"projection {proj.label!r}: a {proj.synapse} needs the per-synapse "
                           f"parameters {list(synapse.params)}, got {sorted(proj.params)}")
    if synapse.check is not None and len(proj):
        synapse.check(proj.label, proj.params)
    n = proj.pre_idx.size
    columns = {"post_idx": proj.post_idx, "weight": proj.weight, "delay": proj.delay,
               **proj.params}
    for name, values in columns.items():
        if np.shape(values) != (n,):
            raise NetworkError(f"projection {proj.label!r}: {name} has shape "
                               f"{np.shape(values)}, expected ({n},)")
    _check_indices(proj.pre_idx, pre.size, f"projection {proj.label!r}", pre.label)
    _check_indices(proj.post_idx, post.size, f"projection {proj.label!r}", post.label)
    weight, delay = _distinct(proj.weight), _distinct(proj.delay)
    if n and not np.all(np.isfinite(weight)):
        raise NetworkError(f"projection {proj.label!r} has non-finite weights")
    if n and model.conductance_based and np.any(weight < 0):
        raise NetworkError(f"projection {proj.label!r}: conductance-based target "
                           f"{post.label!r} needs weights >= 0 uS (inhibition comes from "
                           f"the receptor's reversal potential)")
    if n:
        d = delay
        if not np.all(np.isfinite(d)) or np.any(d < 0):
            raise NetworkError(f"projection {proj.label!r} has negative or non-finite delays "
                               f"(min {np.min(d)} ms); delays must be >= the time step {dt} ms")
        steps = np.round(d / dt)
        if np.any(steps < 1):
            raise NetworkError(f"projection {proj.label!r} has delays below one time step "
                               f"(min {np.min(d)} ms < {dt} ms); use delays >= {dt} ms or a "
                               f"smaller time step")
        if np.any(steps > MAX_DELAY_STEPS):
            raise NetworkError(f"projection {proj.label!r} has delays up to {np.max(d)} ms = "
                               f"{int(np.max(steps))} steps; a synaptic word holds at most "
                               f"{MAX_DELAY_STEPS} steps: use a larger time step or shorter "
                               f"delays")


def _distinct(values: np.ndarray) -> np.ndarray:
    """A constant (zero-stride) array as its one value, so checks cost nothing."""
    values = np.asarray(values)
    return values[:1] if values.ndim == 1 and values.strides == (0,) else values


def _check_indices(idx: np.ndarray, size: int, what: str, label: str) -> None:
    idx = _distinct(idx)
    if idx.size and (idx.min() < 0 or idx.max() >= size):
        raise NetworkError(f"{what}: neuron index out of range for population {label!r} "
                           f"of size {size} (indices {idx.min()}..{idx.max()})")
