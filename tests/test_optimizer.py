"""The Optimizer ABC's public contract, driven through RandomSearch, GridSearch and a tiny backend."""

from __future__ import annotations

import json
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import numpy as np
import pytest

from hpolab import (
    GridSearch,
    InvalidConfigError,
    Optimizer,
    OptimizerError,
    Proposal,
    RandomSearch,
    SearchExhausted,
    SearchSpace,
    Trial,
    TrialResult,
    TrialState,
)

SPACE = SearchSpace({"x": (-5.0, 5.0), "n": (1, 10), "lr": (1e-4, 1e-1, "log"), "opt": ["adam", "sgd"]})

Factory = Callable[..., Optimizer]
FACTORIES: dict[str, Factory] = {
    "random": lambda space=SPACE, **kw: RandomSearch(space, **kw),
    "grid": lambda space=SPACE, **kw: GridSearch(space, resolution=3, shuffle=True, when_exhausted="random", **kw),
}


@pytest.fixture(params=sorted(FACTORIES))
def make(request: pytest.FixtureRequest) -> Factory:
    return FACTORIES[request.param]


def f(config: Mapping[str, Any]) -> float:
    return (config["x"] - 1.0) ** 2 + config["n"] + (0.5 if config["opt"] == "sgd" else 0.0)


# --------------------------------------------------------------------------- ask
def test_ask_one_and_batch(make: Factory) -> None:
    opt = make(seed=0)
    one = opt.ask()
    assert isinstance(one, Trial) and one.id == 0
    batch = opt.ask(4)
    assert isinstance(batch, list) and [t.id for t in batch] == [1, 2, 3, 4]
    single = opt.ask(1)
    assert isinstance(single, list) and len(single) == 1
    for trial in [one, *batch, *single]:
        assert SPACE.validate(trial.config) == trial.config
        assert all(type(v) in (int, float, str) for v in trial.config.values())
        assert trial.budget is None and isinstance(trial.seed, int)
    assert {t.id for t in opt.pending} == {0, 1, 2, 3, 4, 5}
    assert len({t.seed for t in opt.pending}) == 6  # one evaluation seed per trial
    assert opt.ask(np.int64(2))[0].id == 6


@pytest.mark.parametrize("bad", [0, -1, 2.0, True, "3"])
def test_ask_rejects_bad_n(bad: Any) -> None:
    with pytest.raises(ValueError, match=r"n: .* must be a positive int"):
        RandomSearch(SPACE, seed=0).ask(bad)


def test_constructor_validation() -> None:
    with pytest.raises(ValueError, match=r"seed: 1.5 must be an int or None"):
        RandomSearch(SPACE, seed=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"direction: 'down'"):
        RandomSearch(SPACE, direction="down")
    opt = RandomSearch({"x": (0.0, 1.0)}, seed=np.int64(3))  # dict spaces and numpy seeds are accepted
    assert opt.seed == 3 and type(opt.seed) is int and isinstance(opt.space, SearchSpace)
    assert "RandomSearch(seed=3" in repr(opt)


def test_seeds_reproduce_and_differ(make: Factory) -> None:
    a, b, c = make(seed=1), make(seed=1), make(seed=2)
    ta, tb, tc = a.ask(10), b.ask(10), c.ask(10)
    assert [t.config for t in ta] == [t.config for t in tb] and [t.seed for t in ta] == [t.seed for t in tb]
    assert [t.config for t in ta] != [t.config for t in tc]


# --------------------------------------------------------------------------- tell
def test_tell_unknown_twice_and_bad_results(make: Factory) -> None:
    opt = make(seed=0)
    trial = opt.ask()
    with pytest.raises(OptimizerError, match=r"trial 42 was not asked by this optimizer; use observe\(\)"):
        opt.tell(42, 1.0)
    with pytest.raises(ValueError, match="not a number"):
        opt.tell(trial, "fast")  # type: ignore[arg-type]
    assert [t.id for t in opt.pending] == [trial.id]  # a rejected result loses nothing
    record = opt.tell(trial, 1.5)
    assert record.value == 1.5 and record.state is TrialState.COMPLETE and record.trial == trial
    with pytest.raises(OptimizerError, match=r"trial 0 was already told \(COMPLETE\); tell each trial once"):
        opt.tell(trial, 2.0)
    with pytest.raises(OptimizerError, match="already told"):
        opt.tell(trial.id, 2.0)
    assert opt.n_told == 1 and opt.pending == [] and opt.history == [record]
    other = make(seed=0)
    with pytest.raises(OptimizerError, match="was not asked"):
        other.tell(trial, 1.0)


