"""Secrets never reach storage or reports, at any depth; stored addresses and names are never trusted."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

import hpolab
from hpolab._secrets import (
    SECRET_PLACEHOLDER,
    UntrustedURLError,
    find_masked,
    is_secret_name,
    mask_secrets,
    redact_command,
    trust_base_url,
)
from hpolab.storage import redact_url

KEY = "sk-test-abcdefghijklmnopqrstuvwxyz0123"
TOKEN = "tok3nVALUE987"
EVIL = "http://collector.invalid/v1"


def test_redact_url_hides_user_info_and_secret_query_values():
    assert redact_url("postgresql://u:hunter2@db/hpo") == "postgresql://u:***@db/hpo"
    out = redact_url("postgresql://u@db/hpo?sslmode=require&password=hunter2")
    assert "hunter2" not in out and "sslmode=require" in out and "u@db" in out
    assert TOKEN not in redact_url(f"https://{TOKEN}@host/v1")
    assert TOKEN not in redact_url(f"https://user:{TOKEN}@host/v1/chat")
    for name in ("token", "access_token", "api_key", "apikey", "key", "secret", "sig"):
        assert TOKEN not in redact_url(f"https://host/v1?model=m&{name}={TOKEN}"), name
    # in a message, and a provider key wherever it is
    assert TOKEN not in redact_url(f"cannot open journal:///x.log nor sqlite:///a.db?token={TOKEN}: gone")
    assert KEY not in redact_url(f"the server said: invalid key {KEY}")
    assert redact_url("sqlite:///runs.db") == "sqlite:///runs.db"


def test_secret_names_are_told_from_counts():
    for name in ("api_key", "OPENAI_API_KEY", "HF_TOKEN", "accessToken", "password", "--llm-api-key", "secret"):
        assert is_secret_name(name), name
    for name in ("max_tokens", "prompt_tokens", "keep_share", "tokens", "top_k", "monkey", "base_url"):
        assert not is_secret_name(name), name


def test_mask_secrets_at_any_depth():
    options = {
        "llm_kwargs": {"api_key": KEY, "max_tokens": 64, "base_url": f"https://user:{TOKEN}@host/v1"},
        "sources": [{"headers": {"Authorization": f"Bearer {TOKEN}"}}, {"model": "m"}],
        "note": f"key {KEY}",
    }
    masked = mask_secrets(options)
    text = repr(masked)
    assert KEY not in text and TOKEN not in text
    assert masked["llm_kwargs"]["max_tokens"] == 64 and masked["sources"][1] == {"model": "m"}
    assert masked["llm_kwargs"]["api_key"] == SECRET_PLACEHOLDER
    assert options["llm_kwargs"]["api_key"] == KEY  # the input is left alone
    assert find_masked(masked) == [
        "llm_kwargs.api_key",
        "llm_kwargs.base_url",
        "sources[0].headers.Authorization",
    ]


def test_redact_command():
    argv = ["compare", "--llm-base-url", f"https://user:{TOKEN}@host/v1", "--llm-api-key", KEY]
    argv += ["-o", f"api_key={KEY}", f"--password={TOKEN}", "-o", "max_tokens=3"]
    out = redact_command(argv)
    assert KEY not in out and TOKEN not in out
    assert "max_tokens=3" in out and "https://user:***@host/v1" in out
    assert TOKEN not in redact_command(f"hpolab compare --llm-base-url https://{TOKEN}@host/v1")


def test_create_study_stores_no_key_at_any_depth(tmp_path: Path):
    db = tmp_path / "s.db"
    url = f"sqlite:///{db}"
    llm_kwargs = {"api_key": KEY, "base_url": f"https://user:{TOKEN}@host/v1", "model": "m"}
    hpolab.create_study(
        "toy/branin", "llm-hybrid", storage=url, study_name="s", optimizer_kwargs={"llm_kwargs": llm_kwargs}
    )
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("s.db"))  # with the WAL
    assert KEY.encode() not in data and TOKEN.encode() not in data
    assert b"llm_kwargs" in data  # the options are stored, masked
    # reopening asks for what was not stored, naming where it was
    with pytest.raises(ValueError, match=r"llm_kwargs\.api_key.*optimizer_kwargs="):
        hpolab.load_study("s", url)


def test_a_report_from_a_run_with_secrets_in_its_command_line_holds_none(tmp_path: Path, monkeypatch):
    from hpolab.analysis.report import write_report
    from hpolab.benchmark import run, study_contexts
    from hpolab.cli._bench import _command_line

    argv = ["hpolab", "compare", "--llm-base-url", f"https://user:{TOKEN}@host/v1", "--llm-api-key", KEY]
    monkeypatch.setattr(sys, "argv", argv)
    command = _command_line()
    assert TOKEN not in command and KEY not in command and "--llm-base-url" in command
    raw = " ".join(argv)  # what an older caller might pass: masked where it is stored and printed
    db = tmp_path / "r.db"
    df = run(
        ["random"],
        ["toy/branin"],
        seeds=1,
        n_trials=3,
        storage=f"sqlite:///{db}",
        context={"command": raw, "llm": {"api_key": KEY, "base_url": f"https://{TOKEN}@host/v1"}},
    )
    data = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.name.startswith("r.db"))
    assert KEY.encode() not in data and TOKEN.encode() not in data and b"--llm-base-url" in data
    contexts = study_contexts(f"sqlite:///{db}")
    contexts.append({"study": "old", "context": {"command": raw}, "optimizer_kwargs": {"api_key": KEY}})
    rep = write_report(df, tmp_path / "report", title="t", command=raw, contexts=contexts)
    for path in (rep.markdown, rep.html):
        text = path.read_text(encoding="utf-8")
        assert KEY not in text and TOKEN not in text
        assert "--llm-base-url" in text


# ------------------------------------------------------------------------- trust
@pytest.fixture
def llm_study(tmp_path: Path) -> str:
    url = f"journal:///{tmp_path / 'j.log'}"
    hpolab.create_study(
        "toy/branin", "llm", storage=url, study_name="b", optimizer_kwargs={"base_url": EVIL, "model": "m"}
    )
    return url


def test_a_stored_base_url_gets_no_key_from_the_environment(llm_study: str, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    for name in ("HPOLAB_LLM_BASE_URL", "OPENAI_BASE_URL"):
        monkeypatch.delenv(name, raising=False)
    with pytest.raises(UntrustedURLError, match=r"collector\.invalid.*--llm-base-url.*HPOLAB_LLM_BASE_URL"):
        hpolab.load_study("b", llm_study)
    from hpolab.cli import cli

    result = CliRunner().invoke(
        cli,
        ["worker", "--storage", llm_study, "--study", "b", "--n-trials", "1"],
    )
    assert result.exit_code != 0 and "was not given" in result.output and KEY not in result.output
    # given the same URL (the environment, or trust_base_url), it opens; nothing is sent before an ask
    monkeypatch.setenv("HPOLAB_LLM_BASE_URL", EVIL + "/")
    assert hpolab.load_study("b", llm_study).optimizer.name == "llm"
    monkeypatch.delenv("HPOLAB_LLM_BASE_URL")
    trust_base_url(EVIL)
    try:
        assert hpolab.load_study("b", llm_study).optimizer.name == "llm"
    finally:
        from hpolab import _secrets

        _secrets._TRUSTED.discard(EVIL)


def test_without_a_key_in_the_environment_a_stored_url_opens(llm_study: str, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    assert hpolab.load_study("b", llm_study).optimizer.name == "llm"


def test_a_stored_objective_name_imports_and_calls_nothing(tmp_path: Path, monkeypatch):
    called: list[str] = []
    monkeypatch.setattr(os, "abort", lambda *a, **k: called.append("abort"))
    with pytest.raises(ImportError, match=r"hpobench/os\.abort: cannot import the benchmark class"):
        hpolab.make_objective("hpobench/os.abort")
    url = f"sqlite:///{tmp_path / 'o.db'}"
    study = hpolab.create_study("toy/branin", "random", storage=url, study_name="o")
    store = hpolab.get_storage(url)
    info = store.get_study("o")
    assert study is not None and info is not None
    store.set_study_attrs(info.study_id, {"objective": "hpobench/os.abort"})
    with pytest.raises(ImportError, match=r"hpobench/os\.abort"):
        hpolab.load_study("o", url)
    assert called == []
    # only modules of the hpobench package are ever imported for a name
    from hpolab.objectives.hpobench import _load_class

    with pytest.raises(ImportError, match=r"\(hpobench\.benchmarks\.subprocess: [^;]*\)"):
        _load_class("subprocess.Popen")
