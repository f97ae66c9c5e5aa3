"""Objectives: what optimizers are run against. Heavy libraries are imported only on evaluation."""

from __future__ import annotations

from hpolab.objectives.base import Fidelity, FunctionObjective, Objective
from hpolab.objectives.cnn import CNNObjective
from hpolab.objectives.datasets import DatasetUnavailableError, load_images, load_tabular
from hpolab.objectives.hpobench import HPOBenchObjective
from hpolab.objectives.ml import MLObjective
from hpolab.objectives.tabular import TabularObjective
from hpolab.objectives.toy import TOY_FUNCTIONS, ToyObjective
from hpolab.objectives.twin import TwinObjective
from hpolab.objectives.yahpo import YAHPOObjective

__all__ = [
    "TOY_FUNCTIONS",
    "CNNObjective",
    "DatasetUnavailableError",
    "Fidelity",
    "FunctionObjective",
    "HPOBenchObjective",
    "MLObjective",
    "Objective",
    "TabularObjective",
    "ToyObjective",
    "TwinObjective",
    "YAHPOObjective",
    "load_images",
    "load_tabular",
]
