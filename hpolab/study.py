"""Study: joins an optimizer, an objective and a storage in an ask -> evaluate -> tell loop."""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

from hpolab.objectives.base import FunctionObjective, Objective
from hpolab.optimizer import Optimizer, SearchExhausted
from hpolab.storage import Storage, StorageError, StudyInfo, get_storage
from hpolab.trial import Trial, TrialRecord, TrialResult, TrialState, best_record

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["Study", "create_study", "load_study", "optimize"]

_logger = logging.getLogger("hpolab.study")

Callback = Callable[["Study", TrialRecord], None]


class Study:
    """An optimization run: an optimizer driven against an objective, recorded in a storage.

    Build one with :func:`create_study`. The loop is: ``optimizer.ask()``, store the trial as
    RUNNING, ``objective.evaluate(config, budget, seed)``, store the result, ``optimizer.tell()``.
    A result is committed to storage before the next ask, so a killed process loses at most the
    running trial; reopening the study re-evaluates that trial and continues exactly where an
    uninterrupted run would have.
    """

    def __init__(self, objective: Objective, optimizer: Optimizer, storage: Storage, info: StudyInfo) -> None:
        self.objective = objective
        self.optimizer = optimizer
        self.storage = storage
        self._info = info
        self._stop = False
        self._requeued: list[Trial] = []

    # ---------------------------------------------------------------- properties
    @property
    def study_name(self) -> str:
        """The study's unique name in its storage."""
        return self._info.name

    @property
    def direction(self) -> str:
        """``"minimize"`` or ``"maximize"``."""
        return self.optimizer.direction.value

    @property
    def trials(self) -> list[TrialRecord]:
        """All trials (finished and running), by id."""
        return self.storage.get_trials(self._info.study_id)

    @property
    def best_trial(self) -> TrialRecord | None:
        """The best COMPLETE trial (``None`` if there is none). FAIL trials are never the best."""
        return best_record(self.trials, self.optimizer.direction)

    @property
    def best_value(self) -> float | None:
        """Value of :attr:`best_trial`."""
        best = self.best_trial
        return None if best is None else best.value

    @property
    def best_config(self) -> dict[str, Any] | None:
        """Configuration of :attr:`best_trial`."""
        best = self.best_trial
        return None if best is None else best.config

    @property
    def attrs(self) -> dict[str, Any]:
        """The study's stored attributes (optimizer meta, objective name, search space...)."""
        return dict(self._info.attrs)

    def _trial_budget(self, rec: TrialRecord) -> float:
        fidelity = self.objective.fidelity
        if rec.budget is not None:
            return float(rec.budget)
        return float(fidelity.max) if fidelity is not None else 1.0

    @property
    def budget_spent(self) -> float:
        """Total budget of finished trials: the sum of their budgets (e.g. epochs).

        A trial without a budget counts the objective's full fidelity, or 1 for a
        single-fidelity objective (so the budget is then the number of trials).
        """
        return sum(self._trial_budget(r) for r in self.trials if r.state.is_finished)

    # ------------------------------------------------------------------- running
    def stop(self) -> None:
        """Ask :meth:`optimize` to stop after the current trial (for callbacks)."""
        self._stop = True

    def optimize(
        self,
        n_trials: int | None = None,
        timeout: float | None = None,
        *,
        max_trials: int | None = None,
        max_budget_spent: float | None = None,
        callbacks: Sequence[Callback] = (),
        catch: tuple[type[BaseException], ...] = (Exception,),
        show_progress_bar: bool = False,
    ) -> None:
        """Run the ask -> evaluate -> tell loop.

        Stops at the first limit reached. With none given it runs until the optimizer is exhausted
        (a grid) or :meth:`stop` is called.

        Args:
            n_trials: Trials to run in this call (as in Optuna).
            timeout: Seconds after which no new trial starts.
            max_trials: Stop once the study holds this many finished trials in total, counting
                those of earlier runs (what a resumed run should use).
            max_budget_spent: Stop once :attr:`budget_spent` reaches this (e.g. total epochs);
                the last trial may go past it by less than its own budget.
            callbacks: Functions ``callback(study, record)`` called after each trial.
            catch: Exceptions from the objective that make a trial FAIL instead of stopping
                the study. The error text is kept in the result's ``info["error"]``.
            show_progress_bar: Show a tqdm progress bar.
        """
        for name, limit in (("n_trials", n_trials), ("max_trials", max_trials)):
            if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
                raise ValueError(f"{name}: {limit!r} must be a non-negative int")
        if timeout is not None and timeout <= 0:
            raise ValueError(f"timeout: {timeout} must be positive (seconds)")
        if max_budget_spent is not None and max_budget_spent <= 0:
            raise ValueError(f"max_budget_spent: {max_budget_spent} must be positive")
        finished = sum(1 for r in self.trials if r.state.is_finished)
        planned = n_trials
        if max_trials is not None:
            planned = max_trials - finished if planned is None else min(planned, max_trials - finished)
        total = None if planned is None else finished + max(planned, 0)
        self.optimizer.set_context(
            description=self.objective.description or None,
            n_trials=total,
            fidelity=self.objective.fidelity,
        )
        spent = self.budget_spent if max_budget_spent is not None else 0.0
        self._stop = False
        start = time.perf_counter()
        done = 0
        bar = None
        if show_progress_bar:
            from tqdm.auto import tqdm

            bar = tqdm(total=planned, desc=self.study_name, unit="trial")
        try:
            while not self._stop:
                if planned is not None and done >= planned:
                    break
                if timeout is not None and time.perf_counter() - start >= timeout:
                    break
                if max_budget_spent is not None and spent >= max_budget_spent:
                    break
                trial = self._next_trial()
                if trial is None:
                    break
                record = self._run_trial(trial, catch)
                done += 1
                if max_budget_spent is not None:
                    spent += self._trial_budget(record)
                if bar is not None:
                    best = self.optimizer.best
                    bar.set_postfix(best=None if best is None else f"{best.value:.6g}", refresh=False)
                    bar.update(1)
                for callback in callbacks:
                    callback(self, record)
        finally:
            if bar is not None:
                bar.close()

    def _next_trial(self) -> Trial | None:
        if self._requeued:
            return self._requeued.pop(0)
        try:
            trial = self.optimizer.ask()
        except SearchExhausted as exc:
            _logger.info("study %s: optimizer exhausted (%s)", self.study_name, exc)
            return None
        self.storage.record_ask(self._info.study_id, [trial])
        return trial

    def _run_trial(self, trial: Trial, catch: tuple[type[BaseException], ...]) -> TrialRecord:
        started = time.time()
        t0 = time.perf_counter()
        try:
            raw = self.objective.evaluate(trial.config, trial.budget, trial.seed)
            result = TrialResult.coerce(raw)
        except catch as exc:
            _logger.warning("trial %d failed: %s: %s", trial.id, type(exc).__name__, exc)
            result = TrialResult.fail(f"{type(exc).__name__}: {exc}", cost=time.perf_counter() - t0)
        elapsed = time.perf_counter() - t0
        info = dict(result.info)
        info.setdefault("wall_time", elapsed)
        result = TrialResult(result.value, result.state, elapsed if result.cost is None else result.cost, info)
        if result.state is TrialState.FAIL and "error" in result.info:
            _logger.info("trial %d: FAIL (%s)", trial.id, result.info["error"])
        self.storage.record_tell(self._info.study_id, trial.id, result)
        self.optimizer.tell(trial, result)
        return TrialRecord(trial, result, started, time.time())

    def enqueue_observation(
        self, config: Mapping[str, Any], result: TrialResult | float, *, budget: float | None = None
    ) -> TrialRecord:
        """Add an outside result (e.g. a known good config) to the optimizer and the storage."""
        record = self.optimizer.observe(config, result, budget=budget)
        assert record.result is not None
        self.storage.record_observe(self._info.study_id, record.trial, record.result)
        return record

    # -------------------------------------------------------------------- output
    def to_dataframe(self) -> pd.DataFrame:
        """One row per trial: id, state, value, budget, cost, times, ``params_<name>``, info fields.

        Adds ``regret`` where the objective's optimum is known (on ``true_value`` when the
        objective reports one, else on ``value``).
        """
        import pandas as pd

        rows = []
        for rec in self.trials:
            row: dict[str, Any] = {
                "id": rec.id,
                "state": rec.state.value,
                "value": rec.value,
                "budget": rec.budget,
                "cost": None if rec.result is None else rec.result.cost,
                "datetime_start": rec.datetime_start,
                "datetime_complete": rec.datetime_complete,
            }
            for key, val in rec.config.items():
                row[f"params_{key}"] = val
            for key in ("true_value", "error", "wall_time"):
                if key in rec.info:
                    row[key] = rec.info[key]
            if self.objective.optimum is not None and rec.value is not None:
                base = rec.info.get("true_value", rec.value)
                row["regret"] = self.objective.regret(base)
            rows.append(row)
        return pd.DataFrame(rows)

    def __repr__(self) -> str:
        return f"Study({self.study_name!r}, objective={self.objective.name!r}, optimizer={self.optimizer.name!r})"


