"""The machine and the neurons-per-core limits, as a script asks for them in sim.setup."""

from __future__ import annotations

import pyNN.spinnaker2 as sim
import pytest

from pynn_spinnaker2.errors import MappingError
from pynn_spinnaker2.machine import Machine
from pynn_spinnaker2.pynn.simulator import state


@pytest.mark.parametrize(("kwargs", "size"), [
    ({}, (1, 1)), ({"n_chips": 5}, (3, 2)), ({"n_boards": 1}, (8, 6)),
    ({"n_boards": 2}, (8, 12)), ({"n_boards": 4}, (16, 12)), ({"n_boards": 3}, (8, 18)),
    ({"machine": Machine(width=2, height=7)}, (2, 7))])
def test_machine_size_from_setup(kwargs: dict, size: tuple) -> None:
    sim.setup(timestep=1.0, **kwargs)
    assert (state.machine.width, state.machine.height) == size
    assert state.machine.n_pes == size[0] * size[1] * 152
    sim.end()


def test_machine_facts() -> None:
    m = Machine.boards(1)
    assert (m.n_chips, m.pes_per_chip, m.n_qpes, m.sram_per_pe, m.sram_data_budget,
            m.router_entries, m.key_bits, m.links_per_chip) == (
        48, 152, 38, 128 * 1024, 96 * 1024, 16384, 32, 6)
    assert m.dram_per_pe == 2 * 1024**3 // 152
    with pytest.raises(ValueError, match="sram_reserved"):
        Machine(sram_reserved=128 * 1024)
    with pytest.raises(ValueError, match="holds 154 PEs"):
        Machine(pes_per_chip=200)


def test_too_small_a_machine_says_how_many_chips() -> None:
    sim.setup(timestep=1.0, machine=Machine(pes_per_chip=4))
    sim.Population(2000, sim.IF_curr_exp(), label="big")
    with pytest.raises(MappingError, match=r"ask for at least 2 chips, e.g. "
                                           r"sim.setup\(n_chips=2\)"):
        sim.run(1.0)
    sim.end()


def test_neurons_per_core_by_label_and_by_cell_type() -> None:
    """setup(max_neurons_per_core=...) takes population labels as well as cell types; the
    population's own limit wins, then its label, then its cell type."""
    sim.setup(timestep=1.0, max_neurons_per_core={"IF_curr_exp": 50, "b": 10})
    a = sim.Population(100, sim.IF_curr_exp(), label="a")
    sim.Population(100, sim.IF_curr_exp(), label="b")
    c = sim.Population(100, sim.IF_curr_exp(), label="c")
    c.set_max_neurons_per_core(25)
    sim.run(1.0)
    pieces = sim.get_mapping().mapping.pieces
    sizes = {label: max(p.size for p in pieces if p.population == label)
             for label in ("a", "b", "c")}
    assert sizes == {"a": 50, "b": 10, "c": 25}
    assert a.size == 100
    sim.end()


# -- sizes and values the code does not honour ------------------------------------------------
@pytest.mark.parametrize(("kwargs", "message"), [
    ({"n_chips": 1.5}, r"n_chips must be a whole number, got 1\.5"),
    ({"n_boards": 2.5}, r"n_boards must be a whole number, got 2\.5"),
    ({"n_chips": 0}, r"n_chips must be between 1 and 131072, got 0"),
    ({"n_chips": 10**7}, r"n_chips must be between 1 and 131072, got 10000000; raise "
                         r"pynn_spinnaker2\.machine\.MAX_CHIPS"),
    ({"n_chips": 10**18}, r"got 1000000000000000000; raise .*MAX_CHIPS"),
    ({"n_boards": 10**6}, r"n_boards must be between 1 and 2730, got 1000000; raise"),
])
def test_bad_machine_sizes_in_setup_are_refused_at_once(kwargs: dict, message: str) -> None:
    import time

    start = time.perf_counter()
    with pytest.raises(ValueError, match=message):
        sim.setup(timestep=1.0, **kwargs)
    assert time.perf_counter() - start < 1.0


