"""Deploying the trained EGRU models through ``pyNN.spinnaker2``: the parts both models share.

A deployment reads a weight file (:mod:`models.weights`), builds the EGRU layers as PyNN
populations and projections (:func:`pyNN.spinnaker2.egru_layer`), runs them on the emulator
and compares what comes back with the same layers in PyTorch (float32, :mod:`models.egru_torch`)
or, without torch, in float64 NumPy (:mod:`models.egru_numpy`). The model-specific parts
(input, readout, metric) are in ``models/egru_lm/deploy.py`` and
``models/egru_gesture/deploy.py``.

Units per PE
------------
The image keeps synaptic rows in each chip's DRAM, as for every cell type. The seed
deployment (Nazeer et al., AICAS 2024) held its pruned rows in the PEs' SRAM, which is what
makes pruning pay on the chip: fewer weights, fewer PEs. So by default (``per_core="fit"``)
each layer is split into the fewest PEs whose synaptic rows (8 bytes per synapse and per
source neuron) plus neuron state fit the 96 KiB SRAM data budget (:func:`units_per_pe`); the
check after mapping (:func:`chip_figures`) uses the image's actual bytes, and the cost model
prices the run twice: rows in DRAM as the image lays them out, and rows in SRAM on the PEs
where they fit (:func:`cost_figures`).
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np

from models.weights import load_weights

#: Bytes of SRAM one EGRU unit takes besides its rows: parameters and state (44), two-slot
#: input rings of its four gates (32), its recording flag (1). ``chip_figures`` checks the
#: image's real figures; this only sizes the pieces.
UNIT_SRAM_BYTES = 77
#: Fixed SRAM per piece with room to spare: region table and counters, random seed,
#: recording control, key table entries of its source pieces.
PIECE_SRAM_BYTES = 2048
#: A synaptic word, and a row index entry per source neuron (``doc/egru.md``).
SYNAPSE_BYTES = 8
ROW_BYTES = 8
#: EGRU units per PE by default (``doc/egru.md``).
MAX_UNITS_PER_PE = 128
LAYER_ARRAYS = ("kernel", "recurrent_kernel", "bias", "recurrent_bias", "thr")


class WeightFileError(ValueError):
    """A weight file that does not describe the model the deployment builds."""


# -- weight files -------------------------------------------------------------------------

def load_model_file(path: str | Path, model: str, input_size: int | None = None,
                    n_classes: int | None = None) -> tuple[dict[str, np.ndarray], dict]:
    """Read a weight file and check that it is a ``model`` EGRU whose arrays fit together.

    Parameters
    ----------
    path
        The ``.npz`` file.
    model
        ``"egru_lm"`` or ``"egru_gesture"`` (the file's ``__meta__["model"]``).
    input_size
        Inputs of layer 0 (rows of ``egru0.kernel``), when the deployment knows it.
    n_classes
        Rows of ``readout.weight``, when known.

    Raises
    ------
    WeightFileError
        Naming the file, the array, the shape found and the shape expected.
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"{path}: no such weight file")
    try:
        arrays, meta = load_weights(path)
    except ValueError as err:
        raise WeightFileError(str(err)) from err
    if meta.get("model") != model:
        raise WeightFileError(f"{path}: the weights of {meta.get('model')!r}, but this deployment "
                              f"builds {model!r}")
    hidden = [int(h) for h in meta.get("hidden_sizes", [])]
    if not hidden:
        raise WeightFileError(f"{path}: __meta__ has no hidden_sizes")
    size_in = input_size if input_size is not None else _shape(arrays, path, "egru0.kernel")[0]
    expected = {}
    for layer, h in enumerate(hidden):
        expected.update({f"egru{layer}.kernel": (size_in, 3 * h),
                         f"egru{layer}.recurrent_kernel": (h, 3 * h),
                         f"egru{layer}.bias": (3 * h,), f"egru{layer}.recurrent_bias": (3 * h,),
                         f"egru{layer}.thr": (h,)})
        size_in = h
    classes = n_classes if n_classes is not None else _shape(arrays, path, "readout.weight")[0]
    expected.update({"readout.weight": (classes, hidden[-1]), "readout.bias": (classes,)})
    for name, shape in expected.items():
        found = _shape(arrays, path, name)
        if found != shape:
            raise WeightFileError(
                f"{path}: {name} has shape {found}, expected {shape} (hidden sizes {hidden} "
                f"from __meta__, {expected['egru0.kernel'][0]} inputs, {classes} outputs; "
                f"EvNN layout, gate columns [u | r | g])")
        if not np.all(np.isfinite(arrays[name])):
            raise WeightFileError(f"{path}: {name} has non-finite values")
    extra = sorted(set(arrays) - set(expected))
    if extra:
        raise WeightFileError(f"{path}: arrays {extra} belong to no layer of hidden sizes "
                              f"{hidden}")
    return arrays, meta


