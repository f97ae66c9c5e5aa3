"""Every study names its metric in Optuna's storage, so optuna-dashboard shows it instead of "Objective 0"."""

from __future__ import annotations

from pathlib import Path

import optuna
import pytest

import hpolab
from hpolab.objectives import FunctionObjective


def _square(config: dict[str, float]) -> float:
    return config["x"] ** 2


@pytest.mark.parametrize("scheme", ["sqlite", "journal"])
def test_study_names_the_objectives_metric(tmp_path: Path, scheme: str) -> None:
    url = f"sqlite:///{tmp_path / 'runs.db'}" if scheme == "sqlite" else f"journal:///{tmp_path / 'runs.log'}"
    named = FunctionObjective(_square, {"x": (-1.0, 1.0)}, name="square", metric_name="validation loss")
    hpolab.create_study(named, "random", storage=url, study_name="named", seed=0).optimize(n_trials=2)
    hpolab.create_study("toy/branin", "random", storage=url, study_name="toy", seed=0)
    storage = hpolab.get_storage(url).backend
    assert optuna.load_study(study_name="named", storage=storage).metric_names == ["validation loss"]
    assert optuna.load_study(study_name="toy", storage=storage).metric_names == ["objective value"]


def test_objective_subclass_sets_its_metric_name() -> None:
    class Loss(FunctionObjective):
        metric_name = "regret"

    study = hpolab.create_study(Loss(_square, {"x": (-1.0, 1.0)}), "random")
    assert optuna.load_study(study_name=study.study_name, storage=study.storage.backend).metric_names == ["regret"]
    assert FunctionObjective(_square, {"x": (-1.0, 1.0)}).metric_name == "objective value"
