"""Classic optimizer backends. Heavy ones (TPE, SMAC) import their library lazily."""

from __future__ import annotations

from hpolab.optimizers._grid import GridSearch
from hpolab.optimizers._random import RandomSearch

__all__ = ["GridSearch", "RandomSearch"]
