"""The trial codec: how an hpolab trial, its result and its events live in an Optuna trial.

Built on Optuna's public ``FrozenTrial``: a trial's configuration is its ``params``; its budget,
seed and metadata are the system attribute ``hpolab:trial`` (with the ask stamp of the worker
whose optimizer asked it); its result's runtime, info and tell / observe stamp are ``hpolab:result``
(older versions wrote the runtime as ``"cost"``; it still reads).
Decoding never raises: a trial written without hpolab (a plain Optuna sampler, Optuna's
``enqueue_trial``) decodes as a foreign trial, and an unreadable field reads as missing.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from hpolab.trial import Trial, TrialRecord, TrialResult, TrialState

if TYPE_CHECKING:
    from optuna.trial import FrozenTrial

__all__ = ["STORAGE_FORMAT", "asked_by", "attempt_of", "is_foreign", "is_stale", "is_unread", "run_by", "to_record"]

_logger = logging.getLogger("hpolab.storage")

#: Version of hpolab's layout inside Optuna's attributes (study system attribute ``hpolab:format``).
STORAGE_FORMAT = 2

_P = "hpolab:"  # prefix of every hpolab system attribute
_ATTRS = _P + "attrs"
_FORMAT = _P + "format"
_TRIAL = _P + "trial"  # {"budget", "seed", "metadata", and "ask": [worker, seq, position in the batch]}
_RUN_BY = _P + "run_by"  # the worker evaluating a trial it did not ask (a queued or adopted trial)
_RESULT = (
    _P + "result"
)  # {"runtime", "info", "state", "value", and "tell": [worker, seq, number told] or "observe": [worker, seq]}
_STALE = _P + "stale"  # set on a trial failed because its worker died
_RETRY_OF = _P + "retry_of"
_ATTEMPT = _P + "attempt"  # the attempt number of an adopted trial (set when a worker takes it over)
_UNREAD = _P + "unread"  # only on the placeholder of a RUNNING trial read as a state (Storage.scan)
_WORKER = _P + "worker:"
_HEARTBEAT = _P + "heartbeat:"


def _json_safe(value: Any) -> Any:
    """``value`` as strict JSON data (non-finite floats become None, numpy scalars plain)."""
    kind = type(value)  # exact types first: this runs on every stored trial
    if kind is str or kind is int or kind is bool or value is None:
        return value
    if kind is float:
        return value if math.isfinite(value) else None
    if kind is dict:
        return {k if type(k) is str else str(k): _json_safe(v) for k, v in value.items()}
    if kind is list:
        return [_json_safe(v) for v in value]
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, Mapping):
        return {str(k): _json_safe(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_json_safe(v) for v in value]
    if isinstance(value, Path):
        return str(value)
    item = getattr(value, "item", None)
    if callable(item) and type(value).__module__ == "numpy":
        return _json_safe(item())
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return repr(value)


def _number(value: Any) -> float | None:
    """``value`` as a finite float, or None (a stored field of the wrong type reads as missing)."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        return None
    return float(value)


def _fixed_params(frozen: FrozenTrial) -> dict[str, Any]:
    """The values Optuna's ``enqueue_trial`` stored for a trial (``system_attrs["fixed_params"]``)."""
    fixed = frozen.system_attrs.get("fixed_params")
    return {str(k): v for k, v in fixed.items()} if isinstance(fixed, Mapping) else {}


def _trial_of(frozen: FrozenTrial) -> Trial:
    """The Trial stored in an Optuna trial; never raises (unreadable fields read as missing).

    A trial without hpolab's attribute (a plain Optuna sampler's, or one queued with Optuna's
    ``enqueue_trial``) is a foreign trial: its config is Optuna's ``fixed_params`` updated by its
    ``params``, as stored (it may not fit the study's space), and its metadata says
    ``{"foreign": True}`` (plus ``"enqueued": True`` for a queued one).
    """
    stored = frozen.system_attrs.get(_TRIAL)
    if isinstance(stored, Mapping):
        seed = stored.get("seed")
        metadata = stored.get("metadata")
        try:
            return Trial(
                frozen.number,
                dict(frozen.params),
                budget=_number(stored.get("budget")),
                seed=seed if isinstance(seed, int) and not isinstance(seed, bool) else None,
                metadata=dict(metadata) if isinstance(metadata, Mapping) else {},
            )
        except (TypeError, ValueError) as exc:
            _logger.warning("trial %d: its stored hpolab data is unreadable (%s); read as foreign", frozen.number, exc)
    metadata = {"foreign": True}
    if "fixed_params" in frozen.system_attrs:
        metadata["enqueued"] = True
    config = {**_fixed_params(frozen), **frozen.params}
    return Trial(frozen.number, config, budget=_number(frozen.user_attrs.get("budget")), metadata=metadata)