def _resolve_objective(objective: Objective | str | Callable[..., Any], space: Any) -> Objective:
    if isinstance(objective, Objective):
        return objective
    if isinstance(objective, str):
        from hpolab.registry import make_objective

        return make_objective(objective)
    if callable(objective):
        if space is None:
            raise ValueError("space: a plain function needs a search space; pass space={...}")
        return FunctionObjective(objective, space)
    raise TypeError(f"objective: {objective!r} is not an Objective, a registry name or a function")


def create_study(
    objective: Objective | str | Callable[..., Any],
    optimizer: Optimizer | str = "random",
    *,
    storage: Storage | str | None = None,
    study_name: str | None = None,
    load_if_exists: bool = False,
    seed: int | None = None,
    space: Any = None,
    optimizer_kwargs: Mapping[str, Any] | None = None,
) -> Study:
    """Create (or reopen) a study.

    Args:
        objective: An Objective, a registry name (``"toy/branin"``) or a function of a config
            (then ``space`` is required).
        optimizer: An Optimizer over the objective's space, or a registry name (built with the
            objective's direction, ``seed`` and ``optimizer_kwargs``).
        storage: ``None`` (memory), a URL (``"sqlite:///runs.db"``) or a Storage.
        study_name: Unique name in the storage; generated when omitted.
        load_if_exists: Continue the study of that name if it exists: the optimizer (which must
            be fresh) replays the stored history, and trials that were running when the earlier
            process died are evaluated again first.
        seed: Seed for an optimizer given by name.
        space: Search space of a plain-function objective.
        optimizer_kwargs: Options for an optimizer given by name.

    Returns:
        The Study.

    Raises:
        StorageError: If the study exists and ``load_if_exists`` is false, or the storage URL is unusable.
        ValueError: If the optimizer's direction or space does not match the objective's.
    """
    obj = _resolve_objective(objective, space)
    if isinstance(optimizer, str):
        from hpolab.registry import make_optimizer

        opt = make_optimizer(
            optimizer, obj.search_space, direction=obj.direction, seed=seed, **dict(optimizer_kwargs or {})
        )
    elif isinstance(optimizer, Optimizer):
        if optimizer_kwargs:
            raise ValueError("optimizer_kwargs: only used with an optimizer name; configure the instance instead")
        opt = optimizer
    else:
        raise TypeError(f"optimizer: {optimizer!r} is not an Optimizer or a registry name")
    if opt.direction is not obj.direction:
        raise ValueError(
            f"direction: the optimizer {opt.direction.value}s but objective {obj.name!r} is to "
            f"{obj.direction.value}; build the optimizer with direction={obj.direction.value!r}"
        )
    if set(opt.space.names) != set(obj.search_space.names):
        raise ValueError(
            f"space: the optimizer's parameters {sorted(opt.space.names)} differ from objective "
            f"{obj.name!r}'s {sorted(obj.search_space.names)}; build the optimizer on objective.search_space"
        )
    store = get_storage(storage)
    name = study_name or f"study-{uuid.uuid4().hex[:12]}"
    info = store.get_study(name)
    if info is not None:
        if not load_if_exists:
            raise StorageError(f"study {name!r} already exists; pass load_if_exists=True to continue it")
        return _load(obj, opt, store, info)
    attrs = {
        "objective": obj.name,
        "optimizer": opt.meta,
        "search_space": obj.search_space.to_json(),
        "created_by": "hpolab",
    }
    info = store.create_study(name, obj.direction.value, attrs)
    return Study(obj, opt, store, info)


