"""Toy 2-D test functions, each with a shifted version.

``f(x - c)`` with a fixed shift ``c_i ~ U(0, 1)`` keeps an LLM from recalling the optimum of a
well-known function. Every function has a known optimum, so regret is exact.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from hpolab.objectives.base import Fidelity, Objective
from hpolab.space import SearchSpace
from hpolab.trial import TrialResult

__all__ = ["SHIFT", "TOY_FUNCTIONS", "ToyObjective", "list_toy", "make_toy"]

#: Shift of the "shifted" versions: c ~ U(0, 1)^2 from a fixed seed, the same in every process.
SHIFT: tuple[float, float] = tuple(float(c) for c in np.random.default_rng(2024).uniform(0.0, 1.0, 2))  # type: ignore[assignment]


def _ackley(x1: float, x2: float) -> float:
    return (
        -20.0 * math.exp(-0.2 * math.sqrt(0.5 * (x1 * x1 + x2 * x2)))
        - math.exp(0.5 * (math.cos(2 * math.pi * x1) + math.cos(2 * math.pi * x2)))
        + math.e
        + 20.0
    )


def _branin(x1: float, x2: float) -> float:
    b = 5.1 / (4 * math.pi**2)
    c = 5 / math.pi
    t = 1 / (8 * math.pi)
    return (x2 - b * x1 * x1 + c * x1 - 6) ** 2 + 10 * (1 - t) * math.cos(x1) + 10


def _rosenbrock(x1: float, x2: float) -> float:
    return 100.0 * (x2 - x1 * x1) ** 2 + (1 - x1) ** 2


def _himmelblau(x1: float, x2: float) -> float:
    return (x1 * x1 + x2 - 11) ** 2 + (x1 + x2 * x2 - 7) ** 2


def _quad2d(x1: float, x2: float) -> float:
    return x1 * x1 + x2 * x2


def _illcond(x1: float, x2: float) -> float:
    return x1 * x1 + 1000.0 * x2 * x2


#: name -> (function, bounds of x1, bounds of x2, optimum value, one argmin)
TOY_FUNCTIONS: dict[
    str, tuple[Callable[[float, float], float], tuple[float, float], tuple[float, float], float, tuple[float, float]]
] = {
    "ackley": (_ackley, (-5.0, 5.0), (-5.0, 5.0), 0.0, (0.0, 0.0)),
    "branin": (_branin, (-5.0, 10.0), (0.0, 15.0), 0.39788735772973816, (math.pi, 2.275)),
    "rosenbrock": (_rosenbrock, (-5.0, 10.0), (-5.0, 10.0), 0.0, (1.0, 1.0)),
    "himmelblau": (_himmelblau, (-5.0, 5.0), (-5.0, 5.0), 0.0, (3.0, 2.0)),
    "quad2d": (_quad2d, (-5.0, 5.0), (-5.0, 5.0), 0.0, (0.0, 0.0)),
    "illcond": (_illcond, (-5.0, 5.0), (-5.0, 5.0), 0.0, (0.0, 0.0)),
}

_DESCRIPTIONS = {
    "ackley": "the Ackley function, a multimodal function with many local minima",
    "branin": "the Branin function",
    "rosenbrock": "the Rosenbrock function, a curved narrow valley",
    "himmelblau": "the Himmelblau function",
    "quad2d": "a well-conditioned quadratic",
    "illcond": "an ill-conditioned quadratic",
}


class ToyObjective(Objective):
    """A 2-D test function (``x1``, ``x2``), to minimize; its metric is the ``"function value"``.

    Args:
        function: One of ``TOY_FUNCTIONS`` (ackley, branin, rosenbrock, himmelblau, quad2d, illcond).
        shifted: Evaluate ``f(x - c)`` with the fixed shift :data:`SHIFT`.
        noise: Standard deviation of Gaussian noise added to the value (seeded by ``seed``).
        multi_fidelity: Add a fidelity (``budget`` in [1, 16]): the value at budget ``b`` is
            ``f(x) + (16 / b - 1) * bias(x)``, a low-fidelity approximation that converges to
            ``f`` at the full budget (for testing schedulers like ASHA).
        max_budget: The full budget when ``multi_fidelity`` is set.
    """

    def __init__(
        self,
        function: str,
        *,
        shifted: bool = False,
        noise: float = 0.0,
        multi_fidelity: bool = False,
        max_budget: float = 16.0,
    ) -> None:
        self.metric_name = "function value"
        if function not in TOY_FUNCTIONS:
            raise ValueError(f"function: {function!r} is not a toy function; known: {sorted(TOY_FUNCTIONS)}")
        if noise < 0:
            raise ValueError(f"noise: {noise} must be >= 0")
        fn, b1, b2, opt, _ = TOY_FUNCTIONS[function]
        self._fn = fn
        self._shift = SHIFT if shifted else (0.0, 0.0)
        self.noise = float(noise)
        self.function = function
        self.shifted = shifted
        self.name = f"toy/{'shifted_' if shifted else ''}{function}" + ("-mf" if multi_fidelity else "")
        self.optimum = opt
        self.fidelity = Fidelity("budget", 1.0, float(max_budget)) if multi_fidelity else None
        self._space = SearchSpace({"x1": b1, "x2": b2})
        self.description = (
            f"You are optimizing {_DESCRIPTIONS[function]} with two inputs, x1 and x2. "
            "The objective is the function value, to minimize; it is deterministic."
            if not noise
            else f"You are optimizing {_DESCRIPTIONS[function]} with two inputs, x1 and x2. "
            "The objective is the function value plus Gaussian noise, to minimize."
        )

    @property
    def search_space(self) -> SearchSpace:
        return self._space

    def true_value(self, config: Mapping[str, Any], budget: float | None = None) -> float:
        """The noise-free value at ``budget`` (full budget for ``None``)."""
        x1 = float(config["x1"]) - self._shift[0]
        x2 = float(config["x2"]) - self._shift[1]
        value = self._fn(x1, x2)
        if self.fidelity is not None:
            b = self.fidelity.check(budget)
            bias = 1.0 + 0.5 * math.sin(3 * x1) * math.cos(2 * x2)
            value += (self.fidelity.max / b - 1.0) * bias
        return value

    def evaluate(self, config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> TrialResult:
        start = time.perf_counter()
        true = self.true_value(config, budget)
        value = true
        if self.noise:
            value += float(np.random.default_rng(seed).normal(0.0, self.noise))
        info: dict[str, Any] = {"true_value": true}
        if self.fidelity is not None:
            info["budget"] = self.fidelity.check(budget)
        return TrialResult(value, runtime=time.perf_counter() - start, info=info)


def _parse(rest: str) -> tuple[str, bool, bool]:
    base = rest
    multi_fidelity = base.endswith("-mf")
    if multi_fidelity:
        base = base[: -len("-mf")]
    shifted = base.startswith("shifted_")
    if shifted:
        base = base[len("shifted_") :]
    return base, shifted, multi_fidelity


def make_toy(rest: str, **kwargs: Any) -> ToyObjective:
    """Registry factory: ``toy/<fn>``, ``toy/shifted_<fn>``, and ``-mf`` for a multi-fidelity version."""
    from hpolab.registry import unknown_objective

    base, shifted, multi_fidelity = _parse(rest)
    if base not in TOY_FUNCTIONS:
        raise unknown_objective("toy", rest, [n.partition("/")[2] for n in list_toy()])
    kwargs.setdefault("multi_fidelity", multi_fidelity)
    return ToyObjective(base, shifted=shifted, **kwargs)


def list_toy() -> dict[str, str]:
    """Registry lister of the toy family."""
    out: dict[str, str] = {}
    for fn in TOY_FUNCTIONS:
        out[f"toy/{fn}"] = f"{_DESCRIPTIONS[fn]} (2-D, minimize, optimum {TOY_FUNCTIONS[fn][3]:.4g})"
        out[f"toy/shifted_{fn}"] = f"{_DESCRIPTIONS[fn]}, shifted by a fixed c ~ U(0,1)^2"
    out["toy/branin-mf"] = "Branin with a budget in [1, 16] (low budgets are biased); for ASHA / Hyperband"
    return out
