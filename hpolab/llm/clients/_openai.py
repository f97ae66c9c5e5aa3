"""OpenAIClient: any OpenAI-compatible chat-completions server through the ``openai`` SDK."""

from __future__ import annotations

import json
import logging
import math
import os
import sys
import threading
import time
from collections.abc import Mapping, Sequence
from typing import Any, cast

from hpolab.llm.clients._base import (
    Completion,
    CostLimitReached,
    LLMClientError,
    Message,
    attach_images,
    check_temperature,
    short_error,
)
from hpolab.llm.clients._ratelimit import RateLimiter, RateLimitError
from hpolab.llm.clients._usage import LLMUsage, Pricing, PricingLike, resolve_pricing

__all__ = ["OpenAIClient"]

_logger = logging.getLogger("hpolab.llm.client")

#: HTTP statuses the SDK retries (408, 409, 429 and every 5xx); a final one is marked retryable.
_TRANSIENT = frozenset({408, 409, 429, 500, 502, 503, 504})
#: Marks a request whose ``response_format`` is being tried; the transport removes it before sending.
_PROBE_HEADER = "x-hpolab-format-probe"
#: Headers that describe the body as sent (the transport hands the SDK the decoded body).
_BODY_HEADERS = frozenset({"content-encoding", "content-length", "transfer-encoding"})
#: Tokens counted for one attached image by the rate limiter's estimate (an upper bound at low detail).
_IMAGE_TOKENS = 1_000


def _http_module(openai: Any) -> Any:
    """The HTTP package (``httpx`` or ``httpx2``) the installed openai SDK is built on."""
    for cls in type.mro(openai.DefaultHttpxClient):
        top = cls.__module__.split(".")[0]
        if top.startswith("httpx"):
            return sys.modules[top]
    raise ImportError("openai.DefaultHttpxClient is not an httpx client; this openai version is not supported")


class _Transport:
    """The HTTP transport under the SDK: one :meth:`handle_request` per attempt, retries included.

    It waits for the client's rate limiter before each attempt, counts attempts and failures
    for the call in progress, reads the token use of each answer (to settle the limiter), and
    tells the SDK not to retry an HTTP 500 answer to a ``response_format`` being tried (llama.cpp's
    server answers 500 to a format it does not know; the client then tries the next format).
    """

    def __init__(self, http: Any, owner: OpenAIClient) -> None:
        self._http = http
        self._inner = http.HTTPTransport()
        self._owner = owner

    def __enter__(self) -> _Transport:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()

    def close(self) -> None:
        self._inner.close()

    def handle_request(self, request: Any) -> Any:
        owner = self._owner
        probe = _PROBE_HEADER in request.headers
        if probe:
            del request.headers[_PROBE_HEADER]
        limiter = owner.rate_limiter
        reservation = limiter.acquire(owner._estimate_tokens(request)) if limiter is not None else None

        def settle(tokens: int | None = None) -> None:
            if limiter is not None and reservation is not None:
                limiter.settle(reservation, tokens)

        owner._attempt()
        try:
            response = self._inner.handle_request(request)
            json_body = "json" in response.headers.get("content-type", "")
            content = response.read() if json_body else b""  # a connection dropped mid-answer fails here
        except self._http.TimeoutException:
            owner._failure("timeout")
            settle()
            raise
        except Exception:
            owner._failure("connection")
            settle()
            raise
        status = int(response.status_code)
        if status >= 400:
            owner._failure(f"http_{status}")
            settle()
        else:
            settle(owner._record_tokens(request, content) if json_body else None)
        marked = probe and status == 500
        if not json_body and not marked:
            return response
        if not json_body:
            content = response.read()
        # the body is read (and decoded): hand the SDK a copy without the encoding headers, marked if need be
        headers = [(k, v) for k, v in response.headers.multi_items() if k.lower() not in _BODY_HEADERS]
        if marked:
            headers.append(("x-should-retry", "false"))
        return self._http.Response(
            status, headers=headers, content=content, extensions=response.extensions, request=request
        )


