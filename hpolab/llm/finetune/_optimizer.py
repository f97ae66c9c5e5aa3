"""FineTunedLLMOptimizer: configurations proposed by a LoRA fine-tuned causal LM.

Every answer goes through the same parse / validate / repair / re-ask / fallback / duplicate path
as the other LLM optimizers (:func:`hpolab.llm.propose_config`), with the same counters.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable, Mapping, Sequence
from typing import Any, ClassVar, Literal

import numpy as np

from hpolab.llm._propose import propose_config
from hpolab.llm.clients._usage import LLMUsage
from hpolab.optimizers._base import Optimizer, Proposal
from hpolab.records import DEFAULT_TEMPLATE, PromptTemplate
from hpolab.trial import Direction, Trial, TrialResult, TrialState

__all__ = ["FineTunedLLMOptimizer"]

_logger = logging.getLogger("hpolab.llm.finetune.optimizer")

Mode = Literal["one-shot", "sequential"]


class FineTunedLLMOptimizer(Optimizer):
    """Proposals from a fine-tuned causal LM, one-shot or sequential.

    - ``mode="one-shot"``: the prompt names the model, the task and the target and holds
      no history. The first proposal is the model's greedy answer; later ones are samples from the
      same prompt at ``sample_temperature`` (duplicates are re-drawn), so one evaluation is enough
      and more evaluations explore around it.
    - ``mode="sequential"``: the prompt also lists the configurations tried so far with their
      accuracies (the most recent ``max_history``), so every proposal sees the feedback.

    The model is loaded on the first ask. The same seed, adapter and history give the same
    proposals: each ask seeds its sampling from ``(seed, trial number)``, so a resumed optimizer
    (``load_state_dict``) asks exactly what an uninterrupted one would.

    Args:
        space: The search space.
        direction: ``"minimize"`` (objective value is an error) or ``"maximize"`` (an accuracy).
        seed: Seed of sampling, fallbacks and perturbations.
        model: Base model (Hugging Face id, local directory, ``.gguf`` file); the adapter's
            recorded base model, or the default offline SmolLM2-135M-Instruct, if ``None``.
        adapter: Directory written by :func:`hpolab.llm.finetune.finetune`; ``None`` uses the base
            model as it is (for comparison).
        target: ``"best"`` (the best accuracy on the task) or an accuracy to reach.
        mode: ``"one-shot"`` or ``"sequential"``.
        description: Task text (model, data, metric); the study's objective description if ``None``.
        model_name: The model's name in the prompt; the first word of the description if ``None``.
        epochs: Epochs in the prompt (a trial's budget wins).
        to_accuracy: Objective value -> accuracy for the history; ``1 - value`` when minimizing,
            ``value`` when maximizing, if ``None``.
        temperature: Temperature of the first proposal (0: greedy).
        sample_temperature: Temperature of later one-shot proposals.
        reask_temperature: Temperature of re-asks after an unusable answer.
        on_duplicate: ``"reask"`` or ``"perturb"`` (see :func:`hpolab.llm.propose_config`).
        max_history: Most history lines in a sequential prompt.
        max_new_tokens: Most tokens per answer.
        template: Prompt template; the adapter's saved template if ``None``.
        device: ``"cpu"`` / ``"cuda"``; CUDA when available if ``None``.
        client: An already built model (any :class:`hpolab.llm.LLMClient`, e.g. a
            :class:`~hpolab.llm.finetune.FineTunedModel`) instead of ``model`` / ``adapter``.
    """

    name: ClassVar[str] = "llm-finetuned"

    def __init__(
        self,
        space: Any,
        *,
        direction: Direction | str = Direction.MINIMIZE,
        seed: int | None = None,
        model: str | os.PathLike[str] | None = None,
        adapter: str | os.PathLike[str] | None = None,
        target: float | str = "best",
        mode: Mode = "one-shot",
        description: str | None = None,
        model_name: str | None = None,
        epochs: float | None = None,
        to_accuracy: Callable[[float], float] | None = None,
        temperature: float = 0.0,
        sample_temperature: float = 0.8,
        reask_temperature: float = 0.7,
        on_duplicate: Literal["reask", "perturb"] = "reask",
        max_history: int = 10,
        max_new_tokens: int = 96,
        template: PromptTemplate | None = None,
        device: str | None = None,
        client: Any = None,
    ) -> None:
        super().__init__(space, direction=direction, seed=seed)
        if mode not in ("one-shot", "sequential"):
            raise ValueError(f"mode: {mode!r} is not 'one-shot' or 'sequential'")
        if isinstance(target, str) and target != "best":
            raise ValueError(f"target: {target!r} is not an accuracy (a number) or 'best'")
        if not isinstance(target, str) and not 0.0 <= float(target) <= 1.0:
            raise ValueError(f"target: {target} is not an accuracy in [0, 1]")
        if max_history < 0:
            raise ValueError(f"max_history: {max_history} must be >= 0")
        for label, value in (
            ("temperature", temperature),
            ("sample_temperature", sample_temperature),
            ("reask_temperature", reask_temperature),
        ):
            if value < 0:
                raise ValueError(f"{label}: {value} must be >= 0")
        self.model_id = None if model is None else str(model)
        self.adapter = None if adapter is None else str(adapter)
        self.target: float | str = target if isinstance(target, str) else float(target)
        self.mode: Mode = mode
        self.description = description
        self.model_name = model_name
        self.epochs = epochs
        if to_accuracy is None:
            to_accuracy = (lambda v: 1.0 - v) if self.direction is Direction.MINIMIZE else (lambda v: v)
        self.to_accuracy = to_accuracy
        self.temperature = float(temperature)
        self.sample_temperature = float(sample_temperature)
        self.reask_temperature = float(reask_temperature)
        self.on_duplicate: Literal["reask", "perturb"] = on_duplicate
        self.max_history = int(max_history)
        self.max_new_tokens = int(max_new_tokens)
        self._template = template
        self.device = device
        self._client = client
        self.stats: dict[str, int] = {}
        self._n_proposed = 0

    # ------------------------------------------------------------------ model
    @property
    def client(self) -> Any:
        """The model answering the prompts (loaded on first use)."""
        if self._client is None:
            from hpolab.llm.finetune._lora import load_finetuned

            self._client = load_finetuned(self.adapter, self.model_id, device=self.device)
        return self._client

    @property
    def template(self) -> PromptTemplate:
        """The prompt template: the given one, the model's saved one, or the default."""
        if self._template is not None:
            return self._template
        saved = getattr(self._client, "template", None) if self._client is not None else None
        if saved is None and self.adapter is not None:
            from hpolab.llm.finetune._lora import read_provenance

            data = read_provenance(self.adapter).get("template")
            saved = PromptTemplate.from_dict(data) if data else None
        return saved if isinstance(saved, PromptTemplate) else DEFAULT_TEMPLATE

    # ------------------------------------------------------------------ prompts
    def _task_text(self) -> tuple[str, str]:
        description = self.description if self.description is not None else str(self.context.get("description", ""))
        name = self.model_name or (description.split()[0].rstrip(".,:;") if description.strip() else "model")
        return name, description

    def _history_pairs(self) -> list[tuple[dict[str, Any], float]]:
        if self.mode == "one-shot" or self.max_history == 0:
            return []
        pairs = []
        for record in self._history:
            if record.state is TrialState.COMPLETE and record.value is not None:
                pairs.append((dict(record.config), float(self.to_accuracy(record.value))))
        return pairs[-self.max_history :]

    def messages(self) -> list[dict[str, str]]:
        """The chat messages of the next proposal (system prompt and instruction)."""
        name, description = self._task_text()
        template = self.template
        instruction = template.instruction_text(
            model=name,
            description=description,
            epochs=self.epochs,
            target=self.target,
            history=self._history_pairs(),
            order=self.space.names,
        )
        return [{"role": "system", "content": template.system}, {"role": "user", "content": instruction}]

    # ------------------------------------------------------------------ ask / tell
    def _ask(self, n: int) -> list[Proposal]:
        seen = {self.space.key(r.config) for r in self._history}
        seen |= {self.space.key(t.config) for t in self._pending.values()}
        seen |= {self.space.key(t.config) for t in self.running_elsewhere}
        proposals: list[Proposal] = []
        for _ in range(n):
            proposal = self._propose(self._n_proposed, seen)
            seen.add(self.space.key(proposal.config))
            proposals.append(proposal)
        return proposals

    def _propose(self, index: int, seen: set[Any]) -> Proposal:
        base_seed = 0 if self.seed is None else self.seed
        rng = np.random.default_rng([base_seed, index])
        first = index == 0 or self.mode == "sequential"
        temperature = self.temperature if first else self.sample_temperature
        sample_seed = (base_seed * 1_000_003 + index * 7_919) % (2**31 - 1)
        proposed = propose_config(
            self.client,
            self.messages(),
            self.space,
            rng,
            seen,
            temperature=temperature,
            reask_temperature=self.reask_temperature,
            seed=sample_seed,
            max_tokens=self.max_new_tokens,
            on_duplicate=self.on_duplicate,
        )
        self._n_proposed += 1
        self.stats["asks"] = self.stats.get("asks", 0) + 1
        for key, value in proposed.counters.items():
            self.stats[key] = self.stats.get(key, 0) + value
        metadata = {
            "optimizer": self.name,
            "mode": self.mode,
            "outcome": proposed.outcome,
            "counters": dict(proposed.counters),
            "changes": list(proposed.changes),
            "errors": list(proposed.errors),
            "duplicate_handling": proposed.duplicate_handling,
            "transcript": proposed.exchanges,
            "prompt_tokens": proposed.prompt_tokens,
            "completion_tokens": proposed.completion_tokens,
            "latency_s": proposed.latency_s,
            LLMUsage.METADATA_KEY: LLMUsage.from_exchanges(proposed.exchanges).to_dict(),
        }
        return Proposal(proposed.config, metadata=metadata)

    def _replay_ask(self, trials: Sequence[Trial]) -> list[Any]:
        """On resume, take the stored proposals as they are (no model call) and restore the counters."""
        for trial in trials:
            self.stats["asks"] = self.stats.get("asks", 0) + 1
            for key, value in dict(trial.metadata.get("counters") or {}).items():
                self.stats[key] = self.stats.get(key, 0) + int(value)
            self._n_proposed += 1
        return [None] * len(trials)

    def _tell(self, trial: Trial, result: TrialResult) -> None:
        """Nothing to learn here: a sequential prompt reads the history directly."""

    def _meta_params(self) -> dict[str, Any]:
        provenance: Mapping[str, Any] = getattr(self._client, "provenance", {}) if self._client is not None else {}
        if not provenance and self.adapter is not None:
            from hpolab.llm.finetune._lora import read_provenance

            provenance = read_provenance(self.adapter)
        return {
            "model": self.model_id or provenance.get("base_model"),
            "adapter": self.adapter,
            "data_hash": provenance.get("data_hash"),
            "target": self.target,
            "mode": self.mode,
            "temperature": self.temperature,
            "sample_temperature": self.sample_temperature,
            "reask_temperature": self.reask_temperature,
            "on_duplicate": self.on_duplicate,
            "max_history": self.max_history,
        }
