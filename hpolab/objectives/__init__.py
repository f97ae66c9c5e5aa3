"""Objectives: what optimizers are run against."""

from __future__ import annotations

from hpolab.objectives.base import Fidelity, FunctionObjective, Objective
from hpolab.objectives.toy import TOY_FUNCTIONS, ToyObjective

__all__ = ["TOY_FUNCTIONS", "Fidelity", "FunctionObjective", "Objective", "ToyObjective"]
