"""One image run by several MPI processes (ranks), spike for spike as one process runs it.

Every rank loads the same image. The stepped cores are divided among the ranks in contiguous
runs of the global neuron numbering, balanced by neurons (:func:`divide`); the kernel groups
are split where the owner changes (:func:`split_layout`), so a rank steps only the groups of
its own cores. The cores that generate spikes themselves (spike sources) are planned by every
rank: they are a pure function of the image and the step, and their random streams stay
those of one process. A rank delivers only into the synapses whose target core it owns
(:meth:`DistributedEmulator._delivered`), keeping their order within each row.

The spikes a rank's neurons fire are exchanged once per window of ``w`` steps, ``w`` the
smallest delay (in steps) of all synapses, as NEST exchanges spikes once per ``min_delay``
(:class:`SpikeExchange`). A spike of step ``t`` with delay ``d >= w`` is added into the ring
slot of step ``t + d``, which no neuron reads before the window ends, so delivering a whole
window at its end changes nothing. The window's steps are then replayed in order, each with
the step's spike array of one process (planned sources first, then the neurons in global
order, which is the ranks' parts in rank order), so every ring buffer sums the same float32
contributions in the same order and STDP sees the same spike sequence: the results are
bit-identical to one process. Every rank receives every spike (an all-gather, as NEST does),
so spike recordings and work counters are complete everywhere; sampled state and learnt
weights are gathered from the rank that owns their core.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field, replace

import numpy as np

from ...image.machine_image import MachineImage
from ..raw import CoreRecording
from .emulator import Emulator
from .layout import Group, Layout, is_source_kernel, lay_out
from .synapses import Synapses


def divide(image: MachineImage, layout: Layout, n_ranks: int) -> np.ndarray:
    """The rank that steps each core of ``image``: contiguous runs of the stepped cores in
    the global neuron numbering, with about equal neurons per rank; spike-source cores get
    -1 (every rank plans them).

    Parameters
    ----------
    image, layout
        The image and its global neuron numbering.
    n_ranks
        Number of processes.
    """
    rank = np.full(len(image.cores), -1, np.int64)
    stepped = [i for i in np.argsort(layout.offsets, kind="stable")
               if not is_source_kernel(image.cores[i].kernel)]
    sizes = np.array([image.cores[i].n_neurons for i in stepped], np.float64)
    total = sizes.sum()
    if not stepped or total == 0:
        return rank
    middle = np.cumsum(sizes) - sizes / 2  # each core goes where its middle neuron falls
    rank[stepped] = np.minimum((middle * n_ranks / total).astype(np.int64), n_ranks - 1)
    return rank


def split_layout(layout: Layout, core_rank: np.ndarray) -> Layout:
    """``layout`` with each stepped group cut where the rank of its cores changes (a group's
    cores are contiguous in the numbering, so each part is a contiguous slice too)."""
    groups: list[Group] = []
    for g in layout.groups:
        if is_source_kernel(g.kernel) or len({int(core_rank[c]) for c in g.cores}) == 1:
            groups.append(g)
            continue
        lo, run = g.lo, [g.cores[0]]
        for c in g.cores[1:]:
            if core_rank[c] != core_rank[run[0]]:
                hi = int(layout.offsets[c])
                groups.append(Group(g.kernel, lo, hi, run))
                lo, run = hi, []
            run.append(c)
        groups.append(Group(g.kernel, lo, g.hi, run))
    return replace(layout, groups=groups)


@dataclass
class ExchangeStats:
    """What a rank exchanged: windows, its own spikes sent (every one goes to each other
    rank), the spikes of each rank it received, and seconds spent in the exchange."""

    windows: int = 0
    sent: int = 0
    received: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    seconds: float = 0.0


class SpikeExchange:
    """Keeps each step's spikes of one rank and, at the end of each window, all-gathers them
    and sends the steps' spikes of all ranks, in one process's order, through ``send``.

    Parameters
    ----------
    comm
        The MPI communicator (mpi4py).
    window
        Steps per window (the smallest delay in steps, >= 1).
    send
        ``send(fired, values, now)``: what one process does with the spikes of step
        ``now``, as arrays ``fired`` with their graded ``values`` (None: plain spikes).
    """

    def __init__(self, comm: object, window: int, send: object) -> None:
        self.comm, self.window, self.send = comm, max(1, int(window)), send
        self.steps: list[tuple[int, list, list, int]] = []
        self.stats = ExchangeStats(received=np.zeros(comm.Get_size(), np.int64))

    def keep(self, now: int, fired: list[np.ndarray], values: list, planned: int) -> None:
        """Step ``now`` fired ``fired`` (the first ``planned`` arrays: the sources every rank
        plans) with graded ``values`` (None: plain spikes); the window ends at multiples of
        the window length."""
        self.steps.append((now, fired, values, planned))
        if now % self.window == 0:
            self.flush()

    def flush(self) -> None:
        """Exchange the steps kept since the last flush (all ranks call it after the same
        steps) and send them, step by step."""
        if not self.steps:
            return
        counts, neurons, values, graded = [], [], [], []
        for _, fired, vals, planned in self.steps:
            own, own_values = fired[planned:], vals[planned:]
            counts.append(sum(f.size for f in own))
            neurons.extend(own)
            is_graded = any(v is not None for v in own_values)
            graded.append(is_graded)
            values.extend(np.ones(f.size, np.float32) if v is None else np.asarray(v, np.float32)
                          for f, v in zip(own, own_values, strict=True))
        mine = (np.asarray(counts, np.int64),
                np.concatenate(neurons) if neurons else np.zeros(0, np.int64),
                np.concatenate(values) if any(graded) else None,
                np.asarray(graded, bool))
        start = time.perf_counter()
        parts = allgather(self.comm, mine)
        self.stats.seconds += time.perf_counter() - start
        self.stats.windows += 1
        self.stats.sent += int(mine[0].sum())
        for r, part in enumerate(parts):
            self.stats.received[r] += int(part[0].sum())
        ends = [np.concatenate(([0], np.cumsum(p[0]))) for p in parts]
        for k, (now, fired, vals, planned) in enumerate(self.steps):
            step_fired, step_values = list(fired[:planned]), list(vals[:planned])
            for (_, rank_neurons, rank_values, rank_graded), end in zip(parts, ends, strict=True):
                a, b = end[k], end[k + 1]
                if b > a:
                    step_fired.append(rank_neurons[a:b])
                    step_values.append(rank_values[a:b] if rank_graded[k] else None)
            self.send(step_fired, step_values, now)
        self.steps = []


Part = tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]


def allgather(comm: object, mine: Part) -> list[Part]:
    """Every rank's (spikes per step, neurons, payloads or None, graded per step) of a
    window, in rank order. Through MPI's buffer collectives where ``comm`` has them (two or
    three calls of raw arrays, no pickling), else its ``allgather``."""
    if not hasattr(comm, "Allgatherv"):
        return comm.allgather(mine)
    counts, neurons, values, graded = mine
    ints = np.concatenate((counts, graded.astype(np.int64), neurons.astype(np.int64)))
    sizes = np.empty((comm.Get_size(), 2), np.int64)
    comm.Allgather(np.array([ints.size, -1 if values is None else values.size], np.int64),
                   sizes)
    every = np.empty(int(sizes[:, 0].sum()), np.int64)
    comm.Allgatherv(ints, [every, sizes[:, 0]])
    has_values = sizes[:, 1] >= 0
    if has_values.any():
        value_sizes = np.maximum(sizes[:, 1], 0)
        all_values = np.empty(int(value_sizes.sum()), np.float32)
        comm.Allgatherv(np.zeros(0, np.float32) if values is None else values,
                        [all_values, value_sizes])
        value_parts = np.split(all_values, np.cumsum(value_sizes)[:-1])
    steps = counts.size
    parts = []
    for r, chunk in enumerate(np.split(every, np.cumsum(sizes[:, 0])[:-1])):
        parts.append((chunk[:steps], chunk[2 * steps:],
                      value_parts[r] if has_values[r] else None,
                      chunk[steps:2 * steps].astype(bool)))
    return parts


class DistributedEmulator(Emulator):
    """An :class:`~.emulator.Emulator` that steps only this rank's cores of ``image`` and
    exchanges spikes with the other ranks of ``comm`` (see the module docstring).

    Parameters
    ----------
    image
        The image, the same on every rank.
    comm
        The MPI communicator (mpi4py), of more than one rank.
    """

    def __init__(self, image: MachineImage, comm: object) -> None:
        self.comm, self.rank, self.n_ranks = comm, comm.Get_rank(), comm.Get_size()
        super().__init__(image)

    # -- the hooks of Emulator --------------------------------------------------------
    def _lay_out(self, image: MachineImage) -> Layout:
        layout = lay_out(image)
        self.core_rank = divide(image, layout, self.n_ranks)
        # Who sends each core's sampled state when recordings are gathered.
        self.core_owner = np.maximum(self.core_rank, 0)
        return split_layout(layout, self.core_rank)

    def _delivered(self, syn: Synapses, idx: np.ndarray) -> tuple[Synapses, np.ndarray]:
        # The window is the smallest delay of all synapses, also those between own cores:
        # every delivery waits for the window's end.
        window = int(syn.delay.min()) if syn.delay.size else 1 << 30
        own = self.core_rank[syn.core] == self.rank
        keep = np.flatnonzero(own)
        ptr = np.concatenate(([0], np.cumsum(own)))[syn.ptr]  # own synapses before each row
        mine = Synapses(ptr.astype(syn.ptr.dtype), syn.delay[keep], syn.slot[keep],
                        syn.weight[keep], syn.core[keep], syn.dynamic[keep], syn.fan_out)
        old = self.exchange
        self.exchange = SpikeExchange(self.comm, window, self._send_step)
        if old is not None:
            self.exchange.stats = old.stats
        return mine, idx[keep]

    def _updates(self, group: Group) -> bool:
        return bool(self.core_rank[group.cores[0]] == self.rank)

    # -- the exchange --------------------------------------------------------------------
    def _steps(self, plan: object, lo: int, hi: int) -> None:
        super()._steps(plan, lo, hi)
        self.exchange.flush()  # the results of a run (or of a block) are complete

    def _send_step(self, fired: list[np.ndarray], values: list, now: int) -> None:
        """What one process's step loop does with the spikes of step ``now`` (``fired``,
        graded ``values``): STDP sees its postsynaptic spikes, the packets are delivered
        and kept for the counters and the spike recording."""
        spikes = (np.zeros(0, np.int64) if not fired else fired[0] if len(fired) == 1
                  else np.concatenate(fired))
        plastic = self.synaptic.plastic
        if plastic is not None:
            plastic.post_spikes(spikes, now)
        if not spikes.size:
            return
        payload = None
        if any(v is not None for v in values):
            payload = np.concatenate([np.ones(f.size, np.float32) if v is None
                                      else np.asarray(v, np.float32)
                                      for f, v in zip(fired, values, strict=True)])
        self._deliver(spikes, now, payload)
        work = self.work
        if payload is not None:
            work.sent_values[len(work.sent)] = payload
        work.sent.append(spikes)
        work.sent_steps.append(now)

    # -- what the host reads back ------------------------------------------------------------
    def recordings(self) -> list[CoreRecording]:
        """Every core's recording, each from the rank that steps it (the same list on every
        rank)."""
        local = super().recordings()
        own = {i: rec for i, rec in enumerate(local) if self.core_owner[i] == self.rank}
        merged: dict[int, CoreRecording] = {}
        for part in self.comm.allgather(own):
            merged.update(part)
        return [merged[i] for i in range(len(local))]

    def read_weights(self, core: np.ndarray, position: np.ndarray) -> np.ndarray:
        """The weights now (see :meth:`.Emulator.read_weights`), each from the rank that
        owns its core (where it learns)."""
        core = np.asarray(core, np.int64)
        out = super().read_weights(core, position)
        mine = self.core_owner[core] == self.rank
        for r, part in enumerate(self.comm.allgather(out[mine])):
            if r != self.rank:
                out[self.core_owner[core] == r] = part
        return out

    @property
    def exchange_stats(self) -> ExchangeStats:
        """What this rank exchanged since it was made."""
        return self.exchange.stats
