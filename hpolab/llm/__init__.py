"""LLM-driven optimizers and the clients they talk to.

Importing this package imports no heavy dependency: ``openai``, ``llama_cpp``, ``transformers`` and
``matplotlib`` are imported when a client or a plot is first built.
"""

from __future__ import annotations

from hpolab.llm._client import (
    CachingClient,
    Completion,
    LlamaCppClient,
    LLMClient,
    LLMClientError,
    OpenAIClient,
    TransformersClient,
    attach_images,
    default_gguf_path,
)
from hpolab.llm._multimodal import MultimodalLLMOptimizer, render_loss_plot
from hpolab.llm._optimizer import LLMOptimizer, default_client
from hpolab.llm._parse import (
    AnswerCheck,
    ParsedAnswer,
    Proposed,
    check_answer,
    extract_config,
    perturb_config,
    propose_config,
)
from hpolab.llm._prompts import DEFAULT_TEMPLATES, HistoryEntry, PromptTemplates
from hpolab.llm._warmstart import WarmStartedBO

__all__ = [
    "DEFAULT_TEMPLATES",
    "AnswerCheck",
    "CachingClient",
    "Completion",
    "HistoryEntry",
    "LLMClient",
    "LLMClientError",
    "LLMOptimizer",
    "LlamaCppClient",
    "MultimodalLLMOptimizer",
    "OpenAIClient",
    "ParsedAnswer",
    "PromptTemplates",
    "Proposed",
    "TransformersClient",
    "WarmStartedBO",
    "attach_images",
    "check_answer",
    "default_client",
    "default_gguf_path",
    "extract_config",
    "perturb_config",
    "propose_config",
    "render_loss_plot",
]
