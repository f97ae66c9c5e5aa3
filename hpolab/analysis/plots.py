"""PNG plots of a comparison (matplotlib, Agg; no pyplot state is touched).

Every function takes the trial table of :func:`hpolab.benchmark.run` (or a table derived from
it), writes one PNG and returns its path. Colours are fixed per optimizer across all plots, every
mean is drawn with its 95% percentile-bootstrap interval over seeds (stratified by task), and axes
switch to a log scale when the values span more than two decades. :func:`plot_critical_difference`
draws a critical-difference diagram from :func:`hpolab.analysis.stats.friedman_nemenyi`. Needs ``pip install "hpolab[plots]"``.
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from hpolab._deprecation import renamed_keyword
from hpolab._table import POOL_LABEL
from hpolab.analysis import metrics as M
from hpolab.analysis import stats as S
from hpolab.trial import Direction

if TYPE_CHECKING:
    import pandas as pd
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure

__all__ = [
    "optimizer_colors",
    "plot_budget",
    "plot_critical_difference",
    "plot_importance",
    "plot_rank",
    "plot_regret",
    "plot_regret_per_task",
    "plot_task_bars",
]

_MARKERS = "osD^vP*Xh<>"

#: The significance level's symbol in text.
_A = "\u03b1"


def _figure(width: float, height: float, layout: Literal["constrained"] | None = "constrained") -> Figure:
    try:
        from matplotlib.figure import Figure
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f'plots need matplotlib: pip install "hpolab[plots]" ({exc})') from exc
    return Figure(figsize=(width, height), dpi=110, layout=layout)


def _save(fig: Figure, path: str | os.PathLike[str], *, tight: bool = False) -> Path:
    """Write ``fig`` as a PNG at ``path``; ``tight`` grows the image to hold what hangs outside the axes."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    if tight:
        fig.savefig(out, format="png", bbox_inches="tight", pad_inches=0.15)
    else:
        fig.savefig(out, format="png")
    return out


def optimizer_colors(names: Sequence[str]) -> dict[str, Any]:
    """A fixed colour per optimizer (sorted names on the tab10 palette; random search is grey)."""
    from matplotlib import colormaps

    cmap = colormaps["tab10"]
    palette = [cmap(i) for i in range(10) if i != 7]  # 7 is grey, kept for random search
    out: dict[str, Any] = {}
    others = [n for n in sorted(set(names)) if n not in ("random", POOL_LABEL)]
    for i, name in enumerate(others):
        out[name] = palette[i % len(palette)]
    out["random"] = cmap(7)
    out[POOL_LABEL] = cmap(7)
    return out


def _use_log(values: np.ndarray, ratio: float = 100.0) -> bool:
    """Whether positive values span more than ``ratio`` (then a log axis reads better)."""
    finite = values[np.isfinite(values)]
    if not finite.size or float(finite.min()) <= 0:
        return False
    return float(finite.max()) / float(finite.min()) > ratio


def _regret_clip(means: np.ndarray, log: bool) -> tuple[float, float]:
    """Regret is never negative: bands stop at 0 (or, on a log axis, a decade under the smallest mean)."""
    if not log:
        return (0.0, math.inf)
    pos = means[np.isfinite(means) & (means > 0)]
    return (float(pos.min()) / 10.0 if pos.size else 1e-12, math.inf)


def _short(name: str, width: int = 28) -> str:
    return name if len(name) <= width else name[: width - 1] + "…"


def _band(
    ax: Axes,
    agg: pd.DataFrame,
    x: str,
    label: str,
    color: Any,
    marker: str,
    offset: float = 0.0,
    clip: tuple[float, float] = (-math.inf, math.inf),
) -> None:
    xs = agg[x].to_numpy(dtype=float) + 1 + offset
    ax.plot(xs, agg["mean"], color=color, label=label, marker=marker, markersize=3.5, linewidth=1.6)
    low = np.clip(agg["low"].to_numpy(dtype=float), *clip)
    high = np.clip(agg["high"].to_numpy(dtype=float), *clip)
    ok = np.isfinite(low) & np.isfinite(high)
    if ok.any():
        ax.fill_between(xs[ok], low[ok], high[ok], color=color, alpha=0.18, linewidth=0)


