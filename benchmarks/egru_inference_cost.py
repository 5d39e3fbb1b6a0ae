"""Batch-1 inference of the seed-sized EGRU on this CPU (and a GPU when there is one), beside
the SpiNNaker 2 cost model's estimate for the same model and the seed paper's figures.

The model: 3 EGRU layers (1350, 1350, 750 units) on a 750-wide embedding, 95 % of the weights
pruned at random, fp32 (as the seed deployment). One inference = one sequence of ``--tokens``
tokens, read-out excluded (the same definition the cost model's calibration uses). Measured:
the dense form (pruned weights kept as zeros: what a GPU baseline runs) and the CSR form
(only kept weights: what the chip stores). Energy comes from RAPL
(/sys/class/powercap) on the CPU and NVML on a GPU, when readable; the script says when not.

    pip install 'pynn_spinnaker2[bench]'     # torch==2.13.0 (CPU wheel), nvidia-ml-py
    python benchmarks/egru_inference_cost.py [--tokens 70] [--repeats 5] [--out result.json]

Timings on a shared machine are noisy: run it twice and compare.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import time
import warnings
from pathlib import Path

import numpy as np

from pynn_spinnaker2.cost.seed_egru import PUBLISHED, PUBLISHED_A100, SeedEGRU, seed_reports

POWERCAP = Path("/sys/class/powercap")


def build_egru(torch: object, hidden: tuple[int, ...], embedding: int, density: float,
               sparse: bool, device: str, seed: int = 0) -> list[dict]:
    """Per layer: input and recurrent weights of the three gates (u, r, g stacked), biases and
    thresholds; a random ``1 - density`` of the weights is zeroed."""
    gen = torch.Generator().manual_seed(seed)
    layers = []
    for n_in, n in zip([embedding, *hidden[:-1]], hidden, strict=True):
        def weight(cols: int, n: int = n) -> object:
            w = torch.randn(3 * n, cols, generator=gen) / cols ** 0.5
            w *= torch.rand(3 * n, cols, generator=gen) < density
            return (w.to_sparse_csr() if sparse else w).to(device)
        layers.append({"W": weight(n_in), "V": weight(n),
                       "b": (0.1 * torch.randn(3 * n, generator=gen)).to(device),
                       "bv": (0.1 * torch.randn(3 * n, generator=gen)).to(device),
                       "theta": torch.full((n,), 0.3).to(device)})
    return layers


def run_sequence(torch: object, layers: list[dict], inputs: object) -> float:
    """One inference: every token through the three layers (EvNN's EGRU equations). Returns
    the fraction of units that emitted an event, averaged over tokens and layers."""
    states = [(torch.zeros(p["theta"].numel(), device=inputs.device),) * 2 for p in layers]
    active = 0.0
    for x in inputs:
        for k, p in enumerate(layers):
            c, y = states[k]
            n = c.numel()
            wx = torch.mv(p["W"], x) + p["b"]
            vy = torch.mv(p["V"], y) + p["bv"]
            u = torch.sigmoid(wx[:n] + vy[:n])
            r = torch.sigmoid(wx[n:2 * n] + vy[n:2 * n])
            g = torch.tanh(wx[2 * n:] + r * vy[2 * n:])
            c_hat = u * c + (1 - u) * g
            event = (c_hat > p["theta"]).to(c_hat.dtype)
            y = event * c_hat
            states[k] = (c_hat - event * p["theta"], y)
            x = y
            active += float(event.mean()) if k == 0 else 0.0
    return active / len(inputs)


def rapl_domains() -> tuple[list[Path], str]:
    """Readable RAPL package counters, or why there are none."""
    if not POWERCAP.exists():
        return [], f"{POWERCAP} does not exist (no RAPL exposed, e.g. inside this VM)"
    files = sorted(POWERCAP.glob("*rapl:[0-9]*/energy_uj"))
    if not files:
        return [], f"no RAPL package domain under {POWERCAP}"
    readable = [f for f in files if os.access(f, os.R_OK)]
    if not readable:
        return [], f"RAPL counters under {POWERCAP} are not readable (try as root)"
    return readable, f"RAPL: {', '.join(str(f.parent.name) for f in readable)}"


def rapl_read(files: list[Path]) -> list[int]:
    return [int(f.read_text()) for f in files]


def rapl_joules(files: list[Path], before: list[int], after: list[int]) -> float:
    total = 0
    for f, a, b in zip(files, before, after, strict=True):
        wrap = int((f.parent / "max_energy_range_uj").read_text()) if b < a else 0
        total += b - a + wrap
    return total * 1e-6


def measure(torch: object, layers: list[dict], inputs: object, repeats: int,
            rapl: list[Path], sync: object = None, nvml: object = None) -> dict:
    """Median seconds per inference over ``repeats`` after one warm-up, and energy per
    inference from RAPL / NVML when available."""
    with torch.inference_mode():
        activity = run_sequence(torch, layers, inputs)
        times = []
        e0 = rapl_read(rapl) if rapl else None
        n0 = nvml.total_mj() if nvml else None
        for _ in range(repeats):
            start = time.perf_counter()
            run_sequence(torch, layers, inputs)
            if sync is not None:
                sync()
            times.append(time.perf_counter() - start)
        out = {"latency_s": float(np.median(times)), "latency_s_all": times,
               "event_fraction_layer1": activity}
        if rapl:
            out["energy_j"] = rapl_joules(rapl, e0, rapl_read(rapl)) / repeats
            out["power_w"] = out["energy_j"] / out["latency_s"]
        if nvml:
            out["energy_j"] = (nvml.total_mj() - n0) * 1e-3 / repeats
            out["power_w"] = out["energy_j"] / out["latency_s"]
    return out


class Nvml:
    """Total energy counter of GPU 0 through NVML (pynvml, from nvidia-ml-py)."""

    def __init__(self) -> None:
        import pynvml

        pynvml.nvmlInit()
        self.pynvml = pynvml
        self.handle = pynvml.nvmlDeviceGetHandleByIndex(0)
        self.name = pynvml.nvmlDeviceGetName(self.handle)

    def total_mj(self) -> int:
        return self.pynvml.nvmlDeviceGetTotalEnergyConsumption(self.handle)


def gpu_status(torch: object) -> tuple[object | None, str]:
    """An NVML handle when a CUDA GPU and NVML are both usable, else the reason."""
    if not torch.cuda.is_available():
        return None, "no CUDA GPU visible to torch: GPU rows left out"
    try:
        nvml = Nvml()
    except Exception as err:  # noqa: BLE001 - any NVML failure only disables energy
        return None, f"GPU present but NVML unusable ({err}); GPU energy left out"
    return nvml, f"GPU: {nvml.name}, energy from NVML"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=70, help="tokens per inference")
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--activity", type=float, default=0.2,
                        help="event fraction assumed by the SpiNNaker 2 estimate")
    parser.add_argument("--threads", type=int, default=0, help="torch CPU threads (0: all)")
    parser.add_argument("--out", help="write the figures as JSON here")
    args = parser.parse_args()
    try:
        import torch
    except ImportError:
        raise SystemExit("this benchmark needs torch: pip install 'pynn_spinnaker2[bench]' "
                         "(torch==2.13.0, the CPU wheel)") from None
    if args.threads:
        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", message="Sparse CSR tensor support is in beta")
    model = SeedEGRU(activity=args.activity, tokens=args.tokens)
    gen = torch.Generator().manual_seed(1)
    inputs = torch.randn(args.tokens, model.embedding, generator=gen)
    rapl, rapl_note = rapl_domains()
    results: dict = {"host": {"cpu": platform.processor() or platform.machine(),
                              "threads": torch.get_num_threads(), "torch": torch.__version__,
                              "rapl": rapl_note}, "tokens": args.tokens, "measured": {}}
    print(f"seed-sized EGRU, batch 1, {args.tokens} tokens per inference; torch "
          f"{torch.__version__} on {results['host']['cpu']} with {torch.get_num_threads()} "
          f"threads\nCPU energy: {rapl_note}")
    for form in ("dense", "csr"):
        layers = build_egru(torch, model.hidden, model.embedding, model.density,
                            sparse=form == "csr", device="cpu")
        results["measured"][f"cpu_{form}"] = measure(torch, layers, inputs, args.repeats,
                                                     rapl)
    nvml, gpu_note = gpu_status(torch)
    print(gpu_note)
    results["host"]["gpu"] = gpu_note
    if nvml is not None:
        layers = build_egru(torch, model.hidden, model.embedding, model.density, sparse=False,
                            device="cuda")
        results["measured"]["gpu_dense"] = measure(
            torch, layers, inputs.to("cuda"), args.repeats, [], torch.cuda.synchronize, nvml)
    reports = seed_reports(model)
    results["spinnaker2_estimate"] = {t: {"latency_s": r.latency_per_inference_s,
                                          "energy_j": r.energy_per_inference_j,
                                          "power_w": r.power_w, "overrun": r.overrun}
                                      for t, r in reports.items()}
    _print_table(results, model)
    if args.out:
        Path(args.out).write_text(json.dumps(results, indent=1))
        print(f"written {args.out}")


def _print_table(results: dict, model: SeedEGRU) -> None:
    rows = []
    for name, m in results["measured"].items():
        rows.append((f"measured: {name.replace('_', ' ')}", m["latency_s"],
                     m.get("energy_j"), m.get("power_w")))
    for timing, e in results["spinnaker2_estimate"].items():
        rows.append((f"SpiNNaker 2 estimate ({timing.replace('_', '-')}, activity "
                     f"{model.activity:g})", e["latency_s"], e["energy_j"], e["power_w"]))
    rows.append(("published: SpiNNaker 2 seed (Nazeer 2024)", PUBLISHED["latency_s"],
                 PUBLISHED["energy_j"], PUBLISHED["power_w"]))
    rows.append(("published: NVIDIA A100 (Nazeer 2024)", PUBLISHED_A100["latency_s"],
                 PUBLISHED_A100["energy_j"], PUBLISHED_A100["power_w"]))
    tokens = results["tokens"]
    print(f"\n{'per inference':<52} {'latency':>10} {'per token':>10} {'energy':>11} "
          f"{'power':>8}")
    for label, t, e, p in rows:
        energy = f"{e * 1e3:8.2f} mJ" if e is not None else "        n/a"
        power = f"{p:6.3f} W" if p is not None else "     n/a"
        per_token = f"{t / tokens * 1e3:7.2f} ms" if not label.startswith("published") \
            else "       n/a"
        print(f"{label:<52} {t * 1e3:7.1f} ms {per_token} {energy} {power}")
    print("(published rows: the seed paper's own inference definition, which we could not "
          "verify; ours: one sequence of the stated tokens, read-out excluded)")


if __name__ == "__main__":
    main()
