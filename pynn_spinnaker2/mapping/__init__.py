"""Mapping: partition, place, keys, route, compress, check."""

from .pipeline import Mapping, map_network

__all__ = ["Mapping", "map_network"]
