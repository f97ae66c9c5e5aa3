"""Toy objectives (seed 002 Appendix E), the Objective base classes and Fidelity."""

from __future__ import annotations

import math
import subprocess
import sys

import numpy as np
import pytest
from scipy.optimize import minimize

from hpolab import (
    Direction,
    Fidelity,
    FunctionObjective,
    SearchSpace,
    TrialResult,
    TrialState,
    UnknownNameError,
    list_objectives,
    make_objective,
)
from hpolab.objectives.toy import SHIFT, TOY_FUNCTIONS, ToyObjective, list_toy

NAMES = sorted(TOY_FUNCTIONS)


def at(x1: float, x2: float) -> dict[str, float]:
    return {"x1": float(x1), "x2": float(x2)}


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("shifted", [False, True], ids=["plain", "shifted"])
def test_known_optimum_is_attained_at_the_argmin(name: str, shifted: bool) -> None:
    _, b1, b2, optimum, argmin = TOY_FUNCTIONS[name]
    obj = ToyObjective(name, shifted=shifted)
    shift = SHIFT if shifted else (0.0, 0.0)
    x = (argmin[0] + shift[0], argmin[1] + shift[1])
    assert b1[0] <= x[0] <= b1[1] and b2[0] <= x[1] <= b2[1], "the argmin must lie inside the box"
    obj.search_space.validate(at(*x))
    result = obj.evaluate(at(*x))
    assert result.state is TrialState.COMPLETE and type(result.value) is float
    assert result.value == pytest.approx(optimum, abs=1e-9)
    assert obj.regret(result.value) == pytest.approx(0.0, abs=1e-9)
    assert obj.optimum == optimum and obj.direction is Direction.MINIMIZE
    assert result.info["true_value"] == result.value and result.runtime is not None and result.runtime >= 0


@pytest.mark.parametrize("name", NAMES)
def test_known_optimum_is_a_lower_bound_over_the_box(name: str) -> None:
    fn, b1, b2, optimum, _ = TOY_FUNCTIONS[name]
    xs, ys = np.meshgrid(np.linspace(*b1, 121), np.linspace(*b2, 121))
    values = [fn(float(a), float(b)) for a, b in zip(xs.ravel(), ys.ravel(), strict=True)]
    assert min(values) >= optimum - 1e-9
    # polish the best grid points locally: nothing goes below the stated optimum
    order = np.argsort(values)[:5]
    for i in order:
        res = minimize(
            lambda z: fn(float(z[0]), float(z[1])),
            [xs.ravel()[i], ys.ravel()[i]],
            method="L-BFGS-B",
            bounds=[b1, b2],
        )
        assert res.fun >= optimum - 1e-7
    assert min(values) < optimum + 0.5 * (max(values) - optimum)  # sanity: the grid is not flat


@pytest.mark.parametrize("name", NAMES)
def test_shift_moves_the_optimum(name: str) -> None:
    _, _, _, optimum, argmin = TOY_FUNCTIONS[name]
    plain, shifted = ToyObjective(name), ToyObjective(name, shifted=True)
    assert shifted.evaluate(at(*argmin)).value > optimum + 1e-6
    moved = at(argmin[0] + SHIFT[0], argmin[1] + SHIFT[1])
    assert plain.evaluate(moved).value > optimum + 1e-6
    assert shifted.name == f"toy/shifted_{name}" and plain.name == f"toy/{name}"


def test_shift_is_fixed_and_the_same_in_a_fresh_process() -> None:
    assert all(0.0 < c < 1.0 for c in SHIFT)
    expected = tuple(float(c) for c in np.random.default_rng(2024).uniform(0.0, 1.0, 2))
    assert expected == SHIFT
    out = subprocess.run(
        [sys.executable, "-c", "from hpolab.objectives.toy import SHIFT; print(repr(SHIFT))"],
        capture_output=True,
        text=True,
        check=True,
    )
    assert out.stdout.strip() == repr(SHIFT)


def test_search_space_and_description() -> None:
    obj = make_objective("toy/branin")
    space = obj.search_space
    assert isinstance(space, SearchSpace) and space.names == ["x1", "x2"]
    assert (space["x1"].lower, space["x1"].upper, space["x2"].lower, space["x2"].upper) == (-5.0, 10.0, 0.0, 15.0)
    assert "x1" in obj.description and "minimize" in obj.description
    shifted = make_objective("toy/shifted_branin")
    assert "0.3978" not in shifted.description and "Branin" in shifted.description
    assert repr(obj) == "ToyObjective('toy/branin')"
    assert obj(at(math.pi, 2.275)).value == pytest.approx(TOY_FUNCTIONS["branin"][3])


