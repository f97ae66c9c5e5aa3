"""SearchSpace: construction, sampling, validation, repair, conversions, describe, schema and grid."""

from __future__ import annotations

import json
import math
import random
from collections import Counter
from typing import Any

import ConfigSpace as CS
import numpy as np
import pytest
from ConfigSpace import (
    AndConjunction,
    EqualsCondition,
    ForbiddenAndConjunction,
    ForbiddenEqualsClause,
    InCondition,
    OrConjunction,
)
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy import stats

from hpolab import InvalidConfigError, InvalidSpaceError, SearchSpace

PLAIN_TYPES = (int, float, str, bool, type(None))


def mixed() -> SearchSpace:
    return SearchSpace(
        {
            "x": (-5.0, 5.0),
            "n": (1, 10),
            "lr": (1e-4, 1e-1, "log"),
            "width": (16, 1024, "log"),
            "opt": ["adam", "sgd"],
            "batch": [32, 64, 128],
            "act": "relu",
        }
    )


def conditional_cs() -> CS.ConfigurationSpace:
    """svm / rf / mlp with Equals, In, And, Or conditions, an ordinal and a forbidden clause."""
    cs = CS.ConfigurationSpace()
    model = CS.CategoricalHyperparameter("model", ["svm", "rf", "mlp"])
    kernel = CS.CategoricalHyperparameter("kernel", ["rbf", "poly"])
    c = CS.UniformFloatHyperparameter("C", 1e-3, 1e3, log=True)
    degree = CS.UniformIntegerHyperparameter("degree", 2, 5)
    n_trees = CS.UniformIntegerHyperparameter("n_trees", 10, 1000, log=True)
    depth = CS.OrdinalHyperparameter("depth", [2, 4, 8, 16])
    lr = CS.UniformFloatHyperparameter("lr", 1e-5, 1e-1, log=True)
    layers = CS.UniformIntegerHyperparameter("layers", 1, 4)
    momentum = CS.UniformFloatHyperparameter("momentum", 0.0, 0.99)
    bias = CS.CategoricalHyperparameter("bias", [True, False])
    cs.add([model, kernel, c, degree, n_trees, depth, lr, layers, momentum, bias])
    cs.add(
        [
            EqualsCondition(kernel, model, "svm"),
            EqualsCondition(c, model, "svm"),
            AndConjunction(EqualsCondition(degree, kernel, "poly"), EqualsCondition(degree, model, "svm")),
            EqualsCondition(n_trees, model, "rf"),
            InCondition(depth, model, ["rf", "mlp"]),
            EqualsCondition(lr, model, "mlp"),
            EqualsCondition(layers, model, "mlp"),
            OrConjunction(EqualsCondition(momentum, model, "mlp"), EqualsCondition(momentum, kernel, "poly")),
        ]
    )
    cs.add(ForbiddenAndConjunction(ForbiddenEqualsClause(model, "rf"), ForbiddenEqualsClause(depth, 16)))
    return cs


def expected_active(config: dict[str, Any]) -> set[str]:
    """The active parameters of ``conditional_cs`` written out by hand."""
    model = config["model"]
    active = {"model", "bias"}
    if model == "svm":
        active |= {"kernel", "C"}
        if config.get("kernel") == "poly":
            active |= {"degree", "momentum"}
    if model == "rf":
        active |= {"n_trees", "depth"}
    if model == "mlp":
        active |= {"depth", "lr", "layers", "momentum"}
    return active


def is_plain(value: Any) -> bool:
    return type(value) in PLAIN_TYPES


# --------------------------------------------------------------------------- construction
def test_dict_kinds_follow_the_bounds_types() -> None:
    space = mixed()
    p = space.params
    assert (p["x"].kind, p["x"].lower, p["x"].upper, p["x"].log) == ("float", -5.0, 5.0, False)
    assert (p["n"].kind, p["n"].lower, p["n"].upper) == ("int", 1, 10)
    assert (p["lr"].kind, p["lr"].log) == ("float", True)
    assert (p["width"].kind, p["width"].log) == ("int", True)
    assert (p["opt"].kind, p["opt"].choices) == ("categorical", ("adam", "sgd"))
    assert (p["batch"].kind, p["batch"].choices) == ("categorical", (32, 64, 128))
    assert (p["act"].kind, p["act"].choices) == ("constant", ("relu",))
    assert len(space) == 7 and set(space) == set(p) and not space.is_conditional


def test_mixed_bounds_give_a_float_and_linear_scale_is_accepted() -> None:
    space = SearchSpace({"a": (0, 1.0), "b": (1, 5, "linear"), "c": [0.5], "d": 3})
    assert space["a"].kind == "float" and space["a"].lower == 0.0
    assert space["b"].kind == "int" and not space["b"].log
    assert space["c"].kind == "constant" and space["d"].kind == "constant" and space["d"].choices == (3,)


def test_numpy_bounds_and_choices_become_plain() -> None:
    space = SearchSpace({"n": (np.int64(1), np.int64(5)), "x": (np.float64(0.0), 1.0), "o": ["a", np.str_("b")]})
    assert space["n"].kind == "int" and type(space["n"].lower) is int
    assert space["x"].kind == "float"
    assert all(type(c) is str for c in space["o"].choices)


