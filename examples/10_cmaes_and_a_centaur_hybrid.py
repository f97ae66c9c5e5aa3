"""CMA-ES alone, then CMA-ES with an LLM on 30% of the trials (Centaur's hybrid), on an HPOBench table.

`cmaes` is Optuna's CMA-ES sampler behind hpolab's ask/tell: a search distribution whose mean, step
size and covariance follow the results (its `state()` shows them). `llm-hybrid` with core="cmaes",
policy="fixed", share=0.3 and warmup=10 is Centaur's policy: CMA-ES runs the first 10 trials, then the
LLM proposes 30% of the trials, spread evenly, and CMA-ES learns from every trial, the LLM's included;
the LLM's prompt shows CMA-ES's mean, step size and leading directions. To run offline in seconds, the
LLM here is simulated: an oracle that answers from the table's best 5% (a ceiling: it knows the
table) and an adversary that answers from its worst 5% (a floor). `--local` adds a run with the local
SmolLM2 model (a minute or more on a CPU). Needs pip install -c constraints.txt "hpolab[tabular,cmaes]".

Run: python examples/10_cmaes_and_a_centaur_hybrid.py [N_TRIALS] [--local]
The same from the shell: hpolab run -o llm-hybrid -f hpobench/nn/credit_g --option core=cmaes -n 30 \
    --option policy=fixed --option share=0.3 --option warmup=10 \
    --option 'simulated={"kind": "oracle", "objective": "hpobench/nn/credit_g"}'
(without the simulated option, the local model).
"""

from __future__ import annotations

import collections
import sys

import hpolab

args = [a for a in sys.argv[1:] if a != "--local"]
N_TRIALS = int(args[0]) if args else 30
TABLE = "hpobench/nn/credit_g"

objective = hpolab.make_objective(TABLE)


def true_regret(study: hpolab.Study) -> float:
    """Regret of the best trial by the table's mean over its seeds (one evaluation returns one seed's value)."""
    return min(t.info["true_value"] for t in study.trials if t.is_complete) - objective.optimum


# 1. CMA-ES alone.
study = hpolab.create_study(objective, "cmaes", seed=0)
study.optimize(n_trials=N_TRIALS)
state = study.optimizer.state()
print(f"cmaes alone                  best {study.best_value:.4f}  true regret {true_regret(study):.4f}")
print(f"  after {state.generation} generations of {state.population}: step size {state.sigma:.3f}, mean {state.mean}")

# 2. Centaur's hybrid: CMA-ES core, the LLM on 30% of the trials after 10 CMA-ES trials.
centaur = {"core": "cmaes", "policy": "fixed", "share": 0.3, "warmup": 10}
llms = {
    "simulated oracle": {"simulated": {"kind": "oracle", "objective": TABLE, "quantile": 0.05}},
    "simulated adversary": {"simulated": {"kind": "adversary", "objective": TABLE, "quantile": 0.05}},
}
if "--local" in sys.argv:
    llms["local SmolLM2"] = {}  # no client: the default local model
for label, llm in llms.items():
    study = hpolab.create_study(objective, "llm-hybrid", seed=0, optimizer_kwargs={**centaur, **llm})
    study.optimize(n_trials=N_TRIALS)
    sources = collections.Counter(t.metadata.get("source") for t in study.trials)
    print(f"cmaes + {label:20s} best {study.best_value:.4f}  true regret {true_regret(study):.4f}  {dict(sources)}")
