"""The Brunel network of ``brunel.py`` run on 1 and 2 MPI ranks, side by side with NEST 3.10
(1 and 2 threads), in one invocation:

    python benchmarks/mpi_brunel.py                     # 10,000 neurons, p = 0.1, 1 s
    python benchmarks/mpi_brunel.py --n 2000 --t 200 --nest-threads none

Each configuration runs in its own processes (ours under ``mpirun -n R``), one after the
other. Printed per configuration: build + compile and run time (wall, rank 0), the spikes of
the excitatory population and a hash of them (1 and 2 ranks must agree: the distributed run is
spike for spike the one-process run), peak memory per rank; for the MPI runs, per window (the
smallest delay), the packets each rank sent to each other rank and the seconds spent in the
exchange. The machine is shared: wall times move with the other users' load.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from brunel import build  # noqa: E402
from stages import peak_mib  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def worker(backend: str, n: int, p: float, t: float, threads: int, rate: float) -> dict:
    """Build and run in this process (one rank of ours, or NEST); the result as a dict,
    on rank 0 (None elsewhere)."""
    sim = __import__(f"pyNN.{backend}", fromlist=["setup"])
    start = time.perf_counter()
    extra = {"threads": threads} if backend == "nest" else {}
    sim.setup(timestep=0.1, **extra)
    exc, _, _ = build(sim, n, p, rate=rate)
    sim.run(0.1)  # compiles (ours) or prepares the connections (NEST)
    built = time.perf_counter()
    sim.run(t)
    ran = time.perf_counter()
    trains = exc.get_data("spikes").segments[0].spiketrains
    h = hashlib.blake2b(digest_size=8)
    for train in trains:
        h.update(train.magnitude.round(4).tobytes())
    out = {"backend": backend, "ranks": sim.num_processes(), "threads": threads,
           "build_s": built - start, "run_s": ran - built,
           "spikes": int(sum(len(s) for s in trains)), "hash": h.hexdigest(),
           "peak_mib": peak_mib()}
    if backend == "spinnaker2" and sim.num_processes() > 1:
        out.update(_exchange(sim))
    every = _gather(sim, out)
    sim.end()
    return every


def _exchange(sim: object) -> dict:
    from pynn_spinnaker2.pynn import simulator

    stats = simulator.state.compiled.emulator.exchange_stats
    return {"windows": stats.windows, "sent": stats.sent, "comm_s": stats.seconds,
            "window_steps": simulator.state.compiled.emulator.exchange.window}


def _gather(sim: object, out: dict) -> dict | None:
    """Rank 0's result with every rank's memory and exchange figures."""
    if sim.num_processes() == 1:
        out["ranks_detail"] = [dict(out)]
        return out
    from mpi4py import MPI

    every = MPI.COMM_WORLD.gather(out, root=0)
    if MPI.COMM_WORLD.Get_rank():
        return None
    out["ranks_detail"] = every
    return out


def launch(command: list[str]) -> dict | None:
    """Run a worker; its JSON result, or None (printing why)."""
    done = subprocess.run(command, capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(ROOT)})
    lines = [ln for ln in done.stdout.splitlines() if ln.startswith("{")]
    if done.returncode or not lines:
        print(f"  failed: {' '.join(command[-8:])}: {done.stderr.strip()[-400:]}")
        return None
    return json.loads(lines[-1])


def report(r: dict, t: float) -> None:
    name = (f"pyNN.spinnaker2, {r['ranks']} rank{'s' if r['ranks'] > 1 else ''}"
            if r["backend"] == "spinnaker2" else f"NEST 3.10, {r['threads']} thread(s)")
    peaks = ", ".join(f"{d['peak_mib']:.0f}" for d in r["ranks_detail"])
    print(f"{name:30s} build+compile {r['build_s']:6.2f} s   run {r['run_s']:6.2f} s "
          f"({t / 1000 / r['run_s']:.2f}x real time)   exc spikes {r['spikes']} "
          f"[{r['hash']}]   peak MiB per rank {peaks}")
    if "windows" in r:
        for rank, d in enumerate(r["ranks_detail"]):
            w = max(d["windows"], 1)
            print(f"    rank {rank}: "
                  f"{d['windows']} windows of {d['window_steps']} steps; packets to each "
                  f"other rank {d['sent'] / w:.1f} per window; exchange "
                  f"{1e6 * d['comm_s'] / w:.0f} us per window ({d['comm_s']:.2f} s in all)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10_000)
    parser.add_argument("--p", type=float, default=0.1)
    parser.add_argument("--t", type=float, default=1000.0, help="ms simulated")
    parser.add_argument("--rate", type=float, default=20.0,
                        help="Hz of each cell's Poisson drive (20: brunel.py's network)")
    parser.add_argument("--ranks", default="1,2", help="our configurations (comma list)")
    parser.add_argument("--nest-threads", default="1,2",
                        help="NEST configurations (comma list, or none)")
    parser.add_argument("--worker", default=None, help=argparse.SUPPRESS)
    parser.add_argument("--threads", type=int, default=1, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        result = worker(args.worker, args.n, args.p, args.t, args.threads, args.rate)
        if result is not None:
            print(json.dumps(result), flush=True)
        return
    mpirun = str(Path(sys.executable).parent / "mpirun")
    print(f"Brunel network, {args.n} neurons, p = {args.p}, Poisson drive {args.rate:g} Hz, "
          f"{args.t:g} ms at dt 0.1 ms; "
          f"each configuration in its own processes, one after the other (shared machine: "
          f"wall times vary with the load)")
    common = [__file__, "--n", str(args.n), "--p", str(args.p), "--t", str(args.t),
              "--rate", str(args.rate)]
    results = []
    for ranks in [int(r) for r in args.ranks.split(",") if r]:
        prefix = [sys.executable] if ranks == 1 else [mpirun, "-n", str(ranks), sys.executable]
        r = launch([*prefix, *common, "--worker", "spinnaker2"])
        if r is not None:
            report(r, args.t)
            results.append(r)
    if args.nest_threads != "none":
        for threads in [int(x) for x in args.nest_threads.split(",") if x]:
            r = launch([sys.executable, *common, "--worker", "nest", "--threads",
                        str(threads)])
            if r is not None:
                report(r, args.t)
    ours = {r["hash"] for r in results}
    if len(results) > 1:
        print("spikes of 1 and 2 ranks: " + ("identical" if len(ours) == 1 else "DIFFER"))


if __name__ == "__main__":
    main()
