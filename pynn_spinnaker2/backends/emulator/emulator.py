"""The emulator: steps every core of a MachineImage in lock-step, one time step at a time.

Per step, each core updates its neurons from the inputs that arrive in this step (the slot of
its input ring buffer), sends one multicast packet per spike, and the packets reach the cores
the router tables deliver them to; there each packet's synaptic row (found through the core's
master population table) adds its weights into the ring-buffer slot ``now + delay``.

Cores running the same kernel are stepped together (their regions concatenated), so the
Python loop runs over time steps only. Routes are resolved once per key block at load, by
walking the compiled router tables (see :mod:`.router`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from ...cost.recorder import ActivityRecorder
from ...errors import ImageError
from ...image.model import (
    CURRENT_KINDS,
    DELAY_SHIFT,
    DYNAMIC_SHIFT,
    DYNAMICS_DTYPE,
    RECEPTOR_SHIFT,
    MachineImage,
)
from ..raw import CoreRecording, Signal
from .kernels import NEURON_KERNELS
from .router import Router

SOURCE_KERNELS = ("spike_source_array", "spike_source_poisson", "graded_source_array")
#: Synapses decoded per block at load (16 MB of temporaries at most).
LOAD_BLOCK = 1 << 21


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

    def _load_graded_schedule(self, g: Group, cores: tuple) -> None:
        """Graded sources: (step, neuron, value) events of every core, sorted by step."""
        sched = [cores[i].dram["event_schedule"] for i in g.cores]
        steps = np.concatenate([s["step"].astype(np.int64) for s in sched])
        neurons = np.concatenate([s["neuron"].astype(np.int64) + self.offsets[i]
                                  for s, i in zip(sched, g.cores, strict=True)])
        values = np.concatenate([s["value"] for s in sched]).astype(np.float32)
        order = np.argsort(steps, kind="stable")
        g.schedule, g.values = (steps[order], neurons[order]), values[order]

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
        del idx
        self._load_dynamics(dynamic, params)
        counts = np.bincount(src_neuron, weights=lengths, minlength=self.n_neurons)
        self.syn_ptr = np.concatenate(([0], np.cumsum(counts.astype(np.int64))))

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
        cs = self.cs
        value = np.zeros(cs.size, dtype=np.float32)
        rows, steps, amps = self.cs_sched
        if rows.size:
            upto = (steps <= step)
            if upto.any():
                # The last applicable change of each row (rows sorted, then steps).
                r, a = rows[upto], amps[upto]
                last = np.flatnonzero(np.r_[r[1:] != r[:-1], True])
                value[r[last]] = a[last]
        active = (cs["start_step"] <= step) & (step < cs["stop_step"])
        kind = cs["kind"]
        for j in np.flatnonzero(kind != CURRENT_KINDS["schedule"]):
            if not active[j]:
                value[j] = 0.0
            elif kind[j] == CURRENT_KINDS["sine"]:
                t = np.float32((step - cs["start_step"][j]) * self.dt)
                value[j] = cs["offset"][j] + cs["amplitude"][j] * np.sin(
                    np.float32(2 * np.pi) * cs["frequency"][j] * t / np.float32(1000.0)
                    + np.deg2rad(cs["phase"][j]))
            else:
                draw = (step - int(cs["start_step"][j])) // int(cs["noise_steps"][j])
                normal = np.random.default_rng([int(cs["seed"][j]), draw]).standard_normal()
                value[j] = cs["offset"][j] + cs["stdev"][j] * normal
        return value

    def current_trace(self, n_steps: int) -> dict[int, np.ndarray]:
        """Source id -> its current at steps 0 .. n_steps - 1 (what recording it shows)."""
        if not self.n_current_sources:
            return {}
        values = np.array([self.source_values(k) for k in range(n_steps)]).reshape(
            n_steps, self.n_current_sources)
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
            if g.kernel == "spike_source_poisson" and g.rng is None:
                seeds = np.concatenate([self.image.cores[i].sram["rng_seed"] for i in g.cores])
                g.rng = np.random.default_rng(np.random.SeedSequence(seeds.tolist()))
        self._reset_dynamics()
        n_cores = len(self.image.cores)
        self.counters = Counters(np.zeros(n_cores, np.int64), np.zeros(n_cores, np.int64),
                                 np.zeros(n_cores, np.int64))
        self.activity = ActivityRecorder(n_cores)  # per-step counts for the cost model
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
        self._load(image)
        self._write_changed_state(old_image, image)
        if self.step == 0:
            self.reset()  # nothing has run: the initial state comes from the new image
            return
        self._samples = {key: self._carry_samples(key, old_probes.get(key),
                                                  old_samples.get(key, []))
                         for key in self.probes}

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
            grid[:len(old), cols] = np.vstack(old)
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
        for k in range(n_steps):
            self._step()
            if progress is not None and ((k + 1) % every == 0 or k + 1 == n_steps):
                progress(k + 1, n_steps)

    # -- one time step -----------------------------------------------------------------
    def _step(self) -> None:
        now = self.step + 1
        n, r = self.n_neurons, self.n_receptors
        slot = (now % self.ring_slots) * r * n
        inputs = self.ring[slot:slot + r * n].reshape(r, n)
        i_inj = self._currents(self.step) if self.n_current_sources else None
        fired = []
        graded: dict[int, np.ndarray] = {}  # position in fired -> payloads of those events
        for g in self.groups:
            if g.kernel == "spike_source_array":
                steps, neurons = g.schedule
                a, b = np.searchsorted(steps, [now, now + 1])
                fired.append(neurons[a:b])
            elif g.kernel == "graded_source_array":
                steps, neurons = g.schedule
                a, b = np.searchsorted(steps, [now, now + 1])
                graded[len(fired)] = g.values[a:b]
                fired.append(neurons[a:b])
            elif g.kernel == "spike_source_poisson":
                p = g.params
                active = (p["start_step"] <= now) & (now < p["end_step"])
                counts = g.rng.poisson(np.where(active, p["mean_per_step"], 0.0))
                fired.append(np.repeat(np.arange(g.lo, g.hi), counts))
            else:
                sl = slice(g.lo, g.hi)
                spiked = NEURON_KERNELS[g.kernel](
                    g.params, g.state, inputs[:, sl], None if i_inj is None else i_inj[sl])
                if isinstance(spiked, tuple):  # graded events: (fired, value per neuron)
                    spiked, values = spiked
                    graded[len(fired)] = values[np.flatnonzero(spiked)]
                fired.append(np.flatnonzero(spiked) + g.lo)
        inputs[:] = 0.0
        spikes = np.concatenate(fired) if fired else np.zeros(0, np.int64)
        payload = _payloads(fired, graded) if graded else None
        self.step = now
        if spikes.size:
            self._deliver(spikes, now, payload)
            recorded = self.record_spikes[spikes]
            rec = spikes[recorded]
            if rec.size:
                self._spikes.append((np.full(rec.size, now, np.int64), rec))
                if payload is not None:
                    self._spike_values[len(self._spikes) - 1] = payload[recorded]
        self._sample(now)
        self.counters.steps += 1
        self.activity.record(self.counters)

    def _deliver(self, spikes: np.ndarray, now: int, payload: np.ndarray | None = None
                 ) -> None:
        """Add each spike's synaptic row into its targets' ring slots ``now + delay``; with
        ``payload`` (one float32 per packet, graded events), each weight times its packet's
        payload."""
        np.add.at(self.counters.packets_sent, self.core_of[spikes], 1)
        starts, ends = self.syn_ptr[spikes], self.syn_ptr[spikes + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return
        idx = np.repeat(starts - np.cumsum(lengths) + lengths, lengths) + np.arange(total)
        slots = (now + self.syn_delay[idx]) & (self.ring_slots - 1)
        pos = slots * (self.n_receptors * self.n_neurons) + self.syn_slot[idx]
        weight = self.syn_weight[idx]
        if payload is not None:
            weight = weight * np.repeat(payload, lengths)
        dynamic = self.syn_dynamic[idx]
        if dynamic.any():
            weight = weight.astype(np.float64)
            weight[dynamic] *= self._tsodyks_markram(idx[dynamic], now)
        np.add.at(self.ring, pos, weight.astype(np.float32))
        per_core = np.bincount(self.syn_core[idx], minlength=len(self.image.cores))
        self.counters.synaptic_events += per_core
        if payload is not None:
            if self.counters.macs is None:
                self.counters.macs = np.zeros(len(self.image.cores), np.int64)
            self.counters.macs += per_core

    def _currents(self, step: int) -> np.ndarray:
        """Injected current into every neuron during the step that starts at ``step``."""
        value = self.source_values(step)
        return np.bincount(self.cs_neuron, weights=value[self.cs_source],
                           minlength=self.n_neurons).astype(np.float32)

    def _sample(self, now: int) -> None:
        for (gi, variable, interval), neurons in self.probes.items():
            if now % interval == 0:
                self._samples[(gi, variable, interval)].append(
                    self.groups[gi].state[variable][neurons].copy())

    # -- results -----------------------------------------------------------------------
    def recordings(self) -> list[CoreRecording]:
        """What every core recorded since the last reset, in machine terms."""
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


def _payloads(fired: list[np.ndarray], graded: dict[int, np.ndarray]) -> np.ndarray:
    """One float32 payload per packet of this step: the graded values where a kernel or
    source gave them, 1 for plain spikes."""
    return np.concatenate([graded[k].astype(np.float32) if k in graded
                           else np.ones(f.size, np.float32) for k, f in enumerate(fired)])


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
