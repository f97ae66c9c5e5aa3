"""The ``hpolab`` command (also ``python -m hpolab``): the click group and its entry point.

Every flag has one meaning, named for what it is (``run --n-trials`` / ``--max-trials`` /
``--max-budget-spent`` for a study, ``compare --max-evaluations`` / ``--max-budget-spent`` per run
of a suite). A user mistake (an unknown name, a bad value, a missing optional dependency, a server
that is not there) ends in one line on stderr; ``hpolab -vv`` shows the traceback.

Each command group is one module of this package: ``_run`` (run, list), ``_bench`` (compare,
report) and ``_worker`` (worker); ``_common`` holds what they share. A module that exports
``COMMANDS`` (a list of click commands built with ``cls=hpolab.cli._common.Command``) is attached
by one more line in :data:`COMMAND_MODULES`.
"""

from __future__ import annotations

import importlib
import logging
import sys

import click

import hpolab
from hpolab.cli._common import Command

__all__ = ["COMMAND_MODULES", "cli", "main"]

#: Modules whose ``COMMANDS`` are attached to the ``hpolab`` group (one line per module).
COMMAND_MODULES: tuple[str, ...] = ("hpolab.cli._run", "hpolab.cli._bench", "hpolab.cli._worker")


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(hpolab.__version__, prog_name="hpolab")
@click.option("-v", "--verbose", count=True, help="Log more (-v info, -vv debug and tracebacks).")
def cli(verbose: int) -> None:
    """Hyperparameter optimization with classic and LLM optimizers behind one interface."""
    level = logging.WARNING if verbose == 0 else logging.INFO if verbose == 1 else logging.DEBUG
    logger = logging.getLogger("hpolab")
    if not logger.handlers:
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
        logger.addHandler(handler)
    logger.setLevel(level)


cli.command_class = Command


for _module in COMMAND_MODULES:
    for _command in importlib.import_module(_module).COMMANDS:
        cli.add_command(_command)


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``hpolab`` command."""
    cli.main(args=argv if argv is not None else sys.argv[1:], prog_name="hpolab")
