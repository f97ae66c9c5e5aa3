from __future__ import annotations

import json
import math

import optuna
import pytest

from hpolab.optimizers._optuna import TPE, suggest_config
from hpolab.registry import make_objective, make_optimizer
from hpolab.space import SearchSpace
from hpolab.testing import OptimizerTestCase, conditional_space, mixed_space, quadratic
from hpolab.trial import TrialResult, TrialState


class TestTPEConformance(OptimizerTestCase):
    n_trials = 14  # past n_startup_trials=10, so the TPE model itself is exercised
    registry_name = "tpe"

    @pytest.fixture
    def factory(self):
        return lambda space, seed=None, direction="minimize": TPE(space, seed=seed, direction=direction)


class TestMultivariateTPEConformance(OptimizerTestCase):
    n_trials = 8

    @pytest.fixture
    def factory(self):
        return lambda space, seed=None, direction="minimize": TPE(
            space, seed=seed, direction=direction, n_startup_trials=3, multivariate=True, group=True
        )


def _plain_optuna_loop(space: SearchSpace, seed: int, n: int, direction: str = "minimize", **kw):
    """What an Optuna user writes: create_study + ask/tell, define-by-run suggests."""
    study = optuna.create_study(direction=direction, sampler=optuna.samplers.TPESampler(seed=seed, **kw))
    out = []
    for _ in range(n):
        trial = study.ask()
        config = {}
        for name, p in space.params.items():
            if name not in space.active_names(config):
                continue
            if p.kind == "float":
                config[name] = trial.suggest_float(name, p.lower, p.upper, log=p.log)
            elif p.kind == "int":
                config[name] = trial.suggest_int(name, p.lower, p.upper, log=p.log)
            else:
                config[name] = trial.suggest_categorical(name, list(p.choices))
        out.append(config)
        study.tell(trial, quadratic(config))
    return out


@pytest.mark.parametrize("space_fn", [mixed_space, conditional_space])
def test_same_configs_as_a_plain_optuna_loop(space_fn):
    space = space_fn()
    expected = _plain_optuna_loop(space, seed=42, n=25, n_startup_trials=5)
    opt = TPE(space, seed=42, n_startup_trials=5)
    got = []
    for _ in range(25):
        trial = opt.ask()
        got.append(trial.config)
        opt.tell(trial, quadratic(trial.config))
    assert got == expected
    # and the two diverge for another seed, so the comparison has teeth
    assert _plain_optuna_loop(space, seed=43, n=3) != expected[:3]


def test_same_configs_as_optuna_when_maximizing():
    space = mixed_space()
    expected = _plain_optuna_loop(space, seed=1, n=15, direction="maximize", n_startup_trials=4)
    opt = make_optimizer("tpe", space, seed=1, direction="maximize", n_startup_trials=4)
    got = []
    for _ in range(15):
        trial = opt.ask()
        got.append(trial.config)
        opt.tell(trial, quadratic(trial.config))
    assert got == expected


def test_conditional_parameters_only_suggested_when_active():
    space = conditional_space()
    opt = TPE(space, seed=0, n_startup_trials=3)
    for _ in range(20):
        trial = opt.ask()
        opt.tell(trial, quadratic(trial.config))
    seen = {t.params.keys().__contains__("momentum") for t in opt.study.trials}
    assert seen == {True, False}  # both branches were sampled
    for t in opt.study.trials:
        assert ("momentum" in t.params) == (t.params["opt"] == "sgd")
        assert set(t.distributions) == set(t.params)


def test_tpe_learns_on_branin():
    from hpolab.objectives.toy import ToyObjective

    obj = ToyObjective("branin")
    opt = TPE(obj.search_space, seed=0)
    for _ in range(60):
        trial = opt.ask()
        opt.tell(trial, obj.evaluate(trial.config))
    assert opt.best.value - obj.optimum < 1.0


def test_batch_ask_with_constant_liar_spreads_out():
    space = SearchSpace({"x": (0.0, 1.0)})
    opt = TPE(space, seed=0, n_startup_trials=5, constant_liar=True)
    for _ in range(10):
        t = opt.ask()
        opt.tell(t, (t.config["x"] - 0.3) ** 2)
    batch = opt.ask(6)
    xs = sorted(t.config["x"] for t in batch)
    assert len(set(xs)) == 6
    assert all(t.id == batch[0].id + i for i, t in enumerate(batch))
    for t in batch:
        opt.tell(t, (t.config["x"] - 0.3) ** 2)
    assert sum(1 for t in opt.study.trials if t.state == optuna.trial.TrialState.COMPLETE) == 16


def test_pruned_failed_and_observed_trials_reach_optuna():
    space = mixed_space()
    opt = TPE(space, seed=0)
    opt.observe(space.default(), 0.5)
    a, b, c = opt.ask(3)
    opt.tell(a, TrialResult(1.0, state=TrialState.PRUNED))
    opt.tell(b, TrialResult.fail("boom"))
    opt.tell(c, 2.0)
    states = [t.state.name for t in opt.study.trials]
    assert states == ["COMPLETE", "PRUNED", "FAIL", "COMPLETE"]
    assert opt.study.trials[0].params == space.default()
    assert opt.study.trials[1].intermediate_values == {0: 1.0}


def test_state_round_trip_with_batches_and_observe():
    space = conditional_space()
    opt = TPE(space, seed=3, n_startup_trials=2)
    opt.observe(space.default(), 1.0)
    for _ in range(4):
        batch = opt.ask(2)
        for t in batch:
            opt.tell(t, quadratic(t.config))
    state = json.loads(json.dumps(opt.state_dict()))
    fresh = TPE(space, seed=3, n_startup_trials=2)
    fresh.load_state_dict(state)
    assert [t.config for t in opt.ask(3)] == [t.config for t in fresh.ask(3)]


