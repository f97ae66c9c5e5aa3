"""The conformance suite every hpolab optimizer passes.

Subclass :class:`OptimizerTestCase` in a pytest module and give it a ``factory`` fixture; every
test of the suite then runs against your optimizer::

    import pytest
    from hpolab.testing import OptimizerTestCase

    class TestMyOptimizer(OptimizerTestCase):
        @pytest.fixture
        def factory(self):
            return lambda space, seed=None, direction="minimize": MyOptimizer(space, seed=seed, direction=direction)

Set ``registry_name`` to also check that two fresh processes give identical trials.
"""

from __future__ import annotations

import json
import math
import subprocess
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from hpolab.optimizer import Optimizer, OptimizerError
from hpolab.space import SearchSpace
from hpolab.trial import Direction, TrialResult, TrialState

__all__ = ["OptimizerTestCase", "conditional_space", "mixed_space", "quadratic"]

Factory = Callable[..., Optimizer]


def mixed_space() -> SearchSpace:
    """Float, log-float, int, log-int and categorical parameters."""
    return SearchSpace(
        {
            "x": (-5.0, 5.0),
            "lr": (1e-4, 1e-1, "log"),
            "n": (1, 10),
            "width": (16, 1024, "log"),
            "opt": ["adam", "sgd", "rmsprop"],
        }
    )


def conditional_space() -> SearchSpace:
    """A space where ``momentum`` is only active when ``opt == "sgd"``."""
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace()
    opt = CS.CategoricalHyperparameter("opt", ["adam", "sgd"])
    lr = CS.UniformFloatHyperparameter("lr", 1e-4, 1e-1, log=True)
    momentum = CS.UniformFloatHyperparameter("momentum", 0.0, 0.99)
    cs.add(opt, lr, momentum)
    cs.add(CS.EqualsCondition(momentum, opt, "sgd"))
    return SearchSpace(cs)


def quadratic(config: dict[str, Any]) -> float:
    """A deterministic test function over :func:`mixed_space` / :func:`conditional_space` configs."""
    value = 0.0
    for key, v in sorted(config.items()):
        if isinstance(v, str):
            value += {"adam": 0.0, "sgd": 1.0, "rmsprop": 0.5}.get(v, 0.25)
        elif key in ("lr", "width"):
            value += (math.log10(float(v)) + 2.0) ** 2
        else:
            value += (float(v) - 1.0) ** 2 / 10.0
    return value


def _plain(config: dict[str, Any]) -> bool:
    return all(type(v) in (int, float, str, bool) for v in config.values())


