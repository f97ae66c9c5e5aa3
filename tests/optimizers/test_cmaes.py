"""The ``cmaes`` optimizer: Optuna's CmaEsSampler behind ask/tell, its warning, its state and observed trials.

The conformance suite (fresh processes and SIGKILL-then-resume included) runs on ``cmaes`` in
tests/test_conformance_registry.py.
"""

from __future__ import annotations

import logging

import numpy as np
import optuna
import pytest

from hpolab.optimizers import CmaEs
from hpolab.registry import make_optimizer
from hpolab.space import SearchSpace
from hpolab.testing import conditional_space

NUMERIC = SearchSpace({"x": (-3.0, 3.0), "y": (-3.0, 3.0), "lr": (1e-4, 1e-1, "log"), "n": (1, 8)})


def sphere(config: dict) -> float:
    return (config["x"] - 1.0) ** 2 + (config["y"] + 0.5) ** 2 + (np.log10(config["lr"]) + 2.0) ** 2


def _run(opt: CmaEs, n: int, fn=sphere) -> list[dict]:
    out = []
    for _ in range(n):
        trial = opt.ask()
        out.append(dict(trial.config))
        opt.tell(trial, fn(trial.config))
    return out


def test_same_trials_as_a_plain_optuna_loop():
    opt = make_optimizer("cmaes", NUMERIC, seed=5)
    ours = _run(opt, 25)
    sampler = optuna.samplers.CmaEsSampler(
        seed=5, independent_sampler=optuna.samplers.RandomSampler(seed=5), warn_independent_sampling=False
    )
    study = optuna.create_study(sampler=sampler)
    theirs = []
    for _ in range(25):
        trial = study.ask()
        config = {  # in the space's order: hpolab suggests in topological order
            "lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
            "n": trial.suggest_int("n", 1, 8),
            "x": trial.suggest_float("x", -3.0, 3.0),
            "y": trial.suggest_float("y", -3.0, 3.0),
        }
        theirs.append(config)
        study.tell(trial, sphere(config))
    assert NUMERIC.names == ["lr", "n", "x", "y"]
    assert ours == theirs


def test_beats_random_search_on_a_sphere():
    regrets = {"cmaes": [], "random": []}
    for seed in range(4):
        for name in regrets:
            opt = make_optimizer(name, NUMERIC, seed=seed)
            regrets[name].append(min(sphere(c) for c in _run(opt, 60)))
    assert np.mean(regrets["cmaes"]) < 0.5 * np.mean(regrets["random"]), regrets


def test_warns_once_naming_categorical_and_conditional_parameters(caplog):
    space = conditional_space()
    with caplog.at_level(logging.WARNING):
        opt = CmaEs(space, seed=0)
        for config in _run(opt, 15, fn=lambda c: c["lr"]):
            space.validate(config)
    ours = [r for r in caplog.records if r.name == "hpolab.optimizers.cmaes"]
    assert len(ours) == 1, [r.getMessage() for r in caplog.records]
    message = ours[0].getMessage()
    assert "momentum" in message and "opt" in message and "RandomSampler" in message
    assert "lr" not in message.split(":")[-1]
    assert not [r for r in caplog.records if r.name.startswith("optuna") and "independently" in r.getMessage()]
    assert opt.independent_names() == ["opt", "momentum"]


def test_no_warning_for_a_numeric_space(caplog):
    with caplog.at_level(logging.WARNING):
        _run(CmaEs(NUMERIC, seed=0), 5)
    assert not [r for r in caplog.records if r.name == "hpolab.optimizers.cmaes"]


def test_ordinals_are_modelled_by_position_unless_asked_not_to(caplog):
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace()
    cs.add(
        CS.OrdinalHyperparameter("width", [16, 32, 64, 128, 256, 512]),
        CS.OrdinalHyperparameter("alpha", [1e-6, 1e-4, 1e-2, 1.0]),
        CS.UniformFloatHyperparameter("x", 0.0, 1.0),
    )
    space = SearchSpace(cs)
    assert space["width"].kind == "ordinal" and space["width"].step is None
    fn = lambda c: abs(np.log2(c["width"]) - 7) + abs(np.log10(c["alpha"]) + 4) + c["x"]  # noqa: E731
    opt = CmaEs(space, seed=1)
    configs = _run(opt, 30, fn=fn)
    for config in configs:
        space.validate(config)
    state = opt.state()
    assert state is not None and set(state.names) == {"width", "alpha", "x"}
    assert state.mean["width"] in space["width"].choices and state.mean["alpha"] in space["alpha"].choices
    with caplog.at_level(logging.WARNING):
        plain = CmaEs(space, seed=1, ordinal_as_index=False)
    assert plain.independent_names() == ["alpha", "width"]
    assert "alpha, width" in caplog.records[-1].getMessage()
    _run(plain, 12, fn=fn)
    assert plain.state().names == ("x",)


