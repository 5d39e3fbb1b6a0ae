"""Progress lines of long training runs: printed, and appended to a log file if given."""

from __future__ import annotations

import time
from pathlib import Path


def log(msg: str, logfile: Path | None) -> None:
    """Print ``msg`` with the time of day, and append it to ``logfile``."""
    line = f"[{time.strftime('%H:%M:%S')}] {msg}"
    print(line, flush=True)
    if logfile is not None:
        with logfile.open("a") as f:
            f.write(line + "\n")
