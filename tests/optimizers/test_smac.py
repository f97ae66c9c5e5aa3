from __future__ import annotations

import json
import os
from typing import Any, ClassVar

import pytest

pytest.importorskip("smac", reason="SMAC is an optional dependency: pip install 'hpolab[smac]'")

from hpolab.objectives.toy import ToyObjective
from hpolab.optimizers._smac import SMACGP, SMACMF, SMACRF
from hpolab.registry import make_optimizer
from hpolab.space import SearchSpace
from hpolab.testing import OptimizerTestCase, conditional_space, mixed_space, quadratic
from hpolab.trial import TrialResult, TrialState


class TestSMACRFConformance(OptimizerTestCase):
    n_trials = 10
    registry_name = "smac-rf"
    registry_kwargs: ClassVar[dict[str, Any]] = {"n_initial": 4}

    @pytest.fixture
    def factory(self):
        # a small initial design, so the random forest proposes most of the trials
        return lambda space, seed=None, direction="minimize": SMACRF(space, seed=seed, direction=direction, n_initial=4)


@pytest.mark.slow
class TestSMACGPConformance(OptimizerTestCase):
    n_trials = 8
    registry_name = "smac-gp"
    registry_kwargs: ClassVar[dict[str, Any]] = {"n_initial": 4}

    @pytest.fixture
    def factory(self):
        return lambda space, seed=None, direction="minimize": SMACGP(space, seed=seed, direction=direction, n_initial=4)


def _loop(opt, fn, n):
    configs = []
    for _ in range(n):
        t = opt.ask()
        configs.append(t.config)
        opt.tell(t, fn(t.config))
    return configs


