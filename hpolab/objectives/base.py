"""The Objective ABC: what an optimizer is run against."""

from __future__ import annotations

import inspect
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from hpolab.space import SearchSpace
from hpolab.trial import Direction, TrialResult, regret

__all__ = ["Fidelity", "FunctionObjective", "Objective"]


@dataclass(frozen=True)
class Fidelity:
    """A budget dimension of a multi-fidelity objective (e.g. epochs).

    Attributes:
        name: What the budget counts (``"epochs"``, ``"n_estimators"``...).
        min: Smallest budget.
        max: Largest (full) budget.
        integer: Whether budgets are whole numbers.
    """

    name: str
    min: float
    max: float
    integer: bool = True

    def __post_init__(self) -> None:
        if not (0 < self.min <= self.max):
            raise ValueError(f"fidelity {self.name}: need 0 < min <= max, got min={self.min}, max={self.max}")

    def check(self, budget: float | None) -> float:
        """Return the budget to use (``max`` for ``None``), or raise if it is out of range."""
        if budget is None:
            return self.max
        if not (self.min <= budget <= self.max):
            raise ValueError(f"budget: {budget} is outside [{self.min}, {self.max}] {self.name}")
        return float(round(budget)) if self.integer else float(budget)


class Objective(ABC):
    """Something to optimize: a search space and an ``evaluate`` function.

    Subclasses set :attr:`name`, :attr:`description`, :attr:`direction`, optionally
    :attr:`fidelity` and :attr:`optimum`, and implement :attr:`search_space` and :meth:`evaluate`.
    Mirrors HPOBench's ``objective_function(configuration, fidelity, rng)``.
    """

    #: Registry name (e.g. ``"toy/branin"``).
    name: str = "objective"
    #: Text an LLM sees: the model, the data set and the metric.
    description: str = ""
    #: Whether lower or higher values are better.
    direction: Direction = Direction.MINIMIZE
    #: The budget dimension, for multi-fidelity objectives.
    fidelity: Fidelity | None = None
    #: Best achievable (true) value where known, so regret is exact.
    optimum: float | None = None
    #: What the value measures; a study names its metric so (optuna-dashboard shows it).
    metric_name: str = "objective value"

    @property
    @abstractmethod
    def search_space(self) -> SearchSpace:
        """The space of configurations."""

    @abstractmethod
    def evaluate(self, config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> TrialResult:
        """Evaluate ``config`` at ``budget`` (``None``: full budget) with ``seed``.

        Returns:
            A TrialResult: value, runtime and info (``info["true_value"]`` for noisy benchmarks).
        """

    def __call__(self, config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> TrialResult:
        return self.evaluate(config, budget=budget, seed=seed)

    def regret(self, value: float) -> float | None:
        """``value``'s distance to the optimum (``None`` if the optimum is unknown); see :func:`hpolab.trial.regret`."""
        return regret(value, self.optimum, self.direction)

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.name!r})"


class FunctionObjective(Objective):
    """Wrap a plain function ``fn(config)`` (or ``fn(config, budget)``) as an Objective.

    The function returns a float, a TrialResult, or a dict of TrialResult fields.

    Args:
        fn: The function to optimize.
        space: Its search space.
        direction: ``"minimize"`` or ``"maximize"``.
        name: A name for reports.
        description: Text an LLM sees.
        fidelity: The budget dimension, if ``fn`` takes ``budget``.
        optimum: Best achievable value, if known.
        metric_name: What the value measures (``"validation error"``...), for Optuna's tools.
    """

    def __init__(
        self,
        fn: Callable[..., Any],
        space: SearchSpace | Mapping[str, Any] | Any,
        *,
        direction: Direction | str = Direction.MINIMIZE,
        name: str | None = None,
        description: str = "",
        fidelity: Fidelity | None = None,
        optimum: float | None = None,
        metric_name: str | None = None,
    ) -> None:
        if not callable(fn):
            raise TypeError(f"fn: {fn!r} is not callable")
        self._fn = fn
        self._space = SearchSpace.coerce(space)
        self.direction = Direction.coerce(direction)
        self.name = str(name or getattr(fn, "__name__", "function"))
        self.description = description
        self.fidelity = fidelity
        self.optimum = optimum
        if metric_name is not None:
            self.metric_name = metric_name
        params = inspect.signature(fn).parameters
        self._takes_budget = "budget" in params
        self._takes_seed = "seed" in params

    @property
    def search_space(self) -> SearchSpace:
        return self._space

    def evaluate(self, config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> TrialResult:
        kwargs: dict[str, Any] = {}
        if self._takes_budget:
            kwargs["budget"] = budget
        if self._takes_seed:
            kwargs["seed"] = seed
        start = time.perf_counter()
        out = self._fn(dict(config), **kwargs)
        elapsed = time.perf_counter() - start
        result = TrialResult.coerce(out)
        if result.runtime is None:
            result = TrialResult(result.value, result.state, elapsed, result.info)
        return result
