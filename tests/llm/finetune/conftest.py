"""Fixtures for the fine-tuning tests: records, and a tiny randomly initialised Llama built offline."""

from __future__ import annotations

from pathlib import Path

import pytest
from finetune_helpers import make_records

from hpolab.llm.finetune import DEFAULT_TEMPLATE, Records


@pytest.fixture(scope="session")
def records() -> Records:
    return make_records()


@pytest.fixture(scope="session")
def tiny_model_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A 2-layer Llama (hidden 32) with a byte-level BPE tokenizer trained here on the prompts (seconds)."""
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    texts = []
    for ex in make_records().examples(DEFAULT_TEMPLATE, n_sequential=3):
        texts.append(ex.prompt + ex.response)
    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(texts * 2, vocab_size=400, min_frequency=2, special_tokens=["<s>", "</s>", "<pad>"])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=1024,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng():
        torch.manual_seed(0)
        model = LlamaForCausalLM(config)
    path = tmp_path_factory.mktemp("tiny-llama")
    model.save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path
