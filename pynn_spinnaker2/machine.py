"""SpiNNaker 2 facts as one frozen dataclass.

Sources: SpiNNaker 2 datasheet (2021); Höppner et al., "The SpiNNaker 2 processing element
architecture for hybrid digital neuromorphic computing" (2021); SpiNNMachine (chip/board
topology). Tests shrink the machine to exercise the limits.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

#: Link directions of the chip-to-chip mesh, in the SpiNNaker order. Each link is a step on
#: a triangular mesh: (dx, dy).
LINKS: tuple[tuple[str, int, int], ...] = (
    ("east", 1, 0),
    ("north_east", 1, 1),
    ("north", 0, 1),
    ("west", -1, 0),
    ("south_west", -1, -1),
    ("south", 0, -1),
)


@dataclass(frozen=True)
class Machine:
    """The hardware the mapper targets.

    Parameters
    ----------
    width, height
        Chips in x and y. A 48-chip board is modelled as an 8 x 6 tile of the chip mesh;
        boards tile into larger machines by multiplying these.
    pes_per_chip
        Application processing elements per chip (38 QPEs x 4 PEs).
    sram_per_pe
        Bytes of SRAM per PE (128 KiB, shared by code, stack and data).
    sram_reserved
        Bytes of each PE's SRAM kept for code, stack and runtime (the seed deployment had
        about 96 KiB left for data).
    dram_per_chip
        Bytes of LPDDR4 DRAM per chip (2 GiB), where synaptic rows live.
    router_entries
        Multicast router table capacity per chip.
    key_bits
        Width of a multicast routing key.
    clock_hz
        PE clock frequency (150-300 MHz; 150 MHz is the low-power operating point).
    """

    width: int = 1
    height: int = 1
    pes_per_chip: int = 152
    pes_per_qpe: int = 4
    sram_per_pe: int = 128 * 1024
    sram_reserved: int = 32 * 1024
    dram_per_chip: int = 2 * 1024**3
    router_entries: int = 16384
    key_bits: int = 32
    links_per_chip: int = 6
    chips_per_board: int = 48
    board_width: int = 8
    board_height: int = 6
    clock_hz: float = 150e6
    wrap_around: bool = False

    @property
    def sram_data_budget(self) -> int:
        """Bytes of SRAM per PE available to a core's data regions."""
        return self.sram_per_pe - self.sram_reserved

    @property
    def n_chips(self) -> int:
        """Number of chips in the machine."""
        return self.width * self.height

    @property
    def n_pes(self) -> int:
        """Number of application PEs in the machine."""
        return self.n_chips * self.pes_per_chip

    def chips(self) -> list[tuple[int, int]]:
        """All chip coordinates, in placement order (row by row)."""
        return [(x, y) for y in range(self.height) for x in range(self.width)]

    def neighbour(self, chip: tuple[int, int], link: int) -> tuple[int, int] | None:
        """The chip reached from ``chip`` through ``link``, or None at the machine's edge."""
        _, dx, dy = LINKS[link]
        x, y = chip[0] + dx, chip[1] + dy
        if self.wrap_around:
            return x % self.width, y % self.height
        if 0 <= x < self.width and 0 <= y < self.height:
            return x, y
        return None

    @classmethod
    def boards(cls, n_boards: int = 1, **overrides: object) -> Machine:
        """A machine of ``n_boards`` 48-chip boards tiled in a row."""
        if n_boards < 1:
            raise ValueError(f"a machine needs at least one board, got {n_boards}")
        base = cls()
        return replace(base, width=base.board_width * n_boards, height=base.board_height,
                       **overrides)

    @classmethod
    def from_chips(cls, n_chips: int, **overrides: object) -> Machine:
        """The smallest near-square mesh holding ``n_chips`` chips."""
        if n_chips < 1:
            raise ValueError(f"a machine needs at least one chip, got {n_chips}")
        width = 1
        while width * width < n_chips:
            width += 1
        height = -(-n_chips // width)
        return cls(width=width, height=height, **overrides)
