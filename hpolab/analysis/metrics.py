"""Metrics for comparing optimizers: regret curves, Table 1 (beats random, change versus random), mean rank, RMSE.

Every function works on plain numbers or on the trial table that :func:`hpolab.benchmark.run`
returns: one row per trial with the columns

``optimizer``, ``objective``, ``seed``, ``trial`` (0-based position in its run), ``value``
(``NaN`` for a failed trial), ``direction`` (``"minimize"`` / ``"maximize"``; minimize if the
column is missing) and, where known, ``regret``, ``budget`` (the fidelity a trial ran at) and
``max_budget`` (the objective's full fidelity).

Internally values are turned into *losses* (``sign * value``, lower is better), so a maximized
accuracy and a minimized error are handled alike. The intervals that tables and plots show are percentile
bootstraps over seeds stratified by task, so each lies inside its metric's range; the intervals, tests,
ranks and random search's baseline themselves are in :mod:`hpolab.analysis.stats`.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from hpolab._deprecation import renamed_keyword
from hpolab._table import POOL_LABEL
from hpolab.analysis import stats as S
from hpolab.trial import Direction, trial_budget
from hpolab.trial import regret as trial_regret

__all__ = [
    "RUN_KEYS",
    "BASELINES",
    "aggregate_curves",
    "aggregate_table",
    "best_so_far",
    "budget_curves",
    "budget_spent",
    "final_losses",
    "final_rows",
    "losses",
    "random_pools",
    "rank_over_trials",
    "regret_curves",
    "relative_change",
    "rmse_summary",
    "rmse_table",
    "table1",
    "table1_tasks",
    "task_losses",
    "win_probabilities",
]

RUN_KEYS: tuple[str, str, str] = ("optimizer", "objective", "seed")


# -------------------------------------------------------------------------------- RMSE
def rmse_table(
    df: pd.DataFrame,
    *,
    by: str | Sequence[str] = "optimizer",
    accuracy: str = "value",
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The RMSE of ``1 - accuracy`` per group, with its bootstrap interval (:func:`~.stats.rmse_ci`).

    With ``objective`` and ``seed`` columns the errors are resampled by run, within objectives.

    Args:
        df: Trial table; ``accuracy`` holds accuracies in [0, 1].
        by: Column(s) to group by.
        accuracy: Column with the accuracies.
        confidence: Confidence level.

    Returns:
        One row per group: ``n``, ``rmse``, ``std``, ``ci_low``, ``ci_high``.
    """
    if accuracy not in df.columns:
        raise ValueError(f"accuracy: column {accuracy!r} is not in the table; columns are {list(df.columns)}")
    keys = [by] if isinstance(by, str) else list(by)
    rows = []
    for key, group in df.groupby(keys, sort=True):
        acc = group[accuracy].to_numpy(dtype=float)
        acc = acc[np.isfinite(acc)]
        if acc.size == 0:
            continue
        ok = group[np.isfinite(group[accuracy].to_numpy(dtype=float))]
        by_run = {"objective", "seed"} <= set(ok.columns)
        res = S.rmse_ci(
            1.0 - acc,
            confidence,
            runs=list(zip(ok["objective"], ok["seed"], strict=True)) if by_run else None,
            strata=ok["objective"].to_numpy() if by_run else None,
        )
        key_t = key if isinstance(key, tuple) else (key,)
        rows.append(
            {
                **dict(zip(keys, key_t, strict=True)),
                "n": res.n,
                "rmse": res.rmse,
                "std": res.std,
                "ci_low": res.low,
                "ci_high": res.high,
            }
        )
    return pd.DataFrame(rows, columns=[*keys, "n", "rmse", "std", "ci_low", "ci_high"])


def rmse_summary(
    df: pd.DataFrame,
    *,
    by: str = "optimizer",
    run: str | Sequence[str] = ("objective", "seed"),
    column: str = "value",
    kind: str = "error",
    one_shot: Iterable[str] = (),
    confidence: float = 0.95,
) -> pd.DataFrame:
    """The RMSE table: RMSE of the errors over all trials, over each run's best, and of one-shot proposals.

    For every method (``by``) three kinds of rows, as in the paper's Table 1: ``All`` (the error of every
    trial), ``Best`` (the best error of each run, a run being one value of ``run``) and, for the methods
    named in ``one_shot``, ``One-shot`` (the error of each run's first trial). Each row carries
    :func:`~hpolab.analysis.stats.rmse_ci`'s RMSE, standard deviation and bootstrap interval of the RMSE: the
    resampled units are runs (a run's errors together in ``All``), within the first ``run`` column (the task)
    when ``run`` has more than one column.

    Args:
        df: Trial table with ``by``, the ``run`` columns, ``column`` and a ``trial`` column (trial order
            inside a run; without it the table's row order is used).
        by: Column naming the method.
        run: Column(s) identifying one run of a method (e.g. held-out task and seed).
        column: Column holding errors (``kind="error"``, e.g. ``1 - accuracy``) or accuracies
            (``kind="accuracy"``).
        kind: ``"error"`` or ``"accuracy"``.
        one_shot: Methods that also get a ``One-shot`` row.
        confidence: Confidence level.

    Returns:
        Columns ``by``, ``trial`` (``All`` / ``Best`` / ``One-shot``), ``n``, ``rmse``, ``std``, ``ci_low``,
        ``ci_high``; methods in sorted order.

    Raises:
        ValueError: For a missing column or an unknown ``kind``.
    """
    if kind not in ("error", "accuracy"):
        raise ValueError(f"kind: {kind!r} is not 'error' or 'accuracy'; say what {column!r} holds")
    run_keys = [run] if isinstance(run, str) else list(run)
    missing = [c for c in (by, *run_keys, column) if c not in df.columns]
    if missing:
        raise ValueError(f"df: the table lacks column(s) {missing}; its columns are {list(df.columns)}")
    data = df.sort_values([by, *run_keys, "trial"], kind="stable") if "trial" in df.columns else df
    errors = data[column].astype(float)
    data = data.assign(_error=1.0 - errors if kind == "accuracy" else errors)
    data = data[np.isfinite(data["_error"].to_numpy())]
    one_shot = set(one_shot)
    rows = []
    stratified = len(run_keys) > 1
    for method, group in data.groupby(by, sort=True):
        runs = group.groupby(run_keys, sort=False)["_error"]
        run_ids = list(group[run_keys].itertuples(index=False, name=None))
        parts: list[tuple[str, pd.Series, list[tuple[Any, ...]] | None]] = [
            ("All", group["_error"], run_ids),
            ("Best", runs.min(), None),
        ]
        if method in one_shot:
            parts.append(("One-shot", runs.first(), None))
        for label, errs, ids in parts:
            if ids is None:  # one error per run: the index holds the run keys
                strata = list(errs.index.get_level_values(0)) if stratified else None
            else:
                strata = [k[0] for k in ids] if stratified else None
            res = S.rmse_ci(errs.to_numpy(dtype=float), confidence, runs=ids, strata=strata)
            rows.append(
                {
                    by: method,
                    "trial": label,
                    "n": res.n,
                    "rmse": res.rmse,
                    "std": res.std,
                    "ci_low": res.low,
                    "ci_high": res.high,
                }
            )
    return pd.DataFrame(rows, columns=[by, "trial", "n", "rmse", "std", "ci_low", "ci_high"])


