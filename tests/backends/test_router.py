"""The emulator's own Router (backends/emulator/router.py) on hand-made tables: the first
matching entry decides (reversing the order changes where a packet goes), and a packet that
matches nothing goes straight on when it came over a link and is dropped when it came from a
local PE."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from pynn_spinnaker2.backends.emulator.router import Router
from pynn_spinnaker2.image.machine_image import N_LINKS, ROUTER_DTYPE
from pynn_spinnaker2.machine import Machine

EAST = 0
SPECIFIC = (0x105, 0xFFFFFFFF)  # matches 0x105 only
GENERAL = (0x100, 0xFFFFFF00)  # matches 0x100..0x1FF


def _entry(key: int, mask: int, links: tuple[int, ...] = (), pes: tuple[int, ...] = ()
           ) -> tuple[int, int, np.ndarray]:
    bits = np.zeros(160, np.uint8)
    for link in links:
        bits[link] = 1
    for pe in pes:
        bits[N_LINKS + pe] = 1
    return key, mask, np.packbits(bits, bitorder="little").view("<u4")


def _router(tables: dict[tuple[int, int], list], width: int = 1) -> Router:
    arrays = {chip: np.array(entries, dtype=ROUTER_DTYPE) for chip, entries in tables.items()}
    return Router(SimpleNamespace(machine=Machine(width=width, height=1),
                                  router_tables=arrays))


@pytest.mark.parametrize(("order", "pe_of_0x105"), [((SPECIFIC, GENERAL), 2),
                                                     ((GENERAL, SPECIFIC), 3)])
def test_first_matching_entry_wins(order: tuple, pe_of_0x105: int) -> None:
    """Both entries match 0x105; whichever comes first decides, in every lookup path."""
    pe = {SPECIFIC: 2, GENERAL: 3}
    router = _router({(0, 0): [_entry(*e, pes=(pe[e],)) for e in order]})
    assert router.deliver(0x105, (0, 0)) == [((0, 0), pe_of_0x105)]
    assert router.walk(0x105, (0, 0))[0] == [((0, 0), pe_of_0x105)]
    route = router.lookup((0, 0), 0x105)
    assert route is not None
    assert np.flatnonzero(np.unpackbits(route.astype("<u4").view(np.uint8),
                                        bitorder="little")).tolist() == [N_LINKS + pe_of_0x105]
    # only the general entry matches its other keys, whatever the order
    assert router.deliver(0x106, (0, 0)) == [((0, 0), 3)]
    packet, chip, pes = router.deliver_all(np.array([0x105, 0x106, 0x205]),
                                           np.zeros((3, 2), np.int64))
    assert packet.tolist() == [0, 1] and pes.tolist() == [pe_of_0x105, 3]
    assert chip.tolist() == [[0, 0], [0, 0]]


def test_priority_decides_between_links_and_pes_across_chips() -> None:
    """Sending east first and delivering locally first reach different chips."""
    east_first = _router({(0, 0): [_entry(*GENERAL, links=(EAST,)), _entry(*SPECIFIC, pes=(1,))],
                          (1, 0): [_entry(*GENERAL, pes=(4,))]}, width=2)
    local_first = _router({(0, 0): [_entry(*SPECIFIC, pes=(1,)), _entry(*GENERAL, links=(EAST,))],
                           (1, 0): [_entry(*GENERAL, pes=(4,))]}, width=2)
    assert east_first.deliver(0x105, (0, 0)) == [((1, 0), 4)]
    assert local_first.deliver(0x105, (0, 0)) == [((0, 0), 1)]


def test_default_route_goes_straight_on_and_local_misses_drop() -> None:
    """(0,0) sends east; (1,0) has a table but no entry for the key, so the packet goes on
    east (it came from the west) to (2,0), which delivers it. Sent from a PE of (1,0), the
    same key matches nothing there and is dropped."""
    router = _router({(0, 0): [_entry(*GENERAL, links=(EAST,))],
                      (1, 0): [_entry(0x900, 0xFFFFFF00, pes=(7,))],
                      (2, 0): [_entry(*GENERAL, pes=(5,))]}, width=3)
    assert router.deliver(0x105, (0, 0)) == [((2, 0), 5)]
    delivered, visited = router.walk(0x105, (0, 0))
    assert delivered == [((2, 0), 5)] and visited == [(0, 0), (1, 0), (2, 0)]
    assert router.deliver(0x105, (1, 0)) == []
    assert router.walk(0x105, (1, 0))[0] == []
    # a chip without any table routes by default too
    no_table = _router({(0, 0): [_entry(*GENERAL, links=(EAST,))],
                        (2, 0): [_entry(*GENERAL, pes=(5,))]}, width=3)
    assert no_table.deliver(0x105, (0, 0)) == [((2, 0), 5)]


def test_a_matching_entry_with_an_empty_route_stops_the_packet() -> None:
    """A match, even one that sends nowhere, is not a miss: no default route follows."""
    router = _router({(0, 0): [_entry(*GENERAL, links=(EAST,))],
                      (1, 0): [_entry(*SPECIFIC)],
                      (2, 0): [_entry(*GENERAL, pes=(5,))]}, width=3)
    assert router.deliver(0x105, (0, 0)) == []
    assert router.deliver(0x106, (0, 0)) == [((2, 0), 5)]
