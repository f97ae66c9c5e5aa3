"""Fixtures for the fine-tuning tests: records, and a tiny randomly initialised Llama built offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from finetune_helpers import make_records

from hpolab.llm.finetune import DEFAULT_TEMPLATE, Records
from hpolab.testing import save_tiny_llama


@pytest.fixture(scope="session")
def records() -> Records:
    return make_records()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama (hidden 32) with a byte-level BPE tokenizer trained here on the prompts (seconds)."""
    texts = [ex.prompt + ex.response for ex in make_records().examples(DEFAULT_TEMPLATE, n_sequential=3)]
    return save_tiny_llama(tmp_path_factory.mktemp("tiny-llama"), texts * 2)
