"""The backend's "native" random number generator."""

from __future__ import annotations

from pyNN import random


class NativeRNG(random.NumpyRNG, random.NativeRNG):
    """PyNN's "use the simulator's own generator". Connections and parameter values are
    drawn on the host when the network is compiled (the cores draw only spike sources and
    noisy currents, from their seeds), so the native generator is NumPy's Mersenne Twister,
    seeded as given.
    """

    def __str__(self) -> str:
        return f"NativeRNG(seed={self.seed})"
