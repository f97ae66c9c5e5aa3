"""The clients an LLM optimizer talks to: one protocol, one factory, one module per backend.

- :class:`LLMClient` (the protocol), :class:`Completion` (an answer with its usage),
  :class:`CachingClient` and :func:`make_client` (builds any client from a plain spec): ``_base``.
- :class:`OpenAIClient`: any OpenAI-compatible HTTP server, with prices, a cost limit and a rate
  limit (:class:`RateLimiter`): ``_openai``, ``_ratelimit``.
- :class:`LlamaCppClient`: a GGUF model in process, its weights shared and its prompt prefixes
  cached between clients: ``_llamacpp``, ``_llama_pool``.
- :class:`TransformersClient`: a local ``transformers`` model, optionally with a ``peft`` adapter:
  ``_transformers``.
- :class:`LLMUsage` and :class:`Pricing`: tokens, latency and cost of a client's calls: ``_usage``.
- The simulated stand-ins (``_simulated``, ``_memorizer``) answer without a model; their public home
  is :mod:`hpolab.testing`.

Importing this package imports no backend library: ``openai``, ``llama_cpp`` and ``transformers``
are imported when a client is built.
"""

from __future__ import annotations

from hpolab.llm.clients._base import (
    CachingClient,
    Completion,
    CostLimitReached,
    LLMClient,
    LLMClientError,
    attach_images,
    default_client,
    make_client,
)
from hpolab.llm.clients._llamacpp import LlamaCppClient, default_gguf_path, default_threads
from hpolab.llm.clients._openai import OpenAIClient
from hpolab.llm.clients._ratelimit import RateLimiter, RateLimitError
from hpolab.llm.clients._transformers import TransformersClient
from hpolab.llm.clients._usage import LLMUsage, Pricing, llm_usage

__all__ = [
    "CachingClient",
    "Completion",
    "CostLimitReached",
    "LLMClient",
    "LLMClientError",
    "LLMUsage",
    "LlamaCppClient",
    "OpenAIClient",
    "Pricing",
    "RateLimitError",
    "RateLimiter",
    "TransformersClient",
    "attach_images",
    "default_client",
    "default_gguf_path",
    "default_threads",
    "llm_usage",
    "make_client",
]
