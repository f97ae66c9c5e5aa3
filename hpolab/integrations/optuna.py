"""``HpolabSampler``: any hpolab optimizer as an Optuna sampler.

Optuna users keep their objective (``trial.suggest_*``, define-by-run, pruning) and their study
(storage, dashboards) and swap only the sampler::

    import optuna
    from hpolab.integrations.optuna import HpolabSampler

    study = optuna.create_study(sampler=HpolabSampler("tpe", seed=0))
    study.optimize(objective, n_trials=50)
"""

from __future__ import annotations

import logging
import math
import threading
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from optuna.distributions import BaseDistribution, CategoricalDistribution, FloatDistribution, IntDistribution
from optuna.samplers import BaseSampler, RandomSampler
from optuna.search_space import IntersectionSearchSpace
from optuna.study import Study, StudyDirection
from optuna.trial import FrozenTrial, TrialState

from hpolab.optimizers._base import Optimizer, SearchExhausted
from hpolab.space import InvalidConfigError, InvalidSpaceError, SearchSpace
from hpolab.trial import Trial, TrialResult
from hpolab.trial import TrialState as HpolabState

__all__ = ["HpolabSampler"]

_logger = logging.getLogger("hpolab.integrations.optuna")

OptimizerFactory = Callable[..., Optimizer]


def _supported(dist: BaseDistribution) -> bool:
    if isinstance(dist, (FloatDistribution, IntDistribution)):
        return dist.step is None or (dist.high - dist.low) / dist.step < 100_000
    if isinstance(dist, CategoricalDistribution):
        return all(isinstance(c, (str, int, float)) and not isinstance(c, bool) for c in dist.choices)
    return False


