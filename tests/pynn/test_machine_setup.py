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
