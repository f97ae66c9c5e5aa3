"""Where the proposals came from: trials and improvements per source, and how LLM answers were obtained."""

from __future__ import annotations

import math

from hpolab.analysis import stats as S
from hpolab.analysis.report._format import fmt_interval, fmt_percent, loss_signs, per_trial
from hpolab.analysis.report._section import ReportContext, optional_section

__all__ = ["section_llm_answers", "section_sources"]


def section_sources(ctx: ReportContext) -> None:
    """Trials and improvements per proposal source, for optimizers whose trials record one (the hybrids)."""
    df = ctx.methods_df
    if "source" not in df.columns or df["source"].isna().all():
        return
    sign = loss_signs(df)
    rows = []
    for opt in ctx.optimizers:
        g = df[(df["optimizer"] == opt)]
        if g["source"].isna().all():
            continue
        improved: dict[str, int] = {}
        for (obj, _seed), run in g.sort_values("trial").groupby(["objective", "seed"], sort=True):
            best = math.inf
            for source, value in zip(run["source"], run["value"], strict=True):
                loss = sign[str(obj)] * float(value)
                if not math.isfinite(loss):
                    continue
                if math.isfinite(best) and loss < best:
                    improved[str(source)] = improved.get(str(source), 0) + 1
                best = min(best, loss)
        counts = g["source"].fillna("-").value_counts()
        for source, n in counts.items():
            rows.append(
                [
                    f"`{opt}`",
                    str(source),
                    str(int(n)),
                    fmt_percent(100.0 * float(n) / len(g)),
                    str(improved.get(str(source), 0)),
                ]
            )
    ctx.doc.h(2, "Trials and improvements per source")
    ctx.doc.p(
        'For hybrid optimizers: which source proposed each trial (`metadata["source"]`), the share of the '
        "method's trials, and how many of its trials improved the run's best value so far (a run's first "
        "trial is not counted)."
    )
    ctx.doc.table(["method", "source", "trials", "share", "improvements"], rows)


#: How an LLM proposal was obtained, in the order the LLM answers section shows them.
_OUTCOMES = ("valid", "repaired", "reasked", "fallback")


@optional_section("llm")
def section_llm_answers(ctx: ReportContext) -> None:
    """How each LLM optimizer's proposals were obtained: valid as answered, repaired, re-asked, or fallback."""
    df = ctx.methods_df
    if "llm_outcome" not in df.columns or not df["llm_outcome"].notna().any():
        return
    ctx.doc.h(2, "LLM answers")
    ctx.doc.p(
        "Per LLM optimizer, the share of its trials whose configuration the model answered validly, that hpolab "
        "repaired (clipped, snapped, filled in), that needed a re-ask, or that fell back to a random sample "
        "(the trial metadata's `llm.outcome`), and the model calls per trial (mean with a 95% bootstrap interval "
        "over runs within tasks)."
    )
    rows = []
    for opt in ctx.optimizers:
        g = df[(df["optimizer"] == opt) & df["llm_outcome"].notna()]
        if g.empty:
            continue
        counts = g["llm_outcome"].value_counts()
        shares = [fmt_percent(100.0 * float(counts.get(o, 0)) / len(g)) for o in _OUTCOMES]
        calls = (
            per_trial(g, "llm_calls", ctx.seed)
            if "llm_calls" in g.columns
            else S.Interval(math.nan, math.nan, math.nan, 0)
        )
        rows.append([f"`{opt}`", str(len(g)), *shares, fmt_interval(calls)])
    ctx.doc.table(["optimizer", "LLM trials", *_OUTCOMES, "model calls per trial"], rows)