def test_tell_accepts_results_ids_dicts_and_none(make: Factory) -> None:
    opt = make(seed=0)
    trials = opt.ask(5)
    opt.tell(trials[0].id, TrialResult(1.0, runtime=2.0))
    opt.tell(trials[1], {"value": 0.5, "info": {"a": 1}})
    opt.tell(trials[2], None)
    opt.tell(trials[3], math.nan)
    opt.tell(trials[4], np.float64(0.75))
    states = [r.state for r in opt.history]
    assert states == [TrialState.COMPLETE, TrialState.COMPLETE, TrialState.FAIL, TrialState.FAIL, TrialState.COMPLETE]
    assert opt.history[3].info["error"].startswith("objective returned a non-finite value")
    assert opt.history[1].info == {"a": 1} and opt.history[0].result.runtime == 2.0  # type: ignore[union-attr]
    assert opt.best is not None and opt.best.id == trials[1].id


def test_tell_out_of_order_keeps_history_in_tell_order(make: Factory) -> None:
    opt = make(seed=0)
    trials = opt.ask(3)
    for t in reversed(trials):
        opt.tell(t, float(t.id))
    assert [r.id for r in opt.history] == [2, 1, 0]
    assert opt.best.id == 0  # type: ignore[union-attr]


# --------------------------------------------------------------------------- best
def test_best_is_never_a_fail_and_respects_direction(make: Factory) -> None:
    opt = make(seed=0)
    assert opt.best is None
    t = opt.ask(6)
    opt.tell(t[0], math.nan)
    opt.tell(t[1], -math.inf)  # "better" than everything, but FAIL
    assert opt.best is None
    opt.tell(t[2], TrialResult.fail("crash"))
    opt.tell(t[3], 3.0)
    opt.tell(t[4], TrialResult(-100.0, state=TrialState.PRUNED))
    opt.tell(t[5], 2.0)
    assert opt.best.id == t[5].id and opt.best.value == 2.0  # type: ignore[union-attr]

    up = make(seed=0, direction="maximize")
    t = up.ask(4)
    for trial, value in zip(t, [1.0, math.inf, 5.0, 5.0], strict=True):
        up.tell(trial, value)
    assert up.best.id == t[2].id and up.meta["direction"] == "maximize"  # type: ignore[union-attr]


def test_maximize_equals_minimizing_the_negation() -> None:
    lo = RandomSearch(SPACE, seed=5)
    hi = RandomSearch(SPACE, seed=5, direction="maximize")
    for _ in range(30):
        a, b = lo.ask(), hi.ask()
        lo.tell(a, f(a.config))
        hi.tell(b, -f(b.config))
    assert lo.best.id == hi.best.id  # type: ignore[union-attr]
    assert lo.best.value == -hi.best.value  # type: ignore[union-attr]


# --------------------------------------------------------------------------- observe
def test_observe(make: Factory) -> None:
    opt = make(seed=0)
    record = opt.observe({"x": 1.0, "n": 2, "lr": 0.01, "opt": "adam"}, 0.25, budget=3)
    assert record.metadata == {"observed": True} and record.budget == 3.0 and record.id == 0
    assert opt.best is record and opt.pending == []
    assert opt.ask().id == 1  # ids stay unique across observe and ask
    with pytest.raises(InvalidConfigError, match=r"x: 9.0 is above the upper bound 5.0"):
        opt.observe({"x": 9.0, "n": 2, "lr": 0.01, "opt": "adam"}, 0.1)
    canon = opt.observe({"x": np.float64(1), "n": 2.0, "lr": 0.01, "opt": "sgd"}, math.nan)
    assert canon.config == {"x": 1.0, "n": 2, "lr": 0.01, "opt": "sgd"} and canon.state is TrialState.FAIL
    assert opt.best is record


