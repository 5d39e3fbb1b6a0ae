"""The EGRU as a NIR extension node: the node, its file layout, import and export.

NIR (nir 1.0.8) has no gated recurrent node and no graded events, and ``nir.read`` refuses
any node ``type`` it does not define. The EGRU is therefore stored as a *container*: a
``NIRGraph`` subgraph of plain NIR nodes that hold its parameters, marked as an EGRU by its
metadata (:data:`~.nir_extensions.MARKER`). ``nir.read`` reads such a file and returns the
subgraph as it is; our reader (:func:`~.nir_read.read_nir`) and importer turn the subgraph
back into an :class:`EGRU` node. The container, for H units and I inputs::

    input        Input      shape (I,)
    W_update     Affine     weight (H, I), bias (H,)    rows 0..H of weight_ih / bias_ih
    W_reset      Affine     weight (H, I), bias (H,)    rows H..2H
    W_candidate  Affine     weight (H, I), bias (H,)    rows 2H..3H
    V_update     Affine     weight (H, H), bias (H,)    rows 0..H of weight_hh / bias_hh
    V_reset      Affine     weight (H, H), bias (H,)    rows H..2H
    V_candidate  Affine     weight (H, H), bias (H,)    rows 2H..3H
    cell         Threshold  threshold (H,)
    output       Output     shape (H,)
    edges        input -> W_*, W_* -> cell, cell -> V_*, V_* -> cell, cell -> output
    metadata     nir_extension = "EGRU", nir_extension_version = 1, zoneout (() or (H,)),
                 description (the equations, for people), initial_c (H,) when not zero

Read as plain NIR, the container would mean "the six affine maps summed into a Threshold":
that is *not* the EGRU (the gates are nonlinear and the reset gate multiplies the recurrent
candidate term), which is why the marker is there: a reader that does not know it must not
run the subgraph. The edges only make nir's type check see consistent shapes.

Import lowers the node to an ``EGRU`` population: the node's input (the sum of its input
edges, as every NIR node's) goes through ``W_update``, ``W_reset``, ``W_candidate`` onto the
gate receptors ``update``, ``reset``, ``candidate``; ``weight_hh`` becomes the population's
projection onto itself (delay one step: y_(t-1)) on ``update``, ``reset``,
``candidate_recurrent``; biases, thresholds, zoneout and the initial state become its
parameters. Export is the inverse. Both are in :mod:`.nir_egru_convert`; this module holds
the node and its file layout.
"""

from __future__ import annotations

from dataclasses import dataclass

import nir
import numpy as np

from .nir_extensions import MARKER, MARKER_VERSION

#: Layout version of the container this module writes and reads.
VERSION = 1
#: Gate order of the stacked matrices (EvNN's z, r, g): ``update`` is the keep gate.
GATES = ("update", "reset", "candidate")
#: Receptor of each gate for the feed-forward (W) and the recurrent (V) term.
FEEDFORWARD_RECEPTORS = ("update", "reset", "candidate")
RECURRENT_RECEPTORS = ("update", "reset", "candidate_recurrent")
W_NODES = tuple(f"W_{g}" for g in GATES)
V_NODES = tuple(f"V_{g}" for g in GATES)
NODE_TYPES = {"input": "Input", **{n: "Affine" for n in W_NODES + V_NODES},
              "cell": "Threshold", "output": "Output"}
EDGES = (tuple(("input", w) for w in W_NODES) + tuple((w, "cell") for w in W_NODES)
         + tuple(("cell", v) for v in V_NODES) + tuple((v, "cell") for v in V_NODES)
         + (("cell", "output"),))
#: Metadata keys of the container that are node fields, not the node's own metadata.
_RESERVED = (MARKER, MARKER_VERSION, "zoneout", "description")
DESCRIPTION = (
    "EGRU extension node of pynn_spinnaker2 (doc/nir.md), not plain NIR: do not run this "
    "subgraph as NIR. Per unit and step, x the input, y the previous output: "
    "u = sigmoid(W_update x + b + V_update y + b'), r = sigmoid(W_reset x + b + V_reset y + b'), "
    "g = tanh(W_candidate x + b + r * (V_candidate y + b')), c^ = u c + (1 - u) g "
    "(zoneout p: c^ <- p c + (1 - p) c^), e = [c^ > threshold], y = e c^ (a graded event), "
    "c = c^ - e threshold. b, b': the biases of the W_ and V_ nodes.")


