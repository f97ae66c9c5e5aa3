"""Heartbeats of a worker and the timeout of a running trial."""

from __future__ import annotations

import logging
import signal
import threading
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hpolab.study._optimize import Study

__all__: list[str] = []

_logger = logging.getLogger("hpolab.study")


class _TrialTimeout(BaseException):
    """Raised inside an objective that ran past the study's ``trial_timeout``.

    Not an ``Exception``, so an objective's own ``except Exception`` does not swallow it.
    """


class _Alarm:
    """Raises :class:`_TrialTimeout` in the main thread after ``seconds`` (POSIX ``SIGALRM``), while armed."""

    def __init__(self, seconds: float | None) -> None:
        self.seconds = seconds
        self._armed = False
        self._active = False
        self._previous: Any = None

    @staticmethod
    def usable() -> bool:
        return hasattr(signal, "setitimer") and threading.current_thread() is threading.main_thread()

    def _fire(self, signum: int, frame: Any) -> None:
        if self._armed:
            self._armed = False
            raise _TrialTimeout

    def __enter__(self) -> _Alarm:
        if self.seconds is not None and self.usable():
            self._previous = signal.signal(signal.SIGALRM, self._fire)
            self._active = self._armed = True
            signal.setitimer(signal.ITIMER_REAL, self.seconds)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._active:
            self._armed = self._active = False
            signal.setitimer(signal.ITIMER_REAL, 0)
            signal.signal(signal.SIGALRM, self._previous if self._previous is not None else signal.SIG_DFL)


class _Heartbeat:
    """Writes this worker's heartbeat every ``heartbeat_interval`` seconds from a daemon thread."""

    def __init__(self, study: Study) -> None:
        self._study = study
        self._done = threading.Event()
        study.storage.heartbeat(study._info.study_id, study.worker.key)
        self._thread = threading.Thread(target=self._loop, name="hpolab-heartbeat", daemon=True)
        self._thread.start()

    def _loop(self) -> None:
        study = self._study
        while not self._done.wait(study.heartbeat_interval):
            try:
                study.storage.heartbeat(study._info.study_id, study.worker.key)
            except Exception as exc:  # a lost connection must not kill the worker; the next beat retries
                _logger.warning("heartbeat of worker %s failed: %s", study.worker.key, exc)

    def stop(self) -> None:
        self._done.set()
        self._thread.join(timeout=5)
