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

from ...errors import ImageError
from ...image.model import (
    DYNAMICS_DTYPE,
    PLASTICITY_DTYPE,
    MachineImage,
    decode_control,
)
from ..raw import CoreRecording, Signal
from .inputs import counter_uniform, current_values, per_step, poisson_spikes
from .kernels import NEURON_KERNELS
from .plasticity import PairSTDP
from .router import Router

SOURCE_KERNELS = ("spike_source_array", "spike_source_poisson")
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


@dataclass
class Counters:
    """Work done since the last reset, per core."""

    neuron_updates: np.ndarray
    packets_sent: np.ndarray
    synaptic_events: np.ndarray
    steps: int = 0


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
        self._load_synapses(image)
        self._load_currents(image)
        self._load_recording(image)
        self._prepare_steps()

    def _prepare_steps(self) -> None:
        """Derived arrays the step loop reads (not part of the image)."""
        self._slot_size = self.n_receptors * self.n_neurons
        self.syn_ring_offset = self.syn_delay * self._slot_size + self.syn_slot
        self.any_dynamic = bool(self.syn_dynamic.any())
        self._i_inj = np.zeros(self.n_neurons, np.float32)
        if self.n_current_sources:
            self.cs_targets, self.cs_target_of = np.unique(self.cs_neuron, return_inverse=True)
        # Steps planned at once: what the sources generate for them stays below ~1M values.
        width = sum(g.hi - g.lo for g in self.groups if g.kernel == "spike_source_poisson")
        width += self.n_current_sources + (self.cs_targets.size if self.n_current_sources else 0)
        self._block_steps = int(np.clip((1 << 20) // max(width, 1), 16, 4096))

    def _load_synapses(self, image: MachineImage) -> None:
        """Per source neuron, every synapse its packets reach, as flat CSR arrays."""
        router = Router(image)
        where = {(c.chip, c.pe): i for i, c in enumerate(image.cores)}
        src_l, tgt_l, delay_l, rec_l, w_l, dyn_l, pl_l = [], [], [], [], [], [], []
        for s, core in enumerate(image.cores):
            if core.n_neurons == 0:
                continue
            router.check_block(core.key, core.mask)
            for chip_pe in router.deliver(core.key, core.chip):
                d = where.get(chip_pe)
                if d is None:
                    raise ImageError(f"key {core.key:#010x} is routed to {chip_pe}, where no "
                                     f"core is loaded")
                target = image.cores[d]
                mpt = target.sram["master_pop_table"]
                hit = np.flatnonzero((core.key & mpt["mask"]) == mpt["key"])
                if hit.size == 0:
                    continue  # a packet with no synaptic row is dropped, as on the chip
                entry = mpt[hit[0]]
                rows = target.dram["row_index"][entry["row_start"]:
                                                entry["row_start"] + entry["n_rows"]]
                lengths = rows["length"].astype(np.int64)
                total = int(lengths.sum())
                if total == 0:
                    continue
                first = np.repeat(rows["start"].astype(np.int64), lengths)
                within = np.arange(total) - np.repeat(np.cumsum(lengths) - lengths, lengths)
                syn = target.dram["synapses"][first + within]
                tgt, rec, delay, dynamic = decode_control(syn["control"])
                params = target.dram.get("synapse_dynamics")
                dyn = (params[first + within] if params is not None and params.size
                       else np.zeros(total, DYNAMICS_DTYPE))
                dyn_l.append((dynamic, dyn))
                plastic = target.dram.get("synapse_plasticity")
                release = target.dram.get("synapse_release")
                pl_l.append((plastic[first + within] if plastic is not None and plastic.size
                             else np.zeros(total, PLASTICITY_DTYPE), np.full(total, d),
                             first + within,
                             release[first + within] if release is not None and release.size
                             else np.ones(total, np.float32)))
                src_l.append(np.repeat(np.arange(rows.size), lengths) + self.offsets[s])
                tgt_l.append(tgt.astype(np.int64) + self.offsets[d])
                delay_l.append(delay.astype(np.int64))
                rec_l.append(rec.astype(np.int64))
                w_l.append(syn["weight"])
        if src_l:
            src = np.concatenate(src_l)
            order = np.argsort(src, kind="stable")
            delay = np.concatenate(delay_l)[order]
            if delay.size and (delay.min() < 1 or delay.max() >= self.ring_slots):
                raise ImageError(f"synaptic delays {delay.min()}..{delay.max()} steps do not "
                                 f"fit input rings of {self.ring_slots} slots")
            self.syn_delay = delay
            self.syn_slot = (np.concatenate(rec_l)[order] * self.n_neurons
                             + np.concatenate(tgt_l)[order])
            self.syn_weight = np.concatenate(w_l)[order].astype(np.float32)
            self.syn_core = self.core_of[np.concatenate(tgt_l)[order]]
            self._load_dynamics(np.concatenate([d[0] for d in dyn_l])[order],
                                np.concatenate([d[1] for d in dyn_l])[order])
            records, core, position, release = (np.concatenate([p[k] for p in pl_l])[order]
                                                for k in range(4))
            self._load_plasticity(image, records, core, position)
            self._load_release(image, release, core, position)
            counts = np.bincount(src, minlength=self.n_neurons)
        else:
            self.syn_delay = self.syn_slot = np.zeros(0, np.int64)
            self.syn_weight = np.zeros(0, np.float32)
            self.syn_core = np.zeros(0, np.int64)
            self._load_dynamics(np.zeros(0, bool), np.zeros(0, DYNAMICS_DTYPE))
            self._load_plasticity(image, np.zeros(0, PLASTICITY_DTYPE),
                                  np.zeros(0, np.int64), np.zeros(0, np.int64))
            self._load_release(image, np.ones(0, np.float32), np.zeros(0, np.int64),
                               np.zeros(0, np.int64))
            counts = np.zeros(self.n_neurons, np.int64)
        self.syn_ptr = np.concatenate(([0], np.cumsum(counts)))

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
        self.tm = {name: params[name].astype(np.float64) for name in DYNAMICS_DTYPE.names}
        old = getattr(self, "tm_state", None)
        if old is None or old["u"].size != dynamic.size:
            self._reset_dynamics()

    def _reset_dynamics(self) -> None:
        n = self.syn_dynamic.size
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
            if g.kernel == "spike_source_poisson" and g.rng is None:
                seeds = np.concatenate([self.image.cores[i].sram["rng_seed"] for i in g.cores])
                g.rng = np.random.default_rng(np.random.SeedSequence(seeds.tolist()))
        self._reset_dynamics()
        if self.plastic is not None:
            # Learnt weights go back to the image's.
            self.syn_weight[self.plastic.syn] = self.plastic_image_weight
            self.plastic.reset(self.plastic_image_weight)
        self._spike_count = np.zeros(self.n_neurons, np.int64)
        self._sent: list[np.ndarray] = []
        self._steps_run = 0
        self._spikes: list[tuple[np.ndarray, np.ndarray]] = []
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
        done = 0
        self._bind()
        while done < n_steps:
            block = min(self._block_steps, n_steps - done)
            plan = self._plan(self.step + 1, block)
            step = self._step
            for k in range(block):
                step(plan, k)
                if progress is not None and ((done + k + 1) % every == 0
                                             or done + k + 1 == n_steps):
                    progress(done + k + 1, n_steps)
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
        self._kernels = [(j, NEURON_KERNELS[g.kernel], g.params, g.state, self._i_inj[g.lo:g.hi],
                          g.lo) for j, g in enumerate(self.groups)
                         if g.kernel not in SOURCE_KERNELS]
        self._sources = [j for j, g in enumerate(self.groups) if g.kernel in SOURCE_KERNELS]
        self._probe_list = [(interval, self._samples[key], self.groups[gi].state, variable,
                             neurons)
                            for key, neurons in self.probes.items()
                            for gi, variable, interval in [key]]

    def _plan(self, first: int, n: int) -> list:
        """What the cores generate themselves in steps first .. first + n - 1: per source
        group its spikes (pointers, neurons); the injected currents per target neuron."""
        sources = []
        for j in self._sources:
            g = self.groups[j]
            if g.kernel == "spike_source_array":
                sources.append(per_step(*g.schedule, first, n))
            else:
                sources.append(poisson_spikes(g.rng, g.params, g.lo, first, n))
        currents = None
        if self.n_current_sources:
            # The current of the step that starts at ``step`` = the one ending at step + 1.
            values = current_values(self.cs, self.cs_sched, np.arange(first - 1, first + n - 1),
                                    self.dt)
            currents = np.zeros((n, self.cs_targets.size), np.float32)
            np.add.at(currents.T, self.cs_target_of, values[:, self.cs_source].T)
        return [sources, currents]

    def _step(self, plan: list, k: int) -> None:
        now = self.step + 1
        inputs, group_inputs = self._slot_views[now % self.ring_slots]
        sources, currents = plan
        fired = []
        for ptr, neurons in sources:
            if ptr[k + 1] > ptr[k]:
                fired.append(neurons[ptr[k]:ptr[k + 1]])
        if currents is not None:
            self._i_inj[self.cs_targets] = currents[k]
        for j, kernel, params, state, i_inj, lo in self._kernels:
            spiked = kernel(params, state, group_inputs[j],
                            None if currents is None else i_inj).nonzero()[0]
            if spiked.size:
                fired.append(spiked + lo if lo else spiked)
        inputs.fill(0.0)
        spikes = (fired[0] if len(fired) == 1 else np.concatenate(fired) if fired
                  else _NO_SPIKES)
        self.step = now
        if self.plastic is not None:
            self.plastic.post_spikes(spikes, now)
        if spikes.size:
            self._deliver(spikes, now)
            self._sent.append(spikes)
            rec = spikes[self.record_spikes[spikes]]
            if rec.size:
                self._spikes.append((np.full(rec.size, now, np.int64), rec))
        for interval, samples, state, variable, neurons in self._probe_list:
            if interval == 1 or now % interval == 0:
                samples.append(state[variable][neurons])
        self._steps_run += 1

    def _deliver(self, spikes: np.ndarray, now: int) -> None:
        """Add each spike's synaptic row into its targets' ring slots ``now + delay``."""
        starts, ends = self.syn_ptr[spikes], self.syn_ptr[spikes + 1]
        lengths = ends - starts
        total = int(lengths.sum())
        if total == 0:
            return
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
        if self.syn_release is not None:
            # The target core draws, per synapse and step, whether the spike gets through.
            draw = counter_uniform(self.syn_seed[idx], self.syn_position[idx], now)
            weight = np.where(draw < self.syn_release[idx], weight, np.float32(0.0))
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

    @property
    def counters(self) -> Counters:
        """Work done since the last reset, per core (spike counts are folded in on demand,
        so the step loop only keeps the arrays of spikes it sent)."""
        if self._sent:
            sent = np.concatenate(self._sent)
            self._spike_count += np.bincount(sent, minlength=self.n_neurons)
            self._sent = []
        n_cores = len(self.image.cores)
        packets = np.bincount(self.core_of, weights=self._spike_count, minlength=n_cores)
        per_synapse = np.repeat(self._spike_count, np.diff(self.syn_ptr))
        events = np.bincount(self.syn_core, weights=per_synapse, minlength=n_cores)
        stepped = np.array([0 if c.kernel in SOURCE_KERNELS else c.n_neurons
                            for c in self.image.cores], np.int64) * self._steps_run
        return Counters(stepped, packets.astype(np.int64), events.astype(np.int64),
                        self._steps_run)

    # -- results -----------------------------------------------------------------------
    def recordings(self) -> list[CoreRecording]:
        """What every core recorded since the last reset, in machine terms."""
        if self._spikes:
            steps = np.concatenate([s for s, _ in self._spikes])
            neurons = np.concatenate([n for _, n in self._spikes])
        else:
            steps = neurons = np.zeros(0, np.int64)
        owner = self.core_of[neurons] if neurons.size else neurons
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
                                     signals))
        return out


def _concat_fields(regions: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Structured regions of several cores -> one contiguous array per field."""
    names = regions[0].dtype.names or ()
    return {name: np.ascontiguousarray(np.concatenate([r[name] for r in regions]))
            for name in names}
