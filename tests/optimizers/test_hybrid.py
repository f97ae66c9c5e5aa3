"""The source-agnostic Hybrid (hpolab.optimizers): sources, allocation, passing a trial to the core, resume."""

from __future__ import annotations

import subprocess
import sys
from typing import Any, ClassVar

import numpy as np
import pytest

from hpolab.optimizers import (
    AdaptiveBandit,
    FixedSchedule,
    FixedShare,
    GridSearch,
    Hybrid,
    Optimizer,
    RandomSearch,
    SourceStats,
)
from hpolab.optimizers._hybrid import Draw
from hpolab.space import SearchSpace
from hpolab.testing import OptimizerTestCase

SPACE = SearchSpace({"x": (-5.0, 5.0), "n": (1, 10), "opt": ["adam", "sgd"]})


def _sources(space: Any, seed: int | None = None, direction: str = "minimize") -> dict[str, Optimizer]:
    return {
        "grid": GridSearch(space, resolution=3, shuffle=True, when_exhausted="random", seed=seed, direction=direction),
        "core": RandomSearch(space, seed=seed, direction=direction),
    }


def _f(config: dict[str, Any]) -> float:
    return (config["x"] - 1.0) ** 2 + config["n"]


class TestHybridConformance(OptimizerTestCase):
    """The shared suite on a Hybrid of two classic sources under the adaptive policy."""

    @pytest.fixture
    def factory(self):
        def make(space, seed=None, direction="minimize"):
            return Hybrid(space, sources=_sources(space, seed, direction), seed=seed, direction=direction)

        return make


class _Passing(Hybrid):
    """A hybrid whose ``guest`` source passes every other trial it is given on to the core."""

    name: ClassVar[str] = "passing-hybrid"

    def _draw(self, label: str, why: str) -> Draw:
        if label != "guest" or self.stats["guest"].chosen % 2 == 0:
            return super()._draw(label, why)
        self._peek()
        draw = super()._draw(label, why)
        self._pass_to_core(draw, "passed")
        return draw


def _passing(seed: int = 0) -> _Passing:
    sources = {"guest": RandomSearch(SPACE, seed=seed + 1), "core": RandomSearch(SPACE, seed=seed)}
    return _Passing(SPACE, sources=sources, policy=FixedSchedule([("guest", 6)]), seed=seed)


def test_importing_the_hybrid_loads_no_llm_module():
    code = "import sys, hpolab.optimizers._hybrid\nprint(sorted(m for m in sys.modules if m.startswith('hpolab.llm')))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_every_source_sees_every_result_and_the_schedule_holds():
    opt = Hybrid(SPACE, sources=_sources(SPACE, 0), policy=FixedSchedule([("grid", 3)]), seed=0)
    assert list(opt.sources) == ["grid", "core"]  # the core last
    for _ in range(8):
        trial = opt.ask()
        opt.tell(trial, _f(trial.config))
    assert [r.trial.metadata["source"] for r in opt.history] == ["grid"] * 3 + ["core"] * 5
    assert opt.sources["grid"].n_told == opt.core.n_told == 8
    assert opt.summary()["sources"]["grid"]["chosen"] == 3 and opt.summary()["policy"] == "fixed"
    assert opt.meta["params"]["core_label"] == "core" and set(opt.meta["params"]["sources"]) == {"grid", "core"}


def test_a_source_can_pass_its_trial_to_the_core_and_a_resume_repeats_it():
    opt = _passing()
    for _ in range(10):
        trial = opt.ask()
        opt.tell(trial, _f(trial.config))
    passed = [r.trial for r in opt.history if r.trial.metadata["hybrid"]["why"] == "passed"]
    assert len(passed) == 3  # the guest's 2nd, 4th and 6th trials
    for trial in passed:
        assert trial.metadata["source"] == "core" and trial.metadata["hybrid"]["chosen"] == "guest"
        assert trial.metadata["hybrid"]["bank_used"] and trial.metadata["hybrid"]["told"] == ["core", "guest"]
    assert opt.counts == {"passed": 3}
    assert opt.stats["guest"].chosen == 6 and opt.stats["guest"].trials == 3
    fresh = _passing()
    fresh.load_state_dict(opt.state_dict())
    assert fresh.counts == opt.counts and fresh.stats == opt.stats
    assert fresh.ask().config == opt.ask().config


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"sources": {"grid": RandomSearch(SPACE)}}, ValueError, "no core 'core'"),
        ({"sources": {"core": object()}}, TypeError, r"sources\['core'\]: object is not an hpolab Optimizer"),
        ({"sources": {"core": RandomSearch({"y": (0.0, 1.0)})}}, ValueError, "search space differs"),
        ({"sources": {"core": RandomSearch(SPACE, direction="maximize")}}, ValueError, "direction maximize"),
        ({"sources": {"core": RandomSearch(SPACE)}, "policy": "adaptive"}, TypeError, "not an AllocationPolicy"),
    ],
)
def test_bad_sources_and_policies_are_named(kwargs: dict[str, Any], error: type[Exception], match: str):
    with pytest.raises(error, match=match):
        Hybrid(SPACE, **kwargs)


def test_the_policies_choose_by_label_only():
    stats = {"guest": SourceStats(), "core": SourceStats()}
    share = FixedShare(0.5, warmup=1, llm_label="guest")
    share.start(0)
    rng = np.random.default_rng(0)
    picks = [share.choose(i, ["guest", "core"], stats, rng)[0] for i in range(9)]
    assert picks[0] == "core" and picks[1:].count("guest") == 4
    bandit = AdaptiveBandit(floor={"core": 0.5}, warmup=["core", "guest"])
    assert bandit.choose(0, ["guest", "core"], stats, rng) == ("core", "warmup")


def test_the_llm_hybrid_is_the_hybrid_with_an_llm_source():
    import hpolab.llm

    assert issubclass(hpolab.llm.HybridOptimizer, Hybrid)
    for name in ("AdaptiveBandit", "AllocationPolicy", "FixedSchedule", "FixedShare", "SourceStats"):
        assert getattr(hpolab.llm, name).__module__ == "hpolab.optimizers._hybrid"
