"""Progress bars of long compilations and runs (tqdm, on stderr).

A bar appears only once its work has taken :data:`DELAY` seconds, so short compilations and
runs (and the tests' small networks) draw nothing; ``setup(progress=False)`` turns bars off.
:func:`draws` is the one place that decides whether this process draws at all (with several
MPI processes only rank 0 does).
"""

from __future__ import annotations

import sys
import time
from typing import Any

#: Seconds of work before a bar appears.
DELAY = 2.0


def draws(enabled: bool, rank: int = 0) -> bool:
    """Whether this process draws progress bars: when they are enabled (``setup(progress=)``),
    on rank 0 only, and where tqdm is installed."""
    if not enabled or rank != 0:
        return False
    try:
        import tqdm  # noqa: F401
    except ImportError:
        return False
    return True


class RunProgress:
    """``progress(done, total)`` callback of :meth:`Emulator.run`: simulated time and speed.

    Parameters
    ----------
    dt
        Time step (ms).
    start_ms
        Simulated time at the start of the run.
    """

    def __init__(self, dt: float, start_ms: float = 0.0) -> None:
        self.dt, self.start_ms = dt, start_ms
        self.started = time.perf_counter()
        self.bar: Any = None

    def __call__(self, done: int, total: int) -> None:
        if self.bar is None:
            if time.perf_counter() - self.started < DELAY:
                return  # a short run draws nothing (and makes no tqdm object)
            from tqdm import tqdm

            self.bar = tqdm(total=round(total * self.dt, 6), unit="ms", file=sys.stderr,
                            leave=False, dynamic_ncols=True,
                            bar_format="run: {percentage:3.0f}%|{bar}| {desc}")
        wall = time.perf_counter() - self.started
        simulated = done * self.dt
        self.bar.n = round(simulated, 6)
        self.bar.set_description_str(
            f"{self.start_ms + simulated:g}/{self.start_ms + total * self.dt:g} ms, "
            f"{simulated / 1000.0 / wall:.3g} s simulated per s", refresh=True)
        if done >= total:
            self.close()

    def close(self) -> None:
        """Remove the bar (also after an error)."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None


class CompileProgress:
    """``progress(stage)`` callback of :func:`~pynn_spinnaker2.compile.compile_network`: the
    stage running now and the time so far."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.bar: Any = None

    def __call__(self, stage: str) -> None:
        if self.bar is None:
            if time.perf_counter() - self.started < DELAY:
                return
            from tqdm import tqdm

            self.bar = tqdm(total=None, file=sys.stderr, leave=False, dynamic_ncols=True,
                            bar_format="compile: {desc} [{elapsed}]")
        self.bar.set_description_str(stage, refresh=True)

    def close(self) -> None:
        """Remove the bar."""
        if self.bar is not None:
            self.bar.close()
            self.bar = None
