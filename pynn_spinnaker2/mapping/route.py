"""Routes: a multicast tree per source piece, written as router entries on every chip it
crosses.

A packet leaves its source chip and travels to each destination chip along a fixed shortest
path of the triangular chip mesh: diagonal links first while both offsets have the same sign,
then straight along x, then along y (on a wrap-around machine the offsets are taken the short
way round). The path to any chip on the way is a prefix of the path through it, so the union
of one source's paths is a tree: every chip on it is entered through exactly one link. Every
chip on the tree gets one entry for the source's key block: the links to forward on and the
local PEs to deliver to.

Everything is computed for all sources at once (NumPy arrays of (source, chip, link)
triples); a router table is a :class:`RouterTable` of arrays in the chip's format: key, mask
and a 160-bit route (bits 0-5 the links of :data:`~pynn_spinnaker2.machine.LINKS`, bit 6 + p
the local PE p), as five little-endian 32-bit words.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..machine import LINKS, Machine

Chip = tuple[int, int]
N_LINKS = len(LINKS)
ROUTE_WORDS = 5
LINK_INDEX = {(dx, dy): i for i, (_, dx, dy) in enumerate(LINKS)}


@dataclass(frozen=True)
class RouterEntry:
    """One multicast router table entry (a readable view of a table row).

    Parameters
    ----------
    key, mask
        A packet matches when ``packet_key & mask == key``.
    links
        Chip-to-chip links (indices into :data:`~pynn_spinnaker2.machine.LINKS`) it is sent on.
    pes
        Local PEs it is delivered to.
    arrives_on
        The link the packet enters this chip through (None on the source chip or after
        merging). Not part of the hardware entry; the compressor uses it to spot
        default-routable entries.
    """

    key: int
    mask: int
    links: tuple[int, ...]
    pes: tuple[int, ...]
    arrives_on: int | None = None


@dataclass(frozen=True)
class RouterTable:
    """A chip's router table, in priority order (the first matching entry wins).

    Parameters
    ----------
    key, mask
        ``uint32`` per entry.
    route
        ``(entries, 5)`` ``uint32`` route words.
    arrives_on
        ``int8`` per entry: the link packets of the entry arrive through, -1 when they start
        on this chip or the entry merges several.
    """

    key: np.ndarray
    mask: np.ndarray
    route: np.ndarray
    arrives_on: np.ndarray

    def __len__(self) -> int:
        return int(self.key.size)

    def entries(self) -> list[RouterEntry]:
        """The rows as :class:`RouterEntry` objects (for reports and tests)."""
        out = []
        for k, m, words, a in zip(self.key.tolist(), self.mask.tolist(), self.route,
                                  self.arrives_on.tolist(), strict=True):
            links, pes = decode_route(words)
            out.append(RouterEntry(k, m, links, pes, None if a < 0 else a))
        return out

    @classmethod
    def from_entries(cls, entries: list[RouterEntry]) -> RouterTable:
        """A table from readable entries (tests)."""
        route = np.zeros((len(entries), ROUTE_WORDS), np.uint32)
        for i, e in enumerate(entries):
            route[i] = encode_route(e.links, e.pes)
        return cls(np.array([e.key for e in entries], np.uint32),
                   np.array([e.mask for e in entries], np.uint32), route,
                   np.array([-1 if e.arrives_on is None else e.arrives_on for e in entries],
                            np.int8))


def encode_route(links: tuple[int, ...], pes: tuple[int, ...]) -> np.ndarray:
    """The route field as five uint32 words."""
    words = np.zeros(ROUTE_WORDS, dtype=np.uint32)
    for bit in list(links) + [N_LINKS + p for p in pes]:
        words[bit // 32] |= np.uint32(1 << (bit % 32))
    return words


def decode_route(words: np.ndarray) -> tuple[tuple[int, ...], tuple[int, ...]]:
    """(links, PEs) of a route field."""
    bits = np.flatnonzero(np.unpackbits(np.asarray(words, "<u4").view(np.uint8),
                                        bitorder="little"))
    return (tuple(int(b) for b in bits if b < N_LINKS),
            tuple(int(b) - N_LINKS for b in bits if b >= N_LINKS))


def offsets(src: np.ndarray, dst: np.ndarray, machine: Machine) -> tuple[np.ndarray,
                                                                          np.ndarray]:
    """(dx, dy) from chips ``src`` to ``dst`` ((n, 2) arrays), the short way round on a
    wrap-around machine."""
    dx = dst[:, 0] - src[:, 0]
    dy = dst[:, 1] - src[:, 1]
    if machine.wrap_around:
        w, h = machine.width, machine.height
        dx = (dx + (w - 1) // 2) % w - (w - 1) // 2
        dy = (dy + (h - 1) // 2) % h - (h - 1) // 2
    return dx, dy


def hop_distance(dx: np.ndarray, dy: np.ndarray) -> np.ndarray:
    """Links between two chips of the triangular mesh."""
    same = (dx * dy) > 0
    return np.where(same, np.maximum(np.abs(dx), np.abs(dy)), np.abs(dx) + np.abs(dy))


def paths(src: np.ndarray, dst: np.ndarray, machine: Machine
          ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Every hop of the paths from chips ``src`` to ``dst`` ((n, 2) coordinate arrays).

    On a machine without wrap-around, the diagonal-x-y path of the module docstring; on a
    torus, the branch to the destination of a breadth-first shortest-path tree grown from the
    source (links tried in :data:`LINKS` order), since there the short way round in x and in
    y need not make a shortest path, nor the paths of one source a tree.

    Returns
    -------
    pair, chip, link
        Per hop: the path it belongs to, the chip (x, y) it leaves and the link it takes,
        paths in order and hops in path order.
    """
    if machine.wrap_around:
        return _tree_paths(src, dst, machine)
    dx, dy = offsets(src, dst, machine)
    same = (dx * dy) > 0
    diag = np.where(same, np.minimum(np.abs(dx), np.abs(dy)), 0)
    xs, ys = np.abs(dx) - diag, np.abs(dy) - diag
    length = diag + xs + ys
    pair = np.repeat(np.arange(src.shape[0]), length)
    k = np.arange(pair.size) - np.repeat(np.cumsum(length) - length, length)
    sx, sy = np.sign(dx)[pair], np.sign(dy)[pair]
    phase_diag = k < diag[pair]
    phase_x = ~phase_diag & (k < (diag + xs)[pair])
    step_x = np.where(phase_diag | phase_x, sx, 0)
    step_y = np.where(phase_x, 0, sy)
    link_of = np.full((3, 3), -1, np.int64)
    for i, (_, lx, ly) in enumerate(LINKS):
        link_of[lx + 1, ly + 1] = i
    link = link_of[step_x + 1, step_y + 1]
    # Position before each hop: the source plus the steps taken so far on its path.
    cx = np.cumsum(step_x) - step_x
    cy = np.cumsum(step_y) - step_y
    if pair.size:
        first = np.minimum(np.cumsum(length) - length, pair.size - 1)
        base_x, base_y = np.repeat(cx[first], length), np.repeat(cy[first], length)
    else:
        base_x = base_y = cx
    x = src[pair, 0] + cx - base_x
    y = src[pair, 1] + cy - base_y
    return pair, np.stack([x, y], axis=1), link


