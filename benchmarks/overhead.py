"""Time per ask+tell of hpolab's optimizers against the raw library loops they wrap.

One run prints two tables:

1. Random search: hpolab ``RandomSearch`` ask/tell against Optuna's ``RandomSampler`` ask/tell
   (define-by-run ``suggest_*``, in-memory storage) at 100, 1,000 and 10,000 trials, and an hpolab
   Study (its loop and storage) in memory, on a journal file and on SQLite (Optuna's storages).
2. Wrappers: hpolab ``tpe`` / ``smac-rf`` / ``smac-gp`` against a plain Optuna TPE loop and plain
   SMAC facade loops with the same seed (so both do the same library work), at 100 and 1,000
   trials (SMAC GP at 100). Besides the two totals, the wrapper run times the library calls it
   makes (Optuna ask / suggest / tell, SMAC ask / tell), so ``wrapper-only`` is hpolab's own cost
   measured inside one run, free of the run-to-run noise of the library's work.
3. SMAC's cost per ask+tell around 50 and 100 trials (from the 100-trial wrapper runs).

``--study-loop`` runs only another table: hpolab's ``Study.optimize`` (random search) against raw Optuna's
``study.optimize`` with a ``RandomSampler`` on the same kind of storage (memory, journal file, SQLite), at 100, 1,000
and 5,000 trials, with ``n_jobs=1`` and ``n_jobs=4`` (both as this process plus forked worker processes, whose CPU
time is added from ``RUSAGE_CHILDREN``), and the CPU cost of reading ``best_value`` and ``len(trials)`` afterwards.
The load average is printed with it.

All times are CPU time of the benchmark process (``time.process_time``), so that other jobs on a
shared machine do not distort them.

Usage::

    python benchmarks/overhead.py                 # everything (SMAC RF at 1,000 takes a while)
    python benchmarks/overhead.py --quick         # 100 / 1,000 trials only, no SMAC at 1,000
    python benchmarks/overhead.py --only random   # one section: random, tpe, smac-rf, smac-gp
    python benchmarks/overhead.py --ask-cost      # only SMAC's cost per ask at 50 / 100 trials
    python benchmarks/overhead.py --study-loop    # only the study loop per storage (--sqlite-max 1000: faster)
"""

from __future__ import annotations

import argparse
import functools
import math
import multiprocessing
import os
import resource
import shutil
import tempfile
import time
import weakref
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import optuna

import hpolab
from hpolab.objectives.toy import ToyObjective
from hpolab.optimizers import RandomSearch
from hpolab.testing import mixed_space, quadratic

optuna.logging.set_verbosity(optuna.logging.WARNING)

#: CPU time of this process: the loops run single-threaded (one BLAS thread), and on a shared machine wall-clock
#: time mostly measures the other jobs.
clock = time.process_time

BRANIN = ToyObjective("branin")


def branin(config: dict[str, Any]) -> float:
    return BRANIN.true_value(config)


# --------------------------------------------------------------------------- random search
def optuna_suggest(trial: optuna.Trial, space: hpolab.SearchSpace) -> dict[str, Any]:
    config: dict[str, Any] = {}
    for name, p in space.params.items():
        if p.kind == "float":
            config[name] = trial.suggest_float(name, p.lower, p.upper, log=p.log)
        elif p.kind == "int":
            config[name] = trial.suggest_int(name, p.lower, p.upper, log=p.log)
        else:
            config[name] = trial.suggest_categorical(name, list(p.choices))
    return config


def time_hpolab_random(n: int, seed: int = 0) -> float:
    opt = RandomSearch(mixed_space(), seed=seed)
    start = clock()
    for _ in range(n):
        trial = opt.ask()
        opt.tell(trial, quadratic(trial.config))
    return clock() - start


def time_optuna_random(n: int, seed: int = 0) -> float:
    space = mixed_space()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    start = clock()
    for _ in range(n):
        trial = study.ask()
        study.tell(trial, quadratic(optuna_suggest(trial, space)))
    return clock() - start


def time_hpolab_study(n: int, seed: int = 0, kind: str = "sqlite") -> float:
    objective = hpolab.FunctionObjective(quadratic, mixed_space(), name="quadratic")
    with tempfile.TemporaryDirectory() as tmp:
        storage = {
            "memory": None,
            "journal": f"journal:///{Path(tmp) / 'bench.log'}",
            "sqlite": f"sqlite:///{Path(tmp) / 'bench.db'}",
        }[kind]
        study = hpolab.create_study(objective, RandomSearch(objective.search_space, seed=seed), storage=storage)
        start = clock()
        study.optimize(n_trials=n)
        return clock() - start


