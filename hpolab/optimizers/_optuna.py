"""Optuna samplers behind hpolab's ask/tell interface: the shared backend and TPE."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from hpolab.optimizers._base import Optimizer, OptimizerError, Proposal
from hpolab.space import SearchSpace
from hpolab.trial import Direction, Trial, TrialResult, TrialState

if TYPE_CHECKING:
    import optuna
    from optuna.distributions import BaseDistribution

__all__ = ["TPE", "OptunaSamplerOptimizer", "suggest_config"]

_logger = logging.getLogger("hpolab.optimizers.tpe")


def suggest_config(trial: optuna.Trial, space: SearchSpace, *, ordinal_as_index: bool = False) -> dict[str, Any]:
    """Sample a configuration of ``space`` with Optuna's define-by-run API.

    Parameters are suggested in the space's topological order, and a conditional parameter only
    when its condition holds under the values suggested before it: inactive parameters never
    reach the sampler, exactly as in an Optuna objective written with ``if`` statements. Each
    parameter is suggested with its distribution from :meth:`SearchSpace.to_optuna` (stepped
    ranges with their step).

    Args:
        trial: A running Optuna trial.
        space: The search space.
        ordinal_as_index: Suggest each ordinal without a step as the int position of its value
            (``0 .. n - 1``, see :func:`optuna_distributions`) and map it back to the value, so a
            sampler that models numbers only (CMA-ES) searches it; ``False``: a categorical.

    Returns:
        The configuration (active parameters only).
    """
    from optuna.distributions import FloatDistribution, IntDistribution

    config: dict[str, Any] = {}
    conditional = space.is_conditional
    distributions = optuna_distributions(space, ordinal_as_index=ordinal_as_index)
    indexed = _indexed(space) if ordinal_as_index else set()
    for name, dist in distributions.items():
        if conditional and name not in space.active_names(config):
            continue
        if isinstance(dist, FloatDistribution):
            config[name] = trial.suggest_float(name, dist.low, dist.high, log=dist.log, step=dist.step)
        elif isinstance(dist, IntDistribution):
            value = trial.suggest_int(name, dist.low, dist.high, log=dist.log, step=dist.step)
            config[name] = space[name].choices[value] if name in indexed else value
        else:
            config[name] = trial.suggest_categorical(name, dist.choices)  # type: ignore[attr-defined]
    return config


def _indexed(space: SearchSpace) -> set[str]:
    """Ordinals without a step (categorical in :meth:`SearchSpace.to_optuna`), as positions under ``ordinal_as_index``."""
    return {name for name in space.names if space[name].kind == "ordinal" and space[name].step is None}


def optuna_distributions(space: SearchSpace, *, ordinal_as_index: bool = False) -> dict[str, BaseDistribution]:
    """The Optuna distributions an Optuna-backed optimizer uses for ``space``.

    :meth:`SearchSpace.to_optuna`, except that with ``ordinal_as_index`` each ordinal without a
    step is ``IntDistribution(0, n - 1)``: the position of its value among its ordered values.
    """
    from optuna.distributions import IntDistribution

    distributions = space.to_optuna()
    for name in _indexed(space) if ordinal_as_index else ():
        distributions[name] = IntDistribution(0, len(space[name].choices) - 1)
    return distributions


def optuna_params(space: SearchSpace, config: Mapping[str, Any], *, ordinal_as_index: bool = False) -> dict[str, Any]:
    """A configuration as the Optuna parameters of :func:`optuna_distributions` (ordinal values as positions)."""
    params = dict(config)
    for name in _indexed(space) & set(params) if ordinal_as_index else ():
        params[name] = list(space[name].choices).index(params[name])
    return params


class OptunaSamplerOptimizer(Optimizer):
    """An Optuna sampler driven by ask/tell: the backend that :class:`TPE` and ``cmaes`` share.

    Each ask opens a trial of an in-memory Optuna study and samples the configuration define-by-run
    (:func:`suggest_config`), so the sequence of configurations is the one a plain Optuna
    ``study.ask()`` / ``study.tell()`` loop with the same sampler produces. Other workers' running
    trials are shown to the sampler as running trials, and trials the optimizer did not ask
    (:meth:`observe`) are added to the study with ``study.add_trial``. A subclass implements
    :meth:`_make_sampler`.

    Args:
        space: The search space.
        direction: ``"minimize"`` or ``"maximize"``.
        seed: Seed of the sampler.
    """

    #: Suggest ordinals without a step as their positions (see :func:`suggest_config`).
    ordinal_as_index: bool = False

    def __init__(self, space: Any, *, direction: Direction | str = Direction.MINIMIZE, seed: int | None = None) -> None:
        super().__init__(space, direction=direction, seed=seed)
        self._study: optuna.Study | None = None
        self._mirrored: dict[int, int] = {}  # other workers' running trials: hpolab id -> Optuna trial id

    def _make_sampler(self, seed: int | None) -> optuna.samplers.BaseSampler:
        """The Optuna sampler, with ``seed`` (the optimizer's own, or a completion's: see :meth:`_complete`)."""
        raise NotImplementedError

    # ----------------------------------------------------------------- backend
    @property
    def study(self) -> optuna.Study:
        """The in-memory Optuna study the sampler works on (built at first use)."""
        if self._study is None:
            self._study = self._make_study(self._make_sampler(self.seed))
        return self._study

    def _make_study(self, sampler: optuna.samplers.BaseSampler) -> optuna.Study:
        """A new in-memory Optuna study in this optimizer's direction, with ``sampler``."""
        import optuna
        from optuna.storages import InMemoryStorage
        from optuna.study import StudyDirection

        storage = InMemoryStorage()
        direction = StudyDirection.MAXIMIZE if self.direction is Direction.MAXIMIZE else StudyDirection.MINIMIZE
        # Optuna logs "A new study created in memory" at INFO through its own stderr handler: the
        # study is an implementation detail here, so that one logger is quieted while it is made.
        quiet = logging.getLogger(InMemoryStorage.__module__)
        level = quiet.level
        quiet.setLevel(logging.WARNING)
        name = f"hpolab-{self.name}"
        try:
            storage.create_new_study([direction], study_name=name)
        finally:
            quiet.setLevel(level)
        return optuna.Study(study_name=name, storage=storage, sampler=sampler)

    def _distributions(self, config: Mapping[str, Any]) -> dict[str, BaseDistribution]:
        all_distributions = optuna_distributions(self.space, ordinal_as_index=self.ordinal_as_index)
        return {name: all_distributions[name] for name in config}

    def _params(self, config: Mapping[str, Any]) -> dict[str, Any]:
        return optuna_params(self.space, config, ordinal_as_index=self.ordinal_as_index)

    def _ask(self, n: int) -> list[Proposal]:
        study = self.study
        self._mirror_running_elsewhere()
        out: list[Proposal] = []
        for _ in range(n):
            trial = study.ask()
            config = suggest_config(trial, self.space, ordinal_as_index=self.ordinal_as_index)
            out.append(Proposal(config, handle=trial))
        return out

    def _complete(self, fixed: Mapping[str, Any], seed: int, number: int) -> dict[str, Any]:
        """What Optuna does for a trial enqueued with only some values: the sampler proposes the rest.

        The fixed values go to an Optuna trial as ``fixed_params`` (Optuna's ``enqueue_trial``),
        and the configuration is sampled define-by-run (:func:`suggest_config`): each fixed value
        is taken as given, the others come from the sampler (TPE's relative sample given the
        trials so far, CMA-ES's search distribution, ...). The trial is opened in a copy of the
        sampler's study with a fresh sampler seeded by ``seed``, so the optimizer's own study and
        sampler state are untouched.
        """
        source = self.study
        study = self._make_study(self._make_sampler(seed))
        storage = study._storage
        for frozen in source.get_trials(deepcopy=False):
            storage.create_new_trial(study._study_id, template_trial=frozen)
        study.enqueue_trial(self._params(fixed))
        trial = study.ask()
        return suggest_config(trial, self.space, ordinal_as_index=self.ordinal_as_index)

    def _mirror_running_elsewhere(self) -> None:
        """Show other workers' running trials to the sampler as RUNNING trials (TPE's constant liar).

        They are written to the in-memory storage directly, so the sampler's random state is not
        touched: one worker alone asks exactly what it asked before.
        """
        from optuna.trial import FrozenTrial
        from optuna.trial import TrialState as OptunaState

        study = self.study
        elsewhere = {t.id: t for t in self.running_elsewhere}
        storage = study._storage
        for trial_id in [i for i in self._mirrored if i not in elsewhere]:  # gone without a result: failed
            storage.set_trial_state_values(self._mirrored.pop(trial_id), OptunaState.FAIL)
        for trial_id, trial in elsewhere.items():
            if trial_id in self._mirrored:
                continue
            template = FrozenTrial(
                number=-1,
                state=OptunaState.RUNNING,
                value=None,
                datetime_start=None,
                datetime_complete=None,
                params=self._params(trial.config),
                distributions=self._distributions(trial.config),
                user_attrs={},
                system_attrs={},
                intermediate_values={},
                trial_id=-1,
            )
            self._mirrored[trial_id] = storage.create_new_trial(study._study_id, template_trial=template)

    def _tell(self, trial: Trial, result: TrialResult) -> None:
        from optuna.trial import TrialState as OptunaState

        running = trial.handle
        if running is None:
            raise OptimizerError(f"{self.name}: trial {trial.id} has no running Optuna trial; it was not asked here")
        if result.state is TrialState.COMPLETE:
            self.study.tell(running, result.value)
        elif result.state is TrialState.PRUNED:
            if result.value is not None:
                running.report(float(result.value), step=0)
            self.study.tell(running, state=OptunaState.PRUNED)
        else:
            self.study.tell(running, state=OptunaState.FAIL)

    def _observed_system_attrs(self, trial: Trial, result: TrialResult) -> dict[str, Any]:
        """Optuna system attributes of a trial added by :meth:`observe` (none here)."""
        return {}

    def _observe(self, trial: Trial, result: TrialResult) -> None:
        from optuna.trial import TrialState as OptunaState
        from optuna.trial import create_trial

        state = {
            TrialState.COMPLETE: OptunaState.COMPLETE,
            TrialState.PRUNED: OptunaState.PRUNED,
            TrialState.FAIL: OptunaState.FAIL,
        }[result.state]
        value = result.value if result.state is TrialState.COMPLETE else None
        system_attrs = self._observed_system_attrs(trial, result)
        mirrored = self._mirrored.pop(trial.id, None)
        if mirrored is not None:  # another worker's trial the sampler saw running: finish it in place
            storage = self.study._storage
            if result.state is TrialState.PRUNED and result.value is not None:
                storage.set_trial_intermediate_value(mirrored, 0, float(result.value))
            for key, attr in system_attrs.items():
                storage.set_trial_system_attr(mirrored, key, attr)
            storage.set_trial_state_values(mirrored, state, None if value is None else [value])
            return
        intermediate = (
            {0: float(result.value)} if result.state is TrialState.PRUNED and result.value is not None else None
        )
        self.study.add_trial(
            create_trial(
                params=self._params(trial.config),
                distributions=self._distributions(trial.config),
                value=value,
                state=state,
                intermediate_values=intermediate,
                system_attrs=system_attrs or None,
            )
        )


