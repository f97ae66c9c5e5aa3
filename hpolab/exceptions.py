"""Every error hpolab raises on purpose, under one root: :class:`HpolabError`.

Each error also derives from the built-in exception a caller would expect (``ValueError`` for bad
input, ``RuntimeError`` for a failing backend), so ``except ValueError`` keeps working while
``except hpolab.HpolabError`` catches all of hpolab's own errors. The modules that raise an error
export it too (``hpolab.storage.StorageError`` is ``hpolab.exceptions.StorageError``).

This module imports nothing from hpolab, so any module of the package can import it.
"""

from __future__ import annotations

from collections.abc import Sequence

__all__ = [
    "CostLimitReached",
    "DatasetUnavailableError",
    "HpolabError",
    "InvalidConfigError",
    "InvalidSpaceError",
    "LLMClientError",
    "OptimizerError",
    "PaperDataError",
    "RateLimitError",
    "SearchExhausted",
    "StorageError",
    "UnknownNameError",
    "UntrustedURLError",
    "WorkerError",
]


class HpolabError(Exception):
    """Base class of every error hpolab raises on purpose.

    Subclasses also derive from the built-in exception a caller would expect (``ValueError`` for
    bad input, ``RuntimeError`` for a failing backend), so ``except ValueError`` keeps working
    while ``except hpolab.HpolabError`` catches all of hpolab's own errors.
    """


# ------------------------------------------------------------------------------ spaces and names
class InvalidConfigError(HpolabError, ValueError):
    """A configuration is not inside its search space.

    Attributes:
        problems: One message per offending key, each naming the key, the value and the bound.
    """

    def __init__(self, problems: Sequence[str]) -> None:
        self.problems = list(problems)
        super().__init__("; ".join(self.problems))


class InvalidSpaceError(HpolabError, ValueError):
    """A search-space specification cannot be turned into a SearchSpace."""


class UnknownNameError(HpolabError, ValueError):
    """A name that is not registered; the message lists the known ones."""


# ------------------------------------------------------------------------------ optimizers
class OptimizerError(HpolabError, ValueError):
    """An optimizer was used wrongly (unknown trial, trial told twice, bad state)."""


class SearchExhausted(OptimizerError):
    """The optimizer has nothing left to propose (a used-up grid). A Study stops cleanly on it."""


# ------------------------------------------------------------------------------ objectives
class DatasetUnavailableError(HpolabError, RuntimeError):
    """A data set is neither on disk nor allowed (or able) to be downloaded; the message says how to get it."""


# ------------------------------------------------------------------------------ LLM clients
class LLMClientError(HpolabError, RuntimeError):
    """A request to an LLM failed for good (after the client's retries), or a client is misused.

    Attributes:
        retryable: Whether the cause was transient (the optimizer may try again later).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class CostLimitReached(SearchExhausted, HpolabError):
    """A client's ``max_cost`` is spent: no further request is sent.

    It is a :class:`SearchExhausted` (an :class:`HpolabError`), so a :class:`~hpolab.Study` stops
    cleanly on it, as on a used-up grid: the finished trials are kept and ``optimize`` returns. It is
    deliberately not an :class:`LLMClientError`, so the LLM optimizers do not answer it with a
    random fallback.

    Attributes:
        spent: What the client had spent.
        max_cost: The limit.
    """

    def __init__(self, message: str, *, spent: float, max_cost: float) -> None:
        super().__init__(message)
        self.spent = spent
        self.max_cost = max_cost


class PaperDataError(HpolabError, ValueError):
    """A paper suite's data file is malformed: the message names the file, the key and what is wrong."""


class RateLimitError(HpolabError, ValueError):
    """A single request needs more tokens than the limit allows in a whole window."""


class UntrustedURLError(HpolabError, ValueError):
    """A server URL read from storage that would receive the API key of this process's environment."""


# ------------------------------------------------------------------------------ storage and workers
class StorageError(HpolabError, ValueError):
    """A storage that cannot be used, or a study that does not exist / already exists."""


class WorkerError(HpolabError, RuntimeError):
    """A worker process or Dask task of a study failed (its trials already stored are kept)."""
