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
        # int64 throughout: the loaded arrays use the narrowest integer types that fit
        a, b = np.int64(ptr[neuron]), np.int64(ptr[neuron + 1])
        total += b - a
        for j in range(a, b):
            pos = np.int64(ring_offset[j]) + base
            if pos >= size:
                pos -= size
            if payload is None:
                ring[pos] += weight[j]
            else:
                ring[pos] += weight[j] * payload[k]
    return total


def deliver_static(emulator: object, spikes: np.ndarray, now: int,
                   payload: np.ndarray | None) -> bool:
    """The emulator's delivery (``Emulator._deliver``) through :func:`deliver` where every
    row is static; returns False, delivering nothing, where plastic or gated synapses are
    loaded (their updates stay NumPy)."""
    if not emulator._static_rows:
        return False
    syn = emulator.syn
    base = (now % emulator.ring_slots) * emulator._slot_size
    if deliver(emulator.ring, syn.ptr, emulator.syn_ring_offset, syn.weight, spikes, base,
               payload):
        emulator._dirty_until = max(emulator._dirty_until, now + emulator._max_delay)
    return True
