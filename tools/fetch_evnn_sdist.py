"""Fetch evnn-pytorch 0.2.0 (the EGRU reference by its authors) and unpack its Python sources
into .cache/, where the EvNN comparison tests load them.

The package is only an sdist, and its compiled part cannot be used here (it builds against
a CUDA toolkit when ``nvcc`` is on PATH, which fails with a CPU-only torch, and the CPU build
fails to load against torch 2.13: it is compiled with the old C++ ABI). Its pure-PyTorch
path, ``EGRU(..., use_custom_cuda=False)``, needs only the Python sources. pip must still
prepare the sdist's metadata, which runs its ``setup.py``: that imports torch (hence
``--no-build-isolation``, with torch installed in this interpreter) and takes the CUDA
branch whenever an ``nvcc`` is found, so the download runs with a stand-in ``nvcc`` that
fails first on PATH. Nothing is built or installed.

    python tools/fetch_evnn_sdist.py

It does nothing when the sources are already there; it exits with a message (status 1) when
torch is missing.
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from pathlib import Path

from sdist import fetch_sdist

VERSION = "0.2.0"
SHA256 = "10e72dff940b6c2786e7dc0828a72801bd52d32caaf71ada52773832fb6461da"
ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / ".cache" / f"evnn-pytorch-{VERSION}"
SOURCES = "frameworks/pytorch/"


def fetch(dest: Path = DEST) -> Path:
    """Make sure ``dest/evnn_pytorch`` holds EvNN's Python sources; return ``dest``."""
    package = dest / "evnn_pytorch"
    if (package / "egru.py").exists():
        return dest
    try:
        import torch  # noqa: F401  (setup.py imports it)
    except ImportError:
        sys.exit("fetch_evnn_sdist: torch is not installed (pip install torch==2.13.0)")
    with tempfile.TemporaryDirectory() as tmp:
        shadow = Path(tmp) / "bin"
        shadow.mkdir()
        nvcc = shadow / "nvcc"
        nvcc.write_text("#!/bin/sh\nexit 1\n")
        nvcc.chmod(0o755)
        env = dict(os.environ, PATH=f"{shadow}{os.pathsep}{os.environ.get('PATH', '')}")
        fetch_sdist(f"evnn-pytorch=={VERSION}", SHA256, f"evnn_pytorch-{VERSION}/",
                    lambda name: (name.startswith(SOURCES) and name.endswith(".py"))
                    or name == "LICENSE", dest,
                    pip_args=("--no-build-isolation",), env=env)
    # The Python sources become the importable package; the licence stays beside it.
    package.mkdir(parents=True, exist_ok=True)
    for source in (dest / SOURCES).rglob("*.py"):
        target = package / source.relative_to(dest / SOURCES)
        target.parent.mkdir(parents=True, exist_ok=True)
        source.replace(target)
    shutil.rmtree(dest / SOURCES.split("/")[0])
    print(f"fetched evnn-pytorch {VERSION} Python sources into {dest}")
    return dest


if __name__ == "__main__":
    fetch()