@pytest.mark.parametrize(("kwargs", "message"), [
    ({"width": 1.5}, r"Machine\.width must be a whole number, got 1\.5"),
    ({"width": 10**9, "height": 10**9}, r"Machine\.width must be between 1 and 131072, got "
                                        r"1000000000; raise .*MAX_CHIPS"),
    ({"width": 1000, "height": 1000}, r"1000 x 1000 = 1000000 chips is larger than "
                                      r"MAX_CHIPS = 131072; raise"),
    ({"clock_hz": float("nan")}, r"Machine\.clock_hz must be a finite frequency .*got nan"),
    ({"clock_hz": float("inf")}, r"Machine\.clock_hz .*got inf"),
    ({"sram_per_pe": 10**30}, r"Machine\.sram_per_pe must be between 1 and 2147483648, got "
                              r"10{30}; use a value the machine has"),
    ({"key_bits": 4}, r"Machine\.key_bits must be 32, got 4"),
    ({"router_entries": float("nan")}, r"Machine\.router_entries must be a whole number"),
    ({"wrap_around": "yes"}, r"Machine\.wrap_around must be True or False, got 'yes'"),
])
def test_machine_fields_out_of_bounds_are_refused(kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        Machine(**kwargs)


def test_whole_floats_are_accepted_as_ints() -> None:
    m = Machine(width=2.0, height=3)
    assert (m.width, type(m.width)) == (2, int)
    assert Machine.from_chips(10).n_chips >= 10


def test_unknown_setup_keyword_names_the_known_ones() -> None:
    with pytest.warns(UserWarning, match=r"setup\(\) ignores unknown keyword\(s\) n_chip; "
                                         r"the known ones are .*n_chips, n_boards"):
        sim.setup(timestep=1.0, n_chip=4)
    sim.end()


def test_other_backends_options_are_accepted() -> None:
    sim.setup(timestep=1.0, threads=1, verbosity="error")
    sim.end()


@pytest.mark.parametrize("size", [10**7, 10**9])
def test_population_larger_than_the_machine_is_refused_at_once(size: int) -> None:
    """Refused when created, within a second, before any array of its size is built."""
    import time

    sim.setup(timestep=1.0)
    start = time.perf_counter()
    with pytest.raises(MappingError, match=rf"population 'huge' of {size} neurons does not "
                                           r"fit the machine: 152 PEs x at most 2048 neurons "
                                           r"each hold 311296 neurons.*Remedy: ask for at "
                                           r"least [0-9]+ chips"):
        sim.Population(size, sim.IF_curr_exp(), label="huge")
    assert time.perf_counter() - start < 1.0
    sim.end()


def test_populations_together_larger_than_the_machine() -> None:
    sim.setup(timestep=1.0, machine=Machine(pes_per_chip=4))
    sim.Population(8000, sim.IF_curr_exp(), label="a")
    with pytest.raises(MappingError, match=r"population 'b' of 200 neurons .* populations "
                                           r"before it have 8000"):
        sim.Population(200, sim.IF_curr_exp(), label="b")
    sim.end()


def test_too_many_pes_is_found_before_partitioning() -> None:
    """Populations within the neuron bound but over the PEs at their per-core caps: refused
    by the partitioner's first check, with the lower bound it found."""
    sim.setup(timestep=1.0, machine=Machine(pes_per_chip=4))
    pop = sim.Population(4000, sim.IF_curr_exp(), label="capped")
    pop.set_max_neurons_per_core(10)
    with pytest.raises(MappingError, match=r"needs at least 400 PEs but the machine has 4 "
                                           r"\(1 chips x 4\): 396 too many; largest users: "
                                           r"'capped' \(400 PEs\)"):
        sim.run(1.0)
    sim.end()
