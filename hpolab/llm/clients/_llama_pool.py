"""One loaded llama.cpp model per process, closed at exit, and prompt-prefix states kept on disk.

:func:`shared_model` loads a GGUF file once per process for each set of ``llama_cpp.Llama``
arguments: every :class:`~hpolab.llm.LlamaCppClient` built on the same file and arguments (every
study, run and worker of the process) shares it, so llama.cpp's cache of the last prompt (it reuses
the longest common token prefix of the next prompt) carries over from one run to the next.
:func:`close_models` closes them; it runs at interpreter exit (``atexit``), before the modules are
torn down, so llama.cpp's own finalizers find nothing left to free.

:class:`PrefixStateCache` keeps the model's state after a prompt prefix (its key/value cache) in
files, keyed by the model file (path, size, modification time and the arguments that shape the
state) and the prefix's tokens, so that a new process reads a known prefix from disk instead of
computing it again.
"""

from __future__ import annotations

import atexit
import hashlib
import json
import logging
import os
import struct
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "CACHE_ENV",
    "DEFAULT_CACHE_MB",
    "PrefixStateCache",
    "SharedModel",
    "close_models",
    "default_cache_dir",
    "loaded_models",
    "shared_model",
]

_logger = logging.getLogger("hpolab.llm.llamacpp")

#: Environment variable naming the directory of prompt-prefix states (``0``, ``off`` or ``none`` disables them).
CACHE_ENV = "HPOLAB_LLM_CACHE"
#: Default bound on the prefix-state directory, in megabytes.
DEFAULT_CACHE_MB = 512
_OFF = ("0", "off", "none", "false", "no")
_MAGIC = b"HPOLABKV1\n"
# llama.Llama arguments that do not change the model's state, so they are not part of a state's key
_STATE_NEUTRAL = ("n_threads", "n_threads_batch", "verbose", "seed")


@dataclass
class SharedModel:
    """A loaded ``llama_cpp.Llama`` and what its users share with it.

    Attributes:
        llama: The model.
        lock: Held by every call that uses ``llama`` (llama.cpp's context is not thread-safe).
        identity: The model file and the state-shaping arguments, as text (the key of its disk states).
        formatter: Renders chat messages to the prompt text (the GGUF file's chat template), or
            ``None`` when the model uses another chat format.
        last_prompt: The tokens of the last prompt the model read.
    """

    llama: Any
    lock: threading.Lock
    identity: str
    formatter: Any = None
    last_prompt: list[int] = field(default_factory=list)

    def prompt_tokens(self, messages: Sequence[Mapping[str, Any]]) -> list[int] | None:
        """The tokens ``create_chat_completion`` would read for ``messages`` (``None`` without a formatter)."""
        if self.formatter is None:
            return None
        result = self.formatter(messages=[dict(m) for m in messages])
        return list(self.llama.tokenize(result.prompt.encode("utf-8"), add_bos=not result.added_special, special=True))


_MODELS: dict[tuple[Any, ...], SharedModel] = {}
_POOL_LOCK = threading.Lock()


def _model_key(path: Path, kwargs: Mapping[str, Any]) -> tuple[Any, ...]:
    return (str(path.resolve()), tuple(sorted((str(k), repr(v)) for k, v in kwargs.items())))


def _identity(path: Path, kwargs: Mapping[str, Any]) -> str:
    stat = path.stat()
    shaping = {str(k): repr(v) for k, v in sorted(kwargs.items()) if k not in _STATE_NEUTRAL}
    return json.dumps([str(path.resolve()), stat.st_size, stat.st_mtime_ns, shaping], sort_keys=True)


def _formatter(llama: Any) -> Any:
    """The chat formatter ``create_chat_completion`` uses when the format is the GGUF file's own template."""
    if llama.chat_handler is not None or llama.chat_format != "chat_template.default":
        return None
    template = llama.metadata.get("tokenizer.chat_template")
    if not template:
        return None
    from llama_cpp import llama_chat_format

    def token_text(token: int) -> str:
        return llama._model.token_get_text(token) if token != -1 else ""

    eos = llama.token_eos()
    return llama_chat_format.Jinja2ChatFormatter(
        template=template, eos_token=token_text(eos), bos_token=token_text(llama.token_bos()), stop_token_ids=[eos]
    )


