"""How many tokens a prompt takes, and how many the model's context holds.

A client that can count tokens says so with ``count_tokens(text) -> int`` (:class:`LlamaCppClient`
uses llama.cpp's tokenizer, :class:`TransformersClient` its tokenizer) and may give its window as
``context_tokens``. For every other client (a server behind an OpenAI-compatible API, whose
tokenizer is not at hand) the count is an estimate: one token per :data:`CHARS_PER_TOKEN`
characters, rounded up, which over-counts English and JSON for the tokenizers in use (they average
three to four characters a token), so a prompt that fits by the estimate fits the model.
Each message adds :data:`MESSAGE_OVERHEAD` tokens for the chat template's role markers.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from typing import Any

__all__ = [
    "CHARS_PER_TOKEN",
    "DEFAULT_CONTEXT_TOKENS",
    "MESSAGE_OVERHEAD",
    "context_tokens",
    "count_prompt_tokens",
    "token_counter",
]

#: Characters per token of the estimate used when the client has no tokenizer.
CHARS_PER_TOKEN = 3.0
#: Tokens a chat template adds per message (role markers and separators).
MESSAGE_OVERHEAD = 4
#: The context assumed for a client that does not give its own (and no ``context_tokens`` option).
DEFAULT_CONTEXT_TOKENS = 8192


def _layers(client: Any) -> list[Any]:
    """The client and the clients it wraps (a :class:`CachingClient` holds its model as ``client``)."""
    out: list[Any] = []
    while client is not None and len(out) < 8:
        out.append(client)
        client = getattr(client, "client", None)
    return out


def token_counter(client: Any) -> tuple[Any, str]:
    """The client's ``count_tokens`` and ``"tokenizer"``, or the estimate and ``"estimate"``."""
    for layer in _layers(client):
        count = getattr(layer, "count_tokens", None)
        if callable(count):
            return count, "tokenizer"
    return _estimate, "estimate"


def _estimate(text: str) -> int:
    return math.ceil(len(text) / CHARS_PER_TOKEN)


def context_tokens(client: Any, option: int | None = None) -> int:
    """The context window the prompt must fit: ``option`` if given, else the client's, else the default.

    Args:
        client: The LLM client (wrappers are looked through).
        option: An explicit window (:attr:`PromptOptions.context_tokens <hpolab.llm.PromptOptions>`).
    """
    if option is not None:
        return int(option)
    for layer in _layers(client):
        value = getattr(layer, "context_tokens", None)
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return DEFAULT_CONTEXT_TOKENS


def count_prompt_tokens(client: Any, messages: Sequence[Mapping[str, Any]]) -> tuple[int, str]:
    """Tokens of ``messages`` as the client would read them, and how they were counted.

    Returns:
        ``(tokens, "tokenizer" or "estimate")``.
    """
    count, how = token_counter(client)
    total = 0
    for message in messages:
        content = message.get("content")
        if isinstance(content, str):
            text = content
        elif isinstance(content, Sequence):  # multimodal parts: count the text parts
            text = "".join(str(part.get("text", "")) for part in content if isinstance(part, Mapping))
        else:
            text = str(content or "")
        total += int(count(text)) + MESSAGE_OVERHEAD
    return total, how
