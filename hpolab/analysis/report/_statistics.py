"""The aggregate view of Table 1: IQM, probability of improvement, Holm-corrected tests, and what they conclude."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hpolab.analysis import metrics as M
from hpolab.analysis import stats as S
from hpolab.analysis.report._document import Document
from hpolab.analysis.report._format import ALPHA_SYMBOL, fmt_ci, fmt_number
from hpolab.analysis.report._ranks import critical_difference
from hpolab.analysis.report._section import ReportContext, optional_section

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["aggregate_view", "conclusion", "section_statistics"]


def conclusion(aggregate: pd.DataFrame, n_seeds: int, n_tasks: int, alpha: float = S.ALPHA) -> str:
    """What the Holm-corrected tests against random search let the run conclude, in one or two sentences.

    Args:
        aggregate: :func:`hpolab.analysis.metrics.aggregate_table`'s output (``p_holm``, ``p_improve``, ``test_n``).
        n_seeds: Seeds per method and task.
        n_tasks: Tasks compared.
        alpha: Significance level.
    """
    tested = aggregate[aggregate["p_holm"].notna()] if "p_holm" in aggregate.columns else aggregate.iloc[:0]
    where = f"At {n_seeds} seed{'s' if n_seeds != 1 else ''} on {n_tasks} task{'s' if n_tasks != 1 else ''}"
    paired = " paired with random search's" if _references(tested) == {"random"} else ""
    how = (
        f"at {ALPHA_SYMBOL} = {alpha:g} (Wilcoxon signed-rank over runs{paired}, Holm-corrected over "
        f"{len(tested)} comparison(s))"
    )
    if tested.empty:
        return f"{where}, no method was tested against random search."
    better = [str(o) for o, r in tested.iterrows() if r["p_holm"] <= alpha and _better(r)]
    worse = [str(o) for o, r in tested.iterrows() if r["p_holm"] <= alpha and not _better(r)]
    if not better and not worse:
        runs = int(tested["test_n"].max())
        floor = S.smallest_p_value(runs) * len(tested)
        text = f"{where}, no method differs from random search {how}."
        if floor > alpha:
            text += (
                f" With at most {runs} non-tied runs per method the smallest Holm-adjusted p-value these tests can "
                f"reach is {min(floor, 1.0):.3g}, above {ALPHA_SYMBOL}: the run is too small to tell any method from random search, "
                "so the ranks and changes above order noise."
            )
        else:
            text += " The ranks and changes above do not establish an order against random search."
        return text
    parts = []
    if better:
        parts.append(", ".join(f"`{o}`" for o in better) + " better than random search")
    if worse:
        parts.append(", ".join(f"`{o}`" for o in worse) + " worse")
    rest = [str(o) for o in tested.index if str(o) not in better + worse]
    text = f"{where}, {how}: " + "; ".join(parts) + "."
    if rest:
        verb = "does" if len(rest) == 1 else "do"
        text += " " + ", ".join(f"`{o}`" for o in rest) + f" {verb} not differ from random search."
    return text


def _better(row: pd.Series) -> bool:
    """Whether a tested method's runs lie above random search's (the paired difference, else against 0.5)."""
    difference = row.get("difference", math.nan)
    return bool(difference > 0) if math.isfinite(difference) else bool(row["p_improve"] > 0.5)


def aggregate_view(doc: Document, agg: pd.DataFrame, n_seeds: int, n_tasks: int, *, explain: bool = True) -> None:
    """Write what the aggregate view is, its table (:func:`hpolab.analysis.metrics.aggregate_table`'s output) and its conclusion.

    Args:
        doc: The document written to.
        agg: The aggregate table, one row per method.
        n_seeds: Seeds per method and task, for the conclusion.
        n_tasks: Tasks compared, for the conclusion.
        explain: Write first the paragraph that says what the columns and tests are.
    """
    if explain:
        doc.p(
            "Per method over its runs at the budget: the interquartile mean (IQM, the mean of the middle 50% of runs) "
            "and the mean of the normalized regret (each task on [0, 1], 0 = best); the probability of improvement "
            "over random search, P(a run beats one random search of the same budget; a tie within the objective's "
            "resolution counts half), computed exactly from the random pool per run (random search as distinct "
            "configurations of the pool, which is unbiased) and averaged over tasks (0.5: no better than random; "
            "random's own row checks it, within the pools' sampling error). Brackets: 95% percentile-bootstrap "
            f"intervals over seeds within tasks. p: two-sided Wilcoxon signed-rank test {_test_words(agg)}; "
            "**p (Holm)**: Holm-adjusted over the methods compared with random in this report."
        )
    rows = []
    for opt, r in agg.iterrows():
        differs = "-"
        if math.isfinite(r["p_holm"]):
            differs = ("yes, better" if _better(r) else "yes, worse") if r["p_holm"] <= S.ALPHA else "no"
        rows.append(
            [
                f"`{opt}`",
                str(int(r["n_runs"])),
                fmt_ci(r["iqm"], r["iqm_low"], r["iqm_high"]),
                fmt_ci(r["mean"], r["mean_low"], r["mean_high"]),
                fmt_ci(r["p_improve"], r["p_improve_low"], r["p_improve_high"]),
                fmt_number(r["p_value"], 3),
                fmt_number(r["p_holm"], 3),
                differs,
            ]
        )
    doc.table(
        [
            "method",
            "runs",
            "IQM normalized regret ↓ [95% CI]",
            "mean normalized regret ↓ [95% CI]",
            "P(improvement over random) ↑ [95% CI]",
            "p",
            "p (Holm)",
            f"differs from random ({ALPHA_SYMBOL} = {S.ALPHA:g}, Holm)",
        ],
        rows,
    )
    doc.p("**" + conclusion(agg, n_seeds, n_tasks) + "**")


def _references(agg: pd.DataFrame) -> set[str]:
    """What the tests in an aggregate table compared with (its ``reference`` column; tables without one: 0.5)."""
    return set(map(str, agg["reference"])) - {""} if "reference" in agg.columns else {"0.5"}


def _test_words(agg: pd.DataFrame) -> str:
    """What the aggregate table's tests compared, in words."""
    refs = _references(agg)
    paired = (
        "of each run's win probability minus that of random search's run on the same task and seed (both "
        "against the same pool, so the pool's own sampling error cancels)"
    )
    half = "of the runs' win probabilities against 0.5"
    if refs == {"random"}:
        return paired
    if refs == {"0.5"}:
        return half + " (random search's runs were not there to pair with)"
    return paired + " where random search ran on that task and seed, else " + half


@optional_section("table1")
def section_statistics(ctx: ReportContext) -> None:
    """The aggregate view: IQM, probability of improvement, Holm-corrected tests, a critical-difference diagram."""
    df, doc = ctx.df, ctx.doc
    tasks = ctx.report.tables.get("table1_tasks")
    if tasks is None or "random" not in set(df["optimizer"]):
        return
    doc.h(2, "Aggregate view and tests against random search")
    try:
        agg = M.aggregate_table(df, ctx.n_trials or 10, n_bootstrap=max(ctx.n_bootstrap, 1000), seed=ctx.seed)
    except ValueError as exc:  # e.g. a pool smaller than the budget: say so, keep the rest of the report
        doc.p(f"No aggregate view: {exc}.")
        return
    ctx.report.tables["aggregate"] = agg
    aggregate_view(doc, agg, len(ctx.seeds), len(ctx.objectives))
    wide = tasks.pivot_table(index="objective", columns="optimizer", values="loss", aggfunc="first")
    critical_difference(
        ctx, wide, "mean rank per task of the methods and random search's exact expected loss, as in Table 1."
    )
