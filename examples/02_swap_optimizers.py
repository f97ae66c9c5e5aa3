"""Swapping optimizers is one argument: the same study with every registered classic backend.

Run: python examples/02_swap_optimizers.py
"""

from __future__ import annotations

import hpolab

objective = hpolab.make_objective("toy/branin")
for name in ("random", "grid", "tpe", "smac-rf", "asha"):
    if name not in hpolab.list_optimizers():
        print(f"{name:8s} not registered in this install")
        continue
    try:
        study = hpolab.create_study(objective, name, seed=0)
    except ImportError as exc:  # an optional extra is missing: the message says which
        print(f"{name:8s} skipped: {exc}")
        continue
    study.optimize(n_trials=20)
    regret = objective.regret(study.best_value)
    print(f"{name:8s} best {study.best_value:9.4f}  regret {regret:.4f}  budget spent {study.budget_spent:g}")
