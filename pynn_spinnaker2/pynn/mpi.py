"""MPI for the PyNN layer: which process this is, that every process built the same network,
and which cells a process steps.

Under ``mpirun -n N python script.py`` every process runs the whole script: each builds and
compiles the same network (PyNN's random numbers are drawn for all cells on every rank, as
``parallel_safe`` generators do) and loads the same image, then steps its share of the cores
(:mod:`pynn_spinnaker2.backends.emulator.distributed`). Without a launcher, or with one
process, mpi4py is not imported and nothing changes.
"""

from __future__ import annotations

import hashlib
import os
import sys

import numpy as np

#: Variables MPI launchers set in the processes they start (MPICH/Hydra, Open MPI, PMIx).
LAUNCHER_SIZE_VARIABLES = ("PMI_SIZE", "OMPI_COMM_WORLD_SIZE", "MPI_LOCALNRANKS",
                           "PMIX_SIZE")


class RanksDifferError(RuntimeError):
    """The MPI processes of one run built different networks."""


def launched_size() -> int:
    """Processes the MPI launcher started, from its environment (1 without a launcher)."""
    for name in LAUNCHER_SIZE_VARIABLES:
        value = os.environ.get(name, "")
        if value.isdigit():
            return int(value)
    return 1


def world() -> object | None:
    """MPI's COMM_WORLD when this process is one of several, else None.

    mpi4py is imported only when a launcher started several processes or the script
    imported it itself.

    Raises
    ------
    ImportError
        A launcher started several processes but mpi4py is not installed (each would run
        the whole network alone).
    """
    if launched_size() <= 1 and "mpi4py.MPI" not in sys.modules:
        return None
    try:
        from mpi4py import MPI
    except ImportError as err:
        raise ImportError(
            f"this script runs as one of {launched_size()} MPI processes, but mpi4py is "
            f"not installed; install it (pip install mpi4py mpich, or the extra "
            f"pynn_spinnaker2[mpi]) or run without mpirun") from err
    comm = MPI.COMM_WORLD
    if comm.Get_size() <= 1:
        return None
    _abort_on_uncaught(comm)
    return comm


def _abort_on_uncaught(comm: object) -> None:
    """An exception that ends one rank ends them all: the others would wait forever in the
    next spike exchange."""
    hook = sys.excepthook
    if getattr(hook, "_aborts_mpi", False):
        return

    def abort(*exc_info: object) -> None:
        hook(*exc_info)
        sys.stderr.flush()
        comm.Abort(1)

    abort._aborts_mpi = True
    sys.excepthook = abort


def digest(value: object) -> str:
    """A hash of ``value`` (dataclasses, mappings, sequences, arrays and scalars, walked
    recursively): equal on two processes when they hold the same network."""
    h = hashlib.blake2b(digest_size=16)
    _feed(h, value)
    return h.hexdigest()


def _feed(h: object, value: object) -> None:
    if isinstance(value, np.ndarray):
        h.update(f"a{value.dtype.str}{value.shape}".encode())
        if value.dtype.hasobject:
            for item in value.ravel():
                _feed(h, item)
        else:
            h.update(np.ascontiguousarray(value).view(np.uint8).ravel())
    elif hasattr(value, "__dataclass_fields__"):
        h.update(type(value).__name__.encode())
        for name in value.__dataclass_fields__:
            _feed(h, getattr(value, name))
    elif isinstance(value, dict):
        h.update(b"d")
        for key, item in value.items():
            _feed(h, key)
            _feed(h, item)
    elif isinstance(value, list | tuple):
        h.update(f"l{len(value)}".encode())
        for item in value:
            _feed(h, item)
    else:
        h.update(repr(value).encode())


def check_same_network(comm: object, network: object) -> None:
    """Refuse to run when the processes of ``comm`` built different networks.

    Raises
    ------
    RanksDifferError
        Names the ranks whose network differs from rank 0's and what makes that happen.
    """
    mine = digest(network)
    every = comm.allgather(mine)
    differ = [r for r, d in enumerate(every) if d != every[0]]
    if differ:
        raise RanksDifferError(
            f"MPI ranks {differ} built a different network from rank 0 (populations, "
            f"parameters or connections): every process must build the same one. Seed every "
            f"random generator the script uses (NumpyRNG(seed=...), parallel_safe=True, the "
            f"default) and draw nothing that depends on the rank")


def local_mask(owner: np.ndarray, index_map: tuple, label: str, size: int, rank: int
               ) -> np.ndarray:
    """Which cells of population ``label`` (``size`` cells) this ``rank`` steps, from the
    rank owning each core (``owner``) and the image's index map."""
    mask = np.zeros(size, bool)
    for core, where in enumerate(index_map):
        if where.population == label and owner[core] == rank:
            mask[where.lo:where.hi] = True
    return mask
