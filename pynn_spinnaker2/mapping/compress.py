"""Compress: shrink router tables so they fit the chip's 16,384 entries.

Two exact transformations, applied in order (after rig's and PACMAN's minimisers):

1. Default-route removal. A chip forwards a packet that matches no entry straight through, to
   the link opposite the one it arrived on. An entry that does exactly that (one link in, the
   opposite link out, no local PE) is dropped.
2. Pair merging. Two entries with the same route whose key/mask differ in exactly one key bit
   (same mask) are one entry with that bit masked out: it matches exactly the keys of the two,
   so no other entry's keys are captured and entry order never matters. Repeated until no
   pair merges (a minimal cover of the route's key set by aligned blocks).
"""

from __future__ import annotations

from collections import defaultdict

from .route import RouterEntry


def is_default_routable(entry: RouterEntry) -> bool:
    """True when the chip's default route does what this entry does."""
    return (entry.arrives_on is not None and not entry.pes and len(entry.links) == 1
            and entry.links[0] == (entry.arrives_on + 3) % 6)


def merge_pairs(entries: list[RouterEntry]) -> list[RouterEntry]:
    """Merge same-route entries that differ in one key bit, until none do."""
    groups: dict[tuple, list[RouterEntry]] = defaultdict(list)
    for e in entries:
        groups[(e.links, e.pes)].append(e)
    out: list[RouterEntry] = []
    for (links, pes), group in groups.items():
        blocks = {(e.key, e.mask) for e in group}
        changed = True
        while changed:
            changed = False
            by_mask: dict[int, set[int]] = defaultdict(set)
            for key, mask in blocks:
                by_mask[mask].add(key)
            merged: set[tuple[int, int]] = set()
            used: set[tuple[int, int]] = set()
            for mask, keys in by_mask.items():
                for key in sorted(keys):
                    if (key, mask) in used:
                        continue
                    bit = 1 << _lowest_set_bit(mask)
                    while bit and bit <= mask:
                        if mask & bit and (key ^ bit) in keys and (key ^ bit, mask) not in used:
                            used.update({(key, mask), (key ^ bit, mask)})
                            merged.add((key & ~bit, mask & ~bit))
                            changed = True
                            break
                        bit <<= 1
            blocks = (blocks - used) | merged
        out.extend(RouterEntry(k, m, links, pes) for k, m in sorted(blocks))
    return out


def _lowest_set_bit(mask: int) -> int:
    return (mask & -mask).bit_length() - 1 if mask else 0


def compress(entries: list[RouterEntry]) -> list[RouterEntry]:
    """The compressed table: exact (every key reaches the same PEs through it)."""
    kept = [e for e in entries if not is_default_routable(e)]
    return merge_pairs(kept)
