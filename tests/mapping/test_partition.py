"""Partition by memory cost, key allocation, placement, and the errors for networks that do
not fit: each names the population (or chip), the limit, by how much, and the remedy."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pynn_spinnaker2.errors import MappingError
from pynn_spinnaker2.image import build_image
from pynn_spinnaker2.image import machine_image as image_model
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.mapping import map_network, memory, regions
from pynn_spinnaker2.mapping.keys import MAX_PIECES, NEURON_BITS, allocate_keys
from pynn_spinnaker2.mapping.partition import partition
from pynn_spinnaker2.network import (
    CurrentSourceSpec,
    Network,
    PopulationSpec,
    ProjectionSpec,
    RecordSpec,
)


def _proj(label: str, pre: PopulationSpec, post: PopulationSpec, n: int, seed: int = 0,
          delay: float = 1.0, **kw: object) -> ProjectionSpec:
    rng = np.random.default_rng(seed)
    return ProjectionSpec(label, pre.label, post.label, rng.integers(0, pre.size, n),
                          rng.integers(0, post.size, n), np.full(n, 0.1), np.full(n, delay),
                          **kw)


def test_the_image_reexports_the_declared_region_formats() -> None:
    for name in ("MPT_DTYPE", "ROW_DTYPE", "SYNAPSE_DTYPE", "DYNAMICS_DTYPE", "QUANTAL_DTYPE",
                 "RECORDING_DTYPE", "SCHEDULE_DTYPE", "CURRENT_SOURCE_DTYPE",
                 "CURRENT_SCHEDULE_DTYPE", "CURRENT_TARGET_DTYPE"):
        assert getattr(image_model, name) is getattr(regions, name)


def test_pieces_are_sized_by_memory_not_by_count() -> None:
    """Same cell type, same cap; the population whose input rings are 16 times longer gets
    smaller pieces, and the one whose synaptic rows fill a small DRAM share gets smaller
    pieces still."""
    machine = Machine(sram_per_pe=64 * 1024, sram_reserved=32 * 1024,
                      dram_per_chip=152 * 64 * 1024)
    src = PopulationSpec("src", "SpikeSourcePoisson", 100)
    short = PopulationSpec("short", "IF_curr_exp", 2000, max_per_core=2048)
    long = PopulationSpec("long", "IF_curr_exp", 2000, max_per_core=2048)
    dense = PopulationSpec("dense", "IF_curr_exp", 2000, max_per_core=2048)
    net = Network(1.0, (src, short, long, dense),
                  (_proj("a", src, short, 100, delay=1.0),
                   _proj("b", src, long, 100, delay=30.0),
                   _proj("c", src, dense, 60_000, delay=1.0)), machine=machine)
    pieces = partition(net, machine)
    size = {label: max(p.size for p in pieces if p.population == label)
            for label in ("short", "long", "dense")}
    assert size["short"] > size["long"] > 0
    assert size["dense"] < size["short"]
    for p in pieces:
        assert p.sram <= machine.sram_data_budget and p.dram <= machine.dram_per_pe
    # Equal sizes where the count allows: 2000 neurons never end in a stub piece.
    for label in ("short", "long"):
        sizes = [p.size for p in pieces if p.population == label]
        assert max(sizes) - min(sizes) <= 1


def test_neurons_per_core_limits_are_kept() -> None:
    pops = (PopulationSpec("a", "IF_curr_exp", 1000, max_per_core=100),
            PopulationSpec("b", "IF_curr_exp", 5000))
    pieces = partition(Network(1.0, pops), Machine())
    assert max(p.size for p in pieces if p.population == "a") == 100
    assert max(p.size for p in pieces if p.population == "b") <= 1 << NEURON_BITS


def _random_network(seed: int) -> Network:
    rng = np.random.default_rng(seed)
    pops = [PopulationSpec("src", "SpikeSourceArray", 30,
                           spike_times=tuple(np.sort(rng.uniform(1, 50, rng.integers(0, 9)))
                                             for _ in range(30)),
                           record={"spikes": RecordSpec(np.arange(0, 30, 3), 1.0)})]
    graded_times = tuple(np.arange(1.0, 1.0 + rng.integers(0, 60)) for _ in range(40))
    pops.append(PopulationSpec("graded", "GradedSourceArray", 40, spike_times=graded_times,
                               spike_values=tuple(rng.normal(size=t.size).astype(np.float32)
                                                  for t in graded_times),
                               max_per_core=int(rng.integers(4, 41))))
    for i in range(int(rng.integers(1, 4))):
        n = int(rng.integers(5, 400))
        pops.append(PopulationSpec(
            f"p{i}", ["IF_curr_exp", "IF_cond_exp", "IF_curr_alpha"][i % 3], n,
            record={"v": RecordSpec(np.arange(0, n, 5), 1.0)},
            max_per_core=int(rng.integers(8, 300))))
    projs = []
    for k in range(int(rng.integers(1, 6))):
        pre = pops[int(rng.integers(len(pops)))]
        post = pops[int(rng.integers(2, len(pops)))]
        tm = bool(rng.random() < 0.3)
        n = int(rng.integers(1, 3000))
        params = ({"U": np.full(n, 0.5), "tau_rec": np.full(n, 100.0),
                   "tau_facil": np.zeros(n)} if tm else {})
        projs.append(ProjectionSpec(
            f"x{k}", pre.label, post.label, rng.integers(0, pre.size, n),
            rng.integers(0, post.size, n), rng.uniform(0, 0.1, n),
            rng.integers(1, 40, n).astype(float),
            synapse="TsodyksMarkramSynapse" if tm else "StaticSynapse", params=params))
    target = pops[2]
    sources = (CurrentSourceSpec("dc", "DCSource",
                                 {"amplitude": 0.1, "start": 1.0, "stop": 5.0},
                                 ((target.label, np.arange(0, target.size, 2)),)),)
    machine = Machine(width=2, height=2, sram_per_pe=int(rng.integers(48, 129)) * 1024,
                      dram_per_chip=int(rng.integers(1, 64)) * 152 * 1024)
    return Network(1.0, tuple(pops), tuple(projs), sources, machine)


@settings(max_examples=40, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_the_image_fits_what_the_partition_estimated(seed: int) -> None:
    """On random networks, every core's SRAM and DRAM in the built image stays within the
    memory model's estimate for its piece, and so within the PE's budgets."""
    net = _random_network(seed)
    try:
        mapping = map_network(net)
    except MappingError:
        return
    image = build_image(net, mapping)
    for core, piece in zip(image.cores, mapping.pieces, strict=True):
        assert core.sram_bytes <= piece.sram - regions.FIXED_OVERHEAD, piece
        assert core.dram_bytes <= piece.dram, piece


def test_graded_events_are_costed_in_dram_where_the_image_puts_them() -> None:
    """A graded source's events live in DRAM (12 B each), not in SRAM: 2000 events per
    neuron do not split it into tiny pieces, and a small DRAM share does."""
    times = tuple(np.arange(1.0, 2001.0) for _ in range(64))
    values = tuple(np.ones(2000, np.float32) for _ in range(64))
    pop = PopulationSpec("embedding", "GradedSourceArray", 64, spike_times=times,
                         spike_values=values)
    cost = memory.CostModel(Network(1.0, (pop,))).cost("embedding", {"embedding": 1})
    assert np.all(cost.dram_neuron == 2000 * regions.EVENT_DTYPE.itemsize)
    assert np.all(cost.sram_neuron < 100)
    assert len(partition(Network(1.0, (pop,)), Machine())) == 1
    small = Machine(dram_per_chip=152 * 100_000)
    pieces = partition(Network(1.0, (pop,), machine=small), small)
    assert len(pieces) == 64 * 24_000 // 100_000 + 1
    image = build_image(Network(1.0, (pop,), machine=small),
                        map_network(Network(1.0, (pop,), machine=small)))
    for core, piece in zip(image.cores, pieces, strict=True):
        assert core.dram_bytes <= piece.dram <= small.dram_per_pe


# -- keys --------------------------------------------------------------------------------
@settings(max_examples=100, deadline=None)
@given(counts=st.lists(st.integers(0, 300), min_size=1, max_size=20))
def test_keys_are_aligned_blocks_per_population(counts: list[int]) -> None:
    slots, blocks = allocate_keys(counts)
    assert len(set(slots.tolist())) == slots.size == sum(counts)
    start = 0
    for count, block in zip(counts, blocks, strict=True):
        mine = slots[start:start + count] << NEURON_BITS
        start += count
        if count:
            assert np.all((mine & block.mask) == block.key)  # the population's prefix
            size = ((~block.mask) & 0xFFFFFFFF) + 1 >> NEURON_BITS
            assert block.slot % size == 0 and count <= size < 2 * count + 1
    others = slots << NEURON_BITS
    for count, block in zip(counts, blocks, strict=True):
        if count:  # no other population's piece falls in this block
            inside = np.sum((others & block.mask) == block.key)
            assert inside == count


def test_too_many_pieces_for_the_key_layout() -> None:
    allocate_keys([MAX_PIECES // 2 + 1])
    with pytest.raises(MappingError, match=r"take 4194304 key slots once each population's "
                                           r"block is aligned, but the key layout has 2097152"):
        allocate_keys([MAX_PIECES // 2 + 1, MAX_PIECES // 2 + 1])


# -- placement ----------------------------------------------------------------------------
def test_sources_are_placed_with_their_targets() -> None:
    """Each of 8 one-to-one source/target pairs of populations fits one chip: every route
    stays on its chip, so no packet crosses a link."""
    pops, projs = [], []
    for i in range(8):
        src = PopulationSpec(f"in{i}", "SpikeSourcePoisson", 200, max_per_core=20)
        dst = PopulationSpec(f"out{i}", "IF_curr_exp", 200, max_per_core=20)
        pops += [src, dst]
        projs.append(ProjectionSpec(f"c{i}", src.label, dst.label, np.arange(200),
                                    np.arange(200), np.full(200, 1.0), np.full(200, 1.0)))
    # Sources listed first, all together: placing in network order would split the pairs.
    pops = pops[0::2] + pops[1::2]
    net = Network(1.0, tuple(pops), tuple(projs), machine=Machine(width=4, height=4,
                                                                  pes_per_chip=20))
    mapping = map_network(net)
    assert int(np.sum(mapping.trees["links"] != 0)) == 0


# -- errors -------------------------------------------------------------------------------
def test_neuron_too_big_for_sram_names_the_delay() -> None:
    pre = PopulationSpec("pre", "SpikeSourcePoisson", 10)
    post = PopulationSpec("slow", "IF_curr_exp", 10)
    net = Network(0.1, (pre, post), (_proj("p", pre, post, 10, delay=400.0),),
                  machine=Machine(sram_per_pe=64 * 1024, sram_reserved=60 * 1024))
    with pytest.raises(MappingError, match=r"population 'slow' \(IF_curr_exp\): one neuron "
                                           r"needs \d+ bytes of SRAM .* bytes over\. Remedy: "
                                           r"shorten the longest delay into it \(4000 steps"):
        map_network(net)


def test_key_table_too_big_names_the_source_populations() -> None:
    pops = [PopulationSpec(f"s{i}", "SpikeSourcePoisson", 600, max_per_core=1)
            for i in range(3)]
    post = PopulationSpec("target", "IF_curr_exp", 10)
    projs = [_proj(f"p{i}", p, post, 5) for i, p in enumerate(pops)]
    net = Network(1.0, (*pops, post), tuple(projs),
                  machine=Machine(width=13, height=1, sram_per_pe=60 * 1024,
                                  sram_reserved=32 * 1024))
    with pytest.raises(MappingError, match=r"1800 source pieces.*raise the neurons per core "
                                           r"of its source populations"):
        map_network(net)


def test_synaptic_rows_too_big_for_dram() -> None:
    pre = PopulationSpec("pre", "SpikeSourcePoisson", 100)
    post = PopulationSpec("hub", "IF_curr_exp", 2)
    n = 20_000
    proj = ProjectionSpec("p", "pre", "hub", np.zeros(n, int), np.zeros(n, int),
                          np.full(n, 0.1), np.full(n, 1.0))
    net = Network(1.0, (pre, post), (proj,), machine=Machine(dram_per_chip=152 * 100_000))
    with pytest.raises(MappingError, match=r"population 'hub' \(IF_curr_exp\): neuron 0 "
                                           r"needs 160800 bytes of DRAM .* share of its "
                                           r"chip's DRAM is 100000 bytes .*: 60800 bytes "
                                           r"over\. Remedy: fewer synapses"):
        map_network(net)


def test_too_few_pes_says_how_many_chips() -> None:
    net = Network(1.0, (PopulationSpec("big", "IF_curr_exp", 1000, max_per_core=10),),
                  machine=Machine(width=2, height=1, pes_per_chip=20))
    with pytest.raises(MappingError, match=r"needs at least 100 PEs but the machine has 40 "
                                           r"\(2 chips x "
                                           r"20\): 60 too many; largest users: 'big' \(100 "
                                           r"PEs\)\. Remedy: ask for at least 5 chips"):
        map_network(net)


def test_router_table_overflow_names_chip_and_populations() -> None:
    """Every piece sends to a different PE set, so nothing merges; two entries per chip
    cannot hold them."""
    src = PopulationSpec("fan", "SpikeSourcePoisson", 12, max_per_core=1)
    dst = PopulationSpec("sink", "IF_curr_exp", 12, max_per_core=1)
    proj = ProjectionSpec("p", "fan", "sink", np.arange(12), np.arange(12), np.full(12, 1.0),
                          np.full(12, 1.0))
    net = Network(1.0, (src, dst), (proj,),
                  machine=Machine(width=1, height=1, pes_per_chip=24, router_entries=2))
    with pytest.raises(MappingError, match=r"chip \(0, 0\) needs 12 router entries after "
                                           r"compression but its router has 2: 10 too many; "
                                           r"entries by source: population 'fan': 12"):
        map_network(net)
