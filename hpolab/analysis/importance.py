"""fANOVA hyperparameter importance (seed 004), computed by Optuna's FanovaImportanceEvaluator.

hpolab does not carry its own random forest: the finished trials are turned into Optuna
``FrozenTrial`` objects over the search space's Optuna distributions and handed to
:class:`optuna.importance.FanovaImportanceEvaluator` (Hutter et al.'s functional ANOVA on a random
forest, the maintained implementation). Numeric ordinal hyperparameters (e.g. the HPOBench grids)
are given to it as numbers, on a log scale when all values are positive and span more than two
decades, so the forest can split on their order; other ordinals and categoricals stay categorical.
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

__all__ = ["fanova_importance", "importance_by_objective"]

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
        normalize: Scale the importances to sum to 1.
        params: Hyperparameters to evaluate (default: all that every counted trial has).

    Returns:
        ``{name: importance}``, most important first.

    Raises:
        ValueError: If fewer than two usable trials are given.
    """
    import optuna
    from optuna.importance import FanovaImportanceEvaluator, get_param_importances

    sp = SearchSpace.coerce(space)
    dists = _distributions(sp)
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
    if len(trials) < 2:
        raise ValueError(f"records: fANOVA needs at least 2 finished trials with a value; got {len(trials)}")
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    try:
        study = optuna.create_study(direction=Direction.coerce(direction).value)
        study.add_trials(trials)
        evaluator = FanovaImportanceEvaluator(n_trees=n_trees, max_depth=max_depth, seed=seed)
        result = get_param_importances(
            study, evaluator=evaluator, params=list(params) if params is not None else None, normalize=normalize
        )
    finally:
        optuna.logging.set_verbosity(verbosity)
    return {str(k): float(v) for k, v in result.items()}


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
) -> pd.DataFrame:
    """FANOVA importance per objective, over the trials of all runs (as seed 004 pools its runs).

    Args:
        df: Trial table with a ``config`` column (from :func:`hpolab.benchmarking.run`).
        spaces: Search space per objective (default: built from the registry by objective name).
        optimizers: Only use trials of these optimizers (default: all). Random-search trials give the
            least biased estimate; an optimizer's trials concentrate where it searched.
        seed: Seed of the forest.
        n_trees: Trees of the forest.
        min_trials: Objectives with fewer usable trials are skipped (with a log message).

    Returns:
        Long table: objective, param, importance, n_trials (most important first per objective).
    """
    import pandas as pd

    from hpolab.registry import make_objective

    if "config" not in df.columns:
        raise ValueError("df: no 'config' column; pass the table from hpolab.benchmarking.run / load_results")
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
        imp = fanova_importance(pairs, space, direction=direction, seed=seed, n_trees=n_trees)
        for param, value in imp.items():
            rows.append({"objective": name, "param": param, "importance": value, "n_trials": len(g)})
    return pd.DataFrame(rows, columns=["objective", "param", "importance", "n_trials"])