@pytest.mark.parametrize(
    ("spec", "key", "hint"),
    [
        ({"x": (5.0, 1.0)}, "x:", "below the upper bound"),
        ({"x": (1.0, 1.0)}, "x:", "below the upper bound"),
        ({"x": (0.0, 1.0, "log")}, "x:", "> 0 on a log scale"),
        ({"x": (-1, 10, "log")}, "x:", "> 0 on a log scale"),
        ({"x": (0.0, 1.0, "cubic")}, "x:", "'log' or 'linear'"),
        ({"x": (0.0, math.inf)}, "x:", "finite"),
        ({"x": ("a", "b")}, "x:", "must be numbers"),
        ({"x": (True, 5)}, "x:", "must be numbers"),
        ({"x": (1, 2, 3, 4)}, "x:", "(low, high)"),
        ({"x": ()}, "x:", "(low, high)"),
        ({"x": None}, "x:", "(low, high)"),
        ({"x": True}, "x:", "(low, high)"),
        ({"x": {"low": 0, "high": 1}}, "x:", "a list of choices"),
        ({"x": {1, 2}}, "x:", "a list of choices"),
        ({"x": []}, "x:", "at least one"),
        ({"x": ["a", "a"]}, "x:", "duplicates"),
        ({"x": [1, 1.0]}, "x:", "duplicates"),
        ({"x": [True, 1]}, "x:", "duplicates"),
        ({"x": [[1], [2]]}, "x:", "str, int, float"),
        ({"x": [float("nan"), 1.0]}, "x:", "finite"),
        ({"x": float("nan")}, "x:", "finite"),
        ({"x": (0, 10**30)}, "x:", "2**53"),
        pytest.param(
            {"x": (1e-300, 1e300, "log")},
            "x:",
            "not a valid hyperparameter spec",
            marks=pytest.mark.filterwarnings("ignore::RuntimeWarning"),
        ),
        ({"x": CS.UniformFloatHyperparameter("y", 0.0, 1.0)}, "x:", "same name as its key"),
        ({"": (0.0, 1.0)}, "''", "non-empty string"),
        ({3: (0.0, 1.0)}, "3", "non-empty string"),
        ({}, "search space", "at least one"),
    ],
)
def test_malformed_specs_name_the_key_and_the_fix(spec: Any, key: str, hint: str) -> None:
    with pytest.raises(InvalidSpaceError) as info:
        SearchSpace(spec)
    message = str(info.value)
    assert key in message and hint in message, message
    assert isinstance(info.value, ValueError)


def test_not_a_mapping_is_rejected_with_an_example() -> None:
    with pytest.raises(InvalidSpaceError, match=r"list is not a dict or ConfigurationSpace"):
        SearchSpace([("x", (0.0, 1.0))])  # type: ignore[arg-type]


def test_descriptions_must_name_parameters_and_show_in_describe() -> None:
    space = SearchSpace({"lr": (1e-4, 1e-1, "log")}, descriptions={"lr": "learning rate"})
    assert space.describe().startswith("lr, learning rate, Type: UniformFloat")
    assert space.descriptions() == {"lr": "learning rate"}
    with pytest.raises(InvalidSpaceError, match=r"\['nope'\]"):
        SearchSpace({"lr": (1e-4, 1e-1, "log")}, descriptions={"nope": "x"})


def test_from_configspace_with_conditions() -> None:
    space = SearchSpace(conditional_cs())
    assert space.is_conditional
    assert space["depth"].kind == "ordinal" and space["depth"].choices == (2, 4, 8, 16)
    assert space["bias"].choices == (True, False)
    assert space.names.index("model") < space.names.index("kernel") < space.names.index("degree")
    assert SearchSpace.coerce(space) is space
    assert SearchSpace(space) == space
    with pytest.raises(KeyError, match="not a hyperparameter"):
        space["nope"]


# --------------------------------------------------------------------------- sampling
def test_samples_are_inside_the_space_and_plain() -> None:
    space = mixed()
    configs = space.sample(300, seed=1)
    assert isinstance(configs, list) and len(configs) == 300
    for config in configs:
        assert space.validate(config) == config
        assert all(is_plain(v) for v in config.values()), config
        assert type(config["x"]) is float and type(config["n"]) is int and type(config["width"]) is int
        assert type(config["batch"]) is int and config["act"] == "relu"
    one = space.sample(seed=1)
    assert isinstance(one, dict) and one == configs[0]
    assert space.sample(0, seed=1) == []
    with pytest.raises(ValueError, match="n: -1"):
        space.sample(-1)


def test_same_seed_same_samples_and_rng_is_used() -> None:
    space = mixed()
    assert space.sample(20, seed=7) == space.sample(20, seed=7)
    assert space.sample(20, seed=7) != space.sample(20, seed=8)
    rng = np.random.default_rng(7)
    assert space.sample(20, rng=rng) == space.sample(20, seed=7)
    # the same generator continues: a second batch differs from the first
    assert space.sample(5, rng=rng) != space.sample(5, seed=7)


def test_sampling_never_touches_global_random_state() -> None:
    np_state = np.random.get_state()
    py_state = random.getstate()
    SearchSpace(conditional_cs()).sample(50, seed=3)
    mixed().sample(50)
    after = np.random.get_state()
    assert all(
        np.array_equal(a, b) if isinstance(a, np.ndarray) else a == b for a, b in zip(np_state, after, strict=True)
    )
    assert random.getstate() == py_state


def test_conditional_samples_hold_only_active_parameters() -> None:
    cs = conditional_cs()
    space = SearchSpace(cs)
    shapes: Counter[frozenset[str]] = Counter()
    for config in space.sample(1500, seed=2):
        assert set(config) == expected_active(config), config
        assert set(space.active_names(config)) == set(config)
        assert (config["model"], config.get("depth")) != ("rf", 16)  # forbidden
        CS.Configuration(cs, values=config)  # ConfigSpace agrees it is valid
        assert all(is_plain(v) for v in config.values())
        assert type(config["bias"]) is bool
        shapes[frozenset(config)] += 1
    # every branch is reached: svm+rbf, svm+poly (And + Or), rf, mlp (In + Or)
    assert len(shapes) == 4 and min(shapes.values()) > 100


