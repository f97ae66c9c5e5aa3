"""A tiny, randomly initialised Llama model with a tokenizer trained on the fly, for offline tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

__all__ = ["save_tiny_llama"]


def save_tiny_llama(
    path: str | Path,
    texts: Sequence[str],
    *,
    vocab_size: int = 400,
    min_frequency: int = 2,
    num_hidden_layers: int = 2,
    max_position_embeddings: int = 1024,
    seed: int = 0,
) -> Path:
    """Build a tiny Llama (hidden size 32) and a byte-level BPE tokenizer trained on ``texts``; save both.

    Needs ``pip install "hpolab[finetune]"``. The global torch random state is left untouched.

    Args:
        path: Directory to save the model and tokenizer to.
        texts: Text the tokenizer is trained on.
        vocab_size: Target vocabulary size of the tokenizer.
        min_frequency: Minimum pair frequency for a BPE merge.
        num_hidden_layers: Transformer layers.
        max_position_embeddings: Longest sequence the model takes.
        seed: Seed of the weight initialisation.

    Returns:
        ``path``, loadable with ``transformers.AutoModelForCausalLM.from_pretrained``.
    """
    import torch
    from tokenizers import ByteLevelBPETokenizer
    from transformers import LlamaConfig, LlamaForCausalLM, PreTrainedTokenizerFast

    bpe = ByteLevelBPETokenizer()
    bpe.train_from_iterator(
        list(texts), vocab_size=vocab_size, min_frequency=min_frequency, special_tokens=["<s>", "</s>", "<pad>"]
    )
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=bpe, bos_token="<s>", eos_token="</s>", pad_token="<pad>")
    config = LlamaConfig(
        vocab_size=len(tokenizer),
        hidden_size=32,
        intermediate_size=64,
        num_hidden_layers=num_hidden_layers,
        num_attention_heads=4,
        num_key_value_heads=2,
        max_position_embeddings=max_position_embeddings,
        bos_token_id=tokenizer.bos_token_id,
        eos_token_id=tokenizer.eos_token_id,
        pad_token_id=tokenizer.pad_token_id,
    )
    with torch.random.fork_rng():
        torch.manual_seed(seed)
        model = LlamaForCausalLM(config)
    out = Path(path)
    model.save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
