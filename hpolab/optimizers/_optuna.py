"""Optuna's TPE sampler behind hpolab's ask/tell interface."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, ClassVar

from hpolab.optimizer import Optimizer, OptimizerError, Proposal
from hpolab.space import SearchSpace
from hpolab.trial import Direction, Trial, TrialResult, TrialState

if TYPE_CHECKING:
    import optuna

__all__ = ["TPE", "suggest_config"]

_logger = logging.getLogger("hpolab.optimizers.tpe")


def suggest_config(trial: optuna.Trial, space: SearchSpace) -> dict[str, Any]:
    """Sample a configuration of ``space`` with Optuna's define-by-run API.

    Parameters are suggested in the space's topological order, and a conditional parameter only
    when its condition holds under the values suggested before it: inactive parameters never
    reach the sampler, exactly as in an Optuna objective written with ``if`` statements. Each
    parameter is suggested with its distribution from :meth:`SearchSpace.to_optuna` (stepped
    ranges with their step).

    Args:
        trial: A running Optuna trial.
        space: The search space.

    Returns:
        The configuration (active parameters only).
    """
    from optuna.distributions import FloatDistribution, IntDistribution

    config: dict[str, Any] = {}
    conditional = space.is_conditional
    distributions = space.to_optuna()
    for name, dist in distributions.items():
        if conditional and name not in space.active_names(config):
            continue
        if isinstance(dist, FloatDistribution):
            config[name] = trial.suggest_float(name, dist.low, dist.high, log=dist.log, step=dist.step)
        elif isinstance(dist, IntDistribution):
            config[name] = trial.suggest_int(name, dist.low, dist.high, log=dist.log, step=dist.step)
        else:
            config[name] = trial.suggest_categorical(name, dist.choices)  # type: ignore[attr-defined]
    return config


class TPE(Optimizer):
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
        self._study: optuna.Study | None = None
        self._mirrored: dict[int, int] = {}  # other workers' running trials: hpolab id -> Optuna trial id

    def _meta_params(self) -> dict[str, Any]:
        return {
            "n_startup_trials": self.n_startup_trials,
            "n_ei_candidates": self.n_ei_candidates,
            "multivariate": self.multivariate,
            "group": self.group,
            "constant_liar": self.constant_liar,
        }

    # ----------------------------------------------------------------- backend
    @property
    def study(self) -> optuna.Study:
        """The in-memory Optuna study the sampler works on (built at first use)."""
        if self._study is None:
            self._study = self._make_study()
        return self._study

    def _make_study(self) -> optuna.Study:
        import warnings

        import optuna
        from optuna.storages import InMemoryStorage
        from optuna.study import StudyDirection

        with warnings.catch_warnings():
            # group / multivariate may be flagged experimental; the user asked for them
            warnings.simplefilter("ignore", optuna.exceptions.ExperimentalWarning)
            sampler = optuna.samplers.TPESampler(
                n_startup_trials=self.n_startup_trials,
                n_ei_candidates=self.n_ei_candidates,
                seed=self.seed,
                multivariate=self.multivariate,
                group=self.group,
                constant_liar=self.constant_liar,
            )
        storage = InMemoryStorage()
        direction = StudyDirection.MAXIMIZE if self.direction is Direction.MAXIMIZE else StudyDirection.MINIMIZE
        # Optuna logs "A new study created in memory" at INFO through its own stderr handler: the
        # study is an implementation detail here, so that one logger is quieted while it is made.
        quiet = logging.getLogger(InMemoryStorage.__module__)
        level = quiet.level
        quiet.setLevel(logging.WARNING)
        try:
            storage.create_new_study([direction], study_name="hpolab-tpe")
        finally:
            quiet.setLevel(level)
        return optuna.Study(study_name="hpolab-tpe", storage=storage, sampler=sampler)

    def _ask(self, n: int) -> list[Proposal]:
        study = self.study
        self._mirror_running_elsewhere()
        out: list[Proposal] = []
        for _ in range(n):
            trial = study.ask()
            out.append(Proposal(suggest_config(trial, self.space), handle=trial))
        return out

    def _mirror_running_elsewhere(self) -> None:
        """Show other workers' running trials to the sampler as RUNNING trials (its constant liar).

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
        all_distributions = self.space.to_optuna()
        for trial_id, trial in elsewhere.items():
            if trial_id in self._mirrored:
                continue
            distributions = {name: all_distributions[name] for name in trial.config}
            template = FrozenTrial(
                number=-1,
                state=OptunaState.RUNNING,
                value=None,
                datetime_start=None,
                datetime_complete=None,
                params=dict(trial.config),
                distributions=distributions,
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
            raise OptimizerError(f"tpe: trial {trial.id} has no running Optuna trial; it was not asked here")
        if result.state is TrialState.COMPLETE:
            self.study.tell(running, result.value)
        elif result.state is TrialState.PRUNED:
            if result.value is not None:
                running.report(float(result.value), step=0)
            self.study.tell(running, state=OptunaState.PRUNED)
        else:
            self.study.tell(running, state=OptunaState.FAIL)

    def _observe(self, trial: Trial, result: TrialResult) -> None:
        from optuna.trial import TrialState as OptunaState
        from optuna.trial import create_trial

        all_distributions = self.space.to_optuna()
        distributions = {name: all_distributions[name] for name in trial.config}
        state = {
            TrialState.COMPLETE: OptunaState.COMPLETE,
            TrialState.PRUNED: OptunaState.PRUNED,
            TrialState.FAIL: OptunaState.FAIL,
        }[result.state]
        value = result.value if result.state is TrialState.COMPLETE else None
        mirrored = self._mirrored.pop(trial.id, None)
        if mirrored is not None:  # another worker's trial the sampler saw running: finish it in place
            storage = self.study._storage
            if result.state is TrialState.PRUNED and result.value is not None:
                storage.set_trial_intermediate_value(mirrored, 0, float(result.value))
            storage.set_trial_state_values(mirrored, state, None if value is None else [value])
            return
        intermediate = (
            {0: float(result.value)} if result.state is TrialState.PRUNED and result.value is not None else None
        )
        self.study.add_trial(
            create_trial(
                params=dict(trial.config),
                distributions=distributions,
                value=value,
                state=state,
                intermediate_values=intermediate,
            )
        )
