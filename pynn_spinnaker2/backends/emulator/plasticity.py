"""Spike-pair STDP as the cores run it (the rule: :mod:`pynn_spinnaker2.synapses.stdp`).

State, as on the chip:

- per plastic synapse, in its synaptic row: the weight (the row's weight word, what the host
  reads back), the pending weight (with the potentiation of postsynaptic spikes seen since
  the last presynaptic one), the presynaptic trace at the last presynaptic spike and that
  spike's step;
- per neuron of a core with plastic inputs, in SRAM: the postsynaptic trace of the last
  ``slots`` steps (``stdp_trace``), so that depression at t can read it at t - d - 1;
- per core, the queue of potentiations due: a postsynaptic spike at t reaches a synapse of
  delay d at t + d; the core walks the neuron's plastic synapses when it fires and queues
  each for t + d.

All updates are vectorised over the synapses concerned in a step; the emulator calls
:meth:`PairSTDP.post_spikes` every step, then :meth:`PairSTDP.pre_spikes` for the plastic
synapses its packets reach.
"""

from __future__ import annotations

import numpy as np

from ...errors import ImageError
from ...synapses.stdp import depress, facilitate

#: "Never fired": far enough back that every trace has decayed to zero.
NEVER = -(1 << 40)


class PairSTDP:
    """Plastic synapses of a loaded image, and their traces.

    Parameters
    ----------
    syn
        Global index (in the emulator's synapse arrays) of each plastic synapse.
    records
        Their ``PLASTICITY_DTYPE`` records.
    target, delay
        Global target neuron and delay (steps) of each.
    core, position
        Where each lives in the image (core index, position in its ``synapses`` region).
    tau_minus
        Per global neuron, the time constant of its postsynaptic trace (0: no plastic input).
    slots
        Steps of postsynaptic trace history per neuron.
    dt
        Milliseconds per step.
    """

    def __init__(self, syn: np.ndarray, records: np.ndarray, target: np.ndarray,
                 delay: np.ndarray, core: np.ndarray, position: np.ndarray,
                 tau_minus: np.ndarray, slots: int, dt: float) -> None:
        self.syn, self.target, self.delay = syn, target, delay
        self.kind = records["kind"].astype(np.int64)
        self.a_plus = records["a_plus"].astype(np.float64)
        self.a_minus = records["a_minus"].astype(np.float64)
        self.w_min = records["w_min"].astype(np.float64)
        self.w_max = records["w_max"].astype(np.float64)
        self.step_over_tau_plus = dt / records["tau_plus"].astype(np.float64)
        self.post = np.flatnonzero(tau_minus > 0)
        self.slot_of = np.full(tau_minus.size, -1, np.int64)
        self.slot_of[self.post] = np.arange(self.post.size)
        self.decay_minus = np.exp(-dt / tau_minus[self.post].astype(np.float64))
        self.post_slot = self.slot_of[target]
        if syn.size and (self.post_slot.min() < 0 or delay.max() > slots - 2):
            raise ImageError(f"a plastic synapse's target core has no postsynaptic trace "
                             f"history (stdp_post, stdp_trace) of {int(delay.max()) + 2} "
                             f"steps for its delay; rebuild the image")
        self.slots = slots
        order = np.argsort(target, kind="stable")
        self.by_target = order
        self.target_ptr = np.concatenate(
            ([0], np.cumsum(np.bincount(target, minlength=tau_minus.size))))
        self.uniform_delay = int(delay[0]) if syn.size and np.all(delay == delay[0]) else None
        keys = core.astype(np.int64) << 32 | position.astype(np.int64)
        self._addr_order = np.argsort(keys)
        self._addr_keys = keys[self._addr_order]

    def reset(self, weights: np.ndarray) -> None:
        """Traces empty, nothing pending, pending weights = ``weights`` (per plastic
        synapse)."""
        n = self.syn.size
        self.w_pending = weights.astype(np.float64)
        self.k_plus = np.zeros(n)
        self.last = np.full(n, NEVER, np.int64)
        self.trace = np.zeros((self.slots, self.post.size))
        self._rows = list(self.trace)  # a view per slot: a step indexes a list, not the array
        self.queue: list[list[np.ndarray]] = [[] for _ in range(self.slots)]

    def adopt(self, old: PairSTDP, changed: np.ndarray) -> None:
        """Take ``old``'s state (same synapses), except the weights the host rewrote
        (``changed``), which restart from the new image."""
        keep_w = np.where(changed, self.w_pending, old.w_pending)
        self.w_pending, self.k_plus, self.last = keep_w, old.k_plus, old.last
        self.trace, self.queue, self._rows = old.trace, old.queue, old._rows

    def locate(self, core: np.ndarray, position: np.ndarray) -> np.ndarray:
        """Index of the plastic synapse at each (core, position), or -1."""
        keys = np.asarray(core, np.int64) << 32 | np.asarray(position, np.int64)
        if not self._addr_keys.size:
            return np.full(keys.size, -1)
        at = np.minimum(np.searchsorted(self._addr_keys, keys), self._addr_keys.size - 1)
        return np.where(self._addr_keys[at] == keys, self._addr_order[at], -1)

    # -- per step -------------------------------------------------------------------------
    def post_spikes(self, spikes: np.ndarray, now: int) -> None:
        """Advance the postsynaptic traces to ``now`` with the neurons that fired, queue the
        potentiations their spikes cause, and apply those due now."""
        rows = self._rows
        row = rows[now % self.slots]
        np.multiply(rows[(now - 1) % self.slots], self.decay_minus, row)
        if spikes.size:
            slot = self.slot_of[spikes]
            fired = spikes[slot >= 0]
            if fired.size:
                np.add.at(row, slot[slot >= 0], 1.0)
                self._queue(fired, now)
        due = self.queue[now % self.slots]
        if due:
            idx = np.concatenate(due) if len(due) > 1 else due[0]
            due.clear()
            self._potentiate(idx, now)

    def _queue(self, fired: np.ndarray, now: int) -> None:
        starts, ends = self.target_ptr[fired], self.target_ptr[fired + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return
        idx = self.by_target[np.repeat(starts - np.cumsum(lengths) + lengths, lengths)
                             + np.arange(total)]
        if self.uniform_delay is not None:
            self.queue[(now + self.uniform_delay) % self.slots].append(idx)
            return
        due = now + self.delay[idx]
        order = np.argsort(due, kind="stable")
        idx, due = idx[order], due[order]
        bounds = np.flatnonzero(np.diff(due)) + 1
        for part, step in zip(np.split(idx, bounds), due[np.r_[0, bounds]], strict=True):
            self.queue[int(step) % self.slots].append(part)

    def _potentiate(self, idx: np.ndarray, now: int) -> None:
        """Postsynaptic spikes reach synapses ``idx`` now: pair them with every earlier
        presynaptic spike (a synapse appears once: one target, one delay)."""
        k_plus = self.k_plus[idx] * np.exp(-(now - self.last[idx]) * self.step_over_tau_plus[idx])
        self.w_pending[idx] = facilitate(self.kind[idx], self.w_pending[idx], self.a_plus[idx],
                                         self.w_min[idx], self.w_max[idx], k_plus)

    def pre_spikes(self, idx: np.ndarray, now: int) -> np.ndarray:
        """Presynaptic spikes reach plastic synapses ``idx`` now: depress each with its
        target's trace at now - d - 1 (decayed one step), step the presynaptic trace, and
        return the weights the spikes carry (a synapse listed twice is updated twice)."""
        out = np.empty(idx.size)
        pending = np.arange(idx.size)
        while pending.size:
            _, first = np.unique(idx[pending], return_index=True)
            take = pending[first]
            out[take] = self._depress_once(idx[take], now)
            pending = np.setdiff1d(pending, take, assume_unique=True)
        return out

    def _depress_once(self, k: np.ndarray, now: int) -> np.ndarray:
        seen = now - self.delay[k] - 1
        slot = self.post_slot[k]
        k_minus = np.where(seen >= 0, self.trace[seen % self.slots, slot]
                           * self.decay_minus[slot], 0.0)
        w = depress(self.kind[k], self.w_pending[k], self.a_minus[k], self.w_min[k],
                    self.w_max[k], k_minus)
        self.w_pending[k] = w
        self.k_plus[k] = self.k_plus[k] * np.exp(-(now - self.last[k])
                                                 * self.step_over_tau_plus[k]) + 1.0
        self.last[k] = now
        return w
