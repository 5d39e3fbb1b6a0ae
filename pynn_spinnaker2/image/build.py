"""Build the MachineImage from a Network and its Mapping.

Every core region is declared once in :mod:`pynn_spinnaker2.mapping.regions` (name, memory,
format, size, writer); the builder runs each declared writer once for the whole network
(:data:`WRITERS`: neurons, synaptic rows, STDP traces, current sources, seeds), then lays out
every core's regions in SRAM or DRAM as declared, so the image holds exactly the regions the
partitioner sized.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from ..errors import MappingError
from ..mapping import Mapping
from ..mapping.regions import REGIONS, Region
from ..network import Network
from .currents import current_source_regions
from .machine_image import ROUTER_DTYPE, CoreImage, CoreSlice, MachineImage
from .neurons import Written, neuron_regions
from .rows import stable_group, stdp_post_regions, synaptic_rows

__all__ = ["WRITERS", "build_image", "check_memory", "stable_group"]


def seed_regions(network: Network, mapping: Mapping) -> Written:
    """The random number generator seed of every core (the ``seed`` writer of the image).

    Parameters
    ----------
    network : Network
        The network (its seed).
    mapping : Mapping
        Its mapping.

    Returns
    -------
    Written
        Piece index -> ``{"rng_seed": four uint32 words}``.
    """
    return {piece.index: {"rng_seed": np.random.SeedSequence(
        [network.seed, piece.index]).generate_state(4).astype("<u4")}
        for piece in mapping.pieces}


#: Writer name (``Region.writer``) -> the function filling its regions for every piece.
WRITERS: dict[str, Callable[[Network, Mapping], Written]] = {
    "neurons": neuron_regions,
    "stdp": stdp_post_regions,
    "currents": current_source_regions,
    "seed": seed_regions,
}


def build_image(network: Network, mapping: Mapping) -> MachineImage:
    """Lay out every core's regions and every chip's router table.

    Parameters
    ----------
    network : Network
        The network.
    mapping : Mapping
        Its mapping.

    Returns
    -------
    MachineImage
        What the machine is loaded with.

    Raises
    ------
    MappingError
        When a core's SRAM or a chip's DRAM is over its budget.
    """
    rows, plastic = synaptic_rows(network, mapping)
    written = {"rows": rows}
    for name, writer in WRITERS.items():
        written[name] = writer(network, mapping)
    cores = []
    for piece in mapping.pieces:
        place, key = mapping.placements[piece.index], mapping.keys[piece.index]
        sram: dict[str, np.ndarray] = {}
        dram: dict[str, np.ndarray] = {}
        for region in REGIONS:
            array = written[region.writer].get(piece.index, {}).get(region.name)
            if array is None:
                if not region.always:
                    continue
                array = region.empty()
            _check_format(region, array)
            (sram if region.memory == "sram" else dram)[region.name] = array
        cores.append(CoreImage(place.chip, place.pe, piece.kernel, piece.size, key.key,
                               key.mask, sram, dram))
    _check_all_declared(written)
    image = MachineImage(network.machine, network.timestep, tuple(cores),
                         router_tables(mapping),
                         tuple(CoreSlice(p.population, p.lo, p.hi) for p in mapping.pieces),
                         plastic)
    check_memory(image)
    return image


def router_tables(mapping: Mapping) -> dict[tuple[int, int], np.ndarray]:
    """Every chip's compressed router table as ``ROUTER_DTYPE`` records.

    Parameters
    ----------
    mapping : Mapping
        The mapping (its ``tables``).

    Returns
    -------
    dict
        Chip -> records in priority order.
    """
    tables = {}
    for chip, table in mapping.tables.items():
        out = np.zeros(len(table), dtype=ROUTER_DTYPE)
        out["key"], out["mask"], out["route"] = table.key, table.mask, table.route
        tables[chip] = out
    return tables


def _check_format(region: Region, array: np.ndarray) -> None:
    # A writer whose records differ from the declaration would be sized wrongly.
    if region.dtype is not None and array.dtype != region.dtype:
        raise TypeError(f"region {region.name!r} written as {array.dtype}, declared "
                        f"{region.dtype} (mapping.regions)")


def _check_all_declared(written: dict[str, Written]) -> None:
    # An undeclared region would be in no core, and in no size.
    declared = {(r.writer, r.name) for r in REGIONS}
    for writer, pieces in written.items():
        for regions in pieces.values():
            for name in regions:
                if (writer, name) not in declared:
                    raise TypeError(f"writer {writer!r} filled region {name!r}, which "
                                    f"mapping.regions does not declare for it")


def check_memory(image: MachineImage) -> None:
    """Raise a MappingError naming the population whose core or chip is over budget."""
    machine = image.machine
    budget = machine.sram_data_budget
    dram: dict[tuple[int, int], int] = {}
    for core, where in zip(image.cores, image.index_map, strict=True):
        if core.sram_bytes > budget:
            raise MappingError(
                f"population {where.population!r}, neurons {where.lo}-{where.hi - 1} on chip "
                f"{core.chip} PE {core.pe}: {core.sram_bytes} bytes of SRAM needed, "
                f"{budget} available: {core.sram_bytes - budget} over; lower its neurons per "
                f"core (sim.set_number_of_neurons_per_core) or record fewer variables")
        if core.dram_bytes > machine.dram_per_pe:
            raise MappingError(
                f"population {where.population!r}, neurons {where.lo}-{where.hi - 1} on chip "
                f"{core.chip} PE {core.pe}: {core.dram_bytes} bytes of DRAM (synaptic rows, "
                f"graded events), but a PE's share of DRAM is {machine.dram_per_pe}: "
                f"{core.dram_bytes - machine.dram_per_pe} over; lower its neurons per core")
        dram[core.chip] = dram.get(core.chip, 0) + core.dram_bytes
    for chip, used in dram.items():
        if used > machine.dram_per_chip:
            raise MappingError(f"chip {chip}: synaptic rows and graded events need {used} "
                               f"bytes of DRAM, {machine.dram_per_chip} available: "
                               f"{used - machine.dram_per_chip} over; use more chips")
