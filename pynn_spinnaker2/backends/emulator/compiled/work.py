"""Compiled per-step work counts: the synaptic events (and MACs of graded packets) of the
packets sent in a block of steps, summed per (step, target core) in one pass.

The NumPy fold (:meth:`..counters.WorkCounter.fold`) lists one entry per packet and target
core and leaves the summing to the activity recorder; for networks that send many packets
(the EGRU) that list is most of a run's time. Counts are integers: the sums are exact in any
order, so the recorded activity is the same.
"""

from __future__ import annotations

import numba
import numpy as np

#: Largest (steps x cores) table summed here; above it the NumPy fold runs.
MAX_CELLS = 1 << 22


@numba.njit(cache=True, nogil=True)
def _per_step_core(at, sent, indptr, core, count, graded, events, macs):
    for k in range(sent.size):
        neuron, step = sent[k], at[k]
        for j in range(indptr[neuron], indptr[neuron + 1]):
            events[step, core[j]] += count[j]
            if graded[neuron]:
                macs[step, core[j]] += count[j]


def synaptic_work(at: np.ndarray, sent: np.ndarray, rows: tuple[np.ndarray, ...],
                  graded: np.ndarray, n_steps: int, n_cores: int
                  ) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] | None:
    """``synaptic_events`` and ``macs`` as (step, core, count) of the nonzero (step, core)
    sums, or None when the table would exceed :data:`MAX_CELLS` (then the NumPy fold runs).

    Parameters
    ----------
    at, sent
        Per packet: its step within the block, and its source neuron.
    rows
        The fan-out of each neuron as CSR (``indptr``, target core, synapse count).
    graded
        Per neuron: whether its packets are graded.
    n_steps, n_cores
        The block's steps and the machine's cores.
    """
    if n_steps * n_cores > MAX_CELLS:
        return None
    events = np.zeros((n_steps, n_cores), np.int64)
    macs = np.zeros((n_steps, n_cores), np.int64)
    _per_step_core(at, sent, *rows, graded, events, macs)
    out = {}
    for name, table in (("synaptic_events", events), ("macs", macs)):
        step, core = np.nonzero(table)
        out[name] = (step, core, table[step, core])
    return out
