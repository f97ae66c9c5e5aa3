"""The trial table: the columns of the one-row-per-trial frame the harness writes and the analysis reads.

:func:`hpolab.benchmark.run` and :func:`hpolab.benchmark.load_results` build it; every function in
:mod:`hpolab.analysis` reads it. Both import its names from here, so the analysis needs nothing from the
harness.
"""

from __future__ import annotations

__all__ = ["COLUMNS", "POOL_LABEL"]

#: Columns of the trial table, in order.
COLUMNS: tuple[str, ...] = (
    "optimizer",
    "objective",
    "seed",
    "optimizer_seed",
    "trial",
    "trial_id",
    "state",
    "value",
    "true_value",
    "regret",
    "direction",
    "budget",
    "max_budget",
    "runtime",
    "wall_time",
    "prompt_tokens",
    "completion_tokens",
    "llm_latency",
    "llm_calls",
    "llm_cost",
    "llm_outcome",
    "source",
    "config",
    "error",
)

#: Optimizer label of the random pool: many random trials per objective that the bootstrap baseline of
#: Table 1 resamples; the analysis keeps these rows out of the methods it compares.
POOL_LABEL = "random-pool"
