"""Trials and their results: the records every optimizer, study and storage exchange."""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any

from hpolab._deprecation import renamed_fields, renamed_key, renamed_keyword

__all__ = [
    "Direction",
    "Trial",
    "TrialRecord",
    "TrialResult",
    "TrialState",
    "best_record",
    "budget_spent",
    "regret",
    "to_plain",
    "trial_budget",
]


class TrialState(Enum):
    """Lifecycle state of a trial."""

    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAIL = "FAIL"

    @property
    def is_finished(self) -> bool:
        """Whether the trial has a final result."""
        return self is not TrialState.RUNNING


class Direction(Enum):
    """Whether the objective value is minimized or maximized."""

    MINIMIZE = "minimize"
    MAXIMIZE = "maximize"

    @classmethod
    def coerce(cls, value: Direction | str) -> Direction:
        """Return ``value`` as a Direction, accepting ``"minimize"`` / ``"maximize"``.

        Raises:
            ValueError: If ``value`` names no direction.
        """
        if isinstance(value, Direction):
            return value
        try:
            return cls(str(value).lower())
        except ValueError:
            raise ValueError(f"direction: {value!r} is not a direction; use 'minimize' or 'maximize'") from None

    def better(self, a: float, b: float) -> bool:
        """Whether value ``a`` is strictly better than ``b`` in this direction."""
        return a < b if self is Direction.MINIMIZE else a > b

    @property
    def sign(self) -> float:
        """+1 for minimization, -1 for maximization: ``sign * value`` is always minimized."""
        return 1.0 if self is Direction.MINIMIZE else -1.0


_PLAIN = frozenset({str, int, float, bool, type(None)})


def to_plain(value: Any) -> Any:
    """Convert numpy scalars (and containers of them) to plain Python values (hpolab's one such helper)."""
    kind = type(value)  # exact types first: this runs on every trial's config, several times
    if kind in _PLAIN:
        return value
    if kind is dict:
        return {k if type(k) is str else str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, Mapping):
        return {str(k): to_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_plain(v) for v in value]
    if isinstance(value, (set, frozenset)):  # JSON has no sets
        return [to_plain(v) for v in sorted(value, key=repr)]
    if type(value).__module__ == "numpy":
        tolist = getattr(value, "tolist", None)  # scalars -> int/float/bool/str, arrays -> nested lists
        if tolist is not None and callable(tolist):
            return tolist()
    return value


def _as_int(value: Any, name: str) -> int:
    """``value`` as a plain int (numpy ints and whole floats accepted)."""
    if isinstance(value, bool):
        raise ValueError(f"{name}: {value!r} is not an int")
    try:
        return operator.index(value)
    except TypeError:
        pass
    if isinstance(value, float) and value.is_integer():
        return int(value)
    raise ValueError(f"{name}: {value!r} is not an int")