def test_log_float_is_log_uniform() -> None:
    space = SearchSpace({"lr": (1e-4, 1e-1, "log")})
    values = np.array([c["lr"] for c in space.sample(4000, seed=0)])
    logs = np.log10(values)
    # uniform in log10 on [-4, -1]: each decade holds a third
    per_decade = np.histogram(logs, bins=[-4, -3, -2, -1])[0] / len(values)
    assert np.all(np.abs(per_decade - 1 / 3) < 0.04), per_decade
    assert stats.kstest(logs, stats.uniform(loc=-4, scale=3).cdf).pvalue > 1e-3
    # a linear-uniform sampler would put 90% in the top decade and fail the KS test hard
    assert stats.kstest(values, stats.uniform(loc=1e-4, scale=0.1 - 1e-4).cdf).pvalue < 1e-30


def test_log_int_is_log_distributed_and_linear_int_uniform() -> None:
    space = SearchSpace({"w": (1, 1024, "log"), "n": (1, 6)})
    configs = space.sample(4000, seed=0)
    widths = np.array([c["w"] for c in configs])
    assert widths.min() >= 1 and widths.max() <= 1024
    # about half the mass is below sqrt(1024) = 32 (a linear sampler gives 3%)
    assert 0.45 < np.mean(widths <= 32) < 0.62
    counts = np.bincount([c["n"] for c in configs], minlength=7)[1:]
    assert stats.chisquare(counts).pvalue > 1e-3


# --------------------------------------------------------------------------- validate
def valid_mixed() -> dict[str, Any]:
    return {"x": 0.5, "n": 3, "lr": 0.01, "width": 64, "opt": "adam", "batch": 64, "act": "relu"}


def test_validate_returns_canonical_plain_values() -> None:
    space = mixed()
    config = {
        "x": np.float32(0.5),
        "n": 3.0,
        "lr": np.float64(0.01),
        "width": np.int64(64),
        "opt": np.str_("adam"),
        "batch": 64.0,
        "act": "relu",
    }
    out = space.validate(config)
    assert out == valid_mixed()
    assert all(is_plain(v) for v in out.values())
    assert type(out["n"]) is int and type(out["batch"]) is int and type(out["opt"]) is str
    assert list(out) == space.names
    assert config in space and {"x": 0.5} not in space and "x" not in space


@pytest.mark.parametrize(
    ("change", "fragments"),
    [
        ({"x": 7.5}, ["x", "7.5", "above the upper bound 5.0"]),
        ({"x": -6.0}, ["x", "-6.0", "below the lower bound -5.0"]),
        ({"lr": 1.0}, ["lr", "1.0", "upper bound 0.1"]),
        ({"n": 0}, ["n", "0", "lower bound 1"]),
        ({"n": 2.5}, ["n", "2.5", "not an integer", "[1, 10]"]),
        ({"x": "abc"}, ["x", "'abc'", "not a number", "[-5.0, 5.0]"]),
        ({"x": "0.5"}, ["x", "'0.5'", "not a number"]),
        ({"x": True}, ["x", "True", "not a number"]),
        ({"x": None}, ["x", "None", "not a number"]),
        ({"x": math.nan}, ["x", "nan", "not finite"]),
        ({"x": math.inf}, ["x", "inf", "not finite"]),
        ({"opt": "adamw"}, ["opt", "'adamw'", "not one of the choices [adam, sgd]"]),
        ({"opt": "ADAM"}, ["opt", "'ADAM'", "choices"]),
        ({"batch": 100}, ["batch", "100", "choices [32, 64, 128]"]),
        ({"act": "tanh"}, ["act", "'tanh'", "[relu]"]),
        ({"extra": 1}, ["extra", "unknown hyperparameter", "known: "]),
    ],
)
def test_validate_messages_name_key_value_and_bound(change: dict[str, Any], fragments: list[str]) -> None:
    space = mixed()
    config = {**valid_mixed(), **change}
    with pytest.raises(InvalidConfigError) as info:
        space.validate(config)
    message = str(info.value)
    for fragment in fragments:
        assert fragment in message, (fragment, message)
    assert len(info.value.problems) == 1
    assert isinstance(info.value, ValueError)


def test_validate_missing_key_and_several_problems() -> None:
    space = mixed()
    config = valid_mixed()
    del config["lr"]
    with pytest.raises(InvalidConfigError, match=r"lr: missing; give a value \(lr, Type: UniformFloat"):
        space.validate(config)
    problems = space.problems({"x": 9.0, "n": "a", "zz": 1})
    keys = sorted(p.split(":")[0] for p in problems)
    assert keys == ["act", "batch", "lr", "n", "opt", "width", "x", "zz"]
    assert space.problems(valid_mixed()) == []
    assert space.problems([1, 2]) == ["config: [1, 2] is not a dict of hyperparameter values"]  # type: ignore[arg-type]


def test_validate_conditional_inactive_missing_and_forbidden() -> None:
    space = SearchSpace(conditional_cs())
    ok = {"model": "svm", "kernel": "rbf", "C": 1.0, "bias": True}
    assert space.validate(ok) == {"model": "svm", "C": 1.0, "kernel": "rbf", "bias": True}
    with pytest.raises(InvalidConfigError, match=r"n_trees: 50 given but the parameter is inactive"):
        space.validate({**ok, "n_trees": 50})
    # And + Or conditions: poly makes degree and momentum required
    problems = space.problems({**ok, "kernel": "poly"})
    assert sorted(p.split(":")[0] for p in problems) == ["degree", "momentum"]
    assert all("missing" in p for p in problems)
    mlp = {"model": "mlp", "depth": 4, "lr": 0.01, "layers": 2, "momentum": 0.9, "bias": False}
    assert space.validate(mlp) == mlp
    with pytest.raises(InvalidConfigError, match=r"kernel: 'rbf' given but the parameter is inactive"):
        space.validate({**mlp, "kernel": "rbf"})
    with pytest.raises(InvalidConfigError, match="forbidden"):
        space.validate({"model": "rf", "n_trees": 100, "depth": 16, "bias": True})
    assert space.validate({"model": "rf", "n_trees": 100, "depth": 8, "bias": True})["depth"] == 8
    with pytest.raises(InvalidConfigError, match=r"depth: 5 is not one of the choices \[2, 4, 8, 16\]"):
        space.validate({"model": "rf", "n_trees": 100, "depth": 5, "bias": True})


