"""Integrations with other HPO libraries.

``hpolab.integrations.optuna.HpolabSampler`` runs any hpolab optimizer inside an ordinary Optuna
study. Submodules are imported on use, so ``import hpolab`` never imports Optuna.
"""

from __future__ import annotations

from typing import Any

__all__ = ["HpolabSampler"]


def __getattr__(name: str) -> Any:
    if name == "HpolabSampler":
        from hpolab.integrations.optuna import HpolabSampler

        return HpolabSampler
    raise AttributeError(f"module 'hpolab.integrations' has no attribute {name!r}")
