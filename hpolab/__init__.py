"""hpolab: classic and LLM-driven hyperparameter optimizers behind one ask/tell interface.

Importing hpolab stays light: torch, transformers, smac, openai, llama_cpp, matplotlib, sklearn
and xgboost are imported only when a backend or objective that needs them is used.
"""

from __future__ import annotations

from typing import Any

from hpolab._errors import HpolabError
from hpolab.objectives.base import Fidelity, FunctionObjective, Objective
from hpolab.optimizer import Optimizer, OptimizerError, Proposal, SearchExhausted
from hpolab.optimizers import GridSearch, RandomSearch
from hpolab.registry import (
    UnknownNameError,
    list_objectives,
    list_optimizers,
    make_objective,
    make_optimizer,
    register_objective,
    register_optimizer,
)
from hpolab.space import InvalidConfigError, InvalidSpaceError, SearchSpace
from hpolab.storage import Storage, StorageError, get_storage
from hpolab.study import Study, create_study, load_study, optimize
from hpolab.trial import Direction, Trial, TrialRecord, TrialResult, TrialState

__version__ = "0.1.0"


def __getattr__(name: str) -> Any:
    """Optimizers whose modules import optional libraries are loaded on first access (hpolab.optimizers' table)."""
    from hpolab import optimizers

    if name in __all__ and name in optimizers.__all__:
        return getattr(optimizers, name)
    raise AttributeError(f"module 'hpolab' has no attribute {name!r}")


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
