"""SpiNNaker 2 facts as one frozen dataclass.

Sources: SpiNNaker 2 datasheet v0.03 (2021): 152 ARM Cortex-M4F PEs per chip, each with
128 KiB of local code and data memory; a multicast router with 16,384 associative entries and
6 bidirectional chip-to-chip links; 2 LPDDR4 interfaces (2 GiB per chip). Höppner et al., "The
SpiNNaker 2 processing element architecture for hybrid digital neuromorphic computing"
(2021): PEs grouped by four into 38 quad-PEs (QPEs) on a 2-D grid with a network-on-chip;
150-300 MHz. SpiNNMachine: chips on a triangular mesh (links E, NE, N, W, SW, S), 48 chips per
board. Tests shrink the machine to exercise the limits.

Memory budget of a PE (128 KiB of SRAM, shared by code, stack and data):

=================  =========  ===============================================================
part               bytes      what
=================  =========  ===============================================================
code + runtime     24 KiB     the neuron kernel, the event-driven runtime, interrupt vectors
stack + heap       8 KiB      call stack and small buffers of the runtime
data               96 KiB     everything the mapper lays out (see ``doc/mapping.md``): neuron
                              parameters and state, input ring buffers, master population
                              table, recording control, current sources, RNG seed
=================  =========  ===============================================================

``sram_reserved`` is the first two (32 KiB): the seed deployment of the EGRU language model
had about 96 KiB per PE for data. Synaptic rows live in the chip's DRAM, which the mapper
shares out equally: each PE may hold ``dram_per_pe`` = 2 GiB / 152 (about 13.5 MiB) of rows.
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
        boards tile into larger machines (:meth:`boards`).
    pes_per_chip
        Application processing elements per chip (38 QPEs x 4 PEs).
    pes_per_qpe
        PEs per quad-PE.
    qpe_columns
        Columns of the chip's QPE grid (the PE at index ``p`` is in QPE ``p // pes_per_qpe``,
        QPEs numbered row by row). Used to draw the chip; the mapper does not model the
        network-on-chip inside a chip.
    sram_per_pe
        Bytes of SRAM per PE (128 KiB, shared by code, stack and data).
    sram_reserved
        Bytes of each PE's SRAM kept for code, runtime and stack (see the module docstring).
    dram_per_chip
        Bytes of LPDDR4 DRAM per chip (2 GiB), where synaptic rows live.
    router_entries
        Multicast router table capacity per chip.
    key_bits
        Width of a multicast routing key.
    links_per_chip
        Chip-to-chip links per chip (the triangular mesh of :data:`LINKS`).
    chips_per_board, board_width, board_height
        Chips per board and the tile of the mesh one board covers.
    clock_hz
        PE clock frequency (150-300 MHz; 150 MHz is the low-power operating point).
    wrap_around
        Whether the mesh wraps at its edges (a torus, as large SpiNNaker machines are).
    """

    width: int = 1
    height: int = 1
    pes_per_chip: int = 152
    pes_per_qpe: int = 4
    qpe_columns: int = 8
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

    def __post_init__(self) -> None:
        for name in ("width", "height", "pes_per_chip", "pes_per_qpe", "qpe_columns",
                     "sram_per_pe", "dram_per_chip", "router_entries", "key_bits"):
            if int(getattr(self, name)) < 1:
                raise ValueError(f"Machine.{name} must be >= 1, got {getattr(self, name)}")
        if not 0 <= self.sram_reserved < self.sram_per_pe:
            raise ValueError(f"Machine.sram_reserved ({self.sram_reserved} bytes) must leave "
                             f"room for data in {self.sram_per_pe} bytes of SRAM")
        if self.pes_per_chip > 160 - len(LINKS):
            raise ValueError(f"a router entry's 160-bit route holds {160 - len(LINKS)} PEs, "
                             f"got pes_per_chip={self.pes_per_chip}")
        if self.links_per_chip != len(LINKS):
            raise ValueError(f"the chip mesh has {len(LINKS)} links per chip, got "
                             f"links_per_chip={self.links_per_chip}")

    @property
    def sram_data_budget(self) -> int:
        """Bytes of SRAM per PE available to a core's data regions."""
        return self.sram_per_pe - self.sram_reserved

    @property
    def dram_per_pe(self) -> int:
        """Bytes of its chip's DRAM each PE may fill with synaptic rows (an equal share)."""
        return self.dram_per_chip // self.pes_per_chip

    @property
    def n_qpes(self) -> int:
        """Quad-PEs per chip."""
        return -(-self.pes_per_chip // self.pes_per_qpe)

    @property
    def n_chips(self) -> int:
        """Number of chips in the machine."""
        return self.width * self.height

    @property
    def n_pes(self) -> int:
        """Number of application PEs in the machine."""
        return self.n_chips * self.pes_per_chip

    @property
    def n_boards(self) -> float:
        """Machine size in boards (fractional for machines smaller than a board)."""
        return self.n_chips / self.chips_per_board

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

    def describe(self) -> str:
        """One line: chips, boards, PEs and the per-PE budgets."""
        boards = (f"{self.n_boards:g} board{'s' if self.n_boards != 1 else ''}"
                  if self.n_chips >= self.chips_per_board
                  else f"less than one {self.chips_per_board}-chip board")
        return (f"{self.width} x {self.height} chips ({self.n_chips} chips, {boards}), "
                f"{self.n_pes} PEs, "
                f"{self.sram_data_budget // 1024} KiB SRAM for data per PE, "
                f"{self.router_entries} router entries per chip")

    @classmethod
    def boards(cls, n_boards: int = 1, **overrides: object) -> Machine:
        """A machine of ``n_boards`` 48-chip boards, tiled into the squarest rectangle of
        8 x 6 tiles that holds exactly ``n_boards`` (1 x n when n is prime)."""
        if int(n_boards) < 1:
            raise ValueError(f"a machine needs at least one board, got {n_boards}")
        base = cls()
        n = int(n_boards)
        cols = min((c for c in range(1, n + 1) if n % c == 0),
                   key=lambda c: abs(c * base.board_width - (n // c) * base.board_height))
        return replace(base, width=base.board_width * cols,
                       height=base.board_height * (n // cols), **overrides)

    @classmethod
    def from_chips(cls, n_chips: int, **overrides: object) -> Machine:
        """The smallest near-square mesh holding ``n_chips`` chips."""
        if int(n_chips) < 1:
            raise ValueError(f"a machine needs at least one chip, got {n_chips}")
        width = 1
        while width * width < n_chips:
            width += 1
        height = -(-n_chips // width)
        return cls(width=width, height=height, **overrides)