@dataclass(eq=False)
class EGRU(nir.NIRNode):
    r"""Event-based gated recurrent unit (Subramoney et al., ICLR 2023), as EvNN computes it.

    Per unit, at each time step, with input :math:`x_t` and the node's previous output
    :math:`y_{t-1}` (the graded events, not the internal state :math:`c`):

    .. math::
        u_t &= \sigma(W_u x_t + b^{ih}_u + V_u y_{t-1} + b^{hh}_u) \\
        r_t &= \sigma(W_r x_t + b^{ih}_r + V_r y_{t-1} + b^{hh}_r) \\
        g_t &= \tanh(W_g x_t + b^{ih}_g + r_t \odot (V_g y_{t-1} + b^{hh}_g)) \\
        \hat c_t &= u_t \odot c_{t-1} + (1 - u_t) \odot g_t
            \quad (\text{zoneout } p:\ \hat c_t \leftarrow p\, c_{t-1} + (1 - p)\, \hat c_t) \\
        e_t &= H(\hat c_t - \vartheta) \qquad y_t = e_t \odot \hat c_t \qquad
            c_t = \hat c_t - e_t \odot \vartheta

    with :math:`H(z) = 1` for :math:`z > 0` and 0 otherwise, :math:`c_0 = 0` (or
    ``metadata["initial_c"]``) and :math:`y_0 = 0`. The output is graded: only units with
    :math:`e_t = 1` send, each its value :math:`\hat c_t`; an edge out of the node carries
    :math:`y_t` (0 for silent units), so a following linear node multiplies the values.

    Parameters
    ----------
    weight_ih
        (3H, I): :math:`[W_u; W_r; W_g]`, rows in EvNN's gate order z (keep gate, here
        ``update``), r (``reset``), g (``candidate``). EvNN's ``kernel`` transposed; the
        ``(out, in)`` orientation of NIR's ``Affine`` and of ``torch.nn.GRU.weight_ih_l0``
        (whose gate order r, z, n differs: see ``sim.evnn_layout_from_torch_gru``).
    weight_hh
        (3H, H): :math:`[V_u; V_r; V_g]` (EvNN's ``recurrent_kernel`` transposed).
    bias_ih, bias_hh
        (3H,): :math:`b^{ih}` and :math:`b^{hh}` (EvNN's ``bias`` and ``recurrent_bias``).
        Only :math:`b^{hh}_g` is multiplied by the reset gate; for the other two gates only
        the sum :math:`b^{ih} + b^{hh}` matters.
    threshold
        (H,): per-unit thresholds :math:`\vartheta`.
    zoneout
        Probability :math:`p` in [0, 1], one for all units (shape ()) or one per unit (H,),
        applied as EvNN applies it at inference.
    """

    weight_ih: np.ndarray
    weight_hh: np.ndarray
    bias_ih: np.ndarray
    bias_hh: np.ndarray
    threshold: np.ndarray
    zoneout: np.ndarray | float = 0.0

    def __post_init__(self) -> None:
        theta = _floats(self.threshold, "threshold")
        if theta.ndim != 1 or theta.size < 1:
            raise ValueError(f"threshold must be one value per unit (shape (H,), H >= 1), "
                             f"got shape {theta.shape}")
        n = theta.size
        w_ih = _floats(self.weight_ih, "weight_ih")
        if w_ih.ndim != 2 or w_ih.shape[0] != 3 * n or w_ih.shape[1] < 1:
            raise ValueError(f"weight_ih has shape {w_ih.shape}; {n} units (threshold has "
                             f"{n} values) need (3 x {n}, inputs) = ({3 * n}, I), I >= 1")
        expected = {"weight_hh": (3 * n, n), "bias_ih": (3 * n,), "bias_hh": (3 * n,)}
        arrays = {}
        for name, shape in expected.items():
            arrays[name] = _floats(getattr(self, name), name)
            if arrays[name].shape != shape:
                raise ValueError(f"{name} has shape {arrays[name].shape}; {n} units need "
                                 f"{shape}")
        p = _floats(self.zoneout, "zoneout")
        if p.shape not in ((), (n,)):
            raise ValueError(f"zoneout must be one value or one per unit ({n}), got shape "
                             f"{p.shape}")
        if np.any((p < 0) | (p > 1)):
            raise ValueError(f"zoneout is a probability in [0, 1], got {p.min()}..{p.max()}")
        if not isinstance(self.metadata, dict):
            raise ValueError(f"metadata must be a dictionary, got {type(self.metadata).__name__}")
        if "initial_c" in self.metadata:
            c0 = _floats(self.metadata["initial_c"], "metadata initial_c")
            if c0.shape != (n,):
                raise ValueError(f"metadata initial_c has shape {c0.shape}; {n} units need "
                                 f"({n},)")
        self.weight_ih, self.threshold, self.zoneout = w_ih, theta, p
        self.weight_hh, self.bias_ih, self.bias_hh = (arrays[k] for k in expected)
        self.input_type = {"input": np.array([w_ih.shape[1]])}
        self.output_type = {"output": np.array([n])}

    @property
    def hidden_size(self) -> int:
        """H, the number of units."""
        return int(self.threshold.size)

    @property
    def input_size(self) -> int:
        """I, the size of the input vector."""
        return int(self.weight_ih.shape[1])

    @classmethod
    def from_evnn(cls, kernel: object, recurrent_kernel: object, bias: object,
                  recurrent_bias: object, thr: object, zoneout: float = 0.0) -> EGRU:
        """The node from EvNN's parameters (``kernel`` (I, 3H), ``recurrent_kernel`` (H, 3H),
        ``bias``, ``recurrent_bias`` (3H,), ``thr`` (H,)); arrays or torch tensors."""
        k, rk = _numpy(kernel), _numpy(recurrent_kernel)
        return cls(weight_ih=k.T.copy(), weight_hh=rk.T.copy(), bias_ih=_numpy(bias),
                   bias_hh=_numpy(recurrent_bias), threshold=_numpy(thr), zoneout=zoneout)

    def to_evnn(self) -> tuple[np.ndarray, ...]:
        """EvNN's ``(kernel, recurrent_kernel, bias, recurrent_bias, thr)``."""
        return (self.weight_ih.T.copy(), self.weight_hh.T.copy(), self.bias_ih.copy(),
                self.bias_hh.copy(), self.threshold.copy())

    def as_graph(self) -> nir.NIRGraph:
        """The container subgraph this node is stored as (what ``nir.read`` returns)."""
        n = self.hidden_size
        nodes: dict[str, nir.NIRNode] = {"input": nir.Input(input_type=np.array(
            [self.input_size]))}
        for k, gate in enumerate(GATES):
            rows = slice(k * n, (k + 1) * n)
            nodes[f"W_{gate}"] = nir.Affine(weight=self.weight_ih[rows].copy(),
                                            bias=self.bias_ih[rows].copy())
        for k, gate in enumerate(GATES):
            rows = slice(k * n, (k + 1) * n)
            nodes[f"V_{gate}"] = nir.Affine(weight=self.weight_hh[rows].copy(),
                                            bias=self.bias_hh[rows].copy())
        nodes["cell"] = nir.Threshold(threshold=self.threshold.copy())
        nodes["output"] = nir.Output(output_type=np.array([n]))
        metadata = {MARKER: "EGRU", MARKER_VERSION: VERSION,
                    # a 0-d array would be written with compression, which h5py refuses
                    "zoneout": (float(self.zoneout) if np.ndim(self.zoneout) == 0
                                else np.asarray(self.zoneout, dtype=float)),
                    "description": DESCRIPTION, **self.metadata}
        return nir.NIRGraph(nodes=nodes, edges=list(EDGES), metadata=metadata,
                            type_check=False)

    def to_dict(self) -> dict:
        """The container's dictionary: ``nir.write`` stores the node as that subgraph."""
        return self.as_graph().to_dict()

    @classmethod
    def from_dict(cls, data: dict) -> EGRU:
        """The node from its container's dictionary (an HDF5 group read by
        :func:`~.nir_read.read_nir`, or ``as_graph().to_dict()``).

        Raises
        ------
        ValueError
            A missing or unexpected node, dataset or edge, a wrong type, shape or value;
            the message names it (the reader adds the node's place in the file).
        """
        return from_dict(data)


