"""A table objective and its twin: the same optimization problem with nothing in it for a model to recall.

An LLM trained on the web may have read the public HPOBench tables, so its good result on
`hpobench/nn/credit_g` may be recall. The twin, `hpobench/nn/credit_g/twin`, is the same table behind
neutral names (x1, x2, ...), values re-labelled by rank (a monotone map to [0, 1]) and a description
that withholds the data set; each twin configuration maps back to the original one, whose table value
it returns. `SimulatedMemorizerClient` stands in for a model that memorized the tables (not a model:
it answers from a table's best 1% when the prompt names the table, at random otherwise); as the
`llm` optimizer's client it beats random search on the original and loses that lead on the twin.
Needs pip install -c constraints.txt "hpolab[tabular]".

Run: python examples/13_memorization_twins.py [N_SEEDS] [N_TRIALS]
"""

from __future__ import annotations

import sys

import numpy as np

import hpolab
from hpolab.testing import SimulatedMemorizerClient

N_SEEDS = int(sys.argv[1]) if len(sys.argv) > 1 else 10
N_TRIALS = int(sys.argv[2]) if len(sys.argv) > 2 else 10

original = hpolab.make_objective("hpobench/nn/credit_g")
twin = hpolab.make_objective("hpobench/nn/credit_g/twin")

# 1. The renamed space: each twin name stands for one original hyperparameter, each value for a grid value.
print(f"{original.name}: {original.search_space.names}")
print(f"{twin.name}: {twin.search_space.names}")
for name, original_name in twin.original_names.items():
    print(
        f"  {name} = {original_name:18s} {twin.search_space[name].choices} -> {original.search_space[original_name].choices}"
    )
print(f"the twin's description: {twin.description[:110]}...")

# 2. A twin configuration maps back to the original one, and both give the same value.
config = twin.search_space.sample(rng=np.random.default_rng(0))
back = twin.to_original(config)
print(f"twin {config}\n  -> original {back}")
print(
    f"  value {twin.evaluate(config, seed=0).value:.4f} on the twin, {original.evaluate(back, seed=0).value:.4f} on the original"
)
assert twin.from_original(back) == config


# 3. The memorizer's lead over random search on the original, and on the twin.
def regret(objective: hpolab.Objective, optimizer: str, seed: int, **kwargs: object) -> float:
    study = hpolab.create_study(objective, optimizer, seed=seed, optimizer_kwargs=kwargs or None)
    study.optimize(n_trials=N_TRIALS)
    return min(t.info["true_value"] for t in study.trials if t.is_complete) - objective.optimum


for objective in (original, twin):
    clients = [SimulatedMemorizerClient(seed=seed) for seed in range(N_SEEDS)]
    memorizer = np.mean([regret(objective, "llm", seed, client=client) for seed, client in enumerate(clients)])
    random = np.mean([regret(objective, "random", seed) for seed in range(N_SEEDS)])
    recalled = sum(sum(c.recalled.values()) for c in clients)
    guessed = sum(c.guessed for c in clients)
    print(
        f"{objective.name:26s} mean regret over {N_SEEDS} seeds x {N_TRIALS} trials: random {random:.4f}, "
        f"memorizer {memorizer:.4f} ({recalled} answers recalled, {guessed} guessed)"
    )
