"""ASHA over TPE on a small CNN: TPE picks the configurations, ASHA decides how many epochs each gets.

The objective trains a small torch CNN on scikit-learn's 8x8 digits (offline); its fidelity is the
number of epochs. ASHA starts every configuration at the lowest rung and promotes the best third
(eta=3) to three times the epochs; the study stops once the epoch budget is spent.
Needs pip install -c constraints.txt "hpolab[torch]".

Run: python examples/05_asha_over_tpe_on_a_cnn.py [EPOCH_BUDGET]
The same from the shell: hpolab run -o asha -f cnn/digits --option base=tpe --option eta=3 --max-budget-spent 40
"""

from __future__ import annotations

import sys

import hpolab

EPOCH_BUDGET = float(sys.argv[1]) if len(sys.argv) > 1 else 30.0

objective = hpolab.make_objective("cnn/digits", max_epochs=9, threads=1, subset_fraction=0.5)
study = hpolab.create_study(
    objective,
    "asha",
    seed=0,
    optimizer_kwargs={"base": "tpe", "base_kwargs": {"n_startup_trials": 4}, "eta": 3},
)
study.optimize(max_budget_spent=EPOCH_BUDGET)

print(f"{len(study.trials)} trials, {study.budget_spent:g} epochs spent")
for trial in study.trials:
    print(f"  trial {trial.id:2d}: {trial.budget:g} epochs -> validation error {trial.value:.3f}")
best = study.best_trial
print(f"best: error {best.value:.3f} at {best.budget:g} epochs with {best.config}")