def test_bad_options():
    with pytest.raises(ValueError, match="n_startup_trials"):
        TPE(mixed_space(), n_startup_trials=-1)
    with pytest.raises(ValueError, match="group"):
        TPE(mixed_space(), group=True, multivariate=False)


def test_suggest_config_in_an_optuna_objective():
    space = conditional_space()

    def objective(trial):
        config = suggest_config(trial, space)
        return quadratic(config)

    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    study.optimize(objective, n_trials=10)
    assert all(math.isfinite(t.value) for t in study.trials)


def _final_regrets(name: str, function: str, n_trials: int, seeds: int = 10, **kwargs) -> list[float]:
    obj = make_objective(f"toy/{function}")
    out = []
    for seed in range(seeds):
        opt = make_optimizer(name, obj.search_space, seed=seed, **kwargs)
        for _ in range(n_trials):
            trial = opt.ask()
            opt.tell(trial, obj.evaluate(trial.config))
        out.append(opt.best.value - obj.optimum)
    return out


def beats_random(name: str, n_trials: int, **kwargs) -> None:
    """10 seeds on two toy functions: a paired one-sided Wilcoxon test and a 2x margin on each."""
    from scipy.stats import wilcoxon

    ours, theirs = [], []
    for function in ("branin", "himmelblau"):
        a = _final_regrets(name, function, n_trials, **kwargs)
        b = _final_regrets("random", function, n_trials)
        assert sum(a) < 0.5 * sum(b), (function, a, b)
        ours += a
        theirs += b
    p = wilcoxon([math.log(x) for x in ours], [math.log(x) for x in theirs], alternative="less").pvalue
    assert p < 0.01, (p, ours, theirs)


def test_tpe_reaches_lower_regret_than_random():
    beats_random("tpe", 30)


def test_optuna_logs_nothing():
    import logging

    records: list[logging.LogRecord] = []

    class Keep(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            records.append(record)

    handler = Keep(level=logging.DEBUG)
    logger = logging.getLogger("optuna")
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.INFO)
    logger.addHandler(handler)
    try:
        optuna.create_study()  # the check has teeth: Optuna logs this one at INFO
        assert any("A new study created" in r.getMessage() for r in records)
        records.clear()
        opt = TPE(mixed_space(), seed=0)
        for _ in range(3):
            opt.tell(opt.ask(), 1.0)
    finally:
        logger.removeHandler(handler)
        optuna.logging.set_verbosity(verbosity)
    assert records == []


def test_optimizers_package_exports_lazily():
    import subprocess
    import sys

    code = (
        "import sys, hpolab.optimizers as o\n"
        "before = [m for m in ('optuna', 'smac', 'sklearn') if m in sys.modules]\n"
        "names = [getattr(o, n).__name__ for n in o.__all__]\n"
        "print(before, names)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == (
        "[] ['ASHA', 'SMAC', 'SMACGP', 'SMACMF', 'SMACRF', 'TPE', 'AdaptiveBandit', 'AllocationPolicy', 'CmaEs', "
        "'FixedSchedule', 'FixedShare', 'GridSearch', 'Hybrid', 'Hyperband', 'Ledger', 'Optimizer', 'OptimizerError', "
        "'Portfolio', 'Proposal', 'RandomSearch', 'SearchExhausted', 'SourceStats']"
    )


def _bowl(config):
    """A 2-D quadratic with its minimum at x1 = 1, x2 = 2."""
    return (config["x1"] - 1.0) ** 2 + (config["x2"] - 2.0) ** 2


def _told(optimizer, n):
    for _ in range(n):
        trial = optimizer.ask()
        optimizer.tell(trial, _bowl(trial.config))
    return optimizer


def test_a_partial_configuration_is_completed_by_tpe_near_the_optimum():
    """After its start-up trials TPE proposes the free x2 for a fixed x1 near the optimum; a random draw does not."""
    from hpolab.optimizers import RandomSearch

    space = {"x1": (-5.0, 5.0), "x2": (-5.0, 5.0)}
    tpe = _told(TPE(space, seed=0), 60)
    completed = [tpe.complete({"x1": 1.0}, number=k) for k in range(20)]
    assert all(c["x1"] == 1.0 and set(c) == {"x1", "x2"} for c in completed)
    tpe_distance = sum(abs(c["x2"] - 2.0) for c in completed) / 20  # mean distance to the optimum
    drawn = [RandomSearch(space, seed=0).complete({"x1": 1.0}, number=k) for k in range(20)]
    random_distance = sum(abs(c["x2"] - 2.0) for c in drawn) / 20  # about 2.9 for a uniform draw
    assert tpe_distance < 0.5 * random_distance, (tpe_distance, random_distance)
    assert [c["x2"] for c in completed] != [c["x2"] for c in drawn]


def test_completing_changes_nothing_in_tpe():
    """The completion is a pure function of (state, values, number): same result twice, the same next asks."""
    space = {"x1": (-5.0, 5.0), "x2": (-5.0, 5.0)}
    tpe, twin = _told(TPE(space, seed=3), 14), _told(TPE(space, seed=3), 14)
    first = tpe.complete({"x2": 0.5}, number=7)
    assert tpe.complete({"x2": 0.5}, number=7) == first and first["x2"] == 0.5
    assert tpe.complete({"x2": 0.5}, number=8) != first
    assert len(tpe.study.trials) == len(twin.study.trials)  # no trial left in the sampler's study
    assert [t.config for t in (tpe.ask(), tpe.ask())] == [t.config for t in (twin.ask(), twin.ask())]
