"""The compiled (numba) kernels against the NumPy reference, bit for bit: both run the same
image, and every state word, ring-buffer word, spike and recorded sample must be equal as
raw 32-bit patterns. The cell and synapse types come from the registries, so a type added
later is run here, or fails naming itself until it has a compiled kernel or is declared
NumPy-only (``compiled.NUMPY_ONLY``, ``NUMPY_ONLY_SYNAPSES``)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from pynn_spinnaker2.backends.emulator import Emulator, compiled
from pynn_spinnaker2.cells import CELL_TYPES
from pynn_spinnaker2.image import build_image
from pynn_spinnaker2.mapping import map_network
from pynn_spinnaker2.network import Network, PopulationSpec, ProjectionSpec, RecordSpec
from pynn_spinnaker2.synapses import types as synapse_types

pytest.importorskip("numba", reason="the compiled kernels need numba (scripts/setup.sh)")

STEPS = 600
NEURON_TYPES = sorted(name for name, m in CELL_TYPES.items() if not m.is_source)
#: Weight of one input spike per weight unit: enough that the cells fire and go refractory.
WEIGHT = {"nA": 2.5, "uS": 0.04, "mV": 6.0, "dimensionless": 0.8}
#: Types whose defaults keep them too far below threshold for this drive.
CELL_PARAMS = {"NIR_LIF": {"bias": 0.95}, "NIR_CubaLIF": {"bias": 0.95}}


def _bits(a: np.ndarray) -> np.ndarray:
    a = np.ascontiguousarray(a)
    return a.view(np.uint8) if a.dtype.itemsize == 1 else a.view(f"u{a.dtype.itemsize}")


def _record_all(model: object, n: int) -> dict[str, RecordSpec]:
    return {var: RecordSpec(np.arange(n), 0.1) for var in model.recordables}


def _network(name: str, synapse: str = "StaticSynapse", params: dict | None = None) -> Network:
    """Poisson drive onto 40 cells of type ``name`` (3 cores) on every receptor, and a
    recurrent projection; everything recorded."""
    model = CELL_TYPES[name]
    rng = np.random.default_rng(11)
    n_pre, n, k = 60, 40, 1200
    cell_params = {"tau_refrac": np.full(n, 2.0)} if "tau_refrac" in model.defaults else {}
    cell_params.update({k: np.full(n, v) for k, v in CELL_PARAMS.get(name, {}).items()})
    pops = (PopulationSpec("drive", "SpikeSourcePoisson", n_pre,
                           params={"rate": np.full(n_pre, 150.0)}, max_per_core=32,
                           record={"spikes": RecordSpec(np.arange(n_pre), 0.1)}),
            PopulationSpec("cells", name, n, params=cell_params, max_per_core=16,
                           record=_record_all(model, n)))
    w = WEIGHT[model.weight_units]
    projs = []
    for j, receptor in enumerate(model.receptors):
        sign = -1.0 if receptor == "inhibitory" and not model.conductance_based else 1.0
        scale = 0.3 if receptor == "inhibitory" else 1.0
        projs.append(ProjectionSpec(
            f"drive_{receptor}", "drive", "cells", rng.integers(0, n_pre, k),
            rng.integers(0, n, k), sign * scale * rng.uniform(0.5, 1.0, k) * w,
            rng.integers(1, 20, k) * 0.1, receptor=receptor, synapse=synapse,
            params={key: np.full(k, v) for key, v in (params or {}).items()}))
        if j == 0:
            projs.append(ProjectionSpec("recurrent", "cells", "cells",
                                        rng.integers(0, n, 300), rng.integers(0, n, 300),
                                        rng.uniform(0.1, 0.3, 300) * w,
                                        rng.integers(1, 30, 300) * 0.1, receptor=receptor))
    return Network(0.1, pops, tuple(projs), seed=5)


def _both(network: Network, steps: int = STEPS) -> tuple[Emulator, Emulator]:
    image = build_image(network, map_network(network))
    ref, fast = Emulator(image, kernels="numpy"), Emulator(image, kernels="numba")
    for emulator in (ref, fast):  # in two pieces: the second starts from a filled ring
        emulator.run(steps // 3)
        emulator.run(steps - steps // 3)
    return ref, fast


def _assert_same(ref: Emulator, fast: Emulator, what: str) -> int:
    """Every state field, the ring, the spikes and the recorded samples, as bits; returns
    the number of spikes the cells sent."""
    for g_ref, g_fast in zip(ref.groups, fast.groups, strict=True):
        for field, value in g_ref.state.items():
            assert np.array_equal(_bits(value), _bits(g_fast.state[field])), (
                f"{what}: state {field!r} of kernel {g_ref.kernel!r} differs")
    assert np.array_equal(_bits(ref.ring), _bits(fast.ring)), f"{what}: input rings differ"
    for name in ("neuron_updates", "packets_sent", "synaptic_events", "macs"):
        a, b = getattr(ref.counters, name, None), getattr(fast.counters, name, None)
        assert (a is None) == (b is None) and (a is None or np.array_equal(a, b)), name
    for a, b in zip(vars(ref.activity).values(), vars(fast.activity).values(), strict=True):
        assert (np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b), (
            f"{what}: per-step work counters differ")
    spikes = 0
    for core, (a, b) in enumerate(zip(ref.recordings(), fast.recordings(), strict=True)):
        assert np.array_equal(a.spike_steps, b.spike_steps), f"{what}: core {core} spikes"
        assert np.array_equal(a.spike_neurons, b.spike_neurons), f"{what}: core {core}"
        assert (a.spike_values is None) == (b.spike_values is None)
        if a.spike_values is not None:
            assert np.array_equal(_bits(a.spike_values), _bits(b.spike_values))
        assert a.signals.keys() == b.signals.keys()
        for var, sig in a.signals.items():
            assert np.array_equal(_bits(sig.data), _bits(b.signals[var].data)), (
                f"{what}: recorded {var!r} of core {core} differs")
        if ref.image.cores[core].kernel not in ("spike_source_poisson",):
            spikes += a.spike_steps.size
    return spikes


def test_every_cell_type_has_a_compiled_kernel_or_is_declared_numpy_only() -> None:
    kernels = compiled.compiled_kernels()
    missing = [f"{name} (kernel {CELL_TYPES[name].kernel!r})" for name in NEURON_TYPES
               if CELL_TYPES[name].kernel not in kernels
               and CELL_TYPES[name].kernel not in compiled.NUMPY_ONLY]
    assert not missing, (f"cell types without a compiled kernel: {', '.join(missing)}; add "
                         f"one to backends/emulator/compiled/neurons.py or declare the kernel "
                         f"in compiled.NUMPY_ONLY with the reason")
    assert not set(kernels) & set(compiled.NUMPY_ONLY)


@pytest.mark.parametrize("name", NEURON_TYPES)
def test_compiled_run_is_bit_identical(name: str) -> None:
    """Each cell type (compiled, or the NumPy kernel where declared so, with the compiled
    delivery) against the NumPy path over 600 steps with spikes and refractoriness."""
    ref, fast = _both(_network(name))
    spikes = _assert_same(ref, fast, name)
    if CELL_TYPES[name].extra.get("spiking", True) and name != "NIR_Threshold":
        assert spikes > 50, f"{name}: too few spikes ({spikes}) to test firing and reset"


def test_graded_payloads_are_bit_identical() -> None:
    """Graded events (a graded source and EGRU units) through the compiled delivery: each
    weight times the packet's payload."""
    rng = np.random.default_rng(3)
    n_in, n, steps = 12, 20, 40
    times = tuple(np.arange(1, steps) * 1.0 for _ in range(n_in))
    values = tuple(rng.normal(size=steps - 1) for _ in range(n_in))
    pops = (PopulationSpec("x", "GradedSourceArray", n_in, spike_times=times,
                           spike_values=values),
            PopulationSpec("h", "EGRU", n, max_per_core=8,
                           params={"theta": np.full(n, 0.2)},
                           record=_record_all(CELL_TYPES["EGRU"], n)))
    projs = []
    for receptor in ("update", "reset", "candidate"):
        projs.append(ProjectionSpec(f"in_{receptor}", "x", "h", np.repeat(np.arange(n_in), n),
                                    np.tile(np.arange(n), n_in),
                                    rng.normal(0, 0.6, n_in * n), np.ones(n_in * n),
                                    receptor=receptor))
    projs.append(ProjectionSpec("rec", "h", "h", np.repeat(np.arange(n), n),
                                np.tile(np.arange(n), n), rng.normal(0, 0.5, n * n),
                                np.ones(n * n), receptor="candidate_recurrent"))
    ref, fast = _both(Network(1.0, pops, tuple(projs), seed=2), steps)
    assert _assert_same(ref, fast, "EGRU") > 20


