"""The RMSE of (1 - accuracy) over every trial, for objectives valued in [0, 1]."""

from __future__ import annotations

from hpolab.analysis import metrics as M
from hpolab.analysis.report._format import fmt_number
from hpolab.analysis.report._section import ReportContext, optional_section

__all__ = ["section_rmse"]


@optional_section("rmse")
def section_rmse(ctx: ReportContext) -> None:
    """RMSE of (1 - accuracy) with a bootstrap interval of the RMSE (objectives valued in [0, 1] only)."""
    doc, methods_df = ctx.doc, ctx.methods_df
    doc.h(2, "RMSE of (1 - accuracy)")
    errs = methods_df[methods_df["value"].notna()].copy()
    in_unit = errs.groupby("objective")["value"].agg(lambda v: bool(v.between(0.0, 1.0).all()))
    skipped = sorted(str(o) for o, ok in in_unit.items() if not ok)
    errs = errs[errs["objective"].isin([o for o, ok in in_unit.items() if ok])]
    if skipped:
        doc.p(
            "Left out: "
            + ", ".join(f"`{o}`" for o in skipped)
            + " (values are not accuracies or error rates in [0, 1])."
        )
    if errs.empty:
        doc.p("Not computed: the values are not accuracies or error rates in [0, 1].")
        return
    errs["error"] = errs.apply(lambda r: r["value"] if r["direction"] == "minimize" else 1.0 - r["value"], axis=1)
    errs["accuracy"] = 1.0 - errs["error"]
    tab = M.rmse_table(errs, accuracy="accuracy")
    ctx.report.tables["rmse"] = tab
    doc.p(
        "Over every trial of each optimizer: RMSE = sqrt(mean(e²)) with e = 1 - accuracy (the error rate "
        "for objectives that minimize it). Interval: 95% percentile bootstrap of the RMSE itself, resampling "
        "whole runs within each objective, so it lies between 0 and the largest error (the "
        "RMSE ± t·s/√n is an interval for the mean error, not for the RMSE, and can fall below 0)."
    )
    doc.table(
        ["optimizer", "n", "RMSE", "sd", "95% CI"],
        [
            [
                f"`{r.optimizer}`",
                str(r.n),
                fmt_number(r.rmse, 3),
                fmt_number(r.std, 3),
                f"[{fmt_number(r.ci_low, 3)}, {fmt_number(r.ci_high, 3)}]",
            ]
            for r in tab.itertuples()
        ],
    )