def check_io_sizes(arrays: dict[str, np.ndarray], path: Path, n_inputs: int, n_outputs: int,
                   inputs: str, outputs: str) -> None:
    """Refuse a file whose layer 0 does not take ``n_inputs`` inputs or whose readout does
    not give ``n_outputs`` outputs (``inputs``, ``outputs``: what they are, for the message).
    """
    for name, size, what in (("egru0.kernel", n_inputs, inputs),
                             ("readout.weight", n_outputs, outputs),
                             ("readout.bias", n_outputs, outputs)):
        if arrays[name].shape[0] != size:
            raise WeightFileError(f"{path}: {name} has shape {arrays[name].shape}, but the "
                                  f"deployment has {size} {what} (its first axis)")


def _shape(arrays: dict[str, np.ndarray], path: Path, name: str) -> tuple[int, ...]:
    if name not in arrays:
        raise WeightFileError(f"{path}: no array {name!r} (has {sorted(arrays)})")
    return tuple(arrays[name].shape)


def layer_arrays(arrays: dict[str, np.ndarray], layer: int) -> dict[str, np.ndarray]:
    """The five arrays of EGRU layer ``layer``; thresholds clamped to [0, 1] as EvNN does."""
    out = {name: arrays[f"egru{layer}.{name}"] for name in LAYER_ARRAYS}
    out["thr"] = np.clip(out["thr"], 0.0, 1.0)
    return out


# -- building the network ------------------------------------------------------------------

def unit_row_bytes(layer: dict[str, np.ndarray]) -> np.ndarray:
    """Per unit: bytes of synaptic words onto it (its three gates, input and recurrent)."""
    h = layer["thr"].size
    nonzero = (np.count_nonzero(layer["kernel"], axis=0)
               + np.count_nonzero(layer["recurrent_kernel"], axis=0))
    return SYNAPSE_BYTES * nonzero.reshape(3, h).sum(axis=0)


def piece_bounds(n: int, cap: int) -> np.ndarray:
    """Edges of the pieces the mapper cuts ``n`` units into at ``cap`` per PE (equal split)."""
    k = -(-n // cap)
    return np.linspace(0, n, k + 1).round().astype(np.int64)


def units_per_pe(layer: dict[str, np.ndarray], budget: int,
                 cap: int = MAX_UNITS_PER_PE) -> int:
    """The most units per PE (at most ``cap``) for which every piece's synaptic rows, row
    index and state fit ``budget`` bytes of SRAM.

    Raises
    ------
    ValueError
        When one unit's rows alone do not fit.
    """
    rows = unit_row_bytes(layer)
    h = rows.size
    sources = layer["kernel"].shape[0] + h
    fixed = PIECE_SRAM_BYTES + ROW_BYTES * sources
    cum = np.concatenate(([0], np.cumsum(rows + UNIT_SRAM_BYTES)))
    for n in range(min(cap, h), 0, -1):
        edges = piece_bounds(h, n)
        if np.all(cum[edges[1:]] - cum[edges[:-1]] + fixed <= budget):
            return int(np.diff(edges).max())  # the same pieces, the tightest cap
    raise ValueError(f"one EGRU unit needs {int(rows.max()) + UNIT_SRAM_BYTES + fixed} bytes of "
                     f"synaptic rows and state, more than the {budget}-byte SRAM budget: "
                     f"give a number of units per PE (rows then stay in DRAM)")


def plan_units_per_pe(arrays: dict[str, np.ndarray], n_layers: int, per_core: str | int,
                      budget: int) -> list[int]:
    """Units per PE of each layer: ``"fit"`` or ``"memory"`` (:func:`units_per_pe`; "fit"
    then also splits layers that overrun the timer tick, see :func:`more_pes`) or a number
    for all layers."""
    if per_core in ("fit", "memory"):
        return [units_per_pe(layer_arrays(arrays, k), budget) for k in range(n_layers)]
    try:
        n = int(per_core)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"units per PE must be >= 1, 'fit' or 'memory', got {per_core!r}")
    return [n] * n_layers


