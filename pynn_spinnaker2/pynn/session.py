"""The compiled network a PyNN session runs, and the step that keeps it up to date.

Compilation is lazy: nothing is built until ``run``; afterwards it is redone only when the
network changed (parameters, connections, recording, sources). A change after a run keeps the
emulator's state when the new image places the same cores (:func:`pynn_spinnaker2.compile.load`).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ..compile import Compiled, compile_network, load
from .build import build_network, weight_index
from .mpi import check_same_network
from .progress import CompileProgress, draws


@dataclass
class Loaded:
    """A compilation and the emulator running it, with what the PyNN layer caches about it.

    ``network``, ``mapping``, ``image`` and ``timings`` are those of :attr:`compiled`.
    """

    compiled: Compiled
    emulator: object
    recordings: object = None
    recordings_step: int = -1
    weight_index: dict[int, tuple[np.ndarray, np.ndarray]] = field(default_factory=dict)

    @property
    def network(self) -> object:
        """The Network that was compiled."""
        return self.compiled.network

    @property
    def mapping(self) -> object:
        """Its mapping."""
        return self.compiled.mapping

    @property
    def image(self) -> object:
        """Its machine image."""
        return self.compiled.image

    @property
    def timings(self) -> dict[str, float]:
        """Seconds per stage: network, mapping, image and load."""
        return self.compiled.timings


def compile_state(state: object) -> None:
    """Bring ``state.compiled`` (a :class:`Loaded`) up to date with the PyNN objects of
    ``state`` (the :class:`~pynn_spinnaker2.pynn.simulator.State`)."""
    if not state.dirty and state.compiled is not None:
        return
    bar = CompileProgress() if draws(state.progress, state.mpi_rank) else None
    try:
        _compile(state, bar)
    finally:
        if bar is not None:
            bar.close()


def _compile(state: object, progress: CompileProgress | None) -> None:
    start = time.perf_counter()
    if progress is not None:
        progress("PyNN objects -> network")
    # Learnt weights come back first, so the new image carries them on.
    for prj in state.projections:
        if prj._plastic:
            prj._sync_weights()
    network = build_network(state)
    built = time.perf_counter() - start
    # The run goes through the XML intermediate form, so every run tests the format.
    compiled = compile_network(network, through_xml=True, progress=progress)
    compiled.timings["network"] += built
    old = state.compiled
    start = time.perf_counter()
    if state.comm is not None:
        check_same_network(state.comm, compiled.network)
    if progress is not None:
        progress("emulator load")
    emulator = load(compiled.image, old.emulator if old is not None else None, state.comm,
                    kernels=getattr(state, "kernels", None))
    compiled.timings["load"] = time.perf_counter() - start
    state.compiled = Loaded(compiled, emulator,
                            weight_index=weight_index(state, compiled.image))
    state.dirty = False
    if state.reports and state.mpi_rank == 0:  # the same on every rank: one writer
        from ..reports import write_reports

        write_reports(state.compiled, state.reports)
