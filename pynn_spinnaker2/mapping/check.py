"""An independent checker of router tables, written apart from the emulator's router.

It follows one packet per key block hop by hop, with the hardware's rules (first matching
entry wins; a packet matching nothing is default-routed straight through, or dropped on its
source chip) and proves that each key reaches exactly the PEs that hold its synapses, with no
loop and no packet leaving the machine, and that no table exceeds the router's capacity.
"""

from __future__ import annotations

from ..errors import MappingError
from ..machine import LINKS, Machine
from .route import RouterEntry

Chip = tuple[int, int]
Target = tuple[Chip, int]


class RoutingCheckError(MappingError):
    """The router tables do not deliver a key exactly where it must go."""


def walk(key: int, src: Chip, tables: dict[Chip, list[RouterEntry]], machine: Machine
         ) -> set[Target]:
    """The (chip, PE) pairs a packet with ``key`` sent from ``src`` is delivered to."""
    delivered: set[Target] = set()
    pending: list[tuple[Chip, int | None]] = [(src, None)]
    seen: set[Chip] = set()
    while pending:
        chip, arrived_on = pending.pop()
        if chip in seen:
            raise RoutingCheckError(f"key {key:#010x} from chip {src} visits chip {chip} twice "
                                    f"(a routing loop)")
        seen.add(chip)
        entry = None
        for candidate in tables.get(chip, []):
            if key & candidate.mask == candidate.key:
                entry = candidate
                break
        if entry is None:
            if arrived_on is None:
                continue
            links: tuple[int, ...] = ((arrived_on + 3) % 6,)
            pes: tuple[int, ...] = ()
        else:
            links, pes = entry.links, entry.pes
        delivered.update((chip, pe) for pe in pes)
        for link in links:
            nxt = machine.neighbour(chip, link)
            if nxt is None:
                raise RoutingCheckError(f"key {key:#010x} from chip {src} leaves the machine "
                                        f"from chip {chip} on link {LINKS[link][0]}")
            pending.append((nxt, (link + 3) % 6))
    return delivered


def check_routing(tables: dict[Chip, list[RouterEntry]], sources: dict[int, Chip],
                  expected: dict[int, set[Target]], machine: Machine) -> None:
    """Raise :class:`RoutingCheckError` unless every key reaches exactly its targets.

    Parameters
    ----------
    tables
        Chip -> router entries in priority order.
    sources
        Key block -> chip its packets start from (every sending piece, with or without
        targets, since a key without targets must reach nobody).
    expected
        Key block -> the (chip, PE) pairs it must reach.
    machine
        The machine: capacity and mesh.
    """
    for chip, entries in tables.items():
        if len(entries) > machine.router_entries:
            raise MappingError(
                f"chip {chip} needs {len(entries)} router entries after compression but has "
                f"{machine.router_entries}; spread the network over more chips "
                f"(sim.setup(n_chips=...)) or use fewer, larger pieces")
    for key, src in sources.items():
        got = walk(key, src, tables, machine)
        want = expected.get(key, set())
        if got != want:
            missing, extra = sorted(want - got), sorted(got - want)
            raise RoutingCheckError(f"key {key:#010x} from chip {src}: not delivered to "
                                    f"{missing}, wrongly delivered to {extra}")
