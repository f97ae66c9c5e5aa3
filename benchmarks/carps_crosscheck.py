"""Cross-check: hpolab's ``tpe`` against CARP-S's Optuna-TPE on the same tasks and seeds, one paired test per task.

Both are Optuna's ``TPESampler`` with its defaults; hpolab's ``tpe`` samples define-by-run (only the
active parameters of a conditional space), CARP-S's ``OptunaOptimizer`` asks with the whole space's
distributions (it samples inactive parameters too). CARP-S's optimizer runs through hpolab's ``carps``
optimizer (its own ask/tell). On each (task, seed) both get the same optimizer seed (hpolab's seed
scheme), so on a space where both sample the same way the two runs can be identical trial by trial.

Per task the paired differences ``d = best(tpe) - best(Optuna-TPE)`` over the seeds are tested with the
two-sided Wilcoxon signed-rank test (:func:`hpolab.analysis.stats.wilcoxon_against_half` on
``0.5 + d / (2 max|d|)``, which has the signed ranks of ``d``; differences under the objective's
resolution, :func:`~hpolab.analysis.stats.tie_tolerance`, are ties and left out), Holm-adjusted over
the tasks, with a bootstrap interval of the mean difference (:func:`~hpolab.analysis.stats.bootstrap_interval`).
A p-value above 0.05 says that this many seeds cannot tell the two apart on that task, not that they are
the same; the table also counts the seeds whose two runs were identical.

Run: ``python benchmarks/carps_crosscheck.py`` (``--tasks``, ``--seeds``, ``--n-trials``, ``-j``, ``-o``);
it writes ``crosscheck.md``, ``crosscheck.csv`` and ``results.log`` (the runs, resumable) to the output folder.
``--pair A,B`` pairs two other methods of the suite the same way (e.g. ``llm-hybrid,tpe``: the hybrid against
its core, on a full suite's folder with ``--report-only``) and writes ``paired-A-B.md`` / ``.csv``.
"""

from __future__ import annotations

import argparse
import math
import os
import resource
import shlex
import sys
import time
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from hpolab.analysis import stats as S
from hpolab.benchmark import SUITES, execute, load_results, plan_runs, results_storage

OUT = Path(__file__).resolve().parent / "results" / "carps" / "crosscheck"
OURS, THEIRS = "tpe", "carps-Optuna-TPE"
#: CARP-S's budget per task of the offline blackbox suite.
CARPS_BB_OFFLINE_TRIALS = dict(SUITES["carps-bb-offline"].task_trials)
DEFAULT_TASKS = (
    "carps/bbob/2/6/1",
    "carps/bbob/8/22/0",
    "carps/bbob/16/1/1",
    "yahpo/lcbench/167184",
    "yahpo/rbv2_rpart/18",
    "yahpo/rbv2_xgboost/1457",
)


def paired_table(df: pd.DataFrame, ours: str = OURS, theirs: str = THEIRS) -> pd.DataFrame:
    """One row per task: the paired test of ``ours`` (hpolab's ``tpe``) against ``theirs`` (CARP-S's Optuna-TPE) over the seeds."""
    rows: list[dict[str, Any]] = []
    for task, tdf in df.groupby("objective", sort=True):
        best = tdf.groupby(["optimizer", "seed"])["value"].min().unstack("optimizer")
        best = best.dropna(subset=[ours, theirs])
        seqs = tdf.sort_values("trial").groupby(["optimizer", "seed"])["value"].apply(list)
        identical = sum(1 for seed in best.index if seqs.get((ours, seed)) == seqs.get((theirs, seed)))
        h = S.tie_tolerance(tdf["value"].to_numpy())
        d = (best[ours] - best[theirs]).to_numpy(dtype=float)
        d = np.where(np.abs(d) < h, 0.0, d)
        scale = float(np.max(np.abs(d))) if d.size else 0.0
        test = S.wilcoxon_against_half(0.5 + d / (2 * scale) if scale > 0 else np.full(d.shape, 0.5), str(task))
        diff = S.bootstrap_interval(d)
        rows.append(
            {
                "task": task,
                "trials": int(tdf.groupby(["optimizer", "seed"]).size().min()),
                "seeds": int(d.size),
                "identical runs": identical,
                f"mean best {ours}": float(best[ours].mean()),
                f"mean best {theirs}": float(best[theirs].mean()),
                "mean difference": diff.estimate,
                "95% interval": (diff.low, diff.high),
                f"{ours} better": int((d < 0).sum()),
                f"{theirs} better": int((d > 0).sum()),
                "ties": int((d == 0).sum()),
                "p": test.p_value,
            }
        )
    table = pd.DataFrame(rows)
    table["p (Holm)"] = S.holm(table["p"].to_numpy()) if len(table) else []
    return table


