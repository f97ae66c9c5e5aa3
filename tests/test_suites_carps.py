"""The offline CARP-S suites: their tasks and budgets are CARP-S's, their plans are well-formed, and they run.

The data is ``yahpo_data`` v1.0.2, through ``HPOLAB_YAHPO_DATA`` or ``../shared/yahpo_data``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

import hpolab.benchmark as suites
import hpolab.benchmark._carps_suites as carps_suites
from hpolab import benchmark

pytest.importorskip("carps", reason='CARP-S is not installed (pip install "hpolab[carps]")')
pytest.importorskip("ioh", reason="ioh (CARP-S's BBOB tasks) is not installed")
pytest.importorskip("onnxruntime", reason='onnxruntime is not installed (pip install "hpolab[yahpo]")')

from _yahpo_data import NO_DATA, yahpo_data_dir

from hpolab.objectives.yahpo import DATA_ENV

DATA = yahpo_data_dir()
pytestmark = pytest.mark.skipif(DATA is None, reason=NO_DATA)


@pytest.fixture(autouse=True)
def data_env(monkeypatch: pytest.MonkeyPatch) -> None:
    assert DATA is not None
    monkeypatch.setenv(DATA_ENV, str(DATA))


def _carps_subset(kind: str) -> dict[str, int]:
    """CARP-S's installed subset YAMLs under ``task/subselection/<kind>``: task name -> n_trials."""
    import carps
    import yaml

    root = Path(carps.__file__).parent / "configs" / "task" / "subselection" / kind
    out = {}
    for path in root.glob("*.yaml"):
        task = yaml.safe_load(path.read_text())["task"]
        out[task["name"]] = int(task["optimization_resources"]["n_trials"])
    return out


def test_bb_suite_tasks_and_budgets_are_carps_blackbox_test_subset() -> None:
    subset = _carps_subset("blackbox/test")
    suite = suites.get_suite("carps-bb-offline")
    assert list(suite.objectives) == list(carps_suites.CARPS_BB_OFFLINE_TRIALS)
    assert len(suite.objectives) == 15
    for objective, task_id in carps_suites.CARPS_BB_TASK_IDS.items():
        assert subset[task_id] == suite.task_trials[objective], objective
    offline = {
        t for t in subset if t.startswith("bbob/") or t.split("/")[1] in ("lcbench", "rbv2_rpart", "rbv2_xgboost")
    }
    assert offline == set(carps_suites.CARPS_BB_TASK_IDS.values())  # every task of those benchmarks, no other


def test_mf_suite_tasks_are_in_carps_multi_fidelity_subsets_with_their_budgets() -> None:
    subsets = {**_carps_subset("multifidelity/dev"), **_carps_subset("multifidelity/test")}
    suite = suites.get_suite("carps-mf-offline")
    for objective, trials in suite.task_trials.items():
        scenario, instance = objective.split("/")[1:]
        fidelity = "epoch" if scenario == "lcbench" else "trainsize"
        name = f"yahpo/{scenario}/{instance}/{fidelity}"
        bb = carps_suites.CARPS_BB_TASK_IDS.get(objective)
        assert subsets.get(name, trials if bb else None) == trials, objective


def test_bb_plan_gives_each_run_its_carps_budget_and_asha_only_where_a_fidelity_exists() -> None:
    plan = suites.plan_runs("carps-bb-offline")
    trials = carps_suites.CARPS_BB_OFFLINE_TRIALS
    by_optimizer: dict[str, set[str]] = {}
    for spec in plan.specs:
        by_optimizer.setdefault(spec.optimizer, set()).add(spec.objective)
        if spec.optimizer_name == "asha":
            top = 52.0 if "lcbench" in spec.objective else 1.0  # epochs; training-set share
            assert (spec.n_trials, spec.max_budget_spent) == (None, trials[spec.objective] * top)
        else:
            assert (spec.n_trials, spec.max_budget_spent) == (trials[spec.objective], None), spec
    assert by_optimizer["asha"] == {o for o in trials if o.startswith("yahpo/")}
    assert all(objs == set(trials) for name, objs in by_optimizer.items() if name != "asha")
    assert {
        "carps-RandomSearch",
        "carps-Optuna-TPE",
        "carps-SMAC3-HPOFacade",
        "carps-SMAC3-BlackBoxFacade",
        "llm-hybrid",
    } <= set(by_optimizer)
    assert {s.seed for s in plan.specs} == set(range(10))
    assert len([line for line in plan.skipped if "no fidelity" in line]) == 8


def test_mf_plan_spends_full_fidelity_evaluations() -> None:
    plan = suites.plan_runs("carps-mf-offline")
    assert plan.skipped == []
    assert {s.optimizer for s in plan.specs} == {"asha", "hyperband", "smac-mf", "asha-llm"}
    for spec in plan.specs:
        top = 52.0 if "lcbench" in spec.objective else 1.0
        assert (
            spec.n_trials is None
            and spec.max_budget_spent == carps_suites.CARPS_MF_OFFLINE_TRIALS[spec.objective] * top
        )


def test_a_trial_limit_given_replaces_the_carps_budgets() -> None:
    suite, specs = benchmark.plan_suite(
        "carps-bb-offline", objectives=["carps/bbob/2/6/1", "yahpo/rbv2_rpart/18"], seeds=1, n_trials=7
    )
    assert suite.task_trials == carps_suites.CARPS_BB_OFFLINE_TRIALS
    assert {(s.n_trials, s.max_budget_spent) for s in specs} == {(7, None)}
    assert {s.objective for s in specs if s.optimizer == "asha"} == {"yahpo/rbv2_rpart/18"}


def test_yahpo_objectives_are_skipped_with_a_line_when_the_data_is_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv(DATA_ENV)
    monkeypatch.setenv("YAHPO_LOCAL_CONFIG", "/nonexistent/yahpo.yaml")
    plan = suites.plan_runs("carps-bb-offline", optimizers=["random"], seeds=1)
    assert {s.objective for s in plan.specs} == {
        o for o in carps_suites.CARPS_BB_OFFLINE_TRIALS if o.startswith("carps/")
    }
    assert any("yahpo/lcbench/167184" in line and DATA_ENV in line for line in plan.skipped)


def test_smoke_one_seed_tiny_budget_of_two_tasks(tmp_path: Path) -> None:
    optimizers = ["random", "tpe", "asha", "carps-RandomSearch", "carps-Optuna-TPE"]
    _, specs = benchmark.plan_suite(
        "carps-bb-offline",
        optimizers=optimizers,
        objectives=["carps/bbob/2/6/1", "yahpo/lcbench/167184"],
        seeds=1,
        n_trials=4,
    )
    assert len(specs) == 2 * 4 + 1  # asha on lcbench only
    storage = f"journal:///{tmp_path / 'r.log'}"
    benchmark.execute(specs, storage, n_jobs=1)
    df = benchmark.load_results(storage)
    assert df.groupby(["optimizer", "objective"]).size().min() == 4
    assert set(df["optimizer"]) == set(optimizers)
    assert df["value"].notna().all()
