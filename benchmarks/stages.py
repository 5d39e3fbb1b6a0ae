"""Shared by the benchmarks: time every compile stage (wall and CPU seconds) and report the
mapping's figures and the peak memory of the process."""

from __future__ import annotations

import resource
import time
from collections.abc import Callable

from pynn_spinnaker2.backends.emulator import Emulator
from pynn_spinnaker2.image import build_image
from pynn_spinnaker2.mapping import map_network
from pynn_spinnaker2.network import from_xml, to_xml, validate


class Clock:
    """Wall and CPU time of named steps, printed as they finish."""

    def __init__(self) -> None:
        self.rows: list[tuple[str, float, float]] = []
        self.peaks: dict[str, float] = {}  # name -> peak resident MiB during the step
        self.overall_peak = 0.0

    def __call__(self, name: str, fn: Callable[[], object]) -> object:
        reset_peak()
        wall, cpu = time.perf_counter(), time.process_time()
        out = fn()
        self.rows.append((name, time.perf_counter() - wall, time.process_time() - cpu))
        self.peaks[name] = peak_mib()
        print(f"  {name:<34} {self.rows[-1][1]:8.2f} s wall {self.rows[-1][2]:8.2f} s cpu"
              f"  peak {self.peaks[name]:7.0f} MiB", flush=True)
        return out

    def total(self, names: list[str] | None = None) -> tuple[float, float]:
        rows = [r for r in self.rows if names is None or r[0] in names]
        return sum(r[1] for r in rows), sum(r[2] for r in rows)


def timed_run(sim: object, t_stop: float, recorded: object) -> tuple[float, float, int]:
    """``sim.run(t_stop)``, then ``sim.end()``: (wall s, CPU s of the run, spikes that
    population ``recorded`` recorded)."""
    wall, cpu = time.perf_counter(), time.process_time()
    sim.run(t_stop)
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
    count = sum(len(st) for st in recorded.get_data().segments[0].spiketrains)
    sim.end()
    return wall, cpu, count


def reset_peak() -> None:
    """Start a new peak-memory window (Linux: writing 5 to clear_refs resets VmHWM to the
    current resident size), so each stage's peak is its own; the process's overall peak is
    kept by :func:`peak_mib` callers as the maximum of the stages'."""
    global _EARLIER_PEAK
    _EARLIER_PEAK = max(_EARLIER_PEAK, peak_mib())
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")
    except OSError:
        pass


_EARLIER_PEAK = 0.0


def overall_peak_mib() -> float:
    """Peak resident memory of the whole process so far (MiB), across peak resets."""
    return max(_EARLIER_PEAK, peak_mib())


def peak_mib() -> float:
    """Peak resident memory of this process so far (MiB): VmHWM, which, unlike getrusage's
    maxrss, does not carry over the parent's peak into a freshly started process."""
    try:
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def compile_stages(clock: Clock, network: object, image: bool = True, load: bool = True
                   ) -> dict:
    """The compile step of the PyNN layer, stage by stage: XML round trip, checks, mapping,
    image, emulator load."""
    data = [clock("XML write", lambda: to_xml(network))]
    print(f"    ({len(data[0]) / 2**20:.1f} MiB of XML)")
    network = clock("XML read + schema validation", lambda: from_xml(data.pop()))
    clock("network checks", lambda: validate(network))
    mapping = clock("mapping", lambda: map_network(network))
    for step, seconds in mapping.timings.items():
        print(f"      {step:<32} {seconds:8.2f} s wall")
    out = {"network": network, "mapping": mapping}
    if image:
        out["image"] = clock("machine image", lambda: build_image(network, mapping))
        if load:
            out["emulator"] = clock("emulator load", lambda: Emulator(out["image"]))
    return out


def mapping_figures(mapping: object) -> str:
    """Chips, PEs, router entries before and after compression."""
    machine = mapping.machine
    before = [len(t) for t in mapping.raw_tables.values()]
    after = [len(t) for t in mapping.tables.values()]
    chips = len({p.chip for p in mapping.placements})
    return (f"  machine: {machine.describe()}\n"
            f"  used: {len(mapping.pieces)} PEs on {chips} chips\n"
            f"  router entries: {sum(before)} before compression -> {sum(after)} after "
            f"(largest table {max(before, default=0)} -> {max(after, default=0)} of "
            f"{machine.router_entries})")
