"""CPU seconds a worker process costs to start and to run its first trial (user + system time).

CPU time is what a loaded machine does not inflate (wall time it does), so this runs anywhere.
Each row is one way a worker comes to life, repeated ``--repeats`` times (median, min, max):

1. ``python -c "import hpolab"``: the package alone.
2. ``python -X importtime -m hpolab worker --help``: the CLI up to its help text.
3. ``python -m hpolab worker -n 1`` on a PostgreSQL study (``toy/branin``, TPE): a fresh process
   that imports everything, opens the database, joins the study and runs one trial.
4. A worker process of ``study.optimize(n_jobs=5, n_trials=5)`` on a PostgreSQL study (TPE, a
   sleep objective), the way ``benchmarks/scaling.py`` part 3 starts its 32: forked from a process
   that holds the study open; the four worker processes' CPU time divided by four. The objective
   sleeps 3 s, so that each worker takes one trial before this process has finished its own (the
   output says how many each ran, counted from the storage). The database server's CPU time is
   not counted in any row.

A second table is the cost a worker pays before every ask rather than once: reading the study's
trials from PostgreSQL (Optuna's cached ``get_all_trials``, what a worker's scan of the others'
results calls), on a study of 200 finished trials, with none and with 31 trials that other workers
are running (each read fetches the running ones again: 32 workers, as in ``scaling.py`` part 3).

    python benchmarks/worker_startup.py --postgres URL [--repeats 3] [--prefix NAME]

Run it with ``PYTHONPATH`` pointing at the code to measure (the commands run in the folder that
holds that ``hpolab`` package); it prints a Markdown table.
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import time
import uuid
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import hpolab
from hpolab.storage import redact_url, run_by

__all__ = ["children_cpu", "main"]

SPACE = {"x": (-5.0, 10.0), "y": (0.0, 15.0)}
CODE = Path(hpolab.__file__).resolve().parent.parent  # ``python -c`` and ``-m`` import from their folder first


def children_cpu() -> float:
    """User + system CPU seconds of this process's ended (waited-for) child processes so far."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def command_cpu(argv: list[str]) -> float:
    """CPU seconds of one run of ``argv`` (it must succeed)."""
    before = children_cpu()
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=CODE)
    return children_cpu() - before


def sleep3(config: dict[str, Any]) -> float:
    """A 3 s sleep objective."""
    time.sleep(3.0)
    return (config["x"] - 1.0) ** 2 + (config["y"] - 2.0) ** 2


def cli_worker_cpu(url: str, prefix: str) -> float:
    """CPU seconds of ``hpolab worker -n 1`` joining a fresh ``toy/branin`` TPE study."""
    name = f"{prefix}cli-{uuid.uuid4().hex[:8]}"
    store = hpolab.get_storage(url)
    hpolab.create_study("toy/branin", "tpe", storage=store, study_name=name, seed=0)
    try:
        return command_cpu(
            [sys.executable, "-m", "hpolab", "worker", "--storage", url, "--study", name, "--n-trials", "1"]
        )
    finally:
        store.delete_study(name)


def forked_worker_cpu(url: str, prefix: str, notes: list[str]) -> float:
    """CPU seconds per worker process of ``optimize(n_jobs=5, n_trials=5)`` (the four forked ones)."""
    name = f"{prefix}fork-{uuid.uuid4().hex[:8]}"
    store = hpolab.get_storage(url)
    study = hpolab.create_study(sleep3, "tpe", space=SPACE, storage=store, study_name=name, seed=0)
    try:
        before = children_cpu()
        study.optimize(n_trials=5, n_jobs=5)
        cpu = children_cpu() - before
        info = store.get_study(name)
        assert info is not None
        ran = Counter(run_by(frozen) for frozen in store.backend.get_all_trials(info.study_id, deepcopy=False))
        ran.pop(study.worker.key, None)
        notes.append(",".join(str(count) for count in sorted(ran.values())))
        return cpu / 4
    finally:
        store.delete_study(name)


