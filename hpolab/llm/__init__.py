"""LLM-driven optimizers and the clients they talk to.

Importing this package imports no heavy dependency: ``openai``, ``llama_cpp``, ``transformers`` and
``matplotlib`` are imported when a client or a plot is first built.
"""

from __future__ import annotations

from hpolab._secrets import UntrustedURLError, trust_base_url
from hpolab.llm._controls import (
    CountingPrior,
    CountingPriorHybrid,
    DefaultConfig,
    DefaultFirst,
    HybridNoLLM,
    HybridPlacebo,
    PlaceboClient,
)
from hpolab.llm._extract import ParsedAnswer, extract_config, is_keep
from hpolab.llm._hybrid import HybridOptimizer
from hpolab.llm._multimodal import MultimodalLLMOptimizer, render_loss_plot
from hpolab.llm._optimizer import LLMOptimizer
from hpolab.llm._options import DecodingOptions, DuplicateOptions, PromptOptions
from hpolab.llm._prompts import DEFAULT_TEMPLATES, KEEP_ANSWER, ClassicState, HistoryEntry, PromptTemplates
from hpolab.llm._propose import (
    AnswerCheck,
    Proposed,
    check_answer,
    perturb_config,
    prompt_fingerprint,
    propose_config,
)
from hpolab.llm._warmstart import LLMSMAC, LLMTPE, WarmStartedBO
from hpolab.llm.clients import (
    CachingClient,
    Completion,
    CostLimitReached,
    LlamaCppClient,
    LLMClient,
    LLMClientError,
    LLMUsage,
    OpenAIClient,
    Pricing,
    RateLimiter,
    RateLimitError,
    TransformersClient,
    attach_images,
    default_client,
    default_gguf_path,
    default_threads,
    llm_usage,
    make_client,
)
from hpolab.optimizers._hybrid import AdaptiveBandit, AllocationPolicy, FixedSchedule, FixedShare, SourceStats

__all__ = [
    "DEFAULT_TEMPLATES",
    "KEEP_ANSWER",
    "LLMSMAC",
    "LLMTPE",
    "AdaptiveBandit",
    "AllocationPolicy",
    "AnswerCheck",
    "CachingClient",
    "ClassicState",
    "Completion",
    "CountingPrior",
    "CountingPriorHybrid",
    "DecodingOptions",
    "DefaultConfig",
    "DefaultFirst",
    "DuplicateOptions",
    "FixedSchedule",
    "FixedShare",
    "CostLimitReached",
    "HistoryEntry",
    "HybridNoLLM",
    "HybridOptimizer",
    "HybridPlacebo",
    "LLMClient",
    "LLMClientError",
    "LLMOptimizer",
    "LLMUsage",
    "LlamaCppClient",
    "MultimodalLLMOptimizer",
    "OpenAIClient",
    "ParsedAnswer",
    "PlaceboClient",
    "Pricing",
    "PromptOptions",
    "PromptTemplates",
    "Proposed",
    "RateLimitError",
    "RateLimiter",
    "SourceStats",
    "TransformersClient",
    "UntrustedURLError",
    "WarmStartedBO",
    "attach_images",
    "check_answer",
    "default_client",
    "default_gguf_path",
    "default_threads",
    "extract_config",
    "is_keep",
    "llm_usage",
    "make_client",
    "perturb_config",
    "prompt_fingerprint",
    "propose_config",
    "render_loss_plot",
    "trust_base_url",
]
