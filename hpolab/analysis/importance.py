"""fANOVA hyperparameter importance, computed by Optuna's FanovaImportanceEvaluator.

hpolab does not carry its own random forest: the finished trials are turned into Optuna
``FrozenTrial`` objects over the search space's Optuna distributions and handed to
:class:`optuna.importance.FanovaImportanceEvaluator` (Hutter et al.'s functional ANOVA on a random
forest, the maintained implementation). Numeric ordinal hyperparameters (e.g. the HPOBench grids)
are given to it as numbers, on a log scale when all values are positive and span more than two
decades, so the forest can split on their order; other ordinals and categoricals stay categorical.

Two scales: the **raw** importance is fANOVA's own (a hyperparameter's share of the variance of the
value on its own, in [0, 1]; the shares sum to at most 1, the rest belonging to interactions), the
scale of a variance share; the **normalised** importance divides the raw ones by their sum (Optuna's
default). :func:`fanova_intervals` gives the raw value with a bootstrap interval over the evaluated
configurations and the normalised value beside it.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hpolab.space import SearchSpace
from hpolab.trial import Direction, TrialRecord, TrialState

if TYPE_CHECKING:
    import pandas as pd
    from optuna.distributions import BaseDistribution

__all__ = ["fanova_importance", "fanova_intervals", "importance_by_objective", "normalized"]

_logger = logging.getLogger("hpolab.analysis.importance")


def _distributions(space: SearchSpace) -> dict[str, BaseDistribution]:
    from optuna.distributions import FloatDistribution

    dists = space.to_optuna()
    for name, p in space.params.items():
        if p.kind == "ordinal" and p.is_numeric_choice and len(p.choices) > 1:
            lo, hi = float(min(p.choices)), float(max(p.choices))  # type: ignore[type-var, arg-type]
            log = lo > 0 and hi / lo > 100.0
            dists[name] = FloatDistribution(lo, hi, log=log)
        elif p.kind == "constant":
            dists.pop(name, None)
    return dists


def _frozen_trials(
    records: Iterable[TrialRecord | tuple[Mapping[str, Any], float]], dists: Mapping[str, BaseDistribution]
) -> list[Any]:
    """Optuna ``FrozenTrial`` objects of the COMPLETE records with a finite value."""
    import optuna

    trials = []
    for rec in records:
        config: Mapping[str, Any]
        if isinstance(rec, TrialRecord):
            if rec.state is not TrialState.COMPLETE or rec.value is None:
                continue
            config, value = rec.config, float(rec.value)
        else:
            config, value = rec[0], float(rec[1])
        if not math.isfinite(value):
            continue
        used = {k: v for k, v in config.items() if k in dists}
        if not used:
            continue
        trial_params = {k: (float(v) if _is_float_dist(dists[k]) else v) for k, v in used.items()}
        trials.append(
            optuna.trial.create_trial(
                value=value, params=trial_params, distributions={k: dists[k] for k in trial_params}
            )
        )
    return trials


def _raw_importance(
    trials: Sequence[Any], direction: str, *, n_trees: int, max_depth: int, seed: int, params: Sequence[str] | None
) -> dict[str, float]:
    """Optuna's fANOVA on ``trials``: each hyperparameter's raw share of the variance, most important first."""
    import optuna
    from optuna.importance import FanovaImportanceEvaluator

    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(direction="maximize" if direction == "maximize" else "minimize")
        study.add_trials(trials)
        evaluator = FanovaImportanceEvaluator(n_trees=n_trees, max_depth=max_depth, seed=seed)
        result = evaluator.evaluate(study, params=list(params) if params is not None else None)
    finally:
        optuna.logging.set_verbosity(verbosity)
    return {str(k): float(v) for k, v in result.items()}


def normalized(importance: Mapping[str, float]) -> dict[str, float]:
    """Importances scaled to sum to 1 (Optuna's normalisation: equal shares when they sum to 0)."""
    total = sum(importance.values())
    if total == 0.0:
        return {k: 1.0 / len(importance) for k in importance} if importance else {}
    return {k: v / total for k, v in importance.items()}


def fanova_importance(
    records: Iterable[TrialRecord | tuple[Mapping[str, Any], float]],
    space: SearchSpace | Mapping[str, Any] | Any,
    *,
    direction: Direction | str = "minimize",
    n_trees: int = 64,
    max_depth: int = 64,
    seed: int = 0,
    normalize: bool = True,
    params: Sequence[str] | None = None,
) -> dict[str, float]:
    """FANOVA importance of each hyperparameter over finished trials.

    Only COMPLETE trials with a finite value count. With a conditional space, Optuna keeps the
    hyperparameters every counted trial has.

    Args:
        records: hpolab trial records (from ``study.trials`` or ``optimizer.history``), or
            ``(config, value)`` pairs.
        space: The search space the configs come from.
        direction: Only recorded with the Optuna study (importance does not depend on it).
        n_trees: Trees of the forest.
        max_depth: Depth of each tree.
        seed: Seed of the forest.
        normalize: Scale the importances to sum to 1. ``False`` gives the raw scale of fANOVA (and of
            a variance share): each hyperparameter's share of the variance on its own, in [0, 1], the
            shares summing to at most 1 (the rest is the interactions').
        params: Hyperparameters to evaluate (default: all that every counted trial has).

    Returns:
        ``{name: importance}``, most important first.

    Raises:
        ValueError: If fewer than two usable trials are given.
    """
    sp = SearchSpace.coerce(space)
    trials = _frozen_trials(records, _distributions(sp))
    if len(trials) < 2:
        raise ValueError(f"records: fANOVA needs at least 2 finished trials with a value; got {len(trials)}")
    raw = _raw_importance(
        trials, Direction.coerce(direction).value, n_trees=n_trees, max_depth=max_depth, seed=seed, params=params
    )
    return normalized(raw) if normalize else raw


def fanova_intervals(
    records: Iterable[TrialRecord | tuple[Mapping[str, Any], float]],
    space: SearchSpace | Mapping[str, Any] | Any,
    *,
    direction: Direction | str = "minimize",
    n_bootstrap: int = 100,
    confidence: float = 0.95,
    n_trees: int = 64,
    bootstrap_trees: int = 16,
    max_depth: int = 64,
    seed: int = 0,
    params: Sequence[str] | None = None,
) -> pd.DataFrame:
    """FANOVA importance on its raw scale with a percentile-bootstrap interval over the evaluated configurations.

    The point value is :func:`fanova_importance` with ``normalize=False`` on all trials. Each bootstrap
    sample draws as many trials as there are, with replacement, and fits a forest of
    ``bootstrap_trees`` trees to them; the interval holds the middle ``confidence`` of the samples'
    raw importances, so it lies in [0, 1] as they do. The normalised value (shares summing to 1) is
    given beside, without an interval.

    Args:
        records: hpolab trial records or ``(config, value)`` pairs.
        space: The search space the configs come from.
        direction: Only recorded with the Optuna study.
        n_bootstrap: Bootstrap samples (0: no interval; ``low`` and ``high`` are NaN).
        confidence: Level of the interval, in (0, 1).
        n_trees: Trees of the forest of the point value.
        bootstrap_trees: Trees of each bootstrap sample's forest (fewer than ``n_trees`` keeps the
            bootstrap's cost down; Optuna's fANOVA evaluates each tree in Python).
        max_depth: Depth of each tree.
        seed: Seed of the forests and of the resampling.
        params: Hyperparameters to evaluate (default: all that every counted trial has).

    Returns:
        Columns ``param``, ``importance`` (raw), ``low``, ``high`` (raw, the interval), ``normalized``,
        ``n_trials``; most important first.

    Raises:
        ValueError: If fewer than two usable trials are given, or ``n_bootstrap``, ``confidence`` or
            ``bootstrap_trees`` is out of range.
    """
    import numpy as np
    import pandas as pd

    if isinstance(n_bootstrap, bool) or not isinstance(n_bootstrap, int) or n_bootstrap < 0:
        raise ValueError(f"n_bootstrap: {n_bootstrap!r} must be an int >= 0 (0: no interval)")
    if not 0.0 < confidence < 1.0:
        raise ValueError(f"confidence: {confidence} must be in (0, 1), e.g. 0.95")
    if bootstrap_trees < 1:
        raise ValueError(f"bootstrap_trees: {bootstrap_trees} must be at least 1")
    sp = SearchSpace.coerce(space)
    trials = _frozen_trials(records, _distributions(sp))
    if len(trials) < 2:
        raise ValueError(f"records: fANOVA needs at least 2 finished trials with a value; got {len(trials)}")
    how = Direction.coerce(direction).value
    point = _raw_importance(trials, how, n_trees=n_trees, max_depth=max_depth, seed=seed, params=params)
    names = list(point)
    samples = np.full((n_bootstrap, len(names)), np.nan)
    rng = np.random.default_rng(seed)
    for b in range(n_bootstrap):
        pick = rng.integers(0, len(trials), len(trials))
        if len(set(pick.tolist())) < 2:
            continue
        res = _raw_importance(
            [trials[i] for i in pick],
            how,
            n_trees=bootstrap_trees,
            max_depth=max_depth,
            seed=seed + b + 1,
            params=names,
        )
        samples[b] = [res.get(n, 0.0) for n in names]
    alpha = (1.0 - confidence) / 2.0
    usable = samples[~np.isnan(samples).any(axis=1)]
    if len(usable):
        low, high = np.quantile(usable, alpha, axis=0), np.quantile(usable, 1.0 - alpha, axis=0)
    else:
        low = high = np.full(len(names), np.nan)
    norm = normalized(point)
    return pd.DataFrame(
        {
            "param": names,
            "importance": [point[n] for n in names],
            "low": low,
            "high": high,
            "normalized": [norm[n] for n in names],
            "n_trials": len(trials),
        },
        columns=["param", "importance", "low", "high", "normalized", "n_trials"],
    )


def _is_float_dist(dist: Any) -> bool:
    from optuna.distributions import FloatDistribution

    return isinstance(dist, FloatDistribution)


def importance_by_objective(
    df: pd.DataFrame,
    spaces: Mapping[str, SearchSpace] | None = None,
    *,
    optimizers: Sequence[str] | None = None,
    seed: int = 0,
    n_trees: int = 64,
    min_trials: int = 10,
    n_bootstrap: int = 0,
    confidence: float = 0.95,
) -> pd.DataFrame:
    """FANOVA importance per objective, over the trials of all runs pooled.

    Each row is :func:`fanova_intervals`' for one objective: the raw importance (a hyperparameter's
    share of the variance on its own), its bootstrap interval over
    the objective's trials when ``n_bootstrap`` > 0, and the normalised importance (summing to 1).

    Args:
        df: Trial table with a ``config`` column (from :func:`hpolab.benchmark.run`).
        spaces: Search space per objective (default: built from the registry by objective name).
        optimizers: Only use trials of these optimizers (default: all). Random-search trials give the
            least biased estimate; an optimizer's trials concentrate where it searched.
        seed: Seed of the forest.
        n_trees: Trees of the forest.
        min_trials: Objectives with fewer usable trials are skipped (with a log message).
        n_bootstrap: Bootstrap samples per objective for the interval (0: none; ``low`` and ``high`` NaN).
        confidence: Level of the interval.

    Returns:
        Long table: objective, param, importance (raw), low, high, normalized, n_trials (most important
        first per objective).
    """
    import pandas as pd

    from hpolab.registry import make_objective

    if "config" not in df.columns:
        raise ValueError("df: no 'config' column; pass the table from hpolab.benchmark.run / load_results")
    d = df if optimizers is None else df[df["optimizer"].isin(list(optimizers))]
    rows = []
    for obj, g in d.groupby("objective", sort=True):
        name = str(obj)
        g = g[(g["state"] == "COMPLETE") & g["value"].notna()] if "state" in g.columns else g[g["value"].notna()]
        if len(g) < min_trials:
            _logger.info("importance: %s has %d usable trials (< %d); skipped", name, len(g), min_trials)
            continue
        space = spaces.get(name) if spaces is not None else None
        if space is None:
            try:
                space = make_objective(name).search_space
            except Exception as exc:
                _logger.warning("importance: cannot rebuild the search space of %s (%s); skipped", name, exc)
                continue
        pairs = list(zip(g["config"], g["value"].astype(float), strict=True))
        direction = str(g["direction"].iloc[0]) if "direction" in g.columns else "minimize"
        imp = fanova_intervals(
            pairs,
            space,
            direction=direction,
            seed=seed,
            n_trees=n_trees,
            n_bootstrap=n_bootstrap,
            confidence=confidence,
        )
        rows.append(imp.assign(objective=name, n_trials=len(g)))
    columns = ["objective", "param", "importance", "low", "high", "normalized", "n_trials"]
    if not rows:
        return pd.DataFrame(columns=columns)
    return pd.concat(rows, ignore_index=True)[columns]
