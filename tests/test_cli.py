"""The `hpolab` command: run, list, and clear errors for bad input."""

from __future__ import annotations

import json
import subprocess
import sys

from click.testing import CliRunner

from hpolab.cli import cli


def test_run_prints_the_best_trial_and_regret():
    result = CliRunner().invoke(cli, ["run", "--objective", "toy/branin", "--n-trials", "30", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "best trial" in result.output and "regret vs the optimum 0.397887" in result.output


def test_run_json_summary_and_resume(tmp_path):
    url = f"sqlite:///{tmp_path / 'r.db'}"
    args = ["run", "-f", "toy/quad2d", "-o", "random", "--storage", url, "--study", "s", "--no-progress", "--json"]
    first = CliRunner().invoke(cli, [*args, "-n", "10"])
    assert first.exit_code == 0, first.output
    second = CliRunner().invoke(cli, [*args, "-n", "25"])
    summary = json.loads(second.output)
    assert summary["trials"] == {"COMPLETE": 25}
    assert summary["best"]["regret"] >= 0


def test_run_optimizer_option_is_passed():
    result = CliRunner().invoke(
        cli,
        ["run", "-f", "toy/branin", "-o", "grid", "--option", "resolution=2", "-n", "50", "--no-progress", "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["trials"] == {"COMPLETE": 4}


def test_unknown_names_are_clear_errors():
    result = CliRunner().invoke(cli, ["run", "-f", "toy/branin", "-o", "nosuch"])
    assert result.exit_code != 0 and "known:" in result.output and "random" in result.output
    result = CliRunner().invoke(cli, ["run", "-f", "nosuch/thing"])
    assert result.exit_code != 0 and "toy" in result.output


def test_bad_option_is_a_clear_error():
    result = CliRunner().invoke(cli, ["run", "-f", "toy/branin", "--option", "resolution"])
    assert result.exit_code != 0 and "KEY=VALUE" in result.output


def test_list_shows_optimizers_and_objectives():
    result = CliRunner().invoke(cli, ["list"])
    assert result.exit_code == 0
    assert "random" in result.output and "toy/branin" in result.output


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "hpolab", "--version"], capture_output=True, text=True, check=True)
    assert "hpolab" in out.stdout
