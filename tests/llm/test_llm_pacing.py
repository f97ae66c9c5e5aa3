"""Hosted models, priced and paced, against a local OpenAI-protocol server that counts and throttles.

The server (tests/llm/_fake_server.py) counts requests and tokens over a sliding window and answers
HTTP 429 to a request that would go over its limit, as providers do. With the client's rate limiter
set to the same limits the run never trips it; the cost is the server's reported usage at the
user's prices, exactly; ``max_cost`` stops a study cleanly.
"""

from __future__ import annotations

import json
import logging
import time

import numpy as np
import pytest
from _fake_server import FakeOpenAIServer, count_tokens

import hpolab
from hpolab.llm import (
    CostLimitReached,
    LLMClientError,
    LLMOptimizer,
    LLMUsage,
    OpenAIClient,
    Pricing,
    RateLimiter,
    llm_usage,
)
from hpolab.objectives.base import FunctionObjective
from hpolab.space import SearchSpace

SPACE = SearchSpace({"lr": (1e-4, 1e-1, "log"), "depth": (1, 3), "opt": ["adam", "sgd"]})
OBJECTIVE = FunctionObjective(lambda c: c["lr"] * c["depth"], SPACE, description="A test problem.")
PROMPT = [{"role": "user", "content": "Propose a configuration as JSON. " * 6}]


def _default_answer(body: dict) -> str:
    rng = np.random.default_rng(body.get("seed", 0))
    return json.dumps(SPACE.sample(rng=rng))


@pytest.fixture
def server():
    with FakeOpenAIServer(_default_answer, usage=count_tokens) as srv:
        yield srv


def _client(server: FakeOpenAIServer, **kwargs) -> OpenAIClient:
    return OpenAIClient("fake", base_url=server.base_url, api_key="test-key", timeout_s=5, **kwargs)


def _most_in_window(times: list[float], window_s: float) -> int:
    return max(sum(1 for s in times if t <= s < t + window_s) for t in times)


def test_without_the_limiter_the_server_throttles(server):
    """The control: the same burst, unpaced, trips the server's limit (so the next test can fail)."""
    server.throttle(window_s=1.0, requests=3)
    client = _client(server, max_retries=0)
    with pytest.raises(LLMClientError, match="HTTP 429"):
        for _ in range(6):
            client.complete(PROMPT, seed=0, max_tokens=50)
    assert server.throttled == 1


def test_requests_per_minute_never_trip_the_server(server):
    server.throttle(window_s=1.0, requests=3)
    client = _client(server, max_retries=0, rate_limiter=RateLimiter(requests_per_minute=3, window_s=1.0))
    start = time.monotonic()
    for i in range(8):
        client.complete(PROMPT, seed=i, max_tokens=50)
    assert server.throttled == 0 and len(server.requests) == 8
    assert server.peak[0] == 3  # the limiter used the whole allowance
    assert time.monotonic() - start >= 2.0  # 8 requests at 3 per second
    assert client.rate_limiter is not None and client.rate_limiter.stats["waits"] >= 2


def test_tokens_per_minute_never_trip_the_server(server):
    per_request = sum(count_tokens({"messages": PROMPT}, _default_answer({"seed": 0})))
    limit = 3 * per_request  # about three requests per window
    server.throttle(window_s=1.0, tokens=limit)
    limiter = RateLimiter(tokens_per_minute=limit, window_s=1.0)
    client = _client(server, max_retries=0, rate_limiter=limiter)
    for i in range(8):
        client.complete(PROMPT, seed=i, max_tokens=20)
    assert server.throttled == 0 and len(server.requests) == 8
    assert 0 < server.peak[1] <= limit
    assert limiter.stats["waits"] >= 1  # it did hold requests back
    assert client.usage.total_tokens == sum(p + c for p, c in server.reported)


def test_retries_are_paced_too(server):
    # the SDK's retries go through the limiter: three attempts of one call never share a 1 s window
    server.actions.extend([("status", 500), ("status", 500)])
    client = _client(server, max_retries=2, rate_limiter=RateLimiter(requests_per_minute=2, window_s=1.0))
    client.complete(PROMPT, max_tokens=20)
    assert client.stats["retry_http_500"] == 2 and len(server.times) == 3
    assert _most_in_window(server.times, 1.0) <= 2