def read_cpu_ms(url: str, prefix: str, running: tuple[int, ...], reads: int = 10) -> list[float]:
    """CPU milliseconds of one read of a 200-trial study's trials, with each count of running trials."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    name = f"{prefix}read-{uuid.uuid4().hex[:8]}"
    store = hpolab.get_storage(url)
    study = hpolab.create_study(lambda c: c["x"] + c["y"], "random", space=SPACE, storage=store, study_name=name)
    try:
        study.optimize(n_trials=200)
        info = store.get_study(name)
        assert info is not None
        other = optuna.load_study(study_name=name, storage=store.backend)  # a worker that asks and never tells
        out = []
        for count in running:
            while sum(t.state.name == "RUNNING" for t in other.get_trials(deepcopy=False)) < count:
                other.ask()
            store.backend.get_all_trials(info.study_id, deepcopy=False)
            own = resource.getrusage(resource.RUSAGE_SELF)
            for _ in range(reads):
                store.backend.get_all_trials(info.study_id, deepcopy=False)
            end = resource.getrusage(resource.RUSAGE_SELF)
            out.append((end.ru_utime + end.ru_stime - own.ru_utime - own.ru_stime) / reads * 1000)
        return out
    finally:
        store.delete_study(name)


def row(label: str, command: str, measure: Callable[[], float], repeats: int) -> list[str]:
    """One table row: the median, min and max of ``repeats`` measurements."""
    values = [measure() for _ in range(repeats)]
    print(label, [f"{v:.3f}" for v in values], flush=True)
    return [
        label,
        f"`{command}`",
        f"{statistics.median(values):.2f}",
        f"{min(values):.2f}-{max(values):.2f}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("HPOLAB_TEST_POSTGRES_URL"), help="PostgreSQL URL")
    parser.add_argument("--repeats", type=int, default=3, help="runs per row (median, min, max)")
    parser.add_argument("--prefix", default="worker-startup-", help="prefix of the studies it creates (and deletes)")
    args = parser.parse_args()
    if not args.postgres:
        parser.error("give --postgres URL (or set HPOLAB_TEST_POSTGRES_URL)")
    url, shown = args.postgres, redact_url(args.postgres)
    py = Path(sys.executable).name
    notes: list[str] = []
    rows = [
        row(
            "import hpolab",
            f'{py} -c "import hpolab"',
            lambda: command_cpu([sys.executable, "-c", "import hpolab"]),
            args.repeats,
        ),
        row(
            "CLI help",
            f"{py} -X importtime -m hpolab worker --help",
            lambda: command_cpu([sys.executable, "-X", "importtime", "-m", "hpolab", "worker", "--help"]),
            args.repeats,
        ),
        row(
            "CLI worker, 1 trial",
            f"{py} -m hpolab worker --storage {shown} --study NAME -n 1",
            lambda: cli_worker_cpu(url, args.prefix),
            args.repeats,
        ),
        row(
            "forked worker, 1 trial",
            "study.optimize(n_trials=5, n_jobs=5): CPU of the 4 worker processes / 4",
            lambda: forked_worker_cpu(url, args.prefix, notes),
            args.repeats,
        ),
    ]
    one, five, _ = os.getloadavg()
    print(f"\nload average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores")
    print(f"trials run by each forked worker, per repeat: {' | '.join(notes)}\n")
    print("| worker | command | CPU s (median) | CPU s (min-max) |\n|---|---|---|---|")
    for cells in rows:
        print("| " + " | ".join(cells) + " |")
    running = (0, 31)
    reads = [read_cpu_ms(url, args.prefix, running) for _ in range(args.repeats)]
    print("\n| trials other workers are running | CPU ms per read of a 200-trial study (median) | min-max |")
    print("|---|---|---|")
    for i, count in enumerate(running):
        values = [r[i] for r in reads]
        print(f"| {count} | {statistics.median(values):.1f} | {min(values):.1f}-{max(values):.1f} |")


if __name__ == "__main__":
    main()
