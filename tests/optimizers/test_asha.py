from __future__ import annotations

import json
import math

import pytest

import hpolab
from hpolab.optimizers._asha import ASHA, Hyperband, rung_budgets
from hpolab.optimizers._optuna import TPE
from hpolab.optimizers._random import RandomSearch
from hpolab.registry import make_optimizer
from hpolab.testing import OptimizerTestCase, mixed_space, quadratic
from hpolab.trial import TrialResult, TrialState


class TestASHARandomConformance(OptimizerTestCase):
    registry_name = "asha"

    @pytest.fixture
    def factory(self):
        return lambda space, seed=None, direction="minimize": ASHA(space, seed=seed, direction=direction)


class TestASHATPEConformance(OptimizerTestCase):
    n_trials = 16

    @pytest.fixture
    def factory(self):
        return lambda space, seed=None, direction="minimize": ASHA(
            space, seed=seed, direction=direction, base="tpe", base_kwargs={"n_startup_trials": 4}
        )


class TestHyperbandConformance(OptimizerTestCase):
    registry_name = "hyperband"

    @pytest.fixture
    def factory(self):
        return lambda space, seed=None, direction="minimize": Hyperband(space, seed=seed, direction=direction)


def test_rung_budgets():
    assert rung_budgets(1, 16, 4) == [1.0, 4.0, 16.0]
    assert rung_budgets(1, 27, 3) == [1.0, 3.0, 9.0, 27.0]
    assert rung_budgets(1, 10, 3) == [1.0, 3.0, 10.0]  # the top rung is always the full budget
    assert rung_budgets(2, 2, 3) == [2.0]
    with pytest.raises(ValueError, match="eta"):
        rung_budgets(1, 16, 1)
    with pytest.raises(ValueError, match="min_budget"):
        rung_budgets(0, 16, 4)


