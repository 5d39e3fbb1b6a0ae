"""``import pyNN.spinnaker2 as sim``: the PyNN entry point of pynn_spinnaker2.

This module is installed into PyNN's own ``pyNN`` package by ``pip install``; it only
re-exports :mod:`pynn_spinnaker2.pynn`, where the backend lives.
"""

from pynn_spinnaker2.pynn import *  # noqa: F401,F403
from pynn_spinnaker2.pynn import __all__  # noqa: F401