@dataclass(frozen=True)
class Trial:
    """What to evaluate: a configuration, at a budget, with a seed.

    Attributes:
        id: Identifier, unique within an optimizer (and a study), in ask order.
        config: Hyperparameter values (plain ``int``, ``float`` or ``str``).
        budget: Fidelity to evaluate at (e.g. epochs); ``None`` for single-fidelity runs.
        seed: Seed for the evaluation, or ``None``.
        metadata: What the optimizer wants to record with the trial (e.g. an LLM transcript).
        handle: The optimizer backend's own state for this trial (opaque; not stored, not
            compared, not serialized).
    """

    id: int
    config: dict[str, Any]
    budget: float | None = None
    seed: int | None = None
    metadata: dict[str, Any] = field(default_factory=dict)
    handle: Any = field(default=None, compare=False, repr=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "id", _as_int(self.id, "id"))  # np.int64 -> int
        if self.seed is not None:
            object.__setattr__(self, "seed", _as_int(self.seed, "seed"))
        object.__setattr__(self, "config", to_plain(dict(self.config)))
        object.__setattr__(self, "metadata", dict(self.metadata or {}))  # None means no metadata
        if self.budget is not None:
            object.__setattr__(self, "budget", float(self.budget))

    def __hash__(self) -> int:
        return hash(self.id)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        return {
            "id": self.id,
            "config": self.config,
            "budget": self.budget,
            "seed": self.seed,
            "metadata": to_plain(self.metadata),
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Trial:
        """Inverse of :meth:`to_dict`."""
        return cls(
            id=int(data["id"]),
            config=dict(data["config"]),
            budget=data.get("budget"),
            seed=data.get("seed"),
            metadata=dict(data.get("metadata") or {}),
        )

    def with_metadata(self, **metadata: Any) -> Trial:
        """A copy with ``metadata`` merged in."""
        return replace(self, metadata={**self.metadata, **metadata})

    def with_handle(self, handle: Any) -> Trial:
        """A copy carrying the backend state ``handle``."""
        return replace(self, handle=handle)


@renamed_fields(cost="runtime")
@dataclass(frozen=True)
class TrialResult:
    """What came back from evaluating a trial.

    ``TrialResult(value, state, runtime, info)``; ``cost=`` is the deprecated old name of ``runtime=``.

    Attributes:
        value: Objective value; ``None`` for a failed trial.
        state: COMPLETE, PRUNED or FAIL. A NaN or infinite value becomes FAIL (value ``None``,
            the value in ``info["error"]``).
        runtime: How long the evaluation took: seconds, or the time a table recorded for it.
        info: Anything else (per-epoch losses, the true value of a noisy benchmark,
            ``"error"`` for a failure).
    """

    value: float | None
    state: TrialState = TrialState.COMPLETE
    runtime: float | None = None
    info: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        object.__setattr__(self, "info", to_plain(dict(self.info or {})))  # None means no info
        state = self.state
        if not isinstance(state, TrialState):
            try:
                state = TrialState(str(state).upper())
            except ValueError:
                raise ValueError(f"state: {self.state!r} is not a TrialState; use COMPLETE, PRUNED or FAIL") from None
            object.__setattr__(self, "state", state)
        if state is TrialState.RUNNING:
            raise ValueError("state: RUNNING is not a result; use COMPLETE, PRUNED or FAIL")
        value = self.value
        if value is not None:
            try:
                value = float(value)
            except (TypeError, ValueError):
                raise ValueError(f"value: {self.value!r} is not a number; return a float (or raise to fail)") from None
            if math.isfinite(value):
                object.__setattr__(self, "value", value)
            else:  # a failed trial has no value, live or reloaded from JSON (which has no NaN)
                object.__setattr__(self, "value", None)
                if state is not TrialState.FAIL:
                    object.__setattr__(self, "state", TrialState.FAIL)
                    info = {"error": f"objective returned a non-finite value ({value})", **self.info}
                    object.__setattr__(self, "info", info)
        elif state is TrialState.COMPLETE:
            raise ValueError("value: None is not allowed for a COMPLETE trial; give a float")
        if self.runtime is not None:
            try:
                object.__setattr__(self, "runtime", float(self.runtime))
            except (TypeError, ValueError):
                raise ValueError(f"runtime: {self.runtime!r} is not a number of seconds; give a float") from None

    def __hash__(self) -> int:
        return hash((self.value, self.state, self.runtime))

    @property
    def cost(self) -> float | None:
        """Deprecated old name of :attr:`runtime`."""
        return renamed_keyword("TrialResult", "cost", "runtime", self.runtime, None)

    @classmethod
    def fail(cls, error: str, *, runtime: float | None = None, cost: float | None = None, **info: Any) -> TrialResult:
        """A FAIL result carrying the error text in ``info["error"]`` (``cost=``: deprecated old name of ``runtime=``)."""
        runtime = renamed_keyword("TrialResult.fail", "cost", "runtime", cost, runtime)
        return cls(value=None, state=TrialState.FAIL, runtime=runtime, info={"error": error, **info})

    @classmethod
    def coerce(cls, value: TrialResult | float | int | Mapping[str, Any] | None) -> TrialResult:
        """Accept a TrialResult, a bare number, a dict of TrialResult fields or None (FAIL).

        A dict may still spell ``runtime`` as ``cost`` (deprecated; it warns).
        """
        if isinstance(value, TrialResult):
            return value
        if value is None:
            return cls.fail("no value")
        if isinstance(value, Mapping):
            data = dict(value)
            if "cost" in data:
                data["runtime"] = renamed_keyword(
                    "TrialResult", "cost", "runtime", data.pop("cost"), data.get("runtime")
                )
            fields = {"value", "state", "runtime", "info"}
            unknown = sorted(str(k) for k in data if k not in fields)
            if unknown:
                raise ValueError(
                    f"result: keys {unknown} are not TrialResult fields; use value, state, runtime and info "
                    "(put anything else in info)"
                )
            data.setdefault("value", None)  # fine for FAIL / PRUNED; a COMPLETE result without one raises
            return cls(**data)
        return cls(value=value)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serializable dict."""
        value = self.value
        if value is not None and not math.isfinite(value):
            value = None
        return {"value": value, "state": self.state.value, "runtime": self.runtime, "info": self.info}

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> TrialResult:
        """Inverse of :meth:`to_dict`; a dict written by an older hpolab (``"cost"``) reads too."""
        data = renamed_key(data, "cost", "runtime")
        return cls(
            value=data.get("value"),
            state=TrialState(data["state"]),
            runtime=data.get("runtime"),
            info=dict(data.get("info") or {}),
        )


@dataclass(frozen=True)
class TrialRecord:
    """A trial with its result (``None`` while it runs), as kept in a history or a study.

    Attributes:
        trial: The trial that was asked.
        result: Its result, or ``None`` while it is running.
        datetime_start: Wall-clock start (seconds since the epoch), when known.
        datetime_complete: Wall-clock completion, when known.
    """

    trial: Trial
    result: TrialResult | None = None
    datetime_start: float | None = None
    datetime_complete: float | None = None

    def __hash__(self) -> int:
        return hash(self.trial.id)

    @property
    def id(self) -> int:
        """The trial's id."""
        return self.trial.id

    @property
    def config(self) -> dict[str, Any]:
        """The trial's configuration."""
        return self.trial.config

    @property
    def budget(self) -> float | None:
        """The trial's budget."""
        return self.trial.budget

    @property
    def state(self) -> TrialState:
        """RUNNING until a result is told."""
        return TrialState.RUNNING if self.result is None else self.result.state

    @property
    def value(self) -> float | None:
        """The result's value (``None`` while running or failed)."""
        return None if self.result is None else self.result.value

    @property
    def is_complete(self) -> bool:
        """Whether the trial is COMPLETE with a finite value (only such trials can be the best)."""
        return self.state is TrialState.COMPLETE and self.value is not None and math.isfinite(self.value)

    @property
    def metadata(self) -> dict[str, Any]:
        """The trial's metadata."""
        return self.trial.metadata

    @property
    def info(self) -> dict[str, Any]:
        """The result's info (empty while running)."""
        return {} if self.result is None else self.result.info


def regret(value: float | None, optimum: float | None, direction: Direction | str) -> float | None:
    """How far ``value`` is from the known ``optimum`` in ``direction`` (hpolab's one definition of regret).

    Returns:
        ``sign * (value - optimum)`` (never negative for a true optimum), or ``None`` when the optimum
        is unknown or the value is missing or not finite.
    """
    if optimum is None or value is None or not math.isfinite(value):
        return None
    return Direction.coerce(direction).sign * (float(value) - float(optimum))


def trial_budget(record: Any, full_budget: float | None = None) -> float:
    """The budget a trial used: its own, else the full budget, else 1 (one evaluation).

    This is hpolab's one definition of a trial's budget; :func:`budget_spent` sums it.

    Args:
        record: A trial record (or anything with a ``budget`` attribute).
        full_budget: The objective's full fidelity (its ``fidelity.max``), or ``None`` for a
            single-fidelity objective.
    """
    if record.budget is not None:
        return float(record.budget)
    return float(full_budget) if full_budget else 1.0


def budget_spent(records: Iterable[Any], full_budget: float | None = None) -> float:
    """Total budget of the finished trials in ``records`` (e.g. epochs; trials for single-fidelity runs)."""
    return sum(trial_budget(r, full_budget) for r in records if r.state.is_finished)


def best_record(records: Iterable[TrialRecord], direction: Direction) -> TrialRecord | None:
    """The best COMPLETE record in ``direction`` (the first one on ties), or ``None``."""
    best: TrialRecord | None = None
    for rec in records:
        if rec.is_complete and (best is None or direction.better(rec.value, best.value)):  # type: ignore[arg-type]
            best = rec
    return best
