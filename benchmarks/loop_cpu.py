"""CPU seconds per trial of a reduced ``scaling.py`` part 3: workers on one PostgreSQL study, TPE, 1 s sleep.

The study loop's cost measured as CPU time, which stays meaningful on a loaded machine (wall
times do not): this process and its forked workers (``getrusage``), and the PostgreSQL server's
processes (``/proc/<pid>/stat``, sampled every 0.2 s, so a backend's last moments before it
exits may be missed). Study names start with ``h_loop_`` and the study is deleted afterwards.

``--sync`` measures instead one worker's sync before an ask (``Study._ledger.sync``, private) on a
PostgreSQL study of 200 finished TPE trials while another live worker runs 31: CPU ms and Python
function calls per sync, with other workers' RUNNING trials read in full at every sync and between
such reads. ``--memory-calls`` counts the Python function calls per trial of the in-memory study
loop of ``overhead.py --study-loop`` (random search), a measure that load does not change.

Usage::

    python benchmarks/loop_cpu.py --postgres URL --workers 8 --trials 256
    python benchmarks/loop_cpu.py --postgres URL --sync
    python benchmarks/loop_cpu.py --memory-calls
"""

from __future__ import annotations

import argparse
import cProfile
import os
import pstats
import resource
import threading
import time
import uuid
from pathlib import Path

from scaling import SPACE, sleep_objective  # the sibling benchmark (run from the repository root)

import hpolab

TICKS = os.sysconf("SC_CLK_TCK")


def own_cpu() -> float:
    """User + system CPU seconds of this process and its ended (joined) child processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def server_cpu() -> dict[int, float]:
    """CPU seconds so far of every running ``postgres`` process, by PID."""
    found = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        name, fields = stat[stat.index("(") + 1 : stat.rindex(")")], stat[stat.rindex(")") + 2 :].split()
        if name.startswith("postgres"):
            found[int(entry.name)] = (int(fields[11]) + int(fields[12])) / TICKS
    return found


def sync_cost(url: str, reps: int = 40) -> None:
    """CPU ms and function calls per sync, with and without a full read of other workers' RUNNING trials."""
    name = f"h_loop_{uuid.uuid4().hex[:8]}"
    study = hpolab.create_study("toy/branin", "tpe", storage=url, study_name=name, seed=0)
    study.optimize(n_trials=200)
    other = hpolab.load_study(name, url)  # another worker, alive (this process)
    for _ in range(31):
        other.optimizer.ask()
    ledger = study._ledger
    ledger.sync()

    def run(full: bool) -> str:
        def syncs() -> None:
            for _ in range(reps):
                if full:  # as if the interval had passed (older code reads them in full every time)
                    ledger._running_read = -float("inf")
                ledger.sync()

        profile = cProfile.Profile()
        profile.runcall(syncs)
        start = time.process_time()
        syncs()
        cpu = time.process_time() - start
        return f"{1e3 * cpu / reps:.2f} ms CPU, {pstats.Stats(profile).total_calls / reps:.0f} function calls per sync"

    print("RUNNING trials read in full:", run(True))
    print("between such reads:         ", run(False))
    study.storage.delete_study(name)


def memory_calls(n: int = 2000) -> None:
    """Python function calls per trial of the in-memory study loop (random search)."""
    from hpolab.optimizers import RandomSearch
    from hpolab.testing import mixed_space, quadratic

    objective = hpolab.FunctionObjective(quadratic, mixed_space(), name="quadratic")
    study = hpolab.create_study(objective, RandomSearch(objective.search_space, seed=0), storage=None)
    profile = cProfile.Profile()
    profile.runcall(study.optimize, n_trials=n)
    print(f"in-memory study loop, random search: {pstats.Stats(profile).total_calls / n:.1f} function calls per trial")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--postgres", default=os.environ.get("HPOLAB_TEST_POSTGRES_URL"), help="PostgreSQL URL")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--trials", type=int, default=256)
    parser.add_argument("--sync", action="store_true", help="only the CPU per sync (see above)")
    parser.add_argument("--memory-calls", action="store_true", help="only the calls per in-memory trial")
    args = parser.parse_args()
    if args.memory_calls:
        memory_calls()
        return
    if args.sync:
        sync_cost(args.postgres)
        return
    name = f"h_loop_{uuid.uuid4().hex[:8]}"
    study = hpolab.create_study(
        sleep_objective(1.0), "tpe", space=SPACE, storage=args.postgres, study_name=name, seed=0
    )
    before = server_cpu()
    last = dict(before)
    done = threading.Event()

    def sample() -> None:
        while not done.wait(0.2):
            last.update(server_cpu())

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    cpu0, t0 = own_cpu(), time.perf_counter()
    study.optimize(n_trials=args.trials, n_jobs=args.workers)
    client = own_cpu() - cpu0
    wall = time.perf_counter() - t0
    done.set()
    sampler.join()
    last.update(server_cpu())
    server = sum(seconds - before.get(pid, 0.0) for pid, seconds in last.items())
    finished = len(study.trials)
    study.storage.delete_study(name)
    print(f"load average {' '.join(f'{x:.2f}' for x in os.getloadavg())} (1/5/15 min) on {os.cpu_count()} CPUs")
    print(f"workers {args.workers}, trials {finished} of {args.trials}, wall {wall:.1f} s (not a result under load)")
    print(f"client CPU s per trial {client / args.trials:.4f}")
    print(f"server CPU s per trial {server / args.trials:.4f}")
    print(f"total CPU s per trial {(client + server) / args.trials:.4f}")


if __name__ == "__main__":
    main()