def _result_of(frozen: FrozenTrial) -> TrialResult:
    """The result of a finished Optuna trial (a FAIL saying why, where the stored one is unreadable)."""
    from optuna.trial import TrialState as OptunaState

    stored = frozen.system_attrs.get(_RESULT)
    stored = stored if isinstance(stored, Mapping) else {}
    info = dict(stored["info"]) if isinstance(stored.get("info"), Mapping) else {}
    # older versions wrote the runtime as "cost"
    runtime = _number(stored.get("runtime", stored.get("cost", frozen.user_attrs.get("cost"))))
    value = _number(frozen.values[0]) if frozen.values else None
    try:
        if frozen.state is OptunaState.COMPLETE:
            return TrialResult(value, TrialState.COMPLETE, runtime, info)
        if frozen.state is OptunaState.PRUNED:
            pruned = _number(stored.get("value")) if "value" in stored else value
            if pruned is None and frozen.intermediate_values:
                pruned = _number(frozen.intermediate_values[max(frozen.intermediate_values)])
            return TrialResult(pruned, TrialState.PRUNED, runtime, info)
    except (TypeError, ValueError) as exc:
        info["error"] = f"unreadable stored result: {exc}"
    info.setdefault("error", "failed")
    return TrialResult(None, TrialState.FAIL, runtime, info)


def to_record(frozen: FrozenTrial) -> TrialRecord | None:
    """An Optuna trial as an hpolab TrialRecord (``None`` for a WAITING trial); never raises.

    A foreign trial (see :func:`is_foreign`) decodes too, with ``{"foreign": True}`` in its
    metadata; whether its config fits the study's space is for the study to check. An adopted
    trial's metadata says its attempt (``"attempt"``, see :func:`attempt_of`).
    """
    from optuna.trial import TrialState as OptunaState

    if frozen.state is OptunaState.WAITING:
        return None
    trial = _trial_of(frozen)
    if _ATTEMPT in frozen.system_attrs:  # an adopted trial: the attempt it is now
        trial = trial.with_metadata(attempt=attempt_of(frozen))
    start = frozen.datetime_start.timestamp() if frozen.datetime_start else None
    end = frozen.datetime_complete.timestamp() if frozen.datetime_complete else None
    if frozen.state is OptunaState.RUNNING:
        return TrialRecord(trial, None, start, end)
    return TrialRecord(trial, _result_of(frozen), start, end)


def is_foreign(frozen: FrozenTrial) -> bool:
    """Whether a trial was written without hpolab (a plain Optuna sampler, or Optuna's ``enqueue_trial``)."""
    return not isinstance(frozen.system_attrs.get(_TRIAL), Mapping)


def attempt_of(frozen: FrozenTrial) -> int:
    """The trial's attempt number: 1 for a first attempt, more for a retry or a re-adopted trial.

    The larger of ``metadata["attempt"]`` (a retry is queued with it) and the ``hpolab:attempt``
    attribute (written by :meth:`Storage.stamp_running` when a worker adopts a trial).
    """
    stored = frozen.system_attrs.get(_TRIAL)
    metadata = stored.get("metadata") if isinstance(stored, Mapping) else None
    found = [metadata.get("attempt") if isinstance(metadata, Mapping) else None, frozen.system_attrs.get(_ATTEMPT)]
    return max([v for v in found if isinstance(v, int) and not isinstance(v, bool) and v >= 1], default=1)


def is_stale(frozen: FrozenTrial) -> bool:
    """Whether a trial was failed because its worker died (a retry may carry its result)."""
    return _STALE in frozen.system_attrs


def is_unread(frozen: FrozenTrial) -> bool:
    """Whether ``frozen`` is a placeholder for a RUNNING trial whose content was not read (see ``Storage.scan``)."""
    return _UNREAD in frozen.system_attrs


def asked_by(frozen: FrozenTrial) -> str | None:
    """The worker whose optimizer asked the trial (``None`` for observed, queued or foreign trials)."""
    stored = frozen.system_attrs.get(_TRIAL)
    ask = stored.get("ask") if isinstance(stored, Mapping) else None
    return str(ask[0]) if isinstance(ask, list) and ask else None


def run_by(frozen: FrozenTrial) -> str | None:
    """The worker that evaluates (or evaluated) the trial."""
    by = frozen.system_attrs.get(_RUN_BY)
    return str(by) if by is not None else asked_by(frozen)
