"""SMAC3 (smac 2.x) Bayesian optimization behind hpolab's ask/tell interface.

``smac-rf`` is SMAC's HPO facade (random forest surrogate, log-EI, local + random search),
``smac-gp`` its BlackBox facade (Gaussian process, EI) and ``smac-mf`` its multi-fidelity facade
(random forest with Hyperband, BOHB-like; trials carry SMAC's budgets).
"""

from __future__ import annotations

import logging
import math
import shutil
import tempfile
import weakref
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from hpolab.optimizers._base import Optimizer, OptimizerError, Proposal, SearchExhausted
from hpolab.trial import Direction, Trial, TrialResult, TrialState, to_plain

if TYPE_CHECKING:
    from smac.facade.abstract_facade import AbstractFacade
    from smac.runhistory.dataclasses import TrialInfo

__all__ = ["SMAC", "SMACGP", "SMACMF", "SMACRF"]

_logger = logging.getLogger("hpolab.optimizers.smac")

_INSTALL = 'SMAC is not installed; pip install "hpolab[smac]"'


def _import_smac() -> Any:
    try:
        import smac
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"{_INSTALL} ({exc})") from exc
    return smac


def _forest_model(facade_cls: Any, scenario: Any, n_jobs: int | None) -> Any:
    """The facade's own random-forest surrogate (SMAC's defaults), with ``n_jobs`` prediction threads."""
    model = facade_cls.get_model(scenario)
    if n_jobs is None:
        return model
    opts = getattr(model, "_rf_opts", None)
    if not isinstance(opts, dict) or "n_jobs" not in opts:
        raise OptimizerError(_changed("the random forest's _rf_opts['n_jobs']", "pass n_jobs=None to keep SMAC's own"))
    opts["n_jobs"] = n_jobs
    return model


#: SMAC versions whose internals this module relies on (pyproject's bound says the same).
TESTED_SMAC = ">=2.2,<2.5"


def _changed(what: str, workaround: str) -> str:
    from importlib.metadata import version

    return (
        f"SMAC {version('smac')}: {what} is not where hpolab {TESTED_SMAC} expects it; this SMAC changed an "
        f'internal hpolab relies on. Install a tested version (pip install "smac{TESTED_SMAC}") or {workaround}'
    )


def _fix_local_search_order(facade: Any) -> None:
    """Make SMAC's local search start points independent of Python's hash seed.

    SMAC's ``LocalSearch._get_initial_points`` deduplicates its start points with ``set(...)`` and
    returns ``list(set)``, whose order follows the configurations' hashes, which change with
    ``PYTHONHASHSEED`` in every fresh process: the same seed then gives other configurations in
    another process. Sorting the start points by their vector form makes the order a function of
    the points alone (any fixed order is as good as SMAC's arbitrary one).
    """
    local_search = getattr(getattr(facade, "_acquisition_maximizer", None), "_local_search", None)
    original = getattr(local_search, "_get_initial_points", None)
    if local_search is None or original is None:
        raise OptimizerError(
            _changed("LocalSearch._get_initial_points", "report it: without the fix the same seed gives other runs")
        )

    def sorted_initial_points(*args: Any, **kwargs: Any) -> list[Any]:
        points = original(*args, **kwargs)
        return sorted(points, key=lambda config: config.get_array().tobytes())

    local_search._get_initial_points = sorted_initial_points