def pooled_line(table: pd.DataFrame, ours: str = OURS, theirs: str = THEIRS) -> str:
    """The seeds' wins and ties summed over the tasks, and over the tasks without an identical run, with sign tests."""
    from scipy.stats import binomtest

    def counts(rows: pd.DataFrame) -> str:
        won, lost, ties = (int(rows[c].sum()) for c in (f"{ours} better", f"{theirs} better", "ties"))
        p = binomtest(won, won + lost).pvalue if won + lost else 1.0
        return (
            f"{won + lost + ties} (task, seed) pairs: `{ours}` better in {won}, `{theirs}` better in {lost}, "
            f"{ties} ties; two-sided sign test of the untied pairs p = {p:.3g}"
        )

    apart = table[table["identical runs"] == 0]
    text = f"Over all {len(table)} tasks, {counts(table)} ({int(table['identical runs'].sum())} identical runs)."
    if len(apart) and len(apart) < len(table):
        text += (
            f" Over the {len(apart)} task{'s' if len(apart) != 1 else ''} without an identical run, {counts(apart)}."
        )
    return text


def _short_runs(df: pd.DataFrame, specs: Any) -> list[str]:
    """The runs of ``specs`` with fewer trials in ``df`` than their budget (missing ones included)."""
    counts = df.groupby(["optimizer", "objective", "seed"]).size()
    return [s.study_name for s in specs if counts.get((s.optimizer, s.objective, s.seed), 0) < (s.n_trials or 0)]


def _fmt(value: Any) -> str:
    if isinstance(value, tuple):
        lo, hi = value
        return "n/a" if not (math.isfinite(lo) and math.isfinite(hi)) else f"[{lo:.4g}, {hi:.4g}]"
    if isinstance(value, float):
        return "n/a" if not math.isfinite(value) else f"{value:.4g}"
    return str(value)


