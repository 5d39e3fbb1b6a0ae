"""Sphinx configuration of the pynn_spinnaker2 documentation.

Build (warnings are errors, as in CI)::

    .venv/bin/python -m sphinx -W --keep-going -b html doc doc/_build/html

The Markdown pages of doc/ are read by myst-parser; the API reference is generated from the
package's numpydoc docstrings by autosummary, recursively over ``pynn_spinnaker2``, so that
modules added, moved or removed need no change here.
"""

import os
import shutil
import sys

# Document the package of this checkout, not whichever copy the virtual environment points to.
ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), ".."))
sys.path.insert(0, ROOT)

project = "pynn_spinnaker2"
author = "the pynn_spinnaker2 developers"
copyright = "the pynn_spinnaker2 developers"  # noqa: A001 (Sphinx's name)
try:
    from importlib.metadata import version as _version

    release = _version("pynn_spinnaker2")
except Exception:  # not installed: the docs still build
    release = ""
version = release

extensions = [
    "myst_parser",
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.napoleon",
    "sphinx.ext.viewcode",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = ["_build", "Thumbs.db", ".DS_Store"]

# Markdown: anchors for headings (the pages link to their own sections).
myst_heading_anchors = 3

# API reference: one page per module, generated at build time (doc/_autosummary/, ignored by git).
# Generated afresh on each build: a page left over from a module since moved or removed would
# fail to import and, with -W, fail the build.
shutil.rmtree(os.path.join(os.path.dirname(os.path.abspath(__file__)), "_autosummary"),
              ignore_errors=True)
autosummary_generate = True
autosummary_imported_members = False
# Each module page documents what the module defines (doc/_templates/autosummary/module.rst:
# automodule with :members: and :ignore-module-all:), so a name a package re-exports from its
# submodules is described once, where it is defined, and cross-references have one target.
autodoc_member_order = "bysource"
autodoc_typehints = "description"
# Optional dependencies a module imports at its top (torch, say) would be listed here.
autodoc_mock_imports = []

# numpydoc-style docstrings.
napoleon_google_docstring = False
napoleon_numpy_docstring = True
napoleon_use_rtype = False
napoleon_preprocess_types = False

html_theme = "alabaster"
html_static_path = []
html_title = "pynn_spinnaker2"

# Narrow exceptions for docstrings or pages that would otherwise fail the -W build; each is
# listed in the report that introduced it, for its module's owner to fix.
#
# doc/xml_format.md shows an abridged XML file (``.../>``), which Pygments' strict XML lexer
# refuses before it retries in relaxed mode: the page renders the same either way.
suppress_warnings = ["misc.highlighting_failure"]
nitpick_ignore = []

# Docstrings that are not valid reStructuredText, patched here only for the build (the source
# is left to its owner): {qualified name: [(text, replacement), ...]}.
DOCSTRING_FIXES = {
    # "(C_out, C_in / groups, *kernel)", "(C_in, *spatial)": "*" opens emphasis that never
    # closes (the shapes belong in double backquotes).
    "pynn_spinnaker2.frontends.nir_ops.conv": [("*kernel", r"\*kernel"),
                                               ("*spatial", r"\*spatial")],
}


def _fix_docstring(app, what, name, obj, options, lines):
    for old, new in DOCSTRING_FIXES.get(name, ()):
        for i, line in enumerate(lines):
            lines[i] = line.replace(old, new)


def setup(app):
    app.connect("autodoc-process-docstring", _fix_docstring)
