"""Quickstart: tune a plain Python function with random search in ten lines.

Run: python examples/01_quickstart.py
"""

from __future__ import annotations

import math

import hpolab


def validation_error(config: dict) -> float:
    """A stand-in for training a model: lower is better."""
    return (math.log10(config["lr"]) + 2.5) ** 2 + 0.1 * (config["layers"] - 3) ** 2 + (config["opt"] == "sgd") * 0.3


space = {"lr": (1e-5, 1e-1, "log"), "layers": (1, 8), "opt": ["adam", "sgd"]}
study = hpolab.optimize(validation_error, "random", n_trials=40, space=space, seed=0)
print(f"best value {study.best_value:.4f} with {study.best_config}")
print(study.to_dataframe()[["id", "value", "params_lr", "params_layers", "params_opt"]].nsmallest(5, "value"))