def best_of(fn: Callable[[int], float], n: int, repeats: int) -> float:
    return min(fn(n) for _ in range(repeats))


def random_section(sizes: list[int]) -> list[tuple[str, int, float, float]]:
    rows = []
    for n in sizes:
        repeats = 5 if n <= 1000 else 2
        rows.append(("hpolab RandomSearch (memory)", n, best_of(time_hpolab_random, n, repeats), math.nan))
        rows.append(("optuna RandomSampler (memory)", n, best_of(time_optuna_random, n, repeats), math.nan))
        # Studies live in Optuna's storages (memory, journal file, RDB on SQLite); see benchmarks/scaling.py for
        # each beside raw Optuna on the same storage. RDB on SQLite costs milliseconds of CPU a trial: 100 and 1,000.
        for kind, label in (("memory", "memory"), ("journal", "journal file"), ("sqlite", "SQLite")):
            if kind == "sqlite" and n > 1000:
                continue
            timer = functools.partial(time_hpolab_study, kind=kind)
            rows.append((f"hpolab Study random ({label})", n, best_of(timer, n, 1 if n > 1000 else 2), math.nan))
    return rows


# ------------------------------------------------------------------------------- wrappers
class LibraryTimer:
    """Accumulates the time spent inside wrapped library callables."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = clock()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds += clock() - start

        return timed


def time_raw_tpe(n: int, seed: int = 0) -> float:
    space = BRANIN.search_space
    study = optuna.create_study(sampler=optuna.samplers.TPESampler(seed=seed))
    start = clock()
    for _ in range(n):
        trial = study.ask()
        study.tell(trial, branin(optuna_suggest(trial, space)))
    return clock() - start


def time_hpolab_tpe(n: int, seed: int = 0) -> tuple[float, float]:
    import optuna.trial

    from hpolab.optimizers import TPE

    opt = TPE(BRANIN.search_space, seed=seed)
    timer = LibraryTimer()
    study = opt.study
    study.ask = timer.wrap(study.ask)  # type: ignore[method-assign]
    study.tell = timer.wrap(study.tell)  # type: ignore[method-assign]
    originals = {}
    for name in ("suggest_float", "suggest_int", "suggest_categorical"):
        originals[name] = getattr(optuna.trial.Trial, name)
        setattr(optuna.trial.Trial, name, timer.wrap(originals[name]))
    try:
        start = clock()
        for _ in range(n):
            trial = opt.ask()
            opt.tell(trial, branin(trial.config))
        total = clock() - start
    finally:
        for name, fn in originals.items():
            setattr(optuna.trial.Trial, name, fn)
    return total, timer.seconds


def _smac_facade(kind: str, n: int, seed: int) -> Any:
    from smac import BlackBoxFacade, HyperparameterOptimizationFacade, Scenario

    from hpolab.optimizers._smac import _fix_local_search_order, _forest_model

    facade_cls = HyperparameterOptimizationFacade if kind == "smac-rf" else BlackBoxFacade
    tmp = tempfile.mkdtemp(prefix="bench-smac-")
    scenario = Scenario(
        BRANIN.search_space.to_configspace(),
        name=f"hpolab-{kind}",
        deterministic=True,
        n_trials=n,
        seed=seed,
        output_directory=Path(tmp),
    )
    # The wrapper's settings, so that both loops do identical work: its forest with one prediction thread
    # (smac-rf's n_jobs=1) and its local-search start-point order.
    model = {"model": _forest_model(facade_cls, scenario, 1)} if kind == "smac-rf" else {}
    facade = facade_cls(scenario, target_function=None, logging_level=False, overwrite=True, **model)
    _fix_local_search_order(facade)
    weakref.finalize(facade, shutil.rmtree, tmp, True)
    return facade


def time_raw_smac(kind: str, n: int, seed: int = 0) -> float:
    from smac.runhistory.dataclasses import TrialValue

    smac = _smac_facade(kind, n, seed)
    start = clock()
    for _ in range(n):
        info = smac.ask()
        smac.tell(info, TrialValue(cost=branin(dict(info.config))), save=False)
    return clock() - start


def time_hpolab_smac(kind: str, n: int, seed: int = 0) -> tuple[float, float, list[float]]:
    """Total time, time inside SMAC's ask/tell, and the CPU time of each ask+tell."""
    opt = hpolab.make_optimizer(kind, BRANIN.search_space, seed=seed, n_trials=n)
    timer = LibraryTimer()
    facade = opt.smac  # type: ignore[attr-defined]
    facade.ask = timer.wrap(facade.ask)
    facade.tell = timer.wrap(facade.tell)
    per_trial = []
    start = clock()
    for _ in range(n):
        tick = clock()
        trial = opt.ask()
        opt.tell(trial, branin(trial.config))
        per_trial.append(clock() - tick)
    return clock() - start, timer.seconds, per_trial


