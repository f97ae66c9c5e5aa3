"""TransformersClient on a tiny randomly initialised Llama built here (no download)."""

from __future__ import annotations

import importlib.util

import pytest

from hpolab.llm import LLMOptimizer, TransformersClient
from hpolab.space import SearchSpace
from hpolab.testing import save_tiny_llama

pytestmark = [
    pytest.mark.skipif(
        importlib.util.find_spec("transformers") is None or importlib.util.find_spec("torch") is None,
        reason='needs pip install "hpolab[finetune]" (transformers, torch)',
    ),
    pytest.mark.slow,  # importing torch and transformers takes most of a minute on a busy 2-core machine
]

SPACE = SearchSpace({"lr": (1e-4, 1e-1, "log"), "depth": (1, 3)})


@pytest.fixture(scope="module")
def tiny_dir(tmp_path_factory):
    texts = ['{"lr": 0.01, "depth": 2}', "Provide a config in JSON format. Config:", "loss = 1.0000e-01"] * 20
    return save_tiny_llama(
        tmp_path_factory.mktemp("tiny"),
        texts,
        vocab_size=300,
        min_frequency=1,
        num_hidden_layers=1,
        max_position_embeddings=4096,
    )


def test_complete_counts_tokens_and_keeps_global_rng(tiny_dir):
    import torch

    client = TransformersClient(tiny_dir)
    messages = [{"role": "user", "content": "Provide a config in JSON format. Config:"}]
    greedy = client.complete(messages, max_tokens=8)
    assert greedy.completion_tokens == 8 and greedy.prompt_tokens > 5 and greedy.latency_s > 0
    assert client.complete(messages, max_tokens=8).text == greedy.text
    state = torch.random.get_rng_state()
    a = client.complete(messages, temperature=1.0, seed=3, max_tokens=8)
    b = client.complete(messages, temperature=1.0, seed=3, max_tokens=8)
    assert a.text == b.text
    assert torch.equal(state, torch.random.get_rng_state())
    assert "tiny" in client.name and client.supports_images is False


def test_llm_optimizer_on_a_random_model_stays_valid(tiny_dir):
    optimizer = LLMOptimizer(SPACE, TransformersClient(tiny_dir), seed=0, max_tokens=12)
    for _ in range(3):
        trial = optimizer.ask()
        SPACE.validate(trial.config)
        optimizer.tell(trial, trial.config["lr"])
    stats = optimizer.stats
    assert stats["proposals"] == 3 and stats["calls"] >= 3
