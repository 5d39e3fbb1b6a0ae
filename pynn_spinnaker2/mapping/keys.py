"""Keys: one 32-bit multicast key block per piece.

Key layout (bit 31 on the left)::

    | 31 ............................ 11 | 10 ........... 0 |
    |           piece index              |  neuron in piece |

A neuron's spike is a packet whose key is ``piece_key | neuron``; every key of a piece matches
``(key & mask) == piece_key`` with ``mask = 0xFFFFF800``. Router entries never look at the
neuron field, so one entry per piece routes all of its neurons.
"""

from __future__ import annotations

from dataclasses import dataclass

from ..errors import MappingError

NEURON_BITS = 11
KEY_BITS = 32
PIECE_MASK = ((1 << KEY_BITS) - 1) ^ ((1 << NEURON_BITS) - 1)
MAX_PIECES = 1 << (KEY_BITS - NEURON_BITS)


@dataclass(frozen=True)
class KeyBlock:
    """The key and mask every packet of one piece matches."""

    key: int
    mask: int


def allocate_keys(n_pieces: int) -> tuple[KeyBlock, ...]:
    """A key block for each piece, in piece order."""
    if n_pieces > MAX_PIECES:
        raise MappingError(f"the network has {n_pieces} pieces but the key layout holds "
                           f"{MAX_PIECES}; raise the neurons per core of the largest "
                           f"populations")
    return tuple(KeyBlock(i << NEURON_BITS, PIECE_MASK) for i in range(n_pieces))
