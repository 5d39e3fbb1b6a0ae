"""Spike sources with a state (renewal processes), computed for a block of steps at once.

The generators live with their cell types (:mod:`pynn_spinnaker2.cells.renewal_sources`);
this is the emulator's view of the registry: kernel name -> block generator
``(rng, params, state, lo, first, n) -> (pointers by step, neurons)``.
"""

from __future__ import annotations

from ...cells.registry import SOURCE_GENERATORS

__all__ = ["SOURCE_GENERATORS"]