# --------------------------------------------------------------------------- repair
def test_repair_a_valid_config_changes_nothing() -> None:
    space = mixed()
    fixed, changes = space.repair(valid_mixed())
    assert fixed == valid_mixed() and changes == []


@pytest.mark.parametrize(
    ("key", "value", "expected", "note"),
    [
        ("x", 7.5, 5.0, "x: clipped 7.5 to 5.0"),
        ("x", -9, -5.0, "x: clipped -9 to -5.0"),
        ("x", "0.25", 0.25, "x: converted '0.25' to 0.25"),
        ("x", " 1e0 ", 1.0, "x: converted"),
        ("x", "7", 5.0, "x: clipped"),
        ("x", math.inf, 5.0, "x: clipped inf to 5.0"),
        ("x", -math.inf, -5.0, "x: clipped -inf to -5.0"),
        ("x", math.nan, 0.0, "x: nan is not a number, used the default 0.0"),
        ("x", "abc", 0.0, "x: 'abc' is not a number, used the default 0.0"),
        ("x", None, 0.0, "used the default"),
        ("x", [1.0], 0.0, "used the default"),
        ("x", True, 1.0, "x: converted True to 1.0"),
        ("x", 10**400, 5.0, "x: clipped"),
        ("n", 3.6, 4, "n: rounded 3.6 to 4"),
        ("n", "5", 5, "n: converted '5' to 5"),
        ("n", "5.4", 5, "n: rounded '5.4' to 5"),
        ("n", 42, 10, "n: clipped 42 to 10"),
        ("n", -3.7, 1, "n: clipped -3.7 to 1"),
        ("lr", 5.0, 0.1, "lr: clipped 5.0 to 0.1"),
        ("lr", "1e-3", 0.001, "lr: converted"),
        ("opt", "ADAM", "adam", "opt: snapped 'ADAM' to adam"),
        ("opt", " 'Sgd' ", "sgd", "opt: snapped"),
        ("opt", "adamw", "adam", "opt: 'adamw' matches no choice, used the default adam"),
        ("batch", 100, 128, "batch: snapped 100 to 128"),
        ("batch", "64", 64, "batch: snapped '64' to 64"),
        ("batch", 50.0, 64, "batch: snapped 50.0 to 64"),
        ("batch", -1000, 32, "batch: snapped"),
        ("act", "tanh", "relu", "act: replaced 'tanh' with the constant relu"),
    ],
)
def test_repair_each_kind_of_fix(key: str, value: Any, expected: Any, note: str) -> None:
    space = mixed()
    fixed, changes = space.repair({**valid_mixed(), key: value})
    assert fixed[key] == expected and type(fixed[key]) is type(expected)
    assert len(changes) == 1 and changes[0].startswith(f"{key}: ") and note in changes[0], changes
    assert space.validate(fixed) == fixed


def test_repair_fills_drops_and_reports_every_change() -> None:
    space = mixed()
    config = valid_mixed()
    del config["lr"]
    config["nope"] = 3
    fixed, changes = space.repair(config)
    assert "nope" not in fixed and math.isclose(fixed["lr"], space["lr"].default)
    assert changes == [
        "nope: dropped unknown hyperparameter",
        f"lr: missing, filled with the default {space['lr'].default!r}",
    ]
    fixed, changes = space.repair("not a dict")  # type: ignore[arg-type]
    assert fixed == space.default() and changes[0].startswith("config: str is not a dict")


def test_repair_snaps_ordinals_to_the_nearest_value() -> None:
    cs = CS.ConfigurationSpace()
    cs.add(
        [
            CS.OrdinalHyperparameter("geo", [2, 4, 8, 16]),
            CS.OrdinalHyperparameter("lin", [1, 2, 3, 4]),
            CS.OrdinalHyperparameter("size", ["small", "medium", "large"]),
        ]
    )
    space = SearchSpace(cs)
    base = {"geo": 2, "lin": 1, "size": "small"}

    def fix(key: str, value: Any) -> Any:
        return space.repair({**base, key: value})[0][key]

    # geometric sequences snap by ratio, others by distance
    assert fix("geo", 11) == 8 and fix("geo", 12) == 16 and fix("geo", 3.1) == 4 and fix("geo", 1000) == 16
    assert fix("geo", "8") == 8 and fix("geo", 0) == 2
    assert fix("lin", 1.45) == 1 and fix("lin", 3.6) == 4 and fix("lin", -5) == 1
    assert fix("size", "LARGE") == "large" and fix("size", "huge") == "small"


def test_repair_bools_and_none_choices() -> None:
    space = SearchSpace({"flag": [False, True], "depth": [3, None, 5]})
    fixed, _ = space.repair({"flag": "true", "depth": "none"})
    assert fixed == {"flag": True, "depth": None}
    fixed, _ = space.repair({"flag": 1, "depth": "NONE"})
    assert fixed["flag"] is True and fixed["depth"] is None
    fixed, _ = space.repair({"flag": 0.0, "depth": np.int64(5)})
    assert fixed == {"flag": False, "depth": 5}
    fixed, changes = space.repair({"flag": np.bool_(True), "depth": 3})
    assert fixed == {"flag": True, "depth": 3} and type(fixed["flag"]) is bool and changes == []


def test_repair_conditional_drops_inactive_fills_active() -> None:
    space = SearchSpace(conditional_cs())
    fixed, changes = space.repair({"model": "SVM", "kernel": "poly", "lr": 0.1, "degree": 9.0, "bias": "False"})
    assert fixed == {"model": "svm", "C": 1.0, "kernel": "poly", "degree": 5, "momentum": 0.495, "bias": False}
    assert "lr: dropped, inactive under its condition" in changes
    assert "degree: clipped 9.0 to 5" in changes
    assert any(c.startswith("momentum: missing") for c in changes)
    space.validate(fixed)
    # a forbidden result falls back to the default configuration, and says so
    fixed, changes = space.repair({"model": "rf", "n_trees": 100, "depth": 16, "bias": True})
    assert fixed == space.default() and "forbidden" in changes[-1]


