"""optuna-dashboard serves an hpolab study: its HTTP API on 127.0.0.1 reads the trials back."""

from __future__ import annotations

import json
import shutil
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import hpolab


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _get(url: str) -> dict:
    with urllib.request.urlopen(url, timeout=10) as response:
        return json.loads(response.read())


@pytest.mark.parametrize("kind", ["sqlite", "journal"])
def test_optuna_dashboard_reads_an_hpolab_study(tmp_path, kind):
    pytest.importorskip("optuna_dashboard", reason="needs pip install optuna-dashboard (in hpolab[dev])")
    url = f"sqlite:///{tmp_path / 'dash.db'}" if kind == "sqlite" else str(tmp_path / "dash.log")
    study = hpolab.create_study("toy/branin", "tpe", storage=url, study_name="dash", seed=0)
    study.optimize(n_trials=8)
    port = _free_port()
    exe = shutil.which("optuna-dashboard")
    cmd = [exe] if exe else [sys.executable, "-m", "optuna_dashboard"]
    server = subprocess.Popen(
        [*cmd, url, "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 60
        studies = None
        while time.time() < deadline:
            try:
                studies = _get(f"{base}/api/studies")
                break
            except OSError:
                if server.poll() is not None:
                    pytest.fail(server.stderr.read().decode()[-2000:] if server.stderr else "dashboard exited")
                time.sleep(0.3)
        assert studies is not None, "optuna-dashboard did not answer within 60 s"
        listed = {s["study_name"]: s["study_id"] for s in studies["study_summaries"]}
        assert "dash" in listed
        detail = _get(f"{base}/api/studies/{listed['dash']}")
        trials = detail["trials"]
        assert [t["number"] for t in trials] == [r.id for r in study.trials]
        assert [t["state"] for t in trials] == ["Complete"] * 8
        best = min(study.trials, key=lambda r: r.value)
        assert any(abs(t["values"][0] - best.value) < 1e-9 for t in trials)
        params = {p["name"]: p for p in trials[0]["params"]}
        assert set(params) == {"x1", "x2"}
        user_attrs = {a["key"] for a in trials[0]["user_attrs"]}
        assert {"seed"} <= user_attrs
    finally:
        server.terminate()
        server.wait(timeout=10)
