"""The root of hpolab's own exceptions."""

from __future__ import annotations

__all__ = ["HpolabError"]


class HpolabError(Exception):
    """Base class of every error hpolab raises on purpose.

    Subclasses also derive from the built-in exception a caller would expect (``ValueError`` for
    bad input, ``RuntimeError`` for a failing backend), so ``except ValueError`` keeps working
    while ``except hpolab.HpolabError`` catches all of hpolab's own errors.
    """