JUNK = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**30), max_value=10**30),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=8),
    st.sampled_from(["svm", "RF", " mlp ", "poly", "1e3", "nan", "-inf", "True", "none", "16", "'rbf'"]),
    st.lists(st.integers(), max_size=2),
    st.dictionaries(st.text(max_size=2), st.integers(), max_size=2),
    st.integers(-5, 5).map(np.int64),
    st.floats(-1e4, 1e4).map(np.float64),
)
KEYS = st.one_of(
    st.sampled_from(["model", "kernel", "C", "degree", "n_trees", "depth", "lr", "layers", "momentum", "bias"]),
    st.text(max_size=5),
)
COND_SPACE = SearchSpace(conditional_cs())


@settings(max_examples=250, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(KEYS, JUNK, max_size=12))
def test_repair_always_gives_a_valid_config(config: dict[str, Any]) -> None:
    fixed, changes = COND_SPACE.repair(config)
    assert COND_SPACE.validate(fixed) == fixed  # valid, and already canonical
    assert all(is_plain(v) for v in fixed.values())
    assert set(fixed) == set(COND_SPACE.active_names(fixed))
    assert COND_SPACE.repair(fixed) == (fixed, [])  # idempotent
    if COND_SPACE.problems(config):
        assert changes, "an invalid config was repaired without reporting a change"


@settings(max_examples=100, deadline=None)
@given(st.data())
def test_repair_keeps_valid_configs(data: st.DataObject) -> None:
    config = COND_SPACE.sample(seed=data.draw(st.integers(0, 2**32 - 1)))
    assert COND_SPACE.repair(config) == (config, [])


# --------------------------------------------------------------------------- conversions
def test_json_round_trip_keeps_conditions_forbidden_and_descriptions() -> None:
    space = SearchSpace(conditional_cs(), descriptions={"C": "SVM regularization"})
    text = space.to_json()
    json.loads(text)
    back = SearchSpace.from_json(text)
    assert back == space and back.descriptions() == {"C": "SVM regularization"}
    assert back.describe() == space.describe()
    assert back.sample(50, seed=4) == space.sample(50, seed=4)
    assert back.grid(2) == space.grid(2)
    plain = mixed()
    assert SearchSpace.from_json(plain.to_json()) == plain
    with pytest.raises(InvalidSpaceError, match="cannot be read"):
        SearchSpace.from_json("{not json")
    with pytest.raises(InvalidSpaceError, match="cannot be read"):
        SearchSpace.from_json('{"other": 1}')


def test_configspace_round_trip_is_a_copy() -> None:
    cs = conditional_cs()
    space = SearchSpace(cs)
    out = space.to_configspace()
    assert isinstance(out, CS.ConfigurationSpace) and out == cs and out is not cs
    out.add(CS.UniformFloatHyperparameter("extra", 0.0, 1.0))
    assert "extra" not in space.params
    assert SearchSpace(space.to_configspace()) == space
    assert len(space.to_configspace().forbidden_clauses) == 1
    assert len(space.to_configspace().conditions) == len(cs.conditions)


def test_optuna_round_trip() -> None:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    space = mixed()
    dists = space.to_optuna()
    assert dists["x"] == FloatDistribution(-5.0, 5.0)
    assert dists["lr"] == FloatDistribution(1e-4, 1e-1, log=True)
    assert dists["n"] == IntDistribution(1, 10)
    assert dists["width"] == IntDistribution(16, 1024, log=True)
    assert dists["opt"] == CategoricalDistribution(["adam", "sgd"])
    assert dists["act"] == CategoricalDistribution(["relu"])
    back = SearchSpace.from_optuna(dists)
    assert back == space
    for name, p in space.params.items():
        q = back[name]
        assert (q.kind, q.lower, q.upper, q.log, q.choices) == (p.kind, p.lower, p.upper, p.log, p.choices)


def test_optuna_samples_are_valid_configs() -> None:
    import optuna

    space = mixed()
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=0))
    for _ in range(30):
        trial = study.ask(space.to_optuna())
        assert space.validate(trial.params) == trial.params
        study.tell(trial, 0.0)


def test_every_optuna_distribution_maps_both_ways() -> None:
    from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

    distributions = {
        "f": FloatDistribution(-1.0, 2.0),
        "flog": FloatDistribution(1e-4, 1e-1, log=True),
        "fstep": FloatDistribution(0.0, 2.0, step=0.5),
        "ftenth": FloatDistribution(0.0, 1.0, step=0.1),
        "i": IntDistribution(0, 10),
        "ilog": IntDistribution(1, 1024, log=True),
        "istep": IntDistribution(1, 9, step=2),
        "c": CategoricalDistribution(["adam", "sgd"]),
        "cnum": CategoricalDistribution([32, 64, 128]),
    }
    space = SearchSpace.from_optuna(distributions)
    assert space.to_optuna() == distributions
    assert SearchSpace.from_json(space.to_json()).to_optuna() == distributions
    assert space["fstep"].kind == "ordinal" and space["fstep"].choices == (0.0, 0.5, 1.0, 1.5, 2.0)
    assert space["istep"].choices == (1, 3, 5, 7, 9)
    # Optuna's stepped values carry float rounding (0.1 * 3): they validate to the exact choice
    assert space.validate({**space.default(), "ftenth": 0.30000000000000004})["ftenth"] == space["ftenth"].choices[3]
    with pytest.raises(InvalidConfigError, match=r"fstep: 0\.7 is not one of the choices"):
        space.validate({**space.default(), "fstep": 0.7})
    assert "Step: 0.5" in space.describe()
    with pytest.raises(InvalidSpaceError, match="use a coarser step"):
        SearchSpace.from_optuna({"x": FloatDistribution(0.0, 1.0, step=1e-6)})
    with pytest.raises(InvalidSpaceError, match="y: str is not supported"):
        SearchSpace.from_optuna({"y": "uniform"})  # type: ignore[dict-item]