WRAPPER_HEADER = f"{'optimizer':<9} {'trials':>7} {'raw loop':>10} {'hpolab':>10} {'difference':>11} {'wrapper-only':>13} {'overhead':>9}"


def wrapper_section(only: set[str], quick: bool) -> None:
    """Run and print one row at a time (SMAC RF at 1,000 trials is last: it takes longest)."""
    plan: list[tuple[str, int]] = []
    if "tpe" in only:
        plan += [("tpe", 100), ("tpe", 1000)]
    if "smac-rf" in only:
        plan += [("smac-rf", 100)]
    if "smac-gp" in only:
        plan += [("smac-gp", 100)]
    if "smac-rf" in only and not quick:
        plan += [("smac-rf", 1000)]
    print("Wrappers against the raw library loop (same seed, same library work), ms per ask+tell")
    print(WRAPPER_HEADER, flush=True)
    windows: dict[str, list[float]] = {}
    for kind, n in plan:
        if kind == "tpe":
            raw = min(time_raw_tpe(n) for _ in range(2))
            wrapped, library = min((time_hpolab_tpe(n) for _ in range(2)), key=lambda pair: pair[0])
        else:
            raw = time_raw_smac(kind, n)
            wrapped, library, per_trial = time_hpolab_smac(kind, n)
            if n == 100:
                windows[kind] = per_trial
        own = wrapped - library
        print(
            f"{kind:<9} {n:>7} {1e3 * raw / n:>10.3f} {1e3 * wrapped / n:>10.3f} "
            f"{100 * (wrapped - raw) / raw:>10.1f}% {1e3 * own / n:>13.3f} {100 * own / raw:>8.2f}%",
            flush=True,
        )
        if kind == "smac-gp" and "smac-rf" in windows:
            print_ask_cost(windows)
    print("overhead = wrapper-only time / raw loop time; the goal is under 10%")
    if "smac-gp" not in only and windows:
        print_ask_cost(windows)


def print_ask_cost(windows: dict[str, list[float]]) -> None:
    print()
    print("SMAC cost per ask+tell (hpolab wrapper, branin, mean of the 10 trials before the mark), CPU seconds")
    print(f"{'optimizer':<9} {'trials 41-50':>13} {'trials 91-100':>14} {'all 100':>9}")
    for kind, times in windows.items():
        print(f"{kind:<9} {sum(times[40:50]) / 10:>13.3f} {sum(times[90:100]) / 10:>14.3f} {sum(times) / 100:>9.3f}")
    print(flush=True)


def ask_cost_section(kinds: list[str]) -> None:
    """Only the wrapper runs at 100 trials: the cost per ask around 50 and 100 trials."""
    windows = {}
    for kind in kinds:
        _, _, per_trial = time_hpolab_smac(kind, 100)
        windows[kind] = per_trial
    print_ask_cost(windows)


# ------------------------------------------------------------------ study loop on each storage
STUDY_LOOP_SIZES = (100, 1000, 5000)
STUDY_LOOP_STORAGES = ("memory", "journal", "sqlite")
STORAGE_LABELS = {"memory": "memory", "journal": "journal file", "sqlite": "SQLite"}
READS = 20


def cpu_with_children() -> float:
    """CPU time of this process plus that of its finished (joined) child processes."""
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return clock() + children.ru_utime + children.ru_stime


def load_average() -> str:
    one, five, fifteen = os.getloadavg()
    return f"load average {one:.2f} {five:.2f} {fifteen:.2f} (1/5/15 min) on {os.cpu_count()} CPUs"


def storage_url(kind: str, folder: Path) -> str | None:
    return {
        "memory": None,
        "journal": f"journal:///{folder / 'bench.log'}",
        "sqlite": f"sqlite:///{folder / 'bench.db'}",
    }[kind]


