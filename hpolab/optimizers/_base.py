"""The Optimizer ABC: one ask/tell interface for every backend, classic or LLM-driven."""

from __future__ import annotations

import logging
from abc import ABC, abstractmethod
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any, ClassVar, Protocol, overload

import numpy as np

from hpolab.exceptions import OptimizerError, SearchExhausted
from hpolab.space import SearchSpace
from hpolab.trial import Direction, Trial, TrialRecord, TrialResult, best_record

__all__ = ["Ledger", "Optimizer", "OptimizerError", "Proposal", "SearchExhausted"]

_logger = logging.getLogger("hpolab.optimizers")

STATE_FORMAT = 1


class Ledger(Protocol):
    """Where an optimizer in a study numbers and records its trials (the study's storage).

    Each method gets the index ``seq`` of the event in the optimizer's own log, so the storage
    keeps the optimizer's log itself, and writes before the backend learns of the event.
    """

    def asked(self, trials: Sequence[Trial], seq: int) -> Sequence[int]:
        """Store new trials (their ids are placeholders) and return their ids."""

    def told(self, trial: Trial, result: TrialResult, seq: int) -> None:
        """Store the result of an asked trial."""

    def observed(self, trial: Trial, result: TrialResult, seq: int) -> int:
        """Store an outside result (its id is a placeholder) and return its id."""


@dataclass
class Proposal:
    """What a backend's ``_ask`` returns: a configuration, and optionally a budget and metadata.

    A backend may also return a bare config dict; it is wrapped into a Proposal.

    Attributes:
        config: The configuration to evaluate.
        budget: The fidelity to evaluate it at (``None`` for single-fidelity runs).
        metadata: What to record with the trial (JSON-serializable).
        handle: The backend's own per-trial state (SMAC's ``TrialInfo``, an Optuna trial, a
            sub-optimizer's Trial). It rides on the Trial as :attr:`Trial.handle` and comes back
            to ``_tell``; it is never stored, so a backend rebuilds it in :meth:`Optimizer._replay_ask`.
    """

    config: dict[str, Any]
    budget: float | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    handle: Any = None