def test_ordinal_becomes_categorical_in_optuna() -> None:
    space = SearchSpace(conditional_cs())
    assert space.to_optuna()["depth"].choices == (2, 4, 8, 16)  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- describe
def test_describe_uses_configspace_wording() -> None:
    space = SearchSpace({"lr": (1e-4, 1e-1, "log"), "n": (1, 10), "opt": ["adam", "sgd"], "act": "relu"})
    lines = space.describe().splitlines()
    assert lines == [
        "act, Type: Constant, Value: relu",
        "lr, Type: UniformFloat, Range: [0.0001, 0.1], Default: 0.0031622776602, on log-scale",
        "n, Type: UniformInteger, Range: [1, 10], Default: 6",
        "opt, Type: Categorical, Choices: {adam, sgd}, Default: adam",
    ]


def test_describe_matches_configspace_str_for_every_kind() -> None:
    cs = conditional_cs()
    cs.add(
        [
            CS.UniformFloatHyperparameter("big", 1.0, 1e7),
            CS.UniformFloatHyperparameter("tiny", 1e-9, 1e-6, log=True),
            CS.Constant("const", 0.5),
        ]
    )
    space = SearchSpace(cs)
    assert space.describe().splitlines() == [str(hp) for hp in cs.values()]
    assert "Default: 5000000.5" in space.describe()  # no %g rounding in the prompt


# --------------------------------------------------------------------------- json schema
def check_schema(schema: dict[str, Any], config: Any) -> list[str]:
    """A tiny JSON-schema checker for the subset json_schema() emits."""
    errors = []
    if schema.get("type") == "object" and not isinstance(config, dict):
        return ["not an object"]
    for key in schema.get("required", []):
        if key not in config:
            errors.append(f"{key} required")
    for key, value in config.items():
        sub = schema["properties"].get(key)
        if sub is None:
            if schema.get("additionalProperties") is False:
                errors.append(f"{key} not allowed")
            continue
        if "enum" in sub:
            if not any(value == e and type(value) is type(e) for e in sub["enum"]):
                errors.append(f"{key} not in enum")
            continue
        kind = sub["type"]
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            errors.append(f"{key} not a number")
            continue
        if kind == "integer" and not isinstance(value, int):
            errors.append(f"{key} not an integer")
        if value < sub["minimum"] or value > sub["maximum"]:
            errors.append(f"{key} out of range")
    return errors


@pytest.mark.parametrize("space", [mixed(), COND_SPACE], ids=["mixed", "conditional"])
def test_json_schema_accepts_samples_and_rejects_bad_configs(space: SearchSpace) -> None:
    schema = json.loads(json.dumps(space.json_schema()))  # JSON-serializable
    for config in space.sample(200, seed=5):
        assert check_schema(schema, json.loads(json.dumps(config))) == [], config
    config = space.sample(seed=6)
    name = next(n for n, p in space.params.items() if p.kind == "float" and n in config)
    assert check_schema(schema, {**config, name: space[name].upper * 10 + 1}) == [f"{name} out of range"]
    assert check_schema(schema, {**config, "zzz": 1}) == ["zzz not allowed"]
    first = space.names[0]
    assert check_schema(schema, {k: v for k, v in config.items() if k != first}) == [f"{first} required"]


def test_json_schema_with_jsonschema_package() -> None:
    jsonschema = pytest.importorskip("jsonschema", reason="jsonschema is optional; the tiny checker above covers it")
    for space in (mixed(), COND_SPACE):
        schema = space.json_schema()
        validator = jsonschema.Draft202012Validator(schema)
        jsonschema.Draft202012Validator.check_schema(schema)
        for config in space.sample(100, seed=8):
            assert list(validator.iter_errors(config)) == []
        assert list(validator.iter_errors({**space.sample(seed=1), "zzz": 1}))


def test_json_schema_requires_only_unconditional_parameters() -> None:
    schema = COND_SPACE.json_schema()
    assert sorted(schema["required"]) == ["bias", "model"]
    assert schema["properties"]["depth"] == {"enum": [2, 4, 8, 16]}
    assert schema["properties"]["degree"] == {"type": "integer", "minimum": 2, "maximum": 5}


# --------------------------------------------------------------------------- grid
def test_grid_axes() -> None:
    space = SearchSpace(
        {"x": (0.0, 1.0), "lr": (1e-4, 1e-1, "log"), "few": (1, 3), "many": (1, 100), "o": ["a", "b"], "c": 7}
    )
    p = space.params
    assert p["x"].grid(5) == [0.0, 0.25, 0.5, 0.75, 1.0]
    assert np.allclose(p["lr"].grid(4), [1e-4, 1e-3, 1e-2, 1e-1])
    assert p["few"].grid(5) == [1, 2, 3]
    assert p["many"].grid(5) == [1, 26, 50, 75, 100]
    assert p["o"].grid(5) == ["a", "b"] and p["c"].grid(5) == [7]
    assert p["x"].grid(1) == [0.5]
    with pytest.raises(ValueError, match="resolution: 0"):
        p["x"].grid(0)
    grid = space.grid(3)
    assert len(grid) == 3 * 3 * 3 * 3 * 2 * 1 == space.grid_size(3)
    assert len({space.key(c) for c in grid}) == len(grid)
    assert all(space.validate(c) == c and all(is_plain(v) for v in c.values()) for c in grid)


