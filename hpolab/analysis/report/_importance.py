"""Hyperparameter importance (fANOVA) per objective, as a table and a plot."""

from __future__ import annotations

import logging
import math

from hpolab._table import POOL_LABEL
from hpolab.analysis.report._format import fmt_number
from hpolab.analysis.report._section import ReportContext, optional_section

__all__ = ["section_importance"]

_LOGGER = logging.getLogger(__name__)


@optional_section("importance")
def section_importance(ctx: ReportContext) -> None:
    """Hyperparameter importance (fANOVA) per objective, on random-search trials where there are some."""
    from hpolab.analysis import plots
    from hpolab.analysis.importance import importance_by_objective

    doc = ctx.doc
    doc.h(2, "Hyperparameter importance (fANOVA)")
    use = ["random", POOL_LABEL] if "random" in set(ctx.df["optimizer"]) else None
    try:
        imp = importance_by_objective(ctx.df, optimizers=use, seed=ctx.seed)
    except Exception as exc:  # the report goes on without this section, saying why
        _LOGGER.warning("fANOVA importance failed: %s", exc)
        doc.p(f"Not computed: {type(exc).__name__}: {exc}")
        return
    if imp.empty:
        doc.p("Not computed: too few trials per objective (at least 10 are needed).")
        return
    ctx.report.tables["importance"] = imp
    doc.p(
        "Functional ANOVA (Optuna's FanovaImportanceEvaluator, 64 trees) on the "
        + (
            "random-search trials (the random pool where there is one), which sample the space without bias."
            if use
            else "trials of all optimizers."
        )
        + " **Raw**: each hyperparameter's share of the value's variance on its own (fANOVA's scale; the "
        "shares sum to at most 1, the rest is the interactions'). **Normalised**: the raw shares divided by "
        "their sum. No interval here (the fANOVA section of a suite's paper has bootstrap intervals); a row from few trials is one "
        "sample, and another sample can order the hyperparameters differently."
    )
    params = sorted(imp["param"].unique())
    rows = []
    for obj, g in imp.groupby("objective"):
        raw = dict(zip(g["param"], g["importance"], strict=True))
        norm = dict(zip(g["param"], g["normalized"], strict=True))
        n = str(int(g["n_trials"].iloc[0]))
        rows.append([f"`{obj!s}`", "raw", n, *[fmt_number(raw.get(p, math.nan), 3) for p in params]])
        rows.append([f"`{obj!s}`", "normalised", n, *[fmt_number(norm.get(p, math.nan), 3) for p in params]])
    doc.table(["objective", "scale", "trials", *[f"`{p}`" for p in params]], rows)
    try:
        doc.image(plots.plot_importance(imp, ctx.out / "importance.png"), "fANOVA importance")
    except ImportError as exc:
        doc.p(f"Plot skipped: {exc}")
