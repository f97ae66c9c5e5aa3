"""hpolab: classic and LLM-driven hyperparameter optimizers behind one ask/tell interface.

Importing hpolab stays light: torch, transformers, smac, openai, llama_cpp, matplotlib, sklearn
and xgboost are imported only when a backend or objective that needs them is used.
"""

from __future__ import annotations

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
from hpolab.storage import InMemoryStorage, SQLStorage, Storage, StorageError, get_storage
from hpolab.study import Study, create_study, load_study, optimize
from hpolab.trial import Direction, Trial, TrialRecord, TrialResult, TrialState

__version__ = "0.1.0"

__all__ = [
    "Direction",
    "Fidelity",
    "FunctionObjective",
    "GridSearch",
    "InMemoryStorage",
    "InvalidConfigError",
    "InvalidSpaceError",
    "Objective",
    "Optimizer",
    "OptimizerError",
    "Proposal",
    "RandomSearch",
    "SearchExhausted",
    "SQLStorage",
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