def test_study_cost_is_exact_and_kept_in_transcripts(server):
    pricing = Pricing(prompt_per_1k=0.5, completion_per_1k=1.5)
    client = _client(server, pricing={"fake": pricing, "other": (9.0, 9.0)})
    study = hpolab.create_study(OBJECTIVE, LLMOptimizer(SPACE, client, seed=0))
    study.optimize(n_trials=5)
    expected = sum(pricing.cost(p, c) for p, c in server.reported)
    total = llm_usage(study.trials)
    assert total.cost == pytest.approx(expected, rel=1e-12, abs=1e-15) and expected > 0
    assert client.usage.cost == pytest.approx(expected, rel=1e-12, abs=1e-15)
    assert total.prompt_tokens == sum(p for p, _ in server.reported)
    assert total.completion_tokens == sum(c for _, c in server.reported)
    assert total.calls == len(server.requests)
    for record in study.trials:
        usage = LLMUsage.from_metadata(record.trial.metadata)
        exchanges = record.trial.metadata["llm"]["exchanges"]
        assert usage is not None and all(
            e["cost"] == pricing.cost(e["prompt_tokens"], e["completion_tokens"]) for e in exchanges
        )
        assert usage.cost == pytest.approx(sum(e["cost"] for e in exchanges))


def test_max_cost_stops_the_study_cleanly(server, caplog):
    caplog.set_level(logging.INFO, logger="hpolab")  # the CLI tests may have set the hpolab logger to WARNING
    server.usage = lambda body, answer: (11, 7)  # 0.011 + 0.014 = 0.025 per request at these prices
    client = _client(server, pricing=Pricing(1.0, 2.0), max_cost=0.09)
    study = hpolab.create_study(OBJECTIVE, LLMOptimizer(SPACE, client, seed=0))
    study.optimize(n_trials=10)  # returns: no exception
    # 0.075 spent after three requests is below the limit, so a fourth is sent; then nothing more
    assert len(server.requests) == 4 and len(study.trials) == 4
    assert all(r.state is hpolab.TrialState.COMPLETE for r in study.trials)
    assert llm_usage(study.trials).cost == pytest.approx(0.1) and client.spent == pytest.approx(0.1)
    assert "max_cost=0.09" in caplog.text
    study.optimize(n_trials=3)  # still spent: stops at once, sends nothing
    assert len(server.requests) == 4 and len(study.trials) == 4
    with pytest.raises(CostLimitReached) as info:
        client.complete(PROMPT)
    assert info.value.spent == pytest.approx(0.1) and info.value.max_cost == 0.09


def test_tokens_of_one_request_above_the_limit_fail_fast(server):
    client = _client(server, tokens_per_minute=100)
    with pytest.raises(hpolab.HpolabError, match="above tokens_per_minute=100"):
        client.complete(PROMPT, max_tokens=500)
    assert not server.requests


def test_benchmark_table_and_report_sum_the_cost(tmp_path):
    from hpolab import benchmark
    from hpolab.analysis.report import write_report
    from hpolab.registry import make_objective

    space = make_objective("toy/branin").search_space

    def answer(body: dict) -> str:
        return json.dumps(space.sample(rng=np.random.default_rng(body.get("seed", 0))))

    pricing = Pricing(1.0, 2.0)
    with FakeOpenAIServer(answer, usage=count_tokens) as srv:
        spec = {"base_url": srv.base_url, "model": "fake", "pricing": [1.0, 2.0]}  # JSON, as the harness records it
        df = benchmark.run(
            {"llm": {"name": "llm", "client": spec}}, ["toy/branin"], 2, n_trials=3, storage=tmp_path / "b.db"
        )
        expected = sum(pricing.cost(p, c) for p, c in srv.reported)
    assert df["llm_cost"].sum() == pytest.approx(expected) and expected > 0
    write_report(df, tmp_path / "report", contexts=benchmark.study_contexts(tmp_path / "b.db"))
    text = (tmp_path / "report" / "report.md").read_text()
    assert "total LLM cost" in text and f"{expected:.4g}" in text
