"""Swapping optimizers is one argument: the same `hpolab run` line works for every classic backend."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from hpolab.cli import cli


@pytest.mark.parametrize(
    "name",
    [
        "random",
        "grid",
        "tpe",
        "asha",
        "hyperband",
        pytest.param("smac-rf", marks=pytest.mark.slow),
        pytest.param("smac-gp", marks=pytest.mark.slow),
    ],
)
def test_same_command_for_every_optimizer(name):
    args = ["run", "--objective", "toy/branin", "--optimizer", name, "--n-trials", "30", "--no-progress", "--json"]
    result = CliRunner().invoke(cli, args)
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output[result.output.index("{") :])
    assert summary["optimizer"] == name and summary["objective"] == "toy/branin"
    # a 5 x 5 grid (the default resolution) is used up after 25 trials and the study stops cleanly
    assert summary["trials"] == {"COMPLETE": 25 if name == "grid" else 30}
    assert summary["best"]["regret"] >= 0