def test_grid_conditional_dedup_and_forbidden() -> None:
    space = COND_SPACE
    grid = space.grid(3)
    # svm: C(3) x [rbf + poly x degree(3) x momentum(3)] = 30; rf: n_trees(3) x depth(4 minus
    # the forbidden 16) = 9; mlp: depth(4) x lr(3) x layers(3) x momentum(3) = 108; all x bias(2)
    assert len(grid) == (30 + 9 + 108) * 2
    assert space.grid_size(3) >= len(grid)
    assert len({space.key(c) for c in grid}) == len(grid)
    cs = conditional_cs()
    for config in grid:
        assert set(config) == expected_active(config)
        CS.Configuration(cs, values=config)
    assert not any(c["model"] == "rf" and c["depth"] == 16 for c in grid)


# --------------------------------------------------------------------------- small API
def test_key_default_active_names_and_equality() -> None:
    space = COND_SPACE
    a = {"model": "svm", "kernel": "rbf", "C": 1.0, "bias": True}
    b = {"bias": True, "C": 1.0, "kernel": "rbf", "model": "svm"}
    assert space.key(a) == space.key(b) and hash(space.key(a)) == hash(space.key(b))
    assert space.key(a) != space.key({**a, "C": 2.0})
    default = space.default()
    assert default == {"model": "svm", "C": 1.0, "kernel": "rbf", "bias": True}
    space.validate(default)
    assert space.active_names({"model": "mlp"}) == ["bias", "model", "depth", "layers", "lr", "momentum"]
    assert space.active_names({"model": "svm"}) == ["bias", "model", "C", "kernel"]  # kernel missing: no degree
    assert SearchSpace(conditional_cs()) == space and hash(SearchSpace(conditional_cs())) == hash(space)
    assert mixed() != space and space != "space"
    assert "SearchSpace(" in repr(space)


def test_forbidden_clauses_of_every_kind_agree_with_configspace() -> None:
    def base() -> CS.ConfigurationSpace:
        cs = CS.ConfigurationSpace()
        a = CS.CategoricalHyperparameter("a", ["x", "y", "z"])
        b = CS.UniformIntegerHyperparameter("b", 1, 10)
        c = CS.UniformIntegerHyperparameter("c", 1, 10)
        d = CS.UniformFloatHyperparameter("d", 0.0, 1.0)
        e = CS.OrdinalHyperparameter("e", [1, 2, 4])
        cs.add([a, b, c, d, e, EqualsCondition(d, a, "x")])
        return cs

    cs = base()
    a, b, c, d, e = (cs[n] for n in "abcde")
    cs.add(
        [
            CS.ForbiddenInClause(b, [9, 10]),
            CS.ForbiddenLessThanRelation(c, b),
            CS.ForbiddenAndConjunction(CS.ForbiddenEqualsClause(a, "x"), CS.ForbiddenGreaterThanClause(d, 0.9)),
            CS.ForbiddenOrConjunction(CS.ForbiddenEqualsClause(e, 4), CS.ForbiddenEqualsClause(a, "z")),
        ]
    )
    free, space = SearchSpace(base()), SearchSpace(cs)
    verdicts = Counter()
    for config in free.sample(1500, seed=0):
        try:
            CS.Configuration(cs, values=config)
            allowed = True
        except Exception:  # ConfigSpace raises several types for forbidden values
            allowed = False
        assert (config in space) == allowed, config
        verdicts[allowed] += 1
    assert verdicts[True] > 100 and verdicts[False] > 100
    for config in space.sample(300, seed=1) + space.grid(3):
        CS.Configuration(cs, values=config)


ODD_SPACE = SearchSpace(
    {
        "x": (-1.0, 1.0),
        "lr": (1e-5, 1.0, "log"),
        "k": (-3, 3),
        "flag": [True, False],
        "depth": [None, 2, 8],
        "batch": [16, 32, 64],
        "mix": ["a", 1, 2.5],
        "c": "const",
    }
)


@settings(max_examples=200, deadline=None)
@given(st.dictionaries(st.one_of(st.sampled_from(ODD_SPACE.names), st.text(max_size=3)), JUNK, max_size=10))
def test_repair_always_valid_with_odd_choices(config: dict[str, Any]) -> None:
    fixed, changes = ODD_SPACE.repair(config)
    assert ODD_SPACE.validate(fixed) == fixed and list(fixed) == ODD_SPACE.names
    assert all(is_plain(v) for v in fixed.values())
    assert ODD_SPACE.repair(fixed) == (fixed, [])
    assert bool(changes) == bool(ODD_SPACE.problems(config))


def test_numeric_and_negated_conditions_agree_with_configspace() -> None:
    cs = CS.ConfigurationSpace()
    n = CS.UniformIntegerHyperparameter("n", 1, 10)
    x = CS.UniformFloatHyperparameter("x", 0.0, 1.0)
    kind = CS.CategoricalHyperparameter("kind", ["a", "b", "c"])
    big = CS.UniformFloatHyperparameter("big", 0.0, 1.0)
    small = CS.UniformFloatHyperparameter("small", 0.0, 1.0)
    not_a = CS.UniformIntegerHyperparameter("not_a", 0, 3)
    deep = CS.CategoricalHyperparameter("deep", ["u", "v"])
    cs.add([n, x, kind, big, small, not_a, deep])
    cs.add(
        [
            CS.GreaterThanCondition(big, n, 5),
            CS.LessThanCondition(small, x, 0.5),
            CS.NotEqualsCondition(not_a, kind, "a"),
            CS.AndConjunction(CS.GreaterThanCondition(deep, not_a, 1), CS.EqualsCondition(deep, kind, "b")),
        ]
    )
    space = SearchSpace(cs)
    seen = Counter()
    for config in space.sample(800, seed=3) + space.grid(3):
        CS.Configuration(cs, values=config)  # ConfigSpace agrees on which parameters are active
        assert ("big" in config) == (config["n"] > 5) and ("small" in config) == (config["x"] < 0.5)
        assert ("not_a" in config) == (config["kind"] != "a")
        assert ("deep" in config) == (config["kind"] == "b" and config.get("not_a", 0) > 1)
        seen.update(list(config))
    assert all(seen[name] > 20 for name in space.names)


