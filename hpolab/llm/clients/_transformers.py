"""TransformersClient: a local ``transformers`` causal LM, optionally with a ``peft`` adapter."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hpolab.llm.clients._base import Completion, LLMClientError, Message, check_temperature

__all__ = ["TransformersClient"]


class TransformersClient:
    """A local ``transformers`` causal LM (a directory, a GGUF file or an already built model).

    No constrained decoding: ``json_schema`` is not enforced (the optimizer parses, validates and
    repairs every answer). Sampling with a ``seed`` runs inside ``torch.random.fork_rng`` so the
    global torch generator is left as it was.

    Args:
        model: A model directory (or hub-style id already in the local cache), or a built
            ``PreTrainedModel``.
        tokenizer: A tokenizer or its directory; ``None`` loads it from ``model``.
        adapter: A ``peft`` adapter directory applied on top of the model.
        gguf_file: A GGUF file name inside ``model`` (transformers dequantizes it).
        device: Torch device, e.g. ``"cpu"`` or ``"cuda"``.
        torch_dtype: Torch dtype name, e.g. ``"float32"``, ``"bfloat16"``; ``None`` for the default.
        name: Label for transcripts; ``None`` derives one from ``model``.
    """

    supports_images = False

    def __init__(
        self,
        model: str | os.PathLike[str] | Any,
        *,
        tokenizer: str | os.PathLike[str] | Any | None = None,
        adapter: str | os.PathLike[str] | None = None,
        gguf_file: str | None = None,
        device: str = "cpu",
        torch_dtype: str | None = None,
        name: str | None = None,
    ) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError(
                'TransformersClient needs transformers and torch: pip install "hpolab[finetune]"'
            ) from exc
        load_kwargs: dict[str, Any] = {}
        if gguf_file is not None:
            load_kwargs["gguf_file"] = gguf_file
        if torch_dtype is not None:
            dtype = getattr(torch, torch_dtype, None)
            if not isinstance(dtype, torch.dtype):
                raise ValueError(f"torch_dtype: {torch_dtype!r} is not a torch dtype name (e.g. 'float32')")
            load_kwargs["dtype"] = dtype
        self._model: Any
        if isinstance(model, (str, os.PathLike)):
            self._model = AutoModelForCausalLM.from_pretrained(str(model), **load_kwargs)
            label = Path(str(model)).name or str(model)
        else:
            self._model = model
            label = type(model).__name__
        if tokenizer is None:
            if not isinstance(model, (str, os.PathLike)):
                raise ValueError("tokenizer: give a tokenizer when model is an already built model object")
            tok_kwargs = {"gguf_file": gguf_file} if gguf_file is not None else {}
            self._tokenizer = AutoTokenizer.from_pretrained(str(model), **tok_kwargs)
        elif isinstance(tokenizer, (str, os.PathLike)):
            self._tokenizer = AutoTokenizer.from_pretrained(str(tokenizer))
        else:
            self._tokenizer = tokenizer
        if adapter is not None:
            try:
                from peft import PeftModel
            except ImportError as exc:  # pragma: no cover - depends on the environment
                raise ImportError('adapter= needs peft: pip install "hpolab[finetune]"') from exc
            self._model = PeftModel.from_pretrained(self._model, str(adapter))
            label += f"+{Path(str(adapter)).name}"
        self._model.to(device)
        self._model.eval()
        self.device = device
        self.name = name or f"transformers:{label}"
        self._torch = torch
        self._lock = threading.Lock()

    @property
    def model(self) -> Any:
        """The underlying torch model (with the adapter, if any)."""
        return self._model

    @property
    def tokenizer(self) -> Any:
        """The tokenizer."""
        return self._tokenizer

    def __repr__(self) -> str:
        return f"TransformersClient(name={self.name!r}, device={self.device!r})"

    @property
    def context_tokens(self) -> int | None:
        """The model's longest input in tokens (its config's ``max_position_embeddings``), if it says."""
        value = getattr(getattr(self._model, "config", None), "max_position_embeddings", None)
        return int(value) if isinstance(value, int) and value > 0 else None

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the model's tokenizer (no special tokens)."""
        return len(self._tokenizer.encode(text, add_special_tokens=False))

    def __deepcopy__(self, memo: dict[int, Any]) -> TransformersClient:
        # a loaded model: copies of an optimizer (other workers' in this process) share it
        return self

    def _prompt_ids(self, messages: Sequence[Message]) -> Any:
        tok = self._tokenizer
        msgs = [dict(m) for m in messages]
        if getattr(tok, "chat_template", None):
            encoded: Any = tok.apply_chat_template(
                msgs, add_generation_prompt=True, return_tensors="pt", return_dict=True
            )
            return encoded["input_ids"]
        text = "".join(f"{m['role']}: {m['content']}\n" for m in msgs) + "assistant: "
        return tok(text, return_tensors="pt")["input_ids"]

    def complete(
        self,
        messages: Sequence[Message],
        *,
        json_schema: Mapping[str, Any] | None = None,
        images: Sequence[bytes] = (),
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 256,
    ) -> Completion:
        if images:
            raise LLMClientError(f"{self.name}: this model reads no images; use a vision model through OpenAIClient")
        temperature = check_temperature(temperature)
        torch = self._torch
        start = time.perf_counter()
        with self._lock:
            input_ids = self._prompt_ids(messages).to(self.device)
            gen_kwargs: dict[str, Any] = {
                "max_new_tokens": int(max_tokens),
                "attention_mask": torch.ones_like(input_ids),
            }
            if temperature > 0:
                gen_kwargs.update(do_sample=True, temperature=temperature, top_p=1.0, top_k=0)
            else:
                gen_kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
            pad = self._tokenizer.pad_token_id
            gen_kwargs["pad_token_id"] = pad if pad is not None else self._tokenizer.eos_token_id
            with torch.random.fork_rng(devices=[]), torch.no_grad():
                if seed is not None:
                    torch.manual_seed(int(seed))
                output = self._model.generate(input_ids, **gen_kwargs)
        new_tokens = output[0, input_ids.shape[1] :]
        text = self._tokenizer.decode(new_tokens, skip_special_tokens=True)
        latency = time.perf_counter() - start
        return Completion(
            text=str(text),
            prompt_tokens=int(input_ids.shape[1]),
            completion_tokens=int(new_tokens.shape[0]),
            latency_s=latency,
            raw={"output_ids": new_tokens.tolist()},
        )
