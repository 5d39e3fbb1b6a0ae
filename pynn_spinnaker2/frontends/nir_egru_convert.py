"""The EGRU node (:mod:`.nir_egru`) in and out of a Network: its lowering and its export.

Import lowers the node to an ``EGRU`` population: its input goes through the three ``W``
maps onto the gate receptors, ``weight_hh`` becomes the population's projection onto itself
and biases, thresholds, zoneout and the initial state become its parameters. Export is the
inverse. :func:`lower` and :func:`export` are registered as the ``EGRU`` extension.
"""

from __future__ import annotations

import numpy as np

from ..cells.egru import DEFAULTS
from ..errors import NetworkError
from . import nir_ops as ops
from . import nir_units as units
from .nir_egru import EGRU, FEEDFORWARD_RECEPTORS, RECURRENT_RECEPTORS, from_dict
from .nir_extensions import ExportedNode, LoweredNode, NIRExtension, register

# -- import ---------------------------------------------------------------------------------

def lower(node: EGRU, name: str, shape: tuple[int, ...], time_scale: float) -> LoweredNode:
    """The EGRU population of ``node`` (``shape``: the node's output shape, (H,))."""
    n, n_in = node.hidden_size, node.input_size
    if int(np.prod(shape)) != n:
        raise NetworkError(f"NIR import: node {name!r} (EGRU) has {n} units but its output "
                           f"shape is {shape}")
    blocks = [slice(k * n, (k + 1) * n) for k in range(3)]
    b_ih, b_hh = node.bias_ih, node.bias_hh
    params = {"theta": node.threshold.copy(),
              "bias_update": b_ih[blocks[0]] + b_hh[blocks[0]],
              "bias_reset": b_ih[blocks[1]] + b_hh[blocks[1]],
              "bias_candidate": b_ih[blocks[2]].copy(),
              "bias_candidate_recurrent": b_hh[blocks[2]].copy(),
              "zoneout": np.broadcast_to(node.zoneout, (n,)).astype(float)}
    initial = {"c": np.asarray(node.metadata.get("initial_c", np.zeros(n)), dtype=float)}
    maps = {rec: ops.dense(node.weight_ih[rows], (n_in,))
            for rec, rows in zip(FEEDFORWARD_RECEPTORS, blocks, strict=True)}
    recurrent = []
    for rec, rows in zip(RECURRENT_RECEPTORS, blocks, strict=True):
        post, pre = np.nonzero(node.weight_hh[rows])
        recurrent.append((rec, pre, post, node.weight_hh[rows][post, pre]))
    return LoweredNode("EGRU", n, params, initial, True, maps, tuple(recurrent),
                       record="spikes",
                       offset_params={"update": "bias_update", "reset": "bias_reset",
                                      "candidate": "bias_candidate"},
                       graded_input=True)


# -- export ---------------------------------------------------------------------------------

def export(pop: object, network: object, time_scale: float) -> ExportedNode:
    """An ``EGRU`` population and the gate projections into it as one node.

    The node's input vector is one block per (source population, delay) of the feed-forward
    projections, in the order met; the recurrent projection (delay one step) becomes
    ``weight_hh``. Duplicate synapses sum.

    Raises
    ------
    NotImplementedError
        A population without feed-forward input, a plastic synapse, or matrices over the
        exporter's dense limit.
    NetworkError
        A projection on a receptor (or with a recurrent delay) the EGRU does not take.
    """
    h = network.timestep
    n = pop.size
    sizes = {p.label: p.size for p in network.populations}
    into = [p for p in network.projections if p.post == pop.label]
    blocks: dict[tuple[str, int], int] = {}
    n_in = 0
    for proj in into:
        if proj.synapse != "StaticSynapse":
            raise NotImplementedError(f"NIR export: projection {proj.label!r} uses "
                                      f"{proj.synapse}; NIR has static weights only")
        if proj.pre == pop.label:
            continue
        for d in np.unique(units.delay_steps(proj.delay, h)).tolist():
            if (proj.pre, d) not in blocks:
                blocks[(proj.pre, d)] = n_in
                n_in += sizes[proj.pre]
    if n_in == 0:
        raise NotImplementedError(f"NIR export: EGRU population {pop.label!r} has no "
                                  f"feed-forward input; the EGRU node needs one (its input "
                                  f"size I >= 1)")
    for what, size in (("weight_ih", 3 * n * n_in), ("weight_hh", 3 * n * n)):
        if size > units.MAX_DENSE:
            raise NotImplementedError(f"NIR export: EGRU population {pop.label!r}: {what} "
                                      f"would be a dense matrix of {size} entries (NIR has "
                                      f"no sparse weights); the limit is {units.MAX_DENSE}")
    w_ih, w_hh = np.zeros((3 * n, n_in)), np.zeros((3 * n, n))
    for proj in into:
        recurrent = proj.pre == pop.label
        receptors = RECURRENT_RECEPTORS if recurrent else FEEDFORWARD_RECEPTORS
        if proj.receptor not in receptors:
            raise NetworkError(f"NIR export: projection {proj.label!r} into EGRU "
                               f"{pop.label!r} uses receptor {proj.receptor!r}; "
                               f"{'recurrent' if recurrent else 'feed-forward'} inputs use "
                               f"{list(receptors)}")
        rows = receptors.index(proj.receptor) * n + np.asarray(proj.post_idx)
        steps = units.delay_steps(proj.delay, h)
        if recurrent:
            if np.any(steps != 1):
                raise NetworkError(f"NIR export: recurrent projection {proj.label!r} of EGRU "
                                   f"{pop.label!r} has delays other than one step")
            np.add.at(w_hh, (rows, proj.pre_idx), proj.weight)
            continue
        offset = np.array([blocks[(proj.pre, int(d))] for d in steps], dtype=np.int64)
        np.add.at(w_ih, (rows, offset + np.asarray(proj.pre_idx)), proj.weight)
    p = {k: np.asarray(pop.params.get(k, np.full(n, v)), dtype=float)
         for k, v in DEFAULTS.items()}
    zoneout = p["zoneout"][0] if np.all(p["zoneout"] == p["zoneout"][0]) else p["zoneout"]
    metadata = {}
    c0 = np.asarray(pop.initial.get("c", np.zeros(n)), dtype=float)
    if np.any(c0 != 0):
        metadata["initial_c"] = c0
    node = EGRU(weight_ih=w_ih, weight_hh=w_hh,
                bias_ih=np.concatenate([p["bias_update"], p["bias_reset"],
                                        p["bias_candidate"]]),
                bias_hh=np.concatenate([np.zeros(2 * n), p["bias_candidate_recurrent"]]),
                threshold=p["theta"], zoneout=zoneout, metadata=metadata)
    inputs = tuple((pre, d, off) for (pre, d), off in blocks.items())
    return ExportedNode(node, inputs, frozenset(proj.label for proj in into))


register(NIRExtension("EGRU", from_dict, lower, model="EGRU", export=export))
