"""hpolab's ``cmaes`` against Optuna's ``CmaEsSampler`` run directly, and both against random search.

A correctness cross-check: on the same objectives and seeds, the best value after ``--n-trials``
trials of hpolab's ``cmaes`` (an ask/tell wrapper of Optuna's ``CmaEsSampler``), of an Optuna study
with ``CmaEsSampler`` (``n_startup_trials=1``, a ``RandomSampler`` with the same seed for what it does
not model: hpolab's defaults) and of hpolab's ``random``. The paired tests say whether hpolab's
wrapper changes CMA-ES's results, and whether CMA-ES beats random search at this budget.

Default: the 8 YAHPO lcbench instances of ``centaur_ablation.py --objectives lcbench``, 10 seeds, 30 trials
(``HPOLAB_YAHPO_DATA`` set)::

    python benchmarks/cmaes_crosscheck.py --out benchmarks/results/cmaes_crosscheck.md
"""

from __future__ import annotations

import argparse
import math
import platform
import shlex
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import optuna
from centaur_ablation import LCBENCH  # the same 8 instances as the ablation
from scipy.stats import wilcoxon

import hpolab

METHODS = ("hpolab cmaes", "Optuna CmaEsSampler", "hpolab random")


def _direction(objective: Any) -> str:
    return str(getattr(objective.direction, "value", objective.direction)).lower()


def _hpolab_best(name: str) -> Callable[[Any, int, int], float]:
    def run(objective: Any, seed: int, n_trials: int) -> float:
        study = hpolab.create_study(objective, name, seed=seed)
        study.optimize(max_trials=n_trials)
        return float(study.best_value)

    return run


def _optuna_best(objective: Any, seed: int, n_trials: int) -> float:
    distributions = objective.search_space.to_optuna()
    sampler = optuna.samplers.CmaEsSampler(
        seed=seed, n_startup_trials=1, independent_sampler=optuna.samplers.RandomSampler(seed=seed)
    )
    study = optuna.create_study(direction=_direction(objective), sampler=sampler)
    for _ in range(n_trials):
        trial = study.ask(fixed_distributions=distributions)
        study.tell(trial, float(objective.evaluate(trial.params).value))
    return float(study.best_value)


RUNNERS: dict[str, Callable[[Any, int, int], float]] = {
    "hpolab cmaes": _hpolab_best("cmaes"),
    "Optuna CmaEsSampler": _optuna_best,
    "hpolab random": _hpolab_best("random"),
}


def _fmt(x: float, digits: int = 4) -> str:
    return "n/a" if not math.isfinite(x) else f"{x:.{digits}g}"


def _paired(a: np.ndarray, b: np.ndarray) -> str:
    diff = a - b
    p = float(wilcoxon(diff, zero_method="zsplit").pvalue) if np.count_nonzero(diff) else math.nan
    return (
        f"{_fmt(float(diff.mean()))} | {int((diff < 0).sum())} | {int((diff > 0).sum())} | "
        f"{int((diff == 0).sum())} | {_fmt(p, 3)}"
    )


def main(argv: Sequence[str] | None = None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--objectives", default=",".join(LCBENCH))
    p.add_argument("--seeds", type=int, default=10)
    p.add_argument("--n-trials", type=int, default=30)
    p.add_argument("--out", default=None, help="a Markdown file for the report (default: print it)")
    args = p.parse_args(argv)
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    names = [n for n in args.objectives.split(",") if n]
    start = time.perf_counter()
    best: dict[str, list[float]] = {m: [] for m in METHODS}
    per_task: list[str] = []
    for name in names:
        objective = hpolab.make_objective(name)
        sign = -1.0 if _direction(objective) == "maximize" else 1.0
        row = {m: [sign * RUNNERS[m](objective, seed, args.n_trials) for seed in range(args.seeds)] for m in METHODS}
        for m in METHODS:
            best[m] += row[m]
        per_task.append(f"| `{name}` | " + " | ".join(_fmt(float(np.mean(row[m]))) for m in METHODS) + " |")
    arrays = {m: np.asarray(v) for m, v in best.items()}
    invoked = " ".join(shlex.quote(a) for a in sys.argv)
    lines = [
        "# hpolab's `cmaes` against Optuna's `CmaEsSampler`, and both against random search",
        "",
        f"Command: `{invoked}`",
        "",
        f"- {len(names)} objectives x {args.seeds} seeds, {args.n_trials} trials per run; the loss is the best value "
        "of the run (minimized).",
        "- `Optuna CmaEsSampler`: an Optuna study with `CmaEsSampler(seed=s, n_startup_trials=1, "
        "independent_sampler=RandomSampler(seed=s))` on the objective's `search_space.to_optuna()`; "
        "`hpolab cmaes` and `hpolab random`: `hpolab.create_study(objective, name, seed=s)`.",
        f"- Wall time: {(time.perf_counter() - start) / 60:.1f} min on {platform.machine()}, "
        f"Python {platform.python_version()}.",
        "",
        "Mean best loss per objective:",
        "",
        "| objective | " + " | ".join(METHODS) + " |",
        "|---|" + "---|" * len(METHODS),
        *per_task,
        "| all | " + " | ".join(_fmt(float(arrays[m].mean())) for m in METHODS) + " |",
        "",
        "Paired over objectives x seeds (negative: the first has the lower loss; Wilcoxon signed-rank, zsplit):",
        "",
        "| comparison | mean difference | first better | second better | ties | p |",
        "|---|---|---|---|---|---|",
    ]
    for a, b in (METHODS[:2], (METHODS[0], METHODS[2]), (METHODS[1], METHODS[2])):
        lines.append(f"| `{a}` - `{b}` | {_paired(arrays[a], arrays[b])} |")
    text = "\n".join(lines) + "\n"
    if args.out:
        Path(args.out).write_text(text, encoding="utf-8")
    else:
        sys.stdout.write(text)


if __name__ == "__main__":
    main()