# --------------------------------------------------------------------------- meta and state
def test_meta(make: Factory) -> None:
    opt = make(seed=7)
    meta = opt.meta
    assert meta["name"] == opt.name and meta["seed"] == 7 and meta["direction"] == "minimize"
    assert isinstance(meta["params"], dict) and meta["class"].endswith(type(opt).__qualname__)
    json.dumps(meta)
    assert make().meta["seed"] is None


def drive(opt: Optimizer, steps: int) -> None:
    """Asks in batches, tells most trials (some NaN, some failed), observes one, leaves some pending."""
    for step in range(steps):
        batch = opt.ask(3)
        for i, trial in enumerate(batch):
            if i == 2 and step % 2 == 0:
                continue  # left pending
            value = math.nan if (trial.id % 7 == 3) else f(trial.config)
            opt.tell(trial, value if trial.id % 5 else TrialResult.fail("boom", runtime=1.0))
    opt.observe({"x": 0.0, "n": 1, "lr": 0.001, "opt": "adam"}, 0.5)
    opt.ask(2)  # a batch still pending at save time


def test_state_dict_round_trip_gives_the_same_next_ask(make: Factory) -> None:
    opt = make(seed=11)
    drive(opt, 6)
    state = opt.state_dict()
    text = json.dumps(state, allow_nan=False)  # strict JSON
    fresh = make(seed=11)
    fresh.load_state_dict(json.loads(text))
    assert [t.id for t in fresh.pending] == [t.id for t in opt.pending]
    assert [t.config for t in fresh.pending] == [t.config for t in opt.pending]
    assert [(r.id, r.state, r.value) for r in fresh.history] == [(r.id, r.state, r.value) for r in opt.history]
    assert fresh.best.id == opt.best.id  # type: ignore[union-attr]
    nxt_a, nxt_b = opt.ask(4), fresh.ask(4)
    assert [(t.id, t.config, t.seed) for t in nxt_a] == [(t.id, t.config, t.seed) for t in nxt_b]
    # pending trials from before the save can be told on the restored optimizer
    for t in fresh.pending:
        fresh.tell(t, 1.0)
    assert fresh.pending == [] and fresh.state_dict()["events"][: len(state["events"])] == state["events"]


def test_state_dict_after_only_a_batch_ask(make: Factory) -> None:
    opt = make(seed=2)
    opt.ask(5)
    fresh = make(seed=2)
    fresh.load_state_dict(json.loads(json.dumps(opt.state_dict())))
    assert len(fresh.pending) == 5
    assert opt.ask().config == fresh.ask().config


def test_load_state_dict_errors() -> None:
    opt = RandomSearch(SPACE, seed=0)
    opt.ask()
    state = opt.state_dict()
    with pytest.raises(OptimizerError, match="needs a fresh optimizer"):
        opt.load_state_dict(state)
    with pytest.raises(OptimizerError, match="state format 99"):
        RandomSearch(SPACE, seed=0).load_state_dict({**state, "format": 99})
    with pytest.raises(OptimizerError, match=r"state is of optimizer 'random', not 'grid'"):
        GridSearch(SPACE, seed=0).load_state_dict(state)
    with pytest.raises(OptimizerError, match="unknown event"):
        RandomSearch(SPACE, seed=0).load_state_dict({**state, "events": [{"poke": 1}]})


def test_load_state_dict_with_another_seed_warns(caplog: pytest.LogCaptureFixture) -> None:
    opt = RandomSearch(SPACE, seed=0)
    opt.ask(2)
    with caplog.at_level(logging.WARNING, logger="hpolab"):
        RandomSearch(SPACE, seed=1).load_state_dict(opt.state_dict())
    assert "seed" in caplog.text


