"""State of the loaded synapses that a spike reads and changes: what decides the weight a
packet adds, beyond the stored one.

- STDP (:mod:`.plasticity`): the stored weight itself learns, updated at each presynaptic
  spike (and kept across reloads, as the cores keep it);
- stochastic release: the target core draws, per synapse and step, whether a spike gets
  through;
- quantal release (:mod:`pynn_spinnaker2.backends.emulator.quantal`): the weight times the
  sites released;
- short-term plasticity (:class:`TsodyksMarkram`): the weight times u x.

Each comes from a region of the image parallel to the cores' synapses, empty where no
synapse of a core uses it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ...image.machine_image import DYNAMICS_DTYPE, PLASTICITY_DTYPE, QUANTAL_DTYPE, MachineImage
from ...synapses.types import region_type
from .inputs import counter_uniform
from .layout import Layout
from .plasticity import PairSTDP
from .quantal import QuantalSites, load_quantal
from .synapses import Synapses, parallel


class TsodyksMarkram:
    """Short-term plasticity of the dynamic synapses (NEST's ``tsodyks_synapse``).

    Parameters
    ----------
    dynamic
        Per loaded synapse, whether it is dynamic.
    params
        Per loaded synapse, its :data:`~pynn_spinnaker2.image.machine_image.DYNAMICS_DTYPE` record.
    dt
        Time step (ms).
    old
        The dynamics before a reload: their state is kept where the synapses are the same
        number.
    """

    def __init__(self, dynamic: np.ndarray, params: np.ndarray, dt: float,
                 old: TsodyksMarkram | None = None) -> None:
        self.any = bool(dynamic.any())
        # Parameters and state of static synapses are never read: none are kept when all
        # are static (loading speed).
        self.size = dynamic.size if self.any else 0
        keep = params if self.any else params[:0]
        self.params = {name: keep[name].astype(np.float64) for name in DYNAMICS_DTYPE.names}
        self.dt = dt
        self.dynamic = dynamic
        # The update of the synapse type whose records fill the region (the registry's).
        self.update = region_type("synapse_dynamics").update
        if old is not None and old.state["u"].size == self.size:
            self.state = old.state
        else:
            self.reset()

    def reset(self) -> None:
        """No earlier spike: the first one finds fully recovered resources (x = 1)."""
        n = self.size
        self.state = {"u": np.zeros(n), "x": np.ones(n), "y": np.zeros(n),
                      "last": np.full(n, -(1 << 40), dtype=np.int64)}

    def scale(self, idx: np.ndarray, weight: np.ndarray, now: int) -> np.ndarray:
        """``weight`` (float32) of synapses ``idx`` fired at ``now``, the dynamic ones times
        their factor u * x (in float64, as NEST computes it)."""
        dynamic = self.dynamic[idx]
        if not dynamic.any():
            return weight
        weight = weight.astype(np.float64)
        weight[dynamic] *= self.factors(idx[dynamic], now)
        return weight.astype(np.float32)

    def factors(self, idx: np.ndarray, now: int) -> np.ndarray:
        """Weight factors u * x of dynamic synapses ``idx`` fired at ``now``, advancing their
        state; a synapse listed twice (several spikes in one step) is updated once per
        spike, in order."""
        factor = np.empty(idx.size)
        pending = np.arange(idx.size)
        s, p = self.state, self.params
        while pending.size:
            _, first = np.unique(idx[pending], return_index=True)
            take = pending[first]
            k = idx[take]
            h = (now - s["last"][k]) * self.dt
            used = self.update(s, p, k, h)
            s["last"][k] = now
            factor[take] = used
            pending = np.setdiff1d(pending, take, assume_unique=True)
        return factor


@dataclass
class SynapticState:
    """What changes a loaded synapse's weight as spikes cross it (None: nothing does).

    Parameters
    ----------
    dynamics
        Short-term plasticity.
    plastic
        STDP of the learning synapses.
    plastic_index
        Per loaded synapse, its STDP record in ``plastic`` (-1: it does not learn).
    image_weight
        The image's weights of the learning synapses (what a reset goes back to).
    release, seed, position
        Stochastic synapses: transmission probability, seed of the target core that draws
        for it and the synapse's place in that core's rows (what the draw is keyed by, so
        the same synapse draws the same wherever it is placed).
    quantal
        Quantal release.
    """

    dynamics: TsodyksMarkram
    plastic: PairSTDP | None
    plastic_index: np.ndarray
    image_weight: np.ndarray | None
    release: np.ndarray | None
    seed: np.ndarray | None
    position: np.ndarray | None
    quantal: QuantalSites | None

    @property
    def gates(self) -> bool:
        """Whether :meth:`transmit` changes any weight."""
        return self.release is not None or self.quantal is not None or self.dynamics.any

    def learn(self, idx: np.ndarray, weight: np.ndarray, stored: np.ndarray, now: int
              ) -> None:
        """STDP at presynaptic spikes through synapses ``idx`` at ``now``: their ``weight``
        (gathered from ``stored``) and the ``stored`` weights learn in place."""
        learns = self.plastic_index[idx]
        hit = learns >= 0
        if hit.any():
            weight[hit] = self.plastic.pre_spikes(learns[hit], now)
            stored[idx[hit]] = weight[hit]

    def transmit(self, idx: np.ndarray, weight: np.ndarray, now: int) -> np.ndarray:
        """What ``weight`` of synapses ``idx`` (spikes at ``now``) the targets receive."""
        if self.release is not None:
            draw = counter_uniform(self.seed[idx], self.position[idx], now)
            weight = np.where(draw < self.release[idx], weight, np.float32(0.0))
        if self.quantal is not None:  # weight x sites released (NEST's quantal_stp_synapse)
            weight = self.quantal.scale(idx, weight, now)
        if self.dynamics.any:
            weight = self.dynamics.scale(idx, weight, now)
        return weight

    def reset(self, stored: np.ndarray) -> None:
        """Back to the image: no short-term history, learnt weights (in ``stored``) and
        traces the image's."""
        self.dynamics.reset()
        if self.quantal is not None:
            self.quantal.reset()
        if self.plastic is not None:
            stored[self.plastic.syn] = self.image_weight
            self.plastic.reset(self.image_weight)

    def keep_learning(self, old: PairSTDP | None, old_weight: np.ndarray | None,
                      stored: np.ndarray) -> None:
        """After a reload: plastic synapses keep their learnt weights and traces (from
        ``old``, ``old_weight``), except where the host wrote a weight other than the one it
        could read back; ``stored`` takes the result."""
        new = self.plastic
        if new is None:
            return
        if old is None or not np.array_equal(old.syn, new.syn):
            new.reset(self.image_weight)
            return
        changed = self.image_weight != old_weight
        new.reset(self.image_weight)
        new.adopt(old, changed)
        stored[new.syn] = np.where(changed, self.image_weight, old_weight)

    def read_weights(self, image: MachineImage, stored: np.ndarray, core: np.ndarray,
                     position: np.ndarray) -> np.ndarray:
        """The weight words of the synapses at (core, position) now: learnt ones from
        ``stored``, the others from the image's ``synapses`` regions."""
        core, position = np.asarray(core, np.int64), np.asarray(position, np.int64)
        out = np.empty(core.size, np.float32)
        where = (self.plastic.locate(core, position) if self.plastic is not None
                 else np.full(core.size, -1))
        learnt = where >= 0
        out[learnt] = stored[self.plastic.syn[where[learnt]]] if learnt.any() else 0
        for c in np.unique(core[~learnt]):
            sel = np.flatnonzero(~learnt & (core == c))
            out[sel] = image.cores[int(c)].dram["synapses"]["weight"][position[sel]]
        return out


def load_synaptic_state(image: MachineImage, layout: Layout, syn: Synapses, idx: np.ndarray,
                        base: np.ndarray, old: SynapticState | None) -> SynapticState:
    """The synaptic state of the synapses ``syn`` loaded from ``image`` (``idx``, ``base``:
    see :func:`~.synapses.load_synapses`); ``old`` (before a reload) hands on the short-term
    and quantal state where it still fits."""
    cores, dt = image.cores, image.timestep
    params = np.zeros(0, DYNAMICS_DTYPE)
    if syn.dynamic.any():
        params = parallel(image, "synapse_dynamics", idx, np.zeros(1, DYNAMICS_DTYPE)[0])
    dynamics = TsodyksMarkram(syn.dynamic, params, dt, None if old is None else old.dynamics)
    learns = any(c.dram.get("synapse_plasticity", np.zeros(0)).size for c in cores)
    stochastic = any(c.dram.get("synapse_release", np.zeros(0)).size for c in cores)
    quantal = any(c.dram.get("synapse_quantal", np.zeros(0)).size for c in cores)
    position = idx - base[syn.core] if learns or stochastic or quantal else None
    records = (parallel(image, "synapse_plasticity", idx, np.zeros(1, PLASTICITY_DTYPE)[0])
               if learns else np.zeros(0, PLASTICITY_DTYPE))
    plastic, plastic_index, image_weight = _load_plasticity(image, layout, syn, records,
                                                            position)
    release = (parallel(image, "synapse_release", idx, np.float32(1.0)) if stochastic
               else np.ones(0, np.float32))
    seed = None
    if np.any(release < 1.0):
        seeds = np.array([int(c.sram["rng_seed"][0]) for c in cores], np.uint64)
        seed = seeds[syn.core]
    else:
        release = None
    quantal_release = None
    if quantal:
        quantal_release = load_quantal(cores, parallel(image, "synapse_quantal", idx,
                                                       np.zeros(1, QUANTAL_DTYPE)[0]),
                                       syn.core, position, dt)
        quantal_release.keep_state(None if old is None else old.quantal)
    return SynapticState(dynamics, plastic, plastic_index, image_weight, release, seed,
                         position if release is not None else None, quantal_release)


def _load_plasticity(image: MachineImage, layout: Layout, syn: Synapses, records: np.ndarray,
                     position: np.ndarray | None
                     ) -> tuple[PairSTDP | None, np.ndarray, np.ndarray | None]:
    """STDP: the learning synapses among those loaded (per synapse its record or -1), their
    targets' traces, and their weights in the image."""
    learns = np.flatnonzero(records["kind"])
    index = np.full(records.size, -1, np.int64)
    if not learns.size:
        return None, index, None
    index[learns] = np.arange(learns.size)
    image_weight = syn.weight[learns].copy()
    tau_minus = np.zeros(layout.n_neurons)
    slots = 2
    for i, c in enumerate(image.cores):
        if "stdp_post" in c.sram:
            tau_minus[layout.offsets[i]:layout.offsets[i] + c.n_neurons] = (
                c.sram["stdp_post"]["tau_minus"])
            slots = max(slots, c.sram["stdp_trace"].shape[0])
    target = syn.slot[learns] % layout.n_neurons
    plastic = PairSTDP(learns, records[learns], target,
                       syn.delay[learns].astype(np.int64), syn.core[learns].astype(np.int64),
                       position[learns], tau_minus, slots, image.timestep)
    return plastic, index, image_weight
