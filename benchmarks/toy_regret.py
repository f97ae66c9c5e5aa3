"""Mean final regret of the classic optimizers on the 2-D toy functions of seed 002's Appendix E (no LLM).

Appendix E's experiment is an LLM's trajectories on these functions; this script runs only the classic
optimizers on them, as a calibration of the functions and the optimizers, not a reproduction.

Each optimizer runs ``hpolab.optimize(objective, name, n_trials=50, seed=...)`` for seeds 0-9 on each
toy function, the optimizer's seed derived from the seed and the function as the harness derives it
(``hpolab.benchmark.optimizer_seed``, seed scheme 2), so each function gets its own draws; the final
regret is ``best value - optimum``. ASHA (r=1, R=16, eta=4, random
searcher) runs on the multi-fidelity version of each function (``toy/<fn>-mf``, biased at low
budgets) with the same number of trials; its regret is that of the best configuration evaluated
at the full budget, and the table also shows the budget it spent (the others spend 50 x 16 in
full-budget units). ``asha-budget`` is seed 004's comparison: ASHA given the same total budget as
50 full-budget trials (``Study.optimize(max_budget_spent=800)``), so it runs many more trials.

Runs are cached in ``benchmarks/results/toy_regret_runs.csv`` (delete it to start over), so an
interrupted run resumes; each row records its seed scheme (rows without one are scheme 1, the seed
itself on every function), and the table uses the rows of one scheme (``--seed-scheme``). Prints the table and writes it to ``benchmarks/results/toy_regret.md``.

Usage::

    python benchmarks/toy_regret.py
    python benchmarks/toy_regret.py --optimizers random tpe --seeds 3 --functions branin
    python benchmarks/toy_regret.py --table-only     # the table of whatever runs are cached
    python benchmarks/toy_regret.py --table-only --seed-scheme 1   # the table of the scheme-1 runs
    python benchmarks/toy_regret.py --table-only --note "..."       # with a line under it (e.g. the wall time)
"""

from __future__ import annotations

import argparse
import csv
import math
import sys
import time
from pathlib import Path

import hpolab
from hpolab.benchmark import SEED_SCHEME, optimizer_seed

RESULTS = Path(__file__).resolve().parent / "results"
FUNCTIONS = ["branin", "ackley", "rosenbrock", "himmelblau", "quad2d", "illcond"]
OPTIMIZERS = ["random", "tpe", "smac-rf", "smac-gp", "asha", "asha-budget"]
FIELDS = ["function", "optimizer", "seed", "n_trials", "regret", "budget_spent", "seconds", "seed_scheme"]

#: A cached run: (function, optimizer, seed, n_trials, seed scheme).
Key = tuple[str, str, int, int, int]


def run_one(function: str, optimizer: str, seed: int, n_trials: int, scheme: int = SEED_SCHEME) -> tuple[float, float]:
    """Final regret and budget spent of one run; the optimizer's seed derives from ``seed`` and the objective."""
    if optimizer in ("asha", "asha-budget"):
        objective = hpolab.make_objective(f"toy/{function}-mf")
        seed = optimizer_seed(seed, objective.name, scheme)
        if optimizer == "asha":
            study = hpolab.optimize(objective, "asha", n_trials=n_trials, seed=seed)
        else:  # seed 004's comparison: the budget of n_trials full-budget trials
            study = hpolab.create_study(objective, "asha", seed=seed)
            study.optimize(max_budget_spent=objective.fidelity.max * n_trials)  # type: ignore[union-attr]
        top = objective.fidelity.max  # type: ignore[union-attr]
        full = [r for r in study.trials if r.budget == top and r.value is not None]
        best = min(r.info["true_value"] for r in full) if full else math.inf
        return best - objective.optimum, study.budget_spent  # type: ignore[operator]
    objective = hpolab.make_objective(f"toy/{function}")
    study = hpolab.optimize(objective, optimizer, n_trials=n_trials, seed=optimizer_seed(seed, objective.name, scheme))
    return study.best_value - objective.optimum, 16.0 * n_trials  # type: ignore[operator]


