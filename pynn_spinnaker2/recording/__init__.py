"""Recording: raw recordings (machine terms) -> population arrays -> Neo."""

from .neo import (
    block_from_recordings,
    population_events,
    population_signal,
    population_spikes,
)

__all__ = ["block_from_recordings", "population_events", "population_signal",
           "population_spikes"]
