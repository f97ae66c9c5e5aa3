"""Many workers on one study: throughput, storage cost beside raw Optuna, and 32 workers on PostgreSQL.

Prints one table per part and writes them to benchmarks/results/scaling.md:

1. Trials per second with 1, 2 and 4 worker processes (``study.optimize(n_jobs=k)``) for a 0.5 s
   sleep objective (goal: at least 3.5x at 4 workers) and for a tabular objective (a table lookup,
   so the workers compete for the CPU).
2. Per-trial cost of the storage: the same random-search loop through hpolab and through raw Optuna
   (``study.optimize`` with ``RandomSampler``) on each storage (goal: hpolab within 10% of Optuna).
3. 32 worker processes on one PostgreSQL study, TPE, a 1 s sleep objective (goal: at least 20 trials
   per second, no trial lost or duplicated), with TPE's per-ask cost at 1,000 trials. The workers
   are ``study.optimize(n_jobs=32)``: this process and 31 forked ones, started together. Beside the
   rates it shows when the last worker began its first trial (its start-up, from the run's start;
   each worker is found by the trials it ran) and the CPU seconds per trial of all 32 processes
   (user + system; the database server's are not counted), which a loaded machine does not inflate
   the way it inflates wall time.

Run on free cores (nothing else running); the script prints the load average beside each table.

    python benchmarks/scaling.py                        # parts 1 and 2 (memory, journal, SQLite)
    python benchmarks/scaling.py --postgres URL         # adds PostgreSQL to part 2 and runs part 3
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import statistics
import tempfile
import time
import uuid
from pathlib import Path
from typing import Any

import optuna

import hpolab
from hpolab.storage import Storage, redact_url, run_by

RESULTS = Path(__file__).parent / "results" / "scaling.md"
SPACE = {"x": (-5.0, 10.0), "y": (0.0, 15.0)}


def sleep_objective(seconds: float) -> Any:
    def objective(config: dict[str, Any]) -> float:
        time.sleep(seconds)
        return (config["x"] - 1.0) ** 2 + (config["y"] - 2.0) ** 2

    objective.__name__ = f"sleep{seconds}"
    return objective


def load() -> str:
    one, five, _ = os.getloadavg()
    return f"load average {one:.2f} (1 min), {five:.2f} (5 min) on {os.cpu_count()} cores"


def table(header: list[str], rows: list[list[Any]]) -> str:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return "\n".join(out)


def check_unique(study: hpolab.Study, expected: int) -> str:
    trials = study.trials
    numbers = [t.id for t in trials]
    finished = sum(t.state.is_finished for t in trials)
    ok = numbers == list(range(len(numbers))) and finished == expected == len(numbers)
    return (
        "none lost or duplicated" if ok else f"PROBLEM: {len(numbers)} trials, {finished} finished, {expected} expected"
    )


# ------------------------------------------------------------------------------------------ part 1
def throughput(url: str, objective: Any, optimizer: str, workers: int, per_worker: int) -> tuple[float, str]:
    name = f"scale-{uuid.uuid4().hex[:8]}"
    kwargs: dict[str, Any] = {"space": SPACE} if callable(objective) and not isinstance(objective, str) else {}
    study = hpolab.create_study(objective, optimizer, storage=url, study_name=name, seed=0, **kwargs)
    n = workers * per_worker
    t0 = time.perf_counter()
    study.optimize(n_trials=n, n_jobs=workers)
    wall = time.perf_counter() - t0
    return n / wall, check_unique(study, n)


def part1(tmp: Path, workers_list: list[int], per_worker: int, table_per_worker: int) -> str:
    rows = []
    base: dict[str, float] = {}
    for label, objective, optimizer, count in (
        ("sleep 0.5 s, random", sleep_objective(0.5), "random", per_worker),
        ("hpobench/nn/kc1 (table), TPE", "hpobench/nn/kc1", "tpe", table_per_worker),
    ):
        for workers in workers_list:
            url = f"journal:///{tmp / f'p1-{uuid.uuid4().hex[:6]}.log'}"
            rate, check = throughput(url, objective, optimizer, workers, count)
            base.setdefault(label, rate)
            rows.append([label, workers, workers * count, f"{rate:.2f}", f"{rate / base[label]:.2f}x", check])
            print(rows[-1], flush=True)
    return table(["objective", "workers", "trials", "trials/s", "speed-up", "check"], rows)


# ------------------------------------------------------------------------------------------ part 2
def optuna_storage(url: str) -> Any:
    if url == "memory":
        return None
    if url.startswith("journal:///"):
        from optuna.storages import JournalStorage
        from optuna.storages.journal import JournalFileBackend

        return JournalStorage(JournalFileBackend(url[len("journal:///") :]))
    return url


def raw_optuna(url: str, n: int) -> float:
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.create_study(
        storage=optuna_storage(url), study_name=f"raw-{uuid.uuid4().hex[:8]}", sampler=optuna.samplers.RandomSampler(0)
    )

    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -5.0, 10.0)
        y = trial.suggest_float("y", 0.0, 15.0)
        return (x - 1.0) ** 2 + (y - 2.0) ** 2

    t0 = time.perf_counter()
    study.optimize(objective, n_trials=n)
    return (time.perf_counter() - t0) / n * 1000


def hpolab_loop(url: str, n: int) -> float:
    storage = None if url == "memory" else url
    study = hpolab.create_study(sleep_objective(0.0), "random", space=SPACE, storage=storage, seed=0)
    t0 = time.perf_counter()
    study.optimize(n_trials=n)
    return (time.perf_counter() - t0) / n * 1000


def part2(tmp: Path, postgres: str | None, n: int, repeats: int) -> str:
    urls = {
        "memory": "memory",
        "journal file": None,
        "SQLite (RDB)": None,
    }
    if postgres:
        urls["PostgreSQL (RDB)"] = postgres
    rows = []
    for label in urls:
        raw_ms, lab_ms = [], []
        for _ in range(repeats):  # alternate, so drift hits both alike
            fresh = {
                "journal file": f"journal:///{tmp / f'p2-{uuid.uuid4().hex[:6]}.log'}",
                "SQLite (RDB)": f"sqlite:///{tmp / f'p2-{uuid.uuid4().hex[:6]}.db'}",
            }
            url = fresh.get(label, urls[label])
            raw_ms.append(raw_optuna(url, n))
            url = fresh.get(label, urls[label]).replace("p2-", "p2h-") if label in fresh else urls[label]
            lab_ms.append(hpolab_loop(url, n))
        raw, lab = statistics.median(raw_ms), statistics.median(lab_ms)
        rows.append([label, n, f"{raw:.3f}", f"{lab:.3f}", f"{(lab / raw - 1) * 100:+.1f}%"])
        print(rows[-1], flush=True)
    return table(["storage", "trials", "raw Optuna ms/trial", "hpolab ms/trial", "hpolab vs Optuna"], rows)


# ------------------------------------------------------------------------------------------ part 3
def tpe_ask_cost(n_history: int) -> float:
    """Milliseconds per TPE ask+tell on a study that already holds ``n_history`` trials (in memory)."""
    opt = hpolab.make_optimizer("tpe", SPACE, seed=0)
    objective = sleep_objective(0.0)
    for _ in range(n_history):
        trial = opt.ask()
        opt.tell(trial, objective(trial.config))
    times = []
    for _ in range(20):
        t0 = time.perf_counter()
        trial = opt.ask()
        opt.tell(trial, objective(trial.config))
        times.append(time.perf_counter() - t0)
    return statistics.median(times) * 1000


def cpu_seconds() -> float:
    """User + system CPU seconds of this process and of its ended (joined) child processes."""
    own, children = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def first_trial_starts(store: Storage, name: str) -> list[float]:
    """When each worker of study ``name`` began its first trial (seconds since the epoch), earliest first."""
    info = store.get_study(name)
    assert info is not None
    firsts: dict[str, float] = {}
    for frozen in store.backend.get_all_trials(info.study_id, deepcopy=False):
        worker = run_by(frozen)
        if worker is not None and frozen.datetime_start is not None:
            start = frozen.datetime_start.timestamp()
            firsts[worker] = min(firsts.get(worker, start), start)
    return sorted(firsts.values())


def part3(postgres: str, workers: int, per_worker: int) -> str:
    store = hpolab.get_storage(postgres)
    name = f"scale32-{uuid.uuid4().hex[:8]}"
    study = hpolab.create_study(sleep_objective(1.0), "tpe", space=SPACE, storage=store, study_name=name, seed=0)
    n = workers * per_worker
    cpu0, began, t0 = cpu_seconds(), time.time(), time.perf_counter()
    study.optimize(n_trials=n, n_jobs=workers)
    wall = time.perf_counter() - t0
    cpu = cpu_seconds() - cpu0
    check = check_unique(study, n)
    firsts = first_trial_starts(store, name)
    ends = sorted(t.datetime_complete for t in study.trials if t.datetime_complete)
    steady = (len(ends) // 2) / (ends[len(ends) * 3 // 4] - ends[len(ends) // 4]) if len(ends) > 8 else float("nan")
    ask_1000 = tpe_ask_cost(1000)
    store.delete_study(name)
    rows = [
        [
            workers,
            n,
            f"{wall:.1f}",
            f"{n / wall:.1f}",
            f"{steady:.1f}",
            f"{ask_1000:.1f}",
            check,
            f"{len(firsts)}",
            f"{firsts[-1] - began:.1f}" if firsts else "-",
            f"{cpu / n:.3f}",
        ]
    ]
    print(rows[-1], flush=True)
    return table(
        [
            "workers",
            "trials",
            "wall s",
            "trials/s (whole run)",
            "trials/s (middle half)",
            "TPE ask+tell ms at 1,000 trials",
            "check",
            "workers that ran a trial",
            "last worker's first trial, s after the start",
            "CPU s per trial (all processes)",
        ],
        rows,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("HPOLAB_TEST_POSTGRES_URL"), help="PostgreSQL URL")
    parser.add_argument("--per-worker", type=int, default=12, help="trials per worker in part 1 (sleep)")
    parser.add_argument("--table-per-worker", type=int, default=150, help="trials per worker in part 1 (table)")
    parser.add_argument("--storage-trials", type=int, default=300, help="trials per run in part 2")
    parser.add_argument("--repeats", type=int, default=3, help="runs per storage in part 2 (median)")
    parser.add_argument("--workers32", type=int, default=32, help="workers in part 3")
    parser.add_argument("--per-worker32", type=int, default=32, help="trials per worker in part 3")
    parser.add_argument("--parts", default="1,2,3", help="which parts to run")
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args()
    parts = {int(p) for p in args.parts.split(",")}
    sections = [
        "# Scaling: many workers on one study",
        "",
        f"Command: `python benchmarks/scaling.py {' '.join(redact_url(a) for a in os.sys.argv[1:])}`".rstrip(),
        f"Machine: {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}, "
        f"Optuna {optuna.__version__}, hpolab {hpolab.__version__}.",
        "",
    ]
    with tempfile.TemporaryDirectory() as tmp_dir:
        tmp = Path(tmp_dir)
        if 1 in parts:
            sections += ["## 1. Throughput with 1, 2 and 4 worker processes (journal file storage)", "", load(), ""]
            sections += [part1(tmp, [1, 2, 4], args.per_worker, args.table_per_worker), ""]
        if 2 in parts:
            sections += ["## 2. Storage cost per trial: hpolab beside raw Optuna (random search)", "", load(), ""]
            sections += [part2(tmp, args.postgres, args.storage_trials, args.repeats), ""]
    if 3 in parts:
        if not args.postgres:
            sections += ["## 3. 32 workers on PostgreSQL", "", "Not run: give --postgres URL.", ""]
        else:
            sections += [f"## 3. {args.workers32} workers on one PostgreSQL study, TPE, 1 s sleep", "", load(), ""]
            sections += [part3(args.postgres, args.workers32, args.per_worker32), ""]
    text = "\n".join(sections)
    print(text)
    args.output.parent.mkdir(parents=True, exist_ok=True)
    args.output.write_text(text + "\n")


if __name__ == "__main__":
    main()