# ------------------------------------------------------------------------------ trajectories
def best_so_far(values: Iterable[float] | np.ndarray, direction: str = "minimize") -> np.ndarray:
    """Running best of ``values`` (incumbent after each trial).

    Failed trials (``NaN``) keep the previous best; before the first finite value the entry is ``NaN``.

    Args:
        values: Values in trial order.
        direction: ``"minimize"`` or ``"maximize"``.
    """
    sign = Direction.coerce(direction).sign
    arr = np.asarray(list(values) if not isinstance(values, np.ndarray) else values, dtype=float) * sign
    arr = np.where(np.isfinite(arr), arr, np.inf)
    out = np.minimum.accumulate(arr) if arr.size else arr
    out = np.where(np.isinf(out), np.nan, out)
    return out * sign


def losses(df: pd.DataFrame, value: str = "value") -> pd.Series:
    """``sign * value`` per row (lower is better), using the ``direction`` column when present."""
    vals = df[value].astype(float)
    if "direction" not in df.columns:
        return vals
    signs = df["direction"].map(lambda d: Direction.coerce(d).sign).astype(float)
    return vals * signs


def final_rows(curves: pd.DataFrame) -> pd.DataFrame:
    """The last trial's row of every run, in the order of the runs' keys (optimizer, objective, seed).

    The order is a function of the table alone: the bootstrap intervals computed over these rows resample
    them by position, and a sort that breaks ties between runs of equal length in an order of its own
    (numpy's quicksort picks its kernel by the CPU) would give other intervals on another machine.
    """
    return _sorted_runs(curves).groupby(list(RUN_KEYS), sort=True).tail(1)


def _sorted_runs(df: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in (*RUN_KEYS, "trial") if c not in df.columns]
    if missing:
        raise ValueError(f"df: the trial table lacks column(s) {missing}; it needs {[*RUN_KEYS, 'trial']}")
    return df.sort_values([*RUN_KEYS, "trial"], kind="stable")


def regret_curves(
    df: pd.DataFrame,
    *,
    optima: Mapping[str, float] | None = None,
    value: str = "value",
) -> pd.DataFrame:
    """Best-so-far loss, regret and normalized regret after every trial of every run.

    The regret of a trial is the table's ``regret`` column where present (the distance of the trial's
    true value to the known optimum); otherwise ``loss - optimum`` with the optimum from ``optima``
    (values in the objective's own direction) or, failing that, the best loss any run reached on the
    objective (so the curve shows the gap to the best one found). The *regret curve* is the running
    minimum of the regret, each entry :func:`hpolab.trial.regret` of the best value so far. Normalized regret divides by the objective's range
    ``worst - best`` over all trials of all runs of that objective, so every task is in [0, 1]
    and tasks can be averaged.

    Args:
        df: Trial table.
        optima: Known optimum per objective, overriding the ``regret`` column.
        value: Column holding the observed values.

    Returns:
        One row per trial: optimizer, objective, seed, trial, ``best`` (best-so-far value in the
        objective's direction), ``best_loss``, ``regret``, ``normalized_regret``.
    """
    d = _sorted_runs(df).copy()
    d["_loss"] = losses(d, value)
    # per objective: where the regret comes from, and the span that normalizes it
    from_column: dict[str, bool] = {}
    ref_best: dict[str, float] = {}
    span: dict[str, float] = {}
    for obj, g in d.groupby("objective", sort=False):
        name = str(obj)
        finite = g["_loss"][np.isfinite(g["_loss"])]
        worst = float(finite.max()) if len(finite) else math.nan
        regrets = g["regret"].to_numpy(dtype=float) if "regret" in g.columns else np.array([])
        if optima is None and np.isfinite(regrets).any():
            from_column[name] = True
            ref_best[name] = math.nan
            span[name] = float(np.nanmax(regrets))
            continue
        from_column[name] = False
        if optima is not None and name in optima:
            sign = Direction.coerce(g["direction"].iloc[0]).sign if "direction" in g.columns else 1.0
            ref_best[name] = sign * float(optima[name])
        else:
            ref_best[name] = float(finite.min()) if len(finite) else math.nan
        span[name] = worst - ref_best[name]
    out = []
    for key, g in d.groupby(list(RUN_KEYS), sort=True):
        obj = str(key[1])
        best_loss = best_so_far(g["_loss"].to_numpy(), "minimize")
        direction = Direction.coerce(g["direction"].iloc[0]) if "direction" in g.columns else Direction.MINIMIZE
        sign = direction.sign
        if from_column[obj]:
            regret = best_so_far(g["regret"].to_numpy(dtype=float), "minimize")
        else:
            optimum = sign * ref_best[obj]  # in the objective's own direction
            gaps = (trial_regret(value, optimum, direction) for value in best_loss * sign)
            regret = np.fromiter((math.nan if gap is None else gap for gap in gaps), dtype=float, count=len(best_loss))
        norm = regret / span[obj] if span[obj] > 0 else np.where(np.isfinite(regret), 0.0, np.nan)
        out.append(
            pd.DataFrame(
                {
                    "optimizer": key[0],
                    "objective": obj,
                    "seed": key[2],
                    "trial": g["trial"].to_numpy(),
                    "best": best_loss * sign,
                    "best_loss": best_loss,
                    "regret": regret,
                    "normalized_regret": norm,
                }
            )
        )
    if not out:
        return pd.DataFrame(columns=[*RUN_KEYS, "trial", "best", "best_loss", "regret", "normalized_regret"])
    return pd.concat(out, ignore_index=True)


