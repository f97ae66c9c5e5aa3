"""The plots over trials: regret, rank and per-task best values, and the final regret per optimizer."""

from __future__ import annotations

import logging

from hpolab.analysis import metrics as M
from hpolab.analysis.report._format import bootstrap, fmt_interval
from hpolab.analysis.report._section import ReportContext

__all__ = ["section_per_task_plot", "section_plots", "section_regret_and_rank"]

_LOGGER = logging.getLogger(__name__)


def section_plots(ctx: ReportContext) -> None:
    """Render the regret, rank and per-task PNGs into ``ctx.images`` (the next sections show them)."""
    from hpolab.analysis import plots

    df, out = ctx.df, ctx.out
    try:
        ctx.images.append((plots.plot_regret(df, out / "regret.png"), "Normalized regret over trials", "regret"))
        ctx.images.append((plots.plot_regret_per_task(df, out / "regret_per_task.png"), "Regret per task", "regret"))
        ctx.images.append((plots.plot_rank(df, out / "rank.png"), "Mean rank over trials", "rank"))
        ctx.images.append(
            (
                plots.plot_task_bars(df, out / "tasks.png", n_trials=ctx.n_trials, random_losses=ctx.random_losses),
                "Best value per task",
                "tasks",
            )
        )
    except ImportError as exc:
        _LOGGER.warning("plots skipped: %s", exc)
        ctx.doc.p(f"Plots skipped: {exc}")


def section_regret_and_rank(ctx: ReportContext) -> None:
    """Final normalized regret per optimizer, and the regret and rank plots."""
    doc = ctx.doc
    curves = M.regret_curves(ctx.methods_df)
    last = M.final_rows(curves)
    doc.h(2, "Regret and rank over trials")
    doc.p(
        "Regret of the best trial so far: on the true value (mean over a table's recorded seeds) minus the "
        "known optimum where the objective has one, else the gap to the best value any run found. Normalized "
        "regret divides by the task's range so tasks can be averaged. Final normalized regret per optimizer "
        "(mean over tasks and seeds, 95% bootstrap interval over seeds within tasks):"
    )
    rows = []
    for opt in ctx.optimizers:
        g = last[last["optimizer"] == opt]
        ci = bootstrap(g["normalized_regret"].to_numpy(dtype=float), g["objective"].to_numpy(), seed=ctx.seed)
        rows.append([f"`{opt}`", fmt_interval(ci), str(ci.n)])
    doc.table(["optimizer", "final normalized regret [95% CI]", "runs"], rows)
    for path, alt, kind in ctx.images:
        if kind in ("regret", "rank"):
            doc.image(path, alt)


def section_per_task_plot(ctx: ReportContext) -> None:
    """The per-task plot of the best values."""
    ctx.doc.h(2, "Per task")
    for path, alt, kind in ctx.images:
        if kind == "tasks":
            ctx.doc.image(path, alt)
