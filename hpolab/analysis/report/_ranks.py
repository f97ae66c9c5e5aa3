"""The critical-difference diagram of a task-by-method table, shared by the sections that rank methods."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING

from hpolab.analysis import stats as S
from hpolab.analysis.report._format import ALPHA_SYMBOL
from hpolab.analysis.report._section import ReportContext

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["critical_difference"]


def critical_difference(ctx: ReportContext, wide: pd.DataFrame, what: str) -> None:
    """Friedman's test, Nemenyi's critical difference and the diagram of a task-by-method table of losses.

    Args:
        ctx: The report being written; the ranks go to ``ctx.report.tables["critical_difference"]``.
        wide: Losses (lower is better), one row per task and one column per method.
        what: What the ranks are of, a sentence ending with a full stop (after "Critical-difference
            diagram (...):").
    """
    from hpolab.analysis import plots

    doc = ctx.doc
    try:
        fn = S.friedman_nemenyi(wide)
    except ValueError as exc:
        doc.p(f"No critical-difference diagram: {exc}.")
        return
    ctx.report.tables["critical_difference"] = fn.mean_ranks.rename("mean_rank").to_frame()
    friedman = (
        f"Friedman's test of equal mean ranks over {fn.n_tasks} tasks: χ² = {fn.statistic:.3g}, p = {fn.p_value:.3g}"
        + (" (the ranks differ)." if fn.p_value <= fn.alpha else " (no evidence that the ranks differ).")
        if math.isfinite(fn.p_value)
        else f"Friedman's test needs three methods; {len(fn.mean_ranks)} are ranked."
    )
    groups = "; ".join("{" + ", ".join(f"`{m}`" for m in c) + "}" for c in fn.cliques)
    doc.p(
        "Critical-difference diagram (Demšar 2006, as CARP-S draws with autorank): "
        + what
        + " "
        + friedman
        + f" Nemenyi's critical difference at {ALPHA_SYMBOL} = {fn.alpha:g}: {fn.critical_difference:.3g}; methods joined by a "
        f"bar (groups: {groups}) do not differ."
    )
    try:
        path = plots.plot_critical_difference(fn, ctx.out / "critical_difference.png")
    except ImportError as exc:
        doc.p(f"Plot skipped: {exc}")
        return
    doc.image(path, "Critical-difference diagram")
