"""What the runs spent: time, the objective's reported runtime, LLM tokens, latency and price, fidelity budget."""

from __future__ import annotations

import math

from hpolab.analysis import metrics as M
from hpolab.analysis import stats as S
from hpolab.analysis.report._format import bootstrap, fmt_ci, fmt_interval, fmt_number, per_trial
from hpolab.analysis.report._section import ReportContext, optional_section

__all__ = ["section_budget", "section_cost"]


def section_cost(ctx: ReportContext) -> None:
    """Cost per optimizer: run time, evaluation time, reported runtime, and the LLM's tokens and latency."""
    doc, methods_df = ctx.doc, ctx.methods_df
    doc.h(2, "Cost")
    doc.p(
        "Per trial: evaluation wall time, the objective's reported runtime (a table's recorded training "
        "seconds), and for LLM optimizers the tokens and model latency recorded in the trial metadata "
        "(means with 95% bootstrap intervals that resample whole runs within each task). Run time: "
        "wall-clock seconds per run including the optimizer."
    )
    secs: dict[str, list[tuple[float, str]]] = {}
    for c in ctx.contexts:
        if c.get("seconds") is not None and c.get("optimizer"):
            secs.setdefault(str(c["optimizer"]), []).append((float(c["seconds"]), str(c.get("objective"))))
    rows = []
    for opt in ctx.optimizers:
        g = methods_df[methods_df["optimizer"] == opt]
        run_secs = secs.get(opt, [])
        cis = [
            bootstrap([v for v, _ in run_secs], [o for _, o in run_secs], seed=ctx.seed),
            *(
                per_trial(g, col, ctx.seed) if col in g.columns else S.Interval(math.nan, math.nan, math.nan, 0)
                for col in ("wall_time", "runtime", "prompt_tokens", "completion_tokens", "llm_latency")
            ),
        ]
        fails = int((g["state"] == "FAIL").sum())
        rows.append([f"`{opt}`", str(len(g)), str(fails), *(fmt_interval(ci) for ci in cis)])
    doc.table(
        [
            "optimizer",
            "trials",
            "failed",
            "run time (s)",
            "eval wall time (s)",
            "reported runtime (s)",
            "prompt tokens",
            "completion tokens",
            "LLM latency (s)",
        ],
        rows,
    )
    priced = methods_df[methods_df["llm_cost"].notna()] if "llm_cost" in methods_df.columns else methods_df.iloc[:0]
    if len(priced):
        doc.p(
            "LLM cost: each run's sum of its trials' LLM cost (the server's reported tokens at the prices set "
            "on the client, `hpolab.llm.Pricing`), as a mean over runs with a 95% bootstrap interval, and the total."
        )
        cost_rows = []
        for opt in ctx.optimizers:
            per_run = priced[priced["optimizer"] == opt].groupby(["objective", "seed"])["llm_cost"].sum()
            if len(per_run):
                ci = bootstrap(
                    per_run.to_numpy(dtype=float), per_run.index.get_level_values(0).to_numpy(), seed=ctx.seed
                )
                cost_rows.append([f"`{opt}`", str(len(per_run)), fmt_interval(ci), fmt_number(per_run.sum())])
        doc.table(["optimizer", "priced runs", "LLM cost per run", "total LLM cost"], cost_rows)


@optional_section("budget")
def section_budget(ctx: ReportContext) -> None:
    """Multi-fidelity budget accounting per run, and the loss-against-budget plot."""
    from hpolab.analysis import plots

    doc = ctx.doc
    doc.h(2, "Budget accounting (multi-fidelity)")
    spent = M.budget_spent(ctx.methods_df)
    ctx.report.tables["budget"] = spent
    # budgets of different objectives (epochs of different trainings) are not averaged together
    objectives = sorted(spent["objective"].unique())
    per_objective = len(objectives) > 1
    rows = []
    for obj in objectives if per_objective else [None]:
        s_obj = spent if obj is None else spent[spent["objective"] == obj]
        for opt in ctx.optimizers:
            g = s_obj[s_obj["optimizer"] == opt]
            if g.empty:
                continue
            cols = ("n_trials", "budget_spent", "full_evaluations")
            cis = [bootstrap(g[col].to_numpy(dtype=float), g["objective"].to_numpy(), seed=ctx.seed) for col in cols]
            rows.append(
                [*([f"`{obj}`"] if per_objective else []), f"`{opt}`", *(fmt_ci(c.mean, c.low, c.high) for c in cis)]
            )
    doc.p(
        "Per run: trials, fidelity budget spent (e.g. epochs; a single-fidelity trial counts the full budget) "
        "and the same in full-budget evaluations (means with 95% bootstrap intervals over runs within tasks"
        + (", per objective)." if per_objective else ").")
    )
    header = ["optimizer", "trials per run", "budget spent per run", "full evaluations per run"]
    doc.table((["objective"] if per_objective else []) + header, rows)
    try:
        doc.image(plots.plot_budget(ctx.df, ctx.out / "budget.png"), "Best loss against budget spent")
    except ImportError as exc:
        doc.p(f"Plot skipped: {exc}")
