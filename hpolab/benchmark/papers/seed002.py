"""Seed 002, "Using Large Language Models for Hyperparameter Optimization" (Zhang et al.): its suite and Table 1.

The suite and the paper's table are data (``seed002.toml`` beside this module); this module reads them
and writes the paper's section of a report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpolab.benchmark._suite import LOCAL_LLM, Suite
from hpolab.benchmark.papers._data import load_paper

if TYPE_CHECKING:
    from hpolab.analysis.report import ReportContext

__all__ = ["PAPER_TABLE1", "SUITES", "report"]


_DATA = load_paper("seed002", values={"local_llm": LOCAL_LLM})

#: Seed 002's Table 1 (32 tasks, 10 evaluations): beats random, median change, mean change, mean rank.
#: Its LLM rows are the chain-of-thought runs with the chat prompt (the paper's Table 2 labels them "CoT").
PAPER_TABLE1: dict[str, tuple[float, float, float, float]] = _DATA.rows("table1", 4)


def report(ctx: ReportContext, suite: Suite) -> None:
    """The paper's Table 1 beside this run's Table 1 rows."""
    doc = ctx.doc
    doc.h(2, "Seed 002, Table 1 of the paper, beside this run's")
    doc.p(
        "The paper's Table 1 (32 HPOBench tasks, 10 evaluations, random search from a bootstrap of 500 "
        "configurations per task; mean rank among its 5 methods and random):"
    )
    doc.table(
        ["method", "beats random", "median change", "mean change", "mean rank"],
        [[k, f"{v[0]:.2f}%", f"{v[1]:.2f}%", f"{v[2]:.2f}%", f"{v[3]:.2f}"] for k, v in PAPER_TABLE1.items()],
    )
    t1 = ctx.report.tables.get("table1")
    labels = set(ctx.optimizers)
    notes = []
    if {"tpe", "tpe-startup3"} <= labels:
        notes.append(
            "`tpe` is Optuna's default (10 random start-up trials): at 10 evaluations it is random search, so its "
            "row measures random search's luck. `tpe-startup3` models after 3 trials; it is the TPE that matches "
            "the paper's Bayesian baselines (SMAC's initial design is at most a quarter of the budget: 2 of 10)."
        )
    if t1 is not None and not t1.empty:
        for label in ("tpe", "tpe-startup3", "smac-rf", "smac-gp", "llm"):
            if label in t1.index:
                r: dict[Any, Any] = t1.loc[label].to_dict()
                notes.append(
                    f"`{label}` here: beats random on {r['beats_random']:.1f}% of {int(r['n_tasks'])} tasks, median "
                    f"change {r['median_change']:.2f}%, mean rank {r['mean_rank']:.2f}."
                )
    if notes:
        doc.bullets(notes)


#: The suites of this paper (``seed002.toml``).
SUITES: tuple[Suite, ...] = _DATA.suites
