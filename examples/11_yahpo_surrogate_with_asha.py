"""ASHA on a YAHPO Gym surrogate: LCBench's network on OpenML task 167184, with epochs as the fidelity.

`yahpo/lcbench/167184` predicts, with YAHPO Gym's surrogate network (run on onnxruntime), what
training a funnel-shaped MLP for a given number of epochs (1 to 52) on that task would give: a
validation error in milliseconds instead of minutes of training. ASHA (eta=3) starts every
configuration at 1 epoch and promotes the best third of each rung to 3, 9 and the full 52 epochs (30
trials reach the lower rungs; more trials, the argument, climb higher).
The surrogate's data (yahpo_data v1.0.2, https://github.com/slds-lmu/yahpo_data) is not shipped with
hpolab: point HPOLAB_YAHPO_DATA at its folder. Needs pip install -c constraints.txt "hpolab[yahpo]".

Run: HPOLAB_YAHPO_DATA=<yahpo_data folder> python examples/11_yahpo_surrogate_with_asha.py [N_TRIALS]
The same from the shell: hpolab run -o asha -f yahpo/lcbench/167184 --option eta=3 -n 30
"""

from __future__ import annotations

import collections
import sys

import hpolab
from hpolab.objectives import DatasetUnavailableError

N_TRIALS = int(sys.argv[1]) if len(sys.argv) > 1 else 30

try:
    objective = hpolab.make_objective("yahpo/lcbench/167184")  # the data folder from HPOLAB_YAHPO_DATA
except DatasetUnavailableError as exc:
    sys.exit(str(exc))  # it says where the data comes from and how to point hpolab at it

study = hpolab.create_study(objective, "asha", seed=0, optimizer_kwargs={"eta": 3})
study.optimize(n_trials=N_TRIALS)

print(f"{objective.name}: {objective.search_space.names}")
print(f"{len(study.trials)} trials, {study.budget_spent:g} epochs in all ({N_TRIALS * 52} at the full 52 each)")
for budget, count in sorted(collections.Counter(t.budget for t in study.trials).items()):
    best = min(t.value for t in study.trials if t.budget == budget)
    print(f"  {count:2d} trials at {budget:4g} epochs, best validation error {best:.4f}")
simulated = sum(t.info["time"] for t in study.trials)
print(f"the surrogate predicts {simulated / 60:.0f} minutes of training for these trials")
best = study.best_trial
print(f"best: error {best.value:.4f} at {best.budget:g} epochs with {best.config}")
