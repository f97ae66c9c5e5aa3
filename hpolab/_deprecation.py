"""Renamed keywords: an old spelling keeps working for one minor version and warns once per call.

A private utility of the lowest layer, beside :mod:`hpolab.exceptions`: the trial types, the LLM
optimizers, the harness and the analysis all rename keywords with it; it imports nothing from hpolab.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

__all__ = ["renamed_fields", "renamed_keyword", "renamed_key"]

_Class = TypeVar("_Class", bound=type)


def renamed_keyword(
    owner: str, old: str, new: str, old_value: Any, new_value: Any, *, default: Any = None, stacklevel: int = 3
) -> Any:
    """The value of a keyword argument that was renamed from ``old`` to ``new``.

    Args:
        owner: The function or class that takes the keyword, named in the messages.
        old: The deprecated spelling.
        new: The keyword that replaces it.
        old_value: What the caller passed as ``old`` (``None``: not given).
        new_value: What the caller passed as ``new`` (``None``: not given).
        default: The new keyword's default: a ``new_value`` equal to it counts as not given.
        stacklevel: Passed to :func:`warnings.warn`; the default points at the caller of ``owner``.

    Returns:
        ``new_value`` when the old spelling was not given, else ``old_value`` after one
        :class:`DeprecationWarning` naming the new keyword.

    Raises:
        TypeError: If both spellings are given.
    """
    if old_value is None:
        return new_value
    if new_value is not None and new_value != default:
        raise TypeError(
            f"{owner}: give {new}= only; {old}= is its deprecated old name ({old}={old_value!r}, {new}={new_value!r})"
        )
    warnings.warn(
        f"{owner}: {old}= is deprecated and will be removed in the next minor version; use {new}= instead",
        DeprecationWarning,
        stacklevel=stacklevel,
    )
    return old_value


def renamed_key(mapping: Mapping[str, Any], old: str, new: str) -> dict[str, Any]:
    """A copy of stored data with the key ``old`` renamed to ``new`` (data written under the old name still loads).

    Args:
        mapping: The stored data.
        old: The key older versions wrote.
        new: The key written now; it wins where both are present.

    Returns:
        A new dict without ``old``, whose ``new`` holds ``mapping[new]`` or else ``mapping[old]``.
    """
    out = dict(mapping)
    if old in out:
        value = out.pop(old)
        out.setdefault(new, value)
    return out


def renamed_fields(**renamed: str) -> Callable[[_Class], _Class]:
    """A class decorator: the dataclass's constructor also takes each field's old keyword, for one minor version.

    ``@renamed_fields(budget="n_trials")`` above ``@dataclass``: ``Cls(budget=4)`` warns once (see
    :func:`renamed_keyword`) and builds ``Cls(n_trials=4)``; giving both is a TypeError. The old name is
    no field: ``fields()``, ``repr``, equality and ``dataclasses.replace`` know only the new one. The
    renames are kept as ``Cls._renamed_fields`` (old -> new) for code that reads fields from a dict.

    Args:
        **renamed: Old keyword -> the field that replaces it.
    """

    def decorate(cls: _Class) -> _Class:
        init: Callable[..., None] = cls.__dict__["__init__"]  # the one @dataclass wrote

        @functools.wraps(init)
        def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
            for old, new in renamed.items():
                if old in kwargs:
                    value = kwargs.pop(old)
                    if value is not None:
                        kwargs[new] = renamed_keyword(cls.__name__, old, new, value, kwargs.get(new))
            init(self, *args, **kwargs)

        cls.__init__ = __init__  # type: ignore[misc]
        cls._renamed_fields = {**getattr(cls, "_renamed_fields", {}), **renamed}  # type: ignore[attr-defined]
        return cls

    return decorate
