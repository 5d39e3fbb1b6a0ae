"""The emulator: steps every core of a MachineImage in lock-step, one time step at a time.

Per step, each core updates its neurons from the inputs that arrive in this step (the slot of
its input ring buffer), sends one multicast packet per spike (a graded event's packet carries
its value as payload), and the packets reach the cores the router tables deliver them to;
there each packet's synaptic row (found through the core's master population table) adds its
weights (times the payload) into the ring-buffer slot ``now + delay``.

Cores running the same kernel are stepped together (their regions concatenated, see
:mod:`.layout`), so the Python loop runs over time steps only; what the cores generate
themselves (spike sources, injected currents) is planned for a block of steps at once
(:mod:`.plan`). Routes are resolved once per key block at load, by walking the compiled
router tables (:mod:`pynn_spinnaker2.backends.emulator.synapses`, :mod:`.router`); what a
spike does to a synapse beyond its stored weight is :mod:`.synaptic_state`. Probes sample
into one array per block (:mod:`.probes`), and work is counted per core and step in bulk
after each block (:mod:`.counters`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ...errors import ImageError
from ...image.machine_image import MachineImage
from ..raw import ActivityRecorder, CoreRecording
from .compiled import bind_compiled, neuron_kernel, resolve
from .counters import Counters, WorkCounter
from .layout import (
    Group,
    Layout,
    draws_random,
    is_source_kernel,
    lay_out,
    load_groups,
    reset_groups,
    structure,
)
from .plan import CurrentSources, Plan, payloads, plan_block
from .probes import Recorder, close_samplers, open_samplers
from .reload import write_changed_state
from .synapses import Synapses, index_type, load_synapses
from .synaptic_state import load_synaptic_state

_NO_SPIKES = np.zeros(0, np.int64)


def _decoded(name: str) -> property:
    """The loaded synapses' array ``name`` (see :class:`~.synapses.Synapses`) as a read-only
    attribute of the emulator, under the ``syn_`` names it had before the split."""
    return property(lambda self: getattr(self.syn, name),
                    doc=f"The loaded synapses' ``{name}`` (:class:`~.synapses.Synapses`).")


class Emulator:
    """Runs a :class:`~pynn_spinnaker2.image.MachineImage`.

    Parameters
    ----------
    image
        The image to execute.
    kernels
        ``"numba"`` or ``"numpy"`` (None: :func:`.compiled.resolve`); may change between runs.
    """

    #: Set by a distributed run (:mod:`.distributed`): takes each step's spikes of this
    #: process and sends the spikes of all processes at the end of each window.
    exchange = None
    _fast_deliver = None  # the compiled delivery of a run (see compiled.bind_compiled)

    def __init__(self, image: MachineImage, kernels: str | None = None) -> None:
        self.image, self.kernels = image, resolve(kernels)
        layout = self.layout = self._lay_out(image)
        self.groups, self.offsets, self.n_neurons = layout.groups, layout.offsets, layout.n_neurons
        self.core_of, self.ring_slots = layout.core_of, layout.ring_slots
        self.n_receptors = layout.n_receptors
        self.synaptic = None  # no state to hand on to the first load
        self._load(image)
        self.reset()

    def _load(self, image: MachineImage) -> None:
        """Read parameters, synapses, their state, sources and recording set-up from the
        image; keep the short-term and quantal synaptic state where it still fits."""
        self.image, self.dt = image, image.timestep
        load_groups(image, self.layout)
        self.syn, idx, base = load_synapses(image, self.layout)
        self.syn, idx = self._delivered(self.syn, idx)
        self.synaptic = load_synaptic_state(image, self.layout, self.syn, idx, base,
                                            self.synaptic)
        del idx, base  # a word per synapse: not kept
        self.currents = CurrentSources(image, self.offsets)
        self.recorder = Recorder(image, self.layout)
        self.work = WorkCounter(image, self.layout, self.syn.fan_out)
        # Derived arrays the step loop reads (not part of the image).
        syn = self.syn
        self._slot_size = self.n_receptors * self.n_neurons
        # Place of each synapse's input relative to the current slot: delay x slot size +
        # slot, in the narrowest type that holds a ring position (memory per synapse).
        ring_index = index_type(self.ring_slots * self._slot_size)
        self.syn_ring_offset = syn.delay.astype(ring_index)
        self.syn_ring_offset *= ring_index.type(self._slot_size)
        self.syn_ring_offset += syn.slot
        self._max_delay = int(syn.delay.max()) if syn.delay.size else 0
        self._static_rows = self.synaptic.plastic is None and not self.synaptic.gates
        self._i_inj = np.zeros(self.n_neurons, np.float32)
        # Steps planned at once: what the sources generate for them stays below ~1M values.
        width = sum(g.hi - g.lo for g in self.groups if draws_random(g.kernel))
        width += self.currents.n + self.currents.targets.size
        self._block_steps = int(np.clip((1 << 20) // max(width, 1), 16, 4096))

    def _lay_out(self, image: MachineImage) -> Layout:
        """The kernel groups of ``image`` (a distributed run splits them by process)."""
        return lay_out(image)

    def _delivered(self, syn: Synapses, idx: np.ndarray) -> tuple[Synapses, np.ndarray]:
        """The synapses this process delivers into, and their ``idx`` (all of them; a
        distributed run keeps those of its own target cores)."""
        return syn, idx

    def _updates(self, group: Group) -> bool:
        """Whether this process steps the neurons of ``group`` (all; a distributed run
        steps those of its own cores)."""
        return True

    syn_ptr = _decoded("ptr")
    syn_delay = _decoded("delay")
    syn_slot = _decoded("slot")
    syn_weight = _decoded("weight")
    syn_core = _decoded("core")
    syn_dynamic = _decoded("dynamic")

    @property
    def probes(self) -> dict[tuple[int, str, int], np.ndarray]:
        """(group, variable, interval) -> the sampled neurons of the group."""
        return self.recorder.probes

    @property
    def _samples(self) -> dict[tuple[int, str, int], list[np.ndarray]]:
        return self.recorder.samples

    def same_layout(self, image: MachineImage) -> bool:
        """True when ``image`` places the same cores, so :meth:`reload` can take it."""
        return structure(image) == structure(self.image)

    # -- control -----------------------------------------------------------------------
    def reset(self) -> None:
        """Back to step 0: state from the image, empty rings, no recordings."""
        self.step = 0
        self.ring = np.zeros(self.ring_slots * self._slot_size, np.float32)
        reset_groups(self.image, self.groups)
        self.synaptic.reset(self.syn.weight)
        self.work.reset()
        self._dirty_until = 0  # no ring slot after this step's has had a packet written
        self.recorder.reset(self.groups)

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
        old_image, old_recorder, old_work = self.image, self.recorder, self.work
        old_plastic = self.synaptic.plastic
        old_weight = None if old_plastic is None else self.syn.weight[old_plastic.syn]
        self._load(image)
        write_changed_state(self.groups, self.offsets, old_image, image)
        self.synaptic.keep_learning(old_plastic, old_weight, self.syn.weight)
        if self.step == 0:
            self.reset()  # nothing has run: the initial state comes from the new image
            return
        self.work.continue_from(old_work)
        self.recorder.continue_from(old_recorder, self.step, self.groups)

    def read_weights(self, core: np.ndarray, position: np.ndarray) -> np.ndarray:
        """The weight words of the synapses at (core, position) now, as the host reads
        them back from the cores' ``synapses`` regions (plastic ones change as they learn).
        """
        return self.synaptic.read_weights(self.image, self.syn.weight, core, position)

    def source_values(self, step: int) -> np.ndarray:
        """Current (nA) of every current-source row during the step that starts at ``step``.

        A pure function of the step, as the core computes it: the last schedule change at or
        before the step, a sine of the time since start, or counter-based Gaussian noise.
        """
        return self.currents.values(np.array([step]))[0]

    def current_trace(self, n_steps: int) -> dict[int, np.ndarray]:
        """Source id -> its current at steps 0 .. n_steps - 1 (what recording it shows)."""
        return self.currents.trace(n_steps)

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
            plan = plan_block(self._source_groups, self.currents, self.step + 1, block,
                              self._poisson)
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
                self.work.steps_run += self.step - start
                self._count()
            done += block

    # -- results -----------------------------------------------------------------------
    def _count(self) -> None:
        """Fold the spikes sent since the last count into the work counters and the spike
        recording."""
        sent = self.work.fold(self.step)
        if sent is not None:
            self.recorder.keep_spikes(sent)

    @property
    def activity(self) -> ActivityRecorder:
        """Per-step work of every core since the last reset, for the cost model."""
        self._count()
        return self.work.activity

    @property
    def counters(self) -> Counters:
        """Work done since the last reset, per core (counted in bulk: the step loop only
        keeps the arrays of spikes it sent)."""
        self._count()
        return self.work.counters()

    def recordings(self) -> list[CoreRecording]:
        """What every core recorded since the last reset, in machine terms."""
        self._count()
        return self.recorder.recordings(self.image, self.layout)

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
        currents = self.currents.n > 0
        mode = self.kernels = bind_compiled(self, resolve(self.kernels))
        self._kernels = [(j, neuron_kernel(g.kernel, mode), g.params, g.state,
                          self._i_inj[g.lo:g.hi] if currents else None, g.lo)
                         for j, g in enumerate(self.groups)
                         if not is_source_kernel(g.kernel) and self._updates(g)]
        self._source_groups = [g for g in self.groups if is_source_kernel(g.kernel)]
        self._probe_list = self.recorder.bind(self.groups)

    def _steps(self, plan: Plan, lo: int, hi: int) -> None:
        """Steps ``lo`` .. ``hi - 1`` of a planned block. Each probe's samples of these steps
        go into one array, made here and kept at the end (also after an error: the steps
        run so far)."""
        samplers = open_samplers(self._probe_list, self.step, hi - lo)
        self._sampled_to = self.step
        try:
            self._run_steps(plan, lo, hi, samplers)
        finally:
            close_samplers(samplers, self._sampled_to)

    def _run_steps(self, plan: Plan, lo: int, hi: int, samplers: list) -> None:
        """The steps themselves, each as the module docstring says: sources and kernels
        fire, the inputs of the step are used up, packets are delivered, probes sample.
        What a step reads is bound once here."""
        ptr, source_neurons, source_values, graded_steps, currents = plan
        slot_views, n_slots, kernels = self._slot_views, self.ring_slots, self._kernels
        plastic, deliver = self.synaptic.plastic, self._deliver
        exchange = self.exchange
        if exchange is not None:  # the exchange sends (and learns) at its window's end
            plastic = None
        work = self.work
        sent, sent_steps, sent_values = work.sent, work.sent_steps, work.sent_values
        i_inj = self._i_inj
        targets = self.currents.targets if currents is not None else None
        now = self.step
        for k in range(lo, hi):
            now += 1
            inputs, group_inputs = slot_views[now % n_slots]
            fired, values = [], []
            graded = False
            if ptr is not None:  # the sources' spikes of this step, planned
                a, b = ptr[k], ptr[k + 1]
                if b > a:
                    fired.append(source_neurons[a:b])
                    if graded_steps is not None and graded_steps[k]:
                        graded = True
                        values.append(source_values[a:b])
                    else:
                        values.append(None)
            planned = len(fired)
            if currents is not None:
                i_inj[targets] = currents[k]
            for j, kernel, params, state, group_i_inj, offset in kernels:  # neurons update
                result = kernel(params, state, group_inputs[j], group_i_inj)
                if isinstance(result, tuple):  # graded events: (fired, value per neuron)
                    spiked = result[0].nonzero()[0]
                    if spiked.size:
                        fired.append(spiked + offset if offset else spiked)
                        values.append(result[1][spiked])
                        graded = True
                else:
                    spiked = result.nonzero()[0]
                    if spiked.size:
                        fired.append(spiked + offset if offset else spiked)
                        values.append(None)
            if now <= self._dirty_until:  # else no packet has been written into this slot
                inputs.fill(0.0)  # the step's inputs are used up
            self.step = now
            if exchange is not None:
                exchange.keep(now, fired, values, planned)
                fired = []
            spikes = (_NO_SPIKES if not fired else fired[0] if len(fired) == 1
                      else np.concatenate(fired))
            if plastic is not None:
                plastic.post_spikes(spikes, now)
            if fired:  # one packet per spike, delivered through the router's routes
                payload = payloads(fired, values) if graded else None
                deliver(spikes, now, payload)
                if payload is not None:
                    sent_values[len(sent)] = payload
                sent.append(spikes)
                sent_steps.append(now)
            for interval, first, buffer, state, variable, where, _, _ in samplers:
                if interval == 1 or now % interval == 0:  # probes sample
                    buffer[now // interval - first] = (state[variable] if where is None
                                                       else state[variable][where])
            self._sampled_to = now

    def _deliver(self, spikes: np.ndarray, now: int, payload: np.ndarray | None = None
                 ) -> None:
        """Add each spike's synaptic row into its targets' ring slots ``now + delay``; with
        ``payload`` (one float32 per packet, graded events), each weight times its packet's
        payload."""
        if self._fast_deliver is not None and self._fast_deliver(self, spikes, now, payload):
            return
        syn = self.syn
        if spikes.size == 1 and self._static_rows:
            # One packet through static synapses (what most sending steps of a small
            # network deliver): its row is a slice of the synapse arrays, no index array.
            neuron = int(spikes[0])
            a, b = int(syn.ptr[neuron]), int(syn.ptr[neuron + 1])
            if a == b:
                return
            self._dirty_until = max(self._dirty_until, now + self._max_delay)
            pos = self.syn_ring_offset[a:b] + (now % self.ring_slots) * self._slot_size
            pos[pos >= self.ring.size] -= self.ring.size
            weight = syn.weight[a:b]
            np.add.at(self.ring, pos, weight if payload is None else weight * payload[0])
            return
        starts, ends = syn.ptr[spikes], syn.ptr[spikes + 1]
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
        weight = syn.weight[idx]
        state = self.synaptic
        if state.plastic is not None:
            state.learn(idx, weight, syn.weight, now)
        if payload is not None:  # the stored (learnt) weight is kept; its effect is scaled
            weight = weight * (np.repeat(payload, lengths) if spikes.size > 1 else payload[0])
        if state.gates:
            weight = state.transmit(idx, weight, now)
        np.add.at(self.ring, pos, weight)