class OptimizerTestCase:
    """Base class of the conformance suite (see the module docstring)."""

    #: Trials per test; lower it for slow optimizers.
    n_trials: ClassVar[int] = 12
    #: Whether the optimizer supports conditional spaces.
    supports_conditional: ClassVar[bool] = True
    #: Whether asks are random (so different seeds must give different trials).
    stochastic: ClassVar[bool] = True
    #: Registry name: enables the two-fresh-processes determinism test.
    registry_name: ClassVar[str | None] = None
    #: Registry options for the two-process test.
    registry_kwargs: ClassVar[dict[str, Any]] = {}

    @pytest.fixture
    def factory(self) -> Factory:
        raise NotImplementedError("define a `factory` fixture returning factory(space, seed=None, direction=...)")

    # ------------------------------------------------------------------ helpers
    def _run(self, opt: Optimizer, n: int, fn: Callable[[dict[str, Any]], float] = quadratic) -> list[dict[str, Any]]:
        configs = []
        for _ in range(n):
            trial = opt.ask()
            configs.append(dict(trial.config))
            opt.tell(trial, fn(trial.config))
        return configs

    # -------------------------------------------------------------------- tests
    def test_asks_inside_mixed_space(self, factory: Factory) -> None:
        space = mixed_space()
        opt = factory(space, seed=0)
        for config in self._run(opt, self.n_trials):
            space.validate(config)
            assert set(config) == set(space.names)
            assert _plain(config), f"numpy scalars in {config!r}"

    def test_asks_inside_conditional_space(self, factory: Factory) -> None:
        if not self.supports_conditional:
            pytest.skip("this optimizer declares supports_conditional = False")
        space = conditional_space()
        opt = factory(space, seed=0)
        configs = self._run(opt, self.n_trials)
        for config in configs:
            space.validate(config)
            assert ("momentum" in config) == (config["opt"] == "sgd")

    def test_same_seed_same_trials(self, factory: Factory) -> None:
        a = self._run(factory(mixed_space(), seed=7), self.n_trials)
        b = self._run(factory(mixed_space(), seed=7), self.n_trials)
        assert a == b

    def test_different_seeds_differ(self, factory: Factory) -> None:
        if not self.stochastic:
            pytest.skip("deterministic optimizer")
        a = self._run(factory(mixed_space(), seed=1), self.n_trials)
        b = self._run(factory(mixed_space(), seed=2), self.n_trials)
        assert a != b

    def test_same_seed_in_fresh_processes(self) -> None:
        if self.registry_name is None:
            pytest.skip("set registry_name to run the two-process determinism test")
        code = (
            "import json, hpolab\n"
            "from hpolab.testing import mixed_space, quadratic\n"
            f"opt = hpolab.make_optimizer({self.registry_name!r}, mixed_space(), seed=3, **{self.registry_kwargs!r})\n"
            "out = []\n"
            f"for _ in range({self.n_trials}):\n"
            "    t = opt.ask(); out.append(t.config); opt.tell(t, quadratic(t.config))\n"
            "print(json.dumps(out))\n"
        )
        runs = [
            subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=600)
            for _ in range(2)
        ]
        first, second = (json.loads(r.stdout.strip().splitlines()[-1]) for r in runs)
        assert first == second

    def test_tell_validation(self, factory: Factory) -> None:
        opt = factory(mixed_space(), seed=0)
        trial = opt.ask()
        with pytest.raises(OptimizerError, match="not asked"):
            opt.tell(trial.id + 1000, 1.0)
        opt.tell(trial, 1.0)
        with pytest.raises(OptimizerError, match="already told"):
            opt.tell(trial, 2.0)

    def test_batch_ask(self, factory: Factory) -> None:
        space = mixed_space()
        opt = factory(space, seed=0)
        trials = opt.ask(4)
        assert len(trials) == 4
        assert len({t.id for t in trials}) == 4
        assert len(opt.pending) == 4
        for trial in reversed(trials):
            space.validate(trial.config)
            opt.tell(trial, quadratic(trial.config))
        assert opt.n_told == 4 and not opt.pending
        space.validate(opt.ask().config)

    def test_maximize(self, factory: Factory) -> None:
        opt = factory(mixed_space(), seed=0, direction="maximize")
        assert opt.direction is Direction.MAXIMIZE
        values = []
        for _ in range(self.n_trials):
            trial = opt.ask()
            value = quadratic(trial.config)
            values.append(value)
            opt.tell(trial, value)
        assert opt.best is not None and opt.best.value == max(values)

    def test_fail_trials(self, factory: Factory) -> None:
        space = mixed_space()
        opt = factory(space, seed=0)
        for i in range(self.n_trials):
            trial = opt.ask()
            if i % 3 == 0:
                record = opt.tell(trial, float("nan"))
                assert record.state is TrialState.FAIL
            elif i % 3 == 1:
                opt.tell(trial, TrialResult.fail("boom"))
            else:
                opt.tell(trial, quadratic(trial.config))
        best = opt.best
        assert best is not None and best.state is TrialState.COMPLETE
        space.validate(opt.ask().config)

    def test_state_round_trip(self, factory: Factory) -> None:
        space = mixed_space()
        opt = factory(space, seed=5)
        self._run(opt, self.n_trials // 2)
        state = json.loads(json.dumps(opt.state_dict()))
        fresh = factory(space, seed=5)
        fresh.load_state_dict(state)
        assert [r.config for r in fresh.history] == [r.config for r in opt.history]
        a, b = opt.ask(), fresh.ask()
        assert a.config == b.config and a.id == b.id and a.budget == b.budget

    def test_meta(self, factory: Factory) -> None:
        opt = factory(mixed_space(), seed=11)
        meta = opt.meta
        assert meta["seed"] == 11 and isinstance(meta["name"], str) and isinstance(meta["params"], dict)
        json.dumps(meta)