def test_state_is_the_distribution_optuna_stored():
    opt = CmaEs(NUMERIC, seed=2, popsize=6)
    assert opt.state() is None  # nothing asked yet
    _run(opt, 2)
    initial = opt.state()
    assert initial.generation == 0 and initial.sigma == pytest.approx(1 / 6)
    assert initial.mean_scaled == {name: 0.5 for name in initial.names}
    assert set(initial.names) == {"x", "y", "lr", "n"}
    _run(opt, 20)
    opt.ask()  # the ask that tells CMA-ES the last full generation stores the updated object
    state = opt.state()
    sampler = opt.study.sampler
    stored = sampler._restore_optimizer(opt.study.get_trials(deepcopy=False))  # what Optuna reads back
    assert state.generation == stored.generation >= 3
    assert list(state.mean_scaled.values()) == pytest.approx(list(stored.mean))
    assert state.sigma == pytest.approx(stored._sigma) and state.sigma != pytest.approx(1 / 6)
    assert state.population == 6
    assert len(state.directions) == 3
    assert state.directions[0].spread >= state.directions[1].spread >= state.directions[2].spread
    for direction in state.directions:
        assert set(direction.weights) == set(state.names)
        assert np.linalg.norm(list(direction.weights.values())) == pytest.approx(1.0)
    # the mean in the parameters' own values: inside the space, on the scaled mean's place
    assert -3.0 <= state.mean["x"] <= 3.0 and 1e-4 <= state.mean["lr"] <= 1e-1 and isinstance(state.mean["n"], int)
    assert state.mean["x"] == pytest.approx(-3.0 + 6.0 * state.mean_scaled["x"])
    assert np.log10(state.mean["lr"]) == pytest.approx(-4.0 + 3.0 * state.mean_scaled["lr"])


@pytest.mark.parametrize("learn", [True, False])
def test_observed_trials_join_the_generation_cma_es_fills(learn):
    opt = CmaEs(NUMERIC, seed=3, popsize=5, learn_observed=learn)
    _run(opt, 1)  # the start-up trial
    rng = np.random.default_rng(0)
    for config in NUMERIC.sample(5, rng=rng):
        opt.observe(config, sphere(config))
    opt.ask()  # five solutions of generation 0 now exist only if the observed trials joined it
    state = opt.state()
    assert state.generation == (1 if learn else 0)


def test_bad_options_name_the_value():
    with pytest.raises(ValueError, match="popsize: 1"):
        CmaEs(NUMERIC, popsize=1)
    with pytest.raises(ValueError, match="n_startup_trials: -1"):
        CmaEs(NUMERIC, n_startup_trials=-1)
    with pytest.raises(ValueError, match="use_separable_cma and with_margin"):
        CmaEs(NUMERIC, use_separable_cma=True, with_margin=True)


def test_separable_and_margin_variants_run_and_report_state():
    for kwargs in ({"use_separable_cma": True}, {"with_margin": True}):
        opt = CmaEs(NUMERIC, seed=0, popsize=5, **kwargs)
        for config in _run(opt, 14):
            NUMERIC.validate(config)
        state = opt.state()
        assert state is not None and state.generation >= 2, kwargs


def test_runs_inside_hpolab_sampler():
    from hpolab.integrations.optuna import HpolabSampler

    def objective(trial: optuna.Trial) -> float:
        return sphere(
            {
                "x": trial.suggest_float("x", -3.0, 3.0),
                "y": trial.suggest_float("y", -3.0, 3.0),
                "lr": trial.suggest_float("lr", 1e-4, 1e-1, log=True),
            }
        )

    best = {}
    for name in ("cmaes", "random"):
        values = []
        for seed in range(3):
            study = optuna.create_study(sampler=HpolabSampler(name, seed=seed))
            study.optimize(objective, n_trials=50)
            values.append(study.best_value)
        best[name] = float(np.mean(values))
    assert best["cmaes"] < best["random"], best
