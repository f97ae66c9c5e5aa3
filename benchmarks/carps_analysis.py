"""CARP-S's own analysis of an hpolab comparison: export, ``gather_and_check``, ranks and critical difference.

Given a folder that ``hpolab compare`` (or ``benchmarks/paper_suite.py``) wrote, this exports its
``results.log`` as CARP-S run folders (:func:`hpolab.integrations.carps.export_carps_logs`), gathers them
with ``carps.analysis.gather_data.gather_and_check``, loads them with CARP-S's ``load_results`` (its
normalized incumbent costs) and runs CARP-S's critical-difference evaluation
(``carps.analysis.run_autorank.cd_evaluation`` on ``get_df_crit``: Friedman and Nemenyi on the final
incumbent cost, mean over seeds, one row per task, as its diagram) and its per-task performance plot. It
writes ``carps_analysis/`` in that folder: the figures, ``ranks.md`` (CARP-S's mean ranks, its
Friedman p-value and critical difference) and ``runstatus.csv``; the run folders and CARP-S's
``logs.*`` go to a scratch folder (``--runs``, default: a temporary one) as they are large.

Run: ``python benchmarks/carps_analysis.py benchmarks/results/carps/smoke``.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

import matplotlib

matplotlib.use("Agg")


def analyse(
    folder: Path,
    runs: Path,
    n_trials: int | None = None,
    *,
    optimizers: list[str] | None = None,
    seeds: int | None = None,
    name: str = "carps_analysis",
) -> str:
    """Run CARP-S's analysis on the comparison in ``folder``; return the text of ``ranks.md``.

    ``n_trials`` is the trial budget written into the exported runs (default: CARP-S's own per task).
    Runs that ``hpolab compare`` did not finish are left out (``hpolab.benchmark.select_runs``), as are
    optimizers not in ``optimizers`` and seeds from ``seeds`` on. An optimizer that did not run on every
    task and seed kept (ASHA on the tasks with a fidelity, a row still running) is left out of the ranks, as
    CARP-S's ``get_df_crit`` would drop every task it lacks and average over unequal seeds. The output goes
    to ``folder / name``.
    """
    import pandas as pd
    from carps.analysis.gather_data import gather_and_check
    from carps.analysis.generate_report import load_results, plot_critical_difference, plot_performance_per_task
    from carps.analysis.run_autorank import cd_evaluation, get_df_crit

    from hpolab.benchmark import load_results as hpolab_results
    from hpolab.benchmark import results_storage, select_runs, study_contexts
    from hpolab.integrations.carps import export_carps_logs

    out = folder / name
    out.mkdir(parents=True, exist_ok=True)
    storage = results_storage(folder)
    df, _, selected = select_runs(hpolab_results(storage), study_contexts(storage), optimizers=optimizers, seeds=seeds)
    runs_of = df.groupby("optimizer")[["objective", "seed"]].apply(
        lambda g: set(zip(g["objective"], g["seed"], strict=True))
    )
    every = set().union(*runs_of)
    partial = sorted(f"{o} ({len(r)} of {len(every)} runs)" for o, r in runs_of.items() if r != every)
    df = df[df["optimizer"].isin([o for o, r in runs_of.items() if r == every])]
    written = export_carps_logs(df, runs, n_trials=n_trials, storage=results_storage(folder))
    gather_and_check(str(runs), n_processes=1)
    shutil.copy(runs / "runstatus.csv", out / "runstatus.csv")
    logs = load_results(str(runs / "logs.parquet"))
    logs = logs.assign(task_type="blackbox", subset_id="offline")  # one group: every task of the comparison
    plot_performance_per_task(logs, output_dir=str(out), replot=True)
    n_optimizers = logs["optimizer_id"].nunique()
    if n_optimizers < 3:  # autorank then runs a two-sample test, whose result CARP-S's diagram code cannot read
        text = (
            "# CARP-S's analysis of this comparison\n\n"
            f"{len(written)} runs of {n_optimizers} optimizer(s) exported and gathered; CARP-S's critical-difference "
            "evaluation needs three or more optimizers (with two, autorank runs a two-sample test and "
            "carps.analysis.generate_report.plot_critical_difference fails on its result), so there is no ranking "
            "here; the per-task plot is written.\n"
        )
        (out / "ranks.md").write_text(text, encoding="utf-8")
        return text
    plot_critical_difference(logs, output_dir=str(out), replot=True)
    crit = get_df_crit(logs)  # CARP-S's default: the final incumbent cost, as its diagram
    result = cd_evaluation(crit, maximize_metric=False, ignore_non_significance=True, plot_diagram=False)
    ranks = pd.DataFrame({"mean rank": result.rankdf["meanrank"]}).sort_values("mean rank")
    lines = [
        "# CARP-S's analysis of this comparison",
        "",
        f"{len(written)} runs exported with hpolab.integrations.carps.export_carps_logs and gathered by "
        "carps.analysis.gather_data.gather_and_check; the ranks are CARP-S's critical-difference evaluation "
        "(carps.analysis.run_autorank.cd_evaluation: Friedman test, Nemenyi post hoc test, alpha 0.05) of the "
        "final incumbent cost (`trial_value__cost_inc`, mean over seeds), one row per task "
        f"({len(crit)} tasks). hpolab's optimizers carry the prefix `hpolab-`; CARP-S's own, run through hpolab's "
        "`carps` optimizer, keep their CARP-S ids."
        + (f" Left out, as they did not run on every task and seed: {', '.join(partial)}." if partial else "")
        + "".join(f" {line}" for line in selected),
        "",
        "| optimizer | mean rank |",
        "|---|---|",
        *[f"| {name} | {row['mean rank']:.3f} |" for name, row in ranks.iterrows()],
        "",
        f"Friedman p = {result.pvalue:.3g}; critical difference {result.cd:.3f}"
        + ("" if result.pvalue < result.alpha else " (not significant: the diagram's bars may mislead)")
        + ".",
        "",
    ]
    text = "\n".join(lines)
    (out / "ranks.md").write_text(text, encoding="utf-8")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path, help="a folder with results.log (hpolab compare's output)")
    parser.add_argument("--runs", type=Path, default=None, help="where the CARP-S run folders go (default: temporary)")
    parser.add_argument(
        "--n-trials", type=int, default=None, help="trial budget of the runs (default: CARP-S's own per task)"
    )
    parser.add_argument("--optimizers", default=None, help="comma-separated optimizer labels (default: all)")
    parser.add_argument("--seeds", type=int, default=None, help="seeds 0..N-1 only (default: all)")
    parser.add_argument("--name", default="carps_analysis", help="output folder inside FOLDER")
    args = parser.parse_args(argv)
    t0, load = time.perf_counter(), os.getloadavg()
    options = {
        "optimizers": None if args.optimizers is None else [o for o in args.optimizers.split(",") if o],
        "seeds": args.seeds,
        "name": args.name,
    }
    if args.runs is not None:
        text = analyse(args.folder, args.runs, args.n_trials, **options)
    else:
        with tempfile.TemporaryDirectory(prefix="carps-runs-") as tmp:
            text = analyse(args.folder, Path(tmp), args.n_trials, **options)
    print(text)
    print(f"{time.perf_counter() - t0:.0f} s; load average {load[0]:.2f} at the start", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
