"""The machine image holds exactly the network's synapses, in the documented layout, and
survives a save/load round trip."""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st

from pynn_spinnaker2.cells import RECEPTOR_INDEX
from pynn_spinnaker2.image import build_image, load_image, save_image
from pynn_spinnaker2.image.machine_image import decode_control
from pynn_spinnaker2.image.rows import stable_group
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.mapping import map_network
from pynn_spinnaker2.network import Network, PopulationSpec, ProjectionSpec


def _network(seed: int) -> Network:
    rng = np.random.default_rng(seed)
    pops = (PopulationSpec("a", "SpikeSourcePoisson", int(rng.integers(1, 300)),
                           max_per_core=int(rng.integers(1, 64))),
            PopulationSpec("b", "IF_curr_exp", int(rng.integers(1, 300)),
                           max_per_core=int(rng.integers(1, 64))),
            PopulationSpec("c", "IF_cond_exp", int(rng.integers(1, 300))))
    projs = []
    for k in range(int(rng.integers(1, 6))):
        pre = pops[int(rng.integers(3))]
        post = pops[int(rng.integers(1, 3))]
        n = int(rng.integers(0, 4000))
        tm = bool(rng.random() < 0.3)
        projs.append(ProjectionSpec(
            f"p{k}", pre.label, post.label, rng.integers(0, pre.size, n),
            rng.integers(0, post.size, n), rng.uniform(0, 1, n),
            rng.integers(1, 30, n) * 0.5, ["excitatory", "inhibitory"][k % 2],
            "TsodyksMarkramSynapse" if tm else "StaticSynapse",
            {"U": rng.uniform(0.1, 1, n), "tau_rec": np.full(n, 100.0),
             "tau_facil": np.zeros(n)} if tm else {}))
    return Network(0.5, pops, tuple(projs), machine=Machine(width=3, height=2,
                                                            pes_per_chip=110))


def _synapses_in_image(image: object, mapping: object) -> list[tuple]:
    """(pre population, pre index, post population, post index, weight, delay steps,
    receptor) of every synapse, read back through each core's key table and rows."""
    by_key = {k.key: p for k, p in zip(mapping.keys, mapping.pieces, strict=True)}
    out = []
    for core, where in zip(image.cores, image.index_map, strict=True):
        mpt, rows = core.sram["master_pop_table"], core.dram["row_index"]
        syn = core.dram["synapses"]
        assert np.all(np.diff(mpt["key"].astype(np.int64)) > 0)  # sorted by key
        for entry in mpt:
            src = by_key[int(entry["key"])]
            assert entry["n_rows"] == src.size  # one row per source neuron
            for j in range(int(entry["n_rows"])):
                row = rows[int(entry["row_start"]) + j]
                part = syn[int(row["start"]):int(row["start"]) + int(row["length"])]
                tgt, rec, delay, _ = decode_control(part["control"])
                for w, t, r, d in zip(part["weight"], tgt, rec, delay, strict=True):
                    out.append((src.population, src.lo + j, where.population,
                                where.lo + int(t), float(w), int(d), int(r)))
    return sorted(out)


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 100_000))
def test_image_holds_exactly_the_networks_synapses(seed: int) -> None:
    network = _network(seed)
    mapping = map_network(network)
    image = build_image(network, mapping)
    want = sorted(
        (p.pre, int(i), p.post, int(j), float(np.float32(w)), int(round(d / network.timestep)),
         RECEPTOR_INDEX[p.receptor])
        for p in network.projections
        for i, j, w, d in zip(p.pre_idx, p.post_idx, p.weight, p.delay, strict=True))
    assert _synapses_in_image(image, mapping) == want


def test_saved_image_loads_identically(tmp_path) -> None:
    network = _network(3)
    image = build_image(network, map_network(network))
    back = load_image(save_image(image, tmp_path / "image.npz"))
    assert back.machine == image.machine and back.timestep == image.timestep
    for a, b in zip(image.cores, back.cores, strict=True):
        assert (a.chip, a.pe, a.kernel, a.n_neurons, a.key, a.mask) == (
            b.chip, b.pe, b.kernel, b.n_neurons, b.key, b.mask)
        for region in (*a.sram, *a.dram):
            mem_a = a.sram.get(region, a.dram.get(region))
            mem_b = b.sram.get(region, b.dram.get(region))
            np.testing.assert_array_equal(mem_a, mem_b)
    for chip, table in image.router_tables.items():
        np.testing.assert_array_equal(table, back.router_tables[chip])


@settings(max_examples=50, deadline=None)
@given(keys=st.lists(st.integers(0, 20), max_size=200))
def test_stable_group_is_a_stable_sort(keys: list[int]) -> None:
    keys = np.array(keys, np.int64)
    np.testing.assert_array_equal(stable_group(keys, 21), np.argsort(keys, kind="stable"))
    values = np.arange(keys.size, dtype=np.uint64) * 7
    np.testing.assert_array_equal(stable_group(keys, 21, values),
                                  values[np.argsort(keys, kind="stable")])


def test_sparse_lookups_and_small_blocks_give_the_same_image(monkeypatch) -> None:
    """Above DENSE_PAIRS (piece pairs) the connectivity and the rows are found by sorting
    instead of dense tables, and every pass over the synapses goes in blocks: forcing both
    on a small network gives exactly the same mapping and image."""
    from pynn_spinnaker2.mapping import passes

    network = _network(5)
    mapping = map_network(network)
    image = build_image(network, mapping)
    monkeypatch.setattr(passes, "DENSE_PAIRS", 0)
    monkeypatch.setattr(passes, "BLOCK", 7)
    sparse_mapping = map_network(network)
    np.testing.assert_array_equal(sparse_mapping.connectivity.synapses,
                                  mapping.connectivity.synapses)
    sparse = build_image(network, sparse_mapping)
    for a, b in zip(image.cores, sparse.cores, strict=True):
        for region in ("master_pop_table",):
            np.testing.assert_array_equal(a.sram[region], b.sram[region])
        for region in a.dram:
            np.testing.assert_array_equal(a.dram[region], b.dram[region])


def test_emulator_loads_the_same_synapses_in_small_blocks(monkeypatch) -> None:
    import pynn_spinnaker2.backends.emulator.emulator as emulator
    import pynn_spinnaker2.backends.emulator.synapses as synapses

    network = _network(8)
    image = build_image(network, map_network(network))
    whole = emulator.Emulator(image)
    monkeypatch.setattr(synapses, "LOAD_BLOCK", 7)
    blocks = emulator.Emulator(image)
    for name in ("syn_ptr", "syn_delay", "syn_slot", "syn_weight", "syn_core", "syn_dynamic"):
        np.testing.assert_array_equal(getattr(whole, name), getattr(blocks, name))
    assert whole.syn_weight.size == sum(len(p) for p in network.projections)
