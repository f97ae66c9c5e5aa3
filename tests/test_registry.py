"""The name registry: optimizers and objective families."""

from __future__ import annotations

from typing import Any

import pytest

import hpolab.registry as registry
from hpolab import (
    GridSearch,
    RandomSearch,
    SearchSpace,
    UnknownNameError,
    list_objectives,
    list_optimizers,
    make_objective,
    make_optimizer,
    register_objective,
    register_optimizer,
)
from hpolab.objectives.toy import ToyObjective
from hpolab.registry import unknown_objective

SPACE = SearchSpace({"x": (0.0, 1.0)})


@pytest.fixture
def clean_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    """Let a test register names without leaking them into other tests."""
    monkeypatch.setattr(registry, "_OPTIMIZERS", dict(registry._OPTIMIZERS))
    monkeypatch.setattr(registry, "_FAMILIES", dict(registry._FAMILIES))


def test_builtin_optimizers_by_name() -> None:
    names = list_optimizers()
    assert {"random", "grid"} <= set(names) and list(names) == sorted(names)
    assert all(isinstance(d, str) for d in names.values()) and names["random"]
    opt = make_optimizer("random", SPACE, direction="maximize", seed=4)
    assert isinstance(opt, RandomSearch) and opt.seed == 4 and opt.meta["direction"] == "maximize"
    grid = make_optimizer("grid", {"x": (0.0, 1.0)}, resolution=2)
    assert isinstance(grid, GridSearch) and grid.resolution == 2


@pytest.mark.parametrize(
    ("name", "suggestion"),
    [("rnadom", "random"), ("Random", "random"), ("gird", "grid"), ("randm", "random")],
)
def test_unknown_optimizer_lists_known_and_suggests_close(name: str, suggestion: str) -> None:
    with pytest.raises(UnknownNameError) as info:
        make_optimizer(name, SPACE)
    message = str(info.value)
    assert f"optimizer: {name!r} is not registered; known: " in message
    for known in list_optimizers():
        assert known in message
    assert f"Did you mean {suggestion}" in message
    assert isinstance(info.value, ValueError)


def test_unknown_optimizer_far_from_everything_has_no_suggestion() -> None:
    with pytest.raises(UnknownNameError) as info:
        make_optimizer("zzzzzzzzzz", SPACE)
    assert "Did you mean" not in str(info.value) and "random" in str(info.value)


def test_bad_backend_options_reach_the_backend() -> None:
    with pytest.raises(TypeError):
        make_optimizer("random", SPACE, resolution=3)
    with pytest.raises(ValueError, match="when_exhausted"):
        make_optimizer("grid", SPACE, when_exhausted="never")


def test_objectives_by_name() -> None:
    obj = make_objective("toy/himmelblau")
    assert isinstance(obj, ToyObjective) and obj.name == "toy/himmelblau"
    noisy = make_objective("toy/quad2d", noise=0.1)
    assert noisy.noise == 0.1  # type: ignore[attr-defined]
    listed = list_objectives(families=["toy"])
    assert "toy/branin" in listed and all(n.startswith("toy/") for n in listed)
    assert list_objectives(families=[]) == {}


def test_unknown_objective_family_lists_families() -> None:
    with pytest.raises(UnknownNameError) as info:
        make_objective("tyo/branin")
    message = str(info.value)
    assert "'tyo/branin' is not a registered name" in message and "FAMILY/NAME" in message
    assert "toy" in message and "Did you mean toy" in message


def test_unknown_objective_helper_message() -> None:
    err = unknown_objective("toy", "brainn", ["branin", "ackley"])
    assert isinstance(err, UnknownNameError)
    assert str(err) == "objective: 'toy/brainn' is not known; known: ackley, branin. Did you mean branin?"


def test_register_optimizer_callable_and_string(clean_registry: None) -> None:
    calls: list[dict[str, Any]] = []

    def factory(space: Any, *, direction: Any, seed: Any, **kw: Any) -> RandomSearch:
        calls.append({"direction": direction, "seed": seed, **kw})
        return RandomSearch(space, direction=direction, seed=seed)

    register_optimizer("mine", factory, "my optimizer")
    register_optimizer("mine-str", "hpolab.optimizers._random:RandomSearch", "by string")
    assert list_optimizers()["mine"] == "my optimizer"
    opt = make_optimizer("mine", SPACE, seed=2, flavour="x")
    assert isinstance(opt, RandomSearch) and calls == [{"direction": "minimize", "seed": 2, "flavour": "x"}]
    assert isinstance(make_optimizer("mine-str", SPACE), RandomSearch)


def test_missing_optional_dependency_names_the_extra(clean_registry: None) -> None:
    register_optimizer("ghost", "hpolab_no_such_module_xyz:Ghost", "needs an extra", extra="ghosts")
    with pytest.raises(ImportError, match=r'pip install "hpolab\[ghosts\]"'):
        make_optimizer("ghost", SPACE)
    register_optimizer("ghost2", "hpolab_no_such_module_xyz:Ghost")
    with pytest.raises(ModuleNotFoundError):
        make_optimizer("ghost2", SPACE)


def test_register_objective_family(clean_registry: None) -> None:
    def make(rest: str, **kw: Any) -> ToyObjective:
        if rest != "one":
            raise unknown_objective("mine", rest, ["one"])
        return ToyObjective("quad2d", **kw)

    register_objective("mine", make, lambda: {"mine/one": "a quadratic"}, "my family")
    assert list_objectives(families=["mine"]) == {"mine/one": "a quadratic"}
    assert make_objective("mine/one", noise=0.0).optimum == 0.0
    with pytest.raises(UnknownNameError, match=r"'mine/two' is not known; known: one"):
        make_objective("mine/two")

    register_objective(
        "ghosts", "hpolab_no_such_module_xyz:make", "hpolab_no_such_module_xyz:lister", "ghost tasks", extra="ghosts"
    )
    listed = list_objectives(families=["ghosts"])
    assert listed == {"ghosts/...": 'ghost tasks (needs pip install "hpolab[ghosts]")'}
    with pytest.raises(ImportError, match=r'pip install "hpolab\[ghosts\]"'):
        make_objective("ghosts/a")


def test_a_broken_lister_does_not_hide_other_families(clean_registry: None, caplog: pytest.LogCaptureFixture) -> None:
    def broken() -> dict[str, str]:
        raise FileNotFoundError("tables missing")

    register_objective("broken", lambda rest: None, broken, "broken family")
    with caplog.at_level("WARNING", logger="hpolab.registry"):
        listed = list_objectives(families=["broken", "toy"])
    assert listed["broken/..."] == "broken family (listing failed: FileNotFoundError: tables missing)"
    assert "toy/branin" in listed and "tables missing" in caplog.text