def optuna_storage(kind: str, folder: Path) -> Any:
    """Optuna's own storage of ``kind``, opened as a plain Optuna user opens it."""
    if kind == "memory":
        return optuna.storages.InMemoryStorage()
    if kind == "journal":
        from optuna.storages.journal import JournalFileBackend

        return optuna.storages.JournalStorage(JournalFileBackend(str(folder / "bench.log")))
    return optuna.storages.RDBStorage(f"sqlite:///{folder / 'bench.db'}")


def mean_read_ms(read: Callable[[], Any]) -> float:
    start = clock()
    for _ in range(READS):
        read()
    return 1e3 * (clock() - start) / READS


def run_hpolab_loop(kind: str, n: int, n_jobs: int, folder: Path) -> tuple[float, float, float]:
    """CPU seconds of ``Study.optimize(n_trials=n, n_jobs=n_jobs)``, then ms per best_value / len(trials) read."""
    objective = hpolab.FunctionObjective(quadratic, mixed_space(), name="quadratic")
    study = hpolab.create_study(
        objective, RandomSearch(objective.search_space, seed=0), storage=storage_url(kind, folder)
    )
    start = cpu_with_children()
    study.optimize(n_trials=n, n_jobs=n_jobs)
    spent = cpu_with_children() - start
    finished = len(study.trials)
    if finished != n:
        raise RuntimeError(f"hpolab study on {kind} with n_jobs={n_jobs}: {finished} trials, expected {n}")
    return spent, mean_read_ms(lambda: study.best_value), mean_read_ms(lambda: len(study.trials))


@functools.cache
def study_space() -> hpolab.SearchSpace:
    """The search space both loops sample, built once (building one costs more than a trial)."""
    return mixed_space()


def _optuna_objective(trial: optuna.Trial) -> float:
    return quadratic(optuna_suggest(trial, study_space()))


def _optuna_worker(kind: str, folder: str, name: str, n: int, seed: int) -> None:
    """One process of raw Optuna's parallel run: its own storage connection, ``n`` trials."""
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    study = optuna.load_study(
        study_name=name, storage=optuna_storage(kind, Path(folder)), sampler=optuna.samplers.RandomSampler(seed=seed)
    )
    study.optimize(_optuna_objective, n_trials=n)


def run_optuna_loop(kind: str, n: int, n_jobs: int, folder: Path) -> tuple[float, float, float]:
    """Raw Optuna's loop on the same kind of storage: ``study.optimize`` in this process and, with
    ``n_jobs > 1``, in ``n_jobs - 1`` forked processes (as hpolab runs its workers), ``n / n_jobs`` trials each."""
    storage = optuna_storage(kind, folder)
    study = optuna.create_study(storage=storage, study_name="bench", sampler=optuna.samplers.RandomSampler(seed=0))
    share = n // n_jobs
    start = cpu_with_children()
    ctx = multiprocessing.get_context("fork")
    children = [
        ctx.Process(target=_optuna_worker, args=(kind, str(folder), "bench", share, seed)) for seed in range(1, n_jobs)
    ]
    for child in children:
        child.start()
    study.optimize(_optuna_objective, n_trials=n - share * (n_jobs - 1))
    for child in children:
        child.join()
    spent = cpu_with_children() - start
    if any(child.exitcode != 0 for child in children):
        raise RuntimeError(f"optuna worker failed on {kind}: exit codes {[c.exitcode for c in children]}")
    finished = len(study.trials)
    if finished != n:
        raise RuntimeError(f"optuna study on {kind} with n_jobs={n_jobs}: {finished} trials, expected {n}")
    return spent, mean_read_ms(lambda: study.best_value), mean_read_ms(lambda: len(study.trials))