class TPE(OptunaSamplerOptimizer):
    """Optuna's Tree-structured Parzen Estimator (``optuna.samplers.TPESampler``), driven by ask/tell.

    Each ask opens a trial of an in-memory Optuna study and samples the configuration define-by-run
    (:func:`suggest_config`), so the sequence of configurations is the one a plain Optuna
    ``study.ask()`` / ``study.tell()`` loop with the same sampler seed produces. Conditional spaces
    work as in Optuna: only active parameters are sampled.

    A batch ask opens several trials before any is told; with ``constant_liar`` (Optuna's default)
    TPE treats the running ones as bad results so the batch spreads out. Trials the optimizer did
    not ask (:meth:`observe`) are added to the study with ``study.add_trial``. Budgets are ignored:
    TPE is single-fidelity (wrap it in ASHA for multi-fidelity runs).

    Args:
        space: The search space.
        direction: ``"minimize"`` or ``"maximize"``.
        seed: Seed of the TPE sampler (and of its random start-up sampler).
        n_startup_trials: Random trials before TPE starts modelling.
        n_ei_candidates: Candidates drawn to maximize the expected improvement.
        multivariate: Model the joint density of the parameters (Optuna's multivariate TPE); ``None``
            keeps Optuna's default (multivariate for single-objective studies, since Optuna 5).
        group: With ``multivariate``, model each group of parameters that appear together separately
            (useful for conditional spaces).
        constant_liar: Treat running trials as bad results, to diversify batch asks.
    """

    name: ClassVar[str] = "tpe"

    def __init__(
        self,
        space: Any,
        *,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
        n_startup_trials: int = 10,
        n_ei_candidates: int = 24,
        multivariate: bool | None = None,
        group: bool = False,
        constant_liar: bool = True,
    ) -> None:
        super().__init__(space, direction=direction, seed=seed)
        if isinstance(n_startup_trials, bool) or not isinstance(n_startup_trials, int) or n_startup_trials < 0:
            raise ValueError(f"n_startup_trials: {n_startup_trials!r} must be an int >= 0")
        if isinstance(n_ei_candidates, bool) or not isinstance(n_ei_candidates, int) or n_ei_candidates < 1:
            raise ValueError(f"n_ei_candidates: {n_ei_candidates!r} must be an int >= 1")
        if group and multivariate is False:
            raise ValueError("group: True needs multivariate=True or None (Optuna's grouped TPE is multivariate)")
        self.n_startup_trials = n_startup_trials
        self.n_ei_candidates = n_ei_candidates
        self.multivariate = None if multivariate is None else bool(multivariate)
        self.group = bool(group)
        self.constant_liar = bool(constant_liar)

    def _meta_params(self) -> dict[str, Any]:
        return {
            "n_startup_trials": self.n_startup_trials,
            "n_ei_candidates": self.n_ei_candidates,
            "multivariate": self.multivariate,
            "group": self.group,
            "constant_liar": self.constant_liar,
        }

    def _make_sampler(self, seed: int | None) -> optuna.samplers.BaseSampler:
        import warnings

        import optuna

        with warnings.catch_warnings():
            # group / multivariate may be flagged experimental; the user asked for them
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            return optuna.samplers.TPESampler(
                n_startup_trials=self.n_startup_trials,
                n_ei_candidates=self.n_ei_candidates,
                seed=seed,
                multivariate=self.multivariate,
                group=self.group,
                constant_liar=self.constant_liar,
            )
