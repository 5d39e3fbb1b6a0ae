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

import math
from dataclasses import dataclass, fields, replace

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

#: The most chips a machine may have (about four times SpiNNcloud's 34,560-chip machine): a
#: larger ``width`` x ``height`` is refused before anything of its size is built. Raise it
#: (``pynn_spinnaker2.machine.MAX_CHIPS = ...``) to map onto a bigger machine.
MAX_CHIPS = 2**17
#: Bounds (inclusive) of the whole-number fields of :class:`Machine`: what the mapper and the
#: emulator honour. ``key_bits`` is fixed: routing keys are 32-bit words.
#: ``None`` as the upper bound stands for :data:`MAX_CHIPS`, read when a Machine is made.
INT_BOUNDS: dict[str, tuple[int, int | None]] = {
    "width": (1, None),
    "height": (1, None),
    "pes_per_chip": (1, 2**16),
    "pes_per_qpe": (1, 2**16),
    "qpe_columns": (1, 2**16),
    "sram_per_pe": (1, 2**31),
    "sram_reserved": (0, 2**31),
    "dram_per_chip": (1, 2**40),
    "router_entries": (1, 2**20),
    "key_bits": (32, 32),  # the key allocator (mapping/keys.py) assigns 32-bit keys
    "links_per_chip": (1, 2**16),
    "chips_per_board": (1, None),
    "board_width": (1, None),
    "board_height": (1, None),
}

_RAISE = "; raise pynn_spinnaker2.machine.MAX_CHIPS for a bigger machine"


def whole_number(name: str, value: object, low: int, high: int, hint: str = "") -> int:
    """``value`` as an int, if it is a whole number in ``[low, high]``.

    Parameters
    ----------
    name
        What the value is, for the message.
    value
        An int, or a float with no fractional part.
    low, high
        The inclusive bounds.
    hint
        What to do about a value above ``high``, appended to the message.

    Returns
    -------
    int
        The value.

    Raises
    ------
    ValueError
        ``value`` is not a whole number (1.5, NaN, a string) or lies outside the bounds;
        the message names ``name``, the value and the bounds.
    """
    if isinstance(value, bool):
        number = None
    else:
        try:
            number = int(value)  # type: ignore[call-overload]
            if number != value:
                number = None
        except (TypeError, ValueError, OverflowError):
            number = None
    if number is None:
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    if low == high and number != low:
        raise ValueError(f"{name} must be {low}, got {number}{hint}")
    if not low <= number <= high:
        raise ValueError(f"{name} must be between {low} and {high}, got {number}"
                         f"{hint if number > high else ''}")
    return number


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
        for f in fields(self):
            if f.name in INT_BOUNDS:
                low, high = INT_BOUNDS[f.name]
                object.__setattr__(self, f.name, whole_number(
                    f"Machine.{f.name}", getattr(self, f.name), low,
                    MAX_CHIPS if high is None else high,
                    _RAISE if high is None else "; use a value the machine has"))
        if self.width * self.height > MAX_CHIPS:
            raise ValueError(f"Machine of {self.width} x {self.height} = "
                             f"{self.width * self.height} chips is larger than MAX_CHIPS = "
                             f"{MAX_CHIPS}; raise pynn_spinnaker2.machine.MAX_CHIPS for a "
                             f"bigger machine")
        try:
            clock = float(self.clock_hz)
        except (TypeError, ValueError):
            clock = math.nan
        if not (math.isfinite(clock) and 1.0 <= clock <= 1e10):
            raise ValueError(f"Machine.clock_hz must be a finite frequency between 1 Hz and "
                             f"10 GHz, got {self.clock_hz!r}")
        object.__setattr__(self, "clock_hz", clock)
        if not isinstance(self.wrap_around, bool):
            raise ValueError(f"Machine.wrap_around must be True or False, got "
                             f"{self.wrap_around!r}")
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
        base = cls()
        n = whole_number("n_boards", n_boards, 1, max(1, MAX_CHIPS // base.chips_per_board),
                         _RAISE)
        cols = min((c for c in range(1, n + 1) if n % c == 0),
                   key=lambda c: abs(c * base.board_width - (n // c) * base.board_height))
        return replace(base, width=base.board_width * cols,
                       height=base.board_height * (n // cols), **overrides)

    @classmethod
    def from_chips(cls, n_chips: int, **overrides: object) -> Machine:
        """The smallest near-square mesh holding ``n_chips`` chips."""
        n_chips = whole_number("n_chips", n_chips, 1, MAX_CHIPS, _RAISE)
        width = math.isqrt(n_chips)
        width += width * width < n_chips
        height = -(-n_chips // width)
        return cls(width=width, height=height, **overrides)
