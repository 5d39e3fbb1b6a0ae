"""Draw doc/architecture.svg: the layers of pynn_spinnaker2 and the data flowing between them.

Run from the repository root after changing the layers (the SVG is committed)::

    .venv/bin/python doc/architecture_diagram.py

matplotlib only; the SVG is written without dates or random ids, so reruns give the same file.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

OUT = Path(__file__).resolve().parent / "architecture.svg"

FRONT = "#dbe9f6"
STAGE = "#fde9c9"
MAP = "#fff5dd"
BACK = "#dff1de"
LIB = "#ece4f3"
EDGE = "#444444"


def box(ax, x, y, w, h, title, body="", color=STAGE, size=10):
    ax.add_patch(FancyBboxPatch((x, y), w, h, boxstyle="round,pad=0.02,rounding_size=0.08",
                                facecolor=color, edgecolor=EDGE, linewidth=1.0))
    if body:
        ax.text(x + w / 2, y + h - 0.17, title, ha="center", va="top", fontsize=size,
                fontweight="bold")
        ax.text(x + w / 2, y + h - 0.47, body, ha="center", va="top", fontsize=7.5,
                family="monospace", linespacing=1.3)
    else:
        ax.text(x + w / 2, y + h / 2, title, ha="center", va="center", fontsize=size,
                fontweight="bold")


def arrow(ax, x0, y0, x1, y1, label="", style="-|>", ls="-", color=EDGE, side="right"):
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle=style, mutation_scale=12,
                                 linewidth=1.1, linestyle=ls, color=color,
                                 shrinkA=0, shrinkB=0))
    if label:
        dx = 0.08 if side == "right" else -0.08
        ax.text((x0 + x1) / 2 + dx, (y0 + y1) / 2, label, fontsize=7.5, style="italic",
                ha="left" if side == "right" else "right", va="center", color="#333333")


def draw(path: Path = OUT) -> Path:
    plt.rcParams["svg.hashsalt"] = "pynn_spinnaker2"  # stable ids
    fig, ax = plt.subplots(figsize=(11, 12.2))
    ax.set_xlim(0, 11)
    ax.set_ylim(0, 12.2)
    ax.axis("off")

    cx, w = 3.0, 4.6          # the main column: centre x, width
    x0 = cx - w / 2

    # Front ends.
    box(ax, 0.05, 10.75, 2.85, 1.2, "PyNN layer", "pynn/\nimport pyNN.spinnaker2\nas sim",
        FRONT)
    box(ax, 3.15, 10.75, 2.7, 1.2, "NIR front end", "frontends/nir_*.py\nsim.import_nir\n"
        "sim.export_nir", FRONT)
    box(ax, 6.1, 10.75, 2.2, 1.2, "XML file", "network/xml_io.py\nsim.load_network", FRONT)

    # Compile to the Network.
    box(ax, x0, 9.05, w, 1.05, "Network (frozen)",
        "network/: spec, validate, xml_io (+ .xsd)\n"
        "pynn/build.py builds it; compile.py runs below", STAGE)
    arrow(ax, 1.55, 10.75, 1.9, 10.1, "build", side="left")
    arrow(ax, 4.5, 10.75, 4.0, 10.1, "lower", side="right")
    arrow(ax, 7.2, 10.75, x0 + w, 9.9, "from_xml", side="right")

    # Mapping.
    my, mh = 5.05, 3.4
    box(ax, x0 - 0.3, my, w + 0.6, mh, "", "", MAP)
    ax.text(cx, my + mh - 0.12, "Mapping   mapping/pipeline.py: map_network", ha="center",
            va="top", fontsize=10, fontweight="bold")
    steps = [("partition", "partition.py, memory.py, regions.py"), ("place", "place.py"),
             ("keys", "keys.py"), ("route", "route.py"), ("compress", "compress.py"),
             ("check", "check.py (independent)")]
    sy = my + mh - 0.55
    for i, (name, mod) in enumerate(steps):
        y = sy - i * 0.46 - 0.34
        box(ax, cx - 1.9, y, 1.25, 0.34, name, "", STAGE, size=8.5)
        ax.text(cx - 0.5, y + 0.17, mod, fontsize=7.5, family="monospace", va="center")
        if i:
            arrow(ax, cx - 1.275, y + 0.46, cx - 1.275, y + 0.34)
    arrow(ax, cx, 9.05, cx, my + mh, "Network", side="right")

    # Image, backend, recording.
    box(ax, x0, 3.45, w, 1.05, "MachineImage",
        "image/: build, neurons, rows, currents, io\nper-PE regions + router tables", STAGE)
    arrow(ax, cx, my, cx, 4.5, "Network + Mapping", side="right")
    box(ax, x0, 1.75, w, 1.15, "Backend: emulator",
        "backends/emulator/: emulator, layout, synapses,\n"
        "synaptic_state, plan, probes, counters, router",
        BACK)
    arrow(ax, cx, 3.45, cx, 2.9, "reads only the image", side="right")
    box(ax, x0, 0.2, w, 1.0, "Recording -> neo.Block",
        "recording/neo.py, pynn/recording.py", FRONT)
    arrow(ax, cx, 1.75, cx, 1.2, "raw recordings (machine units)", side="right")
    arrow(ax, x0, 0.7, 0.12, 0.7, style="-")
    arrow(ax, 0.12, 0.7, 0.12, 10.75, "neo.Block", side="right")

    # Type library below the stages.
    lx, lw = 8.0, 2.8
    box(ax, lx, 5.45, lw, 3.0, "Type library",
        "cells/\n one module per cell type:\n parameters, layout, kernel,\n reference step, cost"
        "\n\nsynapses/\n one module per synapse type\n\nmachine.py (chip facts)", LIB)
    for y, label in ((9.5, "types + params"), (6.7, "sizes, layout"), (3.95, "regions"),
                     (2.3, "kernels")):
        target = cx + w / 2 + (0.3 if 5.05 < y < 8.45 else 0)
        yl = min(max(y, 5.6), 8.3)
        arrow(ax, lx, yl, target, y, style="-|>", ls=":", color="#6a4c93")
        ax.text((lx + target) / 2, (yl + y) / 2 + 0.1, label, fontsize=7, color="#6a4c93",
                ha="center", va="bottom", rotation=0,
                bbox=dict(facecolor="white", edgecolor="none", pad=0.5))

    # Cost model.
    box(ax, lx, 1.7, lw, 1.25, "Cost model",
        "cost/: activity, pricing,\nconstants, report\nsim.get_cost()", BACK)
    arrow(ax, x0 + w, 2.2, lx, 2.2, "work counted\nper PE and step", side="right")
    box(ax, lx, 3.35, lw, 0.9, "Reports", "reports.py (placement,\nkeys, tables, memory)",
        LIB)
    arrow(ax, x0 + w + 0.3, 5.4, lx + 0.6, 4.25, ls="--")

    fig.savefig(path, format="svg", bbox_inches="tight", metadata={"Date": None})
    plt.close(fig)
    return path


if __name__ == "__main__":
    print(draw())
