"""Twins of the table objectives: the same table behind neutral names, re-labelled values and no data set.

A model that has read the public HPOBench, HPOLib or NAS-Bench-201 tables may recall a table's good
configurations from its data set's name and its hyperparameters' names; on the twin it cannot,
while the optimization problem stays the same. The twin of ``<table name>`` is registered as
``<table name>/twin`` (e.g. ``hpobench/nn/credit_g/twin``):

* Hyperparameter names become ``x1``, ``x2``, ... (assigned to the original columns in an order
  drawn from ``twin_seed``).
* Numeric grids become their ranks scaled to [0, 1] (``i / (n - 1)``, 3 decimals), in the order of
  the original values: a monotone map. Text choices become neutral labels ``c0``, ``c1``, ...
  (one shuffled labelling per distinct set of choices, so columns that share their choices, such as
  NAS-Bench-201's six edges, share their labels).
* The description names the model family and the metric generically, never the data set, and the
  parameters carry no descriptions.
* :meth:`TwinObjective.evaluate` maps a twin configuration back to the original one and looks it up
  in the original table, so the value (and the recorded seed, runtime and true value) is exactly the
  original's; :attr:`~TwinObjective.optimum` is the original's.

The registry name still says which table a twin is (reports need to pair it with its original); it
is not part of the text an LLM sees, and nor are the original names in ``info``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from hpolab.objectives.base import Objective
from hpolab.objectives.tabular import TABLES, TabularObjective
from hpolab.space import InvalidConfigError, Param, SearchSpace
from hpolab.trial import TrialResult

__all__ = ["TWIN_SUFFIX", "TwinObjective", "make_twin"]

#: The last part of a twin's registry name.
TWIN_SUFFIX = "twin"

#: Per table family: the model and the metric, said without the data set or the table's name.
_GENERIC: dict[str, tuple[str, str]] = {
    "hpobench/nn": ("a neural network classifier", "its validation error rate, to minimize"),
    "hpolib": ("a neural network regression model", "its validation mean squared error, to minimize"),
    "nb201": ("a neural network for image classification", "its validation error rate, to minimize"),
}


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


class _TwinTable:
    """The original table seen through the twin's names and values (what table-reading helpers use)."""

    def __init__(self, twin: TwinObjective) -> None:
        self._twin = twin
        table = twin.original.table
        self.true = table.true
        self.best_row = table.best_row
        self.optimum = table.optimum
        self.names = list(twin.search_space.names)

    def config_of(self, row: int) -> dict[str, Any]:
        """The twin configuration of table row ``row``."""
        return self._twin.from_original(self._twin.original.table.config_of(row))