def spike_times(active: np.ndarray, dt: float = 1.0, first_step: int = 1) -> list[list[float]]:
    """Spike times (ms) per input neuron of a (steps, neurons) boolean matrix: one spike in
    step ``first_step + k`` for every true entry of row k (position k)."""
    active = np.asarray(active, bool)
    return [((first_step + np.flatnonzero(active[:, i])) * dt).tolist()
            for i in range(active.shape[1])]


def build_layers(sim: object, inputs: object, arrays: dict[str, np.ndarray], n_layers: int,
                 per_core: list[int], prefix: str = "") -> list[object]:
    """Stacked EGRU layers on ``inputs`` (``sim.egru_layer``), each recording its events."""
    layers, pre = [], inputs
    for k in range(n_layers):
        a = layer_arrays(arrays, k)
        layer = sim.egru_layer(pre, a["kernel"], a["recurrent_kernel"], a["bias"],
                               a["recurrent_bias"], a["thr"], label=f"{prefix}egru{k}",
                               max_per_core=per_core[k])
        layer.population.record("spikes")
        layers.append(layer)
        pre = layer.population
    return layers


# -- what the chip used ---------------------------------------------------------------------

def core_rows(compiled: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per core of the image: SRAM bytes as laid out, synaptic row bytes (rows and row index,
    in DRAM), and whether both would fit the SRAM data budget together."""
    image = compiled.image
    budget = image.machine.sram_data_budget
    sram = np.array([c.sram_bytes for c in image.cores], np.int64)
    rows = np.array([int(c.dram["synapses"].nbytes + c.dram["row_index"].nbytes)
                     if "synapses" in c.dram else 0 for c in image.cores], np.int64)
    return sram, rows, (sram + rows) <= budget


def chip_figures(sim: object) -> dict:
    """PEs, chips, router entries and SRAM per PE of the last compiled network, and per
    EGRU population its PEs (``layers``).

    SRAM is given as laid out by the image (state, rings, key tables, spike schedules) and,
    for EGRU PEs, with their synaptic rows added (what the PE would hold with its rows in
    SRAM), both against the data budget.
    """
    from pynn_spinnaker2.reports import summary

    compiled = sim.get_mapping()
    figures = summary(compiled)
    image = compiled.image
    budget = image.machine.sram_data_budget
    sram, rows, fits = core_rows(compiled)
    egru = np.array([c.kernel == "egru" for c in image.cores])
    per_pop: dict[str, list[int]] = {}
    for i, where in enumerate(image.index_map):
        if egru[i]:
            per_pop.setdefault(where.population, []).append(i)
    with_rows = sram + rows
    return {
        "machine": figures["machine"],
        "pes": int(figures["pes_used"]),
        "egru_pes": int(egru.sum()),
        "chips": int(figures["chips_used"]),
        "router_entries": int(figures["router_entries_after_compression"]),
        "router_entries_before_compression": int(figures["router_entries_before_compression"]),
        "max_router_entries_per_chip": int(figures["max_router_entries_per_chip"]),
        "sram_budget_bytes": int(budget),
        "sram_bytes_mean": float(sram.mean()), "sram_bytes_max": int(sram.max()),
        "egru_sram_with_rows_bytes_mean": float(with_rows[egru].mean()) if egru.any() else 0.0,
        "egru_sram_with_rows_bytes_max": int(with_rows[egru].max()) if egru.any() else 0,
        "egru_pes_rows_fit_sram": int((fits & egru).sum()),
        "synapses": int(figures["synapses"]),
        "layers": {label: {"pes": len(idx), "units_per_pe": [
            int(image.index_map[i].hi - image.index_map[i].lo) for i in idx],
            "row_bytes_max": int(rows[idx].max()),
            "sram_with_rows_bytes_max": int(with_rows[idx].max())}
            for label, idx in per_pop.items()},
    }


def cost_figures(sim: object, inferences: int) -> dict:
    """The cost model's figures of the last run (``sim.get_cost``), per inference.

    Four estimates: real-time (1 timer tick per step, as on the board) and free-running,
    each with the synaptic rows in DRAM (as the image lays them out) and in SRAM on every
    PE where rows and state fit the data budget together (as the seed deployment kept its
    rows; no DRAM traffic there).
    """
    from pynn_spinnaker2.cost import DEFAULT_CONSTANTS, build_activity, estimate

    compiled = sim.get_mapping()
    emulator = compiled.emulator
    activity = build_activity(emulator.image, emulator.activity)
    _, rows, fits = core_rows(compiled)
    in_sram = dataclasses.replace(activity, rows_in_dram=activity.rows_in_dram & ~fits)
    clock = compiled.image.machine.clock_hz
    out: dict = {"inferences": int(inferences)}
    totals = None
    for rows_where, act in (("rows_in_dram", activity), ("rows_in_sram", in_sram)):
        for timing in ("real_time", "free_running"):
            report = estimate(act, DEFAULT_CONSTANTS, timing=timing, inferences=inferences,
                              clock_hz=clock)
            s = report.summary()
            out[f"{timing}.{rows_where}"] = {
                "overrun": bool(s["overrun"]), "overrun_steps": s["overrun_steps"],
                "max_pe_load": s["max_pe_load"], "max_dram_load": s["max_dram_load"],
                "steps": s["steps"], "wall_time_s": s["wall_time_s"],
                "latency_per_step_s": s["latency_per_step_s"],
                "latency_per_inference_s": s["latency_per_inference_s"],
                "energy_per_inference_j": s["energy_per_inference_j"],
                "energy_dynamic_per_inference_j": s["energy_dynamic_j"] / inferences,
                "power_w": s["power_w"], "static_power_w": s["static_power_w"],
                "energy_breakdown_j": s["energy_breakdown_j"]}
            if totals is None:  # the counters, with rows in DRAM as emulated
                totals = s["totals"]
                out["max_pe_load_by_population"] = _load_by_population(compiled, report)
    out["per_inference"] = {k: float(v) / inferences for k, v in totals.items()}
    out["pes_rows_in_sram"] = int((fits & (rows > 0)).sum())
    out["pes_with_rows"] = int((rows > 0).sum())
    return out


def _load_by_population(compiled: object, report: object) -> dict[str, float]:
    """Population label -> the peak load (cycles / timer tick) of its busiest PE."""
    out: dict[str, float] = {}
    for where, load in zip(compiled.image.index_map, report.load_peak, strict=True):
        out[where.population] = max(out.get(where.population, 0.0), float(load))
    return out


def more_pes(plan: list[int], pieces: list[int], loads: list[float],
             margin: float = 0.9) -> list[int] | None:
    """Units per PE for the next run after one whose layers had at most ``pieces`` units on
    a PE and peak loads ``loads`` on their busiest PE: fewer units where a PE overran the
    timer tick (load > 1), in proportion to the load; None when no layer overran or none
    can be split further."""
    new = [max(1, min(cap, int(piece * margin / load))) if load > 1.0 else cap
           for cap, piece, load in zip(plan, pieces, loads, strict=True)]
    return new if new != plan else None


#: Runs at most, with ``per_core="fit"``, to find units per PE that keep the 1 ms tick.
MAX_PASSES = 4


def fit_first_batch(run_batch: Callable[[list[int]], dict], plan: list[int],
                    per_core: str | int, describe: Callable[[dict], dict]
                    ) -> tuple[dict, list[int], list[dict]]:
    """Run the first batch with ``plan`` (units per PE per layer) and, with ``per_core ==
    "fit"``, again with more PEs for every layer whose busiest PE overran the timer tick
    (:func:`more_pes`), :data:`MAX_PASSES` runs at most.

    ``run_batch(plan)`` returns a run with ``pieces`` and ``loads`` per layer;
    ``describe(run)`` what is kept of each pass. Returns the last run, its plan and the
    passes described.
    """
    passes = []
    while True:
        run = run_batch(plan)
        passes.append(describe(run))
        plan_next = (more_pes(plan, [max(p) for p in run["pieces"]], run["loads"])
                     if per_core == "fit" and len(passes) < MAX_PASSES else None)
        if plan_next is None:
            return run, plan, passes
        plan = plan_next


# -- batches of copies ----------------------------------------------------------------------

#: PEs of a chip a batch plans with (152 per chip; a little room for the placer).
PES_PER_CHIP = 148
#: Neurons per PE of a spike source (its cell type's default).
SOURCE_PER_PE = 1024


def chips_for(copies: int, plan: list[int], hidden: list[int], inputs: int) -> int:
    """Chips a batch of ``copies`` networks (a spike source of ``inputs`` neurons and EGRU
    layers of ``hidden`` units at ``plan`` units per PE each) needs."""
    per_copy = -(-inputs // SOURCE_PER_PE) + sum(
        len(piece_bounds(h, cap)) - 1 for h, cap in zip(hidden, plan, strict=True))
    return max(1, -(-copies * per_copy // PES_PER_CHIP))


def batch_loads(chip: dict, cost: dict, copies: list[list[str]]) -> tuple[list, list]:
    """Per layer over all copies (``copies[k]``: layer k's population labels): the units of
    every piece, and the peak load of the busiest PE."""
    pieces = [[u for label in labels for u in chip["layers"][label]["units_per_pe"]]
              for labels in copies]
    loads = [max(cost["max_pe_load_by_population"][label] for label in labels)
             for labels in copies]
    return pieces, loads


def per_copy_chip(chip: dict, copies: int) -> dict:
    """A batch run's chip figures, with the PEs of one copy of the network."""
    out = {k: v for k, v in chip.items() if k != "layers"}
    out.update(copies=copies, pes_per_copy=chip["pes"] / copies,
               egru_pes_per_copy=chip["egru_pes"] / copies)
    return out


def combine_costs(costs: list[dict], positions: list[int]) -> dict:
    """The cost figures of several batch runs (:func:`cost_figures` each), per inference.

    ``positions``: steps of input per copy in each run (characters of a segment; 1 for a
    recording). Energies are summed over the runs and divided by all inferences; latency per
    inference is a run's wall time over its positions (the copies run in parallel, so a
    copy's inference takes as long as the run); loads and power are the worst run's.
    """
    n = sum(c["inferences"] for c in costs)
    out: dict = {"inferences": n, "runs": len(costs)}
    for key in (k for k in costs[0] if "." in k):
        parts = [c[key] for c in costs]
        weights = [c["inferences"] for c in costs]
        out[key] = {
            "overrun_runs": sum(bool(p["overrun"]) for p in parts),
            "max_pe_load": max(p["max_pe_load"] for p in parts),
            "run_wall_time_s_max": max(p["wall_time_s"][1] for p in parts),
            "latency_per_inference_s": max(p["wall_time_s"][1] / k
                                           for p, k in zip(parts, positions, strict=True)),
            "energy_per_inference_j": sum(p["energy_per_inference_j"] * w
                                          for p, w in zip(parts, weights, strict=True)) / n,
            "energy_dynamic_per_inference_j": sum(
                p["energy_dynamic_per_inference_j"] * w
                for p, w in zip(parts, weights, strict=True)) / n,
            "power_w_max": max(p["power_w"] for p in parts)}
    out["per_inference"] = {name: sum(c["per_inference"][name] * c["inferences"]
                                      for c in costs) / n
                            for name in costs[0]["per_inference"]}
    out["pes_rows_in_sram"] = costs[0]["pes_rows_in_sram"]
    out["pes_with_rows"] = costs[0]["pes_with_rows"]
    return out


# -- references -----------------------------------------------------------------------------

def torch_available() -> bool:
    try:
        import torch  # noqa: F401
    except ImportError:
        return False
    return True


def reference_layers(arrays: dict[str, np.ndarray], n_layers: int, x: np.ndarray,
                     backend: str = "auto") -> tuple[list[np.ndarray], list[np.ndarray], str]:
    """The EGRU layers off the chip, from zero state: per layer y and events (T, N, H).

    ``x``: token ids (T, N) (one-hot input) or inputs (T, N, I). ``backend``: ``"torch"``
    (:class:`models.egru_torch.EGRU`, float32, as trained), ``"numpy"``
    (:func:`models.egru_numpy.egru_layer`, float64) or ``"auto"`` (torch when installed).
    Returns the outputs, the events and a description of what computed them.
    """
    note = ""
    if backend == "auto":
        backend = "torch" if torch_available() else "numpy"
        note = "; torch is not installed"
    if backend == "torch":
        return (*_torch_layers(arrays, n_layers, x), "PyTorch float32 (models/egru_torch.py)")
    if backend != "numpy":
        raise ValueError(f"reference backend {backend!r}: use 'torch', 'numpy' or 'auto'")
    from models.egru_numpy import egru_layer

    ys, events, h = [], [], x
    for k in range(n_layers):
        run = egru_layer(layer_arrays(arrays, k), h)
        ys.append(run.y)
        events.append(run.events)
        h = run.y
    return ys, events, f"NumPy float64 (models/egru_numpy.py{note})"


def _torch_layers(arrays: dict[str, np.ndarray], n_layers: int, x: np.ndarray,
                  ) -> tuple[list[np.ndarray], list[np.ndarray]]:
    import torch

    from models.egru_torch import EGRU

    ys, events = [], []
    h = torch.as_tensor(x) if np.issubdtype(np.asarray(x).dtype, np.integer) else \
        torch.as_tensor(np.asarray(x, np.float32))
    with torch.no_grad():
        for k in range(n_layers):
            a = layer_arrays(arrays, k)
            layer = EGRU(a["kernel"].shape[0], a["thr"].size).eval()
            for name in LAYER_ARRAYS:
                getattr(layer, name).copy_(torch.as_tensor(np.asarray(a[name], np.float32)))
            h, e, _ = layer(h)
            ys.append(h.numpy())
            events.append(e.numpy())
    return ys, events


def reference_name(results: list[dict]) -> str:
    """``PyTorch`` or ``NumPy float64``: what computed the references of ``results``."""
    names = {"PyTorch" if r["reference"]["backend"].startswith("PyTorch") else
             "NumPy float64" for r in results}
    return " / ".join(sorted(names))


def compare_layers(emulated: list[np.ndarray], reference: list[np.ndarray],
                   before: list[dict] | None = None) -> list[dict]:
    """Per layer: events on the emulator, (position, unit) pairs whose event differs from the
    reference, and the largest value gap; added to ``before`` (an earlier batch's figures)."""
    out = []
    for k, (y, r) in enumerate(zip(emulated, reference, strict=True)):
        d = {"events": int((y != 0).sum()),
             "reference_events": int((r != 0).sum()),
             "events_differing": int(((y != 0) != (r != 0)).sum()),
             "max_abs_value_difference": float(np.abs(y - r).max(initial=0.0))}
        if before is not None:
            d = {key: (max(v, before[k][key]) if key.startswith("max") else v + before[k][key])
                 for key, v in d.items()}
        out.append(d)
    return out


class Stopwatch:
    """Named wall-clock intervals (seconds)."""

    def __init__(self) -> None:
        self.seconds: dict[str, float] = {}
        self._t = time.perf_counter()

    def lap(self, name: str) -> None:
        now = time.perf_counter()
        self.seconds[name] = self.seconds.get(name, 0.0) + now - self._t
        self._t = now
