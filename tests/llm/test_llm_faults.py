"""OpenAIClient against a fault-injecting OpenAI-protocol server on 127.0.0.1 (tests/llm/_fake_server.py).

Faults: a timeout, 429 with Retry-After, 500, a connection dropped mid-answer, truncated JSON, an
empty answer and a refusal. Transport faults must be retried by the openai SDK's own retry (the
waits are measured on the server's clock); bad answers must be repaired, re-asked or fall back,
as documented in hpolab/llm/_propose.py; a study must finish with every trial valid and its
transcript kept. The API key never shows in logs, errors, reprs, transcripts, storage or reports.
"""

from __future__ import annotations

import itertools
import json
import logging

import numpy as np
import pytest
from _fake_server import FakeOpenAIServer

import hpolab
from hpolab.llm import LLMClientError, LLMOptimizer, OpenAIClient
from hpolab.objectives.base import FunctionObjective
from hpolab.space import SearchSpace
from hpolab.trial import TrialState

SPACE = SearchSpace({"lr": (1e-4, 1e-1, "log"), "depth": (1, 3), "opt": ["adam", "sgd"]})


def _default_answer(body: dict) -> str:
    rng = np.random.default_rng(body.get("seed", 0))
    return json.dumps(SPACE.sample(rng=rng))


def _client(server: FakeOpenAIServer, **kwargs) -> OpenAIClient:
    options = {"timeout_s": 0.5, "max_retries": 3}
    options.update(kwargs)
    return OpenAIClient("fake", base_url=server.base_url, api_key="test-key", **options)


def _gaps(server: FakeOpenAIServer) -> list[float]:
    """Seconds between consecutive requests, on the server's clock."""
    return [b - a for a, b in itertools.pairwise(server.times)]


@pytest.fixture
def server():
    with FakeOpenAIServer(_default_answer) as srv:
        yield srv


def test_429_honours_retry_after(server):
    client = _client(server)
    server.actions.extend([("status", 429, {"Retry-After": "3"})])
    out = client.complete([{"role": "user", "content": "hi"}])
    assert json.loads(out.text)
    assert client.stats["retry_http_429"] == 1
    assert len(server.times) == 2 and _gaps(server)[0] >= 3.0
    assert out.prompt_tokens == 11 and out.completion_tokens == 7 and out.latency_s >= 3.0


def test_backoff_is_the_sdks_exponential_backoff(server):
    # the SDK doubles its wait (from 0.5 s, or 1 s in older SDKs; at most 8 s) less up to 25% jitter
    client = _client(server, max_retries=3)
    server.actions.extend([("status", 503)] * 3)
    client.complete([{"role": "user", "content": "hi"}])
    gaps = _gaps(server)
    assert len(gaps) == 3 and client.stats["retry_http_503"] == 3
    assert 0.75 * 0.5 - 0.01 <= gaps[0] <= 8.5, gaps
    for before, after in itertools.pairwise(gaps):
        assert 2 * 0.75 * 0.9 <= after / before <= 2 / 0.75 * 1.1, gaps


def test_timeout_500_and_drop_are_retried(server):
    client = _client(server, max_retries=4)
    server.actions.extend([("sleep", 1.5), ("status", 500), ("status", 503), ("drop",)])
    out = client.complete([{"role": "user", "content": "hi"}])
    assert SPACE.validate(json.loads(out.text))
    assert client.stats["retry_timeout"] == 1
    assert client.stats["retry_http_500"] == 1 and client.stats["retry_http_503"] == 1
    assert client.stats["retry_connection"] == 1
    assert client.stats["requests"] == 5
    assert server.served == ["sleep", "status", "status", "drop", "default"]


def test_retries_exhausted_raise(server):
    client = _client(server, max_retries=2)
    server.actions.extend([("status", 502)] * 3)
    with pytest.raises(LLMClientError, match="HTTP 502 after 3 attempt"):
        client.complete([{"role": "user", "content": "hi"}])


def test_structured_output_falls_back_and_remembers(server):
    client = _client(server)
    schema = SPACE.json_schema()
    server.actions.extend([("status", 400), ("status", 500)])
    out = client.complete([{"role": "user", "content": "hi"}], json_schema=schema)
    assert SPACE.validate(json.loads(out.text))
    formats = [r.get("response_format", {}).get("type") for r in server.requests]
    assert formats == ["json_schema", "json_object", None]  # a rejected format is not retried
    assert client.structured_mode == "text"
    assert client.stats["format_fallback_json_schema"] == 1 and client.stats["format_fallback_json_object"] == 1
    client.complete([{"role": "user", "content": "again"}], json_schema=schema)
    assert "response_format" not in server.requests[-1]