def _load(obj: Objective, opt: Optimizer, store: Storage, info: StudyInfo) -> Study:
    stored_obj = info.attrs.get("objective")
    if stored_obj is not None and stored_obj != obj.name:
        raise ValueError(
            f"study {info.name!r} was run on objective {stored_obj!r}, not {obj.name!r}; open it with the same objective"
        )
    stored_meta = info.attrs.get("optimizer", {})
    if stored_meta.get("name") not in (None, opt.name):
        raise ValueError(
            f"study {info.name!r} was run with optimizer {stored_meta.get('name')!r}, not {opt.name!r}; "
            "resume it with the same optimizer"
        )
    if stored_meta.get("seed") != opt.seed:
        _logger.warning(
            "study %s was run with seed %s; resuming with seed %s will not reproduce an uninterrupted run",
            info.name,
            stored_meta.get("seed"),
            opt.seed,
        )
    if opt.history or opt.pending:
        raise ValueError("optimizer: resuming needs a fresh optimizer; this one was already used")
    opt.replay(store.get_events(info.study_id))
    study = Study(obj, opt, store, info)
    study._requeued = sorted(opt.pending, key=lambda t: t.id)
    if study._requeued:
        _logger.info(
            "study %s: %d trial(s) were running when the last process stopped; evaluating them again",
            info.name,
            len(study._requeued),
        )
    return study


