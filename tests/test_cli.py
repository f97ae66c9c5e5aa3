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
    second = CliRunner().invoke(cli, [*args, "--max-trials", "25"])  # 25 in total: 15 more
    summary = json.loads(second.output)
    assert summary["trials"] == {"COMPLETE": 25}
    assert summary["best"]["regret"] >= 0
    third = CliRunner().invoke(cli, [*args, "--n-trials", "5"])  # Optuna's meaning: 5 more
    assert json.loads(third.output)["trials"] == {"COMPLETE": 30}
    capped = CliRunner().invoke(cli, [*args, "-n", "50", "--max-trials", "32"])  # the first limit reached wins
    assert json.loads(capped.output)["trials"] == {"COMPLETE": 32}


def test_run_optimizer_option_is_passed():
    result = CliRunner().invoke(
        cli,
        ["run", "-f", "toy/branin", "-o", "grid", "--option", "resolution=2", "-n", "50", "--no-progress", "--json"],
    )
    assert result.exit_code == 0, result.output
    assert json.loads(result.output)["trials"] == {"COMPLETE": 4}


def _one_line_error(result) -> str:
    """The run failed with exactly one ``Error:`` line at the end and no traceback."""
    assert result.exit_code != 0, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, (TypeError, AttributeError))
    lines = [line for line in result.output.splitlines() if line.strip()]
    assert lines[-1].startswith("Error: ") and sum(line.startswith("Error") for line in lines) == 1, result.output
    return lines[-1]


def test_unknown_names_are_clear_errors():
    line = _one_line_error(CliRunner().invoke(cli, ["run", "-f", "toy/branin", "-o", "nosuch"]))
    assert "nosuch" in line and "random" in line and "tpe" in line  # the registered names are the choices
    line = _one_line_error(CliRunner().invoke(cli, ["run", "-f", "nosuch/thing"]))
    assert "toy" in line


def test_bad_option_is_a_clear_error():
    line = _one_line_error(CliRunner().invoke(cli, ["run", "-f", "toy/branin", "--option", "resolution"]))
    assert "KEY=VALUE" in line
    # an option the optimizer does not take: one line, not a TypeError traceback
    line = _one_line_error(CliRunner().invoke(cli, ["run", "-f", "toy/branin", "--option", "nosuch=1", "-n", "2"]))
    assert "nosuch" in line


def test_ranges_are_checked_by_click():
    for args in (
        ["-n", "0"],
        ["--max-trials", "-1"],
        ["--seed", "-3"],
        ["--timeout", "0"],
        ["--max-budget-spent", "0"],
    ):
        line = _one_line_error(CliRunner().invoke(cli, ["run", "-f", "toy/branin", *args]))
        assert args[0] in line


def test_missing_extra_is_one_line_with_the_install_command(monkeypatch):
    import sys

    for name in [m for m in sys.modules if m == "smac" or m.startswith(("smac.", "hpolab.optimizers._smac"))]:
        monkeypatch.delitem(sys.modules, name)
    monkeypatch.setitem(sys.modules, "smac", None)  # import smac -> ImportError, as without the extra
    line = _one_line_error(CliRunner().invoke(cli, ["run", "-f", "toy/branin", "-o", "smac-rf", "-n", "2"]))
    assert 'pip install "hpolab[smac]"' in line


def test_llm_flags_only_for_llm_optimizers_and_the_key_from_the_environment(monkeypatch):
    line = _one_line_error(
        CliRunner().invoke(cli, ["run", "-f", "toy/branin", "-o", "tpe", "--llm-base-url", "http://127.0.0.1:9/v1"])
    )
    assert "--llm-base-url" in line and "tpe" in line
    # set in the environment, the LLM settings do not get in the way of other optimizers
    monkeypatch.setenv("HPOLAB_LLM_BASE_URL", "http://127.0.0.1:9/v1")
    monkeypatch.setenv("HPOLAB_LLM_API_KEY", "sk-secret-test-key")
    result = CliRunner().invoke(cli, ["run", "-f", "toy/branin", "-o", "random", "-n", "3", "--no-progress"])
    assert result.exit_code == 0, result.output
    assert "sk-secret-test-key" not in result.output
    help_text = CliRunner().invoke(cli, ["run", "--help"]).output
    assert "HPOLAB_LLM_API_KEY" in help_text and "OPENAI_API_KEY" in help_text


def test_removed_max_budget_alias_is_refused():
    """`run --max-budget` was a hidden alias of `--max-budget-spent`; it is gone, and click says so."""
    result = CliRunner().invoke(
        cli, ["run", "-f", "toy/branin", "-o", "random", "--max-budget", "3", "--no-progress", "--json"]
    )
    assert result.exit_code == 2 and "No such option" in result.output and "--max-budget" in result.output


def test_commands_of_other_modules_are_attached():
    from hpolab import cli as cli_module

    for module in cli_module.COMMAND_MODULES:
        import importlib

        for command in importlib.import_module(module).COMMANDS:
            assert cli.get_command(None, command.name) is command  # type: ignore[arg-type]


def test_list_shows_optimizers_and_objectives():
    result = CliRunner().invoke(cli, ["list"])
    assert result.exit_code == 0
    assert "random" in result.output and "toy/branin" in result.output


def test_python_dash_m_entry_point():
    out = subprocess.run([sys.executable, "-m", "hpolab", "--version"], capture_output=True, text=True, check=True)
    assert "hpolab" in out.stdout


def test_llm_server_from_the_environment_and_the_key_is_never_printed(tmp_path):
    """HPOLAB_LLM_* reach the OpenAI-compatible server (the key in its Authorization header) and the key
    appears nowhere in the command's output, its debug log, or the stored study."""
    import http.server
    import os
    import threading

    seen: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length", 0)))
            seen.append(self.headers.get("Authorization", ""))
            answer = json.dumps({"x1": 1.0, "x2": 2.0})
            body = json.dumps(
                {
                    "id": "c",
                    "object": "chat.completion",
                    "created": 0,
                    "model": "m",
                    "choices": [
                        {"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}
                    ],
                    "usage": {"prompt_tokens": 10, "completion_tokens": 5, "total_tokens": 15},
                }
            ).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    key = "sk-test-key-that-must-not-leak"
    env = {
        **os.environ,
        "HPOLAB_LLM_BASE_URL": f"http://127.0.0.1:{server.server_address[1]}/v1",
        "HPOLAB_LLM_MODEL": "m",
        "HPOLAB_LLM_API_KEY": key,
    }
    db = tmp_path / "llm.db"
    cmd = [sys.executable, "-m", "hpolab", "-vv", "run", "-o", "llm", "-f", "toy/branin", "-n", "2"]
    try:
        out = subprocess.run(
            [*cmd, "--no-progress", "--json", "--storage", f"sqlite:///{db}", "--study", "s"],
            capture_output=True,
            text=True,
            env=env,
            timeout=300,
            check=False,
        )
    finally:
        server.shutdown()
    assert out.returncode == 0, out.stderr[-3000:]
    assert seen and all(h == f"Bearer {key}" for h in seen)
    assert json.loads(out.stdout)["trials"] == {"COMPLETE": 2}
    assert key not in out.stdout + out.stderr
    assert key.encode() not in db.read_bytes()