def test_structured_output_json_object_keeps_schema(server):
    client = _client(server)
    server.actions.append(("status", 422))
    client.complete([{"role": "user", "content": "hi"}], json_schema=SPACE.json_schema())
    assert server.requests[1]["response_format"] == {"type": "json_object", "schema": SPACE.json_schema()}
    assert client.structured_mode == "json_object"
    # once a format worked, a 500 is a transient fault: retried in the same format
    server.actions.append(("status", 500))
    client.complete([{"role": "user", "content": "hi"}], json_schema=SPACE.json_schema())
    assert [r["response_format"]["type"] for r in server.requests[2:]] == ["json_object", "json_object"]
    # the marker of a format being tried never leaves the process
    assert all(not any(k.lower().startswith("x-hpolab") for k in h) for h in server.headers)


def test_key_is_not_in_repr_or_state(server, monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-secret-from-env")
    client = OpenAIClient("fake", base_url=server.base_url)
    assert "secret" not in repr(client)
    assert all("secret" not in repr(v) for k, v in vars(client).items() if k != "_client")
    with pytest.raises(TypeError, match="cannot be pickled"):
        import pickle

        pickle.dumps(client)


KEY = "sk-test-Zq8vN3kLr5"


def test_key_never_in_logs_errors_transcripts_storage_or_report(server, monkeypatch, caplog, tmp_path):
    """The key reaches the server (Authorization header) and nothing else: not the logs at DEBUG level
    (the SDK's and httpx's included), error messages (even when the server quotes the key back),
    reprs, trial metadata, the study's storage file or a benchmark report."""
    from hpolab import benchmark
    from hpolab.analysis.report import write_report

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("OPENAI_API_KEY", KEY)
    client = OpenAIClient("fake", base_url=server.base_url, timeout_s=0.5, max_retries=3)
    server.actions.extend(
        [("status", 429, {"Retry-After": "0.1"}), ("sleep", 1.0), ("drop",), ("default",), ("auth_error",)]
    )
    client.complete([{"role": "user", "content": "hi"}])
    with pytest.raises(LLMClientError, match="HTTP 401") as info:
        client.complete([{"role": "user", "content": "hi"}])
    assert server.headers[-1]["authorization"] == f"Bearer {KEY}"  # the key did go to the server
    texts = [str(info.value), repr(info.value), repr(client), str(client.stats), str(client.usage)]
    # a study through the harness (client spec as JSON options, key from the environment) and its report
    storage = tmp_path / "runs.db"
    spec = {"client": {"base_url": server.base_url, "model": "fake", "timeout_s": 2}}
    df = benchmark.run({"llm": {"name": "llm", **spec}}, ["toy/branin"], 1, n_trials=3, storage=storage)
    assert len(df) == 3 and (df["llm_calls"] >= 1).all()
    report = write_report(df, tmp_path / "report", contexts=benchmark.study_contexts(storage))
    assert report is not None
    files = [p for p in tmp_path.rglob("*") if p.is_file()]
    assert storage in files and any(p.suffix == ".md" for p in files)
    texts += [p.read_bytes().decode("latin-1") for p in files]
    texts.append(df.to_json())
    texts.append(caplog.text)
    assert caplog.text  # the SDK and httpx logged at DEBUG: the check looks at real log lines
    assert not [t for t in texts if KEY in t]
    assert not [t for t in texts if KEY[3:] in t]  # not even without its prefix


def test_study_survives_every_fault(server):
    """A 10-trial study; faults arrive in order, each retried by the SDK or handled by the optimizer."""
    client = _client(server)
    server.actions.extend(
        [
            ("ok", '{"lr": 0.01, "depth": 2, "opt": "adam"}'),  # trial 0: valid, confirms json_schema
            ("status", 429, {"Retry-After": "2"}),  # trial 1: retried after >= 2 s ...
            ("default",),  # ... and the retry succeeds
            ("sleep", 1.5),  # trial 2: timeout, retried
            ("default",),
            ("status", 500),  # trial 3: retried
            ("default",),
            ("drop",),  # trial 4: dropped mid-answer, retried
            ("default",),
            ("ok", '{"lr": 0.002, "depth": 3, "opt": "sg'),  # trial 5: truncated JSON -> repaired
            ("ok", ""),  # trial 6: empty -> re-ask ...
            ("default",),  # ... which gives a valid answer
            ("refusal", "I'm sorry, I can't help with that."),  # trial 7: refusal -> re-ask ...
            ("ok", "Sorry, no."),  # ... re-ask refused as well -> random fallback
        ]
    )
    objective = FunctionObjective(lambda c: c["lr"] * c["depth"], SPACE, description="A test problem.")
    optimizer = LLMOptimizer(SPACE, client, seed=0)
    study = hpolab.create_study(objective, optimizer)
    study.optimize(n_trials=10)
    trials = study.trials
    assert len(trials) == 10 and all(t.state is TrialState.COMPLETE for t in trials), [t.result for t in trials]
    for t in trials:
        SPACE.validate(t.config)
        meta = t.trial.metadata["llm"]
        assert meta["exchanges"] and all("latency_s" in e for e in meta["exchanges"])
    outcomes = [t.trial.metadata["llm"]["outcome"] for t in trials]
    assert outcomes[0] == "valid"
    assert outcomes[5] == "repaired"
    assert outcomes[6] == "reasked"
    assert outcomes[7] == "fallback"
    assert trials[5].config["opt"] == "sgd"  # the truncated choice was completed
    assert client.stats["retry_http_429"] == 1 and client.stats["retry_timeout"] == 1
    assert client.stats["retry_http_500"] == 1 and client.stats["retry_connection"] == 1
    assert max(_gaps(server)) >= 2.0  # the Retry-After wait
    stats = optimizer.stats
    assert stats["proposals"] == 10
    assert stats["fallback"] == 1 and stats["reasked"] == 1 and stats["parse_error"] == 3
    reask = trials[6].trial.metadata["llm"]["exchanges"][1]
    assert reask["kind"] == "reask" and "the answer is empty" in reask["messages"][-1]["content"]
    assert reask["temperature"] > 0
    # every request the server saw is in some trial's transcript (nothing lost)
    n_exchanges = sum(len(t.trial.metadata["llm"]["exchanges"]) for t in trials)
    successful = len(server.requests) - 4  # the four retried transport faults
    assert n_exchanges == successful


def test_client_errors_fall_back(server):
    client = _client(server, max_retries=0)
    server.actions.extend([("status", 503), ("status", 503)])
    optimizer = LLMOptimizer(SPACE, client, seed=1, n_trials=3)
    trial = optimizer.ask()
    meta = trial.metadata["llm"]
    assert meta["outcome"] == "fallback"
    assert meta["counters"] == {"client_error": 2, "fallback": 1}
    SPACE.validate(trial.config)
    optimizer.tell(trial, 1.0)
    assert optimizer.ask().metadata["llm"]["outcome"] == "valid"


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]  # closed again when the block ends: nothing listens there