def test_odd_choices_survive_json_and_optuna_round_trips() -> None:
    back = SearchSpace.from_json(ODD_SPACE.to_json())
    assert back == ODD_SPACE and back.sample(30, seed=2) == ODD_SPACE.sample(30, seed=2)
    assert back["depth"].choices == (None, 2, 8) and back["mix"].choices == ("a", 1, 2.5)
    assert SearchSpace.from_optuna(ODD_SPACE.to_optuna()) == ODD_SPACE


def test_description_from_configspace_meta() -> None:
    cs = CS.ConfigurationSpace()
    cs.add(CS.UniformFloatHyperparameter("lr", 1e-4, 1e-1, log=True, meta={"description": "learning rate"}))
    space = SearchSpace(cs)
    assert space.descriptions() == {"lr": "learning rate"}
    assert space.describe().startswith("lr, learning rate, Type: UniformFloat, Range: [0.0001, 0.1]")
    assert SearchSpace(cs, descriptions={"lr": "step size"}).descriptions() == {"lr": "step size"}


def test_grid_size_is_exact_for_conditions_and_does_not_overflow() -> None:
    assert SearchSpace({"a": (0.0, 1.0)}).grid_size(7) == 7
    for resolution in (1, 2, 3, 4):  # forbidden clauses: an upper bound
        assert COND_SPACE.grid_size(resolution) >= len(COND_SPACE.grid(resolution))
    # without forbidden clauses the count is exact
    no_forbidden = CS.ConfigurationSpace()
    model = CS.CategoricalHyperparameter("model", ["a", "b", "c"])
    no_forbidden.add(model)
    for branch in "abc":
        for j in range(4):
            hp = CS.UniformFloatHyperparameter(f"{branch}{j}", 0.0, 1.0)
            no_forbidden.add([hp, EqualsCondition(hp, model, branch)])
    space = SearchSpace(no_forbidden)
    assert space.grid_size(3) == len(space.grid(3)) == 3 * 3**4
    assert space.grid_size(40) == 3 * 40**4  # the full product would be 3 * 40**12
    huge = SearchSpace({f"x{i}": (0.0, 1.0) for i in range(20)})
    assert huge.grid_size(10) == 10**20  # no int64 overflow


# --------------------------------------------------------------------------- neighbours and unseen samples
def test_neighbour_moves_at_least_one_value_and_stays_inside() -> None:
    rng = np.random.default_rng(0)
    for space in (mixed(), COND_SPACE):
        for _ in range(100):
            config = space.sample(rng=rng)
            new, notes = space.neighbour(config, rng)
            assert space.validate(new) == new and all(is_plain(v) for v in new.values())
            assert new != config and notes
            assert notes[0].split(":")[0] in space.names and "perturbed" in notes[0], notes


def test_neighbour_steps_scale_integers_ordinals_and_constants() -> None:
    space = SearchSpace({"n": (1, 10), "x": (0.0, 1.0)})
    rng = np.random.default_rng(1)
    for _ in range(50):
        new, _ = space.neighbour({"n": 5, "x": 0.5}, rng, scale=1e-9)
        assert new["n"] in (4, 5, 6) and abs(new["x"] - 0.5) < 1e-6
        assert new != {"n": 5, "x": 0.5}  # a tiny step still moves an integer by one
    ordinal = SearchSpace(CS.ConfigurationSpace({"d": CS.OrdinalHyperparameter("d", [2, 4, 8, 16])}))
    assert {ordinal.neighbour({"d": 4}, rng)[0]["d"] for _ in range(50)} == {2, 8}
    constant = SearchSpace({"act": "relu"})
    assert constant.neighbour({"act": "relu"}, rng) == ({"act": "relu"}, [])
    same = [space.neighbour({"n": 3, "x": 0.1}, np.random.default_rng(7)) for _ in range(2)]
    assert same[0] == same[1]


def test_sample_unseen_avoids_seen_keys_and_says_when_none_is_left() -> None:
    space = SearchSpace({"a": ["x", "y", "z"]})
    rng = np.random.default_rng(0)
    seen = {space.key({"a": "x"}), space.key({"a": "y"})}
    assert all(space.sample_unseen(seen, rng) == {"a": "z"} for _ in range(20))
    seen.add(space.key({"a": "z"}))
    assert space.sample_unseen(seen, rng, tries=50) is None
    first = mixed().sample_unseen(set(), np.random.default_rng(3))
    assert first == mixed().validate(mixed().sample(rng=np.random.default_rng(3)))


def test_a_partial_configuration_is_checked_for_the_values_it_gives():
    cs = CS.ConfigurationSpace()
    opt = CS.CategoricalHyperparameter("opt", ["adam", "sgd"])
    momentum = CS.UniformFloatHyperparameter("momentum", 0.0, 0.99)
    cs.add(opt, momentum, CS.UniformFloatHyperparameter("lr", 1e-4, 1e-1, log=True))
    cs.add(EqualsCondition(momentum, opt, "sgd"))
    act = CS.CategoricalHyperparameter("act", ["relu", "tanh"])
    cs.add(act, ForbiddenEqualsClause(act, "tanh"))
    space = SearchSpace(cs)
    assert space.problems({"opt": "sgd"}, partial=True) == []
    assert space.validate({"lr": np.float64(0.01)}, partial=True) == {"lr": 0.01}
    assert space.problems({"opt": "sgd", "momentum": 0.5}, partial=True) == []
    assert "inactive" in space.problems({"momentum": 0.5}, partial=True)[0]  # its parent must be given too
    assert "above the upper bound" in space.problems({"momentum": 1.5, "opt": "sgd"}, partial=True)[0]
    assert space.problems({"act": "tanh"}, partial=True) == []  # clauses judge whole configurations only
    assert "forbidden" in space.problems({"opt": "adam", "lr": 0.01, "act": "tanh"}, partial=True)[0]
    with pytest.raises(InvalidConfigError, match="lr: missing"):
        space.validate({"opt": "sgd", "momentum": 0.5})
