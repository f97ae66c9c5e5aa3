from __future__ import annotations

import math

import optuna
import pytest

from hpolab.integrations.optuna import HpolabSampler
from hpolab.optimizers._optuna import TPE
from hpolab.optimizers._random import RandomSearch
from hpolab.trial import TrialState as HpolabState


@pytest.fixture(autouse=True)
def _quiet_optuna():
    verbosity = optuna.logging.get_verbosity()
    optuna.logging.set_verbosity(optuna.logging.WARNING)
    yield
    optuna.logging.set_verbosity(verbosity)


def branin_objective(trial: optuna.Trial) -> float:
    x1 = trial.suggest_float("x1", -5.0, 10.0)
    x2 = trial.suggest_float("x2", 0.0, 15.0)
    b, c, t = 5.1 / (4 * math.pi**2), 5 / math.pi, 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


@pytest.mark.parametrize("name", ["random", "tpe"])
def test_fifty_trial_study_lands_in_optuna_storage(tmp_path, name):
    storage = f"sqlite:///{tmp_path / 'optuna.db'}"
    sampler = HpolabSampler(name, seed=0)
    study = optuna.create_study(study_name="s", storage=storage, sampler=sampler)
    study.optimize(branin_objective, n_trials=50)
    loaded = optuna.load_study(study_name="s", storage=storage)
    trials = loaded.get_trials(states=(optuna.trial.TrialState.COMPLETE,))
    assert len(trials) == 50
    opt = sampler.optimizer
    assert opt is not None and opt.name == name
    # trial 0 ran before the space was known (independent) and was observed; the other 49 were asked
    asked = [r for r in opt.history if not r.metadata.get("observed")]
    assert len(asked) == 49 and len(opt.history) == 50
    for record, frozen in zip(asked, trials[1:], strict=True):
        assert frozen.params == record.config
        assert frozen.value == record.value
    assert loaded.best_value == min(t.value for t in trials)


def test_tpe_inside_optuna_beats_random_inside_optuna():
    regrets = {}
    for name in ("random", "tpe"):
        best = []
        for seed in range(5):
            study = optuna.create_study(sampler=HpolabSampler(name, seed=seed, optimizer_kwargs={}))
            study.optimize(branin_objective, n_trials=40)
            best.append(study.best_value - 0.397887)
        regrets[name] = sum(best) / len(best)
    assert regrets["tpe"] < 0.5 * regrets["random"], regrets


def test_same_seed_same_study():
    def run(seed):
        study = optuna.create_study(sampler=HpolabSampler("tpe", seed=seed))
        study.optimize(branin_objective, n_trials=15)
        return [t.params for t in study.trials]

    assert run(3) == run(3)
    assert run(3) != run(4)


def test_define_by_run_suggest_types_pruned_failed_and_maximize():
    def objective(trial: optuna.Trial) -> float:
        lr = trial.suggest_float("lr", 1e-4, 1e-1, log=True)
        layers = trial.suggest_int("layers", 1, 4)
        width = trial.suggest_int("width", 16, 256, log=True)
        units = trial.suggest_int("units", 8, 64, step=8)
        opt = trial.suggest_categorical("opt", ["adam", "sgd"])
        if opt == "sgd":  # conditional: outside the intersection space, sampled independently
            trial.suggest_float("momentum", 0.0, 0.99)
        if trial.number % 7 == 3:
            raise RuntimeError("diverged")
        if trial.number % 7 == 5:
            return float("nan")
        score = -((math.log10(lr) + 2) ** 2) - 0.1 * (layers - 2) ** 2 + math.log(width) / 10 + units / 100
        trial.report(score, step=0)
        if trial.number % 7 == 6:
            raise optuna.TrialPruned()
        return score

    sampler = HpolabSampler("tpe", seed=1, optimizer_kwargs={"n_startup_trials": 5})
    study = optuna.create_study(direction="maximize", sampler=sampler)
    study.optimize(objective, n_trials=30, catch=(RuntimeError,))
    states = [t.state for t in study.trials]
    assert states.count(optuna.trial.TrialState.FAIL) == 8  # raised or NaN
    assert states.count(optuna.trial.TrialState.PRUNED) == 4
    opt = sampler.optimizer
    assert opt is not None and opt.direction.value == "maximize"
    assert set(opt.space.names) == {"lr", "layers", "width", "units", "opt"}
    assert opt.space["units"].choices == (8, 16, 24, 32, 40, 48, 56, 64)
    by_state = {s: sum(1 for r in opt.history if r.state is s) for s in HpolabState}
    assert by_state[HpolabState.FAIL] >= 7 and by_state[HpolabState.PRUNED] >= 3
    pruned = [r for r in opt.history if r.state is HpolabState.PRUNED]
    assert all(r.value is not None for r in pruned)  # the last reported value
    assert opt.best.value == study.best_value
    for t in study.trials:
        assert ("momentum" in t.params) == (t.params["opt"] == "sgd")


