"""Fetch PyNN 0.13.0's source distribution and unpack what the tests need into .cache/.

The sdist (not the wheel) ships PyNN's backend-independent scenario tests
(``test/system/scenarios``) and the standard examples (``examples/``). This script downloads
it with pip, checks its SHA-256, and unpacks those two folders into
``.cache/pynn-0.13.0/``. It does nothing when they are already there.

    python tools/fetch_pynn_sdist.py
"""

from __future__ import annotations

from pathlib import Path

from sdist import fetch_sdist

VERSION = "0.13.0"
SHA256 = "da2821e45055a88de6cf34896067eaaebcabbfdfb7883dd147353e7b78617815"
ROOT = Path(__file__).resolve().parents[1]
DEST = ROOT / ".cache" / f"pynn-{VERSION}"
WANTED = ("test/system/scenarios/", "examples/")


def fetch(dest: Path = DEST) -> Path:
    """Make sure ``dest`` holds the scenario tests and examples; return ``dest``."""
    if (dest / "test" / "system" / "scenarios" / "fixtures.py").exists() and (
            dest / "examples").is_dir():
        return dest
    fetch_sdist(f"pyNN=={VERSION}", SHA256, f"pynn-{VERSION}/",
                lambda name: name.startswith(WANTED), dest)
    (dest / "test" / "__init__.py").touch()
    print(f"fetched PyNN {VERSION} scenario tests and examples into {dest}")
    return dest


if __name__ == "__main__":
    fetch()