#: Synapse types whose delivery stays NumPy in a compiled run, and why (the neuron kernels
#: of the same run are compiled).
NUMPY_ONLY_SYNAPSES = {
    "synapse_plasticity": "STDP: the weight update on each pre and post spike",
    "synapse_dynamics": "short-term plasticity: the per-spike Tsodyks-Markram update",
    "synapse_release": "stochastic release: the counter-based random draws per synapse",
    "synapse_quantal": "quantal release: the counter-based random draws per synapse",
}
#: Parameters of each non-static synapse type in the run below.
SYNAPSE_PARAMS = {
    "STDP": {"tau_plus": 20.0, "tau_minus": 20.0, "A_plus": 0.01, "A_minus": 0.012,
             "w_min": 0.0, "w_max": 5.0},
    "TsodyksMarkramSynapse": {"U": 0.5, "tau_rec": 100.0, "tau_facil": 10.0},
    "SimpleStochasticSynapse": {"p": 0.6},
    "StochasticTsodyksMarkramSynapse": {"U": 0.5, "tau_rec": 100.0, "tau_facil": 10.0},
    "MultiQuantalSynapse": {"U": 0.5, "n": 3.0, "tau_rec": 100.0, "tau_facil": 10.0},
}


def _synapse_names() -> list[str]:
    return sorted(synapse_types.SYNAPSE_TYPES)