def test_a_model_that_never_answers_stops_the_study_with_one_clear_error(tmp_path, monkeypatch):
    """A wrong URL is a set-up error: after MAX_UNREACHED suggestions without a single answer the optimizer
    raises (the trials before stay in storage) instead of running random search under the LLM's name."""
    url = f"http://127.0.0.1:{_closed_port()}/v1"
    client = OpenAIClient("fake", base_url=url, api_key="test-key", timeout_s=0.5, max_retries=0)
    optimizer = LLMOptimizer(SPACE, client, seed=0)
    for _ in range(LLMOptimizer.MAX_UNREACHED - 1):
        trial = optimizer.ask()
        assert trial.metadata["llm"]["outcome"] == "fallback"
        optimizer.tell(trial, 1.0)
    with pytest.raises(LLMClientError, match="answered none of the 3 suggestions") as info:
        optimizer.ask()
    assert "base_url" in str(info.value) and "test-key" not in str(info.value)

    # through the CLI: one line on stderr, a non-zero exit, the finished trials in storage
    from click.testing import CliRunner

    from hpolab.cli import cli
    from hpolab.llm import _optimizer

    # the client the CLI builds retries a refused connection 5 times with the SDK's backoff (about 80 s
    # over the three suggestions); what is tested here is the error after them, so it gives up at once
    make_client = _optimizer.make_client
    monkeypatch.setattr(_optimizer, "make_client", lambda *a, **k: make_client(*a, max_retries=0, timeout_s=0.5, **k))
    storage = f"sqlite:///{tmp_path / 'runs.db'}"
    args = ["run", "--optimizer", "llm", "--objective", "toy/branin", "--n-trials", "5", "--no-progress"]
    result = CliRunner().invoke(cli, [*args, "--llm-base-url", url, "--llm-model", "fake", "--storage", storage])
    assert result.exit_code != 0
    assert "answered none of the 3 suggestions" in result.output and "Traceback" not in result.output
    import optuna

    (name,) = optuna.get_all_study_names(storage)
    assert len(optuna.load_study(study_name=name, storage=storage).trials) == 2


def test_a_model_that_answered_once_keeps_falling_back_through_outages(server):
    client = _client(server, max_retries=0)
    optimizer = LLMOptimizer(SPACE, client, seed=1)
    trial = optimizer.ask()  # the default answer: the model was reached
    optimizer.tell(trial, 1.0)
    server.actions.extend([("status", 503)] * 8)
    for _ in range(4):
        trial = optimizer.ask()
        assert trial.metadata["llm"]["outcome"] == "fallback"
        optimizer.tell(trial, 1.0)