def aggregate_curves(
    curves: pd.DataFrame,
    column: str = "normalized_regret",
    *,
    by: str | Sequence[str] = "optimizer",
    x: str = "trial",
    confidence: float = 0.95,
    n_resamples: int = 1000,
    seed: int = 0,
) -> pd.DataFrame:
    """Mean of a curve column per group and x, with its percentile-bootstrap interval.

    The runs are resampled within their objective when the table has an ``objective`` column (a bootstrap
    over seeds stratified by task), so the band stays within the values' range.

    Args:
        curves: Output of :func:`regret_curves` (or any long table with ``x`` and ``column``).
        column: The column to average.
        by: Grouping column(s), e.g. ``"optimizer"`` or ``["optimizer", "objective"]``.
        x: The x-axis column.
        confidence: Confidence level.
        n_resamples: Bootstrap replicates per point.
        seed: Seed of the resampling.

    Returns:
        Columns ``*by, x, mean, low, high, n``.
    """
    keys = [by] if isinstance(by, str) else list(by)
    stratify = "objective" in curves.columns and "objective" not in keys
    rows = []
    for key, g in curves.groupby([*keys, x], sort=True):
        ci = S.bootstrap_interval(
            g[column].to_numpy(dtype=float),
            strata=g["objective"].to_numpy() if stratify else None,
            confidence=confidence,
            n_resamples=n_resamples,
            seed=seed,
        )
        key_t = key if isinstance(key, tuple) else (key,)
        rows.append(
            {**dict(zip([*keys, x], key_t, strict=True)), "mean": ci.mean, "low": ci.low, "high": ci.high, "n": ci.n}
        )
    return pd.DataFrame(rows, columns=[*keys, x, "mean", "low", "high", "n"])


def final_losses(
    df: pd.DataFrame, n_trials: int | None = None, *, value: str = "value", budget: int | None = None
) -> pd.DataFrame:
    """Best loss of every run within its first ``n_trials`` trials (all trials for ``None``).

    Returns:
        Columns optimizer, objective, seed, ``loss`` (best ``sign * value``), ``n_trials`` (trials counted).
    """
    n_trials = renamed_keyword("final_losses", "budget", "n_trials", budget, n_trials)
    if n_trials is not None and n_trials < 1:
        raise ValueError(f"n_trials: {n_trials} must be a positive number of trials")
    d = _sorted_runs(df).copy()
    d["_loss"] = losses(d, value)
    if n_trials is not None:
        d = d.groupby(list(RUN_KEYS), sort=False, group_keys=False).head(n_trials)
    d["_loss"] = d["_loss"].where(np.isfinite(d["_loss"]))
    g = d.groupby(list(RUN_KEYS), sort=True)
    out = pd.DataFrame({"loss": g["_loss"].min(), "n_trials": g["_loss"].size()}).reset_index()
    return out


def task_losses(
    df: pd.DataFrame, n_trials: int | None = None, *, value: str = "value", budget: int | None = None
) -> pd.DataFrame:
    """Per task (objective) and optimizer: the best loss within ``n_trials`` trials, averaged over seeds.

    Returns:
        A wide table: index objective, one column per optimizer.
    """
    n_trials = renamed_keyword("task_losses", "budget", "n_trials", budget, n_trials)
    fl = final_losses(df, n_trials, value=value)
    return fl.pivot_table(index="objective", columns="optimizer", values="loss", aggfunc="mean")


# ----------------------------------------------------------- random search: pools, change
def random_pools(
    df: pd.DataFrame,
    *,
    random: str = "random",
    pool_optimizer: str = POOL_LABEL,
    value: str = "value",
) -> dict[str, np.ndarray]:
    """Values of random configurations per objective, for :func:`~hpolab.analysis.stats.bootstrap_best_of`.

    Uses the rows of ``pool_optimizer`` (a large pool of random samples, e.g. 500 per task)
    for objectives that have them, else all trials of ``random`` over every seed (random search's
    trials are independent samples, so pooling seeds and positions is valid).
    """
    pools: dict[str, np.ndarray] = {}
    for obj, g in df.groupby("objective", sort=True):
        rows = g[g["optimizer"] == pool_optimizer]
        if rows.empty:
            rows = g[g["optimizer"] == random]
        vals = rows[value].to_numpy(dtype=float)
        vals = vals[np.isfinite(vals)]
        if vals.size:
            pools[str(obj)] = vals
    return pools


