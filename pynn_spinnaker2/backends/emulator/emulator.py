"""The emulator: steps every core of a MachineImage in lock-step, one time step at a time.

Per step, each core updates its neurons from the inputs that arrive in this step (the slot of
its input ring buffer), sends one multicast packet per spike (a graded event's packet carries
its value as payload), and the packets reach the cores the router tables deliver them to;
there each packet's synaptic row (found through the core's master population table) adds its
weights (times the payload) into the ring-buffer slot ``now + delay``.

Cores running the same kernel are stepped together (their regions concatenated), so the
Python loop runs over time steps only; what the cores generate themselves (spike sources,
injected currents) is computed for a block of steps at once. Routes are resolved once per key
block at load, by walking the compiled router tables (see :mod:`.router`). Work is counted per
core and step for the cost model (:mod:`pynn_spinnaker2.cost`), in bulk after each block.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...cost.recorder import ActivityRecorder
from ...errors import ImageError
from ...image.model import (
    DELAY_SHIFT,
    DYNAMIC_SHIFT,
    DYNAMICS_DTYPE,
    PLASTICITY_DTYPE,
    QUANTAL_DTYPE,
    RECEPTOR_SHIFT,
    MachineImage,
)
from ..raw import CoreRecording, Signal
from .inputs import counter_uniform, current_values, per_step, poisson_spikes
from .kernels import NEURON_KERNELS
from .plasticity import PairSTDP
from .quantal import load_quantal
from .router import Router
from .sources import SOURCE_GENERATORS

SOURCE_KERNELS = ("spike_source_array", "spike_source_poisson", "graded_source_array",
                  *SOURCE_GENERATORS)
#: Source kernels that draw from the cores' random number generator.
RANDOM_SOURCES = ("spike_source_poisson", *SOURCE_GENERATORS)
#: Synapses decoded per block at load (16 MB of temporaries at most).
LOAD_BLOCK = 1 << 21
_NO_SPIKES = np.zeros(0, np.int64)


@dataclass
class Group:
    """Cores that run the same kernel, stepped together over a global neuron slice."""

    kernel: str
    lo: int
    hi: int
    cores: list[int]
    params: dict[str, np.ndarray] = field(default_factory=dict)
    state: dict[str, np.ndarray] = field(default_factory=dict)
    schedule: tuple[np.ndarray, np.ndarray] | None = None
    rng: np.random.Generator | None = None
    #: Payload of each scheduled event (graded sources), parallel to ``schedule``.
    values: np.ndarray | None = None


@dataclass
class Counters:
    """Work done since the last reset, per core."""

    neuron_updates: np.ndarray
    packets_sent: np.ndarray
    synaptic_events: np.ndarray
    steps: int = 0
    #: Synaptic events of graded packets (weight x payload, a multiply-accumulate), per core.
    macs: np.ndarray | None = None


class Emulator:
    """Runs a :class:`~pynn_spinnaker2.image.MachineImage`.

    Parameters
    ----------
    image
        The image to execute.
    """

    def __init__(self, image: MachineImage) -> None:
        self.image = image
        self._layout(image)
        self._load(image)
        self.reset()

    # -- loading -----------------------------------------------------------------------
    def _layout(self, image: MachineImage) -> None:
        """Global neuron numbering: cores grouped by kernel, each group a contiguous slice."""
        for core in image.cores:
            if core.kernel not in NEURON_KERNELS and core.kernel not in SOURCE_KERNELS:
                raise ImageError(f"core {core.chip}:{core.pe} runs unknown kernel "
                                 f"{core.kernel!r}")
        kernels = list(dict.fromkeys(c.kernel for c in image.cores))
        self.offsets = np.zeros(len(image.cores), dtype=np.int64)
        self.groups: list[Group] = []
        start = 0
        for kernel in kernels:
            members = [i for i, c in enumerate(image.cores) if c.kernel == kernel]
            lo = start
            for i in members:
                self.offsets[i] = start
                start += image.cores[i].n_neurons
            self.groups.append(Group(kernel, lo, start, members))
        self.n_neurons = start
        self.core_of = np.zeros(start, dtype=np.int64)
        for i, core in enumerate(image.cores):
            self.core_of[self.offsets[i]:self.offsets[i] + core.n_neurons] = i
        self.n_receptors = max((c.sram["input_ring"].shape[1] for c in image.cores
                                if "input_ring" in c.sram), default=1)
        self.ring_slots = max((c.sram["input_ring"].shape[0] for c in image.cores
                               if "input_ring" in c.sram), default=1)

    @staticmethod
    def _structure(image: MachineImage) -> list[tuple]:
        return [(c.chip, c.pe, c.kernel, c.n_neurons, c.key, c.mask,
                 c.sram["input_ring"].shape if "input_ring" in c.sram else None)
                for c in image.cores]

    def same_layout(self, image: MachineImage) -> bool:
        """True when ``image`` places the same cores, so :meth:`reload` can take it."""
        return self._structure(image) == self._structure(self.image)

    def _load(self, image: MachineImage) -> None:
        """Read parameters, synapses, sources and recording set-up from the image."""
        self.image = image
        self.dt = image.timestep
        cores = image.cores
        for g in self.groups:
            g.params = _concat_fields([cores[i].sram["neuron_params"] for i in g.cores])
            if g.kernel == "spike_source_array":
                steps, neurons = [], []
                for i in g.cores:
                    sched = cores[i].sram["spike_schedule"]
                    steps.append(sched["step"].astype(np.int64))
                    neurons.append(sched["neuron"].astype(np.int64) + self.offsets[i])
                steps_all, neurons_all = np.concatenate(steps), np.concatenate(neurons)
                order = np.argsort(steps_all, kind="stable")
                g.schedule = (steps_all[order], neurons_all[order])
            elif g.kernel == "graded_source_array":
                self._load_graded_schedule(g, cores)
        self._load_synapses(image)
        self._load_currents(image)
        self._load_recording(image)
        self._prepare_steps()

    def _load_graded_schedule(self, g: Group, cores: tuple) -> None:
        """Graded sources: (step, neuron, value) events of every core, sorted by step."""
        sched = [cores[i].dram["event_schedule"] for i in g.cores]
        steps = np.concatenate([s["step"].astype(np.int64) for s in sched])
        neurons = np.concatenate([s["neuron"].astype(np.int64) + self.offsets[i]
                                  for s, i in zip(sched, g.cores, strict=True)])
        values = np.concatenate([s["value"] for s in sched]).astype(np.float32)
        order = np.argsort(steps, kind="stable")
        g.schedule, g.values = (steps[order], neurons[order]), values[order]

    def _prepare_steps(self) -> None:
        """Derived arrays the step loop reads (not part of the image)."""
        self._slot_size = self.n_receptors * self.n_neurons
        self.syn_ring_offset = self.syn_delay * self._slot_size + self.syn_slot
        self.any_dynamic = bool(self.syn_dynamic.any())
        self._max_delay = int(self.syn_delay.max()) if self.syn_delay.size else 0
        self._static_rows = (self.plastic is None and self.syn_release is None
                             and not self.any_dynamic and self.quantal is None)
        self._i_inj = np.zeros(self.n_neurons, np.float32)
        if self.n_current_sources:
            self.cs_targets, self.cs_target_of = np.unique(self.cs_neuron, return_inverse=True)
        # Steps planned at once: what the sources generate for them stays below ~1M values.
        width = sum(g.hi - g.lo for g in self.groups if g.kernel in RANDOM_SOURCES)
        width += self.n_current_sources + (self.cs_targets.size if self.n_current_sources else 0)
        self._block_steps = int(np.clip((1 << 20) // max(width, 1), 16, 4096))
        self._prepare_counting()

    def _prepare_counting(self) -> None:
        """What the work counters need: per source neuron, its synapses on each target core
        (a sparse matrix), and which neurons send graded packets (each of their synaptic
        events is a multiply-accumulate)."""
        import scipy.sparse as sp

        n_cores = len(self.image.cores)
        neuron, core, count = self._fan_out_rows
        indptr = np.concatenate(([0], np.cumsum(np.bincount(neuron, minlength=self.n_neurons))))
        self._fan_out = sp.csr_matrix((count, core, indptr), shape=(self.n_neurons, n_cores))
        self._fan_rows = (indptr, core, count)  # the same, for :func:`_rows_of`
        self._graded = np.zeros(self.n_neurons, bool)
        for g in self.groups:
            if g.kernel == "graded_source_array" or getattr(
                    NEURON_KERNELS.get(g.kernel), "graded", False):
                self._graded[g.lo:g.hi] = True
        self._stepped = np.array([0 if c.kernel in SOURCE_KERNELS else c.n_neurons
                                  for c in self.image.cores], np.int64)

    def _load_synapses(self, image: MachineImage) -> None:
        """Per source neuron, every synapse its packets reach, as flat CSR arrays.

        Every key block is routed once through the compiled tables (all together); each
        (source core, target core) delivery finds its master population table entry, whose
        rows (one per source neuron) point into the target core's synapses. Rows are put in
        source-neuron order and expanded into synapses, so the CSR needs no sort.
        """
        cores = image.cores
        pes = image.machine.pes_per_chip
        sending = np.array([i for i, c in enumerate(cores) if c.n_neurons > 0], np.int64)
        router = Router(image)
        keys = np.array([cores[i].key for i in sending], np.int64)
        router.check_blocks(keys, np.array([cores[i].mask for i in sending], np.int64))
        chips = np.array([cores[i].chip for i in sending], np.int64).reshape(-1, 2)
        packet, at, pe = router.deliver_all(keys, chips)
        core_at = np.full(image.machine.n_chips * pes, -1, np.int64)
        for i, c in enumerate(cores):
            core_at[(c.chip[1] * image.machine.width + c.chip[0]) * pes + c.pe] = i
        d = core_at[(at[:, 1] * image.machine.width + at[:, 0]) * pes + pe]
        if np.any(d < 0):
            k = int(np.argmax(d < 0))
            raise ImageError(f"key {int(keys[packet[k]]):#010x} is routed to "
                             f"{(tuple(int(v) for v in at[k]), int(pe[k]))}, where no core "
                             f"is loaded")
        s = sending[packet]
        entry, n_rows, row_start = self._match_master_tables(cores, keys[packet], d)
        keep = entry >= 0  # a packet with no synaptic row is dropped, as on the chip
        s, d, n_rows, row_start = s[keep], d[keep], n_rows[keep], row_start[keep]
        n_local = np.array([c.n_neurons for c in cores], np.int64)
        if np.any(n_rows > n_local[s]):
            k = int(np.argmax(n_rows > n_local[s]))
            raise ImageError(f"core {cores[d[k]].chip}:{cores[d[k]].pe} has {int(n_rows[k])} "
                             f"rows for a source core of {int(n_local[s[k]])} neurons")
        # Rows of every (source, target) pair, ordered by source neuron, then target core.
        order = np.lexsort((d, s))
        s, d, n_rows, row_start = s[order], d[order], n_rows[order], row_start[order]
        rows_all = [c.dram["row_index"] for c in cores]
        row_base = np.concatenate(([0], np.cumsum([r.size for r in rows_all])))
        row_index = (np.concatenate(rows_all) if row_base[-1] else np.zeros(0, rows_all[0].dtype)
                     if rows_all else np.zeros(0))
        pair = np.repeat(np.arange(s.size), n_rows)
        local = np.arange(pair.size) - np.repeat(np.cumsum(n_rows) - n_rows, n_rows)
        src_neuron = self.offsets[s[pair]] + local
        by_neuron = _group(src_neuron, self.n_neurons)
        pair, local, src_neuron = pair[by_neuron], local[by_neuron], src_neuron[by_neuron]
        rows = row_index[row_base[d[pair]] + row_start[pair] + local] if pair.size else (
            np.zeros(0, dtype=[("start", "<u4"), ("length", "<u4")]))
        syn_all = [c.dram["synapses"] for c in cores]
        synapses, syn_base = _joined(syn_all)
        lengths = rows["length"].astype(np.int64)
        total = int(lengths.sum())
        # Synapse k of row r is synapses[first[r] + k]: a running count that jumps at each
        # row's first synapse (one array, no temporaries: fresh memory is slow to touch).
        first = syn_base[d[pair]] + rows["start"].astype(np.int64)
        nonempty = lengths > 0
        idx = np.ones(total, np.int64)
        if total:
            starts = np.cumsum(lengths) - lengths
            jump = first[nonempty]
            idx[starts[nonempty]] = np.r_[jump[0], np.diff(jump) - lengths[nonempty][:-1] + 1]
            np.cumsum(idx, out=idx)
        target_core = np.repeat(d[pair], lengths)
        slot = np.empty(total, np.int64)
        delay = np.empty(total, np.int64)
        weight = np.empty(total, np.float32)
        dynamic = np.empty(total, bool)
        # Decoded in blocks small enough for their temporaries to be reused, not mapped anew.
        for a in range(0, total, LOAD_BLOCK):
            b = min(total, a + LOAD_BLOCK)
            syn = synapses[idx[a:b]]
            control = syn["control"]
            weight[a:b] = syn["weight"]
            np.take(self.offsets, target_core[a:b], out=slot[a:b])
            slot[a:b] += control & 0xFFFF
            slot[a:b] += ((control >> RECEPTOR_SHIFT) & 0x7).astype(np.int64) * self.n_neurons
            np.right_shift(control, DELAY_SHIFT, out=delay[a:b], dtype=np.int64)
            dynamic[a:b] = (control >> DYNAMIC_SHIFT) & 1
        if total and (delay.min() < 1 or delay.max() >= self.ring_slots):
            raise ImageError(f"synaptic delays {delay.min()}..{delay.max()} steps do not "
                             f"fit input rings of {self.ring_slots} slots")
        self.syn_delay = delay
        self.syn_slot = slot
        self.syn_weight = weight
        self.syn_core = target_core
        params = np.zeros(0, DYNAMICS_DTYPE)
        if dynamic.any():
            dyn_all = [c.dram.get("synapse_dynamics", np.zeros(0, DYNAMICS_DTYPE))
                       for c in cores]
            has = np.array([x.size > 0 for x in dyn_all])
            # A core's dynamics region is parallel to its synapses (empty when none is).
            padded = [x if x.size else np.zeros(y.size, DYNAMICS_DTYPE)
                      for x, y in zip(dyn_all, syn_all, strict=True)]
            params = (np.concatenate(padded)[idx] if has.any()
                      else np.zeros(total, DYNAMICS_DTYPE))
        self._load_dynamics(dynamic, params)
        self._load_learning(image, syn_all, syn_base, idx, target_core)
        del idx
        counts = np.bincount(src_neuron, weights=lengths, minlength=self.n_neurons)
        self.syn_ptr = np.concatenate(([0], np.cumsum(counts.astype(np.int64))))
        # Each row is one source neuron's synapses on one target core: the fan-out the work
        # counters need, per (neuron, core), in neuron order.
        self._fan_out_rows = (src_neuron[nonempty], d[pair][nonempty], lengths[nonempty])

    def _load_learning(self, image: MachineImage, syn_all: list[np.ndarray],
                       syn_base: np.ndarray, idx: np.ndarray, target_core: np.ndarray
                       ) -> None:
        """STDP records and release probabilities of the loaded synapses: each core's
        ``synapse_plasticity`` / ``synapse_release`` region is parallel to its synapses
        (empty when none of them learns / all always transmit)."""
        cores = image.cores
        learns = any(c.dram.get("synapse_plasticity", np.zeros(0)).size for c in cores)
        stochastic = any(c.dram.get("synapse_release", np.zeros(0)).size for c in cores)
        quantal = any(c.dram.get("synapse_quantal", np.zeros(0)).size for c in cores)
        position = idx - syn_base[target_core] if learns or stochastic or quantal else None
        records = (_parallel(cores, "synapse_plasticity", syn_all, idx,
                             np.zeros(1, PLASTICITY_DTYPE)[0]) if learns
                   else np.zeros(0, PLASTICITY_DTYPE))
        self._load_plasticity(image, records, target_core, position)
        release = (_parallel(cores, "synapse_release", syn_all, idx, np.float32(1.0))
                   if stochastic else np.ones(0, np.float32))
        self._load_release(image, release, target_core, position)
        old = getattr(self, "quantal", None)
        self.quantal = (load_quantal(cores, _parallel(cores, "synapse_quantal", syn_all, idx,
                                                      np.zeros(1, QUANTAL_DTYPE)[0]),
                                     target_core, position, self.dt) if quantal else None)
        if self.quantal is not None:
            self.quantal.keep_state(old)

    @staticmethod
    def _match_master_tables(cores: tuple, keys: np.ndarray, target: np.ndarray
                             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(entry, n_rows, row_start) of the first master population table entry of core
        ``target`` that each key matches (entry -1 where none does)."""
        tables = [c.sram["master_pop_table"] for c in cores]
        owner = np.repeat(np.arange(len(tables)), [t.size for t in tables])
        mpt = np.concatenate(tables) if owner.size else np.zeros(0, tables[0].dtype)
        position = np.arange(owner.size)
        best = np.full(keys.size, -1, np.int64)
        for m in np.unique(mpt["mask"]).tolist():
            sel = np.flatnonzero(mpt["mask"] == m)
            code = owner[sel] * (1 << 32) + mpt["key"][sel].astype(np.int64)
            order = np.argsort(code, kind="stable")
            code, ids = code[order], position[sel][order]
            q = target * (1 << 32) + (keys & m)
            pos = np.minimum(np.searchsorted(code, q), code.size - 1)
            hit = code[pos] == q
            cand = np.where(hit, ids[pos], -1)
            better = (cand >= 0) & ((best < 0) | (cand < best))
            best = np.where(better, cand, best)
        safe = np.maximum(best, 0)
        if mpt.size == 0:
            return best, np.zeros(keys.size, np.int64), np.zeros(keys.size, np.int64)
        return (best, mpt["n_rows"][safe].astype(np.int64),
                mpt["row_start"][safe].astype(np.int64))

    def _load_release(self, image: MachineImage, release: np.ndarray, core: np.ndarray,
                      position: np.ndarray) -> None:
        """Stochastic synapses: transmission probability, the seed of the target core that
        draws for it and the synapse's place in that core's rows (what the draw is keyed
        by, so the same synapse draws the same wherever it is placed)."""
        self.syn_release = release if np.any(release < 1.0) else None
        if self.syn_release is not None:
            seeds = np.array([int(c.sram["rng_seed"][0]) for c in image.cores], np.uint64)
            self.syn_seed, self.syn_position = seeds[core], position

    def _load_plasticity(self, image: MachineImage, records: np.ndarray, core: np.ndarray,
                         position: np.ndarray) -> None:
        """STDP: the plastic synapses among those loaded, and their targets' traces."""
        learns = np.flatnonzero(records["kind"])
        self.syn_plastic = np.full(records.size, -1, np.int64)
        if not learns.size:
            self.plastic = None
            return
        self.syn_plastic[learns] = np.arange(learns.size)
        self.plastic_image_weight = self.syn_weight[learns].copy()
        tau_minus = np.zeros(self.n_neurons)
        slots = 2
        for i, c in enumerate(image.cores):
            if "stdp_post" in c.sram:
                tau_minus[self.offsets[i]:self.offsets[i] + c.n_neurons] = (
                    c.sram["stdp_post"]["tau_minus"])
                slots = max(slots, c.sram["stdp_trace"].shape[0])
        target = self.syn_slot[learns] % self.n_neurons
        self.plastic = PairSTDP(learns, records[learns], target, self.syn_delay[learns],
                                core[learns], position[learns], tau_minus, slots, self.dt)

    def _load_dynamics(self, dynamic: np.ndarray, params: np.ndarray) -> None:
        """Short-term plasticity: parameters per synapse; state kept across reloads."""
        self.syn_dynamic = dynamic
        # Parameters of static synapses are never read: none are kept when all are static.
        keep = params if dynamic.any() else params[:0]
        self.tm = {name: keep[name].astype(np.float64) for name in DYNAMICS_DTYPE.names}
        old = getattr(self, "tm_state", None)
        if old is None or old["u"].size != (dynamic.size if dynamic.any() else 0):
            self._reset_dynamics()

    def _reset_dynamics(self) -> None:
        # Only dynamic synapses ever read this state (loading speed: none is kept when no
        # synapse is dynamic).
        n = self.syn_dynamic.size if self.syn_dynamic.any() else 0
        # No earlier spike: the first one finds fully recovered resources (x = 1).
        self.tm_state = {"u": np.zeros(n), "x": np.ones(n), "y": np.zeros(n),
                         "last": np.full(n, -(1 << 40), dtype=np.int64)}

    def _tsodyks_markram(self, idx: np.ndarray, now: int) -> np.ndarray:
        """Weight factors u * x of dynamic synapses ``idx`` fired at ``now`` (NEST's
        ``tsodyks_synapse`` update), advancing their state; a synapse listed twice (several
        spikes in one step) is updated once per spike, in order."""
        factor = np.empty(idx.size)
        pending = np.arange(idx.size)
        while pending.size:
            _, first = np.unique(idx[pending], return_index=True)
            take = pending[first]
            k = idx[take]
            s, p = self.tm_state, self.tm
            h = (now - s["last"][k]) * self.dt
            with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
                p_uu = np.where(p["tau_facil"][k] > 0, np.exp(-h / p["tau_facil"][k]), 0.0)
                p_yy = np.exp(-h / p["tau_psc"][k])
                p_zz = np.exp(-h / p["tau_rec"][k])
                p_xy = (((p_zz - 1) * p["tau_rec"][k] - (p_yy - 1) * p["tau_psc"][k])
                        / (p["tau_psc"][k] - p["tau_rec"][k]))
            p_xy = np.where(np.isfinite(p_xy), p_xy, 1.0 - p_zz)
            z = 1.0 - s["x"][k] - s["y"][k]
            u = s["u"][k] * p_uu
            x = s["x"][k] + p_xy * s["y"][k] + (1.0 - p_zz) * z
            y = s["y"][k] * p_yy
            u = u + p["U"][k] * (1.0 - u)
            used = u * x
            s["u"][k], s["x"][k], s["y"][k], s["last"][k] = u, x - used, y + used, now
            factor[take] = used
            pending = np.setdiff1d(pending, take, assume_unique=True)
        return factor

    def _load_currents(self, image: MachineImage) -> None:
        """Current sources of every core, flattened with global neuron indices."""
        tables, scheds, targets = [], [], []
        n_rows = 0
        for i, core in enumerate(image.cores):
            table = core.sram.get("current_sources")
            if table is None or table.size == 0:
                continue
            sched = core.sram["current_schedule"]
            for j, row in enumerate(table):
                part = sched[row["schedule_start"]:row["schedule_start"] + row["schedule_len"]]
                scheds.append((np.full(part.size, n_rows + j), part["step"].astype(np.int64),
                               part["amplitude"]))
            tg = core.sram["current_targets"]
            targets.append((tg["source"].astype(np.int64) + n_rows,
                            tg["neuron"].astype(np.int64) + self.offsets[i]))
            tables.append(table)
            n_rows += table.size
        self.n_current_sources = n_rows
        if not n_rows:
            return
        self.cs = np.concatenate(tables)
        rows = np.concatenate([s[0] for s in scheds]) if scheds else np.zeros(0, np.int64)
        steps = np.concatenate([s[1] for s in scheds]) if scheds else np.zeros(0, np.int64)
        amps = np.concatenate([s[2] for s in scheds]) if scheds else np.zeros(0, np.float32)
        order = np.lexsort((steps, rows))
        self.cs_sched = (rows[order], steps[order], amps[order].astype(np.float32))
        self.cs_source = np.concatenate([t[0] for t in targets])
        self.cs_neuron = np.concatenate([t[1] for t in targets])

    def source_values(self, step: int) -> np.ndarray:
        """Current (nA) of every current-source row during the step that starts at ``step``.

        A pure function of the step, as the core computes it: the last schedule change at or
        before the step, a sine of the time since start, or counter-based Gaussian noise.
        """
        return current_values(self.cs, self.cs_sched, np.array([step]), self.dt)[0]

    def current_trace(self, n_steps: int) -> dict[int, np.ndarray]:
        """Source id -> its current at steps 0 .. n_steps - 1 (what recording it shows)."""
        if not self.n_current_sources:
            return {}
        values = current_values(self.cs, self.cs_sched, np.arange(n_steps), self.dt)
        ids = self.cs["source_id"]
        return {int(sid): values[:, np.flatnonzero(ids == sid)[0]] for sid in np.unique(ids)}

    def _load_recording(self, image: MachineImage) -> None:
        """Which neurons record spikes and which variables, at which interval."""
        self.record_spikes = np.zeros(self.n_neurons, dtype=bool)
        self.probes: dict[tuple[int, str, int], np.ndarray] = {}
        for gi, g in enumerate(self.groups):
            for i in g.cores:
                core = image.cores[i]
                for row, mask in zip(core.sram["recording"], core.sram["record_mask"],
                                     strict=True):
                    variable = row["variable"].decode()
                    neurons = np.flatnonzero(mask) + self.offsets[i]
                    if variable == "spikes":
                        self.record_spikes[neurons] = True
                        continue
                    key = (gi, variable, int(row["interval"]))
                    self.probes[key] = np.concatenate(
                        (self.probes.get(key, np.zeros(0, np.int64)), neurons - g.lo))

    # -- control -----------------------------------------------------------------------
    def reset(self) -> None:
        """Back to step 0: state from the image, empty rings, no recordings."""
        self.step = 0
        self.ring = np.zeros(self.ring_slots * self.n_receptors * self.n_neurons, np.float32)
        for g in self.groups:
            g.state = _concat_fields([self.image.cores[i].sram["neuron_state"] for i in g.cores])
            if g.kernel in RANDOM_SOURCES and g.rng is None:
                seeds = np.concatenate([self.image.cores[i].sram["rng_seed"] for i in g.cores])
                g.rng = np.random.default_rng(np.random.SeedSequence(seeds.tolist()))
        self._reset_dynamics()
        if self.quantal is not None:
            self.quantal.reset()
        if self.plastic is not None:
            # Learnt weights go back to the image's.
            self.syn_weight[self.plastic.syn] = self.plastic_image_weight
            self.plastic.reset(self.plastic_image_weight)
        self._spike_count = np.zeros(self.n_neurons, np.int64)
        self._sent: list[np.ndarray] = []
        self._sent_steps: list[int] = []
        # Payloads of graded steps, by position in _sent (plain spikes carry 1).
        self._sent_values: dict[int, np.ndarray] = {}
        self._dirty_until = 0  # no ring slot after this step's has had a packet written
        self._steps_run = 0
        self._counted = 0  # steps whose work is in the activity recorder
        self._activity = ActivityRecorder(len(self.image.cores))  # for the cost model
        self._spikes: list[tuple[np.ndarray, np.ndarray]] = []
        # Payloads of recorded graded events, by position in _spikes (plain spikes carry 1).
        self._spike_values: dict[int, np.ndarray] = {}
        self._samples: dict[tuple[int, str, int], list[np.ndarray]] = {
            k: [] for k in self.probes}
        self._sample(0)

    def reload(self, image: MachineImage) -> None:
        """Load new parameters, synapses, sources and recording set-up, keeping the state.

        Raises
        ------
        ImageError
            When the new image places different cores (then build a new Emulator).
        """
        if not self.same_layout(image):
            raise ImageError("the new image has a different core layout; it needs a new "
                             "Emulator")
        old_probes, old_samples, old_image = self.probes, self._samples, self.image
        old_plastic = self.plastic
        old_weight = None if old_plastic is None else self.syn_weight[old_plastic.syn]
        self._load(image)
        self._write_changed_state(old_image, image)
        self._keep_learning(old_plastic, old_weight)
        if self.step == 0:
            self.reset()  # nothing has run: the initial state comes from the new image
            return
        self._samples = {key: self._carry_samples(key, old_probes.get(key),
                                                  old_samples.get(key, []))
                         for key in self.probes}

    def _keep_learning(self, old: PairSTDP | None, old_weight: np.ndarray | None) -> None:
        """Plastic synapses keep their learnt weights and traces across a reload, except
        where the host wrote a weight other than the one it could read back."""
        new = self.plastic
        if new is None:
            return
        if old is None or not np.array_equal(old.syn, new.syn):
            new.reset(self.plastic_image_weight)
            return
        changed = self.plastic_image_weight != old_weight
        new.reset(self.plastic_image_weight)
        new.adopt(old, changed)
        self.syn_weight[new.syn] = np.where(changed, self.plastic_image_weight, old_weight)

    def read_weights(self, core: np.ndarray, position: np.ndarray) -> np.ndarray:
        """The weight words of the synapses at (core, position) now, as the host reads
        them back from the cores' ``synapses`` regions (plastic ones change as they learn).
        """
        core, position = np.asarray(core, np.int64), np.asarray(position, np.int64)
        out = np.empty(core.size, np.float32)
        where = (self.plastic.locate(core, position) if self.plastic is not None
                 else np.full(core.size, -1))
        learnt = where >= 0
        out[learnt] = self.syn_weight[self.plastic.syn[where[learnt]]] if learnt.any() else 0
        for c in np.unique(core[~learnt]):
            sel = np.flatnonzero(~learnt & (core == c))
            out[sel] = self.image.cores[int(c)].dram["synapses"]["weight"][position[sel]]
        return out

    def _write_changed_state(self, old: MachineImage, new: MachineImage) -> None:
        """Where the host wrote a new initial state mid-run (PyNN's ``initialize``), the
        neurons take it now, as NEST does; untouched neurons keep their running state."""
        for g in self.groups:
            for i in g.cores:
                before, after = old.cores[i].sram["neuron_state"], new.cores[i].sram["neuron_state"]
                lo = self.offsets[i] - g.lo
                for name in after.dtype.names or ():
                    changed = np.flatnonzero(before[name] != after[name])
                    if changed.size:
                        g.state[name][lo + changed] = after[name][changed]

    def _carry_samples(self, key: tuple[int, str, int], old_probe: np.ndarray | None,
                       old: list[np.ndarray]) -> list[np.ndarray]:
        """Samples of a probe whose neurons changed mid-run: what was recorded is kept, and
        samples from before a neuron was recorded are NaN, so every signal still starts at
        step 0 (nothing is silently shifted in time)."""
        probe = self.probes[key]
        if old_probe is not None and np.array_equal(probe, old_probe):
            return old
        n_due = self.step // key[2] + 1
        grid = np.full((n_due, probe.size), np.nan, dtype=np.float32)
        if old_probe is not None and old:
            cols = np.searchsorted(probe, old_probe)
            old = np.vstack(old)  # single samples and blocks of them
            grid[:len(old), cols] = old
        if self.step % key[2] == 0:
            grid[-1] = self.groups[key[0]].state[key[1]][probe]
        return list(grid)

    def run(self, n_steps: int, progress: Callable[[int, int], None] | None = None) -> None:
        """Advance ``n_steps`` time steps.

        Parameters
        ----------
        n_steps
            Number of steps.
        progress
            Called as ``progress(done, n_steps)`` about every 1 % of the run.
        """
        every = max(1, n_steps // 100)
        done = 0
        self._bind()
        while done < n_steps:
            block = min(self._block_steps, n_steps - done)
            plan = self._plan(self.step + 1, block)
            start = self.step
            try:
                if progress is None:
                    self._steps(plan, 0, block)
                else:
                    k = 0
                    while k < block:  # up to the next step that reports, or the block's end
                        end = min(block, ((done + k) // every + 1) * every - done)
                        self._steps(plan, k, end)
                        k = end
                        if (done + k) % every == 0 or done + k == n_steps:
                            progress(done + k, n_steps)
            finally:  # the steps done are counted, also when one of them failed
                self._steps_run += self.step - start
                self._count()
            done += block

    # -- one time step -----------------------------------------------------------------
    def _bind(self) -> None:
        """Per ring slot, the views each neuron group reads its inputs from (made once per
        ring); per group its kernel, regions and injected-current view; per probe where it
        samples (so a step looks nothing up)."""
        if getattr(self, "_views_of", None) is not self.ring:
            r, n = self.n_receptors, self.n_neurons
            slots = [self.ring[k * r * n:(k + 1) * r * n].reshape(r, n)
                     for k in range(self.ring_slots)]
            self._slot_views = [(view, [view[:, g.lo:g.hi] for g in self.groups])
                                for view in slots]
            self._views_of = self.ring
        currents = self.n_current_sources > 0
        self._kernels = [(j, NEURON_KERNELS[g.kernel], g.params, g.state,
                          self._i_inj[g.lo:g.hi] if currents else None, g.lo)
                         for j, g in enumerate(self.groups) if g.kernel not in SOURCE_KERNELS]
        self._sources = [j for j, g in enumerate(self.groups) if g.kernel in SOURCE_KERNELS]
        self._probe_list = [(interval, self._samples[key], self.groups[gi].state, variable,
                             *_sampled(neurons, self.groups[gi].hi - self.groups[gi].lo))
                            for key, neurons in self.probes.items()
                            for gi, variable, interval in [key]]

    def _plan(self, first: int, n: int) -> tuple:
        """What the cores generate themselves in steps first .. first + n - 1: the spikes of
        every source group, merged (see :func:`_merge_sources`), and the injected currents
        per target neuron (None without current sources)."""
        sources = []
        for j in self._sources:
            g = self.groups[j]
            if g.kernel == "spike_source_array":
                sources.append((*per_step(*g.schedule, first, n), None))
            elif g.kernel == "graded_source_array":
                ptr, where = per_step(g.schedule[0], np.arange(g.values.size), first, n)
                sources.append((ptr, g.schedule[1][where], g.values[where]))
            elif g.kernel in SOURCE_GENERATORS:
                sources.append((*SOURCE_GENERATORS[g.kernel](g.rng, g.params, g.state, g.lo,
                                                             first, n), None))
            else:
                sources.append((*poisson_spikes(g.rng, g.params, g.lo, first, n), None))
        currents = None
        if self.n_current_sources:
            # The current of the step that starts at ``step`` = the one ending at step + 1.
            values = current_values(self.cs, self.cs_sched, np.arange(first - 1, first + n - 1),
                                    self.dt)
            currents = np.zeros((n, self.cs_targets.size), np.float32)
            np.add.at(currents.T, self.cs_target_of, values[:, self.cs_source].T)
        return (*_merge_sources(sources, n), currents)

    def _steps(self, plan: tuple, lo: int, hi: int) -> None:
        """Steps ``lo`` .. ``hi - 1`` of a planned block (see :meth:`_plan`). Each probe's
        samples of these steps go into one array, made here and kept at the end (also
        after an error: the steps run so far)."""
        now = self.step
        samplers = []
        for interval, samples, state, variable, where, cols in self._probe_list:
            first = now // interval + 1  # the number of the first sample after step ``now``
            count = (now + hi - lo) // interval - first + 1
            if count > 0:
                now_read = state[variable] if where is None else state[variable][where]
                buffer = np.empty((count, now_read.size), now_read.dtype)
                samplers.append((interval, first, buffer, state, variable, where, cols,
                                 samples))
        self._sampled_to = now
        try:
            self._run_steps(plan, lo, hi, samplers)
        finally:
            for interval, first, buffer, _, _, _, cols, samples in samplers:
                taken = buffer[:self._sampled_to // interval - first + 1]
                samples.append(taken if cols is None else taken[:, cols])

    def _run_steps(self, plan: tuple, lo: int, hi: int, samplers: list) -> None:
        """The steps themselves, each as the module docstring says: sources and kernels
        fire, the inputs of the step are used up, packets are delivered, probes sample.
        What a step reads is bound once here."""
        ptr, source_neurons, source_values, graded_steps, currents = plan
        slot_views, n_slots, kernels = self._slot_views, self.ring_slots, self._kernels
        plastic, deliver = self.plastic, self._deliver
        sent, sent_steps, sent_values = self._sent, self._sent_steps, self._sent_values
        i_inj = self._i_inj
        targets = self.cs_targets if currents is not None else None
        now = self.step
        for k in range(lo, hi):
            now += 1
            inputs, group_inputs = slot_views[now % n_slots]
            fired, payloads = [], []
            graded = False
            if ptr is not None:
                a, b = ptr[k], ptr[k + 1]
                if b > a:
                    fired.append(source_neurons[a:b])
                    if graded_steps is not None and graded_steps[k]:
                        graded = True
                        payloads.append(source_values[a:b])
                    else:
                        payloads.append(None)
            if currents is not None:
                i_inj[targets] = currents[k]
            for j, kernel, params, state, group_i_inj, offset in kernels:
                result = kernel(params, state, group_inputs[j], group_i_inj)
                if isinstance(result, tuple):  # graded events: (fired, value per neuron)
                    spiked = result[0].nonzero()[0]
                    if spiked.size:
                        fired.append(spiked + offset if offset else spiked)
                        payloads.append(result[1][spiked])
                        graded = True
                else:
                    spiked = result.nonzero()[0]
                    if spiked.size:
                        fired.append(spiked + offset if offset else spiked)
                        payloads.append(None)
            if now <= self._dirty_until:  # else no packet has been written into this slot
                inputs.fill(0.0)
            self.step = now
            spikes = (_NO_SPIKES if not fired else fired[0] if len(fired) == 1
                      else np.concatenate(fired))
            if plastic is not None:
                plastic.post_spikes(spikes, now)
            if fired:
                payload = _payloads(fired, payloads) if graded else None
                deliver(spikes, now, payload)
                if payload is not None:
                    sent_values[len(sent)] = payload
                sent.append(spikes)
                sent_steps.append(now)
            for interval, first, buffer, state, variable, where, _, _ in samplers:
                if interval == 1 or now % interval == 0:
                    buffer[now // interval - first] = (state[variable] if where is None
                                                       else state[variable][where])
            self._sampled_to = now

    def _deliver(self, spikes: np.ndarray, now: int, payload: np.ndarray | None = None
                 ) -> None:
        """Add each spike's synaptic row into its targets' ring slots ``now + delay``; with
        ``payload`` (one float32 per packet, graded events), each weight times its packet's
        payload."""
        if spikes.size == 1 and self._static_rows:
            # One packet through static synapses (what most sending steps of a small
            # network deliver): its row is a slice of the synapse arrays, no index array.
            neuron = int(spikes[0])
            a, b = int(self.syn_ptr[neuron]), int(self.syn_ptr[neuron + 1])
            if a == b:
                return
            self._dirty_until = max(self._dirty_until, now + self._max_delay)
            pos = self.syn_ring_offset[a:b] + (now % self.ring_slots) * self._slot_size
            pos[pos >= self.ring.size] -= self.ring.size
            weight = self.syn_weight[a:b]
            np.add.at(self.ring, pos, weight if payload is None else weight * payload[0])
            return
        starts, ends = self.syn_ptr[spikes], self.syn_ptr[spikes + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return
        self._dirty_until = max(self._dirty_until, now + self._max_delay)
        if spikes.size == 1:
            idx = np.arange(starts[0], ends[0])
        else:
            idx = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        # (now + delay) mod slots, times the slot size, plus the target's place in the slot.
        pos = self.syn_ring_offset[idx] + (now % self.ring_slots) * self._slot_size
        pos[pos >= self.ring.size] -= self.ring.size
        weight = self.syn_weight[idx]
        if self.plastic is not None:
            learns = self.syn_plastic[idx]
            hit = learns >= 0
            if hit.any():
                weight[hit] = self.plastic.pre_spikes(learns[hit], now)
                self.syn_weight[idx[hit]] = weight[hit]
        if payload is not None:  # the stored (learnt) weight is kept; its effect is scaled
            weight = weight * (np.repeat(payload, lengths) if spikes.size > 1 else payload[0])
        if self.syn_release is not None:
            # The target core draws, per synapse and step, whether the spike gets through.
            draw = counter_uniform(self.syn_seed[idx], self.syn_position[idx], now)
            weight = np.where(draw < self.syn_release[idx], weight, np.float32(0.0))
        if self.quantal is not None:  # weight x sites released (NEST's quantal_stp_synapse)
            weight = self.quantal.scale(idx, weight, now)
        if self.any_dynamic:
            dynamic = self.syn_dynamic[idx]
            if dynamic.any():
                weight = weight.astype(np.float64)
                weight[dynamic] *= self._tsodyks_markram(idx[dynamic], now)
                weight = weight.astype(np.float32)
        np.add.at(self.ring, pos, weight)

    def _sample(self, now: int) -> None:
        for (gi, variable, interval), neurons in self.probes.items():
            if now % interval == 0:
                self._samples[(gi, variable, interval)].append(
                    self.groups[gi].state[variable][neurons].copy())

    def _count(self) -> None:
        """Fold the spikes sent since the last count into the per-neuron totals and the cost
        model's per-step, per-core activity (packets sent, synaptic events, MACs)."""
        n_steps = self.step - self._counted
        if n_steps <= 0:
            return
        events: dict[str, tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
        if self._sent:
            sent = np.concatenate(self._sent)
            sizes = [s.size for s in self._sent]
            step = np.repeat(np.asarray(self._sent_steps, np.int64) - self._counted - 1, sizes)
            self._record_spikes(sent, step + self._counted + 1, sizes)
            self._spike_count += np.bincount(sent, minlength=self.n_neurons)
            events["packets_sent"] = (step, self.core_of[sent], np.ones(sent.size, np.int64))
            row, col, data = _rows_of(*self._fan_rows, sent)  # the synapses of packet row
            events["synaptic_events"] = (step[row], col, data)
            graded = self._graded[sent][row]
            if graded.any():
                events["macs"] = (step[row][graded], col[graded], data[graded])
            self._sent, self._sent_steps, self._sent_values = [], [], {}
        self._activity.record_steps(n_steps, events)
        self._counted = self.step

    def _record_spikes(self, sent: np.ndarray, step: np.ndarray, sizes: list[int]) -> None:
        """Keep the recorded ones among the packets ``sent`` at ``step`` (one array per step
        in ``self._sent``, of ``sizes``), with their payloads where a step was graded."""
        recorded = self.record_spikes[sent]
        if not recorded.any():
            return
        self._spikes.append((step[recorded], sent[recorded]))
        if not self._sent_values:
            return
        graded = np.repeat([i in self._sent_values for i in range(len(sizes))], sizes)
        if (graded & recorded).any():
            values = np.concatenate([self._sent_values.get(i, np.ones(size, np.float32))
                                     for i, size in enumerate(sizes)])
            self._spike_values[len(self._spikes) - 1] = values[recorded]

    @property
    def activity(self) -> ActivityRecorder:
        """Per-step work of every core since the last reset, for the cost model."""
        self._count()
        return self._activity

    @property
    def counters(self) -> Counters:
        """Work done since the last reset, per core (counted in bulk: the step loop only
        keeps the arrays of spikes it sent)."""
        self._count()
        n_cores = len(self.image.cores)
        per_core = self._fan_out.T @ self._spike_count  # synaptic events per target core
        packets = np.bincount(self.core_of, weights=self._spike_count, minlength=n_cores)
        macs = None
        if self._graded.any():
            macs = self._fan_out.T @ np.where(self._graded, self._spike_count, 0)
        return Counters(self._stepped * self._steps_run, packets.astype(np.int64),
                        np.asarray(per_core, np.int64), self._steps_run,
                        None if macs is None else np.asarray(macs, np.int64))

    # -- results -----------------------------------------------------------------------
    def recordings(self) -> list[CoreRecording]:
        """What every core recorded since the last reset, in machine terms."""
        self._count()
        if self._spikes:
            steps = np.concatenate([s for s, _ in self._spikes])
            neurons = np.concatenate([n for _, n in self._spikes])
        else:
            steps = neurons = np.zeros(0, np.int64)
        owner = self.core_of[neurons] if neurons.size else neurons
        values = None
        if self._spike_values:
            values = np.concatenate([self._spike_values.get(k, np.ones(n.size, np.float32))
                                     for k, (_, n) in enumerate(self._spikes)])
        out = []
        for i, core in enumerate(self.image.cores):
            mine = owner == i
            signals = {}
            gi = next(k for k, g in enumerate(self.groups) if i in g.cores)
            g = self.groups[gi]
            lo, hi = self.offsets[i] - g.lo, self.offsets[i] - g.lo + core.n_neurons
            for (pgi, variable, interval), probe in self.probes.items():
                cols = np.flatnonzero((probe >= lo) & (probe < hi))
                if pgi != gi or cols.size == 0:
                    continue
                samples = self._samples[(pgi, variable, interval)]
                data = (np.vstack(samples)[:, cols] if samples
                        else np.zeros((0, cols.size), np.float32))
                signals[variable] = Signal(interval, probe[cols] - lo, data)
            out.append(CoreRecording(steps[mine].astype(np.uint32),
                                     (neurons[mine] - self.offsets[i]).astype(np.uint32),
                                     signals, None if values is None else values[mine]))
        return out


def _sampled(neurons: np.ndarray, size: int
             ) -> tuple[slice | np.ndarray | None, np.ndarray | None]:
    """How a probe of ``neurons`` (of a group of ``size``) samples a step: (what it reads:
    None for the whole group, a slice or the neurons; columns kept at the end or None). A
    slice where the neurons are a range, or nearly (then the few unrecorded ones in between
    are dropped after the block): copying a slice costs less than gathering."""
    if neurons.size == 0:
        return neurons, None
    lo, hi = int(neurons.min()), int(neurons.max()) + 1
    if hi - lo == neurons.size and np.all(np.diff(neurons) == 1):
        return (None if (lo, hi) == (0, size) else slice(lo, hi)), None
    if hi - lo <= 2 * neurons.size + 16:
        return slice(lo, hi), neurons - lo
    return neurons, None


def _rows_of(indptr: np.ndarray, col: np.ndarray, data: np.ndarray, rows: np.ndarray
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """The entries of rows ``rows`` of the CSR matrix (``data``, ``col``, ``indptr``), as
    (position in ``rows``, column, value): scipy's ``matrix[rows].tocoo()`` without its
    fixed cost (a few hundred microseconds, paid after every block of steps)."""
    starts = indptr[rows]
    lengths = indptr[rows + 1] - starts
    total = int(lengths.sum())
    row = np.repeat(np.arange(rows.size), lengths)
    idx = np.arange(total) + np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return row, col[idx], data[idx]


def _merge_sources(sources: list[tuple], n: int) -> tuple:
    """The spikes of every source group in ``n`` steps as one sequence: (pointers, neurons,
    payloads, graded), step ``k`` sending ``neurons[ptr[k]:ptr[k + 1]]`` (groups in order,
    as they would be sent one after the other), ``ptr`` a list (a step reads two Python
    ints); payloads (1 for plain spikes) and graded (per step, whether any of its events
    carries a value) are None without graded sources, and all four without sources."""
    if not sources:
        return None, None, None, None
    if len(sources) == 1 and sources[0][2] is None:
        ptr, neurons, _ = sources[0]
        return np.asarray(ptr).tolist(), neurons, None, None
    step = np.concatenate([np.repeat(np.arange(n), np.diff(ptr)) for ptr, _, _ in sources])
    order = np.argsort(step, kind="stable")
    neurons = np.concatenate([s[1] for s in sources])[order]
    ptr = np.concatenate(([0], np.cumsum(np.bincount(step, minlength=n))))
    if all(s[2] is None for s in sources):
        return ptr.tolist(), neurons, None, None
    values = np.concatenate([np.ones(s[1].size, np.float32) if s[2] is None
                             else np.asarray(s[2], np.float32) for s in sources])[order]
    graded = np.concatenate([np.full(s[1].size, s[2] is not None) for s in sources])[order]
    per_step_graded = np.bincount(step[order][graded], minlength=n) > 0
    return ptr.tolist(), neurons, values, per_step_graded.tolist()


def _payloads(fired: list[np.ndarray], payloads: list[np.ndarray | None]
              ) -> np.ndarray | None:
    """One float32 payload per packet of this step (graded values where a kernel or source
    gave them, 1 for plain spikes), or None when no packet of the step is graded."""
    if all(p is None for p in payloads):
        return None
    return np.concatenate([np.ones(f.size, np.float32) if p is None
                           else np.asarray(p, np.float32) for f, p in zip(fired, payloads,
                                                                           strict=True)])


def _parallel(cores: tuple, region: str, syn_all: list[np.ndarray], idx: np.ndarray,
              default: object) -> np.ndarray:
    """Region ``region`` of every core, parallel to its synapses, at global synapse
    positions ``idx`` (``default`` where a core's region is empty)."""
    parts = [c.dram.get(region) for c in cores]
    dtype = next((p.dtype for p in parts if p is not None and p.size),
                 np.asarray(default).dtype)
    if all(p is None or p.size == 0 for p in parts):
        return np.full(idx.size, default, dtype)
    padded = [p if p is not None and p.size else np.full(y.size, default, dtype)
              for p, y in zip(parts, syn_all, strict=True)]
    return np.concatenate(padded)[idx]


def _joined(regions: list[np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """The regions of every core as one array, and where each starts in it. Regions that are
    consecutive slices of one buffer (as the image builder lays them out) are used in place;
    otherwise they are copied together."""
    starts = np.concatenate(([0], np.cumsum([r.size for r in regions]))).astype(np.int64)
    base = regions[0].base if regions else None
    if base is not None and isinstance(base, np.ndarray) and base.dtype == regions[0].dtype \
            and base.ndim == 1 and all(r.base is base and r.flags.c_contiguous
                                       for r in regions):
        origin = base.__array_interface__["data"][0]
        item = base.dtype.itemsize
        where = np.array([(r.__array_interface__["data"][0] - origin) // item
                          for r in regions], np.int64)
        if np.array_equal(where, starts[:-1]) or regions[0].size == 0:
            return base, where
    if not regions:
        return np.zeros(0), starts
    return np.concatenate(regions), starts


def _group(keys: np.ndarray, n_keys: int) -> np.ndarray:
    """Stable grouping permutation of integer ``keys`` in [0, n_keys): a counting sort
    (scipy's sparse transpose)."""
    import scipy.sparse as sp

    n = keys.size
    index = np.int32 if max(n, n_keys) < 2**31 - 1 else np.int64
    matrix = sp.csr_matrix((np.arange(n, dtype=index), keys.astype(index),
                            np.arange(n + 1, dtype=index)), shape=(n, max(n_keys, 1)))
    return matrix.tocsc().data.astype(np.int64)


def _concat_fields(regions: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Structured regions of several cores -> one contiguous array per field."""
    names = regions[0].dtype.names or ()
    return {name: np.ascontiguousarray(np.concatenate([r[name] for r in regions]))
            for name in names}