def shared_model(path: Path, kwargs: Mapping[str, Any]) -> SharedModel:
    """The process's model loaded from ``path`` with ``llama_cpp.Llama`` arguments ``kwargs`` (loaded at first use).

    Args:
        path: A GGUF file.
        kwargs: The ``Llama`` arguments; models with other arguments are loaded apart.
    """
    from llama_cpp import Llama

    key = _model_key(path, kwargs)
    with _POOL_LOCK:
        model = _MODELS.get(key)
        if model is None:
            llama = Llama(model_path=str(path), **dict(kwargs))
            model = SharedModel(llama, threading.Lock(), _identity(path, kwargs), _formatter(llama))
            _MODELS[key] = model
        return model


def loaded_models() -> int:
    """How many models the process holds loaded."""
    with _POOL_LOCK:
        return len(_MODELS)


def close_models() -> int:
    """Close every shared model now (their users must not call them afterwards); returns how many."""
    with _POOL_LOCK:
        models = list(_MODELS.values())
        _MODELS.clear()
    for model in models:
        with model.lock:
            # the sampler of the last generation is not closed by Llama.close(); left to the garbage
            # collector at interpreter exit its finalizer calls into an unloaded library
            model.llama._sampler = None
            model.llama.close()
    return len(models)


atexit.register(close_models)


def default_cache_dir() -> Path | None:
    """The directory of prompt-prefix states: ``HPOLAB_LLM_CACHE`` if set, else the user cache directory.

    Returns ``None`` when ``HPOLAB_LLM_CACHE`` is ``0``, ``off``, ``none``, ``false`` or ``no``.
    """
    value = os.environ.get(CACHE_ENV)
    if value is not None and value.strip():
        return None if value.strip().lower() in _OFF else Path(value).expanduser()
    import platformdirs

    return Path(platformdirs.user_cache_dir("hpolab")) / "llm-prefix"


def _digest(identity: str, tokens: Sequence[int]) -> str:
    h = hashlib.sha256(identity.encode("utf-8"))
    h.update(struct.pack(f"<{len(tokens)}i", *tokens))
    return h.hexdigest()[:32]