def load_study(
    study_name: str,
    storage: Storage | str,
    objective: Objective | str | None = None,
    optimizer: Optimizer | str | None = None,
    *,
    seed: int | None = None,
) -> Study:
    """Reopen a stored study; objective and optimizer default to the stored names and seed.

    An optimizer rebuilt by name gets its default options: pass an Optimizer instance built
    with the original options when they were not the defaults.

    Raises:
        StorageError: If there is no such study.
    """
    store = get_storage(storage)
    info = store.get_study(study_name)
    if info is None:
        known = [s.name for s in store.list_studies()]
        raise StorageError(f"study {study_name!r} is not in the storage; known: {known}")
    meta = info.attrs.get("optimizer", {})
    obj = objective if objective is not None else info.attrs.get("objective")
    if obj is None:
        raise ValueError(f"study {study_name!r} has no stored objective name; pass objective=")
    opt = optimizer if optimizer is not None else meta.get("name", "random")
    if isinstance(opt, str):
        seed = meta.get("seed") if seed is None else seed
    return create_study(obj, opt, storage=store, study_name=study_name, load_if_exists=True, seed=seed)


def optimize(
    objective: Objective | str | Callable[..., Any],
    optimizer: Optimizer | str = "random",
    n_trials: int | None = None,
    *,
    space: Any = None,
    seed: int | None = None,
    timeout: float | None = None,
    storage: Storage | str | None = None,
    study_name: str | None = None,
    show_progress_bar: bool = False,
    **optimizer_kwargs: Any,
) -> Study:
    """Create a study and run it: the one-call API.

    Example:
        >>> study = hpolab.optimize("toy/branin", "tpe", n_trials=30, seed=0)
        >>> study.best_value

    Returns:
        The finished Study.
    """
    study = create_study(
        objective,
        optimizer,
        storage=storage,
        study_name=study_name,
        seed=seed,
        space=space,
        optimizer_kwargs=optimizer_kwargs or None,
    )
    study.optimize(n_trials=n_trials, timeout=timeout, show_progress_bar=show_progress_bar)
    return study
