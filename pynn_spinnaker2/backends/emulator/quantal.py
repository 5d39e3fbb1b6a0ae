"""Quantal release: the synapses of a core's ``synapse_quantal`` region (PyNN's
MultiQuantalSynapse and StochasticTsodyksMarkramSynapse), updated at each spike as NEST's
``quantal_stp_synapse`` is.

At a spike of a synapse that has seen one before (h ms ago)::

    u <- U + u (1 - U) exp(-h / tau_facil)        (0 for tau_facil = 0)
    each of the n - a empty sites refills with probability 1 - exp(-h / tau_rec)
    each of the a full sites releases with probability u; a <- a - released

and the spike transmits ``weight x released``. The first spike uses the image's u and a as
they are. PyNN's ``stochastic_stp_synapse`` (one site, "recovered" R = a) is the case n = 1:
its recovery check (survival exp(-h / tau_rec) since the last spike) and release check are
the same draws with the same probabilities.

Every draw is a counter-based uniform number keyed by the target core's seed, the synapse's
place in that core's synaptic rows, the site, the kind of draw and the step, so a synapse
draws the same wherever the emulator holds it, and the whole batch of a step's spikes is
drawn in a few array operations (no loop over synapses or sites).
"""

from __future__ import annotations

import numpy as np

from ...image.machine_image import QUANTAL_DTYPE, QUANTAL_NEVER
from .inputs import counter_uniform

#: Counters of quantal draws have this bit set: they never equal a SimpleStochasticSynapse's
#: (which is the synapse's position alone).
_TAG = np.uint64(1 << 62)
_POSITION_SHIFT, _ROUND_SHIFT, _PHASE_SHIFT = np.uint64(24), np.uint64(17), np.uint64(16)
_RECOVER, _RELEASE = 0, 1


class QuantalSites:
    """The quantal synapses among the loaded ones, their parameters and their sites' state.

    Parameters
    ----------
    records
        ``QUANTAL_DTYPE`` per loaded synapse (n = 0 for synapses that are not quantal).
    seed
        Per loaded synapse, the first word of its target core's ``rng_seed``.
    position
        Per loaded synapse, its place in its target core's ``synapses`` region.
    dt
        Milliseconds per step.
    """

    def __init__(self, records: np.ndarray, seed: np.ndarray, position: np.ndarray,
                 dt: float) -> None:
        syn = np.flatnonzero(records["n"])
        #: Loaded synapse -> its quantal index (-1: not quantal).
        self.index = np.full(records.size, -1, np.int64)
        self.index[syn] = np.arange(syn.size)
        self.syn = syn
        self.image = records[syn].copy()
        self.dt = dt
        self.U = self.image["U"].astype(np.float64)
        self.tau_rec = self.image["tau_rec"].astype(np.float64)
        self.tau_facil = self.image["tau_facil"].astype(np.float64)
        self.n = self.image["n"].astype(np.int64)
        self.seed = np.asarray(seed, np.uint64)[syn]
        self.counter = _TAG | (np.asarray(position, np.uint64)[syn] << _POSITION_SHIFT)
        self._mark = np.empty(syn.size, np.int64)  # scratch: which packet wrote last
        self.reset()

    def reset(self) -> None:
        """Sites and release probabilities back to the image's."""
        self.a = self.image["a"].astype(np.int64)
        self.u = self.image["u"].astype(np.float64)
        self.last = np.where(self.image["last"] == QUANTAL_NEVER, -1,
                             self.image["last"].astype(np.int64))

    def keep_state(self, old: QuantalSites | None) -> None:
        """Carry the sites' state over from the synapses loaded before (a reload between
        runs), when they are the same synapses."""
        if old is not None and np.array_equal(old.syn, self.syn):
            # A site count lowered by set(n=...) leaves no more full sites than there are.
            self.a, self.u, self.last = np.minimum(old.a, self.n), old.u, old.last

    def scale(self, idx: np.ndarray, weight: np.ndarray, now: int) -> np.ndarray:
        """``weight`` (of loaded synapses ``idx`` that a spike crosses at step ``now``) with
        each quantal synapse's weight times the number of sites it released."""
        q = self.index[idx]
        hit = q >= 0
        if hit.any():
            weight[hit] = weight[hit] * self.release(q[hit], now).astype(weight.dtype)
        return weight

    def release(self, k: np.ndarray, now: int) -> np.ndarray:
        """Sites released by quantal synapses ``k`` at step ``now``; a synapse listed twice
        (a source that sent several packets in one step) is updated once per packet, in
        order, with fresh draws."""
        order = np.arange(k.size)
        self._mark[k] = order
        if np.array_equal(self._mark[k], order):  # all distinct (the usual case): no sort
            return self._spike(k, now, 0)
        released = np.empty(k.size, np.int64)
        pending = order
        rnd = 0
        while pending.size:
            _, first = np.unique(k[pending], return_index=True)
            take = pending[first]
            released[take] = self._spike(k[take], now, rnd)
            pending = np.setdiff1d(pending, take, assume_unique=True)
            rnd += 1
        return released

    def _spike(self, k: np.ndarray, now: int, rnd: int) -> np.ndarray:
        """One spike through distinct synapses ``k``."""
        seen = self.last[k] >= 0
        h = (now - self.last[k]) * self.dt
        tau_f = self.tau_facil[k]
        with np.errstate(divide="ignore", over="ignore", invalid="ignore"):
            decay = np.where(tau_f >= 1e-10, np.exp(-h / tau_f), 0.0)
        U = self.U[k]
        u = np.where(seen, U + self.u[k] * (1.0 - U) * decay, self.u[k])
        refill = np.where(seen, -np.expm1(-h / self.tau_rec[k]), 0.0)
        a = self.a[k] + self._successes(k, self.n[k] - self.a[k], refill, now, rnd, _RECOVER)
        released = self._successes(k, a, u, now, rnd, _RELEASE)
        self.a[k], self.u[k], self.last[k] = a - released, u, now
        return released

    def _successes(self, k: np.ndarray, trials: np.ndarray, p: np.ndarray, now: int,
                   rnd: int, phase: int) -> np.ndarray:
        """Per synapse ``k``, how many of its ``trials`` sites draw below ``p``."""
        total = int(trials.sum())
        if total == 0:
            return np.zeros(k.size, np.int64)
        owner = np.repeat(np.arange(k.size), trials)
        site = np.arange(total) - np.repeat(np.cumsum(trials) - trials, trials)
        counter = (self.counter[k][owner] | np.uint64(((rnd & 0x7F) << int(_ROUND_SHIFT))
                                                      | (phase << int(_PHASE_SHIFT)))
                   | site.astype(np.uint64))
        draw = counter_uniform(self.seed[k][owner], counter, now)
        return np.bincount(owner, weights=draw < p[owner], minlength=k.size).astype(np.int64)


def load_quantal(cores: tuple, records: np.ndarray, core: np.ndarray, position: np.ndarray,
                 dt: float) -> QuantalSites | None:
    """The quantal synapses of loaded synapses with ``records`` (``QUANTAL_DTYPE``), on
    target cores ``core`` at ``position`` in their synaptic rows; None when none is."""
    if records.dtype != QUANTAL_DTYPE or not records["n"].any():
        return None
    seeds = np.array([int(c.sram["rng_seed"][0]) for c in cores], np.uint64)
    return QuantalSites(records, seeds[core], position, dt)
