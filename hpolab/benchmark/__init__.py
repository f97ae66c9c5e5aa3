"""The benchmark harness: plan a grid of optimizers x objectives x seeds, run it resumably, read the results.

Every run is a :class:`hpolab.Study` named ``"{optimizer}|{objective}|{seed}"`` in one storage.
:func:`plan` / :func:`plan_suite` build the runs, :func:`execute` / :func:`run` run them (a rerun
skips finished runs and continues partial ones), :func:`load_results` reads the trial table back.
:data:`SUITES` names the comparisons ``hpolab compare --suite`` runs: the quick suite, the papers'
suites (:mod:`hpolab.benchmark.papers`) and CARP-S's offline subsets.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from hpolab._table import COLUMNS, POOL_LABEL
from hpolab.benchmark._execute import DEFAULT_STORAGE, execute, run
from hpolab.benchmark._plan import (
    SEED_SCHEME,
    SEED_SCHEMES,
    RunSpec,
    expand_objectives,
    optimizer_seed,
    plan,
    with_llm,
)
from hpolab.benchmark._results import (
    load_results,
    open_results,
    results_storage,
    run_key,
    run_keys,
    seed_note,
    select_runs,
    storage_seed_schemes,
    study_contexts,
)
from hpolab.benchmark._transfer import transfer_study_name, transfer_table

if TYPE_CHECKING:
    from hpolab.benchmark._suite import Suite, SuitePart, SuitePlan, missing_requirement
    from hpolab.benchmark._suites import SUITES, get_suite, plan_runs, plan_suite, suite_of
    from hpolab.benchmark.papers import section_paper, write_suite_report

__all__ = [
    "COLUMNS",
    "DEFAULT_STORAGE",
    "POOL_LABEL",
    "SEED_SCHEME",
    "SEED_SCHEMES",
    "SUITES",
    "RunSpec",
    "Suite",
    "SuitePart",
    "SuitePlan",
    "execute",
    "expand_objectives",
    "get_suite",
    "load_results",
    "open_results",
    "missing_requirement",
    "optimizer_seed",
    "plan",
    "plan_runs",
    "plan_suite",
    "results_storage",
    "run",
    "run_key",
    "run_keys",
    "section_paper",
    "seed_note",
    "select_runs",
    "storage_seed_schemes",
    "study_contexts",
    "suite_of",
    "transfer_study_name",
    "transfer_table",
    "with_llm",
    "write_suite_report",
]

#: Where the suite names live: imported on first use, since the suites build objectives' names and data
#: tables that the harness alone does not need.
_LAZY: dict[str, str] = {
    **dict.fromkeys(("Suite", "SuitePart", "SuitePlan", "missing_requirement"), "hpolab.benchmark._suite"),
    **dict.fromkeys(("SUITES", "get_suite", "plan_runs", "plan_suite", "suite_of"), "hpolab.benchmark._suites"),
    **dict.fromkeys(("section_paper", "write_suite_report"), "hpolab.benchmark.papers"),
}


def __getattr__(name: str) -> Any:
    """A suite name, imported on first access."""
    home = _LAZY.get(name)
    if home is None:
        raise AttributeError(f"module 'hpolab.benchmark' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value