class Optimizer(ABC):
    """Base class of every hpolab optimizer.

    The public methods (:meth:`ask`, :meth:`tell`, :meth:`observe`) validate their input, keep
    the history and log every event, so that :meth:`state_dict` / :meth:`load_state_dict` can
    rebuild an optimizer that makes the same next ask as one that never stopped. Backends
    implement :meth:`_ask` and, if they learn, :meth:`_tell`.

    Trial ids are not the backend's business: a standalone optimizer numbers its trials with its
    own counter, and an optimizer in a :class:`~hpolab.Study` gets them from the study's storage
    (:meth:`attach`), where every worker of the study draws from one atomic counter. A backend
    finds its own state for a trial through the handle it put on the Proposal.

    Args:
        space: The search space (a SearchSpace, a ConfigSpace or a dict spec).
        direction: ``"minimize"`` or ``"maximize"``.
        seed: Seed of the optimizer's own random generator; ``None`` for fresh entropy.
    """

    #: Registry name of the backend.
    name: ClassVar[str] = "optimizer"

    def __init__(
        self,
        space: SearchSpace | Mapping[str, Any] | Any,
        *,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
    ) -> None:
        self.space = SearchSpace.coerce(space)
        self.direction = Direction.coerce(direction)
        if seed is not None and (isinstance(seed, bool) or not isinstance(seed, (int, np.integer))):
            raise ValueError(f"seed: {seed!r} must be an int or None")
        self.seed: int | None = None if seed is None else int(seed)
        self._rng = np.random.default_rng(self.seed)
        self._local_next_id = 0
        self._n_asked = 0
        self._ledger: Ledger | None = None
        self._replaying = False
        self._elsewhere: dict[int, Trial] = {}
        self._pending: dict[int, Trial] = {}
        self._records: dict[int, TrialRecord] = {}
        self._history: list[TrialRecord] = []
        self._events: list[dict[str, Any]] = []
        self._best: TrialRecord | None = None
        self.context: dict[str, Any] = {}

    # ----------------------------------------------------------------- backend API
    @abstractmethod
    def _ask(self, n: int) -> Sequence[Proposal | Mapping[str, Any]]:
        """Propose ``n`` configurations (as Proposals or config dicts)."""

    def _tell(self, trial: Trial, result: TrialResult) -> None:  # noqa: B027 - optional hook
        """Learn from a finished trial (default: nothing)."""

    def _observe(self, trial: Trial, result: TrialResult) -> None:
        """Learn from a trial this optimizer did not ask (default: same as :meth:`_tell`)."""
        self._tell(trial, result)

    def _replay_ask(self, trials: Sequence[Trial]) -> list[Any]:
        """Bring the backend to the state it had after asking ``trials`` (on resume).

        The default asks the backend again (deterministic backends reproduce the same configs).
        Backends whose asks are expensive or external (LLMs) override this to take the stored
        trials as they are.

        Returns:
            One handle per trial (what ``_ask`` put on its Proposal), given back in ``_tell``.
        """
        proposals = [self._as_proposal(p) for p in self._ask(len(trials))]
        handles = [p.handle for p in proposals] + [None] * max(0, len(trials) - len(proposals))
        for trial, proposal in zip(trials, proposals, strict=False):
            if self.space.key(proposal.config) != self.space.key(trial.config) or proposal.budget != trial.budget:
                _logger.warning(
                    "replaying trial %d gave %s (budget %s) instead of the stored %s (budget %s); "
                    "the stored trial is kept and later asks may differ from an uninterrupted run",
                    trial.id,
                    proposal.config,
                    proposal.budget,
                    trial.config,
                    trial.budget,
                )
        return handles

    def _complete(self, fixed: Mapping[str, Any], seed: int, number: int) -> Mapping[str, Any]:
        """Values for the hyperparameters ``fixed`` leaves out, conditioned on ``fixed`` where the backend can.

        The contract of :meth:`complete`: a pure function of this optimizer's state, ``fixed``,
        ``seed`` and ``number`` that changes no state (no draw from :attr:`_rng`, no trial in a
        backend's model), so the next asks and a replay are those of an optimizer that never
        completed anything. It may return values for every hyperparameter; those of ``fixed`` win.
        ``fixed`` holds only known hyperparameters with allowed values (see :meth:`complete`).

        The default draws every hyperparameter at random from the space (uniformly, log-uniformly
        on log scales) with a generator seeded by ``seed``; ``number`` is there for backends that
        pass the completion on to another optimizer (a hybrid's core, ASHA's base).
        """
        rng = np.random.default_rng(seed)
        return {name: param.sample(rng) for name, param in self.space.params.items()}

    def _meta_params(self) -> dict[str, Any]:
        """Backend parameters recorded in :attr:`meta`."""
        return {}

    def spawn(self, seed: int | None) -> Optimizer:
        """A fresh copy of this (unused) optimizer with another seed: the optimizer of another worker.

        The default deep-copies the optimizer and reseeds its generator; backends that derive
        state from the seed when they are built override it.

        Raises:
            OptimizerError: If this optimizer was already used.
        """
        import copy

        if self._events or self._ledger is not None:
            raise OptimizerError(f"{self.name}: spawn needs an unused optimizer; this one was already used")
        clone = copy.deepcopy(self)
        clone.seed = seed
        clone._rng = np.random.default_rng(seed)
        return clone

    # ------------------------------------------------------------------ public API
    def attach(self, ledger: Ledger | None) -> None:
        """Give trial numbering and the event log to a ledger (a study's storage); ``None`` detaches.

        From then on the ledger allocates trial ids (unique across all workers of a study) and
        stores every ask, tell and observe as it happens, stamped with its index in this
        optimizer's log, so the storage keeps the optimizer's own log rather than a second copy.
        """
        self._ledger = ledger

    @property
    def running_elsewhere(self) -> list[Trial]:
        """Trials other workers of the same study are evaluating now (kept by the study).

        Backends read it in ``_ask`` so that a worker does not propose what another is running
        (grid and LLM skip those configs; TPE treats them as running, SMAC as pending points).
        """
        return list(self._elsewhere.values())

    def set_running_elsewhere(self, trials: Sequence[Trial]) -> None:
        """Replace :attr:`running_elsewhere` (a study calls this before each ask)."""
        self._elsewhere = {t.id: t for t in trials if t.id not in self._pending and t.id not in self._records}

    def set_context(
        self,
        *,
        description: str | None = None,
        n_trials: int | None = None,
        fidelity: Any = None,
    ) -> None:
        """Tell the optimizer about the problem it runs on (a Study calls this before optimizing).

        Only plain data passes: the objective's ``description`` (text an LLM sees), the number of
        trials the study will run, and its ``fidelity`` (name, min, max). Backends that need them
        (LLM prompts, "This is the last try.", ASHA budgets) read ``self.context``; values given
        to a backend's constructor take precedence.
        """
        for key, value in (("description", description), ("n_trials", n_trials), ("fidelity", fidelity)):
            if value is not None:
                self.context[key] = value

    @property
    def meta(self) -> dict[str, Any]:
        """Name, class, parameters, direction and seed of this optimizer."""
        return {
            "name": self.name,
            "class": f"{type(self).__module__}.{type(self).__qualname__}",
            "params": self._meta_params(),
            "direction": self.direction.value,
            "seed": self.seed,
        }

    @overload
    def ask(self, n: None = None) -> Trial: ...

    @overload
    def ask(self, n: int) -> list[Trial]: ...

    def ask(self, n: int | None = None) -> Trial | list[Trial]:
        """Ask for the next trial, or a batch of ``n`` trials for parallel workers.

        Args:
            n: ``None`` for one Trial; an int for a list of up to ``n`` trials (fewer only when
                the optimizer is nearly exhausted, like the end of a grid).

        Returns:
            A Trial, or a list of Trials.

        Raises:
            SearchExhausted: If the optimizer has nothing left to propose.
        """
        count = 1 if n is None else n
        if isinstance(count, bool) or not isinstance(count, (int, np.integer)) or count < 1:
            raise ValueError(f"n: {n!r} must be a positive int (or None for one trial)")
        proposals = [self._as_proposal(p) for p in self._ask(int(count))]
        if not proposals:
            raise SearchExhausted(f"{self.name}: nothing left to propose")
        if len(proposals) > count:
            raise OptimizerError(f"{self.name}: backend returned {len(proposals)} proposals for n={count}")
        configs = [self.space.validate(p.config) for p in proposals]  # all valid before any is registered
        drafts = [
            Trial(-1, c, p.budget, self._trial_seed(self._n_asked + k), p.metadata, handle=p.handle)
            for k, (p, c) in enumerate(zip(proposals, configs, strict=True))
        ]
        if self._ledger is not None and not self._replaying:
            ids = self._checked_ids(self._ledger.asked(drafts, len(self._events)), len(drafts))
        else:
            ids = self._local_ids(len(drafts))
        trials = [replace(d, id=i) for d, i in zip(drafts, ids, strict=True)]
        for trial in trials:
            self._pending[trial.id] = trial
            self._local_next_id = max(self._local_next_id, trial.id + 1)
        self._n_asked += len(trials)
        self._events.append({"ask": [t.to_dict() for t in trials]})
        return trials[0] if n is None else trials

    def tell(
        self,
        trial: Trial | int,
        result: TrialResult | float | int | Mapping[str, Any] | None,
    ) -> TrialRecord:
        """Report the result of an asked trial.

        Args:
            trial: The Trial (or its id) returned by :meth:`ask`.
            result: A TrialResult or a number. NaN, inf or ``None`` make the trial FAIL.

        Returns:
            The finished TrialRecord.

        Raises:
            OptimizerError: If the trial was never asked or was already told.
        """
        if isinstance(trial, Trial):
            trial_id = trial.id
        elif isinstance(trial, (int, np.integer)) and not isinstance(trial, bool):
            trial_id = int(trial)
        else:
            raise OptimizerError(f"trial: {trial!r} is not a Trial or a trial id; pass what ask() returned")
        asked = self._pending.get(trial_id)
        if asked is None:
            if trial_id in self._records:
                state = self._records[trial_id].state.value
                raise OptimizerError(f"trial {trial_id} was already told ({state}); tell each trial once")
            raise OptimizerError(
                f"trial {trial_id} was not asked by this optimizer; use observe() to add outside results"
            )
        res = TrialResult.coerce(result)
        if self._ledger is not None and not self._replaying:
            self._ledger.told(asked, res, len(self._events))  # stored before the backend learns
        del self._pending[trial_id]
        record = self._record(asked, res)
        self._events.append({"tell": trial_id, "result": res.to_dict()})
        self._tell(asked, res)
        return record

    def observe(
        self,
        config: Mapping[str, Any],
        result: TrialResult | float | int | Mapping[str, Any] | None,
        *,
        budget: float | None = None,
    ) -> TrialRecord:
        """Add a result for a configuration this optimizer did not ask (warm start, transfer).

        Args:
            config: A configuration inside the space.
            result: Its result.
            budget: The budget it was evaluated at.

        Returns:
            The recorded TrialRecord (its metadata says ``observed``).
        """
        config = self.space.validate(config)
        res = TrialResult.coerce(result)
        draft = Trial(-1, config, budget=budget, seed=None, metadata={"observed": True})
        if self._ledger is not None and not self._replaying:
            trial_id = self._checked_ids([self._ledger.observed(draft, res, len(self._events))], 1)[0]
        else:
            trial_id = self._local_ids(1)[0]
        return self.observe_trial(replace(draft, id=trial_id), res)

    def observe_trial(self, trial: Trial, result: TrialResult | float | int | Mapping[str, Any] | None) -> TrialRecord:
        """Add a finished trial this optimizer did not ask, keeping its id (another worker's trial).

        Args:
            trial: The trial, with the id the study's storage gave it.
            result: Its result.

        Returns:
            The recorded TrialRecord.

        Raises:
            OptimizerError: If this optimizer already holds a trial with that id.
        """
        if trial.id in self._pending or trial.id in self._records:
            raise OptimizerError(f"trial {trial.id} is already known to this optimizer; observe each trial once")
        res = TrialResult.coerce(result)
        trial = Trial(trial.id, self.space.validate(trial.config), trial.budget, trial.seed, trial.metadata)
        self._elsewhere.pop(trial.id, None)
        record = self._record(trial, res)
        self._events.append({"observe": trial.to_dict(), "result": res.to_dict()})
        self._observe(trial, res)
        return record

    def unusable(self, trial: Trial) -> str | None:
        """Why a trial from outside (another worker, a plain Optuna process) cannot be taken in, or ``None``.

        A trial is unusable when its id is already known to this optimizer or its configuration
        does not fit the space (unknown, missing or out-of-range values).
        """
        if trial.id in self._pending or trial.id in self._records:
            return f"trial {trial.id} is already known to this optimizer"
        problems = self.space.problems(trial.config)
        if problems:
            return f"its configuration {trial.config} does not fit the search space: {'; '.join(problems)}"
        return None

    def complete(self, fixed: Mapping[str, Any], *, number: int = 0) -> dict[str, Any]:
        """A configuration of the space that keeps ``fixed``, its missing values proposed by this optimizer.

        What a study evaluates for a partial ``enqueue_trial`` (Optuna's ``fixed_params``): every
        key of ``fixed`` kept as given, each missing active hyperparameter proposed by the
        backend's own method where it can condition on the fixed values (an Optuna sampler
        samples the rest of a trial whose fixed values are set, as Optuna does for a partial
        enqueue; a hybrid asks its core), else drawn at random from the space (the table in
        docs/workers.md says which backend does what). ``fixed`` with an unknown name or a value
        the space does not allow is completed by the random draw; the result keeps them, so
        validating it names them.

        Completing changes nothing in the optimizer: the same state, ``fixed`` and ``number``
        give the same configuration, and the next :meth:`ask` is the one it would have been.

        Args:
            fixed: The values given (a partial or whole configuration).
            number: The trial's number in the study (any int standalone); with the optimizer's
                seed it seeds the completion.

        Returns:
            ``fixed`` with the missing active hyperparameters added (inactive ones left out).
        """
        if not isinstance(fixed, Mapping):
            raise OptimizerError(f"fixed: {fixed!r} is not a dict of hyperparameter values")
        if isinstance(number, bool) or not isinstance(number, (int, np.integer)):
            raise ValueError(f"number: {number!r} must be an int")
        given = dict(fixed)
        if not any(name not in given for name in self.space.active_names(given)):
            return given
        params = self.space.params
        fits = all(name in params and params[name].check(value) is None for name, value in given.items())
        seed = int(np.random.SeedSequence([(self.seed or 0) % 2**63, int(number) % 2**63]).generate_state(1)[0])
        proposed = self._complete(given, seed, int(number)) if fits else Optimizer._complete(self, given, seed, 0)
        values = {**proposed, **given}
        active = set(self.space.active_names(values))
        return {name: value for name, value in values.items() if name in active or name in given}

    @property
    def n_events(self) -> int:
        """Number of events (ask, tell, observe) in this optimizer's log: the index of the next one."""
        return len(self._events)

    def pending_trial(self, trial_id: int) -> Trial | None:
        """The asked, not yet told trial ``trial_id`` (with its handle), or ``None``."""
        return self._pending.get(trial_id)

    def knows(self, trial_id: int) -> bool:
        """Whether this optimizer asked or observed the trial ``trial_id``."""
        return trial_id in self._pending or trial_id in self._records

    @property
    def history(self) -> list[TrialRecord]:
        """Finished trials, in the order they were told."""
        return list(self._history)

    @property
    def pending(self) -> list[Trial]:
        """Asked trials not yet told."""
        return list(self._pending.values())

    @property
    def best(self) -> TrialRecord | None:
        """The best COMPLETE trial so far (``None`` if none). A FAIL trial is never the best."""
        return self._best

    @property
    def n_told(self) -> int:
        """Number of finished trials."""
        return len(self._history)

    def state_dict(self) -> dict[str, Any]:
        """A JSON-serializable state: the optimizer's meta and its event log.

        Load it into a fresh optimizer built with the same arguments to resume.
        """
        return {"format": STATE_FORMAT, "meta": self.meta, "events": [dict(e) for e in self._events]}

    def load_state_dict(self, state: Mapping[str, Any]) -> None:
        """Restore a state from :meth:`state_dict` into this fresh optimizer by replaying it.

        Raises:
            OptimizerError: If this optimizer was already used or the state is of another kind.
        """
        if self._events:
            raise OptimizerError("load_state_dict needs a fresh optimizer; this one was already used")
        if state.get("format") != STATE_FORMAT:
            raise OptimizerError(f"state format {state.get('format')!r} is not {STATE_FORMAT}")
        meta = state.get("meta", {})
        if meta.get("name") not in (None, self.name):
            raise OptimizerError(f"state is of optimizer {meta.get('name')!r}, not {self.name!r}")
        if meta.get("seed") != self.seed:
            _logger.warning("state was saved with seed %s, this optimizer has seed %s", meta.get("seed"), self.seed)
        self.replay(state.get("events", []))

    def replay(self, events: Sequence[Mapping[str, Any]]) -> None:
        """Replay an event log (``ask`` / ``tell`` / ``observe`` entries) into this optimizer.

        An observed trial that does not fit the space (one written by a plain Optuna process, a
        foreign enqueue) and a result of a trial the log never asked are skipped with a warning,
        so no stored trial stops an optimizer from resuming.
        """
        self._replaying = True
        try:
            for event in events:
                if "ask" in event:
                    trials = [Trial.from_dict(t) for t in event["ask"]]
                    handles = self._replay_ask(trials)
                    for trial, handle in zip(trials, handles, strict=True):
                        self._pending[trial.id] = trial.with_handle(handle)
                        self._elsewhere.pop(trial.id, None)
                        self._local_next_id = max(self._local_next_id, trial.id + 1)
                    self._n_asked += len(trials)
                    self._events.append({"ask": [t.to_dict() for t in trials]})
                elif "tell" in event:
                    told = int(event["tell"])
                    if told not in self._pending:
                        _logger.warning("replay: skipped the result of trial %d, which this log never asked", told)
                        continue
                    self.tell(told, TrialResult.from_dict(event["result"]))
                elif "observe" in event:
                    trial = Trial.from_dict(event["observe"])
                    self._local_next_id = max(self._local_next_id, trial.id + 1)
                    problem = self.unusable(trial)
                    if problem is not None:
                        _logger.warning("replay: skipped trial %d: %s", trial.id, problem)
                        continue
                    self.observe_trial(trial, TrialResult.from_dict(event["result"]))
                else:
                    raise OptimizerError(f"unknown event {sorted(event)}; expected ask, tell or observe")
        finally:
            self._replaying = False

    # ------------------------------------------------------------------ helpers
    def _as_proposal(self, item: Proposal | Mapping[str, Any]) -> Proposal:
        if isinstance(item, Proposal):
            return item
        return Proposal(dict(item))

    def _trial_seed(self, index: int) -> int | None:
        """Seed of the ``index``-th trial this optimizer asks (by ask order, not by id)."""
        if self.seed is None:
            return None
        return (self.seed * 1_000_003 + index * 7_919) % (2**31 - 1)

    def _checked_ids(self, ids: Sequence[int], n: int) -> list[int]:
        out = [int(i) for i in ids]
        if len(out) != n or len(set(out)) != n:
            raise OptimizerError(f"{self.name}: the ledger gave ids {out} for {n} new trials")
        clash = [i for i in out if i in self._pending or i in self._records]
        if clash:
            raise OptimizerError(f"{self.name}: the ledger gave ids {clash} that are already in use")
        return out

    def _local_ids(self, n: int) -> list[int]:
        ids = list(range(self._local_next_id, self._local_next_id + n))
        self._local_next_id += n
        return ids

    def _record(self, trial: Trial, result: TrialResult) -> TrialRecord:
        record = TrialRecord(trial, result)
        self._records[trial.id] = record
        self._history.append(record)
        self._best = best_record([r for r in (self._best, record) if r is not None], self.direction)
        return record

    def _fidelity_bounds(self, lower: float | None, upper: float | None) -> tuple[float | None, float | None]:
        """Budget bounds: the ones given to the backend, else the Study's fidelity (min, max), else None."""
        fidelity = self.context.get("fidelity")
        lo = lower if lower is not None else getattr(fidelity, "min", None)
        hi = upper if upper is not None else getattr(fidelity, "max", None)
        return (None if lo is None else float(lo)), (None if hi is None else float(hi))

    def _signed(self, value: float) -> float:
        """``value`` turned into a quantity to minimize."""
        return self.direction.sign * value

    def __repr__(self) -> str:
        return f"{type(self).__name__}(seed={self.seed}, direction={self.direction.value}, told={len(self._history)})"