def test_nothing_written_to_cwd_and_temp_dir_removed(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    opt = SMACRF(mixed_space(), seed=0, n_initial=3)
    _loop(opt, quadratic, 5)
    tmp = opt._tmpdir
    assert tmp is not None and os.path.isdir(tmp)
    assert list(tmp_path.iterdir()) == []
    del opt
    import gc

    gc.collect()
    assert not os.path.exists(tmp)


def test_configured_output_directory_gets_the_run_history(tmp_path):
    out = tmp_path / "smac-out"
    opt = SMACRF(mixed_space(), seed=0, n_initial=3, output_directory=out)
    _loop(opt, quadratic, 4)
    files = {p.name for p in out.rglob("*.json")}
    assert {"runhistory.json", "scenario.json"} <= files
    history = json.loads(next(out.rglob("runhistory.json")).read_text())
    assert len(history["data"]) == 4


@pytest.mark.slow
def test_rf_model_proposals_improve_on_branin():
    obj = ToyObjective("branin")
    opt = SMACRF(obj.search_space, seed=0, n_trials=30)
    for _ in range(30):
        t = opt.ask()
        opt.tell(t, obj.evaluate(t.config))
    origins = [opt.smac.runhistory.get_config(k.config_id).origin for k in opt.smac.runhistory.keys()]  # noqa: SIM118
    assert any("Acquisition" in (o or "") or "Local" in (o or "") for o in origins), origins
    assert opt.best.value - obj.optimum < 2.0


def test_conditional_space_inactive_params_left_out():
    space = conditional_space()
    opt = SMACRF(space, seed=0, n_initial=4)
    configs = _loop(opt, quadratic, 14)
    assert {("momentum" in c) for c in configs} == {True, False}
    for c in configs:
        assert ("momentum" in c) == (c["opt"] == "sgd")


def test_maximize_is_told_as_negative_cost():
    space = SearchSpace({"x": (0.0, 1.0)})
    opt = SMACRF(space, seed=0, direction="maximize", n_initial=3)
    t = opt.ask()
    opt.tell(t, 5.0)
    costs = [v.cost for v in opt.smac.runhistory.values()]
    assert costs == [-5.0]


def test_failed_pruned_and_observed_trials():
    from smac.runhistory.enumerations import StatusType

    space = mixed_space()
    opt = SMACRF(space, seed=0, n_initial=3)
    opt.observe(space.default(), 3.0)  # before any ask: fixes SMAC's seed for all trials
    first = opt.ask()
    opt.tell(first, TrialResult.fail("boom"))
    second = opt.ask()
    opt.tell(second, TrialResult(7.0, state=TrialState.PRUNED))
    third = opt.ask()
    opt.tell(third, 1.0)
    opt.observe(space.default() | {"x": 1.0}, 0.5)  # after asks: same seed as the asked trials
    runs = list(opt.smac.runhistory.items())
    statuses = [v.status for _, v in runs]
    assert statuses == [
        StatusType.SUCCESS,
        StatusType.CRASHED,
        StatusType.TIMEOUT,
        StatusType.SUCCESS,
        StatusType.SUCCESS,
    ]
    assert runs[1][1].cost == 3.0  # a crash costs the worst value seen so far
    assert len({k.seed for k, _ in runs}) == 1
    for _ in range(6):  # the model trains on all of it
        t = opt.ask()
        opt.tell(t, quadratic(t.config))


def test_fail_before_any_value_waits_for_a_cost_to_impute():
    from smac.runhistory.enumerations import StatusType

    opt = SMACRF(mixed_space(), seed=0, n_initial=2)
    opt.tell(opt.ask(), None)
    assert [v.status for v in opt.smac.runhistory.values()] == [StatusType.RUNNING]
    opt.tell(opt.ask(), 4.0)
    assert [(v.status, v.cost) for v in opt.smac.runhistory.values()] == [
        (StatusType.CRASHED, 4.0),
        (StatusType.SUCCESS, 4.0),
    ]


def test_scenario_n_trials_from_the_study_context():
    opt = SMACRF(mixed_space(), seed=0)
    opt.set_context(n_trials=20)
    opt.ask()
    assert opt.smac.scenario.n_trials == 20
    assert opt.smac.scenario.seed == 0 and opt.smac.scenario.deterministic


def test_multi_fidelity_facade_passes_budgets():
    obj = ToyObjective("branin", multi_fidelity=True)
    opt = SMACMF(obj.search_space, seed=0)
    opt.set_context(n_trials=20, fidelity=obj.fidelity)
    budgets = []
    for _ in range(20):
        t = opt.ask()
        budgets.append(t.budget)
        opt.tell(t, obj.evaluate(t.config, t.budget))
    assert len(set(budgets)) >= 2 and max(budgets) == 16.0 and min(budgets) >= 1.0
    assert {k.budget for k in opt.smac.runhistory.keys()} == set(budgets)  # noqa: SIM118


def test_multi_fidelity_needs_budgets():
    opt = SMACMF(mixed_space(), seed=0)
    with pytest.raises(ValueError, match="budgets"):
        opt.ask()
    with pytest.raises(ValueError, match="single-fidelity"):
        SMACRF(mixed_space(), min_budget=1, max_budget=4)


def test_state_round_trip_multi_fidelity():
    obj = ToyObjective("branin", multi_fidelity=True)
    opt = SMACMF(obj.search_space, seed=4, min_budget=1, max_budget=16)
    for _ in range(6):
        t = opt.ask()
        opt.tell(t, obj.evaluate(t.config, t.budget))
    fresh = SMACMF(obj.search_space, seed=4, min_budget=1, max_budget=16)
    fresh.load_state_dict(json.loads(json.dumps(opt.state_dict())))
    a, b = opt.ask(), fresh.ask()
    assert (a.config, a.budget) == (b.config, b.budget)


def test_registry_names():
    space = mixed_space()
    assert isinstance(make_optimizer("smac-rf", space, seed=0), SMACRF)
    assert isinstance(make_optimizer("smac-gp", space, seed=0), SMACGP)
    assert make_optimizer("smac-gp", space, seed=0).meta["params"]["facade"] == "blackbox"


@pytest.mark.slow
def test_gp_learns_on_branin():
    obj = ToyObjective("branin")
    opt = SMACGP(obj.search_space, seed=0, n_trials=25)
    for _ in range(25):
        t = opt.ask()
        opt.tell(t, obj.evaluate(t.config))
    assert opt.best.value - obj.optimum < 1.0


def _final_regrets(name: str, function: str, n_trials: int, seeds: int = 10) -> list[float]:
    from hpolab.registry import make_objective

    obj = make_objective(f"toy/{function}")
    out = []
    for seed in range(seeds):
        opt = make_optimizer(name, obj.search_space, seed=seed)
        opt.set_context(n_trials=n_trials)  # as a Study does: sizes SMAC's initial design
        for _ in range(n_trials):
            t = opt.ask()
            opt.tell(t, obj.evaluate(t.config))
        out.append(opt.best.value - obj.optimum)
    return out


@pytest.mark.slow
def test_smac_rf_reaches_lower_regret_than_random():
    """The setting of benchmarks/toy_regret.py on two functions: 10 seeds, 50 trials, paired test."""
    import math

    from scipy.stats import wilcoxon

    ours, theirs = [], []
    for function in ("branin", "himmelblau"):
        a = _final_regrets("smac-rf", function, 50)
        b = _final_regrets("random", function, 50)
        assert sum(a) < 0.5 * sum(b), (function, a, b)
        ours += a
        theirs += b
    p = wilcoxon([math.log(x) for x in ours], [math.log(x) for x in theirs], alternative="less").pvalue
    assert p < 0.01, (p, ours, theirs)


def test_forest_prediction_threads_do_not_change_the_configs():
    # n_jobs only sets how many threads SMAC's forest predicts with: one thread (hpolab's default) and
    # SMAC's own -1 give the same configurations; the forest proposes from trial 5 on (n_initial=4).
    obj = ToyObjective("branin")
    one = SMACRF(obj.search_space, seed=3, n_initial=4)
    every_core = SMACRF(obj.search_space, seed=3, n_initial=4, n_jobs=None)
    assert _loop(one, obj.true_value, 12) == _loop(every_core, obj.true_value, 12)
    assert one.smac._model._rf_opts["n_jobs"] == 1 and every_core.smac._model._rf_opts["n_jobs"] == -1
    assert one.meta["params"]["n_jobs"] == 1
    for bad in (0, -2, 1.5, True):
        with pytest.raises(ValueError, match="n_jobs"):
            SMACRF(obj.search_space, n_jobs=bad)


def test_a_changed_smac_internal_fails_loudly():
    from types import SimpleNamespace

    from hpolab.optimizers import OptimizerError
    from hpolab.optimizers._smac import _fix_local_search_order, _forest_model

    with pytest.raises(OptimizerError, match=r"LocalSearch\._get_initial_points .*pip install \"smac>=2\.2,<2\.5\""):
        _fix_local_search_order(SimpleNamespace(_acquisition_maximizer=SimpleNamespace()))
    facade = SimpleNamespace(get_model=lambda scenario: SimpleNamespace())
    with pytest.raises(OptimizerError, match="_rf_opts"):
        _forest_model(facade, None, 1)
    assert _forest_model(facade, None, None) is not None  # n_jobs=None keeps SMAC's own model untouched
