"""Network: the frozen description every later stage starts from."""

from .model import (
    FORMAT_VERSION,
    CurrentSourceSpec,
    Network,
    PopulationSpec,
    ProjectionSpec,
    RecordSpec,
)
from .validate import validate

__all__ = [
    "FORMAT_VERSION",
    "CurrentSourceSpec",
    "Network",
    "PopulationSpec",
    "ProjectionSpec",
    "RecordSpec",
    "validate",
]
