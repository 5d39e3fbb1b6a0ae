"""snnTorch networks exported to NIR, imported and run on the emulator, against snnTorch's
own simulation: output spike counts and differing (step, neuron) entries side by side.

Run: ``.venv/bin/python benchmarks/nir_snntorch.py`` (needs torch and snntorch:
``pip install -e '.[nir-compare]'`` after ``pip install torch==2.13.0``).

Cases: two Leaky layers (NIR LIF), an RLeaky layer (recurrent LIF) and a Leaky + Synaptic
(CubaLIF) network, each imported with ``discretisation='euler'`` (snnTorch's own step) and
``'exact'`` (the exact integral of NIR's ODE at the same dt). Outputs are aligned at the
shift doc/nir.md derives (one step per spiking layer, one more for a CubaLIF's membrane).
"""

from __future__ import annotations

import numpy as np
import pyNN.spinnaker2 as sim
import snntorch as snn
import torch
from snntorch import utils as snn_utils
from snntorch.export_nir import export_to_nir

T, N_IN, N_HID, N_OUT = 300, 12, 30, 8


def _beta(n: int) -> torch.Tensor:
    return torch.rand(n) * 0.25 + 0.7


def make(kind: str, seed: int) -> torch.nn.Sequential:
    """A random two-layer network of the given kind (reset to zero on a spike)."""
    torch.manual_seed(seed)
    kw = {"reset_mechanism": "zero", "init_hidden": True}
    if kind == "rleaky":
        hidden = snn.RLeaky(beta=_beta(N_HID), threshold=torch.ones(N_HID),
                            linear_features=N_HID, **kw)
    else:
        hidden = snn.Leaky(beta=_beta(N_HID), threshold=torch.ones(N_HID), **kw)
    if kind == "synaptic":
        out = snn.Synaptic(alpha=torch.rand(N_OUT) * 0.3 + 0.5, beta=_beta(N_OUT),
                           threshold=torch.ones(N_OUT), **kw)
    else:
        out = snn.Leaky(beta=_beta(N_OUT), threshold=torch.ones(N_OUT), **kw)
    net = torch.nn.Sequential(torch.nn.Linear(N_IN, N_HID), hidden,
                              torch.nn.Linear(N_HID, N_OUT, bias=False), out)
    with torch.no_grad():
        net[0].weight.mul_(2.5)
        net[2].weight.mul_(3.0)
    return net


def compare(kind: str, seed: int, discretisation: str) -> tuple[int, int, int]:
    """(snnTorch spikes, our spikes, differing entries) of the output layer."""
    net = make(kind, seed)
    graph = export_to_nir(net, torch.zeros(1, N_IN), ignore_dims=[0])
    x = (torch.rand(T, N_IN) < 0.3).float()
    padded = torch.cat([torch.zeros(1, N_IN), x])
    snn_utils.reset(net)
    with torch.no_grad():
        ref = np.array([net(padded[t:t + 1])[0].numpy() for t in range(T + 1)])
    sim.setup(timestep=1.0)
    imported = sim.import_nir(graph, dt=1e-4, discretisation=discretisation)
    imported.set_input("input", x.numpy())
    sim.run(float(T + 4))
    ours = imported.read_output("output")
    shift = 2 + (kind == "synaptic")
    ours = ours[shift - 1:shift - 1 + T + 1]
    sim.end()
    return int(ref.sum()), int(ours.sum()), int((ref != ours).sum())


def main() -> None:
    print(f"{'network':10} {'discretisation':14} {'seed':>4} {'snnTorch':>9} {'ours':>6} "
          f"{'differing':>10}  (of {T + 1} x {N_OUT} output entries)")
    for kind in ("leaky", "rleaky", "synaptic"):
        for disc in ("euler", "exact"):
            for seed in range(3):
                a, b, d = compare(kind, seed, disc)
                print(f"{kind:10} {disc:14} {seed:>4} {a:>9} {b:>6} {d:>10}")


if __name__ == "__main__":
    main()
