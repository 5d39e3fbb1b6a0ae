"""Reports of a compiled network: placement, keys, router tables, memory and packets per PE.

``summary`` gives the key figures as a dict (JSON-ready); ``write_reports`` writes them as text
and JSON into a folder, with a picture of the chips (``chips.png``: every PE coloured by the
population it runs and by how full its SRAM is, and the chip-to-chip links the multicast trees
use). ``sim.setup(reports="folder")`` does it after every compilation; a script can ask at any
time (after a run, the packet counts of the run are included)::

    from pynn_spinnaker2.reports import write_reports
    write_reports(sim.get_mapping(), "reports/")

Files: ``summary.json``, ``placement.txt`` (per PE: population slice, kernel, key, SRAM and
DRAM against the budgets), ``keys.txt`` (population key blocks and per piece keys),
``router_tables.txt`` (every chip's table before and after compression), ``packets.txt``
(per PE: packets sent, PEs and chips each packet reaches, and, after a run, packets sent and
received), ``chips.png``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .machine import LINKS
from .mapping.route import decode_route


@dataclass(frozen=True)
class _Parts:
    network: object
    mapping: object
    image: object
    emulator: object
    timings: dict


def _parts(compiled: object) -> _Parts:
    return _Parts(compiled.network, compiled.mapping, getattr(compiled, "image", None),
                  getattr(compiled, "emulator", None), dict(getattr(compiled, "timings", {})))


def _run_counts(parts: _Parts) -> dict[str, np.ndarray] | None:
    """Packets each PE sent and received during the run(s) so far, or None before any."""
    em = parts.emulator
    counters = getattr(em, "counters", None)
    if counters is None or getattr(counters, "steps", 0) == 0:
        return None
    mapping = parts.mapping
    sent = np.asarray(counters.packets_sent, np.int64)
    received = np.zeros(len(mapping.pieces), np.int64)
    links = mapping.connectivity
    np.add.at(received, links.dst, sent[links.src])
    return {"sent": sent, "received": received, "steps": counters.steps}


def fan_out(mapping: object) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per piece: the PEs and chips one of its packets reaches, and the links it crosses."""
    n = len(mapping.pieces)
    links = mapping.connectivity
    pes = np.bincount(links.src, minlength=n)
    width = mapping.machine.width
    chip_of = np.array([p.chip[1] * width + p.chip[0] for p in mapping.placements], np.int64)
    pairs = np.unique(links.src * mapping.machine.n_chips + chip_of[links.dst])
    chips = np.bincount(pairs // mapping.machine.n_chips, minlength=n)
    bits = np.unpackbits(np.asarray(mapping.trees["links"], np.uint8)[:, None], axis=1).sum(1)
    hops = np.bincount(mapping.trees["source"], weights=bits, minlength=n).astype(np.int64)
    return pes, chips, hops


def summary(compiled: object) -> dict:
    """Key figures of a compiled network."""
    parts = _parts(compiled)
    mapping, network = parts.mapping, parts.network
    machine = mapping.machine
    chips = sorted({p.chip for p in mapping.placements})
    sram = np.array([p.sram for p in mapping.pieces] or [0])
    if parts.image is not None:
        sram = np.array([c.sram_bytes for c in parts.image.cores] or [0])
    before = {c: len(t) for c, t in mapping.raw_tables.items()}
    after = {c: len(t) for c, t in mapping.tables.items()}
    pes, chips_reached, hops = fan_out(mapping)
    out = {
        "machine": machine.describe(),
        "populations": len(network.populations),
        "neurons": int(sum(p.size for p in network.populations)),
        "projections": len(network.projections),
        "synapses": int(sum(len(p) for p in network.projections)),
        "machine_chips": machine.n_chips,
        "chips_used": len(chips),
        "pes_used": len(mapping.pieces),
        "pieces_per_population": {p.label: len(mapping.pieces_of(p.label))
                                  for p in network.populations},
        "router_entries_before_compression": int(sum(before.values())),
        "router_entries_after_compression": int(sum(after.values())),
        "max_router_entries_per_chip": max(after.values(), default=0),
        "max_router_entries_per_chip_before_compression": max(before.values(), default=0),
        "router_entries_per_chip": machine.router_entries,
        "sram_bytes_max_per_pe": int(sram.max()),
        "sram_bytes_mean_per_pe": round(float(sram.mean()), 1),
        "sram_budget_per_pe": machine.sram_data_budget,
        "dram_bytes_max_per_pe": int(max((p.dram for p in mapping.pieces), default=0)),
        "dram_budget_per_pe": machine.dram_per_pe,
        "pes_reached_per_packet_max": int(pes.max(initial=0)),
        "chips_reached_per_packet_max": int(chips_reached.max(initial=0)),
        "links_per_packet_mean": round(float(hops.mean()) if hops.size else 0.0, 3),
        "timings_s": {k: round(v, 4) for k, v in parts.timings.items()},
        "mapping_timings_s": {k: round(v, 4) for k, v in mapping.timings.items()},
    }
    if parts.image is not None:
        out["dram_bytes_total"] = int(sum(c.dram_bytes for c in parts.image.cores))
    run = _run_counts(parts)
    if run is not None:
        out["run_steps"] = int(run["steps"])
        out["packets_sent"] = int(run["sent"].sum())
        out["packets_received_max_per_pe"] = int(run["received"].max(initial=0))
    return out


def placement_table(compiled: object) -> str:
    """One line per PE: where, what it runs, its key, its memory against the budgets."""
    parts = _parts(compiled)
    mapping = parts.mapping
    m = mapping.machine
    lines = [f"# SRAM budget for data {m.sram_data_budget} B per PE ({m.sram_per_pe} minus "
             f"{m.sram_reserved} for code and stack); DRAM share {m.dram_per_pe} B per PE",
             f"{'chip':>8} {'pe':>4} {'population':<24} {'neurons':>13} {'kernel':<22} "
             f"{'key':>10} {'sram':>7} {'sram_est':>8} {'dram':>10}"]
    cores = parts.image.cores if parts.image is not None else [None] * len(mapping.pieces)
    for piece, place, key, core in zip(mapping.pieces, mapping.placements, mapping.keys,
                                       cores, strict=True):
        used = core.sram_bytes if core is not None else piece.sram
        dram = core.dram_bytes if core is not None else piece.dram
        lines.append(f"{str(place.chip):>8} {place.pe:>4} {piece.population[:24]:<24} "
                     f"{piece.lo:>6}-{piece.hi - 1:<6} {piece.kernel:<22} {key.key:#010x} "
                     f"{used:>7} {piece.sram:>8} {dram:>10}")
    return "\n".join(lines)


def key_table(compiled: object) -> str:
    """Key blocks: one per population (covering its pieces), then one per piece."""
    mapping = _parts(compiled).mapping
    lines = ["# key layout: | 31..11 piece slot | 10..0 neuron in piece |",
             f"{'population':<24} {'key':>10} {'mask':>10} {'pieces':>7}"]
    for label, block in mapping.population_keys.items():
        lines.append(f"{label[:24]:<24} {block.key:#010x} {block.mask:#010x} "
                     f"{len(mapping.pieces_of(label)):>7}")
    lines.append("")
    lines.append(f"{'piece':>6} {'population':<24} {'neurons':>13} {'key':>10} {'mask':>10}")
    for piece, key in zip(mapping.pieces, mapping.keys, strict=True):
        lines.append(f"{piece.index:>6} {piece.population[:24]:<24} "
                     f"{piece.lo:>6}-{piece.hi - 1:<6} {key.key:#010x} {key.mask:#010x}")
    return "\n".join(lines)


def _entry_lines(table: object) -> list[str]:
    out = []
    for k, m, words, a in zip(table.key.tolist(), table.mask.tolist(), table.route,
                              table.arrives_on.tolist(), strict=True):
        links, pes = decode_route(words)
        names = [LINKS[i][0] for i in links]
        arrive = f" (in: {LINKS[a][0]})" if a >= 0 else ""
        out.append(f"  key {k:#010x} mask {m:#010x} links {names} pes {_ranges(pes)}{arrive}")
    return out


def _ranges(values: tuple[int, ...]) -> str:
    """0, 1, 2, 5 -> '0-2,5'."""
    out, start = [], None
    for i, v in enumerate(values):
        if start is None:
            start = v
        if i + 1 == len(values) or values[i + 1] != v + 1:
            out.append(f"{start}-{v}" if v > start else f"{v}")
            start = None
    return ",".join(out) or "-"


def router_tables_text(compiled: object) -> str:
    """Every chip's router table, after and before compression."""
    mapping = _parts(compiled).mapping
    lines = []
    for chip in sorted(set(mapping.raw_tables) | set(mapping.tables)):
        after, before = mapping.tables.get(chip), mapping.raw_tables.get(chip)
        n_after = len(after) if after is not None else 0
        n_before = len(before) if before is not None else 0
        lines.append(f"chip {chip}: {n_after} entries after compression, {n_before} before "
                     f"(capacity {mapping.machine.router_entries})")
        lines.append(" after compression (priority order):")
        lines.extend(_entry_lines(after) if after is not None else [])
        lines.append(" before compression:")
        lines.extend(_entry_lines(before) if before is not None else [])
    return "\n".join(lines)


def packets_table(compiled: object) -> str:
    """Per PE: PEs, chips and links one packet reaches and crosses; packets of the run."""
    parts = _parts(compiled)
    mapping = parts.mapping
    pes, chips, hops = fan_out(mapping)
    run = _run_counts(parts)
    head = (f"{'chip':>8} {'pe':>4} {'population':<24} {'pes/packet':>10} "
            f"{'chips/packet':>12} {'links/packet':>12}")
    if run is not None:
        head += f" {'sent':>10} {'received':>10}   (run of {run['steps']} steps)"
    lines = [head]
    for i, (piece, place) in enumerate(zip(mapping.pieces, mapping.placements, strict=True)):
        line = (f"{str(place.chip):>8} {place.pe:>4} {piece.population[:24]:<24} "
                f"{pes[i]:>10} {chips[i]:>12} {hops[i]:>12}")
        if run is not None:
            line += f" {run['sent'][i]:>10} {run['received'][i]:>10}"
        lines.append(line)
    return "\n".join(lines)


def link_loads(mapping: object) -> dict[tuple[tuple[int, int], int], int]:
    """(chip, link) -> number of multicast trees (source pieces) sending on it."""
    width = mapping.machine.width
    out: dict = {}
    chips, masks = mapping.trees["chip"], np.asarray(mapping.trees["links"], np.int64)
    for link in range(len(LINKS)):
        on = (masks >> link) & 1 == 1
        used, counts = np.unique(chips[on], return_counts=True)
        for c, k in zip(used.tolist(), counts.tolist(), strict=True):
            out[((c % width, c // width), link)] = k
    return out


def draw_chips(compiled: object, path: str | Path) -> Path:
    """The picture: every chip's PEs (QPEs of 2 x 2 PEs on the chip's QPE grid) coloured by
    population (left) and by SRAM use against the budget (right), with the router entries of
    each chip and the chip-to-chip links the multicast trees use (arrows; width: number of
    trees)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.collections import PatchCollection
    from matplotlib.patches import Patch, Rectangle

    parts = _parts(compiled)
    mapping = parts.mapping
    m = mapping.machine
    qcols = m.qpe_columns
    qrows = -(-m.n_qpes // qcols)
    qpe = 2.3  # a QPE: 2 x 2 PE squares and a gap
    box_w, box_h = qcols * qpe + 1.0, qrows * qpe + 2.2
    gap = 4.0
    cell_w, cell_h = box_w + gap, box_h + gap
    labels = [p.label for p in parts.network.populations]
    colour = {label: plt.get_cmap("tab20")(i % 20) for i, label in enumerate(labels)}
    sram = np.array([p.sram for p in mapping.pieces], float)
    if parts.image is not None:
        sram = np.array([c.sram_bytes for c in parts.image.cores], float)
    fill = sram / m.sram_data_budget
    width_in = min(22.0, max(7.0, m.width * 2.2))
    height_in = max(3.5, width_in * (m.height * cell_h) / (m.width * cell_w))
    if m.width >= 4:  # large machines: the two views one above the other
        fig, axes = plt.subplots(2, 1, figsize=(width_in + 1.5, 2 * height_in + 2.0))
    else:
        fig, axes = plt.subplots(1, 2, figsize=(2 * width_in, height_in + 1.2))
    loads = link_loads(mapping)
    biggest = max(loads.values(), default=1)
    cmap = plt.get_cmap("viridis")
    slot = {(place.chip, place.pe): i for i, place in enumerate(mapping.placements)}
    for ax, mode in zip(axes, ("population", "sram"), strict=True):
        rects, faces = [], []
        for cx in range(m.width):
            for cy in range(m.height):
                x0, y0 = cx * cell_w, cy * cell_h
                ax.add_patch(Rectangle((x0, y0), box_w, box_h, fill=False, lw=0.8, ec="0.4"))
                after = len(mapping.tables.get((cx, cy), ()))
                before = len(mapping.raw_tables.get((cx, cy), ()))
                ax.text(x0 + 0.5, y0 + box_h - 0.8, f"chip ({cx},{cy}) router {after}/{before}",
                        fontsize=5.5, va="center")
                for pe in range(m.pes_per_chip):
                    q, j = divmod(pe, m.pes_per_qpe)
                    qx, qy = q % qcols, qrows - 1 - q // qcols
                    rects.append(Rectangle((x0 + 0.5 + qx * qpe + (j % 2) * 1.05,
                                            y0 + 0.4 + qy * qpe + (j // 2) * 1.05), 1.0, 1.0))
                    i = slot.get(((cx, cy), pe))
                    if i is None:
                        faces.append((0.92, 0.92, 0.92, 1.0))
                    elif mode == "population":
                        faces.append(colour[mapping.pieces[i].population])
                    else:
                        faces.append(cmap(min(fill[i], 1.0)))
        ax.add_collection(PatchCollection(rects, facecolors=faces, edgecolors="none"))
        for (chip, link), k in loads.items():
            _, dx, dy = LINKS[link]
            if not (0 <= chip[0] + dx < m.width and 0 <= chip[1] + dy < m.height):
                continue  # a wrap-around link: not drawn
            cx, cy = chip[0] * cell_w + box_w / 2, chip[1] * cell_h + box_h / 2
            # From this box's edge to the neighbour's, shifted aside so both directions show.
            sx, sy = dx * (box_w / 2 + 0.3), dy * (box_h / 2 + 0.3)
            ex, ey = dx * (cell_w - box_w / 2 - 0.3), dy * (cell_h - box_h / 2 - 0.3)
            ox, oy = -dy * 0.9, dx * 0.9
            ax.annotate("", xy=(cx + ex + ox, cy + ey + oy), xytext=(cx + sx + ox, cy + sy + oy),
                        arrowprops={"arrowstyle": "-|>", "color": "crimson", "alpha": 0.8,
                                    "lw": 0.6 + 3.0 * k / biggest, "mutation_scale": 6})
        ax.set_xlim(-1, m.width * cell_w - gap + 1)
        ax.set_ylim(-1, m.height * cell_h - gap + 1)
        ax.set_aspect("equal")
        ax.axis("off")
        if mode == "population":
            ax.set_title("PEs by population (grey: free); arrows: chip-to-chip links used by "
                         "multicast trees", fontsize=8)
            used = [lab for lab in labels if mapping.pieces_of(lab)]
            handles = [Patch(color=colour[lab], label=lab) for lab in used[:20]]
            if len(used) > 20:  # 20 colours: they repeat
                handles.append(Patch(color="white", label=f"(first 20 of {len(used)})"))
            ax.legend(handles=handles, fontsize=6, loc="upper left", bbox_to_anchor=(0, 0),
                      ncol=7, frameon=False)
        else:
            ax.set_title(f"SRAM used per PE (of {m.sram_data_budget // 1024} KiB for data); "
                         f"router entries after/before compression", fontsize=8)
            sm = plt.cm.ScalarMappable(cmap=cmap, norm=plt.Normalize(0, 1))
            fig.colorbar(sm, ax=ax, fraction=0.03, pad=0.02, label="fraction of SRAM budget")
    fig.suptitle(f"{len(mapping.pieces)} PEs used on {m.describe()}", fontsize=9)
    path = Path(path)
    fig.savefig(path, dpi=150, bbox_inches="tight")
    plt.close(fig)
    return path


def write_reports(compiled: object, folder: str | Path, picture: bool = True) -> Path:
    """Write every report into ``folder`` (see the module docstring); returns the folder.

    Parameters
    ----------
    compiled
        What ``sim.get_mapping()`` returns (or any object with ``network``, ``mapping`` and,
        optionally, ``image``, ``emulator`` and ``timings``).
    folder
        Created if needed.
    picture
        Draw ``chips.png`` too (needs matplotlib).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "summary.json").write_text(json.dumps(summary(compiled), indent=2) + "\n")
    (folder / "placement.txt").write_text(placement_table(compiled) + "\n")
    (folder / "keys.txt").write_text(key_table(compiled) + "\n")
    (folder / "router_tables.txt").write_text(router_tables_text(compiled) + "\n")
    (folder / "packets.txt").write_text(packets_table(compiled) + "\n")
    if picture:
        draw_chips(compiled, folder / "chips.png")
    return folder
