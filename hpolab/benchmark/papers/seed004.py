"""Seed 004, "Improving classification accuracy of fine-tuned CNN models: Impact of hyperparameter optimization".

Its suites (``seed004`` on the small digits split, ``seed004-digits`` on the whole split) and the paper's
Tables 4, 6 and 7 are data (``seed004.toml`` beside this module); this module reads them and writes the
paper's section of a report: those tables beside the run's, and its Figure 3 (validation accuracy against
each hyperparameter).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpolab.benchmark._suite import Suite
from hpolab.benchmark.papers._data import load_paper
from hpolab.benchmark.papers._format import acc_ci, fmt

if TYPE_CHECKING:
    import pandas as pd

    from hpolab.analysis.report import ReportContext

__all__ = [
    "FANOVA_BOOTSTRAP",
    "PAPER_TABLE4",
    "PAPER_TABLE6",
    "PAPER_TABLE7",
    "S004_ASHA",
    "S004_BUDGET",
    "S004_EPOCHS",
    "S004_FANOVA_TRIALS",
    "S004_MNIST_EPOCHS",
    "S004_OPTIMIZERS",
    "S004_SETS",
    "SUITES",
    "plot_accuracy_by_param",
    "report",
]

_logger = logging.getLogger("hpolab.benchmark.papers")


_DATA = load_paper("seed004")

#: Epochs of one full training (the paper trains 25) and ASHA's R.
S004_EPOCHS: int = _DATA.value("epochs", int)
#: Hyperparameter sets per method (the paper's 16).
S004_SETS: int = _DATA.value("sets", int)
#: Epochs per method and seed: ``S004_SETS x S004_EPOCHS`` (the paper: 16 x 25 = 400).
S004_BUDGET: float = _DATA.value("budget", float)
#: ASHA as the paper's Table 3 sets it: r = 1, R = ``S004_EPOCHS``, eta = 4.
S004_ASHA: dict[str, Any] = _DATA.value("asha", dict)
#: The four methods of seed 004, with SMAC and TPE as its Bayesian optimization (4 random start-up sets).
S004_OPTIMIZERS: dict[str, Any] = _DATA.value("optimizers", dict)
#: Epochs per training in the MNIST part (and ASHA's R there); a method spends ``S004_SETS`` times as many.
S004_MNIST_EPOCHS: int = _DATA.value("mnist_epochs", int)
#: Random trainings per seed of the fANOVA study (Study I); 3 seeds give the paper's 60.
S004_FANOVA_TRIALS: int = _DATA.value("fanova_trials", int)

#: Seed 004's Table 6: validation accuracy of the best configuration per method (Xception, one run each).
PAPER_TABLE6: dict[str, dict[str, float]] = _DATA.numbers("table6")
#: Seed 004's Table 4: fANOVA importance pooled over its three data sets, on the paper's raw scale (sum 0.587).
PAPER_TABLE4: dict[str, float] = _DATA.numbers("table4")
#: Seed 004's Table 7 (MIO-TCD, Xception): learning rate, dropout, optimizer, fine-tuned layers, test accuracy.
PAPER_TABLE7: dict[str, tuple[float, float, str, int, float]] = _DATA.rows("table7", 5)

#: Name endings of the comparison's and the fANOVA study's objectives (the second of each: their names in
#: results recorded before the objectives were renamed).
_COMPARED = ("-4block", "-seed004")
_WIDE = ("-4block-wide", "-seed004-initial")

#: Bootstrap resamples of the trials behind each fANOVA interval in seed 004's Table 4.
FANOVA_BOOTSTRAP = 100


def _raw_cell(row: Mapping[str, Any] | None) -> str:
    """A raw fANOVA importance with its interval when it has one (``-`` for no row)."""
    if row is None:
        return "-"
    lo, hi = float(row["low"]), float(row["high"])
    ci = f" [{fmt(lo)}, {fmt(hi)}]" if math.isfinite(lo) and math.isfinite(hi) else ""
    return fmt(float(row["importance"])) + ci


def report(ctx: ReportContext, suite: Suite) -> None:
    """Tables 6, 4 and 7 and Figure 3 of the paper beside this run's."""
    import pandas as pd

    from hpolab.analysis.importance import importance_by_objective
    from hpolab.analysis.metrics import budget_spent

    doc = ctx.doc
    df = ctx.methods_df
    done = df[(df["state"] == "COMPLETE") & df["value"].notna()]
    compared = sorted(o for o in done["objective"].unique() if str(o).endswith(_COMPARED))
    doc.h(2, "Seed 004, Table 6: best validation accuracy per method under one epoch budget")
    if not compared:
        doc.p("Not computed: no runs of the comparison (`cnn/<data set>-4block`) in the results.")
    else:
        doc.p(
            "Per method: validation accuracy (1 - error) of the best trial of each run, mean over seeds with a 95% "
            "percentile-bootstrap interval over seeds; trials and epochs spent per run. Every method had the same epoch budget per run "
            "(seed 004: 400 epochs = 16 sets x 25 epochs)."
        )
        spent = budget_spent(df[df["objective"].isin(compared)])
        for obj in compared:
            g = done[done["objective"] == obj]
            best = g.groupby(["optimizer", "seed"])["value"].min().reset_index()
            rows = []
            for opt in sorted(best["optimizer"].unique()):
                acc = 1.0 - best[best["optimizer"] == opt]["value"].to_numpy(dtype=float)
                s = spent[(spent["objective"] == obj) & (spent["optimizer"] == opt)]
                rows.append(
                    [
                        f"`{opt}`",
                        acc_ci(acc),
                        fmt(float(s["n_trials"].mean()) if len(s) else math.nan),
                        fmt(float(s["budget_spent"].mean()) if len(s) else math.nan),
                    ]
                )
            doc.p(f"`{obj}`:")
            doc.table(["method", "best validation accuracy [95% CI]", "trials per run", "epochs per run"], rows)
        doc.p("The paper's Table 6 (Xception fine-tuned; one run per method; Bayesian = Keras Tuner's GP):")
        doc.table(
            ["data set", "grid", "random", "ASHA", "Bayesian"],
            [
                [name, *[f"{100 * v[k]:.1f}%" for k in ("grid", "random", "asha", "bayesian")]]
                for name, v in PAPER_TABLE6.items()
            ],
        )

    # ---- Table 4: fANOVA
    doc.h(2, "Seed 004, Table 4: fANOVA importance of the hyperparameters")
    initial = sorted(o for o in done["objective"].unique() if str(o).endswith(_WIDE))
    tables: list[pd.DataFrame] = []
    too_few: list[str] = []
    try:
        if initial:
            imp = importance_by_objective(
                done[done["objective"].isin(initial)],
                optimizers=["random"],
                seed=ctx.seed,
                n_bootstrap=FANOVA_BOOTSTRAP,
            )
            if not imp.empty:
                tables.append(imp.assign(source="random trainings over Table 2A's space (Study I)"))
        for obj in compared:
            g = done[done["objective"] == obj]
            for opt in sorted(g["optimizer"].unique()):
                sub = g[g["optimizer"] == opt]
                if sub["budget"].notna().any():  # ASHA: its trials at the full budget only
                    sub = sub[sub["budget"] >= sub["max_budget"]]
                boot = FANOVA_BOOTSTRAP if opt == "random" else 0  # unbiased samples; the bootstrap costs minutes
                imp = importance_by_objective(sub, seed=ctx.seed, n_bootstrap=boot)
                if not imp.empty:
                    tables.append(imp.assign(source=f"`{opt}`'s trials in the comparison (all seeds)"))
                else:
                    too_few.append(f"`{opt}` on `{obj}` ({len(sub)})")
    except Exception as exc:  # the report goes on without this table, saying why
        _logger.warning("fANOVA importance failed: %s", exc)
        doc.p(f"Not computed: {type(exc).__name__}: {exc}")
    if tables:
        imp_all = pd.concat(tables, ignore_index=True)
        ctx.report.tables["seed004_importance"] = imp_all
        params = [p for p in PAPER_TABLE4 if p in set(imp_all["param"])]
        params += sorted(set(imp_all["param"]) - set(params))
        doc.p(
            "Functional ANOVA (Optuna's FanovaImportanceEvaluator). **Raw** (the paper's scale): each "
            "hyperparameter's share of the variance of the validation error on its own, in [0, 1]; the shares sum "
            "to at most 1 (the rest is the interactions'), and the paper's Table 4 row is on this scale (its values "
            f"sum to {sum(PAPER_TABLE4.values()):.3f}). In brackets, on the rows of random trainings (Study I and "
            "`random`'s trials, which sample the space without bias): a 95% percentile-bootstrap interval over the "
            f"row's trials ({FANOVA_BOOTSTRAP} resamples of the evaluated configurations, a 16-tree forest each), "
            "which lies in [0, 1] as the raw values do. **Normalised**: the raw values divided by their sum (each "
            "such row sums to 1); they are not on the paper's scale. Study I's random trainings sample the space "
            "without bias (the paper's method); the per-method rows use each method's own trials, which a "
            "model-based method concentrates where it searched (fANOVA needs 10 trials or more). Where two "
            "hyperparameters' intervals overlap, this run does not order them."
        )
        rows = []
        for (obj, source), g in imp_all.groupby(["objective", "source"], sort=False):
            by_param: dict[str, Any] = {str(r["param"]): r for r in g.to_dict("records")}
            n = str(int(g["n_trials"].iloc[0]))
            with_ci = bool(g["low"].notna().any())
            label = "raw [95% CI]" if with_ci else "raw"
            rows.append([f"`{obj}`", str(source), n, label, *[_raw_cell(by_param.get(p)) for p in params]])
            rows.append(
                [
                    f"`{obj}`",
                    str(source),
                    n,
                    "normalised (sums to 1)",
                    *[fmt(float(by_param[p]["normalized"])) if p in by_param else "-" for p in params],
                ]
            )
        rows.append(
            [
                "seed 004, Table 4",
                "60 trainings, 3 data sets",
                "60",
                "raw",
                *[fmt(PAPER_TABLE4.get(p, math.nan)) for p in params],
            ]
        )
        doc.table(["objective", "trials of", "n", "scale", *[f"`{p}`" for p in params]], rows)
        if too_few:
            doc.p(
                "Fewer than 10 usable trials (ASHA: at the full budget), so no fANOVA row: " + ", ".join(too_few) + "."
            )
    if initial:
        try:
            path = plot_accuracy_by_param(done[done["objective"].isin(initial)], ctx.out / "seed004_figure3.png")
            doc.p(
                "Figure 3 of seed 004 here: validation accuracy of each Study I training against one hyperparameter "
                "at a time (the line joins the mean per value, or per bin of a continuous one)."
            )
            doc.image(path, "Validation accuracy against each hyperparameter (seed 004, Figure 3)")
        except ImportError as exc:
            doc.p(f"Figure skipped: {exc}")
    elif not compared:
        doc.p("Not computed: no seed 004 runs in the results.")
    else:
        doc.p("Not computed: too few trials (fANOVA needs 10 or more per objective).")

    # ---- Table 7: transfer
    from hpolab.analysis._transfer import CONDITION_ORDER, transfer_summary
    from hpolab.benchmark._transfer import transfer_table

    doc.h(2, "Seed 004, Table 7: hyperparameters tuned on a training subset, trained on the whole set")
    table: pd.DataFrame | None = None
    if ctx.storage is None:
        doc.p(
            "Not computed: the trainings on the whole set are studies in the results' storage, and this report "
            "was written without it (`write_report(..., storage=)`)."
        )
    else:
        try:
            table = transfer_table(ctx.df, ctx.storage, objective_kwargs={"threads": 1}, old_cache=ctx.out)
        except Exception as exc:  # the report goes on without this table, saying why
            _logger.warning("transfer table failed: %s", exc)
            doc.p(f"Not computed: {type(exc).__name__}: {exc}")
    if table is not None and table.empty:
        doc.p("Not computed: no runs of the transfer study (`cnn/<data set>-4block/<condition>`) in the results.")
    elif table is not None:
        ctx.report.tables["seed004_transfer"] = table
        summary = transfer_summary(table, params=("lr", "dropout", "optimizer", "finetune_layers"))
        doc.p(
            "For each training subset, ASHA's best configuration per seed (validation error on the subset, at the "
            "largest budget it reached) is trained on the whole training split for the full number of epochs and "
            "scored on the held-out test split. Accuracy: mean over seeds with a 95% percentile-bootstrap interval over seeds. Config: "
            "seed 0's (lr, dropout, optimizer, trained blocks). The paper's row is beside (MIO-TCD, one run). "
            "The paper found the imbalanced subset's configuration worse on the whole set (76% against 85% "
            "balanced); whether this run shows that effect is read from the intervals, not from the means."
        )
        rows = []
        records: list[dict[str, Any]] = summary.to_dict("records")  # type: ignore[assignment]
        for r in records:
            cfg: dict[str, Any] = r["configs"][0] if r["configs"] else {}
            paper = PAPER_TABLE7.get(str(r["condition"]))
            sub_acc = float(r["subset_accuracy"])
            chosen = table[(table["base"] == r["base"]) & (table["condition"] == r["condition"])]
            rows.append(
                [
                    f"`{r['base']}`",
                    CONDITION_ORDER.get(str(r["condition"]), str(r["condition"])),
                    f"{fmt(float(cfg.get('lr', math.nan)))}, {fmt(float(cfg.get('dropout', math.nan)))}, "
                    f"{cfg.get('optimizer', '-')}, {cfg.get('finetune_layers', '-')}",
                    f"{100 * sub_acc:.1f}%" if math.isfinite(sub_acc) else "-",
                    acc_ci(chosen["test_accuracy"]),
                    "-" if paper is None else f"{paper[0]}, {paper[1]}, {paper[2]}, {paper[3]}: {100 * paper[4]:.0f}%",
                ]
            )
        doc.table(
            [
                "objective",
                "tuned on",
                "config (seed 0)",
                "accuracy on the subset (validation)",
                "test accuracy, trained on the whole set [95% CI]",
                "paper: config, test accuracy",
            ],
            rows,
        )