def relative_change(loss: float, baseline: float) -> float:
    """Change versus random: ``(baseline - loss) / |baseline|`` (0.2 -> 0.1 is +0.5).

    Positive is an improvement. Both are losses (lower is better). ``0`` when both are equal,
    ``NaN`` when the baseline is 0 and the loss is not.
    """
    if not (math.isfinite(loss) and math.isfinite(baseline)):
        return math.nan
    if loss == baseline:
        return 0.0
    if baseline == 0:
        return math.nan
    return (baseline - loss) / abs(baseline)


# ---------------------------------------------------------------------------------- ranks
def rank_over_trials(df: pd.DataFrame, *, value: str = "value", confidence: float = 0.95) -> pd.DataFrame:
    """Mean rank of each optimizer after every trial (ranked per task on the seed-averaged best loss).

    At trial ``t`` each optimizer's best-so-far loss is averaged over seeds per task, the optimizers
    are ranked per task (ties averaged), and the ranks are averaged over tasks with an interval.

    Returns:
        Columns optimizer, trial, mean_rank, low, high, n_tasks.
    """
    curves = regret_curves(df, value=value)
    if curves.empty:
        return pd.DataFrame(columns=["optimizer", "trial", "mean_rank", "low", "high", "n_tasks"])
    # carry each run's last best forward so runs of different length stay comparable
    n_max = int(curves["trial"].max()) + 1
    filled = []
    for key, g in curves.groupby(list(RUN_KEYS), sort=False):
        s = pd.Series(g["best_loss"].to_numpy(), index=g["trial"].to_numpy()).reindex(range(n_max)).ffill()
        filled.append(
            pd.DataFrame(
                {"optimizer": key[0], "objective": key[1], "seed": key[2], "trial": s.index, "best_loss": s.to_numpy()}
            )
        )
    full = pd.concat(filled, ignore_index=True)
    rows = []
    for t, g in full.groupby("trial", sort=True):
        table = g.pivot_table(index="objective", columns="optimizer", values="best_loss", aggfunc="mean")
        table = table.dropna(how="all")
        if table.empty:
            continue
        mr = S.mean_rank(table, confidence)
        for opt, r in mr.iterrows():
            rows.append(
                {
                    "optimizer": opt,
                    "trial": int(t),  # type: ignore[arg-type]
                    "mean_rank": r["mean_rank"],
                    "low": r["low"],
                    "high": r["high"],
                    "n_tasks": int(r["n_tasks"]),
                }
            )
    return pd.DataFrame(rows, columns=["optimizer", "trial", "mean_rank", "low", "high", "n_tasks"])


# --------------------------------------------------------------------- Table 1
#: How :func:`table1_tasks` estimates random search's loss at the budget: ``"exact"``, the expected best of
#: ``n`` distinct configurations of the pool (unbiased); ``"with-replacement"``, the exact expectation of a
#: bootstrap that draws with replacement (which makes random search look worse on a small pool);
#: ``"bootstrap"``, that bootstrap itself.
BASELINES: tuple[str, ...] = ("exact", "with-replacement", "bootstrap")


def _directions(df: pd.DataFrame) -> dict[str, str]:
    if "direction" not in df.columns:
        return {}
    return {str(k): str(v) for k, v in df.groupby("objective")["direction"].first().items()}


def _task_tolerances(
    df: pd.DataFrame,
    pools: Mapping[str, Iterable[float]],
    objectives: Sequence[str],
    resolution: float | Mapping[str, float] | None,
    value: str,
) -> dict[str, float]:
    """Per objective: the tie tolerance in loss units (given, or :func:`~hpolab.analysis.stats.tie_tolerance`)."""
    if isinstance(resolution, (int, float)) and not isinstance(resolution, bool):
        if not (resolution >= 0 and math.isfinite(resolution)):
            raise ValueError(f"resolution: {resolution} must be a finite number >= 0 (the objective's step)")
        return {obj: float(resolution) for obj in objectives}
    given: dict[str, float] = dict(resolution) if isinstance(resolution, Mapping) else {}
    bad = {k: v for k, v in given.items() if not (isinstance(v, (int, float)) and v >= 0 and math.isfinite(v))}
    if bad:
        raise ValueError(f"resolution: {bad} must map objectives to finite numbers >= 0 (each objective's step)")
    out = {}
    for obj in objectives:
        if obj in given:
            out[obj] = float(given[obj])
            continue
        seen = df.loc[df["objective"] == obj, value].to_numpy(dtype=float)
        out[obj] = S.tie_tolerance(np.concatenate([S.finite_values(pools.get(obj, [])), S.finite_values(seen)]))
    return out


def _score(method_loss: np.ndarray, random_loss: np.ndarray, tolerance: np.ndarray) -> np.ndarray:
    """1 where the loss is below random's by at least the tolerance, 0 where above by as much, 0.5 between."""
    diff = random_loss - method_loss
    floor = 1e-9 * np.maximum(np.maximum(np.abs(random_loss), np.abs(method_loss)), 1.0)
    h = np.maximum(tolerance, floor)
    out = np.where(diff >= h, 1.0, np.where(diff <= -h, 0.0, 0.5))
    return np.where(np.isfinite(method_loss) & np.isfinite(random_loss), out, np.nan)


def _change(method_loss: np.ndarray, random_loss: np.ndarray) -> np.ndarray:
    """:func:`relative_change` on arrays."""
    with np.errstate(divide="ignore", invalid="ignore"):
        out = (random_loss - method_loss) / np.abs(random_loss)
    out = np.where(method_loss == random_loss, 0.0, out)
    out = np.where((random_loss == 0) & (method_loss != random_loss), np.nan, out)
    return np.where(np.isfinite(method_loss) & np.isfinite(random_loss), out, np.nan)


