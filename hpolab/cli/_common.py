"""What every ``hpolab`` subcommand shares: one-line errors for user mistakes, and parameter types.

A command module of :mod:`hpolab.cli` (``_run``, ``_bench``, ``_worker``) builds its commands with
``@click.command(cls=Command)`` and lists them in a module-level ``COMMANDS``; :mod:`hpolab.cli`
attaches them (one line in its ``COMMAND_MODULES``).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Sequence
from typing import Any

import click

from hpolab.exceptions import HpolabError

__all__ = ["USER_ERRORS", "Command", "KeyValue", "LazyChoice", "one_line"]

#: Exceptions that mean the user asked for something that cannot be done (a bad value, a missing
#: optional dependency, a file or server that is not there, an option an optimizer does not take).
#: The CLI prints them as one line; ``-vv`` shows the traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (HpolabError, ValueError, TypeError, ImportError, OSError)


def one_line(exc: BaseException) -> str:
    """The exception's message on one line (its class name when it has none)."""
    text = "; ".join(line.strip() for line in str(exc).splitlines() if line.strip())
    return text or type(exc).__name__


class Command(click.Command):
    """A click command whose user errors (:data:`USER_ERRORS`) end in one line, never a traceback.

    With ``hpolab -vv`` (debug logging) the traceback is shown instead.
    """

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except click.ClickException:
            raise
        except USER_ERRORS as exc:
            if logging.getLogger("hpolab").isEnabledFor(logging.DEBUG):
                raise
            raise click.ClickException(one_line(exc)) from exc


class KeyValue(click.ParamType):
    """``KEY=VALUE`` with a JSON value (a plain string when it is not JSON): ``resolution=7``."""

    name = "KEY=VALUE"

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None) -> tuple[str, Any]:
        if isinstance(value, tuple):
            return value
        key, sep, raw = str(value).partition("=")
        if not sep or not key:
            self.fail(f"{value!r} is not KEY=VALUE (e.g. resolution=7)", param, ctx)
        try:
            return key, json.loads(raw)
        except json.JSONDecodeError:
            return key, raw


class LazyChoice(click.Choice):  # type: ignore[type-arg]
    """A :class:`click.Choice` whose choices are read when the command runs (e.g. from the registry).

    Args:
        source: Returns the allowed values.
    """

    def __init__(self, source: Callable[[], Sequence[str]]) -> None:
        self._source = source
        super().__init__(())

    @property  # type: ignore[override]
    def choices(self) -> tuple[str, ...]:
        return tuple(self._source())

    @choices.setter
    def choices(self, value: Any) -> None:  # click's __init__ assigns; the source stays authoritative
        pass