def _methods(df: pd.DataFrame) -> list[str]:
    return [m for m in sorted(df["optimizer"].unique()) if m != POOL_LABEL]


def plot_regret(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    normalized: bool = True,
    title: str | None = None,
) -> Path:
    """Mean (normalized) regret of the best-so-far trial over trials, per optimizer, with 95% intervals.

    Averaged over all tasks and seeds; normalized regret puts every task on [0, 1] first (see
    :func:`hpolab.analysis.regret_curves`).
    """
    data = df[df["optimizer"] != POOL_LABEL]
    curves = M.regret_curves(data)
    column = "normalized_regret" if normalized else "regret"
    fig = _figure(7.5, 4.6)
    ax = fig.add_subplot()
    colors = optimizer_colors(_methods(data))
    aggs = {opt: M.aggregate_curves(curves[curves["optimizer"] == opt], column) for opt in _methods(data)}
    means = np.concatenate([a["mean"].to_numpy(dtype=float) for a in aggs.values()]) if aggs else np.array([])
    log = _use_log(means, 10.0)
    for i, (opt, agg) in enumerate(aggs.items()):
        _band(ax, agg, "trial", opt, colors[opt], _MARKERS[i % len(_MARKERS)], clip=_regret_clip(means, log))
    if log:
        ax.set_yscale("log")
    ax.set_xlabel("trial (function evaluations)")
    ax.set_ylabel("normalized regret of best trial" if normalized else "regret of best trial")
    n_tasks = data["objective"].nunique()
    ax.set_title(title or f"Regret over trials: mean over {n_tasks} task(s) and seeds, 95% bootstrap interval")
    ax.grid(True, alpha=0.3)
    ax.legend(title="optimizer", frameon=False)
    return _save(fig, path)


