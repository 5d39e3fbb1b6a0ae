"""Every number the cost model uses, each with where it comes from.

A :class:`Constant` is ``published`` (a figure printed in the source named, with the table or
section), ``derived`` (computed from published figures by the formula given in ``note``) or
``estimate`` (a reasoned guess: ``note`` gives the reasoning and the range we believe). Nothing
here was measured on a SpiNNaker 2 board by us. Replace a constant with
``dataclasses.replace(DEFAULT_CONSTANTS, name=Constant(...))``; the report prints the table it
used, so every figure it gives can be traced back to this page.

Sources (short names used below):

``M4-TRM``
    ARM Cortex-M4 Technical Reference Manual, instruction timings, as reproduced in TI SWCU192
    (CC13x2/CC26x2 TRM, Nov. 2021) Table 3-25 (integer), Table 3-27 (FPU) and its section
    on load/store timing ("STR Rx,[Ry,#imm] is always one cycle").
``SpiNN2-DS``
    SpiNNaker2 datasheet v0.03 (Aug. 2021): 152 Cortex-M4F PEs, 128 KB SRAM each, 16,384
    router entries, 2 LPDDR4 PHYs with up to 6.4 GB/s sustained block transfer.
``Hoeppner2021``
    Höppner et al., "The SpiNNaker 2 processing element architecture for hybrid digital
    neuromorphic computing", arXiv:2103.08392: 22 nm FDSOI, adaptive body biasing for
    near-threshold operation, exp/log accelerators (abstract).
``Hoeppner2019``
    Höppner et al., "Dynamic power management for neuromorphic many-core systems", IEEE TCAS-I
    2019, arXiv:1903.08941: 28 nm test chip, PEs at 0.7-1.0 V, 125-500 MHz, three performance
    levels; 80 % baseline power and 50 % energy per neuron/synapse saved by DVFS (abstract).
``Painkras2012``
    Painkras et al., "SpiNNaker: a multi-core system-on-chip for massively-parallel neural net
    simulation", CICC 2012: 130 nm, 18 ARM968 cores, 3.96 GIPS peak, 1 W at 1.2 V (abstract).
``Rhodes2018``
    Rhodes et al., "sPyNNaker: a software package for running PyNN simulations on SpiNNaker",
    Front. Neurosci. 12:816 (2018): design target 10,000 synaptic events per ms per core,
    reached within a factor of 2 (abstract).
``Horowitz2014``
    M. Horowitz, "Computing's energy problem", ISSCC 2014, 45 nm 0.9 V energy table
    (32-bit float add 0.9 pJ, multiply 3.7 pJ; 32-bit read from an 8 kB SRAM about 5 pJ),
    as tabulated in PMC8934428 Table 3.
``Nazeer2024``
    Nazeer et al., "Language modeling on a SpiNNaker 2 neuromorphic chip", AICAS 2024,
    arXiv:2312.09084 (the seed deployment; figures as quoted in DESIGN.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields

from ..cells import KERNEL_OPS, KernelOps


@dataclass(frozen=True)
class Constant:
    """One number of the cost model and its provenance.

    Parameters
    ----------
    value
        The number, in ``unit``.
    unit
        Unit of ``value``.
    status
        ``"published"``, ``"derived"`` or ``"estimate"``.
    source
        Where the number (or the figures it is derived from) is printed.
    note
        Table/section, the derivation, or the reasoning behind an estimate.
    """

    value: float
    unit: str
    status: str
    source: str
    note: str = ""

    def __post_init__(self) -> None:
        if self.status not in ("published", "derived", "estimate"):
            raise ValueError(f"constant status must be published, derived or estimate, got "
                             f"{self.status!r}")


# KERNEL_OPS (kernel name -> KernelOps, ``derived``: counted from each kernel's code) is the
# cell registry's table: each count is kept beside its kernel, in its cell type's module.
__all__ = ["DEFAULT_CONSTANTS", "KERNEL_OPS", "Constant", "CostConstants", "KernelOps"]


def _published_m4(value: float, note: str) -> Constant:
    return Constant(value, "cycles", "published", "M4-TRM", note)


@dataclass(frozen=True)
class CostConstants:
    """All constants of the cost model (see the module docstring for the sources)."""

    # -- Cortex-M4F instruction timings ----------------------------------------------------
    cycles_load: Constant = _published_m4(2, "LDR / VLDR single: 2 cycles (Tables 3-25, 3-27)")
    cycles_store: Constant = _published_m4(1, "STR Rx,[Ry,#imm] is always one cycle")
    cycles_single: Constant = _published_m4(
        1, "ADD/SUB/MUL/CMP and VADD/VMUL/VCMP.F32: 1 cycle (Tables 3-25, 3-27)")
    cycles_fmac: Constant = _published_m4(3, "VMLA/VFMA.F32: 3 cycles (Table 3-27)")
    cycles_div: Constant = _published_m4(14, "VDIV.F32: 14 cycles (Table 3-27)")
    cycles_branch: Constant = Constant(
        3, "cycles", "derived", "M4-TRM",
        "branch 1 + P, P = pipeline refill of 1-3 cycles (Table 3-25); P = 2 taken")
    cycles_exp: Constant = Constant(
        5, "cycles", "estimate", "Hoeppner2021",
        "the PE has an exp accelerator (abstract); its latency is not published where we "
        "looked: one store of the operand, one load of the result, about 2 wait cycles. "
        "A software expf on the M4F would take 50-100 cycles instead")
    cycles_rng: Constant = Constant(
        5, "cycles", "estimate", "Hoeppner2021",
        "the PE has a random number generator; one load plus scaling")
    # -- per-event and per-step software overheads -----------------------------------------
    cycles_per_step: Constant = Constant(
        200, "cycles", "estimate", "M4-TRM",
        "timer interrupt entry and exit (about 12 + 10 cycles, the widely quoted M4 figures, "
        "not re-read here), loop set-up, spike-source schedule walk, recording DMA kick")
    cycles_packet_base: Constant = Constant(
        36, "cycles", "derived", "M4-TRM",
        "per received packet: interrupt entry 12 + read key 2 + row index 2 loads 4 + DMA "
        "set-up 8 + exit 10 (the 12/10 interrupt figures are the widely quoted M4 values)")
    cycles_packet_per_level: Constant = Constant(
        9, "cycles", "derived", "M4-TRM",
        "master population table binary search, per level: 2 loads (key, mask) 4, AND + CMP "
        "2, branch 3; levels = ceil(log2(entries + 1))")
    cycles_synaptic_event: Constant = Constant(
        20, "cycles", "derived", "M4-TRM",
        "per synaptic word: load weight + control 4, decode target/receptor/delay 4, ring "
        "index 5, ring load 2, add 1, store 1, loop branch 3. Cross-check: the SpiNNaker 1 "
        "design target was 10,000 events/ms per core at 200 MHz = 20 cycles (Rhodes2018)")
    cycles_mac_extra: Constant = Constant(
        2, "cycles", "derived", "M4-TRM",
        "a graded event multiplies weight by payload: VMLA (3) instead of VADD (1)")
    cycles_packet_sent: Constant = Constant(
        6, "cycles", "estimate", "M4-TRM",
        "key = base | neuron (1), store to the NoC send register (1), spike record bit (4)")
    cycles_loop: Constant = Constant(
        3, "cycles", "derived", "M4-TRM",
        "per neuron: index increment and two address updates, 1 cycle each")
    # -- clock and memory system -----------------------------------------------------------
    clock_hz: Constant = Constant(
        150e6, "Hz", "published", "DESIGN.md / SpiNN2-DS",
        "PE clock 150-300 MHz; 150 MHz is the low-power operating point (Machine.clock_hz)")
    dram_bandwidth: Constant = Constant(
        6.4e9, "B/s", "published", "SpiNN2-DS",
        "2 LPDDR4 PHYs: up to 6.4 Gbytes/s sustained block transfer rate per chip")
    # -- energy ----------------------------------------------------------------------------
    energy_pe_cycle: Constant = Constant(
        7.4e-12, "J/cycle", "estimate", "Painkras2012",
        "SpiNNaker 1: 1 W / 3.96 GIPS = 253 pJ per instruction (130 nm, 1.2 V, whole chip). "
        "First-order CV^2 scaling to 22 nm at 0.5 V (Hoeppner2021: near-threshold with body "
        "bias): x (22/130) x (0.5/1.2)^2 = x 0.029 -> 7.4 pJ per active PE cycle, including "
        "the core's own SRAM loads/stores. Believed within x3 either way")
    energy_sram_byte: Constant = Constant(
        0.76e-12, "J/B", "derived", "Horowitz2014",
        "charged only for DMA writes into SRAM (core loads/stores are inside the per-cycle "
        "energy): 5 pJ per 32-bit read of an 8 kB SRAM at 45 nm 0.9 V x (22/45) x "
        "(0.5/0.9)^2 = 0.76 pJ per word; x4 for a 128 KB array = 3.0 pJ per word, "
        "0.76 pJ per byte")
    energy_dram_byte: Constant = Constant(
        40e-12, "J/B", "estimate", "SpiNN2-DS",
        "LPDDR4 access including I/O and controller, about 5 pJ/bit (typical LPDDR4 figures; "
        "no SpiNNaker 2 measurement found)")
    energy_router_lookup: Constant = Constant(
        0.26e-9, "J", "estimate", "SpiNN2-DS",
        "one search of the 16,384-entry ternary table (SpiNN2-DS): 16,384 x 32 bits x about "
        "0.5 fJ per bit searched")
    energy_noc_delivery: Constant = Constant(
        20e-12, "J", "estimate", "Hoeppner2021",
        "one packet from the chip router to a PE over the NoC: about 3 hops x 64 bits x "
        "0.1 pJ/bit")
    energy_link_hop: Constant = Constant(
        0.32e-9, "J", "estimate", "SpiNN2-DS",
        "one packet over a chip-to-chip serial link: 64 bits x 5 pJ/bit")
    power_pe_static: Constant = Constant(
        0.5e-3, "W", "estimate", "Hoeppner2019",
        "a loaded PE that idles between events (clock-gated wait for interrupt): leakage of "
        "the M4F and 128 KB SRAM at 0.5 V with body bias plus its clock generator. Range "
        "0.1-1 mW. Unloaded PEs are assumed power-gated (Hoeppner2019: baseline power is "
        "what DVFS cuts by 80 %)")
    power_chip_static: Constant = Constant(
        0.2, "W", "estimate", "SpiNN2-DS",
        "per chip in use: router, NoC, management core, two LPDDR4 PHYs with DRAM standby, "
        "chip-link and host SerDes, PLLs. Range 0.1-0.5 W")
    kernel_ops: dict[str, KernelOps] = field(default_factory=lambda: dict(KERNEL_OPS))

    def constants(self) -> dict[str, Constant]:
        """Name -> :class:`Constant`, in declaration order."""
        return {f.name: getattr(self, f.name) for f in fields(self)
                if isinstance(getattr(self, f.name), Constant)}

    def table(self) -> str:
        """The constants as a Markdown table (value, unit, status, source, note)."""
        rows = ["| constant | value | unit | status | source | note |",
                "|---|---|---|---|---|---|"]
        for name, c in self.constants().items():
            rows.append(f"| `{name}` | {c.value:.4g} | {c.unit} | {c.status} | {c.source} | "
                        f"{c.note} |")
        return "\n".join(rows)

    def to_dict(self) -> dict:
        """JSON-ready form."""
        out = {name: {"value": c.value, "unit": c.unit, "status": c.status,
                      "source": c.source, "note": c.note}
               for name, c in self.constants().items()}
        out["kernel_ops"] = {k: vars(v) for k, v in self.kernel_ops.items()}
        return out


DEFAULT_CONSTANTS = CostConstants()