@pytest.mark.parametrize("synapse", _synapse_names())
def test_every_synapse_type_runs_bit_identical(synapse: str) -> None:
    """Each registered synapse type in a compiled run (compiled where its region allows,
    else declared NumPy-only) against the NumPy path, onto IF_curr_exp cells."""
    region = synapse_types.synapse_region(synapse)
    assert region is None or region in NUMPY_ONLY_SYNAPSES, (
        f"synapse type {synapse!r} (region {region!r}) has no compiled delivery and is not "
        f"declared NumPy-only")
    key = "STDP" if synapse.startswith("STDP:") else synapse
    params = SYNAPSE_PARAMS.get(key, {})
    assert region is None or params, f"give {synapse!r} parameters in SYNAPSE_PARAMS"
    spec = synapse_types.SYNAPSE_TYPES[synapse]
    params = {k: v for k, v in params.items() if k in spec.params}
    ref, fast = _both(_network("IF_curr_exp", synapse, params))
    assert _assert_same(ref, fast, synapse) > 50


#: Run in a fresh process with an empty numba cache (numba inspects no code it loaded from
#: its cache): compiles every kernel for the argument types the emulator passes, and prints
#: the functions whose machine code has a fused multiply-add; as a control, one compiled with
#: fastmath, which must have one where the CPU has FMA.
_FMA_CHECK = """
import re, sys, time
import numba, numpy as np
from pynn_spinnaker2.cells import CELL_TYPES
from pynn_spinnaker2.backends.emulator.compiled import deliver, neurons
FMA = re.compile(r"\\bv?f(n?)m(add|sub)[0-9]*[sp][sd]\\b")
start = time.perf_counter()
n = 4
for name, kernel in neurons.KERNELS.items():
    model = next(m for m in CELL_TYPES.values() if m.kernel == name)
    p = {f: np.ones(n, model.param_dtype[f]) for f in model.param_dtype.names}
    s = {f: np.ones(n, model.state_dtype[f]) for f in model.state_dtype.names}
    ring = np.zeros((len(model.receptors), 3 * n), np.float32)
    for i_inj in (None, np.ones(n, np.float32)):
        kernel(p, s, ring[:, n:2 * n], i_inj)
ring, ptr = np.zeros(16, np.float32), np.array([0, 2, 3])
offset, weight = np.array([1, 17, 5]), np.ones(3, np.float32)
for payload in (None, np.ones(2, np.float32)):
    deliver.deliver(ring, ptr, offset, weight, np.array([0, 1]), 4, payload)
compile_s = time.perf_counter() - start
seen, bad = 0, []
for f in [*[v for v in vars(neurons).values() if hasattr(v, "inspect_asm")], deliver.deliver]:
    for sig in f.signatures:
        seen += 1
        if FMA.search(f.inspect_asm(sig)):
            bad.append(f"{f.__name__}{sig}")
control = numba.njit(fastmath=True)(lambda a, b, c: a * b + c)
control(np.float32(1), np.float32(2), np.float32(3))
caught = bool(FMA.search(next(iter(control.inspect_asm().values()))))
print(seen, caught, compile_s, "|".join(bad))
"""


