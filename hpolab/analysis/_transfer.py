"""Transfer from a training subset: do hyperparameters tuned on a subset hold on the whole training set?

For every subset condition (``cnn/<dataset>-4block/<condition>``) and seed, the best configuration
the tuner found on the subset (lowest validation error among its trials at the largest budget it
reached) is trained for the full number of epochs on the whole training split and scored on the
held-out test split (``info["test_error"]``, which the four-block CNN objectives compute). Trainings
are cached in a JSON file so a report can be written again without training again.
"""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["CONDITION_ORDER", "best_configs", "transfer_summary", "transfer_table"]

_logger = logging.getLogger("hpolab.analysis.transfer")

#: The training-subset conditions (:data:`hpolab.objectives.cnn.SUBSET_CONDITIONS`) in report order, with row labels.
CONDITION_ORDER: dict[str, str] = {
    "balanced": "Balanced",
    "imbalanced": "imbalanced",
    "imbalanced-cw": "imbalanced & class weighting",
    "imbalanced-aug": "imbalanced & augmentation",
    "imbalanced-cw-aug": "imbalanced & class weighting & augmentation",
    "whole": "whole training set",
}


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
        validation error on the subset), budget (epochs of that trial), n_trials.
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
            }
        )
    return pd.DataFrame(
        rows, columns=["base", "condition", "optimizer", "seed", "config", "subset_error", "budget", "n_trials"]
    )


def _key(base: str, condition: str, seed: int, config: Mapping[str, Any], epochs: int) -> str:
    return json.dumps([base, condition, seed, dict(sorted(config.items())), epochs])


def transfer_table(
    df: pd.DataFrame,
    *,
    epochs: int | None = None,
    cache: str | Path | None = None,
    objective_kwargs: Mapping[str, Any] | None = None,
) -> pd.DataFrame:
    """Train each condition's best configuration on the whole training split; score it on the test split.

    Args:
        df: Trial table with the transfer runs.
        epochs: Epochs of the final training (default: the objectives' full budget, ``max_budget``).
        cache: JSON file of finished trainings (read, then written with the new ones).
        objective_kwargs: Options for the whole-data objective (e.g. ``{"threads": 1}``).

    Returns:
        :func:`best_configs`' columns plus ``test_error``, ``test_accuracy``, ``valid_error`` (of the
        final training) and ``epochs``. Empty when ``df`` has no transfer runs.
    """
    from hpolab.registry import make_objective

    best = best_configs(df)
    if best.empty:
        return best.assign(test_error=[], test_accuracy=[], valid_error=[], epochs=[])
    path = Path(cache) if cache is not None else None
    store: dict[str, dict[str, float]] = {}
    if path is not None and path.exists():
        store = json.loads(path.read_text(encoding="utf-8"))
    objectives: dict[str, Any] = {}
    results: list[dict[str, float]] = []
    full_budget = df.groupby("objective")["max_budget"].max()
    for row in best.itertuples():
        n_epochs = int(
            epochs if epochs is not None else full_budget.get(f"{row.base}/{row.condition}", row.budget)  # type: ignore[arg-type]
        )
        key = _key(str(row.base), str(row.condition), int(row.seed), row.config, n_epochs)  # type: ignore[arg-type]
        if key not in store:
            obj = objectives.get(str(row.base))
            if obj is None:
                kwargs = {"max_epochs": n_epochs, **dict(objective_kwargs or {})}
                obj = objectives[str(row.base)] = make_objective(f"{row.base}/whole", **kwargs)
            _logger.info(
                "transfer: training %s (%s, seed %s) on the whole training split", row.base, row.condition, row.seed
            )
            result = obj.evaluate(row.config, budget=n_epochs, seed=int(row.seed))  # type: ignore[arg-type]
            test_error = (result.info or {}).get("test_error")
            store[key] = {
                "test_error": math.nan if test_error is None else float(test_error),
                "valid_error": math.nan if result.value is None else float(result.value),
                "epochs": float(n_epochs),
            }
            if path is not None:
                path.parent.mkdir(parents=True, exist_ok=True)
                path.write_text(json.dumps(store, indent=1), encoding="utf-8")
        results.append(store[key])
    out = best.copy()
    out["test_error"] = [r["test_error"] for r in results]
    out["test_accuracy"] = 1.0 - out["test_error"]
    out["valid_error"] = [r["valid_error"] for r in results]
    out["epochs"] = [int(r["epochs"]) for r in results]
    return out


def transfer_summary(table: pd.DataFrame, params: Sequence[str] = ()) -> pd.DataFrame:
    """Per base and condition: test accuracy mean with its 95% bootstrap interval over seeds, and the configurations.

    Args:
        table: :func:`transfer_table`'s output.
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