def _tree_paths(src: np.ndarray, dst: np.ndarray, machine: Machine
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """:func:`paths` along breadth-first shortest-path trees (one per source chip)."""
    width, n = machine.width, machine.n_chips
    ids = np.arange(n)
    x, y = ids % width, ids // width
    neighbour = np.stack([((y + dy) % machine.height) * width + (x + dx) % width
                          for _, dx, dy in LINKS], axis=1)
    a = src[:, 1] * width + src[:, 0]
    b = dst[:, 1] * width + dst[:, 0]
    roots, root_of = np.unique(a, return_inverse=True)
    k = roots.size
    parent = np.full((k, n), -1, np.int64)
    plink = np.full((k, n), -1, np.int64)
    seen = np.zeros((k, n), bool)
    seen[np.arange(k), roots] = True
    frontier = seen.copy()
    while frontier.any():
        rows, chips = np.nonzero(frontier)  # row-major: chips in increasing order
        fresh = np.zeros_like(seen)
        for link in range(len(LINKS)):
            t = neighbour[chips, link]
            new = ~seen[rows, t] & ~fresh[rows, t]
            r, c, t = rows[new], chips[new], t[new]
            first = np.unique(r * n + t, return_index=True)[1]  # lowest chip wins
            r, c, t = r[first], c[first], t[first]
            parent[r, t], plink[r, t] = c, link
            fresh[r, t] = True
        seen |= fresh
        frontier = fresh
    # Walk each destination back to its root, then put the hops in path order.
    pair_l, chip_l, link_l, depth_l = [], [], [], []
    cur, active, step = b.copy(), np.flatnonzero(b != a), 0
    row = root_of.reshape(-1)
    while active.size:
        p = parent[row[active], cur[active]]
        pair_l.append(active)
        chip_l.append(p)
        link_l.append(plink[row[active], cur[active]])
        depth_l.append(np.full(active.size, step))
        cur[active] = p
        active = active[p != a[active]]
        step += 1
    if not pair_l:
        return np.zeros(0, np.int64), np.zeros((0, 2), np.int64), np.zeros(0, np.int64)
    pair, chip = np.concatenate(pair_l), np.concatenate(chip_l)
    link, depth = np.concatenate(link_l), np.concatenate(depth_l)
    order = np.lexsort((-depth, pair))
    pair, chip, link = pair[order], chip[order], link[order]
    return pair, np.stack([chip % width, chip // width], axis=1), link


def route(slots: np.ndarray, chip_xy: np.ndarray, pe: np.ndarray, src: np.ndarray,
          dst: np.ndarray, machine: Machine, neuron_bits: int
          ) -> tuple[dict[Chip, RouterTable], dict[str, np.ndarray]]:
    """Router tables (uncompressed) for every chip.

    Parameters
    ----------
    slots
        Key slot of every piece (key = slot << neuron_bits).
    chip_xy, pe
        Placement of every piece: (n, 2) chip coordinates and PE.
    src, dst
        Source piece -> target piece pairs (each pair once).
    machine
        The machine (for its mesh).
    neuron_bits
        Width of the key's neuron field.

    Returns
    -------
    tables
        Chip -> its table, sorted by key.
    trees
        Per tree node (one per entry): ``source`` piece, ``chip`` index (y * width + x) and
        ``links`` bitmask, for reports and link loads.
    """
    width = machine.width
    n_chips = machine.n_chips
    chip_id = chip_xy[:, 1] * width + chip_xy[:, 0]
    # Local deliveries: (source, destination chip, PE).
    d_chip = chip_id[dst]
    sd = np.unique(src.astype(np.int64) * n_chips + d_chip)
    s_of, c_of = np.divmod(sd, n_chips)
    # Paths between the distinct (source chip, destination chip) pairs.
    cp = chip_id[s_of] * n_chips + c_of
    cps, cp_inv = np.unique(cp, return_inverse=True)
    a, b = np.divmod(cps, n_chips)
    a_xy = np.stack([a % width, a // width], axis=1)
    b_xy = np.stack([b % width, b // width], axis=1)
    pair, hop_xy, hop_link = paths(a_xy, b_xy, machine)
    hop_chip = hop_xy[:, 1] * width + hop_xy[:, 0]
    hops_per = np.bincount(pair, minlength=cps.size)
    hop_start = np.cumsum(hops_per) - hops_per
    # Expand to (source, chip, link) for every (source, destination chip) pair.
    n_h = hops_per[cp_inv]
    owner = np.repeat(np.arange(sd.size), n_h)
    within = np.arange(owner.size) - np.repeat(np.cumsum(n_h) - n_h, n_h)
    h = hop_start[cp_inv][owner] + within
    t_src = s_of[owner]
    t_chip = hop_chip[h]
    t_link = hop_link[h]
    # Arrival: the hop into a chip; every chip on one source's tree has one.
    nxt_x = (hop_xy[h, 0] + np.array([dx for _, dx, _ in LINKS])[t_link])
    nxt_y = (hop_xy[h, 1] + np.array([dy for _, _, dy in LINKS])[t_link])
    if machine.wrap_around:
        nxt_x, nxt_y = nxt_x % machine.width, nxt_y % machine.height
    arr_node = t_src * n_chips + nxt_y * width + nxt_x
    arr_link = (t_link + 3) % N_LINKS
    # Tree nodes: source chips of sources with targets, hop chips, arrival chips.
    src_with = np.unique(s_of)
    nodes = np.unique(np.concatenate((src_with * n_chips + chip_id[src_with],
                                      t_src * n_chips + t_chip, arr_node)))
    n_nodes = nodes.size
    words = np.zeros((n_nodes, ROUTE_WORDS), np.uint32)
    link_idx = np.searchsorted(nodes, t_src * n_chips + t_chip)
    np.bitwise_or.at(words[:, 0], link_idx, (np.uint32(1) << t_link.astype(np.uint32)))
    pe_node = np.searchsorted(nodes, src.astype(np.int64) * n_chips + d_chip)
    bit = (N_LINKS + pe[dst]).astype(np.int64)
    flat = words.reshape(-1)
    np.bitwise_or.at(flat, pe_node * ROUTE_WORDS + bit // 32,
                     (np.uint32(1) << (bit % 32).astype(np.uint32)))
    arrives = np.full(n_nodes, -1, np.int8)
    arrives[np.searchsorted(nodes, arr_node)] = arr_link
    node_src, node_chip = np.divmod(nodes, n_chips)
    keys = (slots[node_src].astype(np.uint64) << np.uint64(neuron_bits)).astype(np.uint32)
    mask = np.uint32(((1 << 32) - 1) ^ ((1 << neuron_bits) - 1))
    order = np.lexsort((keys, node_chip))
    bounds = (np.flatnonzero(np.r_[True, np.diff(node_chip[order]) != 0, True]) if n_nodes
              else np.zeros(1, np.int64))
    tables: dict[Chip, RouterTable] = {}
    for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
        sel = order[lo:hi]
        c = int(node_chip[sel[0]])
        tables[(c % width, c // width)] = RouterTable(
            keys[sel], np.full(sel.size, mask, np.uint32), words[sel], arrives[sel])
    trees = {"source": node_src, "chip": node_chip, "links": words[:, 0] & 0x3F}
    return tables, trees
