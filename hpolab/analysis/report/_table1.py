"""Table 1 and the best value per task: each method's value at the budget beside random search's exact baseline."""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import TYPE_CHECKING

from hpolab.analysis import metrics as M
from hpolab.analysis.report._document import Document
from hpolab.analysis.report._format import bootstrap, fmt_ci, fmt_number, fmt_percent, loss_signs
from hpolab.analysis.report._ranks import critical_difference
from hpolab.analysis.report._section import ReportContext, optional_section

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["section_best_per_task", "section_table1", "table1_table"]


def table1_table(
    doc: Document,
    t1: pd.DataFrame,
    seeds: Mapping[str, int] | None = None,
    extra: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Write Table 1 (:func:`hpolab.analysis.metrics.table1`'s output) into ``doc``, intervals in brackets.

    Args:
        doc: The document written to.
        t1: Table 1, one row per method.
        seeds: Seeds per method, when they differ: a method run on one seed has no interval over seeds, and
            its brackets say so.
        extra: More columns after the table's own, ``{header: {method: cell}}`` (``-`` where a method has none).
    """
    extra = extra or {}
    rows = []
    for opt, r in t1.iterrows():
        single = seeds is not None and opt != "random" and seeds.get(str(opt), 2) < 2
        rows.append(
            [
                f"`{opt}`" + (" (exact)" if opt == "random" else ""),
                str(int(r["n_tasks"])),
                fmt_ci(r["beats_random"], math.nan, math.nan, pct=True) + " [1 seed]"
                if single
                else fmt_ci(r["beats_random"], r["beats_random_low"], r["beats_random_high"], pct=True),
                fmt_percent(r["median_change"]),
                fmt_ci(r["mean_change"], math.nan, math.nan, pct=True) + " [1 seed]"
                if single
                else fmt_ci(r["mean_change"], r["mean_change_low"], r["mean_change_high"], pct=True),
                fmt_ci(r["mean_rank"], math.nan, math.nan) + " [1 seed]"
                if single
                else fmt_ci(r["mean_rank"], r["mean_rank_low"], r["mean_rank_high"]),
                *(cells.get(str(opt), "-") for cells in extra.values()),
            ]
        )
    doc.table(
        [
            "method",
            "tasks",
            "beats random ↑ [95% CI]",
            "median change ↑",
            "mean change ↑ [95% CI]",
            "mean rank ↓ [95% CI]",
            *extra,
        ],
        rows,
    )


@optional_section("table1")
def section_table1(ctx: ReportContext) -> None:
    """Table 1 against random search's bootstrap baseline (sets ``ctx.random_losses``)."""
    df, doc, n_trials = ctx.df, ctx.doc, ctx.n_trials
    if "random" not in set(df["optimizer"]):
        doc.h(2, "Table 1")
        doc.p("Not computed: the runs include no `random` optimizer to estimate the random baseline from.")
        return
    try:
        t1 = M.table1(df, n_trials or 10, n_bootstrap=ctx.n_bootstrap, seed=ctx.seed)
    except ValueError as exc:  # e.g. a pool smaller than the budget: say what to do, keep the rest of the report
        doc.h(2, "Table 1")
        doc.p(f"Not computed: {exc}.")
        return
    tasks = M.table1_tasks(df, n_trials or 10)
    ctx.report.tables["table1"] = t1
    ctx.report.tables["table1_tasks"] = tasks
    sign = loss_signs(df)
    ctx.random_losses = {
        str(o): sign[str(o)] * float(v)
        for o, v in tasks[tasks["optimizer"] == "random"].set_index("objective")["loss"].items()
    }
    doc.h(2, f"Table 1: {len(ctx.objectives)} tasks, {n_trials} evaluations")
    n_ties = int(tasks[tasks["optimizer"] != "random"]["tie"].sum())
    doc.p(
        "Beats random: % of tasks where the method's best loss after the budget (mean over seeds) is below "
        "random search's exact expected loss at the budget; a difference smaller than the objective's "
        "resolution (the smallest gap between two distinct values seen on the task) is a tie and counts "
        f"half ({n_ties} method-task tie(s) here). Change: (random - method) / |random| per task, so "
        "0.2 → 0.1 is +50%; positive is better. Mean rank among all methods and random on each task "
        "(1 = best, ties averaged). Brackets: 95% percentile-bootstrap intervals over seeds, resampled "
        "within each task (they say how much this run's seeds move each number on these tasks)."
    )
    table1_table(doc, t1)


def section_best_per_task(ctx: ReportContext) -> None:
    """Mean over seeds of each run's best value per task (and random's bootstrap value beside it)."""
    doc, n_trials, random_losses = ctx.doc, ctx.n_trials, ctx.random_losses
    fl = M.final_losses(ctx.methods_df, n_trials)
    dir_of = ctx.df.groupby("objective")["direction"].first()
    sign = loss_signs(ctx.df)
    wide: dict[str, dict[str, str]] = {}
    for (obj, opt), g in fl.groupby(["objective", "optimizer"]):
        ci = bootstrap(sign[str(obj)] * g["loss"].to_numpy(dtype=float), seed=ctx.seed)
        wide.setdefault(str(obj), {})[str(opt)] = fmt_ci(ci.mean, ci.low, ci.high, digits=4)
    rows = []
    for obj in sorted(wide):
        best_line = [wide[obj].get(o, "-") for o in ctx.optimizers]
        extra = [fmt_number(random_losses[obj])] if random_losses and obj in random_losses else []
        rows.append([f"`{obj}` ({dir_of[obj][:3]})", *best_line, *extra])
    doc.h(2, "Best value per task" + (f" after {n_trials} evaluations" if n_trials else ""))
    doc.p(
        "Mean over seeds of each run's best value (in the objective's own units and direction) with its "
        "95% bootstrap interval over seeds"
        + ("; the last column is random search's exact expected value." if random_losses else ".")
    )
    header = ["objective", *[f"`{o}`" for o in ctx.optimizers], *(["random (exact)"] if random_losses else [])]
    doc.table(header, rows)
    ctx.report.tables["tasks"] = fl
    if "critical_difference" not in ctx.report.tables:  # Table 1's aggregate view did not rank the methods
        _final_ranks(ctx, fl)


def _final_ranks(ctx: ReportContext, fl: pd.DataFrame) -> None:
    """The critical-difference diagram of the table above: mean over seeds of each run's best, ranked per task."""
    mean = fl.groupby(["objective", "optimizer"])["loss"].mean().unstack("optimizer")
    partial = sorted(str(o) for o in mean.columns if mean[o].isna().any())
    wide = mean.drop(columns=partial)
    if wide.shape[0] < 2 or wide.shape[1] < 2:  # one task or one method: nothing to rank
        return
    left_out = (
        f" Left out, as they did not run on every task: {', '.join(f'`{o}`' for o in partial)}." if partial else ""
    )
    at = f"after {ctx.n_trials} evaluations" if ctx.n_trials else "at the end of each run"
    critical_difference(
        ctx,
        wide,
        f"mean rank per task of each method's mean best value over seeds {at}, as in the table above (CARP-S's "
        f"diagram ranks the same quantity: the incumbent's cost at the end, mean over seeds).{left_out}",
    )
