"""Fine-tuned LLM optimizer: records, LoRA fine-tuning, one-shot proposals, cycles.

Nothing heavy is imported here: torch, transformers and peft load when a function that needs them
runs (``pip install "hpolab[finetune]"``).
"""

from __future__ import annotations

from hpolab.llm.finetune._cycles import CycleResult, CyclesResult, run_cycles
from hpolab.llm.finetune._lora import (
    DEFAULT_BASE_MODEL,
    PROVENANCE_FILE,
    FineTunedModel,
    FineTuneResult,
    Generation,
    finetune,
    load_base_model,
    load_finetuned,
    read_provenance,
    smollm2_gguf,
)
from hpolab.llm.finetune._optimizer import FineTunedLLMOptimizer
from hpolab.records import DEFAULT_TEMPLATE, Example, PromptTemplate, Record, Records, format_config

__all__ = [
    "DEFAULT_BASE_MODEL",
    "DEFAULT_TEMPLATE",
    "CycleResult",
    "CyclesResult",
    "PROVENANCE_FILE",
    "Example",
    "FineTuneResult",
    "FineTunedLLMOptimizer",
    "FineTunedModel",
    "Generation",
    "PromptTemplate",
    "Record",
    "Records",
    "finetune",
    "format_config",
    "load_base_model",
    "load_finetuned",
    "read_provenance",
    "run_cycles",
    "smollm2_gguf",
]
