"""Analysis of optimizer comparisons: metrics, fANOVA importance, plots and reports.

Metrics need only numpy, scipy and pandas; :mod:`stats <hpolab.analysis.stats>` holds the intervals,
tests, ranks and random search's baseline they use; :mod:`plots <hpolab.analysis.plots>` needs matplotlib
(``pip install "hpolab[plots]"``) and is imported when a plot function is called.
"""

from __future__ import annotations

from typing import Any

from hpolab.analysis._transfer import transfer_summary
from hpolab.analysis.metrics import (
    aggregate_curves,
    aggregate_table,
    best_so_far,
    budget_curves,
    budget_spent,
    final_losses,
    final_rows,
    losses,
    random_pools,
    rank_over_trials,
    regret_curves,
    relative_change,
    rmse_summary,
    rmse_table,
    table1,
    table1_tasks,
    task_losses,
    win_probabilities,
)
from hpolab.analysis.stats import (
    BootstrapEstimate,
    MeanCI,
    RMSEResult,
    bootstrap_best_of,
    expected_best_of,
    mean_ci,
    mean_rank,
    rank_matrix,
    rmse_ci,
)

__all__ = [
    "BootstrapEstimate",
    "MeanCI",
    "RMSEResult",
    "aggregate_curves",
    "aggregate_table",
    "best_so_far",
    "bootstrap_best_of",
    "budget_curves",
    "budget_spent",
    "expected_best_of",
    "final_losses",
    "final_rows",
    "losses",
    "mean_ci",
    "mean_rank",
    "random_pools",
    "rank_matrix",
    "rank_over_trials",
    "regret_curves",
    "relative_change",
    "rmse_ci",
    "rmse_summary",
    "rmse_table",
    "table1",
    "table1_tasks",
    "task_losses",
    "transfer_summary",
    "win_probabilities",
]

#: Names that left this package, and where they are now.
_MOVED: dict[str, str] = {
    "transfer_table": "hpolab.benchmark.transfer_table (it trains models, and records each training as a study "
    "in the results' storage: transfer_table(df, storage))",
}


def __getattr__(name: str) -> Any:
    """Say where a name that moved out of the analysis layer lives now."""
    if name in _MOVED:
        raise AttributeError(f"hpolab.analysis.{name} moved to {_MOVED[name]}")
    raise AttributeError(f"module 'hpolab.analysis' has no attribute {name!r}")
