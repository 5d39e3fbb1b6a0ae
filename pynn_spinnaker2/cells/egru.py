r"""EGRU: the event-based gated recurrent unit (Subramoney et al., ICLR 2023), as the EvNN
reference implementation (``evnn-pytorch`` 0.2.0) computes it at inference.

Per unit i, at each update, with the summed graded inputs that arrive in this step on the four
receptors (each already a weighted sum of event values, see below):

.. math::

    u &= \sigma(a_u + b_u) \qquad r = \sigma(a_r + b_r) \\
    g &= \tanh(a_g + b_g + r\,(a_{gr} + b_{gr})) \\
    \hat c &= u\,c + (1 - u)\,g \qquad
        (\text{zoneout } p > 0:\ \hat c \leftarrow p\,c + (1 - p)\,\hat c) \\
    e &= [\hat c > \theta] \qquad y = e\,\hat c \qquad c \leftarrow \hat c - e\,\theta

``a_u`` (receptor ``update``) and ``a_r`` (``reset``) sum the feed-forward term ``W x`` and
the recurrent term ``V y_{t-1}``; the candidate keeps them apart because the reset gate
multiplies only the recurrent part: ``a_g`` (``candidate``) is ``W_g x`` and ``a_gr``
(``candidate_recurrent``) is ``V_g y_{t-1}``. The biases are EvNN's ``bias + recurrent_bias``
for u and r, ``bias`` (b_g) and ``recurrent_bias`` (b_gr, inside the reset) for the candidate.
``u`` is EvNN's ``z`` (the keep gate; the ICLR paper's update gate is 1 - u).

A unit with ``e = 1`` sends one multicast packet whose 32-bit payload is the float32 value
``y``; a unit below threshold sends nothing. Each synapse multiplies its weight by the payload,
so the receptor sums above are exactly the matrix-vector products of the EvNN layer over the
units that fired.

Pipeline: a stacked layer starts updating in the step its first input can arrive (see
:func:`first_steps`); before that its units hold their initial state and send nothing, so
the biases alone never drive a layer that has no input yet. The number of idle updates is
compiled into the state region (``wait``).
"""

from __future__ import annotations

import numpy as np

from ..errors import NetworkError
from .base import CellType, KernelOps, f32, structured
from .registry import register

#: Receptor types of an EGRU population, in input-ring order.
GATES = ("update", "reset", "candidate", "candidate_recurrent")
#: Receptors a projection from the population into itself (y_{t-1}) may use.
RECURRENT_GATES = ("update", "reset", "candidate_recurrent")
#: Receptors a projection from any other population (x_t) may use.
FEEDFORWARD_GATES = ("update", "reset", "candidate")

DEFAULTS = {"theta": 0.3, "bias_update": 0.0, "bias_reset": 0.0, "bias_candidate": 0.0,
            "bias_candidate_recurrent": 0.0, "zoneout": 0.0}
INITIAL = {"c": 0.0}

PARAM_DTYPE = np.dtype([
    ("theta", "<f4"), ("bias_update", "<f4"), ("bias_reset", "<f4"), ("bias_candidate", "<f4"),
    ("bias_candidate_recurrent", "<f4"), ("zoneout", "<f4"),
])
#: ``wait``: updates still to skip before the first input arrives (the pipeline lag).
STATE_DTYPE = np.dtype([("c", "<f4"), ("update", "<f4"), ("reset", "<f4"),
                        ("candidate", "<f4"), ("wait", "<i4")])


def build_params(p: dict[str, np.ndarray], dt: float) -> np.ndarray:
    """The neuron region: the parameters as float32 (the EGRU has no time constants)."""
    n = len(p["theta"])
    return structured(PARAM_DTYPE, n, **{name: f32(p[name]) for name in PARAM_DTYPE.names})


def build_state(initial: dict[str, np.ndarray], p: dict[str, np.ndarray]) -> np.ndarray:
    """The state region at t = 0; ``p["first_step"]`` (derived from the wiring, see
    :func:`derived_params`) sets how many updates are skipped."""
    n = len(initial["c"])
    first = np.asarray(p.get("first_step", np.ones(n)), dtype=np.int64)
    return structured(STATE_DTYPE, n, c=f32(initial["c"]), wait=np.maximum(first - 1, 0))


