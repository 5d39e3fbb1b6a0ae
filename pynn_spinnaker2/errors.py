"""Errors raised by pynn_spinnaker2. Each names the object at fault and what to do."""

from __future__ import annotations


class SpiNNaker2Error(Exception):
    """Base class of the errors this package raises."""


class NetworkError(SpiNNaker2Error, ValueError):
    """A network description is inconsistent (bad indices, delays, receptors...)."""


class MappingError(SpiNNaker2Error):
    """A network does not fit the machine: names the population, the limit and the remedy."""


class ImageError(SpiNNaker2Error):
    """A machine image is malformed or inconsistent with the machine."""


class FormatError(SpiNNaker2Error, ValueError):
    """A saved network or image file is malformed; the message gives the location."""