def from_dict(data: dict) -> EGRU:
    """See :meth:`EGRU.from_dict`."""
    metadata = data.get("metadata")
    if not isinstance(metadata, dict):
        raise ValueError("the container has no 'metadata' group (it holds the marker)")
    version = metadata.get(MARKER_VERSION)
    if not _is_int(version) or int(version) != VERSION:
        raise ValueError(f"metadata {MARKER_VERSION!r} is {version!r}; this reader knows "
                         f"layout version {VERSION} of the EGRU node")
    nodes = data.get("nodes")
    if not isinstance(nodes, dict):
        raise ValueError("the container has no 'nodes' group")
    missing = sorted(set(NODE_TYPES) - set(nodes))
    unexpected = sorted(set(nodes) - set(NODE_TYPES))
    if missing or unexpected:
        raise ValueError(f"the container's nodes must be {sorted(NODE_TYPES)}; "
                         f"missing {missing}, unexpected {unexpected}")
    fields = {name: _node_fields(name, nodes[name]) for name in NODE_TYPES}
    _check_edges(data.get("edges"))
    w_ih = _stack([fields[n]["weight"] for n in W_NODES], "W_*", "weight")
    w_hh = _stack([fields[n]["weight"] for n in V_NODES], "V_*", "weight")
    b_ih = _stack([fields[n]["bias"] for n in W_NODES], "W_*", "bias")
    b_hh = _stack([fields[n]["bias"] for n in V_NODES], "V_*", "bias")
    theta = fields["cell"]["threshold"]
    n_in = _shape_value(fields["input"]["shape"], "input")
    n_out = _shape_value(fields["output"]["shape"], "output")
    if n_out != theta.size:
        raise ValueError(f"output/shape is {n_out}, but cell/threshold has {theta.size} "
                         f"units")
    if w_ih.ndim == 2 and n_in != w_ih.shape[1]:
        raise ValueError(f"input/shape is {n_in}, but the W_ weights take {w_ih.shape[1]} "
                         f"inputs")
    if "zoneout" not in metadata:
        raise ValueError("metadata has no 'zoneout'")
    own = {k: v for k, v in metadata.items() if k not in _RESERVED}
    return EGRU(weight_ih=w_ih, weight_hh=w_hh, bias_ih=b_ih, bias_hh=b_hh, threshold=theta,
                zoneout=metadata["zoneout"], metadata=own)


