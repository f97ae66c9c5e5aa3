"""Your own Objective class with a fidelity, so multi-fidelity optimizers (ASHA) can use it.

Subclass hpolab.Objective: give it a search space, a direction, a Fidelity (what the budget counts and
its range) and evaluate(config, budget, seed). Here a stand-in for training: the loss falls with the
epochs towards a floor set by the hyperparameters, plus seeded noise; the runtime is the epochs run.

Run: python examples/07_your_objective_with_a_fidelity.py [EPOCH_BUDGET]
"""

from __future__ import annotations

import math
import sys
from collections.abc import Mapping
from typing import Any

import numpy as np

import hpolab
from hpolab import Fidelity, Objective, SearchSpace, TrialResult

EPOCH_BUDGET = float(sys.argv[1]) if len(sys.argv) > 1 else 150.0


class LearningCurve(Objective):
    """Validation loss after `budget` epochs of a model whose floor depends on lr and width."""

    name = "learning-curve"
    description = "A synthetic learning curve: validation loss of a small network after some epochs."
    fidelity = Fidelity("epochs", 1, 27)

    def __init__(self) -> None:
        self._space = SearchSpace({"lr": (1e-4, 1.0, "log"), "width": (8, 512, "log"), "act": ["relu", "tanh"]})

    @property
    def search_space(self) -> SearchSpace:
        return self._space

    def evaluate(self, config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> TrialResult:
        epochs = self.fidelity.check(budget)  # None means the full budget
        floor = 0.05 + 0.1 * (math.log10(config["lr"]) + 2) ** 2 + 0.02 * abs(math.log2(config["width"]) - 7)
        floor += 0.03 if config["act"] == "tanh" else 0.0
        noise = np.random.default_rng(seed).normal(0.0, 0.005)
        loss = floor + (1.0 - floor) * math.exp(-epochs / 6.0) + noise
        return TrialResult(loss, runtime=epochs, info={"floor": floor})


objective = LearningCurve()
for name in ("asha", "random"):
    study = hpolab.create_study(objective, name, seed=0)
    study.optimize(max_budget_spent=EPOCH_BUDGET)
    best = study.best_trial
    full = [t for t in study.trials if t.budget in (None, objective.fidelity.max)]
    print(
        f"{name:6s}: {len(study.trials):3d} trials ({len(full)} at the full 27 epochs) for {study.budget_spent:g} "
        f"epochs; best loss {best.value:.4f} (floor {best.info['floor']:.4f}) at {best.budget or 27:g} epochs"
    )
