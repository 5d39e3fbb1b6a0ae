"""Keys: one 32-bit multicast key block per piece.

Key layout (bit 31 on the left)::

    | 31 ............................ 11 | 10 ........... 0 |
    |           piece slot               |  neuron in piece |

A neuron's spike is a packet whose key is ``piece_key | neuron``; every key of a piece matches
``(key & mask) == piece_key`` with ``mask = 0xFFFFF800``. Router entries never look at the
neuron field, so one entry per piece routes all of its neurons, and a piece holds at most
2,048 neurons.

Piece slots are handed out population by population, each population getting an aligned
block of ``2**ceil(log2(pieces))`` slots (the largest populations first, so every block is
aligned to its own size). All pieces of a population then share the population's key prefix
``key / mask``: where they go to the same places, one router entry covers all of them. The
21-bit slot field holds 2,097,152 slots, at most half of them lost to the alignment.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..errors import MappingError

NEURON_BITS = 11
KEY_BITS = 32
SLOT_BITS = KEY_BITS - NEURON_BITS
FULL = (1 << KEY_BITS) - 1
NEURON_FIELD = (1 << NEURON_BITS) - 1
PIECE_MASK = FULL ^ NEURON_FIELD
MAX_PIECES = 1 << SLOT_BITS


@dataclass(frozen=True)
class KeyBlock:
    """The key and mask every packet of one piece (or one population) matches."""

    key: int
    mask: int

    @property
    def slot(self) -> int:
        """The piece slot: the key without its neuron field."""
        return self.key >> NEURON_BITS


def allocate_keys(pieces_per_population: list[int]) -> tuple[np.ndarray, list[KeyBlock]]:
    """Piece slots, population by population.

    Parameters
    ----------
    pieces_per_population
        Number of pieces of each population, in network order (the pieces of a population
        are consecutive in piece order).

    Returns
    -------
    slots
        The slot of every piece, in piece order (its key is ``slot << NEURON_BITS``).
    population_blocks
        The aligned key block of each population.

    Raises
    ------
    MappingError
        When the aligned blocks do not fit the 21-bit slot field.
    """
    counts = np.asarray(pieces_per_population, dtype=np.int64)
    sizes = np.array([1 << int(c - 1).bit_length() if c > 0 else 0 for c in counts],
                     dtype=np.int64)
    order = np.argsort(-sizes, kind="stable")
    starts = np.zeros(counts.size, dtype=np.int64)
    starts[order] = np.concatenate(([0], np.cumsum(sizes[order])[:-1])) if counts.size else 0
    total = int(sizes.sum())
    if total > MAX_PIECES:
        raise MappingError(
            f"the network has {int(counts.sum())} pieces, which take {total} key slots once "
            f"each population's block is aligned, but the key layout has {MAX_PIECES} "
            f"(21 bits); raise the neurons per core of the populations with the most pieces "
            f"(fewer, larger pieces)")
    first = np.concatenate(([0], np.cumsum(counts)[:-1])) if counts.size else counts
    slots = np.repeat(starts - first, counts) + np.arange(int(counts.sum()))
    blocks = [KeyBlock(int(start) << NEURON_BITS,
                       (FULL ^ ((int(size) << NEURON_BITS) - 1)) & FULL if size else FULL)
              for start, size in zip(starts, sizes, strict=True)]
    return slots, blocks
