"""Any hpolab optimizer inside an ordinary Optuna study, through HpolabSampler.

Your Optuna code stays as it is (define-by-run suggests, study.optimize, Optuna's storages and
dashboard); only the sampler changes. Here SMAC's random forest (pip install "hpolab[smac]") when it
is installed, else hpolab's TPE.

Run: python examples/06_hpolab_inside_optuna.py [TRIALS]
"""

from __future__ import annotations

import importlib.util
import math
import sys

import optuna

from hpolab.integrations.optuna import HpolabSampler

N_TRIALS = int(sys.argv[1]) if len(sys.argv) > 1 else 20


def objective(trial: optuna.Trial) -> float:
    lr = trial.suggest_float("lr", 1e-5, 1e-1, log=True)
    layers = trial.suggest_int("layers", 1, 8)
    opt = trial.suggest_categorical("opt", ["adam", "sgd"])
    return (math.log10(lr) + 2.5) ** 2 + 0.1 * (layers - 3) ** 2 + (opt == "sgd") * 0.3


name = "smac-rf" if importlib.util.find_spec("smac") else "tpe"
optuna.logging.set_verbosity(optuna.logging.WARNING)
study = optuna.create_study(sampler=HpolabSampler(name, seed=0))
study.optimize(objective, n_trials=N_TRIALS)
print(f"hpolab's {name} inside Optuna: best {study.best_value:.4f} with {study.best_params}")
print(study.trials_dataframe()[["number", "value", "params_lr", "params_layers", "params_opt"]].nsmallest(3, "value"))
