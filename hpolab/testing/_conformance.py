"""The conformance suite every hpolab optimizer passes.

Subclass :class:`OptimizerTestCase` in a pytest module and give it a ``factory`` fixture; every
test of the suite then runs against your optimizer::

    import pytest
    from hpolab.testing import OptimizerTestCase

    class TestMyOptimizer(OptimizerTestCase):
        @pytest.fixture
        def factory(self):
            return lambda space, seed=None, direction="minimize": MyOptimizer(space, seed=seed, direction=direction)

Set ``registry_name`` (the optimizer registered with :func:`hpolab.register_optimizer`) to also
run the tests that need fresh processes: two processes with one seed give identical trials, and a
study killed with SIGKILL after some trials and reopened with ``load_if_exists=True`` ends with the
same trials as an uninterrupted one. Options that are not JSON (an LLM client, records) come from
``registry_kwargs_factory``, a ``"module:function"`` that the fresh process imports and calls as
``function(registry_name, space)``.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Callable
from typing import Any, ClassVar

import pytest

from hpolab.optimizers._base import Optimizer, OptimizerError
from hpolab.testing._spaces import conditional_space, mixed_space, quadratic
from hpolab.trial import Direction, TrialResult, TrialState

__all__ = ["OptimizerTestCase"]

Factory = Callable[..., Optimizer]


def _has_plain_values(config: dict[str, Any]) -> bool:
    return all(type(v) in (int, float, str, bool) for v in config.values())


class OptimizerTestCase:
    """Base class of the conformance suite (see the module docstring)."""

    #: Trials per test; lower it for slow optimizers.
    n_trials: ClassVar[int] = 12
    #: Whether the optimizer supports conditional spaces.
    supports_conditional: ClassVar[bool] = True
    #: Whether asks are random (so different seeds must give different trials).
    stochastic: ClassVar[bool] = True
    #: Registry name: enables the tests in fresh processes (determinism, SIGKILL then resume).
    registry_name: ClassVar[str | None] = None
    #: Registry options (JSON values) for the fresh-process tests.
    registry_kwargs: ClassVar[dict[str, Any]] = {}
    #: ``"module:function"`` returning more options as ``function(registry_name, space)``, imported in
    #: the fresh process (the parent's ``sys.path`` is passed on, so a test module works).
    registry_kwargs_factory: ClassVar[str | None] = None
    #: Finished trials of the SIGKILL-then-resume test, and how many finish before the kill.
    resume_trials: ClassVar[int] = 8
    resume_kill_after: ClassVar[int] = 3

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
            assert _has_plain_values(config), f"numpy scalars in {config!r}"

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

    def _fresh_process(self, body: str) -> subprocess.Popen[str]:
        """Start ``body`` in a new interpreter with ``opt_kwargs(space)`` defined (the registry options)."""
        factory = self.registry_kwargs_factory
        head = (
            "import json, os, signal, sys\n"
            f"sys.path[:0] = {[p for p in sys.path if p]!r}\n"
            "import hpolab\n"
            "from hpolab.testing import mixed_space, quadratic\n"
            "def opt_kwargs(space):\n"
            f"    out = dict({self.registry_kwargs!r})\n"
        )
        if factory is not None:
            module, _, attr = factory.partition(":")
            head += (
                "    import importlib\n"
                f"    out.update(getattr(importlib.import_module({module!r}), {attr!r})({self.registry_name!r}, space))\n"
            )
        head += "    return out\n"
        return subprocess.Popen(
            [sys.executable, "-c", head + body], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
        )

    def _asks_body(self) -> str:
        """Code that prints ``ASKS`` and the JSON of ``n_trials`` asks (config, budget) of the optimizer at seed 3."""
        return (
            "space = mixed_space()\n"
            f"opt = hpolab.make_optimizer({self.registry_name!r}, space, seed=3, **opt_kwargs(space))\n"
            "out = []\n"
            f"for _ in range({self.n_trials}):\n"
            "    t = opt.ask(); out.append([t.config, t.budget]); opt.tell(t, quadratic(t.config))\n"
            "print('ASKS ' + json.dumps(out), flush=True)\n"
        )

    def _study_body(self, url: str, kill_after: int | None) -> str:
        """Code that runs a study on :func:`quadratic` (fidelity 1..9) and prints ``STUDY`` and its trials as JSON.

        With ``kill_after``, the process kills itself with SIGKILL in the evaluation after that many.
        """
        return (
            "from hpolab.objectives.base import Fidelity, FunctionObjective\n"
            "calls = 0\n"
            "def fn(config):\n"
            "    global calls\n"
            "    calls += 1\n"
            f"    if {kill_after!r} is not None and calls > {kill_after!r}:\n"
            "        os.kill(os.getpid(), signal.SIGKILL)\n"
            "    return quadratic(config)\n"
            "space = mixed_space()\n"
            "objective = FunctionObjective(fn, space, name='quadratic', fidelity=Fidelity('epochs', 1, 9))\n"
            f"study = hpolab.create_study(objective, {self.registry_name!r}, storage={url!r}, study_name='resume',\n"
            "    load_if_exists=True, seed=3, optimizer_kwargs=opt_kwargs(space) or None)\n"
            f"study.optimize(max_trials={self.resume_trials})\n"
            "print('STUDY ' + json.dumps([[r.state.value, r.config, r.budget, r.value] for r in study.trials]))\n"
        )

    @pytest.fixture(scope="class")
    def fresh_runs(self, tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, str, str]] | None:
        """The suite's three fresh processes, run once per class: (exit code, stdout, stderr) by name.

        ``whole`` asks ``n_trials`` times, then runs a study of ``resume_trials`` trials without a
        break; ``killed`` runs the same study in another storage and kills itself with SIGKILL after
        ``resume_kill_after`` evaluations; ``resumed`` (started after ``killed`` ended) asks
        ``n_trials`` times, then reopens that study with ``load_if_exists=True`` and finishes it.
        The two-process determinism test compares the asks of ``whole`` and ``resumed``, each made
        first in its process; the SIGKILL test compares their studies. ``None`` without ``registry_name``.
        """
        if self.registry_name is None:
            return None
        folder = tmp_path_factory.mktemp("fresh")
        url = f"sqlite:///{folder / 'killed.db'}"
        whole = self._fresh_process(self._asks_body() + self._study_body(f"sqlite:///{folder / 'whole.db'}", None))
        killed = self._fresh_process(self._study_body(url, self.resume_kill_after))
        runs = {"killed": self._finish(killed), "whole": self._finish(whole)}
        runs["resumed"] = self._finish(self._fresh_process(self._asks_body() + self._study_body(url, None)))
        return runs

    @staticmethod
    def _finish(proc: subprocess.Popen[str], timeout: float = 600) -> tuple[int, str, str]:
        """(exit code, stdout, stderr) of ``proc`` once it ends; killed after ``timeout`` seconds."""
        try:
            out, err = proc.communicate(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
            err += f"\n[killed after {timeout} s]"
        return proc.returncode, out, err

    @staticmethod
    def _printed(out: str, tag: str) -> Any:
        """The JSON that a fresh process printed after ``tag``."""
        lines = [line for line in out.splitlines() if line.startswith(tag + " ")]
        assert lines, f"no {tag} line in the output: {out[-3000:]}"
        return json.loads(lines[-1][len(tag) + 1 :])

    def test_same_seed_in_fresh_processes(self, fresh_runs: dict[str, tuple[int, str, str]] | None) -> None:
        if self.registry_name is None or fresh_runs is None:
            pytest.skip("set registry_name to run the two-process determinism test")
        first, second = (self._printed(fresh_runs[name][1], "ASKS") for name in ("whole", "resumed"))
        assert len(first) == self.n_trials, fresh_runs["whole"][2][-3000:]
        assert first == second

    def test_sigkill_then_resume(self, fresh_runs: dict[str, tuple[int, str, str]] | None) -> None:
        if self.registry_name is None or fresh_runs is None:
            pytest.skip("set registry_name to run the SIGKILL-then-resume test")
        (whole_rc, whole_out, whole_err), (killed_rc, _, killed_err), (resumed_rc, resumed_out, resumed_err) = (
            fresh_runs[name] for name in ("whole", "killed", "resumed")
        )
        assert whole_rc == 0, whole_err[-3000:]
        assert killed_rc == -signal.SIGKILL, killed_err[-3000:]
        assert resumed_rc == 0, resumed_err[-3000:]

        def finished(out: str) -> list[list[Any]]:
            return [t[1:] for t in self._printed(out, "STUDY") if t[0] == "COMPLETE"]

        expected, got = finished(whole_out), finished(resumed_out)
        assert len(expected) == self.resume_trials, whole_out[-3000:]
        first = next((i for i, (a, b) in enumerate(zip(got, expected, strict=False)) if a != b), None)
        assert got == expected, (
            f"resumed after SIGKILL at trial {self.resume_kill_after}: {len(got)} finished trials, the first "
            f"difference at finished trial {first}: {got[first] if first is not None else None} instead of "
            f"{expected[first] if first is not None else None}; stderr: {resumed_err[-1500:]}"
        )

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

    def test_complete_keeps_the_fixed_values_and_changes_nothing(self, factory: Factory) -> None:
        """A partial configuration is completed inside the space, the same way twice, and the next asks stay as they were."""
        space = mixed_space()
        opt, twin = factory(space, seed=4), factory(space, seed=4)
        self._run(opt, self.n_trials // 2)
        self._run(twin, self.n_trials // 2)
        fixed = {"x": 1.0, "opt": "sgd"}
        completed = opt.complete(fixed, number=5)
        assert {k: completed[k] for k in fixed} == fixed and set(completed) == set(space.names)
        space.validate(completed)
        assert opt.complete(fixed, number=5) == completed
        assert opt.complete(space.validate(completed), number=6) == completed  # nothing missing: nothing changes
        a, b = opt.ask(), twin.ask()
        assert a.config == b.config and a.id == b.id and a.budget == b.budget
        if self.supports_conditional:
            conditional = factory(conditional_space(), seed=4)
            self._run(conditional, self.n_trials // 2)
            assert "momentum" not in conditional.complete({"opt": "adam"}, number=1)
            assert "momentum" in conditional.space.validate(conditional.complete({"opt": "sgd"}, number=1))

    def test_meta(self, factory: Factory) -> None:
        opt = factory(mixed_space(), seed=11)
        meta = opt.meta
        assert meta["seed"] == 11 and isinstance(meta["name"], str) and isinstance(meta["params"], dict)
        json.dumps(meta)