def load_cache(path: Path) -> dict[Key, dict[str, str]]:
    """The cached runs by (function, optimizer, seed, n_trials, seed scheme); rows without a scheme are scheme 1."""
    if not path.exists():
        return {}
    with path.open() as fh:
        return {
            (r["function"], r["optimizer"], int(r["seed"]), int(r["n_trials"]), int(r.get("seed_scheme") or 1)): r
            for r in csv.DictReader(fh)
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--optimizers", nargs="*", default=OPTIMIZERS)
    parser.add_argument("--functions", nargs="*", default=FUNCTIONS)
    parser.add_argument("--seeds", type=int, default=10)
    parser.add_argument("--n-trials", type=int, default=50)
    parser.add_argument("--cache", type=Path, default=RESULTS / "toy_regret_runs.csv")
    parser.add_argument("--table-only", action="store_true", help="print the table of the cached runs; run nothing")
    parser.add_argument(
        "--note", action="append", default=[], help="a line written under the table (repeatable), e.g. the wall time"
    )
    parser.add_argument(
        "--seed-scheme", type=int, default=SEED_SCHEME, help="how optimizer seeds derive (1: the seed itself)"
    )
    args = parser.parse_args()

    args.cache.parent.mkdir(parents=True, exist_ok=True)
    cache = load_cache(args.cache)
    if not args.table_only:
        run_missing(args, cache)
    table = format_table(cache, args.optimizers, args.functions, args.seeds, args.n_trials, args.seed_scheme)
    table += "".join(f"\n\n{note}" for note in args.note)
    print(table)
    if args.cache == RESULTS / "toy_regret_runs.csv":
        (RESULTS / "toy_regret.md").write_text(table + "\n")


def run_missing(args: argparse.Namespace, cache: dict[Key, dict[str, str]]) -> None:
    """Run the runs missing from the cache, appending each to it."""
    new_file = not args.cache.exists()
    if not new_file:
        with args.cache.open() as fh:
            header = next(csv.reader(fh), [])
        if header != FIELDS:  # a cache from before the seed_scheme column: rewrite it with the column
            rows = list(cache.values())
            with args.cache.open("w", newline="") as out:
                writer = csv.DictWriter(out, fieldnames=FIELDS)
                writer.writeheader()
                for row in rows:
                    writer.writerow({**row, "seed_scheme": row.get("seed_scheme") or 1})
    with args.cache.open("a", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        if new_file:
            writer.writeheader()
        for optimizer in args.optimizers:
            for function in args.functions:
                for seed in range(args.seeds):
                    key = (function, optimizer, seed, args.n_trials, args.seed_scheme)
                    if key in cache:
                        continue
                    start = time.perf_counter()
                    regret, spent = run_one(function, optimizer, seed, args.n_trials, args.seed_scheme)
                    row = {
                        "function": function,
                        "optimizer": optimizer,
                        "seed": seed,
                        "n_trials": args.n_trials,
                        "regret": repr(regret),
                        "budget_spent": repr(spent),
                        "seconds": f"{time.perf_counter() - start:.2f}",
                        "seed_scheme": args.seed_scheme,
                    }
                    writer.writerow(row)
                    fh.flush()
                    cache[key] = {k: str(v) for k, v in row.items()}
                    print(f"  {optimizer:<8} {function:<11} seed {seed}: regret {regret:.4g}", file=sys.stderr)


def format_table(
    cache: dict[Key, dict[str, str]],
    optimizers: list[str],
    functions: list[str],
    seeds: int,
    n_trials: int,
    scheme: int = SEED_SCHEME,
) -> str:
    how = (
        "seed scheme 1: the optimizer's seed is the run's seed on every function, so one seed's random "
        "search draws the same points on every function"
        if scheme == 1
        else f"seed scheme {scheme}: each function's optimizer seed derives from the seed and the function"
    )
    lines = [
        f"Mean final regret over {seeds} seeds, {n_trials} trials (standard error in brackets; lower is better); {how}.",
        "",
        "| function | " + " | ".join(optimizers) + " |",
        "|---|" + "---|" * len(optimizers),
    ]
    means: dict[str, list[float]] = {o: [] for o in optimizers}
    for function in functions:
        cells = []
        for optimizer in optimizers:
            values = [
                float(cache[k]["regret"])
                for s in range(seeds)
                if (k := (function, optimizer, s, n_trials, scheme)) in cache
            ]
            if len(values) < seeds:
                cells.append(f"({len(values)}/{seeds} runs)")
                continue
            mean = sum(values) / len(values)
            sd = math.sqrt(sum((v - mean) ** 2 for v in values) / max(len(values) - 1, 1))
            cells.append(f"{mean:.4g} ({sd / math.sqrt(len(values)):.2g})")
            means[optimizer].append(mean)
        lines.append(f"| {function} | " + " | ".join(cells) + " |")
    wins = []
    for optimizer in optimizers:
        if optimizer == "random" or "random" not in optimizers or len(means[optimizer]) != len(functions):
            continue
        if len(means["random"]) == len(functions):
            better = sum(m < r for m, r in zip(means[optimizer], means["random"], strict=True))
            wins.append(f"{optimizer} below random on {better}/{len(functions)} functions")
    if wins:
        lines += ["", "; ".join(wins)]
    spent = [
        float(r["budget_spent"])
        for k, r in cache.items()
        if k[1] == "asha" and k[0] in functions and k[3] == n_trials and k[4] == scheme and "asha" in optimizers
    ]
    if spent:
        lines.append(
            f"ASHA spent {sum(spent) / len(spent):.0f} budget units per run on average "
            f"(the others: {16 * n_trials} = {n_trials} full-budget trials)"
        )
    seconds = {
        o: sum(float(r["seconds"]) for k, r in cache.items() if k[1] == o and k[3] == n_trials and k[4] == scheme)
        for o in optimizers
    }
    if any(seconds.values()):
        lines.append(
            f"Recorded run seconds of these runs: {sum(seconds.values()):,.0f} in all ("
            + ", ".join(f"{o} {v:,.0f}" for o, v in sorted(seconds.items(), key=lambda kv: -kv[1]))
            + ")"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    main()