def test_a_factory_and_an_enqueued_trial():
    made = []

    def factory(space, direction, seed):
        opt = RandomSearch(space, direction=direction, seed=seed)
        made.append(opt)
        return opt

    study = optuna.create_study(sampler=HpolabSampler(factory, seed=0))
    study.optimize(branin_objective, n_trials=3)
    study.enqueue_trial({"x1": 3.14, "x2": 2.27})
    study.optimize(branin_objective, n_trials=2)
    assert study.trials[3].params == {"x1": 3.14, "x2": 2.27}
    (opt,) = made
    observed = [r for r in opt.history if r.metadata.get("observed")]
    assert [r.config for r in observed] == [study.trials[0].params, study.trials[3].params]
    assert len(opt.history) == 5


def test_space_change_rebuilds_and_observes():
    def both(trial):
        return trial.suggest_float("x", 0.0, 1.0) + trial.suggest_float("y", 0.0, 1.0)

    def only_x(trial):
        return trial.suggest_float("x", 0.0, 1.0)

    made = []

    def factory(space, direction, seed):
        made.append(TPE(space, direction=direction, seed=seed))
        return made[-1]

    sampler = HpolabSampler(factory, seed=0)
    study = optuna.create_study(sampler=sampler)
    study.optimize(both, n_trials=4)
    assert sampler.optimizer.space.names == ["x", "y"]
    study.optimize(only_x, n_trials=3)
    assert [m.space.names for m in made] == [["x", "y"], ["x"]]
    # trial 4 still had the {x, y} space (only x was used: the first optimizer is told it failed);
    # from trial 5 on the space is {x}: a fresh optimizer observed trials 0-4, then asked 5 and 6
    assert made[0].history[-1].state is HpolabState.FAIL
    assert sum(1 for r in made[1].history if r.metadata.get("observed")) == 5
    assert len(made[1].history) == 7


def test_rejects_multi_objective_and_bad_arguments():
    study = optuna.create_study(directions=["minimize", "minimize"], sampler=HpolabSampler("random"))
    with pytest.raises(ValueError, match="multi-objective"):
        study.optimize(lambda t: (t.suggest_float("x", 0, 1), 1.0), n_trials=2)
    with pytest.raises(ValueError, match="optimizer"):
        HpolabSampler(3)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="optimizer_kwargs"):
        HpolabSampler(lambda s, direction, seed: RandomSearch(s), optimizer_kwargs={"a": 1})


def test_import_is_lazy():
    import subprocess
    import sys

    code = "import sys, hpolab.integrations; print('optuna' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_stepped_floats_are_sampled_by_the_hpolab_optimizer():
    def objective(trial: optuna.Trial) -> float:
        x = trial.suggest_float("x", -2.0, 2.0, step=0.5)
        y = trial.suggest_float("y", 0.0, 1.0)
        return (x - 0.5) ** 2 + y

    sampler = HpolabSampler("tpe", seed=0, optimizer_kwargs={"n_startup_trials": 3})
    study = optuna.create_study(sampler=sampler)
    study.optimize(objective, n_trials=12)
    opt = sampler.optimizer
    assert opt is not None and set(opt.space.names) == {"x", "y"}  # no fall-back to independent sampling
    assert opt.space.to_optuna()["x"] == optuna.distributions.FloatDistribution(-2.0, 2.0, step=0.5)
    asked = [r for r in opt.history if not r.metadata.get("observed")]
    assert len(asked) == 11
    assert all(t.params["x"] in (-2.0, -1.5, -1.0, -0.5, 0.0, 0.5, 1.0, 1.5, 2.0) for t in study.trials)
