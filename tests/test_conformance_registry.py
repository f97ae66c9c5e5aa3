"""The conformance suite on every registered optimizer: a new backend cannot skip it.

One test class per name of :func:`hpolab.registry.list_optimizers` (what ``hpolab list`` shows) runs
:class:`hpolab.testing.OptimizerTestCase`, the fresh-process tests included (same seed in two
processes; SIGKILL after some trials, then resume with ``load_if_exists=True``: the same trials as
an uninterrupted run). LLM optimizers (names starting with ``llm``) get a scripted client, so no
model runs. A backend that needs options to be built offline gets them in :func:`offline_kwargs`;
one that cannot pass a test yet is marked there, strictly, with the reason.
"""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from typing import Any

import pytest
from click.testing import CliRunner

from hpolab.registry import list_optimizers, make_optimizer
from hpolab.space import SearchSpace
from hpolab.testing import OptimizerTestCase, ScriptedClient

#: Per name: class attributes of the suite that differ from OptimizerTestCase's defaults.
TRAITS: dict[str, dict[str, Any]] = {
    "grid": {"registry_kwargs": {"shuffle": True, "resolution": 3}},
    "portfolio": {"stochastic": False},  # the order is fixed by the records
    "smac-rf": {"n_trials": 10},
    "smac-gp": {"n_trials": 8},
    "smac-mf": {"n_trials": 10, "registry_kwargs": {"min_budget": 1, "max_budget": 9}},  # a study's fidelity
    "llm-smac": {"n_trials": 10},
}

_RESUME = "test_sigkill_then_resume"
#: Per name: tests that fail today, marked xfail(strict=True) with the reason (so a fix is noticed).
KNOWN_FAILURES: dict[tuple[str, str], str] = {
    # e.g. ("smac-mf", _RESUME): "why it fails today (issue N)"; empty: every registered optimizer passes
}

#: Heavy names: their whole class is marked slow.
SLOW = {"smac-gp"}
#: Names whose fresh-process tests are slow (SMAC's import and start-up, over 10 s per process).
SLOW_FRESH = {"smac-rf", "smac-mf", "llm-smac"}
_FRESH_TESTS = ("test_same_seed_in_fresh_processes", _RESUME)


def offline_kwargs(name: str, space: SearchSpace) -> dict[str, Any]:
    """Options that build ``name`` on ``space`` without a model, a server or files (not JSON: objects)."""
    if name in ("llm-hybrid-nollm", "llm-hybrid-placebo"):
        return {}  # controls without a model: the LLM removed, or a placebo client built inside
    if name.startswith("llm"):
        return {"client": ScriptedClient.random_configs(space, supports_images=name == "llm-multimodal")}
    if name in ("smac-rf", "smac-gp", "smac-mf"):
        return {"n_initial": 4}
    if name in ("portfolio", "counting-prior"):
        from hpolab.llm.finetune import Record, Records

        rows = [
            Record(f"t{t}", "m", "", config, 0.5 + 0.05 * ((i * (t + 1)) % 6))
            for t in range(3)
            for i, config in enumerate(space.sample(6, seed=t))
        ]
        return {"records": Records(rows)}
    return {}


def _mark(attrs: dict[str, Any], test: str, mark: pytest.MarkDecorator) -> None:
    """Mark the suite's ``test`` for one class only (a wrapper is marked; the base class stays unmarked)."""
    if test not in attrs:
        base = getattr(OptimizerTestCase, test)

        @functools.wraps(base)
        def wrapper(self: OptimizerTestCase, *args: Any, **kwargs: Any) -> None:
            base(self, *args, **kwargs)

        attrs[test] = wrapper
    attrs[test] = mark(attrs[test])


def _conformance_class(name: str) -> type[OptimizerTestCase]:
    traits = TRAITS.get(name, {})
    extra = dict(traits.get("registry_kwargs", {}))

    @pytest.fixture
    def factory(self: OptimizerTestCase) -> Any:
        def make(space: Any, seed: int | None = None, direction: str = "minimize") -> Any:
            space = SearchSpace.coerce(space)
            return make_optimizer(name, space, seed=seed, direction=direction, **extra, **offline_kwargs(name, space))

        return make

    attrs: dict[str, Any] = {
        **traits,
        "registry_name": name,
        "registry_kwargs_factory": f"{__name__}:offline_kwargs",
        "factory": factory,
        "__module__": __name__,
        "__doc__": f"The conformance suite on the registered optimizer {name!r}.",
    }
    for test in _FRESH_TESTS if name in SLOW_FRESH else ():
        _mark(attrs, test, pytest.mark.slow)
    for (failing, test), reason in KNOWN_FAILURES.items():
        if failing == name:
            _mark(attrs, test, pytest.mark.xfail(strict=True, reason=reason))
    cls = type(f"TestConformance_{re.sub(r'[^0-9a-zA-Z]', '_', name)}", (OptimizerTestCase,), attrs)
    if name in SLOW:
        cls = pytest.mark.slow(cls)
    return cls


REGISTERED = sorted(list_optimizers())
for _name in REGISTERED:
    _cls = _conformance_class(_name)
    globals()[_cls.__name__] = _cls


def test_every_name_hpolab_list_shows_has_a_conformance_class() -> None:
    from hpolab.cli import cli

    out = CliRunner().invoke(cli, ["list", "optimizers"]).output
    shown = {line.split()[0] for line in out.splitlines()[1:] if line.strip()}
    tested = {getattr(c, "registry_name", None) for c in globals().values() if isinstance(c, type)}
    assert shown and shown <= tested, sorted(shown - tested)


def test_importing_hpolab_testing_needs_no_pytest() -> None:
    code = (
        "import sys\n"
        "sys.modules['pytest'] = None  # as without pytest installed\n"
        "import hpolab.testing as t\n"
        "from hpolab.testing import ScriptedClient, mixed_space, quadratic, save_tiny_llama\n"
        "assert quadratic(mixed_space().default()) >= 0\n"
        "try:\n"
        "    t.OptimizerTestCase\n"
        "except ImportError as exc:\n"
        "    print(exc)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr[-2000:]
    assert "pip install pytest" in out.stdout


class TestConformanceOfAUserRegisteredOptimizer:
    """A name registered by a user is picked up like the built-in ones."""

    def test_registered_name_gets_a_class(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from hpolab import registry
        from hpolab.optimizers import RandomSearch

        monkeypatch.setitem(registry._OPTIMIZERS, "my-random", registry._Entry(RandomSearch, "mine"))
        cls = _conformance_class("my-random")
        assert issubclass(cls, OptimizerTestCase) and cls.registry_name == "my-random"
        names = [n for n in dir(cls) if n.startswith("test_")]
        assert "test_sigkill_then_resume" in names and "test_same_seed_in_fresh_processes" in names