def markdown(table: pd.DataFrame) -> str:
    cols = list(table.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    lines += ["| " + " | ".join(_fmt(row[c]) for c in cols) + " |" for _, row in table.iterrows()]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tasks", default=",".join(DEFAULT_TASKS), help="comma-separated objectives")
    parser.add_argument("--seeds", type=int, default=10, help="seeds per task (default: 10)")
    parser.add_argument(
        "--n-trials", type=int, default=None, help="trials per run (default: CARP-S's budget of each task)"
    )
    parser.add_argument("-j", "--jobs", type=int, default=1, help="worker processes (default: 1)")
    parser.add_argument("-o", "--output", type=Path, default=OUT, help="output folder")
    parser.add_argument(
        "--pair",
        default=f"{OURS},{THEIRS}",
        help=f"the two methods of the suite to pair, A,B (default: {OURS},{THEIRS}, written to crosscheck.md; "
        "another pair goes to paired-A-B.md), e.g. llm-hybrid,tpe: the hybrid against its core",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: test the runs already in the output folder's results.log (e.g. a full "
        "`hpolab compare --suite carps-bb-offline` folder; the same study names)",
    )
    args = parser.parse_args(argv)
    tasks = [t.strip() for t in args.tasks.split(",") if t.strip()]
    unknown = sorted(set(tasks) - set(CARPS_BB_OFFLINE_TRIALS))
    if unknown:
        parser.error(
            f"--tasks: {unknown} are not tasks of carps-bb-offline; choose from {list(CARPS_BB_OFFLINE_TRIALS)}"
        )
    pair = [m.strip() for m in args.pair.split(",") if m.strip()]
    known = SUITES["carps-bb-offline"].optimizers
    if len(pair) != 2 or pair[0] == pair[1] or not set(pair) <= set(known):
        parser.error(f"--pair: {args.pair!r} must name two different methods of carps-bb-offline, from {list(known)}")
    ours, theirs = pair
    stem = "crosscheck" if (ours, theirs) == (OURS, THEIRS) else f"paired-{ours}-{theirs}"
    args.output.mkdir(parents=True, exist_ok=True)
    storage = str(results_storage(args.output))
    command = "python " + shlex.join(["benchmarks/carps_crosscheck.py", *(sys.argv[1:] if argv is None else argv)])
    plan = plan_runs(
        "carps-bb-offline",
        optimizers={ours: known[ours], theirs: known[theirs]},
        objectives=tasks,
        seeds=args.seeds,
        n_trials=args.n_trials,
        parts=False,
        context={"command": command},
    )
    for line in plan.skipped:
        print(line, file=sys.stderr)
    if args.report_only:
        made = f"Runs read from the folder's `results.log` ({len(plan.specs)} runs, {args.seeds} seeds per task and method)."
    else:
        load_before = os.getloadavg()
        wall = time.perf_counter()
        execute(plan.specs, storage, n_jobs=args.jobs)
        wall = time.perf_counter() - wall
        load_after = os.getloadavg()
        usage = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        cpu = sum(u.ru_utime + u.ru_stime for u in usage)
        made = (
            f"{len(plan.specs)} runs ({args.seeds} seeds per task and method) in {wall:.0f} s wall, {cpu:.0f} s CPU "
            f"({args.jobs} worker process(es)); load average {load_before[0]:.2f} at the start and "
            f"{load_after[0]:.2f} at the end, on {os.cpu_count()} CPUs."
        )
    df = load_results(storage, studies=[s.study_name for s in plan.specs])
    short = _short_runs(df, plan.specs)
    if short:
        parser.error(
            f"{len(short)} of the {len(plan.specs)} runs are missing or unfinished in {storage} (e.g. {short[0]}); "
            + ("run without --report-only to make them" if args.report_only else "run the command again to finish them")
        )
    table = paired_table(df, ours, theirs)
    table.to_csv(args.output / f"{stem}.csv", index=False)
    significant = table[table["p (Holm)"] <= S.ALPHA]["task"].tolist()
    explain = (
        "Both methods are Optuna's TPESampler with its defaults and the same seed on each (task, seed); CARP-S's "
        "Optuna-TPE is CARP-S's OptunaOptimizer run through its ask/tell by hpolab's `carps` optimizer. "
        if (ours, theirs) == (OURS, THEIRS)
        else "Both methods got the same optimizer seed on each (task, seed). "
    )
    text = [
        f"# `{ours}` against `{theirs}` on carps-bb-offline: paired per task",
        "",
        f"Command: `{command}`. {made}",
        "",
        explain + "The test is the two-sided Wilcoxon signed-rank test of the paired best values, Holm-adjusted "
        "over the tasks; `identical runs` counts the seeds whose two runs gave the same values trial by trial.",
        "",
        markdown(table),
        "",
        pooled_line(table, ours, theirs),
        "",
        (
            f"Holm-adjusted p <= {S.ALPHA} on: {', '.join(significant)}."
            if significant
            else f"No task has a Holm-adjusted p <= {S.ALPHA}: these seeds cannot tell the two apart on any task. "
            "That is not evidence that they are the same beyond the identical runs counted above."
        ),
        "",
    ]
    (args.output / f"{stem}.md").write_text("\n".join(text), encoding="utf-8")
    print("\n".join(text))
    return 0


if __name__ == "__main__":
    sys.exit(main())