def _node_fields(name: str, node: object) -> dict[str, np.ndarray]:
    kind = NODE_TYPES[name]
    if not isinstance(node, dict):
        raise ValueError(f"{name} must be a group (a node), found a dataset")
    found = node.get("type")
    if not isinstance(found, str) or found != kind:
        raise ValueError(f"{name} must be of type {kind}, found {found!r}")
    needed = {"Input": ("shape",), "Output": ("shape",), "Affine": ("weight", "bias"),
              "Threshold": ("threshold",)}[kind]
    missing = [k for k in needed if k not in node]
    unexpected = sorted(set(node) - set(needed) - {"type", "metadata"})
    if missing:
        raise ValueError(f"{name} ({kind}) is missing the dataset(s) "
                         f"{[f'{name}/{k}' for k in missing]}")
    if unexpected:
        raise ValueError(f"{name} ({kind}) has unexpected entries {unexpected}; it holds "
                         f"{list(needed)}")
    return {k: _floats(node[k], f"{name}/{k}") for k in needed}


def _check_edges(raw: object) -> None:
    if raw is None:
        raise ValueError("the container has no 'edges'")
    try:
        edges = {(_text(a), _text(b)) for a, b in np.asarray(raw, dtype=object).reshape(-1, 2)}
    except (TypeError, ValueError) as exc:
        raise ValueError(f"'edges' must be pairs of node names ({exc})") from exc
    if edges != set(EDGES):
        raise ValueError(f"the container's edges must be {sorted(EDGES)}; missing "
                         f"{sorted(set(EDGES) - edges)}, unexpected {sorted(edges - set(EDGES))}")


def _text(value: object) -> str:
    if isinstance(value, bytes):
        return value.decode("utf8", "replace")
    if not isinstance(value, str):
        raise TypeError(f"an edge end must be a node name, found {value!r}")
    return value


def _stack(parts: list[np.ndarray], which: str, field: str) -> np.ndarray:
    shapes = [p.shape for p in parts]
    if len(set(shapes)) != 1 or len(shapes[0]) not in (1, 2):
        raise ValueError(f"the {which} nodes' {field} must have one shape, found "
                         f"{dict(zip(GATES, shapes, strict=True))}")
    return np.concatenate(parts, axis=0)


def _shape_value(value: np.ndarray, name: str) -> int:
    flat = value.reshape(-1)
    if flat.size != 1 or flat[0] != np.round(flat[0]) or flat[0] < 1:
        raise ValueError(f"{name}/shape must be one positive integer, got {value.tolist()}")
    return int(flat[0])


def _floats(value: object, name: str) -> np.ndarray:
    if isinstance(value, str | bytes) or isinstance(value, dict):
        raise ValueError(f"{name} must be numbers, found {type(value).__name__} {value!r}")
    try:
        arr = np.asarray(_numpy(value), dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must be numbers ({exc})") from exc
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name} has non-finite values")
    return arr


def _numpy(x: object) -> np.ndarray:
    """A float64 array from an array or a torch tensor (no torch import needed)."""
    if hasattr(x, "detach"):
        x = x.detach().cpu().numpy()
    return np.asarray(x, dtype=float)


def _is_int(value: object) -> bool:
    try:
        return np.ndim(value) == 0 and float(value) == int(value)
    except (TypeError, ValueError, OverflowError):
        return False