class OpenAIClient:
    """Any OpenAI-compatible chat-completions server, through the ``openai`` SDK.

    Retries and timeouts are the SDK's own (``max_retries``, ``timeout``): it retries HTTP 408,
    409, 429 and 5xx answers, timeouts and dropped connections with exponential backoff and
    jitter, and waits what a ``Retry-After`` header says (within the SDK's cap). What happened on
    the wire is counted in :attr:`stats`: ``requests`` (HTTP attempts), ``retry_<cause>`` for each
    failed attempt that was tried again (``retry_http_429``, ``retry_timeout``,
    ``retry_connection``, ...), ``format_fallback_<format>``.

    Structured output: the first request tries ``response_format={"type": "json_schema", ...}``
    (OpenAI, vLLM, recent llama.cpp); if the server rejects it (HTTP 4xx other than 408 / 409 /
    429, or a 500 before that format ever worked: llama-cpp-python's server answers 500) the
    client falls back to ``{"type": "json_object", "schema": ...}`` (llama-cpp-python's server),
    then to plain text, and remembers the first format that worked for later requests
    (:attr:`structured_mode`).

    Hosted models, priced and paced: with ``pricing`` every answer's ``cost`` is its tokens at
    that price (the server's reported usage), :attr:`usage` sums them, and with ``max_cost`` no
    request starts once that much is spent: :meth:`complete` raises :class:`CostLimitReached`,
    which stops a study cleanly (the bill exceeds ``max_cost`` by at most the requests already
    running). ``requests_per_minute`` / ``tokens_per_minute`` (or a shared ``rate_limiter``) make
    every HTTP attempt, retries included, wait until it fits the limits (see
    :class:`~hpolab.llm.RateLimiter`; the limits are per process).

    The API key comes from ``api_key`` or the ``OPENAI_API_KEY`` environment variable; it is
    handed to the SDK only, never logged, stored on this object or shown in its repr, and cut
    out of error messages.

    Args:
        model: Model name the server knows (e.g. ``"gpt-4o-mini"``, a vLLM / Ollama model tag).
        base_url: Server URL ending in ``/v1``; ``None`` for OpenAI's own API.
        api_key: The key; ``None`` reads ``OPENAI_API_KEY`` (local servers accept any value).
        timeout_s: Seconds before one attempt times out.
        max_retries: Retries after the first attempt (the SDK's).
        supports_images: Whether the model is vision-capable (set it for vision models).
        structured_output: ``"auto"`` (the fallback chain above), ``"json_schema"``, ``"json_object"``
            or ``"text"`` (never send ``response_format``).
        extra_body: Extra fields sent with every request (server-specific options).
        pricing: The model's price (:class:`~hpolab.llm.Pricing`, a ``(prompt_per_1k,
            completion_per_1k)`` pair) or a table ``{model name: price}``; ``None`` for no cost.
        max_cost: Stop sending requests once this much is spent (needs ``pricing``), counting
            :attr:`prior_cost`: an LLM optimizer that resumes a study, or joins it as a worker,
            starts from what the study's trials record as spent.
        requests_per_minute: Most HTTP requests per minute from this client.
        tokens_per_minute: Most tokens (prompt plus completion) per minute from this client.
        rate_limiter: A limiter to share between clients (instead of the two limits above).
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
        supports_images: bool = False,
        structured_output: str = "auto",
        extra_body: Mapping[str, Any] | None = None,
        pricing: PricingLike | Mapping[str, PricingLike] | None = None,
        max_cost: float | None = None,
        requests_per_minute: int | None = None,
        tokens_per_minute: int | None = None,
        rate_limiter: RateLimiter | None = None,
    ) -> None:
        try:
            import openai
        except ImportError as exc:  # pragma: no cover - depends on the environment
            raise ImportError('OpenAIClient needs the openai SDK: pip install "hpolab[llm]"') from exc
        if not model or not isinstance(model, str):
            raise ValueError(f"model: {model!r} must be a non-empty model name")
        if not (isinstance(timeout_s, (int, float)) and timeout_s > 0):
            raise ValueError(f"timeout_s: {timeout_s!r} must be positive")
        if isinstance(max_retries, bool) or not isinstance(max_retries, int) or max_retries < 0:
            raise ValueError(f"max_retries: {max_retries!r} must be an int >= 0")
        if structured_output not in ("auto", *self._MODES):
            raise ValueError(f"structured_output: {structured_output!r} is not auto, json_schema, json_object or text")
        self.pricing: Pricing | None = resolve_pricing(model, pricing)
        if max_cost is not None:
            if not (isinstance(max_cost, (int, float)) and math.isfinite(max_cost) and max_cost > 0):
                raise ValueError(f"max_cost: {max_cost!r} must be a positive number")
            if self.pricing is None:
                raise ValueError(
                    "max_cost: a cost limit needs prices; pass pricing=Pricing(prompt_per_1k, completion_per_1k)"
                )
        if rate_limiter is not None and (requests_per_minute is not None or tokens_per_minute is not None):
            raise ValueError("rate_limiter: give either rate_limiter= or requests_per_minute= / tokens_per_minute=")
        if rate_limiter is None and (requests_per_minute is not None or tokens_per_minute is not None):
            rate_limiter = RateLimiter(requests_per_minute, tokens_per_minute)
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
        self.supports_images = bool(supports_images)
        self.name = f"openai:{model}"
        self.max_cost = None if max_cost is None else float(max_cost)
        #: What the study spent before this client (its earlier processes and other workers, from the
        #: usage stored with its trials); counted against ``max_cost``. The LLM optimizers set it.
        self.prior_cost = 0.0
        self.rate_limiter = rate_limiter
        self._forced_mode = None if structured_output == "auto" else structured_output
        self._working_mode: str | None = self._forced_mode
        self._extra_body = dict(extra_body or {})
        self._openai = openai
        self._lock = threading.Lock()
        self._local = threading.local()
        self._usage = LLMUsage()
        #: Most prompt tokens per character seen in an answer (the rate limiter's estimate; None before the first).
        self._tokens_per_char: float | None = None
        #: Counters of what happened on the wire (see the class docstring).
        self.stats: dict[str, int] = {}
        http = _http_module(openai)
        self._client = openai.OpenAI(
            base_url=base_url,
            api_key=key,
            timeout=self.timeout_s,
            max_retries=self.max_retries,
            http_client=openai.DefaultHttpxClient(transport=cast(Any, _Transport(http, self))),
        )

    # ------------------------------------------------------------------ state
    @property
    def structured_mode(self) -> str | None:
        """The ``response_format`` kind that worked (``None`` until a structured request succeeded)."""
        return self._working_mode

    @property
    def usage(self) -> LLMUsage:
        """Tokens, latency and cost of every answer so far (cost ``None`` without ``pricing``)."""
        with self._lock:
            return self._usage

    @property
    def spent(self) -> float:
        """The cost of every answer so far (0 without ``pricing``)."""
        return self.usage.cost or 0.0

    def __repr__(self) -> str:
        return f"OpenAIClient(model={self.model!r}, base_url={self.base_url!r}, structured_mode={self._working_mode!r})"

    def __deepcopy__(self, memo: dict[int, Any]) -> OpenAIClient:
        # a client is a connection: copies of an optimizer (other workers' in this process) share it
        return self

    def __getstate__(self) -> dict[str, Any]:
        raise TypeError("OpenAIClient cannot be pickled (it holds a connection and a key); build one per process")

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self.stats[key] = self.stats.get(key, 0) + n

    def _redact(self, text: str) -> str:
        key = str(getattr(self._client, "api_key", "") or "")
        return text.replace(key, "***") if len(key) >= 4 else text

    # ------------------------------------------------------------------ called by the transport
    def _attempt(self) -> None:
        self._count("requests")
        self._local.attempts = getattr(self._local, "attempts", 0) + 1

    def _failure(self, kind: str) -> None:
        failures = getattr(self._local, "failures", None)
        if failures is not None:
            failures.append(kind)

    @staticmethod
    def _prompt_chars(body: Mapping[str, Any]) -> tuple[int, int]:
        chars, images = 0, 0
        for message in body.get("messages") or []:
            content = message.get("content") if isinstance(message, Mapping) else None
            if isinstance(content, str):
                chars += len(content)
            elif isinstance(content, list):
                for part in content:
                    if isinstance(part, Mapping) and part.get("type") == "image_url":
                        images += 1
                    elif isinstance(part, Mapping):
                        chars += len(str(part.get("text") or ""))
        return chars, images

    def _estimate_tokens(self, request: Any) -> int:
        """Tokens the rate limiter reserves for one HTTP attempt."""
        try:
            body = json.loads(request.content or b"{}")
        except (ValueError, UnicodeDecodeError):
            return 0
        return self._estimate_body_tokens(body)

    def _estimate_body_tokens(self, body: Mapping[str, Any]) -> int:
        """A request's tokens as the rate limiter counts them: the prompt, estimated high, plus ``max_tokens``."""
        chars, images = self._prompt_chars(body)
        n_messages = len(body.get("messages") or [])
        # before the first answer, two characters a token (tokenizers average three to four); then the most
        # tokens per character seen so far, plus 10%
        ratio = 0.5 if self._tokens_per_char is None else self._tokens_per_char * 1.1
        prompt = math.ceil(chars * ratio) + 8 * n_messages + 16 + _IMAGE_TOKENS * images
        completion = int(body.get("max_completion_tokens") or body.get("max_tokens") or 4096)
        return prompt + completion

    def _record_tokens(self, request: Any, content: bytes) -> int | None:
        """The token use the server reported in an answer (and what it teaches about the estimate)."""
        try:
            usage = json.loads(content).get("usage") or {}
            prompt = int(usage.get("prompt_tokens") or 0)
            completion = int(usage.get("completion_tokens") or 0)
        except (ValueError, AttributeError, TypeError):
            return None
        try:
            chars, _ = self._prompt_chars(json.loads(request.content or b"{}"))
        except (ValueError, UnicodeDecodeError):
            chars = 0
        if chars > 0 and prompt > 0:
            with self._lock:
                self._tokens_per_char = max(self._tokens_per_char or 0.0, prompt / chars)
        return prompt + completion

    # ------------------------------------------------------------------ requests
    def _response_format(self, mode: str, schema: Mapping[str, Any]) -> dict[str, Any] | None:
        if mode == "json_schema":
            return {"type": "json_schema", "json_schema": {"name": "config", "schema": dict(schema), "strict": False}}
        if mode == "json_object":
            return {"type": "json_object", "schema": dict(schema)}
        return None

    def _check_budget(self) -> None:
        if self.max_cost is None:
            return
        spent = self.spent + self.prior_cost
        if spent >= self.max_cost:
            earlier = f" ({self.prior_cost:.6g} of it by the study's earlier processes)" if self.prior_cost else ""
            raise CostLimitReached(
                f"{self.name}: {spent:.6g} spent{earlier} of max_cost={self.max_cost:.6g}; no further request is "
                "sent (raise max_cost to go on)",
                spent=spent,
                max_cost=self.max_cost,
            )

    def _count_retries(self, failures: list[str], final_failed: bool) -> None:
        retried = failures[:-1] if final_failed else failures
        for kind in retried:
            self._count(f"retry_{kind}")
            _logger.warning("%s: %s, retried by the SDK", self.name, kind.replace("_", " "))

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
        temperature = check_temperature(temperature)
        self._check_budget()
        payload = attach_images(messages, images)
        limiter = self.rate_limiter
        if limiter is not None and limiter.tokens_per_minute is not None:
            needed = self._estimate_body_tokens({"messages": payload, "max_tokens": int(max_tokens)})
            if needed > limiter.tokens_per_minute:  # fail here, before the SDK could take it for a transport error
                raise RateLimitError(
                    f"{self.name}: one request needs up to {needed} tokens, above tokens_per_minute="
                    f"{limiter.tokens_per_minute}; raise the limit or lower max_tokens"
                )
        start = time.perf_counter()
        if json_schema is None:
            modes: list[str] = ["text"]
        elif self._working_mode is not None:
            modes = list(self._MODES[self._MODES.index(self._working_mode) :])
        else:
            modes = list(self._MODES)
        openai = self._openai
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
            fmt = self._response_format(mode, json_schema) if json_schema is not None else None
            if fmt is not None:
                kwargs["response_format"] = fmt
            probe = fmt is not None and self._forced_mode is None and self._working_mode != mode
            if probe:
                kwargs["extra_headers"] = {_PROBE_HEADER: "1"}
            if self._extra_body:
                kwargs["extra_body"] = self._extra_body
            self._local.attempts = 0
            failures: list[str] = []
            self._local.failures = failures
            try:
                response = self._client.chat.completions.create(**kwargs)
            except openai.APIStatusError as exc:
                status = int(exc.status_code)
                self._count_retries(failures, final_failed=True)
                if probe and (status == 500 or (400 <= status < 500 and status not in (408, 409, 429))):
                    _logger.info(
                        "%s: response_format %s rejected (HTTP %d); trying the next format", self.name, mode, status
                    )
                    self._count(f"format_fallback_{mode}")
                    modes.pop(0)
                    continue
                raise LLMClientError(
                    f"{self.name}: HTTP {status} after {self._local.attempts} attempt(s): {self._redact(short_error(exc))}",
                    retryable=status in _TRANSIENT,
                ) from None
            except (openai.APIConnectionError, openai.APIResponseValidationError) as exc:
                # APITimeoutError is an APIConnectionError; a dropped connection lands here too.
                self._count_retries(failures, final_failed=True)
                kind = "timeout" if isinstance(exc, openai.APITimeoutError) else "connection"
                raise LLMClientError(
                    f"{self.name}: {kind} error after {self._local.attempts} attempt(s): {self._redact(short_error(exc))}",
                    retryable=True,
                ) from None
            finally:
                self._local.failures = None
            self._count_retries(failures, final_failed=False)
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
        prompt_tokens = int(getattr(usage, "prompt_tokens", 0) or 0)
        completion_tokens = int(getattr(usage, "completion_tokens", 0) or 0)
        cost = self.pricing.cost(prompt_tokens, completion_tokens) if self.pricing is not None else None
        out = Completion(
            text=str(text),
            prompt_tokens=prompt_tokens,
            completion_tokens=completion_tokens,
            latency_s=latency,
            raw=response.model_dump() if hasattr(response, "model_dump") else response,
            cost=cost,
        )
        with self._lock:
            self._usage = self._usage + out.usage
        return out
