"""The Optimizer ABC, the classic backends and the multi-source Hybrid.

Heavy backends (TPE, SMAC) import their library lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from hpolab.optimizers._base import Ledger, Optimizer, OptimizerError, Proposal, SearchExhausted
from hpolab.optimizers._grid import GridSearch
from hpolab.optimizers._random import RandomSearch

if TYPE_CHECKING:
    from hpolab.optimizers._asha import ASHA, Hyperband
    from hpolab.optimizers._cmaes import CmaEs
    from hpolab.optimizers._hybrid import (
        AdaptiveBandit,
        AllocationPolicy,
        FixedSchedule,
        FixedShare,
        Hybrid,
        SourceStats,
    )
    from hpolab.optimizers._optuna import TPE
    from hpolab.optimizers._portfolio import Portfolio
    from hpolab.optimizers._smac import SMAC, SMACGP, SMACMF, SMACRF

__all__ = [
    "ASHA",
    "SMAC",
    "SMACGP",
    "SMACMF",
    "SMACRF",
    "TPE",
    "AdaptiveBandit",
    "AllocationPolicy",
    "CmaEs",
    "FixedSchedule",
    "FixedShare",
    "GridSearch",
    "Hybrid",
    "Hyperband",
    "Ledger",
    "Optimizer",
    "OptimizerError",
    "Portfolio",
    "Proposal",
    "RandomSearch",
    "SearchExhausted",
    "SourceStats",
]

# name -> module; imported on first access so `import hpolab` stays light
_LAZY = {
    "ASHA": "hpolab.optimizers._asha",
    "Hyperband": "hpolab.optimizers._asha",
    "TPE": "hpolab.optimizers._optuna",
    "CmaEs": "hpolab.optimizers._cmaes",
    "Portfolio": "hpolab.optimizers._portfolio",
    **dict.fromkeys(
        ("AdaptiveBandit", "AllocationPolicy", "FixedSchedule", "FixedShare", "Hybrid", "SourceStats"),
        "hpolab.optimizers._hybrid",
    ),
    "SMAC": "hpolab.optimizers._smac",
    "SMACGP": "hpolab.optimizers._smac",
    "SMACMF": "hpolab.optimizers._smac",
    "SMACRF": "hpolab.optimizers._smac",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'hpolab.optimizers' has no attribute {name!r}")
    import importlib

    return getattr(importlib.import_module(module), name)
