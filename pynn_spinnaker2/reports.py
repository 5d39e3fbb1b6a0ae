"""Reports of a compiled network: placement, keys, router tables, memory per core.

``summary`` gives the figures as a dict (JSON-ready); ``write_reports`` writes them as text
and JSON into a folder (``sim.setup(reports="folder")`` does it after every compilation).
"""

from __future__ import annotations

import json
from pathlib import Path

from .image.model import decode_route


def summary(compiled: object) -> dict:
    """Key figures of a compiled network."""
    image, mapping = compiled.image, compiled.mapping
    chips = sorted({c.chip for c in image.cores})
    sram = [c.sram_bytes for c in image.cores]
    return {
        "populations": len(compiled.network.populations),
        "projections": len(compiled.network.projections),
        "synapses": int(sum(len(p) for p in compiled.network.projections)),
        "machine_chips": image.machine.n_chips,
        "chips_used": len(chips),
        "pes_used": len(image.cores),
        "router_entries_before_compression": int(sum(mapping.uncompressed.values())),
        "router_entries_after_compression": int(sum(len(t) for t in mapping.tables.values())),
        "max_router_entries_per_chip": max((len(t) for t in mapping.tables.values()),
                                           default=0),
        "sram_bytes_max_per_pe": max(sram, default=0),
        "sram_budget_per_pe": image.machine.sram_data_budget,
        "dram_bytes_total": int(sum(c.dram_bytes for c in image.cores)),
        "timings_s": {k: round(v, 4) for k, v in compiled.timings.items()},
    }


def placement_table(compiled: object) -> str:
    """One line per core: where it is, what it runs, its key and its memory."""
    lines = [f"{'chip':>8} {'pe':>4} {'population':<24} {'neurons':>11} {'kernel':<22} "
             f"{'key':>10} {'sram':>7} {'dram':>9}"]
    for core, where in zip(compiled.image.cores, compiled.image.index_map, strict=True):
        lines.append(f"{str(core.chip):>8} {core.pe:>4} {where.population[:24]:<24} "
                     f"{where.lo:>5}-{where.hi - 1:<5} {core.kernel:<22} {core.key:#010x} "
                     f"{core.sram_bytes:>7} {core.dram_bytes:>9}")
    return "\n".join(lines)


def router_tables_text(compiled: object) -> str:
    """Every chip's compressed router table."""
    lines = []
    for chip, table in sorted(compiled.image.router_tables.items()):
        before = compiled.mapping.uncompressed.get(chip, 0)
        lines.append(f"chip {chip}: {len(table)} entries ({before} before compression)")
        for row in table:
            links, pes = decode_route(row["route"])
            lines.append(f"  key {int(row['key']):#010x} mask {int(row['mask']):#010x} "
                         f"links {list(links)} pes {list(pes)}")
    return "\n".join(lines)


def write_reports(compiled: object, folder: str | Path) -> Path:
    """Write summary.json, placement.txt and router_tables.txt into ``folder``."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(summary(compiled), indent=2))
    (folder / "placement.txt").write_text(placement_table(compiled) + "\n")
    (folder / "router_tables.txt").write_text(router_tables_text(compiled) + "\n")
    return folder