class TwinObjective(Objective):
    """A table objective behind neutral names and monotone re-labelled values (see the module docstring).

    Args:
        original: The table objective to hide.
        twin_seed: Seed of the order in which ``x1, x2, ...`` are assigned to the original columns
            and of the labels of text choices; the same seed gives the same twin.

    Attributes:
        original: The table objective behind the twin.
        original_names: Twin name -> original name (``{"x1": "width", ...}``).

    Raises:
        TypeError: If ``original`` is not a :class:`~hpolab.objectives.tabular.TabularObjective`.
    """

    def __init__(self, original: TabularObjective, *, twin_seed: int = 0) -> None:
        if not isinstance(original, TabularObjective):
            raise TypeError(
                f"original: twins exist for table objectives (hpobench/nn/*, hpolib/*, nb201/*), "
                f"not for {type(original).__name__} {getattr(original, 'name', original)!r}"
            )
        self.original = original
        self.twin_seed = int(twin_seed)
        self.name = f"{original.name}/{TWIN_SUFFIX}"
        self.direction = original.direction
        self.metric_name = original.metric_name
        self.fidelity = original.fidelity
        self.optimum = original.optimum
        table = original.table
        rng = np.random.default_rng([self.twin_seed, len(table.names)])
        order = [int(i) for i in rng.permutation(len(table.names))]
        self.original_names: dict[str, str] = {f"x{k + 1}": table.names[i] for k, i in enumerate(order)}
        labellings: dict[tuple[Any, ...], dict[Any, Any]] = {}
        #: original name -> {original value: twin value}
        self._forward: dict[str, dict[Any, Any]] = {}
        for name, choices in zip(table.names, table.choices, strict=True):
            if all(_is_number(c) for c in choices):
                ranked = sorted(choices, key=float)
                n = len(ranked)
                self._forward[name] = {c: round(i / (n - 1), 3) if n > 1 else 0.0 for i, c in enumerate(ranked)}
            else:
                if choices not in labellings:
                    labels = [int(i) for i in rng.permutation(len(choices))]
                    labellings[choices] = {c: f"c{labels[j]}" for j, c in enumerate(choices)}
                self._forward[name] = labellings[choices]
        #: twin name -> {twin value: original value}
        self._backward: dict[str, dict[Any, Any]] = {
            twin: {v: c for c, v in self._forward[orig].items()} for twin, orig in self.original_names.items()
        }
        model, metric = _GENERIC[original.family]
        self.description = (
            f"You are tuning {model} on an undisclosed data set. The objective is {metric}. The hyperparameters "
            "are coded: their names are neutral (x1, x2, ...), a numeric hyperparameter's values are their ranks "
            "scaled to [0, 1] (in the order of the original values), and a categorical hyperparameter's values are "
            "neutral labels (c0, c1, ...). Values are looked up in a table of precomputed training runs (every "
            "configuration of the grid was trained with a few seeds); each evaluation returns the result of one of "
            "those seeds, so repeated evaluations of a configuration are noisy."
        )
        self._space: SearchSpace | None = None
        self._table: _TwinTable | None = None

    # ---------------------------------------------------------------- mapping
    def from_original(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The twin configuration of an original grid point.

        Raises:
            InvalidConfigError: If ``config`` is not a grid point of the original table.
        """
        _, snapped = self.original.row(config)
        if snapped:
            raise InvalidConfigError([f"{k}: {v['from']!r} is not on the original grid" for k, v in snapped.items()])
        return {twin: self._forward[orig][config[orig]] for twin, orig in self.original_names.items()}

    def to_original(self, config: Mapping[str, Any]) -> dict[str, Any]:
        """The original configuration of a twin configuration (off-grid values snapped first).

        Raises:
            InvalidConfigError: If a hyperparameter is missing or unknown, or a value matches no choice.
        """
        original, _ = self._undo(config)
        return original

    def _undo(self, config: Mapping[str, Any]) -> tuple[dict[str, Any], dict[str, dict[str, Any]]]:
        """(original configuration, twin snaps name -> {"from", "to"}) of a twin configuration."""
        names = self.search_space.names
        if len(config) != len(names) or any(n not in config for n in names):
            problems = [f"{k}: unknown hyperparameter; known: {', '.join(names)}" for k in config if k not in names]
            problems += [
                f"{n}: missing; give one of {list(self.search_space[n].choices)}" for n in names if n not in config
            ]
            raise InvalidConfigError(problems)
        original: dict[str, Any] = {}
        snapped: dict[str, dict[str, Any]] = {}
        for twin, orig in self.original_names.items():
            value = config[twin]
            back = self._backward[twin]
            try:
                hit = value in back and not isinstance(value, bool)
            except TypeError:  # unhashable value
                hit = False
            if not hit:
                param: Param = self.search_space[twin]
                fixed, note = param.repair(value)
                if note is not None and "matches no choice" in note:
                    raise InvalidConfigError([param.check(value) or f"{twin}: {value!r} is not on the grid"])
                snapped[twin] = {"from": value, "to": fixed}
                value = fixed
            original[orig] = back[value]
        return original, snapped

    # ------------------------------------------------------------ objective
    @property
    def search_space(self) -> SearchSpace:
        """The original grid under the twin's names and values, defaults mapped from the original's."""
        if self._space is None:
            import ConfigSpace as CS

            space = self.original.search_space
            default = space.default()
            cs = CS.ConfigurationSpace()
            for twin, orig in self.original_names.items():
                forward = self._forward[orig]
                sequence = sorted(forward.values(), key=lambda v: (str(type(v)), v))
                cs.add(CS.OrdinalHyperparameter(twin, sequence, default_value=forward[default[orig]]))
            self._space = SearchSpace(cs)
        return self._space

    @property
    def table(self) -> _TwinTable:
        """The original table seen through the twin's names (``true``, ``config_of(row)``, ``best_row``)."""
        if self._table is None:
            self._table = _TwinTable(self)
        return self._table

    @property
    def n_configs(self) -> int:
        """Number of grid points in the table."""
        return self.original.n_configs

    @property
    def best_config(self) -> dict[str, Any]:
        """The twin configuration of the original's best grid point."""
        return self.from_original(self.original.best_config)

    def true_value(self, config: Mapping[str, Any]) -> float:
        """The mean over the recorded seeds at the original configuration of ``config``."""
        return self.original.true_value(self.to_original(config))

    def evaluate(self, config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> TrialResult:
        """Look the original configuration of ``config`` up in the original table.

        Args:
            config: A twin grid point; values between grid points are snapped to the nearest.
            budget: Passed on (the tables ignore it).
            seed: Passed on: picks the recorded seed as the original does.

        Returns:
            The original's result at the original configuration, with ``info["snapped"]`` (and
            ``info["evaluated_config"]`` when something was snapped) in the twin's names.
        """
        original, snapped = self._undo(config)
        result = self.original.evaluate(original, budget=budget, seed=seed)
        info = {k: v for k, v in result.info.items() if k not in ("snapped", "evaluated_config", "error")}
        if result.value is None:
            return TrialResult.fail("the table has no record for this configuration")
        info["snapped"] = snapped
        if snapped:
            info["evaluated_config"] = self.from_original(original)
        return TrialResult(result.value, result.state, result.runtime, info)

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_table"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


def make_twin(name: str, *, twin_seed: int = 0, **kwargs: Any) -> TwinObjective:
    """The twin of the registered table objective ``name`` (registry name ``<name>/twin``).

    Args:
        name: A table objective's registry name, e.g. ``"hpobench/nn/credit_g"``.
        twin_seed: See :class:`TwinObjective`.
        **kwargs: Options of the original objective (``seed``).

    Raises:
        UnknownNameError: If ``name`` is not registered or is not a table objective.
    """
    from hpolab.registry import UnknownNameError, make_objective

    original = make_objective(name, **kwargs)
    if not isinstance(original, TabularObjective):
        families = ", ".join(f"{family}/*" for family in TABLES)
        raise UnknownNameError(
            f"objective: {name + '/' + TWIN_SUFFIX!r}: twins exist for the table objectives ({families}); "
            f"{name!r} is a {type(original).__name__}"
        )
    return TwinObjective(original, twin_seed=twin_seed)