class PrefixStateCache:
    """Model states after prompt prefixes, one file each, in a directory bounded in size.

    A file holds the llama.cpp state (the key/value cache) after its prefix's tokens; its name is
    ``<model>-<n tokens>-<hash of model and tokens>.kv``, so finding the longest stored prefix of a
    prompt reads no file. Files are written atomically (several processes may share the
    directory); when the directory passes ``max_mb`` the least recently used files are deleted.

    Args:
        directory: Where the files live (created when needed).
        max_mb: Most megabytes the files may take together.
    """

    SUFFIX = ".kv"

    def __init__(self, directory: str | os.PathLike[str], max_mb: float = DEFAULT_CACHE_MB) -> None:
        if isinstance(max_mb, bool) or not float(max_mb) > 0:
            raise ValueError(f"max_mb: {max_mb!r} must be a positive number of megabytes")
        self.directory = Path(directory).expanduser()
        self.max_bytes = int(float(max_mb) * 2**20)
        #: ``hits``, ``misses``, ``saved`` and ``evicted``.
        self.stats: dict[str, int] = {"hits": 0, "misses": 0, "saved": 0, "evicted": 0}

    def __repr__(self) -> str:
        return f"PrefixStateCache({str(self.directory)!r}, max_mb={self.max_bytes / 2**20:g})"

    @staticmethod
    def model_tag(identity: str) -> str:
        """The short hash of a model identity that starts its files' names."""
        return hashlib.sha256(identity.encode("utf-8")).hexdigest()[:16]

    def _entries(self, identity: str) -> list[tuple[int, str, Path]]:
        tag = self.model_tag(identity)
        out: list[tuple[int, str, Path]] = []
        try:
            files = list(self.directory.glob(f"{tag}-*{self.SUFFIX}"))
        except OSError:
            return out
        for file in files:
            parts = file.name[: -len(self.SUFFIX)].split("-")
            if len(parts) == 3 and parts[1].isdigit():
                out.append((int(parts[1]), parts[2], file))
        return out

    def longest(self, identity: str, tokens: Sequence[int]) -> tuple[int, Path] | None:
        """The longest stored prefix of ``tokens`` (shorter than ``tokens``): its length and file, or ``None``."""
        best: tuple[int, Path] | None = None
        for n, digest, file in self._entries(identity):
            if n < len(tokens) and (best is None or n > best[0]) and _digest(identity, tokens[:n]) == digest:
                best = (n, file)
        return best

    def load(self, llama: Any, identity: str, tokens: Sequence[int]) -> int:
        """Put the longest stored prefix of ``tokens`` into ``llama``; returns its length (0 when none)."""
        found = self.longest(identity, tokens)
        if found is None:
            self.stats["misses"] += 1
            return 0
        n, file = found
        try:
            data = file.read_bytes()
            if not data.startswith(_MAGIC):
                raise ValueError("not a prefix-state file")
            (size,) = struct.unpack("<Q", data[len(_MAGIC) : len(_MAGIC) + 8])
            state = data[len(_MAGIC) + 8 :]
            if len(state) != size:
                raise ValueError(f"truncated: {len(state)} of {size} bytes")
            _set_state(llama, tokens[:n], state)
            os.utime(file)
        except (OSError, ValueError, RuntimeError) as exc:
            _logger.warning("prefix state %s not loaded (%s); it is deleted", file.name, exc)
            file.unlink(missing_ok=True)
            llama.reset()
            self.stats["misses"] += 1
            return 0
        self.stats["hits"] += 1
        return n

    def save(self, llama: Any, identity: str, n: int) -> Path:
        """Store ``llama``'s state after its first ``n`` tokens (the rest of its cache is dropped first)."""
        tokens = [int(t) for t in llama.input_ids[:n]]
        llama.n_tokens = n
        llama._ctx.kv_cache_seq_rm(-1, n, -1)
        state = _get_state(llama)
        self.directory.mkdir(parents=True, exist_ok=True)
        file = self.directory / f"{self.model_tag(identity)}-{n}-{_digest(identity, tokens)}{self.SUFFIX}"
        tmp = file.with_name(f".{file.name}.{os.getpid()}.{threading.get_ident()}.tmp")
        tmp.write_bytes(_MAGIC + struct.pack("<Q", len(state)) + state)
        os.replace(tmp, file)
        self.stats["saved"] += 1
        self._bound()
        return file

    def _bound(self) -> None:
        """Delete the least recently used files while the directory holds more than ``max_bytes``."""
        try:
            files = [(f.stat().st_mtime, f.stat().st_size, f) for f in self.directory.glob(f"*{self.SUFFIX}")]
        except OSError:
            return
        total = sum(size for _, size, _ in files)
        for _, size, file in sorted(files, key=lambda item: item[0]):
            if total <= self.max_bytes:
                break
            file.unlink(missing_ok=True)
            total -= size
            self.stats["evicted"] += 1

    def clear(self) -> int:
        """Delete every stored state; returns how many files were deleted."""
        n = 0
        for file in self.directory.glob(f"*{self.SUFFIX}"):
            file.unlink(missing_ok=True)
            n += 1
        return n


def _get_state(llama: Any) -> bytes:
    import ctypes

    import llama_cpp

    ctx = llama._ctx.ctx
    size = int(llama_cpp.llama_get_state_size(ctx))
    buffer = (ctypes.c_uint8 * size)()
    n = int(llama_cpp.llama_copy_state_data(ctx, buffer))
    if n > size:
        raise RuntimeError("llama.cpp wrote more state than it announced")
    return ctypes.string_at(buffer, n)


def _set_state(llama: Any, tokens: Sequence[int], state: bytes) -> None:
    import ctypes

    import llama_cpp

    buffer = (ctypes.c_uint8 * len(state)).from_buffer_copy(state)
    if int(llama_cpp.llama_set_state_data(llama._ctx.ctx, buffer)) != len(state):
        raise RuntimeError("llama.cpp did not read the whole state")
    llama.input_ids[: len(tokens)] = tokens
    llama.n_tokens = len(tokens)
