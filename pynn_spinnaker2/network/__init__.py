"""Network: the frozen description every later stage starts from."""

from .spec import (
    FORMAT_VERSION,
    CurrentSourceSpec,
    Network,
    PopulationSpec,
    ProjectionSpec,
    RecordSpec,
)
from .validate import validate
from .xml_io import from_xml, load, save, to_xml

__all__ = [
    "FORMAT_VERSION",
    "CurrentSourceSpec",
    "Network",
    "PopulationSpec",
    "ProjectionSpec",
    "RecordSpec",
    "from_xml",
    "load",
    "save",
    "to_xml",
    "validate",
]
