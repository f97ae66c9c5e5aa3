"""How fast is the benchmark harness? 8 HPOBench NN tables x 6 non-LLM optimizers x 10 seeds x 10 evaluations.

Goal: under 2 minutes on 2 CPU cores. The table lookups take microseconds, so this measures the harness
itself: process start-up, optimizer construction, asks and tells, and the storage writes of every trial (SQLite or a journal file, --storage).

    python benchmarks/harness_speed.py            # the full grid, 2 worker processes
    python benchmarks/harness_speed.py --jobs 1 --seeds 2

Optimizers that are not registered in this install (e.g. SMAC without `hpolab[smac]`) are left out and named.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time

import hpolab
from hpolab import benchmark

WANTED = ["random", "grid", "tpe", "smac-rf", "smac-gp", "asha"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--trials", type=int, default=10)
    parser.add_argument("--optimizers", default=",".join(WANTED))
    parser.add_argument(
        "--storage",
        choices=["sqlite", "journal"],
        default="sqlite",
        help="where the runs are kept (hpolab compare: sqlite)",
    )
    args = parser.parse_args()
    known = hpolab.list_optimizers()
    optimizers = [o for o in args.optimizers.split(",") if o in known]
    missing = [o for o in args.optimizers.split(",") if o not in known]
    objectives = benchmark.expand_objectives("hpobench/nn/*")
    n_runs = len(optimizers) * len(objectives) * args.seeds
    print(
        f"{len(objectives)} tables x {len(optimizers)} optimizers ({', '.join(optimizers)}) x {args.seeds} seeds "
        f"x {args.trials} evaluations = {n_runs} runs, {n_runs * args.trials} trials; {args.jobs} worker(s), "
        f"{os.cpu_count()} CPU(s), {args.storage} storage, load average {os.getloadavg()[0]:.2f}"
    )
    if missing:
        print(f"not registered here, left out: {', '.join(missing)}")
    with tempfile.TemporaryDirectory() as tmp:
        db = os.path.join(tmp, "speed.db" if args.storage == "sqlite" else "speed.log")
        t0 = time.perf_counter()
        df = benchmark.run(
            optimizers,
            objectives,
            args.seeds,
            n_trials=args.trials,
            storage=db,
            n_jobs=args.jobs,
            show_progress_bar=True,
        )
        elapsed = time.perf_counter() - t0
        per_opt: dict[str, list[float]] = {}
        for c in benchmark.study_contexts(db):
            per_opt.setdefault(c["optimizer"], []).append(float(c.get("seconds", 0.0)))
    print(f"{len(df)} trials in {elapsed:.1f} s wall ({len(df) / elapsed:.0f} trials/s); goal: < 120 s")
    ranked = sorted(per_opt.items(), key=lambda kv: -sum(kv[1]))
    print("worker seconds per run (mean), by optimizer: " + ", ".join(f"{k} {sum(v) / len(v):.2f}" for k, v in ranked))


if __name__ == "__main__":
    main()