def sigmoid(x: np.ndarray) -> np.ndarray:
    """The logistic function, in the precision of ``x``."""
    one = x.dtype.type(1.0)
    return one / (one + np.exp(-x))


def reference_step(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
                   i_inj: np.ndarray | None = None, dt: float = 1.0
                   ) -> tuple[dict[str, np.ndarray], np.ndarray]:
    """One update in float64, from the PyNN parameters.

    Parameters
    ----------
    p
        Parameters (arrays): ``theta``, the four biases, ``zoneout``.
    s
        State: ``c`` and ``wait`` (updates still to skip).
    inputs
        Shape (4, n): summed graded inputs arriving this step, per receptor (:data:`GATES`).
    i_inj, dt
        Unused (the EGRU takes no injected current and has no time constants).

    Returns
    -------
    new_state, spiked
        The state includes the gates and ``y``, the graded output (0 where silent).
    """
    inputs = np.asarray(inputs, dtype=float)
    c = np.asarray(s["c"], dtype=float)
    idle = np.asarray(s["wait"]) > 0
    u = sigmoid(inputs[0] + p["bias_update"])
    r = sigmoid(inputs[1] + p["bias_reset"])
    g = np.tanh(inputs[2] + p["bias_candidate"] + r * (inputs[3] + p["bias_candidate_recurrent"]))
    c_hat = u * c + (1.0 - u) * g
    c_hat = np.where(p["zoneout"] > 0, p["zoneout"] * c + (1.0 - p["zoneout"]) * c_hat, c_hat)
    spiked = (c_hat > p["theta"]) & ~idle
    new = {
        "c": np.where(idle, c, c_hat - spiked * p["theta"]),
        "update": np.where(idle, s.get("update", 0.0), u),
        "reset": np.where(idle, s.get("reset", 0.0), r),
        "candidate": np.where(idle, s.get("candidate", 0.0), g),
        "wait": np.where(idle, np.asarray(s["wait"]) - 1, 0),
        "y": np.where(spiked, c_hat, 0.0),
    }
    return new, spiked


# -- the float32 kernel, as the Cortex-M4F's FPU computes it -------------------------------

F32 = np.float32
ONE = F32(1.0)


def _sigmoid(x: np.ndarray) -> np.ndarray:
    return ONE / (ONE + np.exp(-x))