def test_set_context() -> None:
    opt = RandomSearch(SPACE, seed=0)
    opt.set_context(description="a task", n_trials=10)
    opt.set_context(fidelity=("epochs", 1, 9))
    assert opt.context == {"description": "a task", "n_trials": 10, "fidelity": ("epochs", 1, 9)}


# --------------------------------------------------------------------------- backend hooks
class Scripted(Optimizer):
    """Returns scripted proposals and records the hook calls."""

    name = "scripted"

    def __init__(self, space: Any, script: Sequence[Sequence[Any]], **kw: Any) -> None:
        super().__init__(space, **kw)
        self.script = [list(s) for s in script]
        self.told: list[tuple[int, str]] = []

    def _ask(self, n: int) -> Sequence[Proposal | Mapping[str, Any]]:
        return self.script.pop(0) if self.script else []

    def _tell(self, trial: Trial, result: TrialResult) -> None:
        self.told.append((trial.id, result.state.value))


def test_backend_proposals_budgets_and_hooks() -> None:
    space = SearchSpace({"x": (0.0, 1.0)})
    opt = Scripted(space, [[Proposal({"x": np.float64(0.5)}, budget=3, metadata={"why": "test"}), {"x": 1}]], seed=0)
    a, b = opt.ask(2)
    assert a.config == {"x": 0.5} and type(a.config["x"]) is float and a.budget == 3.0
    assert a.metadata == {"why": "test"} and b.config == {"x": 1.0} and b.budget is None
    opt.tell(a, 1.0)
    opt.observe({"x": 0.2}, math.nan)  # default _observe calls _tell
    assert opt.told == [(0, "COMPLETE"), (2, "FAIL")]
    with pytest.raises(SearchExhausted, match="scripted: nothing left to propose"):
        opt.ask()


def test_backend_errors_are_caught() -> None:
    space = SearchSpace({"x": (0.0, 1.0)})
    with pytest.raises(OptimizerError, match=r"backend returned 2 proposals for n=1"):
        Scripted(space, [[{"x": 0.1}, {"x": 0.2}]]).ask()
    with pytest.raises(InvalidConfigError, match=r"x: 2.0 is above the upper bound 1.0"):
        Scripted(space, [[{"x": 2.0}]]).ask()


# --------------------------------------------------------------------------- ask/tell input validation
def test_failed_batch_ask_leaves_no_phantom_trial() -> None:
    space = SearchSpace({"x": (0.0, 1.0)})
    opt = Scripted(space, [[{"x": 0.5}, {"x": 5.0}], [{"x": 0.25}]], seed=0)
    with pytest.raises(InvalidConfigError):
        opt.ask(2)
    assert opt.pending == []
    fresh = Scripted(space, [[{"x": 0.25}]], seed=0)
    fresh.load_state_dict(opt.state_dict())
    assert opt.ask().id == fresh.ask().id


@pytest.mark.parametrize("bad", ["abc", None, 0.5])
def test_tell_rejects_a_non_trial_with_a_clear_error(bad: Any) -> None:
    opt = RandomSearch(SPACE, seed=0)
    trial = opt.ask()
    with pytest.raises(OptimizerError, match="trial"):
        opt.tell(bad, 1.0)
    assert opt.pending == [trial]


# --------------------------------------------------------------------------- where the ABC lives
def test_the_abc_lives_with_its_backends_and_the_root_reexports_it() -> None:
    import importlib

    import hpolab
    import hpolab.optimizers as optimizers

    for name in ("Optimizer", "OptimizerError", "Proposal", "SearchExhausted"):
        assert getattr(hpolab, name) is getattr(optimizers, name)
    for name in ("Optimizer", "Proposal"):
        assert getattr(optimizers, name).__module__ == "hpolab.optimizers._base"
    for name in ("OptimizerError", "SearchExhausted"):  # every public error lives in hpolab.exceptions
        assert getattr(optimizers, name).__module__ == "hpolab.exceptions"
    assert optimizers.Ledger.__module__ == "hpolab.optimizers._base"
    with pytest.raises(ModuleNotFoundError):
        importlib.import_module("hpolab.optimizer")
