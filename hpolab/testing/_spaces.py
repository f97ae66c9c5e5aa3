"""Small search spaces and a deterministic test function for tests (no pytest needed)."""

from __future__ import annotations

import math
from typing import Any

from hpolab.space import SearchSpace

__all__ = ["conditional_space", "mixed_space", "quadratic"]


def mixed_space() -> SearchSpace:
    """Float, log-float, int, log-int and categorical parameters."""
    return SearchSpace(
        {
            "x": (-5.0, 5.0),
            "lr": (1e-4, 1e-1, "log"),
            "n": (1, 10),
            "width": (16, 1024, "log"),
            "opt": ["adam", "sgd", "rmsprop"],
        }
    )


def conditional_space() -> SearchSpace:
    """A space where ``momentum`` is only active when ``opt == "sgd"``."""
    import ConfigSpace as CS

    cs = CS.ConfigurationSpace()
    opt = CS.CategoricalHyperparameter("opt", ["adam", "sgd"])
    lr = CS.UniformFloatHyperparameter("lr", 1e-4, 1e-1, log=True)
    momentum = CS.UniformFloatHyperparameter("momentum", 0.0, 0.99)
    cs.add(opt, lr, momentum)
    cs.add(CS.EqualsCondition(momentum, opt, "sgd"))
    return SearchSpace(cs)


def quadratic(config: dict[str, Any]) -> float:
    """A deterministic test function over :func:`mixed_space` / :func:`conditional_space` configs."""
    value = 0.0
    for key, v in sorted(config.items()):
        if isinstance(v, str):
            value += {"adam": 0.0, "sgd": 1.0, "rmsprop": 0.5}.get(v, 0.25)
        elif key in ("lr", "width"):
            value += (math.log10(float(v)) + 2.0) ** 2
        else:
            value += (float(v) - 1.0) ** 2 / 10.0
    return value
