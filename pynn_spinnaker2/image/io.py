"""Save a MachineImage to disk and load it back, to replay a run without the PyNN layer.

One ``.npz`` file: every region under ``core{i}/sram/{name}`` or ``core{i}/dram/{name}``,
router tables under ``router/{x}_{y}``, and a JSON manifest (machine, timestep, per-core
placement, kernel, key, index map) under ``manifest``.
"""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import numpy as np

from ..errors import ImageError
from ..machine import Machine
from .machine_image import CoreImage, CoreSlice, MachineImage

FORMAT = "pynn_spinnaker2.image/1"


def save_image(image: MachineImage, path: str | Path) -> Path:
    """Write ``image`` to ``path`` (``.npz``)."""
    path = Path(path)
    arrays: dict[str, np.ndarray] = {}
    cores = []
    for i, core in enumerate(image.cores):
        for memory, regions in (("sram", core.sram), ("dram", core.dram)):
            for name, region in regions.items():
                arrays[f"core{i}/{memory}/{name}"] = region
        cores.append({"chip": list(core.chip), "pe": core.pe, "kernel": core.kernel,
                      "n_neurons": core.n_neurons, "key": core.key, "mask": core.mask,
                      "sram": sorted(core.sram), "dram": sorted(core.dram)})
    for (x, y), table in image.router_tables.items():
        arrays[f"router/{x}_{y}"] = table
    manifest = {"format": FORMAT, "machine": asdict(image.machine),
                "timestep": image.timestep, "cores": cores,
                "index_map": [asdict(s) for s in image.index_map]}
    arrays["manifest"] = np.frombuffer(json.dumps(manifest).encode(), dtype=np.uint8)
    with path.open("wb") as f:
        np.savez_compressed(f, **arrays)
    return path


def load_image(path: str | Path) -> MachineImage:
    """Read an image written by :func:`save_image`."""
    with np.load(Path(path), allow_pickle=False) as data:
        manifest = json.loads(bytes(data["manifest"]).decode())
        if manifest.get("format") != FORMAT:
            raise ImageError(f"{path}: not a {FORMAT} file (format {manifest.get('format')})")
        cores = tuple(
            CoreImage(tuple(c["chip"]), c["pe"], c["kernel"], c["n_neurons"], c["key"],
                      c["mask"], {n: data[f"core{i}/sram/{n}"] for n in c["sram"]},
                      {n: data[f"core{i}/dram/{n}"] for n in c["dram"]})
            for i, c in enumerate(manifest["cores"]))
        tables = {tuple(int(v) for v in k.split("/")[1].split("_")): data[k]
                  for k in data.files if k.startswith("router/")}
    return MachineImage(Machine(**manifest["machine"]), manifest["timestep"], cores, tables,
                        tuple(CoreSlice(**s) for s in manifest["index_map"]))