def _reference_job(rungs, promoted, eta, top):
    """The successive-halving rule of ASHA (Li et al. 2020, Algorithm 2), written independently."""
    for k in reversed(range(top)):
        results = rungs[k]
        ranked = sorted(results, key=lambda item: (item[1], item[2]))  # value, then arrival order
        for cid, value, _ in ranked[: len(results) // eta]:
            if math.isfinite(value) and cid not in promoted[k]:
                return cid, k + 1
    return None


@pytest.mark.parametrize("fail_every", [0, 5])
def test_promotions_follow_successive_halving_on_branin_mf(fail_every):
    obj = hpolab.make_objective("toy/branin-mf")
    opt = ASHA(obj.search_space, seed=0, min_budget=1, max_budget=16, eta=4)
    budgets = [1.0, 4.0, 16.0]
    rungs = {k: [] for k in range(3)}
    promoted = {k: set() for k in range(3)}
    configs = {}
    spent = 0.0
    for step in range(85):
        expected = _reference_job(rungs, promoted, 4, 2)
        trial = opt.ask()
        meta = trial.metadata["asha"]
        if expected is None:
            assert "base_trial" in meta and meta["rung"] == 0 and trial.budget == 1.0
            configs[meta["config_id"]] = trial.config
        else:
            cid, rung = expected
            assert (meta["config_id"], meta["rung"]) == (cid, rung), f"step {step}"
            assert trial.config == configs[cid] and trial.budget == budgets[rung]
            promoted[rung - 1].add(cid)
        if fail_every and step % fail_every == 3:
            result = TrialResult.fail("diverged")
            value = math.inf
        else:
            result = obj.evaluate(trial.config, trial.budget)
            value = result.value
        rungs[meta["rung"]].append((meta["config_id"], value, step))
        opt.tell(trial, result)
        spent += trial.budget
    sizes = [len(rungs[k]) for k in range(3)]
    table = opt.rung_table()
    assert [row["n_results"] for row in table] == sizes
    assert [row["n_promoted"] for row in table] == [len(promoted[0]), len(promoted[1]), 0]
    # each promotion was checked above against the rule at the moment it happened; over time ASHA
    # may promote more than floor(n_k / eta) (a promoted config can drop out of the top later)
    assert sizes[1] == len(promoted[0]) and sizes[2] == len(promoted[1]) > 0
    assert opt.budget_spent == spent == sum(r.trial.budget for r in opt.history)


def test_first_cycle_rung_sizes_and_budget():
    """16 new configs at r=1, 4 promoted to 4, 1 to R=16: 21 trials, 16 + 16 + 16 = 48 budget."""
    obj = hpolab.make_objective("toy/branin-mf")
    opt = ASHA(obj.search_space, seed=1)
    for _ in range(21):
        t = opt.ask()
        opt.tell(t, obj.evaluate(t.config, t.budget))
    assert [(r["n_results"], r["n_promoted"]) for r in opt.rung_table()] == [(16, 4), (4, 1), (1, 0)]
    assert opt.budget_spent == 48.0
    top = [r for r in opt.history if r.trial.budget == 16.0]
    assert len(top) == 1
    rung1 = [r for r in opt.history if r.trial.budget == 4.0]
    assert top[0].config == min(rung1, key=lambda r: r.value).config


def test_base_is_told_only_first_rung_results():
    obj = hpolab.make_objective("toy/branin-mf")
    base = RandomSearch(obj.search_space, seed=0)
    opt = ASHA(obj.search_space, seed=0, base=base)
    for _ in range(42):
        t = opt.ask()
        opt.tell(t, obj.evaluate(t.config, t.budget))
    first_rung = [r for r in opt.history if r.trial.budget == 1.0]
    assert len(base.history) == len(first_rung) >= 30
    assert [r.value for r in base.history] == [r.value for r in first_rung]
    assert [r.config for r in base.history] == [r.config for r in first_rung]
    assert all(r.trial.budget is None for r in base.history)  # the base is single-fidelity
    # promoted configurations' later results stay with the scheduler
    assert len(opt.history) > len(base.history)


def test_study_accounts_budget_and_stops_at_max_budget_spent():
    study = hpolab.create_study("toy/branin-mf", "asha")
    study.optimize(max_budget_spent=100)
    assert 100 <= study.budget_spent < 100 + 16
    assert study.budget_spent == sum(r.trial.budget for r in study.trials)
    assert study.optimizer.budgets == [1.0, 4.0, 16.0]  # from the objective's fidelity


def test_budgets_follow_the_study_fidelity():
    from hpolab.objectives.base import Fidelity

    opt = ASHA(mixed_space(), seed=0, eta=3)
    opt.set_context(fidelity=Fidelity("epochs", 1, 27), n_trials=40)
    assert opt.budgets == [1.0, 3.0, 9.0, 27.0]
    assert opt.base.context["n_trials"] == math.ceil(40 * 27 / 40)  # 27 new configs of a 40-trial cycle
    explicit = ASHA(mixed_space(), seed=0, min_budget=2, max_budget=8, eta=2)
    explicit.set_context(fidelity=Fidelity("epochs", 1, 27))
    assert explicit.budgets == [2.0, 4.0, 8.0]


def test_batch_ask_never_promotes_twice_and_round_trips():
    obj = hpolab.make_objective("toy/branin-mf")
    opt = ASHA(obj.search_space, seed=2, base="tpe", base_kwargs={"n_startup_trials": 3})
    for _ in range(6):
        batch = opt.ask(4)
        promotions = [(t.metadata["asha"]["config_id"], t.metadata["asha"]["rung"]) for t in batch if t.budget > 1]
        assert len(promotions) == len(set(promotions))
        for t in reversed(batch):
            opt.tell(t, obj.evaluate(t.config, t.budget))
    pending = opt.ask(3)
    state = json.loads(json.dumps(opt.state_dict()))
    fresh = ASHA(obj.search_space, seed=2, base="tpe", base_kwargs={"n_startup_trials": 3})
    fresh.load_state_dict(state)
    assert fresh.rung_table() == opt.rung_table()
    assert {t.id for t in fresh.pending} == {t.id for t in pending}
    for t in pending:
        opt.tell(t, obj.evaluate(t.config, t.budget))
        fresh.tell(t.id, obj.evaluate(t.config, t.budget))
    a, b = opt.ask(2), fresh.ask(2)
    assert [(t.config, t.budget, t.metadata) for t in a] == [(t.config, t.budget, t.metadata) for t in b]
    assert fresh.base.n_told == opt.base.n_told


def test_observe_lands_on_the_matching_rung():
    obj = hpolab.make_objective("toy/branin-mf")
    opt = ASHA(obj.search_space, seed=0)
    for i in range(4):
        config = {"x1": float(i), "x2": 2.0}
        opt.observe(config, obj.evaluate(config, 1.0), budget=1.0)
    opt.observe({"x1": 0.5, "x2": 0.5}, 3.0)  # no budget: the full budget, top rung
    assert [r["n_results"] for r in opt.rung_table()] == [4, 0, 1]
    assert opt.base.n_told == 4
    t = opt.ask()  # rung 0 has 4 results: the best is promoted
    assert t.budget == 4.0 and t.config == {"x1": 3.0, "x2": 2.0}


def test_exhausted_base_still_promotes_then_stops():
    space = hpolab.SearchSpace({"a": [1, 2, 3, 4]})
    opt = ASHA(space, seed=0, base="grid")
    budgets = []
    for _ in range(10):
        try:
            t = opt.ask()
        except hpolab.SearchExhausted:
            break
        budgets.append(t.budget)
        opt.tell(t, float(t.config["a"]))
    assert budgets == [1.0, 1.0, 1.0, 1.0, 4.0]


def test_bad_arguments():
    space = mixed_space()
    with pytest.raises(ValueError, match="eta"):
        ASHA(space, eta=1)
    with pytest.raises(ValueError, match="scheduler"):
        ASHA(space, base="asha")
    with pytest.raises(ValueError, match="search space"):
        ASHA(space, base=RandomSearch({"x": (0.0, 1.0)}))
    with pytest.raises(ValueError, match="direction"):
        ASHA(space, base=RandomSearch(space, direction="maximize"))
    with pytest.raises(ValueError, match="min_budget"):
        ASHA(space, min_budget=8, max_budget=2)


def test_registry_builds_asha_over_a_named_base():
    opt = make_optimizer("asha", mixed_space(), seed=3, base="tpe", base_kwargs={"n_startup_trials": 2})
    assert isinstance(opt, ASHA) and isinstance(opt.base, TPE) and opt.base.seed == 3
    assert opt.meta["params"]["base"]["name"] == "tpe"


def test_hyperband_deals_brackets_in_hyperband_proportions():
    obj = hpolab.make_objective("toy/branin-mf")
    opt = Hyperband(obj.search_space, seed=0)
    assert opt.bracket_weights() == [16, 6, 3]
    starts = []
    for _ in range(80):
        t = opt.ask()
        if "base_trial" in t.metadata["asha"]:
            starts.append(t.metadata["asha"]["bracket"])
        opt.tell(t, obj.evaluate(t.config, t.budget))
    counts = [starts.count(s) for s in range(3)]
    total = sum(counts)
    for s, w in enumerate([16, 6, 3]):
        assert abs(counts[s] - total * w / 25) <= 1
    # bracket 2 starts at the full budget; bracket 1 at 4 and promotes within its own rungs
    rows = {(r["bracket"], r["rung"]): r for r in opt.rung_table()}
    assert set(rows) == {(0, 0), (0, 1), (0, 2), (1, 1), (1, 2), (2, 2)}
    assert rows[(1, 2)]["n_results"] == rows[(1, 1)]["n_results"] // 4


def test_failed_first_rung_is_told_to_base_as_failure():
    space = mixed_space()
    opt = ASHA(space, seed=0)
    t = opt.ask()
    opt.tell(t, TrialResult.fail("oom"))
    assert opt.base.history[0].state is TrialState.FAIL
    assert quadratic(t.config) >= 0
