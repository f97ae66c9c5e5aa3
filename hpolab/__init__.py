"""hpolab: classic and LLM-driven hyperparameter optimizers behind one ask/tell interface.

Importing hpolab stays light: every public name is imported on first access, and torch, transformers,
smac, openai, llama_cpp, matplotlib, sklearn and xgboost only when a backend or objective that needs
them is used.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hpolab.exceptions import (
        HpolabError,
        InvalidConfigError,
        InvalidSpaceError,
        OptimizerError,
        SearchExhausted,
        StorageError,
        UnknownNameError,
    )
    from hpolab.objectives.base import Fidelity, FunctionObjective, Objective
    from hpolab.optimizers import (
        ASHA,
        SMACGP,
        SMACMF,
        SMACRF,
        TPE,
        GridSearch,
        Hyperband,
        Optimizer,
        Portfolio,
        Proposal,
        RandomSearch,
    )
    from hpolab.registry import (
        list_objectives,
        list_optimizers,
        make_objective,
        make_optimizer,
        register_objective,
        register_optimizer,
    )
    from hpolab.space import SearchSpace
    from hpolab.storage import Storage, get_storage
    from hpolab.study import Study, create_study, load_study, optimize
    from hpolab.trial import Direction, Trial, TrialRecord, TrialResult, TrialState

__version__ = "0.1.0"

#: Module of each public name. A name is imported on first access, so ``import hpolab.analysis.metrics``
#: (or any other submodule) loads only what that submodule needs.
_HOMES: dict[str, str] = {
    **dict.fromkeys(
        (
            "HpolabError",
            "InvalidConfigError",
            "InvalidSpaceError",
            "OptimizerError",
            "SearchExhausted",
            "StorageError",
            "UnknownNameError",
        ),
        "hpolab.exceptions",
    ),
    **dict.fromkeys(("Fidelity", "FunctionObjective", "Objective"), "hpolab.objectives.base"),
    **dict.fromkeys(("Optimizer", "Proposal"), "hpolab.optimizers"),
    **dict.fromkeys(
        ("ASHA", "SMACGP", "SMACMF", "SMACRF", "TPE", "GridSearch", "Hyperband", "Portfolio", "RandomSearch"),
        "hpolab.optimizers",
    ),
    **dict.fromkeys(
        (
            "list_objectives",
            "list_optimizers",
            "make_objective",
            "make_optimizer",
            "register_objective",
            "register_optimizer",
        ),
        "hpolab.registry",
    ),
    "SearchSpace": "hpolab.space",
    **dict.fromkeys(("Storage", "get_storage"), "hpolab.storage"),
    **dict.fromkeys(("Study", "create_study", "load_study", "optimize"), "hpolab.study"),
    **dict.fromkeys(("Direction", "Trial", "TrialRecord", "TrialResult", "TrialState"), "hpolab.trial"),
}

#: Subpackages that ``hpolab.<name>`` reaches after a bare ``import hpolab``.
_SUBPACKAGES = frozenset(
    (
        "analysis",
        "benchmark",
        "exceptions",
        "integrations",
        "llm",
        "objectives",
        "optimizers",
        "records",
        "registry",
        "space",
        "storage",
        "study",
        "testing",
        "trial",
    )
)


def __getattr__(name: str) -> Any:
    """A public name or a subpackage, imported on first access."""
    home = _HOMES.get(name)
    if home is not None:
        value = getattr(importlib.import_module(home), name)
        globals()[name] = value
        return value
    if name in _SUBPACKAGES:
        return importlib.import_module(f"hpolab.{name}")
    raise AttributeError(f"module 'hpolab' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__, *_SUBPACKAGES})


__all__ = [
    "ASHA",
    "SMACGP",
    "SMACMF",
    "SMACRF",
    "TPE",
    "Direction",
    "Fidelity",
    "FunctionObjective",
    "GridSearch",
    "Hyperband",
    "HpolabError",
    "InvalidConfigError",
    "InvalidSpaceError",
    "Objective",
    "Optimizer",
    "OptimizerError",
    "Portfolio",
    "Proposal",
    "RandomSearch",
    "SearchExhausted",
    "SearchSpace",
    "Storage",
    "StorageError",
    "Study",
    "Trial",
    "TrialRecord",
    "TrialResult",
    "TrialState",
    "UnknownNameError",
    "__version__",
    "create_study",
    "get_storage",
    "list_objectives",
    "list_optimizers",
    "load_study",
    "make_objective",
    "make_optimizer",
    "optimize",
    "register_objective",
    "register_optimizer",
]