def study_loop_section(sizes: Sequence[int], storages: Sequence[str], sqlite_max: int, jobs: Sequence[int]) -> None:
    """Per-trial CPU cost of hpolab's study loop beside raw Optuna's on the same storage, and the cost of reads.

    Each cell is one run in a fresh temporary folder (after one 20-trial warm-up run per storage).
    With ``n_jobs > 1`` the cost includes the worker processes (their CPU time, read when they are joined).
    In memory only ``n_jobs=1`` runs: hpolab's parallel workers need a persistent storage.
    """
    print("Study loop, random search: CPU ms per trial (this process + its worker processes), one run per cell")
    print(load_average(), flush=True)
    print(f"{'storage':<13} {'n_jobs':>6} {'trials':>7} {'optuna':>9} {'hpolab':>9} {'ratio':>7} {'difference':>11}")
    reads: list[tuple[str, int, float, float, float, float]] = []
    for kind in storages:
        for n_jobs in jobs:
            if kind == "memory" and n_jobs > 1:
                continue
            with tempfile.TemporaryDirectory() as tmp:  # warm-up: first imports and connections
                run_hpolab_loop(kind, 20, 1, Path(tmp))
            with tempfile.TemporaryDirectory() as tmp:
                run_optuna_loop(kind, 20, 1, Path(tmp))
            for n in sizes:
                if kind == "sqlite" and n > sqlite_max:
                    continue
                with tempfile.TemporaryDirectory() as tmp:
                    raw, raw_best, raw_len = run_optuna_loop(kind, n, n_jobs, Path(tmp))
                with tempfile.TemporaryDirectory() as tmp:
                    ours, best, length = run_hpolab_loop(kind, n, n_jobs, Path(tmp))
                if n_jobs == 1:
                    reads.append((kind, n, raw_best, best, raw_len, length))
                print(
                    f"{STORAGE_LABELS[kind]:<13} {n_jobs:>6} {n:>7} {1e3 * raw / n:>9.3f} {1e3 * ours / n:>9.3f} "
                    f"{ours / raw:>6.2f}x {1e3 * (ours - raw) / n:>8.3f} ms",
                    flush=True,
                )
    print(load_average())
    print()
    print(f"Reads after the study is built (n_jobs=1 studies), CPU ms per read, mean of {READS}")
    print(
        f"{'storage':<13} {'trials':>7} {'optuna best_value':>18} {'hpolab best_value':>18} "
        f"{'optuna len(trials)':>19} {'hpolab len(trials)':>19}"
    )
    for kind, n, raw_best, best, raw_len, length in reads:
        print(f"{STORAGE_LABELS[kind]:<13} {n:>7} {raw_best:>18.3f} {best:>18.3f} {raw_len:>19.3f} {length:>19.3f}")
    print(load_average())
    print(flush=True)


def main() -> None:
    # One BLAS thread: the loops are then single-threaded and their CPU time is their cost (OpenBLAS threads
    # waiting for a busy core spin and count as CPU time). threadpoolctl comes with scikit-learn.
    try:
        from threadpoolctl import threadpool_limits
    except ImportError:
        pass
    else:
        threadpool_limits(1)
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--only", nargs="*", default=["random", "tpe", "smac-rf", "smac-gp"])
    parser.add_argument("--quick", action="store_true", help="no 10,000-trial random rows and no SMAC RF at 1,000")
    parser.add_argument(
        "--ask-cost", nargs="*", metavar="KIND", help="only the SMAC cost-per-ask table, e.g. --ask-cost smac-rf"
    )
    parser.add_argument(
        "--study-loop",
        action="store_true",
        help="only the study-loop table: hpolab's Study.optimize against Optuna's on each storage, and read costs",
    )
    parser.add_argument("--sizes", nargs="*", type=int, default=list(STUDY_LOOP_SIZES), help="study-loop trial counts")
    parser.add_argument("--storages", nargs="*", default=list(STUDY_LOOP_STORAGES), choices=STUDY_LOOP_STORAGES)
    parser.add_argument("--jobs", nargs="*", type=int, default=[1, 4], help="study-loop n_jobs values")
    parser.add_argument("--sqlite-max", type=int, default=5000, help="largest study-loop trial count run on SQLite")
    args = parser.parse_args()
    if args.study_loop:
        study_loop_section(args.sizes, args.storages, args.sqlite_max, args.jobs)
        return
    if args.ask_cost is not None:
        ask_cost_section(args.ask_cost or ["smac-rf", "smac-gp"])
        return
    only = set(args.only)

    if "random" in only:
        sizes = [100, 1000] if args.quick else [100, 1000, 10000]
        rows = random_section(sizes)
        print("Random search: time per trial (ask + tell; the Study rows include its loop and storage)")
        print(f"{'loop':<36} {'trials':>7} {'us/trial':>10}")
        for name, n, seconds, _ in rows:
            print(f"{name:<36} {n:>7} {1e6 * seconds / n:>10.1f}", flush=True)
        print(flush=True)

    if only & {"tpe", "smac-rf", "smac-gp"}:
        wrapper_section(only, args.quick)


if __name__ == "__main__":
    main()
