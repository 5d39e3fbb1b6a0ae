"""Packaging: setup.cfg holds the metadata; this file only adds the ``pyNN.spinnaker2`` shim.

``pyNN/`` here holds a single module and no ``__init__.py``: the shim is installed into PyNN's
own package so that ``import pyNN.spinnaker2`` works like every other PyNN backend.
"""

from setuptools import find_packages, setup

setup(packages=find_packages(include=["pynn_spinnaker2", "pynn_spinnaker2.*"]) + ["pyNN"])