class SMAC(Optimizer):
    """Base of the SMAC backends: one SMAC facade driven through ``ask()`` / ``tell()``.

    The SearchSpace's ConfigSpace goes to SMAC unchanged (conditions and forbidden clauses
    included). SMAC minimizes a cost, so a maximized value is told as ``-value``. A failed trial is
    told as CRASHED with the worst cost seen so far (SMAC's own ``inf`` crash cost breaks its
    surrogate models); a failure before any finite cost exists is told as soon as one does. A
    pruned trial is told as a TIMEOUT with its last value.

    SMAC writes its run files (scenario, run history) into ``output_directory``; when that is not
    given they go to a fresh temporary directory that is removed with the optimizer, so nothing
    lands in the working directory, and SMAC never prompts (``overwrite=True``). Files are only
    rewritten on every tell when ``output_directory`` is given. SMAC's logging setup is disabled
    (it would configure the root logger); its messages go to the ``smac`` loggers.

    The scenario is deterministic (one seed per configuration). ``n_trials`` sets the size of
    SMAC's initial design (``n_configs_per_hyperparameter`` x dimensions, capped at a quarter of
    ``n_trials``); a Study's ``n_trials`` is used when not given, asks beyond it keep working.
    A batch ask asks SMAC several times (SMAC marks the running trials). Re-asking with the same
    seed reproduces the configurations, so a state round trip replays deterministically.

    Args:
        space: The search space.
        direction: ``"minimize"`` or ``"maximize"``.
        seed: SMAC's seed; ``None`` draws one from fresh entropy.
        n_trials: SMAC's scenario ``n_trials``.
        n_initial: Size of the initial design (overrides SMAC's rule).
        output_directory: Where SMAC writes its files.
        min_budget: Smallest budget (``smac-mf`` only; default: the Study's fidelity).
        max_budget: Largest budget (``smac-mf`` only; default: the Study's fidelity).
        eta: Hyperband's reduction factor (``smac-mf`` only).
        n_jobs: Threads of the random-forest surrogate's predictions (``smac-rf``, ``smac-mf``; ignored by
            ``smac-gp``). SMAC's own default, -1 (``None`` here), starts a thread pool for every
            prediction, and SMAC predicts one configuration at a time when it picks incumbents: on
            HPO-sized data that costs more than it saves (docs/optimizers.md, "SMAC 2"). The
            configurations are the same either way.
    """

    name: ClassVar[str] = "smac"
    #: Which SMAC facade: ``"hpo"``, ``"blackbox"`` or ``"multi_fidelity"``.
    facade: ClassVar[str] = "hpo"
    #: Default scenario ``n_trials`` when neither the constructor nor a Study gives one.
    DEFAULT_N_TRIALS: ClassVar[int] = 100

    def __init__(
        self,
        space: Any,
        *,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
        n_trials: int | None = None,
        n_initial: int | None = None,
        output_directory: str | Path | None = None,
        min_budget: float | None = None,
        max_budget: float | None = None,
        eta: int = 3,
        n_jobs: int | None = 1,
    ) -> None:
        super().__init__(space, direction=direction, seed=seed)
        if n_jobs is not None and (
            isinstance(n_jobs, bool) or not isinstance(n_jobs, int) or n_jobs == 0 or n_jobs < -1
        ):
            raise ValueError(f"n_jobs: {n_jobs!r} must be a positive int, -1 (all cores) or None (SMAC's default)")
        for label, number in (("n_trials", n_trials), ("n_initial", n_initial)):
            if number is not None and (isinstance(number, bool) or not isinstance(number, int) or number < 1):
                raise ValueError(f"{label}: {number!r} must be a positive int or None")
        if self.facade != "multi_fidelity" and (min_budget is not None or max_budget is not None):
            raise ValueError(
                f"min_budget/max_budget: {self.name} is single-fidelity; use smac-mf (or asha) for budgets"
            )
        if min_budget is not None and max_budget is not None and not (0 < min_budget < max_budget):
            raise ValueError(f"min_budget/max_budget: need 0 < min_budget < max_budget, got {min_budget}, {max_budget}")
        if isinstance(eta, bool) or not isinstance(eta, int) or eta < 2:
            raise ValueError(f"eta: {eta!r} must be an int >= 2")
        self.n_trials = n_trials
        self.n_initial = n_initial
        self.output_directory = None if output_directory is None else Path(output_directory)
        self.min_budget = min_budget
        self.max_budget = max_budget
        self.eta = eta
        self.n_jobs = n_jobs
        self._smac: AbstractFacade | None = None
        self._smac_seed: int | None = None
        self._mirrored: dict[int, TrialInfo] = {}  # other workers' running trials (pending points)
        self._tf_seed: int | None = None
        self._worst_cost: float | None = None
        self._deferred: list[tuple[TrialInfo, TrialResult]] = []
        self._tmpdir: str | None = None

    @property
    def _uses_forest(self) -> bool:
        """Whether the facade's surrogate is SMAC's random forest (the HPO and multi-fidelity facades)."""
        return self.facade in ("hpo", "multi_fidelity")

    def _meta_params(self) -> dict[str, Any]:
        params: dict[str, Any] = {"facade": self.facade, "n_trials": self.n_trials, "n_initial": self.n_initial}
        if self._uses_forest:
            params["n_jobs"] = self.n_jobs
        if self.facade == "multi_fidelity":
            params.update(min_budget=self.min_budget, max_budget=self.max_budget, eta=self.eta)
        return params

    # ------------------------------------------------------------------ set-up
    @property
    def smac(self) -> AbstractFacade:
        """The SMAC facade (built at first use, after a Study has set the context)."""
        if self._smac is None:
            self._smac = self._build()
        return self._smac

    def _budgets(self) -> tuple[float, float]:
        lo, hi = self._fidelity_bounds(self.min_budget, self.max_budget)
        if lo is None or hi is None:
            raise OptimizerError(
                f"{self.name}: no budgets; give min_budget and max_budget or run it in a Study on a "
                "multi-fidelity objective"
            )
        if not (0 < float(lo) < float(hi)):
            raise OptimizerError(f"{self.name}: need 0 < min_budget < max_budget, got {lo}, {hi}")
        return float(lo), float(hi)

    def _build(self) -> AbstractFacade:
        _import_smac()
        from smac import BlackBoxFacade, HyperparameterOptimizationFacade, MultiFidelityFacade, Scenario

        facades: dict[str, Any] = {
            "hpo": HyperparameterOptimizationFacade,
            "blackbox": BlackBoxFacade,
            "multi_fidelity": MultiFidelityFacade,
        }
        facade_cls = facades[self.facade]
        if self.output_directory is None:
            self._tmpdir = tempfile.mkdtemp(prefix="hpolab-smac-")
            weakref.finalize(self, shutil.rmtree, self._tmpdir, True)
            outdir = Path(self._tmpdir)
        else:
            outdir = self.output_directory
        seed = self.seed if self.seed is not None else int(self._rng.integers(0, 2**31 - 1))
        self._smac_seed = seed
        n_trials = self.n_trials or int(self.context.get("n_trials") or self.DEFAULT_N_TRIALS)
        scenario_kwargs: dict[str, Any] = {}
        if self.facade == "multi_fidelity":
            lo, hi = self._budgets()
            self.min_budget, self.max_budget = lo, hi
            scenario_kwargs.update(min_budget=lo, max_budget=hi)
        scenario = Scenario(
            self.space.to_configspace(),
            name=f"hpolab-{self.name}",
            deterministic=True,
            n_trials=max(n_trials, 1),
            seed=seed,
            output_directory=outdir,
            **scenario_kwargs,
        )
        kwargs: dict[str, Any] = {}
        if self.n_initial is not None:
            kwargs["initial_design"] = facade_cls.get_initial_design(scenario, n_configs=self.n_initial)
        if self.facade == "multi_fidelity":
            kwargs["intensifier"] = facade_cls.get_intensifier(scenario, eta=self.eta)
        if self._uses_forest:
            kwargs["model"] = _forest_model(facade_cls, scenario, self.n_jobs)
        _logger.debug("building SMAC %s facade (seed %s, n_trials %s) in %s", self.facade, seed, n_trials, outdir)
        facade: AbstractFacade = facade_cls(
            scenario, target_function=None, logging_level=False, overwrite=True, **kwargs
        )
        _fix_local_search_order(facade)
        return facade

    # ----------------------------------------------------------------- backend
    def _ask(self, n: int) -> list[Proposal]:
        smac = self.smac
        if self.running_elsewhere or self._mirrored:
            self._mirror_running_elsewhere()
        out: list[Proposal] = []
        for _ in range(n):
            try:
                info = smac.ask()
            except StopIteration:
                if out:
                    break
                raise SearchExhausted(f"{self.name}: SMAC has no new configuration to propose") from None
            if self._tf_seed is None:
                self._tf_seed = info.seed
            config = {k: to_plain(v) for k, v in dict(info.config).items()}
            budget = None if info.budget is None else float(info.budget)
            out.append(Proposal(config, budget=budget, handle=info))
        return out

    def _mirror_running_elsewhere(self) -> None:
        """Register other workers' running trials as running in SMAC's run history (pending points)."""
        elsewhere = {t.id: t for t in self.running_elsewhere}
        for trial_id in [i for i in self._mirrored if i not in elsewhere]:
            self._mirrored.pop(trial_id)  # failed elsewhere: it stays RUNNING in SMAC, as an unfinished trial
        for trial_id, trial in elsewhere.items():
            if trial_id not in self._mirrored:
                info = self._info_of(trial)
                self.smac.runhistory.add_running_trial(info)
                self._mirrored[trial_id] = info

    def _value(self, result: TrialResult) -> Any:
        """SMAC's TrialValue of a result, or ``None`` for a failure before any cost is known."""
        from smac.runhistory.dataclasses import TrialValue
        from smac.runhistory.enumerations import StatusType

        cost = None if result.value is None or not math.isfinite(result.value) else self._signed(result.value)
        elapsed = float(result.runtime) if result.runtime is not None and math.isfinite(result.runtime) else 0.0
        if cost is not None:
            self._worst_cost = cost if self._worst_cost is None else max(self._worst_cost, cost)
            if result.state is TrialState.COMPLETE:
                return TrialValue(cost=cost, time=elapsed)
            return TrialValue(cost=cost, time=elapsed, status=StatusType.TIMEOUT)
        if self._worst_cost is None:
            return None
        return TrialValue(cost=self._worst_cost, time=elapsed, status=StatusType.CRASHED)

    def _send(self, info: TrialInfo, result: TrialResult) -> None:
        value = self._value(result)
        if value is None:
            # No cost to impute yet: the trial stays RUNNING in SMAC until one exists.
            self._deferred.append((info, result))
            return
        save = self.output_directory is not None
        self.smac.tell(info, value, save=save)
        if self._deferred:
            deferred, self._deferred = self._deferred, []
            for old_info, old_result in deferred:
                self.smac.tell(old_info, self._value(old_result), save=save)

    def _tell(self, trial: Trial, result: TrialResult) -> None:
        info = trial.handle
        if info is None:
            raise OptimizerError(f"{self.name}: trial {trial.id} has no SMAC TrialInfo; it was not asked here")
        self._send(info, result)

    def _info_of(self, trial: Trial) -> TrialInfo:
        """SMAC's TrialInfo for a trial this optimizer did not ask."""
        from ConfigSpace import Configuration
        from smac.runhistory.dataclasses import TrialInfo

        if self._tf_seed is None:
            # Trials told before the first ask fix the seed SMAC's intensifier uses for every trial.
            self._tf_seed = int(self._smac_seed or 0)
        config = Configuration(self.smac.scenario.configspace, values=dict(trial.config))
        config.origin = "hpolab observe"
        budget = None
        if self.facade == "multi_fidelity":
            budget = trial.budget if trial.budget is not None else self.max_budget
        return TrialInfo(config=config, seed=self._tf_seed, budget=budget)

    def _observe(self, trial: Trial, result: TrialResult) -> None:
        info = self._mirrored.pop(trial.id, None)
        self._send(info if info is not None else self._info_of(trial), result)


class SMACRF(SMAC):
    """SMAC's HPO facade: random-forest surrogate (registry name ``smac-rf``).

    See :class:`SMAC` for the arguments.
    """

    name: ClassVar[str] = "smac-rf"
    facade: ClassVar[str] = "hpo"


class SMACGP(SMAC):
    """SMAC's BlackBox facade: Gaussian-process surrogate (registry name ``smac-gp``).

    The GP is refitted, with its hyperparameters, after every tell, so an ask costs more as results
    accumulate (docs/optimizers.md, "SMAC cost per ask").

    See :class:`SMAC` for the arguments.
    """

    name: ClassVar[str] = "smac-gp"
    facade: ClassVar[str] = "blackbox"


class SMACMF(SMAC):
    """SMAC's multi-fidelity facade: random forest with Hyperband (registry name ``smac-mf``).

    Each trial carries the budget SMAC chose. The budgets come from ``min_budget`` /
    ``max_budget`` or, in a Study, from the objective's fidelity.

    See :class:`SMAC` for the arguments.
    """

    name: ClassVar[str] = "smac-mf"
    facade: ClassVar[str] = "multi_fidelity"
