"""A sliding-window limit on requests and tokens, for hosted models with a rate limit.

Providers limit requests per minute (RPM) and tokens per minute (TPM) per key. The
:class:`RateLimiter` keeps a client under limits the user sets, so a long run waits a little
instead of collecting HTTP 429 answers. It is thread-safe and process-local: threads of one
process that share a limiter share its limits, but several processes (``n_jobs`` > 1, Dask
workers) each hold their own, so give each process its share (e.g. ``requests_per_minute=RPM /
n_workers``).
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections import deque
from collections.abc import Callable

from hpolab.exceptions import RateLimitError

__all__ = ["RateLimitError", "RateLimiter", "Reservation"]

_logger = logging.getLogger("hpolab.llm.ratelimit")


class Reservation:
    """One request's place in a :class:`RateLimiter` window (returned by :meth:`RateLimiter.acquire`).

    Attributes:
        tokens: The tokens counted for it (the estimate until :meth:`RateLimiter.settle`).
        end: When the request ended (``inf`` while it runs: a running request counts until it is
            settled, then for one window after its end).
    """

    __slots__ = ("end", "tokens")

    def __init__(self, tokens: int) -> None:
        self.tokens = int(tokens)
        self.end = math.inf


class RateLimiter:
    """Keeps requests and tokens within limits over a sliding window.

    :meth:`acquire` blocks until one more request (and its estimated tokens) fits: within any
    window of ``window_s`` seconds, at most ``requests_per_minute`` requests and
    ``tokens_per_minute`` tokens. A request counts from when it is acquired until ``window_s``
    after it ended (:meth:`settle`), so the window a provider counts from the request's arrival
    is always covered. :meth:`settle` replaces a request's token estimate by the count the server
    reported. Give the estimate as prompt tokens plus ``max_tokens``, as providers do, so the
    estimate is never below what the server counts.

    Args:
        requests_per_minute: Most requests per window; ``None`` for no request limit.
        tokens_per_minute: Most tokens (prompt plus completion) per window; ``None`` for no token limit.
        window_s: Length of the window in seconds (providers count per minute: 60).
        clock: Monotonic clock in seconds (tests pass a fake one).
        sleep: Function that waits (tests pass a fake one).
    """

    def __init__(
        self,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        *,
        window_s: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        for label, value in (("requests_per_minute", requests_per_minute), ("tokens_per_minute", tokens_per_minute)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise ValueError(f"{label}: {value!r} must be a positive int or None")
        if not (isinstance(window_s, (int, float)) and math.isfinite(window_s) and window_s > 0):
            raise ValueError(f"window_s: {window_s!r} must be a positive number of seconds")
        self.requests_per_minute = requests_per_minute
        self.tokens_per_minute = tokens_per_minute
        self.window_s = float(window_s)
        self._clock = clock
        self._sleep = sleep
        self._lock = threading.Lock()
        self._entries: deque[Reservation] = deque()
        #: ``waits`` (acquires that had to wait) and ``waited_s`` (seconds waited in all).
        self.stats: dict[str, float] = {"waits": 0, "waited_s": 0.0}

    def __repr__(self) -> str:
        return (
            f"RateLimiter(requests_per_minute={self.requests_per_minute!r}, "
            f"tokens_per_minute={self.tokens_per_minute!r}, window_s={self.window_s!r})"
        )

    def _prune(self, now: float) -> None:
        # Entries end in any order (requests run concurrently): drop every expired one.
        if any(e.end + self.window_s <= now for e in self._entries):
            self._entries = deque(e for e in self._entries if e.end + self.window_s > now)

    def _wait_needed(self, tokens: int, now: float) -> float:
        """Seconds until a request of ``tokens`` fits (0 if it fits now; inf while running requests block it)."""
        ends = sorted(e.end + self.window_s for e in self._entries)
        wait = 0.0
        if self.requests_per_minute is not None and len(self._entries) >= self.requests_per_minute:
            # the (n - limit + 1)-th expiry frees the slot we need
            wait = max(wait, ends[len(self._entries) - self.requests_per_minute] - now)
        if self.tokens_per_minute is not None:
            excess = sum(e.tokens for e in self._entries) + tokens - self.tokens_per_minute
            if excess > 0:
                by_expiry = sorted(self._entries, key=lambda e: e.end)
                freed = 0
                for entry in by_expiry:
                    freed += entry.tokens
                    if freed >= excess:
                        wait = max(wait, entry.end + self.window_s - now)
                        break
                else:  # pragma: no cover - excluded by the check in acquire
                    wait = math.inf
        return wait

    def acquire(self, tokens: int = 0) -> Reservation:
        """Wait until a request of ``tokens`` (estimated) fits, and count it.

        Args:
            tokens: The request's estimated tokens (prompt plus ``max_tokens``).

        Returns:
            The reservation to :meth:`settle` when the request ended.

        Raises:
            RateLimitError: If ``tokens`` alone is above ``tokens_per_minute``.
        """
        tokens = max(0, int(tokens))
        if self.tokens_per_minute is not None and tokens > self.tokens_per_minute:
            raise RateLimitError(
                f"tokens: one request needs up to {tokens} tokens, above tokens_per_minute={self.tokens_per_minute}; "
                "raise the limit or lower max_tokens"
            )
        start = self._clock()
        waiting = False
        while True:
            with self._lock:
                now = self._clock()
                self._prune(now)
                wait = self._wait_needed(tokens, now)
                if wait <= 0:
                    reservation = Reservation(tokens)
                    self._entries.append(reservation)
                    if waiting:
                        self.stats["waits"] += 1
                        self.stats["waited_s"] += now - start
                    return reservation
            if not waiting:
                _logger.info("%r: waiting %s", self, "for running requests" if math.isinf(wait) else f"{wait:.2f} s")
                waiting = True
            # inf: running requests hold the window; they settle soon, so look again shortly
            self._sleep(min(wait, self.window_s / 20.0))

    def settle(self, reservation: Reservation, tokens: int | None = None) -> None:
        """Mark a request as ended now; ``tokens`` (the server's count) replaces the estimate when given."""
        with self._lock:
            reservation.end = self._clock()
            if tokens is not None:
                reservation.tokens = max(0, int(tokens))

    def in_window(self) -> tuple[int, int]:
        """(requests, tokens) counted in the current window."""
        with self._lock:
            self._prune(self._clock())
            return len(self._entries), sum(e.tokens for e in self._entries)
