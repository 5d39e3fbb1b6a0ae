"""The procedural API: create, connect, set, record."""

from __future__ import annotations

from pyNN import common
from pyNN.connectors import FixedProbabilityConnector

from . import simulator
from .populations import Population
from .projections import Projection
from .standardmodels import StaticSynapse

create = common.build_create(Population)
connect = common.build_connect(Projection, FixedProbabilityConnector, StaticSynapse)
record = common.build_record(simulator)
set = common.set  # PyNN's name (sim.set(cells, **parameters)), as in pyNN.nest


def record_v(source: object, filename: str) -> None:
    """Record the membrane potential of ``source`` to ``filename`` at the end."""
    return record(["v"], source, filename)


def record_gsyn(source: object, filename: str) -> None:
    """Record the synaptic conductances of ``source`` to ``filename`` at the end."""
    return record(["gsyn_exc", "gsyn_inh"], source, filename)