def egru(p: dict[str, np.ndarray], s: dict[str, np.ndarray], inputs: np.ndarray,
         i_inj: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """One update of a group of EGRU units.

    ``inputs`` rows are the receptors update, reset, candidate, candidate_recurrent. Returns
    the event vector and the graded output per unit (the payload of each event packet: the
    pre-reset state where the unit fires).
    """
    idle = s["wait"] > 0
    u = _sigmoid(inputs[0] + p["bias_update"])
    r = _sigmoid(inputs[1] + p["bias_reset"])
    g = np.tanh(inputs[2] + p["bias_candidate"] + r * (inputs[3] + p["bias_candidate_recurrent"]))
    c = s["c"]
    c_hat = u * c + (ONE - u) * g
    zoneout = p["zoneout"]
    if np.any(zoneout > 0):
        c_hat = np.where(zoneout > 0, zoneout * c + (ONE - zoneout) * c_hat, c_hat)
    fired = (c_hat > p["theta"]) & ~idle
    s["c"] = np.where(idle, c, np.where(fired, c_hat - p["theta"], c_hat)).astype(F32)
    if idle.any():
        s["update"] = np.where(idle, s["update"], u).astype(F32)
        s["reset"] = np.where(idle, s["reset"], r).astype(F32)
        s["candidate"] = np.where(idle, s["candidate"], g).astype(F32)
        s["wait"] = np.where(idle, s["wait"] - 1, 0).astype(np.int32)
    else:
        s["update"], s["reset"], s["candidate"] = u, r, g
    return fired, c_hat


#: Its events are graded: the emulator counts each of their synaptic events as a MAC.
egru.graded = True


# -- the wiring rules and the pipeline ------------------------------------------------------

def _graded(model: str) -> bool:
    return model in ("EGRU", "GradedSourceArray")


def first_steps(network: object) -> dict[str, int]:
    """Population label -> the step of its first update (EGRU) or of its sequence position 0
    (graded sources); every other population maps to 1.

    An EGRU population starts in the step its earliest feed-forward input can arrive: the
    source's first step plus the projection's delay in steps. Stacked layers thus form a
    pipeline, one delay per layer: position k of a layer whose first step is s is computed
    (and its events stamped) at step s + k. Only graded inputs (EGRU populations and graded
    sources) set the start where there are any; ordinary spike sources count as starting at
    step 1.
    """
    dt = network.timestep
    models = {p.label: p.model for p in network.populations}
    first: dict[str, float] = {}
    for pop in network.populations:
        if pop.model == "GradedSourceArray":
            first[pop.label] = float(_source_first_step(pop, dt))
        elif pop.model == "EGRU":
            first[pop.label] = np.inf
        else:
            first[pop.label] = 1.0
    edges = [(proj.pre, proj.post, int(np.round(proj.delay.min() / dt)) if len(proj) else 1)
             for proj in network.projections
             if proj.pre != proj.post and models.get(proj.post) == "EGRU"
             and proj.pre in models]
    has_graded = {post for pre, post, _ in edges if _graded(models[pre])}
    edges = [e for e in edges if e[1] not in has_graded or _graded(models[e[0]])]
    for _ in range(len(network.populations)):
        changed = False
        for pre, post, delay in edges:
            if first[pre] + delay < first[post]:
                first[post] = first[pre] + delay
                changed = True
        if not changed:
            break
    return {label: int(v) if np.isfinite(v) else 1 for label, v in first.items()}


def _source_first_step(pop: object, dt: float) -> int:
    """Step of a graded source's sequence position 0: its ``start`` parameter, or its
    earliest event when ``start`` is 0 (not given)."""
    start = float(np.asarray(pop.params.get("start", [0.0]))[0]) if pop.params else 0.0
    if start > 0:
        return int(round(start / dt))
    times = [np.asarray(t) for t in (pop.spike_times or ()) if len(t)]
    if not times:
        return 1
    return max(1, int(round(min(float(t.min()) for t in times) / dt)))


def derived_params(network: object, pop: object) -> dict[str, np.ndarray]:
    """Per-neuron values the image needs beyond the PyNN parameters: ``first_step``."""
    return {"first_step": np.full(pop.size, first_steps(network)[pop.label], dtype=float)}


def check_network(network: object) -> None:
    """Raise a NetworkError for an EGRU network wired against the equations.

    Checked: gate receptors only on EGRU targets; a projection from an EGRU population into
    itself (y_{t-1}) uses ``update``, ``reset`` or ``candidate_recurrent`` with a delay of one
    step, a projection from any other population uses ``update``, ``reset`` or ``candidate``;
    every source that feeds an EGRU population feeds all three of its gates; the graded
    inputs of one EGRU population arrive in the same step (the same sequence position); no
    current source into an EGRU population.
    """
    dt = network.timestep
    models = {p.label: p.model for p in network.populations}
    wired: dict[tuple[str, str], set[str]] = {}
    for proj in network.projections:
        post_model = models.get(proj.post)
        if post_model is None or proj.pre not in models:
            continue  # the generic checks name the unknown population
        if proj.receptor in GATES and post_model != "EGRU":
            raise NetworkError(
                f"projection {proj.label!r}: receptor {proj.receptor!r} is an EGRU gate, but "
                f"its target {proj.post!r} is a {post_model}; gate projections must target "
                f"an EGRU population")
        if post_model != "EGRU":
            continue
        if proj.pre == proj.post:
            if proj.receptor not in RECURRENT_GATES:
                raise NetworkError(
                    f"projection {proj.label!r} is recurrent ({proj.pre!r} onto itself, "
                    f"y_(t-1)) but targets receptor {proj.receptor!r}; the recurrent "
                    f"candidate input must use 'candidate_recurrent' (the reset gate "
                    f"multiplies it); use one of {list(RECURRENT_GATES)}")
            steps = np.round(proj.delay / dt)
            if len(proj) and np.any(steps != 1):
                raise NetworkError(
                    f"projection {proj.label!r} is recurrent ({proj.pre!r} onto itself) with "
                    f"delays of {np.unique(steps).astype(int).tolist()} steps; the EGRU's "
                    f"recurrent input is y_(t-1): use a delay of one time step ({dt} ms)")
        elif proj.receptor not in FEEDFORWARD_GATES:
            raise NetworkError(
                f"projection {proj.label!r} from {proj.pre!r} into EGRU {proj.post!r} targets "
                f"{proj.receptor!r}, which only the recurrent projection of {proj.post!r} onto "
                f"itself may use; feed-forward inputs use one of {list(FEEDFORWARD_GATES)}")
        wired.setdefault((proj.pre, proj.post), set()).add(proj.receptor)
    for (pre, post), gates in wired.items():
        need = RECURRENT_GATES if pre == post else FEEDFORWARD_GATES
        missing = [g for g in need if g not in gates]
        if missing:
            raise NetworkError(
                f"EGRU {post!r}: the input from {pre!r} reaches the gates {sorted(gates)} but "
                f"not {missing}; every input must feed all three gates (update, reset, "
                f"candidate): add the missing projections (an all-zero weight matrix is "
                f"allowed, it stores no synapses) or use pynn_spinnaker2's egru_layer helper")
    _check_arrival(network)
    for src in network.current_sources:
        for label, _ in src.targets:
            if models.get(label) == "EGRU":
                raise NetworkError(f"current source {src.label!r} cannot inject current into "
                                   f"EGRU population {label!r}; drive it through a gate "
                                   f"projection from a graded source instead")


def _check_arrival(network: object) -> None:
    """The graded feed-forward inputs of an EGRU population must carry the same sequence
    position, so they must arrive in the same step."""
    dt = network.timestep
    first = first_steps(network)
    models = {p.label: p.model for p in network.populations}
    arrival: dict[str, dict[int, list[str]]] = {}
    for proj in network.projections:
        if (models.get(proj.post) != "EGRU" or proj.pre == proj.post or not len(proj)
                or not _graded(models.get(proj.pre, ""))):
            continue
        for d in np.unique(np.round(proj.delay / dt)).astype(int):
            arrival.setdefault(proj.post, {}).setdefault(first[proj.pre] + int(d), []).append(
                proj.label)
    for post, steps in arrival.items():
        if len(steps) > 1:
            detail = "; ".join(f"step {s}: {sorted(set(labels))}"
                               for s, labels in sorted(steps.items()))
            raise NetworkError(
                f"EGRU {post!r}: its graded inputs carry sequence position 0 in different "
                f"steps ({detail}); x_t must arrive in one step: give the projections delays "
                f"that line up with the pipeline (one step per layer)")


MODEL = register(CellType(
    name="EGRU", kernel="egru", defaults=DEFAULTS, initial=INITIAL, receptors=GATES,
    recordables={"spikes": "", "c": "c", "update": "update", "reset": "reset",
                 "candidate": "candidate"},
    units={"c": "dimensionless", "update": "dimensionless", "reset": "dimensionless",
           "candidate": "dimensionless"},
    param_dtype=PARAM_DTYPE, state_dtype=STATE_DTYPE, build_params=build_params,
    build_state=build_state, reference_step=reference_step, default_max_per_core=128,
    weight_units="dimensionless",
    extra={"derived_params": derived_params, "check_network": check_network,
           "graded": True},
    kernel_step=egru,
    # three gate sums 10, two sigmoids and a tanh (2-3 single, 1 exp, 1 div each), state
    # update 4, threshold, graded output and reset 3
    ops=KernelOps(single=24, div=3, exp=3, branches=2),
))