def test_no_fused_multiply_add_in_the_compiled_code(tmp_path: Path) -> None:
    """No instruction of the compiled kernels is a fused multiply-add (it rounds once where
    NumPy rounds twice); the check finds the one that fastmath makes, where the CPU has FMA."""
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path)}
    done = subprocess.run([sys.executable, "-c", _FMA_CHECK], env=env, capture_output=True,
                          text=True, cwd=Path(__file__).resolve().parents[2], check=False)
    assert done.returncode == 0, done.stderr
    seen, caught, _, bad = done.stdout.split()[:3] + [" ".join(done.stdout.split()[3:])]
    assert int(seen) >= 15, f"only {seen} compiled functions inspected"
    assert not bad, f"fused multiply-add in {bad}"
    if "fma" in _cpu_flags():
        assert caught == "True", "the check does not see the FMA of a fastmath function"


def _cpu_flags() -> set[str]:
    try:
        text = Path("/proc/cpuinfo").read_text()
    except OSError:
        return set()
    line = next((ln for ln in text.splitlines() if ln.startswith("flags")), "")
    return set(line.split(":", 1)[-1].split())


def test_kernel_choice(monkeypatch: pytest.MonkeyPatch) -> None:
    """An explicit choice, then the environment variable, then numba where installed; without
    numba, NumPy with no error (a warning when numba was asked for)."""
    monkeypatch.delenv(compiled.ENV_VAR, raising=False)
    assert compiled.resolve(None) == "numba"
    assert compiled.resolve("NumPy") == "numpy"
    monkeypatch.setenv(compiled.ENV_VAR, "numpy")
    assert compiled.resolve(None) == "numpy"
    assert compiled.resolve("numba") == "numba"
    with pytest.raises(ValueError, match="PYNN_SPINNAKER2_KERNELS='gpu'.*'numba'.*'numpy'"):
        monkeypatch.setenv(compiled.ENV_VAR, "gpu")
        compiled.resolve(None)
    with pytest.raises(ValueError, match="kernels='cuda'"):
        compiled.resolve("cuda")
    monkeypatch.delenv(compiled.ENV_VAR)
    monkeypatch.setattr(compiled, "numba_available", lambda: False)
    assert compiled.resolve(None) == "numpy"
    with pytest.warns(UserWarning, match="numba is not installed"):
        assert compiled.resolve("numba") == "numpy"


def test_setup_chooses_the_kernels() -> None:
    import pyNN.spinnaker2 as sim

    for kernels in ("numpy", "numba"):
        sim.setup(timestep=0.1, kernels=kernels)
        pop = sim.Population(2, sim.IF_curr_exp(i_offset=1.0))
        sim.run(1.0)
        assert sim.simulator.state.compiled.emulator.kernels == kernels
        assert pop.size == 2
        sim.end()
    with pytest.raises(ValueError, match="kernels='cuda': the emulator's kernels are 'numba'"):
        sim.setup(timestep=0.1, kernels="cuda")


def test_poisson_sources_draw_the_same_stream() -> None:
    """The compiled Poisson sources give NumPy's spikes, block after block, and leave the
    generator where NumPy leaves it (means of 0, small and large, starts and ends)."""
    from pynn_spinnaker2.backends.emulator.compiled.sources import poisson_spikes as fast
    from pynn_spinnaker2.backends.emulator.inputs import poisson_spikes as ref

    n = 3000
    params = {"mean_per_step": np.full(n, 0.002, np.float32),
              "start_step": np.zeros(n, np.uint32), "end_step": np.full(n, 2**32 - 1, np.uint32)}
    params["mean_per_step"][::5] = 0.7
    params["mean_per_step"][::7] = 6.5
    params["mean_per_step"][::9] = 0.0
    params["start_step"][::4] = 130
    params["end_step"][::6] = 170
    rng_ref, rng_fast = (np.random.default_rng(np.random.SeedSequence([4, 5])) for _ in "ab")
    for first, steps in ((1, 100), (101, 209), (310, 1), (311, 50)):
        ptr, neurons = ref(rng_ref, params, 7, first, steps)
        ptr_fast, neurons_fast = fast(rng_fast, params, 7, first, steps)
        assert np.array_equal(np.asarray(ptr), ptr_fast)
        assert np.array_equal(neurons, neurons_fast)
        assert neurons.size > 0 or steps == 1
    assert rng_ref.random() == rng_fast.random()
