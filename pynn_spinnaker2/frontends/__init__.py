"""Front ends: NIR graphs to and from a Network (``doc/nir.md``).

Importing the package fills the registries the reader, importer and exporter share: the
lowering of every built-in NIR node type (:mod:`.nir_nodes`) and the EGRU extension node
(:mod:`.nir_egru_convert`).
"""

from . import nir_egru_convert, nir_nodes  # noqa: F401  (they register themselves)
