"""Seed 003, "Multimodal Large Language Models for Hyperparameter Optimization": its suite and its three modes' table.

The suite is data (``seed003.toml`` beside this module); this module reads it and writes the paper's
section of a report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpolab.benchmark._suite import Suite
from hpolab.benchmark.papers._data import load_paper
from hpolab.benchmark.papers._format import fmt

if TYPE_CHECKING:
    from hpolab.analysis.report import ReportContext

__all__ = ["S003_XGB_ROUNDS", "SUITES", "report"]


_DATA = load_paper("seed003")

#: XGBoost's boosting rounds in seed 003's suite (xgboost's default is 100; HPOBench's full budget is 2000).
S003_XGB_ROUNDS: int = _DATA.value("xgb_rounds", int)


def report(ctx: ReportContext, suite: Suite) -> None:
    """Best validation error per mode (text, text plus plot, plot only) and model."""
    from hpolab.analysis.stats import bootstrap_interval

    doc = ctx.doc
    doc.h(2, "Seed 003: the three modes (text, text plus plot, plot only)")
    if suite.simulated and any(str(o).startswith("llm") for o in ctx.optimizers):
        doc.p(f"**Simulation.** {suite.simulated}")
    done = ctx.methods_df[(ctx.methods_df["state"] == "COMPLETE") & ctx.methods_df["value"].notna()]
    rows = []
    for model in ("svm", "xgboost"):
        g = done[done["objective"].str.startswith(f"ml/{model}/")]
        if g.empty:
            continue
        best = g.groupby(["optimizer", "objective", "seed"])["value"].min().reset_index()
        for opt in sorted(best["optimizer"].unique()):
            sub = best[best["optimizer"] == opt]
            ci = bootstrap_interval(sub["value"].to_numpy(dtype=float), strata=sub["objective"].to_numpy())
            rows.append(
                [
                    model,
                    f"`{opt}`",
                    f"{fmt(ci.mean, 4)} [{fmt(ci.low, 4)}, {fmt(ci.high, 4)}]",
                    str(best[best["optimizer"] == opt]["objective"].nunique()),
                ]
            )
    if rows:
        doc.p(
            "Best validation error after 10 evaluations, mean over the model's tasks and seeds with a 95% bootstrap "
            "interval over seeds within tasks "
            "(the paper's Figures 2 and 3 plot the same per task; the per-task table above has them here)."
        )
        doc.table(["model", "method", "best error [95% CI]", "tasks"], rows)


#: The suites of this paper (``seed003.toml``).
SUITES: tuple[Suite, ...] = _DATA.suites