def plot_accuracy_by_param(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Validation accuracy (1 - value) of each trial against each hyperparameter, one panel each (seed 004's Fig. 3).

    Args:
        df: Finished trials of one objective (``config`` dicts, ``value`` the error).
        path: Where to write the PNG.

    Raises:
        ImportError: If matplotlib is missing.
    """
    import numpy as np

    try:
        from matplotlib.backends.backend_agg import FigureCanvasAgg
        from matplotlib.figure import Figure
    except ImportError as exc:
        raise ImportError('the figure needs matplotlib: pip install "hpolab[plots]"') from exc
    configs = list(df["config"])
    acc = 1.0 - df["value"].to_numpy(dtype=float)
    params = sorted({k for c in configs for k in c})
    ncols = min(3, max(1, len(params)))
    nrows = math.ceil(len(params) / ncols)
    fig = Figure(figsize=(4.0 * ncols, 3.0 * nrows), dpi=100)
    FigureCanvasAgg(fig)
    for k, name in enumerate(params):
        ax = fig.add_subplot(nrows, ncols, k + 1)
        values = [c.get(name) for c in configs]
        numeric = all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values)
        if numeric and len(set(values)) > 6:
            x = np.asarray(values, dtype=float)
            log = bool(x.min() > 0 and x.max() / x.min() > 50)
            ax.scatter(x, acc, s=14, alpha=0.7)
            edges = np.geomspace(x.min(), x.max(), 6) if log else np.linspace(x.min(), x.max(), 6)
            mids, means = [], []
            for lo, hi in itertools.pairwise(edges):
                inside = (x >= lo) & (x <= hi)
                if inside.any():
                    mids.append(float(np.sqrt(lo * hi)) if log else float((lo + hi) / 2))
                    means.append(float(acc[inside].mean()))
            ax.plot(mids, means, "-", color="tab:orange")
            if log:
                ax.set_xscale("log")
        else:
            levels = sorted({str(v) for v in values}, key=lambda t: (len(t), t))
            pos = {lv: i for i, lv in enumerate(levels)}
            xs = np.array([pos[str(v)] for v in values], dtype=float)
            jitter = np.random.default_rng(0).uniform(-0.12, 0.12, len(xs))
            ax.scatter(xs + jitter, acc, s=14, alpha=0.7)
            ax.plot(
                range(len(levels)), [float(acc[xs == i].mean()) for i in range(len(levels))], "-o", color="tab:orange"
            )
            ax.set_xticks(range(len(levels)), levels, fontsize=8)
        ax.set_xlabel(name, fontsize=9)
        ax.set_ylabel("validation accuracy", fontsize=9)
        ax.grid(True, alpha=0.3)
    fig.suptitle("Accuracy against each hyperparameter (seed 004, Figure 3)", fontsize=11)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out, format="png")
    return out


#: The suites of this paper (``seed004.toml``): ``seed004`` on the small digits split, ``seed004-digits`` on the
#: whole split.
SUITES: tuple[Suite, ...] = _DATA.suites
