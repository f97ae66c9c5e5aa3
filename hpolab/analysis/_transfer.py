"""Transfer from a training subset, the tables: which configuration each subset chose, and how it did.

For every subset condition (``cnn/<dataset>-4block/<condition>``) and seed, :func:`best_configs`
picks the best configuration the tuner found on the subset (lowest validation error among its
trials at the largest budget it reached). Training it on the whole training split is the harness's
work (:func:`hpolab.benchmark.transfer_table`, which records each training as a study);
:func:`transfer_summary` sums up the resulting table over seeds.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["BEST_COLUMNS", "CONDITION_ORDER", "best_configs", "transfer_summary"]

#: The training-subset conditions (:data:`hpolab.objectives.cnn.SUBSET_CONDITIONS`) in report order, with row labels.
CONDITION_ORDER: dict[str, str] = {
    "balanced": "Balanced",
    "imbalanced": "imbalanced",
    "imbalanced-cw": "imbalanced & class weighting",
    "imbalanced-aug": "imbalanced & augmentation",
    "imbalanced-cw-aug": "imbalanced & class weighting & augmentation",
    "whole": "whole training set",
}


#: The columns of :func:`best_configs`.
BEST_COLUMNS: tuple[str, ...] = (
    "base",
    "condition",
    "optimizer",
    "seed",
    "config",
    "subset_error",
    "budget",
    "n_trials",
    "trial_id",
)


def _condition(objective: str) -> tuple[str, str] | None:
    """``("cnn/digits-4block", "balanced")`` for ``"cnn/digits-4block/balanced"``, else ``None``."""
    base, sep, condition = objective.rpartition("/")
    if not sep or not base.startswith("cnn/") or condition not in CONDITION_ORDER:
        return None
    return base, condition


def best_configs(df: pd.DataFrame) -> pd.DataFrame:
    """The best configuration per subset condition and seed.

    Args:
        df: Trial table with the transfer runs (objectives ``cnn/<dataset>-4block/<condition>``).

    Returns:
        Columns: base (``cnn/<dataset>-4block``), condition, optimizer, seed, config, subset_error (the
        validation error on the subset), budget (epochs of that trial), n_trials, trial_id (the chosen
        trial's number in its study; ``None`` where the table has none).
    """
    import pandas as pd

    rows: list[dict[str, Any]] = []
    done = df[(df["state"] == "COMPLETE") & df["value"].notna()]
    for (objective, optimizer, seed), g in done.groupby(["objective", "optimizer", "seed"]):
        parsed = _condition(str(objective))
        if parsed is None:
            continue
        budgets = g["budget"].fillna(g["max_budget"])
        top = g[budgets == budgets.max()]
        best = top.loc[top["value"].astype(float).idxmin()]
        config = best["config"]
        if isinstance(config, str):
            config = json.loads(config)
        rows.append(
            {
                "base": parsed[0],
                "condition": parsed[1],
                "optimizer": str(optimizer),
                "seed": int(seed),  # type: ignore[call-overload]
                "config": dict(config),
                "subset_error": float(best["value"]),
                "budget": float(budgets.max()),
                "n_trials": len(g),
                "trial_id": None if pd.isna(best.get("trial_id")) else int(best["trial_id"]),
            }
        )
    return pd.DataFrame(rows, columns=list(BEST_COLUMNS))


def transfer_summary(table: pd.DataFrame, params: Sequence[str] = ()) -> pd.DataFrame:
    """Per base and condition: test accuracy mean with its 95% bootstrap interval over seeds, and the configurations.

    Args:
        table: :func:`best_configs`' rows with the final trainings' ``test_accuracy``
            (:func:`hpolab.benchmark.transfer_table`).
        params: Hyperparameters to list (default: all in the configurations).

    Returns:
        Columns: base, condition, n, accuracy, low, high, subset_accuracy, configs (one dict per seed).
    """
    import pandas as pd

    from hpolab.analysis.stats import bootstrap_interval

    rows = []
    order = list(CONDITION_ORDER)
    for (base, condition), g in table.groupby(["base", "condition"]):
        ci = bootstrap_interval(g["test_accuracy"].to_numpy(dtype=float))
        sub = bootstrap_interval(1.0 - g["subset_error"].to_numpy(dtype=float))
        keys = list(params) or sorted({k for c in g["config"] for k in c})
        rows.append(
            {
                "base": base,
                "condition": condition,
                "n": ci.n,
                "accuracy": ci.mean,
                "low": ci.low,
                "high": ci.high,
                "subset_accuracy": sub.mean,
                "configs": [{k: c.get(k) for k in keys} for c in g.sort_values("seed")["config"]],
            }
        )
    out = pd.DataFrame(
        rows, columns=["base", "condition", "n", "accuracy", "low", "high", "subset_accuracy", "configs"]
    )
    if out.empty:
        return out
    out["_order"] = out["condition"].map(order.index)
    return out.sort_values(["base", "_order"]).drop(columns="_order").reset_index(drop=True)
