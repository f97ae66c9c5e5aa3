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
from hpolab.trial import Direction, Trial, TrialRecord, TrialResult, TrialState

__version__ = "0.1.0"

__all__ = [
    "Direction",
    "Fidelity",
    "FunctionObjective",
    "GridSearch",
    "InvalidConfigError",
    "InvalidSpaceError",
    "Objective",
    "Optimizer",
    "OptimizerError",
    "Proposal",
    "RandomSearch",
    "SearchExhausted",
    "SearchSpace",
    "Trial",
    "TrialRecord",
    "TrialResult",
    "TrialState",
    "UnknownNameError",
    "__version__",
    "list_objectives",
    "list_optimizers",
    "make_objective",
    "make_optimizer",
    "register_objective",
    "register_optimizer",
]