class HpolabSampler(BaseSampler):
    """An Optuna sampler that asks an hpolab optimizer for the parameters of each trial.

    Optuna objectives are define-by-run: the search space is only known once trials have run. As
    Optuna's own relative samplers (CMA-ES, GP) do, the sampler uses the *intersection search
    space*: the parameters every finished trial (complete or pruned) has. Trials before any has
    finished, parameters outside the intersection (those behind ``if`` branches, i.e. conditional
    ones) and distributions hpolab cannot express (odd categorical choices, steps of over 100,000 values) are
    sampled by an independent sampler (Optuna's ``RandomSampler`` with the same seed).

    Once the intersection is known the optimizer is built on it (``SearchSpace.from_optuna``) with
    the study's direction, and every finished trial it did not ask is given to it with
    ``observe``; if the intersection changes later, a fresh optimizer is built the same way. Each
    trial's relative parameters come from one ``optimizer.ask()``; when the trial finishes, the
    optimizer is told its value (COMPLETE), its last reported intermediate value (PRUNED) or a
    failure (FAIL). Enqueued trials (``study.enqueue_trial``) keep their fixed parameters and are
    observed. All results stay in the Optuna study's storage, as with any sampler.

    Args:
        optimizer: A registry name (``"random"``, ``"tpe"``, ``"smac-rf"``, ``"llm"``...) or a factory
            ``factory(space, direction=..., seed=...) -> Optimizer``.
        seed: Seed of the optimizer and of the independent sampler.
        optimizer_kwargs: Options of an optimizer given by name.
        independent_sampler: The sampler of parameters outside the relative search space.

    Raises:
        ValueError: In a multi-objective study (hpolab optimizers are single-objective).
    """

    def __init__(
        self,
        optimizer: str | OptimizerFactory = "random",
        *,
        seed: int | None = None,
        optimizer_kwargs: Mapping[str, Any] | None = None,
        independent_sampler: BaseSampler | None = None,
    ) -> None:
        if not isinstance(optimizer, str) and not callable(optimizer):
            raise ValueError(f"optimizer: {optimizer!r} must be a registry name or a factory(space, direction, seed)")
        if optimizer_kwargs and not isinstance(optimizer, str):
            raise ValueError("optimizer_kwargs: only for an optimizer given by name; bind options in your factory")
        self._factory = optimizer
        self._kwargs = dict(optimizer_kwargs or {})
        self._seed = seed
        self._independent = independent_sampler or RandomSampler(seed=seed)
        self._intersection = IntersectionSearchSpace(include_pruned=True)
        self._lock = threading.RLock()
        self._optimizer: Optimizer | None = None
        self._space_key: tuple[tuple[str, str], ...] | None = None
        self._asked: dict[int, tuple[Optimizer, Trial]] = {}  # Optuna trial number -> hpolab trial
        self._seen: set[int] = set()  # Optuna trial numbers already given to the current optimizer

    @property
    def optimizer(self) -> Optimizer | None:
        """The current hpolab optimizer (``None`` until the search space is known)."""
        return self._optimizer

    # ---------------------------------------------------------- Optuna hooks
    def infer_relative_search_space(self, study: Study, trial: FrozenTrial) -> dict[str, BaseDistribution]:
        self._raise_error_if_multi_objective(study)
        space = self._intersection.calculate(study)
        return {name: space[name] for name in sorted(space) if _supported(space[name])}

    def sample_relative(
        self, study: Study, trial: FrozenTrial, search_space: dict[str, BaseDistribution]
    ) -> dict[str, Any]:
        if not search_space or trial.system_attrs.get("fixed_params"):
            return {}
        with self._lock:
            optimizer = self._current(study, search_space)
            if optimizer is None:
                return {}
            try:
                asked = optimizer.ask()
            except SearchExhausted:
                _logger.info("the hpolab optimizer is exhausted; trial %d is sampled independently", trial.number)
                return {}
            self._asked[trial.number] = (optimizer, asked)
            return dict(asked.config)

    def sample_independent(
        self, study: Study, trial: FrozenTrial, param_name: str, param_distribution: BaseDistribution
    ) -> Any:
        return self._independent.sample_independent(study, trial, param_name, param_distribution)

    def before_trial(self, study: Study, trial: FrozenTrial) -> None:
        self._independent.before_trial(study, trial)

    def after_trial(self, study: Study, trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> None:
        self._independent.after_trial(study, trial, state, values)
        result = _result(trial, state, values)
        with self._lock:
            entry = self._asked.pop(trial.number, None)
            if entry is not None and entry[0] is self._optimizer:
                optimizer, asked = entry
                if all(trial.params.get(k) == v for k, v in asked.config.items()):
                    optimizer.tell(asked, result)
                    self._seen.add(trial.number)
                    return
                optimizer.tell(asked, TrialResult.fail("parameters were overridden in the Optuna trial"))
            if self._optimizer is not None:
                self._observe(self._optimizer, trial.number, trial.params, result)

    def reseed_rng(self) -> None:
        self._independent.reseed_rng()

    # --------------------------------------------------------------- helpers
    def _current(self, study: Study, search_space: Mapping[str, BaseDistribution]) -> Optimizer | None:
        key = tuple((name, repr(dist)) for name, dist in search_space.items())
        if self._optimizer is not None and key == self._space_key:
            return self._optimizer
        try:
            space = SearchSpace.from_optuna(search_space)
        except (InvalidSpaceError, ValueError) as exc:
            _logger.warning("search space %s cannot be used by hpolab (%s); sampling independently", key, exc)
            return None
        direction = "maximize" if study.direction == StudyDirection.MAXIMIZE else "minimize"
        if isinstance(self._factory, str):
            from hpolab.registry import make_optimizer

            optimizer = make_optimizer(self._factory, space, direction=direction, seed=self._seed, **self._kwargs)
        else:
            optimizer = self._factory(space, direction=direction, seed=self._seed)
        if self._optimizer is not None:
            _logger.info(
                "the search space changed to %s; a fresh hpolab optimizer observes the past trials",
                sorted(search_space),
            )
        self._optimizer, self._space_key, self._seen = optimizer, key, set()
        for past in study.get_trials(deepcopy=False, states=(TrialState.COMPLETE, TrialState.PRUNED, TrialState.FAIL)):
            self._observe(optimizer, past.number, past.params, _result(past, past.state, past.values))
        return optimizer

    def _observe(self, optimizer: Optimizer, number: int, params: Mapping[str, Any], result: TrialResult) -> None:
        if number in self._seen:
            return
        names = optimizer.space.names
        if not all(name in params for name in names):
            return
        try:
            optimizer.observe({name: params[name] for name in names}, result)
        except InvalidConfigError as exc:
            _logger.debug("trial %d not observed: %s", number, exc)
            return
        self._seen.add(number)


def _result(trial: FrozenTrial, state: TrialState, values: Sequence[float] | None) -> TrialResult:
    if state == TrialState.COMPLETE and values:
        return TrialResult(float(values[0]))
    if state == TrialState.PRUNED:
        steps = sorted(trial.intermediate_values)
        last = trial.intermediate_values[steps[-1]] if steps else None
        if last is not None and math.isfinite(last):
            return TrialResult(float(last), state=HpolabState.PRUNED)
        return TrialResult(None, state=HpolabState.PRUNED)
    return TrialResult.fail(f"Optuna trial {trial.number} ended {state.name}")