def table1_tasks(
    df: pd.DataFrame,
    n_trials: int = 10,
    *,
    budget: int | None = None,
    random: str = "random",
    pools: Mapping[str, Iterable[float]] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    value: str = "value",
    baseline: str = "exact",
    resolution: float | Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Per task and method: loss at ``n_trials``, random search's loss, change versus random, tie rule, rank.

    A method's loss on a task is its best loss within the first ``n_trials`` trials, averaged over seeds.
    Random search's loss is the exact expected best of ``n_trials`` distinct configurations of the task's pool
    (:func:`~hpolab.analysis.stats.expected_best_of`, unbiased for ``n_trials``
    independent random configurations; ``pools`` or :func:`random_pools`). ``baseline="with-replacement"``
    is the exact expectation of a bootstrap with replacement (:func:`~hpolab.analysis.stats.bootstrap_best_of`), which overstates random
    search's loss on a small pool; ``baseline="bootstrap"`` is that bootstrap,
    :func:`~hpolab.analysis.stats.bootstrap_best_of` with ``n_bootstrap`` replicates and the fixed ``seed``.

    Tie rule: a method's loss and random's are a tie when they differ by less than the objective's
    resolution (``resolution``, one number or one per objective, in the objective's units; by default the
    smallest gap between two distinct values seen on the task, :func:`~hpolab.analysis.stats.tie_tolerance`).
    A win scores 1, a tie 0.5, a loss 0. Ranks are among all methods and random (exact ties averaged).

    Returns:
        Long table: objective, optimizer (``random`` for the baseline), loss, random_loss, change
        (fraction; positive is better), beats_random (a win beyond the tolerance), tie, score, tolerance, rank.
    """
    n_trials = renamed_keyword("table1_tasks", "budget", "n_trials", budget, n_trials, default=10)
    if baseline not in BASELINES:
        raise ValueError(f"baseline: {baseline!r} is not one of {BASELINES}")
    if pools is None:
        pools = random_pools(df, random=random, value=value)
    methods = df[~df["optimizer"].isin([random, POOL_LABEL])]
    table = task_losses(methods, n_trials, value=value) if not methods.empty else pd.DataFrame()
    directions = _directions(df)
    objectives = sorted(set(map(str, df["objective"].unique())))
    rand = {}
    for obj in objectives:
        pool = pools.get(obj)
        if pool is None:
            raise ValueError(
                f"objective {obj!r}: no random-search values to estimate random search from; include the "
                f"{random!r} optimizer in the run or pass pools={{objective: values}}"
            )
        direction = directions.get(obj, "minimize")
        if baseline == "exact":
            _check_pool_size(obj, pool, n_trials, "baseline='with-replacement'")
        if baseline in ("exact", "with-replacement"):
            best = S.expected_best_of(pool, n_trials, direction=direction, replace=baseline == "with-replacement")
        else:
            best = S.bootstrap_best_of(pool, n_trials, n_bootstrap=n_bootstrap, seed=seed, direction=direction).mean
        rand[obj] = Direction.coerce(direction).sign * best
    tolerance = _task_tolerances(df, pools, objectives, resolution, value)
    wide = table.reindex(objectives) if not table.empty else pd.DataFrame(index=objectives)
    wide[random] = pd.Series(rand)
    ranks = S.rank_matrix(wide)
    rows = []
    for obj in objectives:
        base = float(wide.loc[obj, random])  # type: ignore[arg-type]
        for opt in wide.columns:
            loss = float(wide.loc[obj, opt])  # type: ignore[arg-type]
            score = float(_score(np.array(loss), np.array(base), np.array(tolerance[obj])))
            rows.append(
                {
                    "objective": obj,
                    "optimizer": opt,
                    "loss": loss,
                    "random_loss": base,
                    "change": relative_change(loss, base),
                    "beats_random": score == 1.0,
                    "tie": score == 0.5,
                    "score": score,
                    "tolerance": tolerance[obj],
                    "rank": float(ranks.loc[obj, opt]),  # type: ignore[arg-type]
                }
            )
    return pd.DataFrame(
        rows,
        columns=[
            "objective",
            "optimizer",
            "loss",
            "random_loss",
            "change",
            "beats_random",
            "tie",
            "score",
            "tolerance",
            "rank",
        ],
    )


def _seed_replicates(
    fl: pd.DataFrame, objectives: Sequence[str], methods: Sequence[str], n_bootstrap: int, seed: int
) -> np.ndarray:
    """Seed-mean losses recomputed on seeds resampled within each task: shape (replicates, tasks, methods).

    On each task the seeds are drawn with replacement at their number, and the same draw is used for every
    method where all have the same seeds (methods on one task and seed share the objective's noise); otherwise
    each method's own seeds are drawn. A method without runs on a task is NaN there.
    """
    rng = np.random.default_rng(seed)
    out = np.full((n_bootstrap, len(objectives), len(methods)), np.nan)
    for t, obj in enumerate(objectives):
        g = fl[fl["objective"] == obj]
        if g.empty:
            continue
        wide = g.pivot_table(index="seed", columns="optimizer", values="loss", aggfunc="mean")
        wide = wide.reindex(columns=list(methods))
        mat = wide.to_numpy(dtype=float)
        ok = np.isfinite(mat)
        if (ok == ok[:, :1]).all():  # every method has the same seeds here: draw them together
            rows = np.flatnonzero(ok[:, 0])
            if rows.size:
                idx = rows[rng.integers(0, rows.size, size=(n_bootstrap, rows.size))]
                out[:, t, :] = mat[idx].mean(axis=1)
            continue
        for j in range(mat.shape[1]):  # else each method's own seeds
            rows = np.flatnonzero(ok[:, j])
            if rows.size:
                idx = rows[rng.integers(0, rows.size, size=(n_bootstrap, rows.size))]
                out[:, t, j] = mat[idx, j].mean(axis=1)
    return out


def table1(
    df: pd.DataFrame,
    n_trials: int = 10,
    *,
    budget: int | None = None,
    random: str = "random",
    pools: Mapping[str, Iterable[float]] | None = None,
    n_bootstrap: int = 1000,
    seed: int = 0,
    value: str = "value",
    confidence: float = 0.95,
    baseline: str = "exact",
    resolution: float | Mapping[str, float] | None = None,
) -> pd.DataFrame:
    """Table 1: per method, over tasks at a fixed budget, with intervals over seeds.

    Columns: ``n_tasks``; ``beats_random`` (% of tasks where the method's loss is below random search's,
    a tie within the objective's resolution counting half; see :func:`table1_tasks`); ``median_change`` and
    ``mean_change`` (% change in loss versus random, positive is better); ``mean_rank`` among all methods
    and random (1 is best, ties averaged). ``beats_random``, ``mean_change`` and ``mean_rank`` carry
    ``*_low`` / ``*_high``: percentile-bootstrap intervals over seeds stratified by task (on every task the
    seeds are resampled, the seed means, scores, changes and ranks recomputed), so ``beats_random`` stays in
    [0, 100] and ``mean_rank`` in [1, k]. Random search's loss is exact, so its uncertainty is not in them;
    the interval says how much the seeds of this run move each number on these tasks. The random row is the
    baseline itself.

    Args:
        df: Trial table.
        n_trials: Evaluations per run counted (e.g. 10).
        budget: Deprecated old name of ``n_trials``.
        random: Name of the random-search optimizer in ``df``.
        pools: Random values per objective (default: :func:`random_pools`).
        n_bootstrap: Bootstrap replicates of the intervals (and of ``baseline="bootstrap"``).
        seed: Seed of the resampling.
        value: Column with the values.
        confidence: Level of the intervals.
        baseline: One of :data:`BASELINES`: ``"exact"`` (:func:`~hpolab.analysis.stats.expected_best_of`
            without replacement), ``"with-replacement"`` (the same with replacement, a bootstrap's definition) or
            ``"bootstrap"`` (:func:`~hpolab.analysis.stats.bootstrap_best_of`).
        resolution: Tie tolerance, one number or one per objective (default: per task, from the data).
    """
    n_trials = renamed_keyword("table1", "budget", "n_trials", budget, n_trials, default=10)
    S.check_confidence(confidence)
    tasks = table1_tasks(
        df,
        n_trials,
        random=random,
        pools=pools,
        n_bootstrap=n_bootstrap,
        seed=seed,
        value=value,
        baseline=baseline,
        resolution=resolution,
    )
    objectives = sorted(tasks["objective"].unique())
    labels = [str(o) for o in tasks["optimizer"].unique()]
    methods = [o for o in labels if o != random]
    random_loss = tasks.groupby("objective")["random_loss"].first().reindex(objectives).to_numpy(dtype=float)
    tol = tasks.groupby("objective")["tolerance"].first().reindex(objectives).to_numpy(dtype=float)
    fl = final_losses(df[df["optimizer"].isin(methods)], n_trials, value=value) if methods else pd.DataFrame()
    reps = (
        _seed_replicates(fl, objectives, methods, n_bootstrap, seed)
        if methods
        else np.empty((n_bootstrap, len(objectives), 0))
    )
    full = np.concatenate([reps, np.broadcast_to(random_loss[None, :, None], (n_bootstrap, len(objectives), 1))], 2)
    from scipy import stats

    rep_ranks = stats.rankdata(np.where(np.isfinite(full), full, np.inf), axis=2, method="average")
    rows = {}
    for opt, g in tasks.groupby("optimizer", sort=False):
        g = g.set_index("objective").reindex(objectives)
        change = g["change"].to_numpy(dtype=float) * 100.0
        finite = np.isfinite(g["loss"].to_numpy(dtype=float))
        j = methods.index(str(opt)) if str(opt) != random else len(methods)
        rank_ci = S.percentile_interval(rep_ranks[:, :, j].mean(axis=1), confidence)
        row = {
            "n_tasks": int(finite.sum()),
            "beats_random": 100.0 * float(np.nanmean(g["score"].to_numpy(dtype=float))) if finite.any() else math.nan,
            "beats_random_low": math.nan,
            "beats_random_high": math.nan,
            "median_change": float(np.nanmedian(change)) if np.isfinite(change).any() else math.nan,
            "mean_change": float(np.nanmean(change)) if np.isfinite(change).any() else math.nan,
            "mean_change_low": math.nan,
            "mean_change_high": math.nan,
            "mean_rank": float(g["rank"].mean()),
            "mean_rank_low": rank_ci[0],
            "mean_rank_high": rank_ci[1],
        }
        if str(opt) != random:
            m = reps[:, :, j]
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                beats = 100.0 * np.nanmean(_score(m, random_loss[None, :], tol[None, :]), axis=1)
                changes = 100.0 * np.nanmean(_change(m, random_loss[None, :]), axis=1)
            row["beats_random_low"], row["beats_random_high"] = S.percentile_interval(beats, confidence)
            row["mean_change_low"], row["mean_change_high"] = S.percentile_interval(changes, confidence)
        rows[opt] = row
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "optimizer"
    if random in out.index:
        out.loc[random, "beats_random"] = math.nan
    seeds_per_task = fl.groupby("objective")["seed"].nunique() if len(fl) else pd.Series(dtype=float)
    if len(seeds_per_task) == 0 or int(seeds_per_task.max()) < 2:  # one seed: a bootstrap has no spread
        out[[c for c in out.columns if c.endswith(("_low", "_high"))]] = math.nan
    return out.sort_values("mean_rank", kind="stable")


# ----------------------------------------------------- aggregate view: IQM, P(improvement), tests
def win_probabilities(
    df: pd.DataFrame,
    n_trials: int = 10,
    *,
    budget: int | None = None,
    random: str = "random",
    pools: Mapping[str, Iterable[float]] | None = None,
    value: str = "value",
    resolution: float | Mapping[str, float] | None = None,
    replace: bool = False,
) -> pd.DataFrame:
    """Per run: the probability that its loss at ``n_trials`` beats one random search of the same budget.

    :func:`~hpolab.analysis.stats.win_probability` against the exact distribution of random search's best of
    ``n_trials`` distinct configurations of the task's pool (``replace=True``: draws with replacement, which
    favours every method by :func:`~hpolab.analysis.stats.pool_bias`), with :func:`table1_tasks`'s tie rule (a
    tie counts half). A method that is random search scores 0.5 on average. Random search's own runs are
    scored too.

    Returns:
        Columns optimizer, objective, seed, loss, win_probability.
    """
    n_trials = renamed_keyword("win_probabilities", "budget", "n_trials", budget, n_trials, default=10)
    if pools is None:
        pools = random_pools(df, random=random, value=value)
    runs = df[df["optimizer"] != POOL_LABEL]
    fl = final_losses(runs, n_trials, value=value)
    objectives = sorted(set(map(str, fl["objective"].unique())))
    signs = {o: Direction.coerce(d).sign for o, d in _directions(df).items()}
    tolerance = _task_tolerances(df, pools, objectives, resolution, value)
    parts = []
    for obj, g in fl.groupby("objective", sort=True):
        pool = pools.get(str(obj))
        if pool is None:
            raise ValueError(
                f"objective {obj!r}: no random-search values to compare with; include the {random!r} "
                "optimizer in the run or pass pools={objective: values}"
            )
        sign = signs.get(str(obj), 1.0)
        if not replace:
            _check_pool_size(obj, pool, n_trials, "replace=True")
        p = S.win_probability(
            g["loss"].to_numpy(dtype=float),
            S.finite_values(pool) * sign,
            n_trials,
            tolerance[str(obj)],
            replace=replace,
        )
        parts.append(g.assign(win_probability=p))
    cols = ["optimizer", "objective", "seed", "loss", "win_probability"]
    return pd.concat(parts, ignore_index=True)[cols] if parts else pd.DataFrame(columns=cols)


def aggregate_table(
    df: pd.DataFrame,
    n_trials: int | None = 10,
    *,
    budget: int | None = None,
    random: str = "random",
    pools: Mapping[str, Iterable[float]] | None = None,
    value: str = "value",
    resolution: float | Mapping[str, float] | None = None,
    confidence: float = 0.95,
    n_bootstrap: int = 2000,
    seed: int = 0,
) -> pd.DataFrame:
    """The aggregate view: IQM of normalized regret, probability of improvement over random, Holm-corrected tests.

    Per method, over its runs at ``n_trials`` (``None``: all trials): the interquartile mean and the mean of
    the runs' normalized regret (:func:`regret_curves`, each task on [0, 1]); the probability of improvement
    over random search (the mean over tasks of the runs' :func:`win_probabilities`); and a two-sided Wilcoxon
    signed-rank test per method, with Holm-adjusted p-values over the methods other than random. The test
    pairs each run's win probability with random search's run of the same task and seed
    (:func:`~hpolab.analysis.stats.wilcoxon_paired`), so the error of the task's pool, common to both, cancels;
    a method with no such pair (random search not run, only ``pools`` given) is tested against 0.5
    (:func:`~hpolab.analysis.stats.wilcoxon_against_half`). Intervals: percentile bootstrap over seeds
    stratified by task.

    Returns:
        Index optimizer; columns n_runs, n_tasks, iqm, iqm_low, iqm_high, mean, mean_low, mean_high,
        p_improve, p_improve_low, p_improve_high, test_n, reference (``"random"``: paired with random
        search's runs; ``"0.5"``: against 0.5; empty for random itself), difference (the mean paired
        difference in win probability, or the mean minus 0.5; its sign says better or worse), p_value, p_holm.
    """
    n_trials = renamed_keyword("aggregate_table", "budget", "n_trials", budget, n_trials, default=10)
    runs = df[df["optimizer"] != POOL_LABEL]
    curves = regret_curves(runs, value=value)
    if n_trials is not None:
        curves = curves[curves["trial"] < n_trials]
    last = final_rows(curves)
    has_pool = pools is not None or random in set(df["optimizer"]) or POOL_LABEL in set(df["optimizer"])
    wins = (
        win_probabilities(
            df,
            n_trials or int(runs.groupby(list(RUN_KEYS)).size().max()),
            random=random,
            pools=pools,
            value=value,
            resolution=resolution,
        )
        if has_pool
        else pd.DataFrame(columns=["optimizer", "objective", "seed", "win_probability"])
    )
    reference = wins[wins["optimizer"] == random].set_index(["objective", "seed"])["win_probability"]
    rows = {}
    for opt in sorted(map(str, runs["optimizer"].unique())):
        g = last[last["optimizer"] == opt]
        reg = g["normalized_regret"].to_numpy(dtype=float)
        tasks = g["objective"].to_numpy()
        iqm = S.bootstrap_interval(
            reg, strata=tasks, statistic="iqm", confidence=confidence, n_resamples=n_bootstrap, seed=seed
        )
        mean = S.bootstrap_interval(
            reg, strata=tasks, statistic="mean", confidence=confidence, n_resamples=n_bootstrap, seed=seed
        )
        w = wins[wins["optimizer"] == opt]
        wp = w["win_probability"].to_numpy(dtype=float)
        strata = w["objective"].to_numpy()

        def task_mean(x: np.ndarray, s: np.ndarray = strata) -> np.ndarray:
            return S.stratum_means(x, s)

        poi = S.bootstrap_interval(
            wp,
            strata=strata,
            statistic=task_mean,
            confidence=confidence,
            n_resamples=n_bootstrap,
            seed=seed,
        )
        test, against, difference = (
            _test_against_random(w, reference, opt) if opt != random and len(wp) else (None, "", math.nan)
        )
        rows[opt] = {
            "n_runs": len(g),
            "n_tasks": int(g["objective"].nunique()),
            "iqm": iqm.estimate,
            "iqm_low": iqm.low,
            "iqm_high": iqm.high,
            "mean": mean.estimate,
            "mean_low": mean.low,
            "mean_high": mean.high,
            "p_improve": poi.estimate,
            "p_improve_low": poi.low,
            "p_improve_high": poi.high,
            "test_n": test.n if test else 0,
            "reference": against,
            "difference": difference,
            "p_value": test.p_value if test else math.nan,
        }
    out = pd.DataFrame.from_dict(rows, orient="index")
    out.index.name = "optimizer"
    if not out.empty:
        out["p_holm"] = S.holm(out["p_value"].to_numpy(dtype=float))
    return out


def _check_pool_size(objective: object, pool: Iterable[float], n_trials: int, instead: str) -> None:
    """Refuse a pool with fewer values than random search's ``n_trials`` distinct configurations."""
    size = S.finite_values(pool).size
    if size < n_trials:
        raise ValueError(
            f"objective {objective!r}: {size} random configuration(s) in its pool for random search's best of "
            f"{n_trials} distinct ones; run a pool of at least {n_trials} (e.g. random_pool=100) or pass {instead}"
        )


def _test_against_random(wins: pd.DataFrame, reference: pd.Series, name: str) -> tuple[S.PairedTest, str, float]:
    """A method's runs against random search: paired with its runs where they exist, else against 0.5."""
    mine = wins.set_index(["objective", "seed"])["win_probability"]
    paired = pd.concat({"m": mine, "r": reference}, axis=1, join="inner").dropna()
    if len(paired):
        m, r = paired["m"].to_numpy(dtype=float), paired["r"].to_numpy(dtype=float)
        return S.wilcoxon_paired(m, r, name), "random", float((m - r).mean())
    wp = mine.to_numpy(dtype=float)
    return S.wilcoxon_against_half(wp, name), "0.5", float(np.nanmean(wp)) - 0.5


# ------------------------------------------------------------------ multi-fidelity budgets
def budget_spent(df: pd.DataFrame) -> pd.DataFrame:
    """Fidelity budget each run spent (e.g. epochs), and as a number of full evaluations.

    A trial's budget is its ``budget`` column; a missing budget (single-fidelity trial) counts as the
    full fidelity ``max_budget`` where that column exists, else as 1.

    Returns:
        Columns optimizer, objective, seed, n_trials, budget_spent, full_evaluations.
    """
    d = df.copy()
    b = _trial_budgets(d)
    d["_b"] = b
    full = d["max_budget"].astype(float) if "max_budget" in d.columns else pd.Series(1.0, index=d.index)
    d["_full"] = (b / full.where(full > 0, 1.0)).fillna(1.0)
    g = d.groupby(list(RUN_KEYS), sort=True)
    return pd.DataFrame(
        {"n_trials": g.size(), "budget_spent": g["_b"].sum(), "full_evaluations": g["_full"].sum()}
    ).reset_index()


def _trial_budgets(d: pd.DataFrame) -> pd.Series:
    """Each row's budget by :func:`hpolab.trial.trial_budget`, hpolab's one definition of it."""
    nan = pd.Series(math.nan, index=d.index)
    budgets = d["budget"].astype(float) if "budget" in d.columns else nan
    full = d["max_budget"].astype(float) if "max_budget" in d.columns else nan
    return pd.Series(
        [
            trial_budget(_Budget(None if math.isnan(b) else b), None if math.isnan(f) else f)
            for b, f in zip(budgets.to_numpy(), full.to_numpy(), strict=True)
        ],
        index=d.index,
        dtype=float,
    )


@dataclass(frozen=True)
class _Budget:
    """A table row seen as a trial record by :func:`hpolab.trial.trial_budget`."""

    budget: float | None


def budget_curves(df: pd.DataFrame, *, value: str = "value", full_fidelity_only: bool = False) -> pd.DataFrame:
    """Best-so-far loss against cumulative fidelity budget per run (for multi-fidelity comparisons).

    Args:
        df: Trial table with ``budget`` (and ``max_budget``) columns.
        value: Column with the values.
        full_fidelity_only: Count only trials run at the full fidelity towards the incumbent (the
            budget of the others is still spent). Use it when low-fidelity values are not comparable.

    Returns:
        Columns optimizer, objective, seed, trial, budget (of the trial), cumulative_budget, best_loss.
    """
    d = _sorted_runs(df).copy()
    d["_loss"] = losses(d, value)
    d["_b"] = _trial_budgets(d)
    if full_fidelity_only and "max_budget" in d.columns:
        full = d["max_budget"].astype(float)
        d.loc[d["_b"] < full, "_loss"] = math.nan
    out = []
    for key, g in d.groupby(list(RUN_KEYS), sort=True):
        out.append(
            pd.DataFrame(
                {
                    "optimizer": key[0],
                    "objective": key[1],
                    "seed": key[2],
                    "trial": g["trial"].to_numpy(),
                    "budget": g["_b"].to_numpy(),
                    "cumulative_budget": np.cumsum(g["_b"].to_numpy()),
                    "best_loss": best_so_far(g["_loss"].to_numpy(), "minimize"),
                }
            )
        )
    cols = [*RUN_KEYS, "trial", "budget", "cumulative_budget", "best_loss"]
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame(columns=cols)