def plot_regret_per_task(df: pd.DataFrame, path: str | os.PathLike[str], *, ncols: int = 4) -> Path:
    """One panel per task: regret of the best-so-far trial over trials, mean over seeds with 95% intervals."""
    data = df[df["optimizer"] != POOL_LABEL]
    curves = M.regret_curves(data)
    tasks = sorted(data["objective"].unique())
    ncols = max(1, min(ncols, len(tasks)))
    nrows = math.ceil(len(tasks) / ncols)
    fig = _figure(3.4 * ncols + 0.6, 2.7 * nrows + 0.8)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    colors = optimizer_colors(_methods(data))
    handles: dict[str, Any] = {}
    for k, task in enumerate(tasks):
        ax = axes[k // ncols][k % ncols]
        sub = curves[curves["objective"] == task]
        aggs = {opt: M.aggregate_curves(sub[sub["optimizer"] == opt], "regret") for opt in _methods(data)}
        aggs = {k: v for k, v in aggs.items() if not v.empty}
        means = np.concatenate([a["mean"].to_numpy(dtype=float) for a in aggs.values()]) if aggs else np.array([])
        log = _use_log(means, 10.0)
        for opt, agg in aggs.items():
            i = _methods(data).index(opt)
            _band(ax, agg, "trial", opt, colors[opt], _MARKERS[i % len(_MARKERS)], clip=_regret_clip(means, log))
        if log:
            ax.set_yscale("log")
        ax.set_title(_short(task, 34), fontsize=10)
        ax.grid(True, alpha=0.3)
        ax.tick_params(labelsize=8)
        if k % ncols == 0:
            ax.set_ylabel("regret", fontsize=9)
        if k // ncols == nrows - 1:
            ax.set_xlabel("trial", fontsize=9)
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            handles.setdefault(lab, h)
    for k in range(len(tasks), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    fig.legend(
        list(handles.values()),
        list(handles.keys()),
        loc="outside lower center",
        ncols=min(len(handles), 6),
        frameon=False,
        title="optimizer",
    )
    fig.suptitle("Regret of the best trial per task (mean over seeds, 95% bootstrap interval)", fontsize=11)
    return _save(fig, path)


def plot_rank(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Mean rank (1 = best) of each optimizer over trials, ranked per task, with 95% intervals."""
    data = df[df["optimizer"] != POOL_LABEL]
    ranks = M.rank_over_trials(data)
    fig = _figure(7.5, 4.6)
    ax = fig.add_subplot()
    colors = optimizer_colors(_methods(data))
    methods = _methods(data)
    for i, opt in enumerate(methods):
        sub = ranks[ranks["optimizer"] == opt].rename(columns={"mean_rank": "mean"})
        offset = (i - (len(methods) - 1) / 2) * 0.04
        _band(ax, sub, "trial", opt, colors[opt], _MARKERS[i % len(_MARKERS)], offset, clip=(1.0, float(len(methods))))
    ax.set_ylim(0.8, len(methods) + 0.2)
    ax.invert_yaxis()
    ax.set_xlabel("trial (function evaluations)")
    ax.set_ylabel("mean rank (1 = best)")
    ax.set_title(f"Rank over trials, averaged over {data['objective'].nunique()} task(s), 95% bootstrap interval")
    ax.grid(True, alpha=0.3)
    ax.legend(title="optimizer", frameon=False)
    return _save(fig, path)


def plot_task_bars(
    df: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    budget: int | None = None,
    n_trials: int | None = None,
    random_losses: Mapping[str, float] | None = None,
    ncols: int = 4,
) -> Path:
    """Per task: best value within ``n_trials`` trials per optimizer (mean over seeds, 95% intervals).

    ``random_losses`` (per task, in the objective's direction) draws random search's bootstrap
    baseline as a dashed line.
    """
    n_trials = renamed_keyword("plot_task_bars", "budget", "n_trials", budget, n_trials)
    data = df[df["optimizer"] != POOL_LABEL]
    fl = M.final_losses(data, n_trials)
    directions = data.groupby("objective")["direction"].first() if "direction" in data.columns else None
    tasks = sorted(fl["objective"].unique())
    methods = _methods(data)
    colors = optimizer_colors(methods)
    ncols = max(1, min(ncols, len(tasks)))
    nrows = math.ceil(len(tasks) / ncols)
    fig = _figure(3.4 * ncols + 0.6, 2.8 * nrows + 0.9)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    for k, task in enumerate(tasks):
        ax = axes[k // ncols][k % ncols]
        sign = Direction.coerce(directions[task]).sign if directions is not None else 1.0
        sub = fl[fl["objective"] == task]
        means, errs = [], []
        for opt in methods:
            ci = S.bootstrap_interval(sign * sub[sub["optimizer"] == opt]["loss"].to_numpy(dtype=float))
            means.append(ci.mean)
            ok = math.isfinite(ci.low)
            errs.append((ci.mean - ci.low, ci.high - ci.mean) if ok else (0.0, 0.0))
        xs = np.arange(len(methods))
        for x, m, mean, err in zip(xs, methods, means, errs, strict=True):
            ax.errorbar(
                [x],
                [mean],
                yerr=[[err[0]], [err[1]]],
                fmt=_MARKERS[methods.index(m) % len(_MARKERS)],
                color=colors[m],
                markersize=7,
                capsize=4,
                elinewidth=1.5,
            )
        finite = [m for m in means if math.isfinite(m)]
        if random_losses is not None and task in random_losses:
            ax.axhline(random_losses[task], color="black", linestyle="--", linewidth=1.0)
            finite.append(random_losses[task])
        if finite:
            lo, hi = min(finite), max(finite)
            pad = (hi - lo) * 0.5 if hi > lo else abs(hi) * 0.05 + 1e-9
            ax.set_ylim(lo - pad, hi + pad)
        ax.set_xlim(-0.6, len(methods) - 0.4)
        ax.set_xticks(xs, [_short(m, 12) for m in methods], rotation=30, ha="right", fontsize=8)
        ax.tick_params(axis="y", labelsize=8)
        ax.set_title(_short(task, 34), fontsize=10)
        ax.grid(True, axis="y", alpha=0.3)
        if k % ncols == 0:
            ax.set_ylabel("best value" + (f" after {n_trials}" if n_trials else ""), fontsize=9)
    for k in range(len(tasks), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    title = "Best value per task" + (f" after {n_trials} evaluations" if n_trials else "")
    title += "\nmean over seeds, 95% bootstrap interval"
    if random_losses:
        title += "; dashed: random search (exact expectation)"
    fig.suptitle(title, fontsize=10)
    return _save(fig, path)


def plot_importance(importance: pd.DataFrame, path: str | os.PathLike[str], *, ncols: int = 3) -> Path:
    """FANOVA importance bars on the raw scale, one panel per objective (the table of :func:`importance_by_objective`).

    Bars are the raw importance (share of the variance, in [0, 1]); where the table has a bootstrap
    interval (``low``, ``high``) it is drawn as an error bar.
    """
    import numpy as np

    tasks = sorted(importance["objective"].unique())
    if not tasks:
        raise ValueError("importance: empty table; nothing to plot")
    ncols = max(1, min(ncols, len(tasks)))
    nrows = math.ceil(len(tasks) / ncols)
    max_params = int(importance.groupby("objective").size().max())
    fig = _figure(4.2 * ncols, (0.32 * max_params + 1.2) * nrows + 0.5)
    axes = fig.subplots(nrows, ncols, squeeze=False)
    with_intervals = False
    for k, task in enumerate(tasks):
        ax = axes[k // ncols][k % ncols]
        sub = importance[importance["objective"] == task].sort_values("importance")
        vals = sub["importance"].to_numpy(dtype=float)
        err = None
        top = float(np.nanmax(vals)) if len(vals) else 0.0
        if {"low", "high"} <= set(sub.columns) and sub[["low", "high"]].notna().all().all():
            low, high = sub["low"].to_numpy(dtype=float), sub["high"].to_numpy(dtype=float)
            err = np.vstack([np.clip(vals - low, 0.0, None), np.clip(high - vals, 0.0, None)])
            top = max(top, float(high.max()))
            with_intervals = True
        ax.barh(sub["param"], vals, xerr=err, color="tab:blue", edgecolor="black", linewidth=0.4, capsize=2)
        for y, v in enumerate(vals):
            ax.text(v, y, f" {v:.2f}", va="bottom", fontsize=8)
        ax.set_xlim(0, min(1.0, max(1e-9, top) * 1.25))
        n = int(sub["n_trials"].iloc[0]) if "n_trials" in sub.columns else None
        ax.set_title(_short(task, 34) + (f" ({n} trials)" if n else ""), fontsize=10)
        ax.tick_params(labelsize=8)
        ax.set_xlabel("fANOVA importance (raw share of variance)", fontsize=9)
        ax.grid(True, axis="x", alpha=0.3)
    for k in range(len(tasks), nrows * ncols):
        axes[k // ncols][k % ncols].set_visible(False)
    title = "Hyperparameter importance (fANOVA, raw scale"
    fig.suptitle(title + ("; error bars: bootstrap interval)" if with_intervals else ")"), fontsize=11)
    return _save(fig, path)


def plot_budget(df: pd.DataFrame, path: str | os.PathLike[str], *, full_fidelity_only: bool = False) -> Path:
    """Best loss against the fidelity budget spent (e.g. epochs), per optimizer, averaged over tasks and seeds.

    Each run's best-so-far loss is read at a common grid of budgets (the last value carried forward),
    normalized per task to [0, 1] by the task's best and worst losses, and averaged with 95% intervals.
    """
    data = df[df["optimizer"] != POOL_LABEL]
    bc = M.budget_curves(data, full_fidelity_only=full_fidelity_only)
    top = float(bc["cumulative_budget"].max()) if not bc.empty else 1.0
    grid = np.linspace(0.0, top, 60)
    lossed = data.assign(_loss=M.losses(data))
    span = lossed.groupby("objective")["_loss"].agg(["min", "max"])
    rows = []
    for (opt, obj, _seed), g in bc.groupby(["optimizer", "objective", "seed"], sort=True):
        cb = g["cumulative_budget"].to_numpy(dtype=float)
        bl = g["best_loss"].to_numpy(dtype=float)
        idx = np.searchsorted(cb, grid, side="right") - 1
        lo, hi = float(span.at[obj, "min"]), float(span.at[obj, "max"])  # type: ignore[index, arg-type]
        for x, i in zip(grid, idx, strict=True):
            val = bl[i] if i >= 0 else math.nan
            norm = (val - lo) / (hi - lo) if hi > lo else 0.0
            rows.append({"optimizer": opt, "x": x, "value": norm})
    import pandas as pd

    long = pd.DataFrame(rows)
    fig = _figure(7.5, 4.6)
    ax = fig.add_subplot()
    methods = _methods(data)
    colors = optimizer_colors(methods)
    for i, opt in enumerate(methods):
        agg = M.aggregate_curves(long[long["optimizer"] == opt], "value", x="x")
        agg = agg[agg["n"] > 0]
        if agg.empty:
            continue
        ax.plot(agg["x"], agg["mean"], color=colors[opt], label=opt, linewidth=1.6)
        ok = np.isfinite(agg["low"]) & np.isfinite(agg["high"])
        ax.fill_between(agg["x"][ok], agg["low"][ok], agg["high"][ok], color=colors[opt], alpha=0.18, linewidth=0)
        del i
    ax.set_xlabel("budget spent (fidelity units, e.g. epochs)")
    ax.set_ylabel("normalized best loss (0 = best seen)")
    ax.set_title("Best loss against budget spent, 95% bootstrap interval")
    ax.grid(True, alpha=0.3)
    ax.legend(title="optimizer", frameon=False)
    return _save(fig, path)


def plot_critical_difference(result: S.FriedmanNemenyi, path: str | os.PathLike[str]) -> Path:
    """Critical-difference diagram: mean ranks on an axis, methods that do not differ joined by a bar.

    The layout of Demšar (2006), as autorank's ``plot_stats`` draws it: the rank axis runs from 1 (best, left)
    to ``k``; each method hangs from its mean rank by an elbow line to its name (the better half on the left,
    the rest on the right); a thick bar joins every group of methods whose mean ranks lie within Nemenyi's
    critical difference, whose length is drawn above the axis.

    Args:
        result: :func:`hpolab.analysis.stats.friedman_nemenyi`'s result.
        path: Where to write the PNG.
    """
    names = [str(n) for n in result.mean_ranks.index]
    ranks = result.mean_ranks.to_numpy(dtype=float)
    k = len(names)
    half = (k + 1) // 2
    n_rows = max(half, k - half)
    fig = _figure(7.5, 1.9 + 0.32 * n_rows + 0.18 * len(result.cliques), layout=None)
    ax = fig.add_subplot()
    lo, hi = 1.0, float(max(k, 2))
    ax.set_xlim(lo - 0.6, hi + 0.6)
    top = 0.5
    ax.set_ylim(-(n_rows + 1.2) * 0.32 - 0.18 * len(result.cliques), top + 0.55)
    ax.axis("off")
    ax.hlines(0, lo, hi, color="black", linewidth=1.2)
    for r in range(1, int(hi) + 1):
        ax.vlines(r, 0, 0.08, color="black", linewidth=1.0)
        ax.text(r, 0.14, str(r), ha="center", va="bottom", fontsize=9)
    cd = result.critical_difference
    if math.isfinite(cd):
        ax.hlines(top + 0.25, lo, lo + cd, color="black", linewidth=1.4)
        ax.vlines([lo, lo + cd], top + 0.18, top + 0.32, color="black", linewidth=1.0)
        ax.text(lo + cd / 2, top + 0.36, f"CD = {cd:.2f}", ha="center", va="bottom", fontsize=9)
    colors = optimizer_colors(names)
    for i, (name, rank) in enumerate(zip(names, ranks, strict=True)):
        left = i < half
        row = i if left else k - 1 - i
        y = -(row + 1) * 0.32 - 0.18 * len(result.cliques)
        x_text = lo - 0.5 if left else hi + 0.5
        ax.plot([rank, rank, x_text], [0, y, y], color=colors.get(name, "black"), linewidth=1.0)
        ax.text(
            x_text + (-0.05 if left else 0.05),
            y,
            f"{_short(name, 28)} ({rank:.2f})",
            ha="right" if left else "left",
            va="center",
            fontsize=9,
        )
    for j, clique in enumerate(c for c in result.cliques if len(c) > 1):
        members = [ranks[names.index(m)] for m in clique]
        y = -0.12 - 0.16 * j
        ax.hlines(y, min(members) - 0.03, max(members) + 0.03, color="black", linewidth=4.0)
    p = result.p_value
    friedman = f"Friedman p = {p:.3g}, " if math.isfinite(p) else ""
    ax.set_title(
        f"Mean rank over {result.n_tasks} task(s) (1 = best); {friedman}Nemenyi at {_A} = {result.alpha:g}",
        fontsize=10,
    )
    fig.subplots_adjust(left=0.22, right=0.78, top=0.85, bottom=0.03)
    return _save(fig, path, tight=True)  # the names hang outside the axes: keep the whole of them in the image
