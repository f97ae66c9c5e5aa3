"""Seed 000, "Optuna vs Code Llama: Are LLMs a New Paradigm for Hyperparameter Tuning?": its suite and Table 1.

The suite and the paper's table are data (``seed000.toml`` beside this module); this module reads them
and writes the paper's section of a report.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from hpolab.benchmark._suite import Suite
from hpolab.benchmark.papers._data import load_paper
from hpolab.benchmark.papers._format import fmt

if TYPE_CHECKING:
    import pandas as pd

    from hpolab.analysis.report import ReportContext

__all__ = ["PAPER_TABLE1_SEED000", "SUITES", "report", "seed000_rows"]


_DATA = load_paper("seed000")

#: (method, trial) -> (RMSE of 1 - accuracy, standard deviation of the errors, interval low, interval high).
PAPER_TABLE1_SEED000: dict[tuple[str, str], tuple[float, float, float, float]] = _DATA.rows("table1", 4, depth=2)


def report(ctx: ReportContext, suite: Suite) -> None:
    """The paper's Table 1 row by row beside this run's RMSE rows."""
    import pandas as pd

    from hpolab.analysis.metrics import rmse_summary

    doc = ctx.doc
    doc.h(2, "Seed 000, Table 1 of the paper, beside this run's")
    df = ctx.methods_df
    errs = df[(df["state"] == "COMPLETE") & df["value"].notna()].copy()
    in_unit = errs.groupby("objective")["value"].agg(lambda v: bool(v.between(0.0, 1.0).all()))
    errs = errs[errs["objective"].isin([o for o, ok in in_unit.items() if ok])]
    one_shot = sorted(
        {
            str(c.get("optimizer"))
            for c in ctx.contexts
            if c.get("optimizer_name") == "llm-finetuned"
            and (c.get("optimizer_kwargs") or {}).get("mode", "one-shot") == "one-shot"
        }
    )
    llm = next((o for o in one_shot if o in ctx.optimizers), None)
    columns = ["optimizer", "trial", "n", "rmse", "std", "ci_low", "ci_high"]
    if errs.empty:
        doc.p("This run: not computed (no trials with values in [0, 1], error rates or accuracies).")
        tab = pd.DataFrame(columns=columns)
    else:
        errs["error"] = [
            v if d == "minimize" else 1.0 - v for v, d in zip(errs["value"], errs["direction"], strict=True)
        ]
        tab = rmse_summary(errs, column="error", kind="error", one_shot=[llm] if llm else [])
        ctx.report.tables["seed000_table1"] = tab
    optuna = "tpe" if "tpe" in set(tab["optimizer"]) else None
    doc.p(
        "The paper's Table 1 (Code Llama 7B fine-tuned with LoRA, two fine-tuning cycles, against Optuna's TPE "
        "with 100 trials, on LEMUR's models; its intervals are RMSE ± t·s/√n) row by row beside this run's "
        "counterpart, then this run's rows that have none. Here: RMSE of e = 1 - accuracy per method, `All` "
        "over every trial, `Best` over each run's best trial, `One-shot` over each run's first trial (one-shot "
        "methods only); a run is one objective and seed; the interval is a 95% percentile bootstrap of the "
        "RMSE over runs within objectives (hpolab.analysis.rmse_summary), so it lies in [0, 1]. The paper's "
        "second fine-tuning cycle did not lower its RMSE (0.563, then 0.567)."
    )
    doc.table(
        [
            "paper: method",
            "trial",
            "RMSE",
            "std",
            "interval",
            "this run: method",
            "trial",
            "RMSE",
            "std",
            "95% CI",
            "n",
        ],
        seed000_rows(tab, llm=llm, optuna=optuna),
    )
    if llm is None:
        doc.p("No one-shot LLM method in this run, so the paper's LLM rows have no counterpart here.")
    doc.p(
        "Where a paper row has no counterpart (`-`): this run has no fine-tuning cycles (one adapter-free model "
        "instead), so `Fine-tuning 1` stands beside the base model's `All` row and `Fine-tuning 2` beside nothing."
    )
    if any(str(o).startswith("llm-base") for o in ctx.optimizers):
        doc.p(
            "`llm-base-oneshot` is the base model with no adapter: its rows say what an untrained 135M model "
            "proposes, not what the paper's fine-tuned model does."
        )


def seed000_rows(tab: pd.DataFrame, *, llm: str | None, optuna: str | None) -> list[list[str]]:
    """Seed 000's Table 1 rows beside this run's (:func:`hpolab.analysis.rmse_summary`'s table), then the rest.

    Args:
        tab: Columns optimizer, trial, n, rmse, std, ci_low, ci_high.
        llm: This run's label that plays the paper's LLM (its ``All``, ``Best`` and ``One-shot`` rows).
        optuna: This run's label that plays the paper's Optuna (its ``All`` and ``Best`` rows).

    Returns:
        One row per paper row (in the paper's order) and one per unmatched row of ``tab``: the paper's
        method, trial, RMSE, std and interval, then this run's method, trial, RMSE, std, interval and n
        (``-`` where a side has no row).
    """
    ours = {(str(r["optimizer"]), str(r["trial"])): r for r in tab.to_dict("records")}
    match = {
        ("Optuna", "All"): (optuna, "All"),
        ("Optuna", "Best"): (optuna, "Best"),
        ("LLM", "Fine-tuning 1"): (llm, "All"),
        ("LLM", "Fine-tuning 2"): (None, ""),
        ("LLM", "Best"): (llm, "Best"),
        ("LLM", "One-shot"): (llm, "One-shot"),
    }
    blank = ["-"] * 5

    def run_cells(key: tuple[str | None, str]) -> list[str]:
        r = ours.get(key) if key[0] is not None else None  # type: ignore[arg-type]
        if r is None:
            return ["-"] * 6
        return [
            f"`{r['optimizer']}`",
            str(r["trial"]),
            fmt(float(r["rmse"])),
            fmt(float(r["std"])),
            f"[{fmt(float(r['ci_low']))}, {fmt(float(r['ci_high']))}]",
            str(int(r["n"])),
        ]

    rows = []
    used = set()
    for (method, trial), v in PAPER_TABLE1_SEED000.items():
        key = match[(method, trial)]
        used.add(key)
        paper = [method, trial, f"{v[0]:.3f}", f"{v[1]:.3f}", f"[{v[2]:.3f}, {v[3]:.3f}]"]
        rows.append(paper + run_cells(key))
    for key in ours:
        if key not in used:
            rows.append(blank + run_cells(key))
    return rows


#: The suites of this paper (``seed000.toml``).
SUITES: tuple[Suite, ...] = _DATA.suites