def test_every_listed_toy_name_builds_the_named_objective() -> None:
    names = list_toy()
    assert len(names) == 2 * len(TOY_FUNCTIONS) + 1
    assert set(list_objectives(families=["toy"])) == set(names)
    for name, description in names.items():
        obj = make_objective(name)
        assert obj.name == name and description
        config = obj.search_space.sample(seed=0)
        assert math.isfinite(obj.evaluate(config).value)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("name", "fragments"),
    [
        ("toy/brannin", ["'toy/brannin' is not known", "branin, branin-mf", "Did you mean branin"]),
        ("toy/shifted_foo", ["'toy/shifted_foo' is not known", "shifted_ackley"]),
        ("toy/", ["FAMILY/NAME", "toy"]),
        ("toy", ["FAMILY/NAME", "toy"]),
        ("tyo/branin", ["'tyo/branin' is not a registered name", "Did you mean toy"]),
    ],
)
def test_unknown_toy_names_list_the_known_ones(name: str, fragments: list[str]) -> None:
    with pytest.raises(UnknownNameError) as info:
        make_objective(name)
    for fragment in fragments:
        assert fragment in str(info.value), (fragment, str(info.value))


def test_toy_objective_argument_errors() -> None:
    with pytest.raises(ValueError, match=r"function: 'sphere' is not a toy function; known: \['ackley'"):
        ToyObjective("sphere")
    with pytest.raises(ValueError, match=r"noise: -1"):
        ToyObjective("branin", noise=-1.0)


def test_noise_is_seeded() -> None:
    obj = make_objective("toy/quad2d", noise=0.5)
    config = at(1.0, 2.0)
    a, b, c = obj.evaluate(config, seed=1), obj.evaluate(config, seed=1), obj.evaluate(config, seed=2)
    assert a.value == b.value and a.value != c.value
    assert a.info["true_value"] == 5.0 and a.value != 5.0
    assert "noise" in obj.description
    values = [obj.evaluate(config, seed=s).value for s in range(400)]
    assert abs(np.mean(values) - 5.0) < 0.1 and abs(np.std(values) - 0.5) < 0.06


def test_multi_fidelity_branin() -> None:
    obj = make_objective("toy/branin-mf")
    assert obj.name == "toy/branin-mf" and obj.fidelity == Fidelity("budget", 1.0, 16.0)
    x = at(math.pi, 2.275)
    full = obj.evaluate(x, budget=16)
    assert full.value == pytest.approx(TOY_FUNCTIONS["branin"][3]) and full.info["budget"] == 16.0
    assert obj.evaluate(x).value == full.value  # None means the full budget
    low = [obj.evaluate(x, budget=b).value for b in (1, 2, 4, 8)]
    assert all(v > full.value for v in low) and low == sorted(low, reverse=True)  # converges from above
    with pytest.raises(ValueError, match=r"budget: 0.5 is outside \[1.0, 16.0\] budget"):
        obj.evaluate(x, budget=0.5)
    assert make_objective("toy/branin").fidelity is None
    assert make_objective("toy/shifted_branin-mf").name == "toy/shifted_branin-mf"


# --------------------------------------------------------------------------- base classes
def test_fidelity() -> None:
    fid = Fidelity("epochs", 1, 27)
    assert fid.check(None) == 27 and fid.check(3.4) == 3.0
    assert Fidelity("frac", 0.1, 1.0, integer=False).check(0.25) == 0.25
    with pytest.raises(ValueError, match=r"budget: 30 is outside \[1, 27\] epochs"):
        fid.check(30)
    with pytest.raises(ValueError, match=r"fidelity epochs: need 0 < min <= max"):
        Fidelity("epochs", 5, 2)
    with pytest.raises(ValueError, match="need 0 < min"):
        Fidelity("epochs", 0, 2)


def test_function_objective() -> None:
    seen: list = []

    def fn(config, budget, seed):
        seen.append((budget, seed))
        return config["x"] ** 2

    obj = FunctionObjective(fn, {"x": (-1.0, 1.0)}, name="sq", description="a square", optimum=0.0)
    result = obj.evaluate({"x": 0.5}, budget=2.0, seed=3)
    assert result.value == 0.25 and result.runtime is not None and result.runtime >= 0 and seen == [(2.0, 3)]
    assert obj.name == "sq" and obj.regret(0.25) == 0.25 and obj.regret(math.nan) is None

    def plain(config):
        return {"value": -config["x"], "info": {"k": 1}, "runtime": 9.0}

    up = FunctionObjective(plain, {"x": (-1.0, 1.0)}, direction="maximize", optimum=1.0)
    res = up.evaluate({"x": -0.5})
    assert res.value == 0.5 and res.runtime == 9.0 and res.info == {"k": 1}
    assert up.name == "plain" and up.regret(0.5) == 0.5 and up.direction is Direction.MAXIMIZE
    nan = FunctionObjective(lambda c: math.nan, {"x": (0.0, 1.0)}).evaluate({"x": 0.1})
    assert nan.state is TrialState.FAIL and "non-finite" in nan.info["error"]
    assert FunctionObjective(lambda c: TrialResult.fail("x"), {"x": (0.0, 1.0)}).evaluate({"x": 0.1}).value is None
    with pytest.raises(TypeError, match="is not callable"):
        FunctionObjective(3, {"x": (0.0, 1.0)})  # type: ignore[arg-type]
