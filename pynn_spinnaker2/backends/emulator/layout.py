"""How the emulator lays the image's cores out: kernel groups over one global neuron numbering,
their parameters, initial state and spike schedules (all read from the image's regions).

Cores running the same kernel are stepped together, so each group is a contiguous slice of
the global numbering and its regions are concatenated field by field.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from ...cells import CELL_TYPES
from ...errors import ImageError
from ...image.machine_image import MachineImage
from .kernels import NEURON_KERNELS
from .sources import SOURCE_GENERATORS


def is_source_kernel(kernel: str) -> bool:
    """True for the kernels of cores that send spikes without being stepped: those of the
    registered cell types that are sources (read at each load, so a type registered later
    counts)."""
    return any(m.is_source and m.kernel == kernel for m in CELL_TYPES.values())


def draws_random(kernel: str) -> bool:
    """True for the source kernels that draw from the cores' random number generator."""
    return kernel == "spike_source_poisson" or kernel in SOURCE_GENERATORS


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


@dataclass(frozen=True)
class Layout:
    """The global neuron numbering of an image's cores.

    Parameters
    ----------
    offsets
        Global index of each core's first neuron.
    groups
        One :class:`Group` per kernel, in the order the kernels first appear.
    n_neurons
        Neurons of all cores.
    core_of
        Core of each global neuron.
    n_receptors, ring_slots
        The largest input ring of any core: receptors and delay slots.
    """

    offsets: np.ndarray
    groups: list[Group]
    n_neurons: int
    core_of: np.ndarray
    n_receptors: int
    ring_slots: int


def lay_out(image: MachineImage) -> Layout:
    """Group the cores of ``image`` by kernel, each group a contiguous slice.

    Raises
    ------
    ImageError
        When a core runs a kernel the emulator does not have.
    """
    for core in image.cores:
        if core.kernel not in NEURON_KERNELS and not is_source_kernel(core.kernel):
            raise ImageError(f"core {core.chip}:{core.pe} runs unknown kernel {core.kernel!r}")
    offsets = np.zeros(len(image.cores), dtype=np.int64)
    groups: list[Group] = []
    start = 0
    for kernel in dict.fromkeys(c.kernel for c in image.cores):
        members = [i for i, c in enumerate(image.cores) if c.kernel == kernel]
        lo = start
        for i in members:
            offsets[i] = start
            start += image.cores[i].n_neurons
        groups.append(Group(kernel, lo, start, members))
    core_of = np.zeros(start, dtype=np.int64)
    for i, core in enumerate(image.cores):
        core_of[offsets[i]:offsets[i] + core.n_neurons] = i
    rings = [c.sram["input_ring"].shape for c in image.cores if "input_ring" in c.sram]
    return Layout(offsets, groups, start, core_of, max((r[1] for r in rings), default=1),
                  max((r[0] for r in rings), default=1))


def structure(image: MachineImage) -> list[tuple]:
    """What must not change for a running emulator to take a new image: per core its place,
    kernel, size, key block and input ring."""
    return [(c.chip, c.pe, c.kernel, c.n_neurons, c.key, c.mask,
             c.sram["input_ring"].shape if "input_ring" in c.sram else None)
            for c in image.cores]


def load_groups(image: MachineImage, layout: Layout) -> None:
    """Parameters and spike schedules of every group, from ``image`` (state stays)."""
    cores = image.cores
    for g in layout.groups:
        g.params = concat_fields([cores[i].sram["neuron_params"] for i in g.cores])
        if g.kernel == "spike_source_array":
            sched = [cores[i].sram["spike_schedule"] for i in g.cores]
            steps = np.concatenate([s["step"].astype(np.int64) for s in sched])
            neurons = np.concatenate([s["neuron"].astype(np.int64) + layout.offsets[i]
                                      for s, i in zip(sched, g.cores, strict=True)])
            order = np.argsort(steps, kind="stable")
            g.schedule = (steps[order], neurons[order])
        elif g.kernel == "graded_source_array":
            # (step, neuron, value) events of every core, sorted by step.
            sched = [cores[i].dram["event_schedule"] for i in g.cores]
            steps = np.concatenate([s["step"].astype(np.int64) for s in sched])
            neurons = np.concatenate([s["neuron"].astype(np.int64) + layout.offsets[i]
                                      for s, i in zip(sched, g.cores, strict=True)])
            values = np.concatenate([s["value"] for s in sched]).astype(np.float32)
            order = np.argsort(steps, kind="stable")
            g.schedule, g.values = (steps[order], neurons[order]), values[order]


def reset_groups(image: MachineImage, groups: list[Group]) -> None:
    """Every group's state from the image. A random source's generator is seeded once, on
    the first reset, and keeps its stream across later resets and reloads."""
    for g in groups:
        g.state = concat_fields([image.cores[i].sram["neuron_state"] for i in g.cores])
        if draws_random(g.kernel) and g.rng is None:
            seeds = np.concatenate([image.cores[i].sram["rng_seed"] for i in g.cores])
            g.rng = np.random.default_rng(np.random.SeedSequence(seeds.tolist()))


def concat_fields(regions: list[np.ndarray]) -> dict[str, np.ndarray]:
    """Structured regions of several cores -> one contiguous array per field."""
    names = regions[0].dtype.names or ()
    return {name: np.ascontiguousarray(np.concatenate([r[name] for r in regions]))
            for name in names}
