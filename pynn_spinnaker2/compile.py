"""Compilation: a Network in, the chip's artifacts out, with no PyNN layer in between.

:func:`compile_network` runs the stages of DESIGN.md in order (check the network, map it,
build the machine image) and returns them frozen in a :class:`Compiled`. :func:`load` puts
a compiled image on a backend (the emulator), or hot-reloads it into one already running the
same layout. The PyNN layer, the NIR and XML front ends and ``models/`` all call these two
functions; each stage stays a plain function of its explicit arguments.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field

from .backends.emulator import Emulator
from .image import MachineImage, build_image
from .mapping import map_network
from .mapping.pipeline import Mapping
from .network import Network, from_xml, to_xml, validate


class LayoutChangedError(NotImplementedError):
    """A new image cannot replace the running one without a reset: its cores differ."""


@dataclass(frozen=True)
class Compiled:
    """The stages of one compilation.

    Attributes
    ----------
    network
        The checked Network (after a round trip through its XML form, when asked).
    mapping
        Partition, placement, keys, routes and router tables.
    image
        What each PE and router is loaded with.
    timings
        Seconds spent per stage (``network``, ``mapping``, ``image``).
    """

    network: Network
    mapping: Mapping
    image: MachineImage
    timings: dict[str, float] = field(default_factory=dict)


def compile_network(network: Network, *, through_xml: bool = True,
                    progress: Callable[[str], None] | None = None) -> Compiled:
    """Check, map and build ``network`` into a machine image.

    Parameters
    ----------
    network
        The network to compile; its ``machine`` is the target.
    through_xml
        Write the network to its XML form and read it back before mapping, so that every
        compilation also tests the format (the PyNN layer does; a caller holding a network
        read from a file need not).
    progress
        Called with the name of each stage as it starts.

    Returns
    -------
    Compiled
        The checked network, its mapping and its machine image.

    Raises
    ------
    NetworkError
        The network is inconsistent (names the population or projection).
    MappingError
        The network does not fit the machine (names the population or chip and the remedy).
    """
    timings: dict[str, float] = {}
    start = time.perf_counter()
    if progress is not None:
        progress("network")
    checked = validate(from_xml(to_xml(network)) if through_xml else network)
    timings["network"] = time.perf_counter() - start
    start = time.perf_counter()
    mapping = map_network(checked, progress=progress)
    timings["mapping"] = time.perf_counter() - start
    start = time.perf_counter()
    if progress is not None:
        progress("image")
    image = build_image(checked, mapping)
    timings["image"] = time.perf_counter() - start
    return Compiled(checked, mapping, image, timings)


def load(image: MachineImage, running: Emulator | None = None, comm: object = None, *,
         kernels: str | None = None) -> Emulator:
    """The emulator that runs ``image``.

    Parameters
    ----------
    image
        The machine image to run.
    running
        The emulator running the previous image, if any. When the new image places the same
        cores, it is reloaded into it (keeping its state, time and random streams); before
        its first step a new emulator is made.
    comm
        An MPI communicator (mpi4py) of several processes, each loading the same image: the
        emulator steps this process's share of the cores and exchanges spikes with the
        others (:mod:`pynn_spinnaker2.backends.emulator.distributed`). None: one process.
    kernels
        The emulator's kernels, ``"numba"`` or ``"numpy"`` (None: the default, see
        :func:`pynn_spinnaker2.backends.emulator.compiled.resolve`).

    Raises
    ------
    LayoutChangedError
        ``running`` has stepped and the new image lays the cores out differently (a
        population added, another neurons-per-core limit, a longer delay): the cores cannot
        be re-laid-out in mid-run.
    """
    if running is not None and running.same_layout(image):
        running.reload(image)
        running.kernels = kernels
        return running
    if running is not None and running.step > 0:
        changed = delay_buffers_changed(running.image, image)
        if changed:
            raise LayoutChangedError(
                f"the longest synaptic delay into population(s) {changed} changed after "
                f"sim.run(): the cores' delay buffers are sized to it and cannot change in "
                f"mid-run; call sim.reset() first, or keep the longest delay of the first run")
        raise LayoutChangedError(
            "the network's populations or their placement changed after sim.run() (a new "
            "population, a new neurons-per-core limit, or new recordings of a spike source); "
            "the cores cannot be re-laid-out in mid-run: call sim.reset() first, or create "
            "everything before the first run")
    if comm is not None and comm.Get_size() > 1:
        from .backends.emulator.distributed import DistributedEmulator

        emulator = DistributedEmulator(image, comm)
        emulator.kernels = kernels  # resolved at its first run
        return emulator
    return Emulator(image, kernels)


def delay_buffers_changed(old: MachineImage, new: MachineImage) -> list[str]:
    """Populations whose cores differ from the running ones only in their delay buffers
    (``input_ring``), when nothing else about the layout changed."""
    if len(old.cores) != len(new.cores):
        return []
    labels = []
    for core_old, core_new, where in zip(old.cores, new.cores, new.index_map, strict=True):
        same = (core_old.chip, core_old.pe, core_old.kernel, core_old.n_neurons,
                core_old.key) == (core_new.chip, core_new.pe, core_new.kernel,
                                  core_new.n_neurons, core_new.key)
        if not same:
            return []
        ring_old = core_old.sram.get("input_ring")
        ring_new = core_new.sram.get("input_ring")
        if ring_old is not None and ring_new is not None and ring_old.shape != ring_new.shape:
            labels.append(where.population)
    return sorted(set(labels))
