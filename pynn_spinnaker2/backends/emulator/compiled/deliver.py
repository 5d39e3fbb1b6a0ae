"""Compiled delivery of packets through static synaptic rows into the input ring.

Per packet in the order of ``spikes``, per synapse of its row in row order, the weight (times
the packet's payload for graded events) is added into the ring: the order in which the NumPy
path's ``np.add.at`` adds the same values (it adds unbuffered, in index order), so each ring
word sees the same float32 sums in the same order.
"""

from __future__ import annotations

import numba
import numpy as np


@numba.njit(fastmath=False, error_model="numpy", cache=True, nogil=True)
def deliver(ring: np.ndarray, ptr: np.ndarray, ring_offset: np.ndarray, weight: np.ndarray,
            spikes: np.ndarray, base: int, payload: np.ndarray | None) -> int:
    """Add the rows of ``spikes`` into ``ring``.

    Parameters
    ----------
    ring
        The input ring (float32), all slots.
    ptr
        Row start of each source neuron in the synapse arrays (one more than neurons).
    ring_offset
        Per synapse: ``delay * slot size + target's place in the slot``.
    weight
        Per synapse: its weight (float32).
    spikes
        The source neurons that sent a packet this step.
    base
        Offset of this step's slot in the ring (``(now % slots) * slot size``).
    payload
        One float32 per packet (graded events), or None.

    Returns
    -------
    int
        The synapses delivered to.
    """
    size = ring.size
    total = 0
    for k in range(spikes.size):
        neuron = spikes[k]
        a, b = ptr[neuron], ptr[neuron + 1]
        total += b - a
        for j in range(a, b):
            pos = ring_offset[j] + base
            if pos >= size:
                pos -= size
            if payload is None:
                ring[pos] += weight[j]
            else:
                ring[pos] += weight[j] * payload[k]
    return total
