"""A small OpenAI-protocol server on 127.0.0.1 for the LLM tests (http.server, one thread per request).

Each POST to ``/v1/chat/completions`` takes the next *action* from a queue (or the default
handler when the queue is empty) and records the request body, its arrival time and its
headers. Actions:

* ``("ok", text)``: answer ``text`` as the assistant message.
* ``("status", code, headers)``: an HTTP error with an OpenAI-style error body.
* ``("sleep", seconds)``: wait, then answer the default (the client times out first).
* ``("drop",)``: send headers announcing a long body, half of it, then close the connection.
* ``("refusal", text)``: ``content: null`` and ``refusal: text``.
* ``("auth_error",)``: HTTP 401 whose message quotes the Authorization header it got (as careless
  servers do), for the tests that the key never leaks.

Token use: ``usage(body, answer) -> (prompt_tokens, completion_tokens)`` (default: 11 and 7).
Rate limits: :meth:`FakeOpenAIServer.throttle` makes the server count requests and tokens over a
sliding window, as providers do, and answer HTTP 429 (with ``Retry-After``) to a request that
would go over; :attr:`throttled` counts those answers.
"""

from __future__ import annotations

import contextlib
import json
import math
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Action = tuple[Any, ...]


def count_tokens(body: dict[str, Any], answer: str) -> tuple[int, int]:
    """A deterministic token count: about four characters a token, four tokens of overhead per message."""
    chars = sum(len(str(m.get("content") or "")) for m in body.get("messages") or [])
    return math.ceil(chars / 4) + 4 * len(body.get("messages") or []), math.ceil(len(answer) / 4) + 1


class FakeOpenAIServer:
    def __init__(
        self,
        default: Callable[[dict[str, Any]], str],
        usage: Callable[[dict[str, Any], str], tuple[int, int]] | None = None,
    ) -> None:
        self.default = default
        self.usage = usage or (lambda body, answer: (11, 7))
        self.actions: deque[Action] = deque()
        self.requests: list[dict[str, Any]] = []
        self.headers: list[dict[str, str]] = []
        self.times: list[float] = []
        self.served: list[str] = []
        self.lock = threading.Lock()
        #: (window_s, most requests, most tokens) of :meth:`throttle`, or None.
        self.limits: tuple[float, int | None, int | None] | None = None
        self.accepted: list[tuple[float, int]] = []
        self.throttled = 0
        #: Most requests and tokens ever inside one window (accepted requests only).
        self.peak: tuple[int, int] = (0, 0)
        #: (prompt_tokens, completion_tokens) of every answer sent with usage.
        self.reported: list[tuple[int, int]] = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                body = json.loads(self.rfile.read(length) or b"{}")
                with server.lock:
                    server.requests.append(body)
                    server.headers.append({k.lower(): v for k, v in self.headers.items()})
                    server.times.append(time.monotonic())
                    action = server.actions.popleft() if server.actions else ("default",)
                    server.served.append(action[0])
                server.handle(self, body, action)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

    def throttle(self, *, window_s: float, requests: int | None = None, tokens: int | None = None) -> None:
        """Answer 429 to a request that would bring the last ``window_s`` seconds over a limit."""
        self.limits = (window_s, requests, tokens)

    def _admit(self, tokens: int) -> bool:
        """Whether a request of ``tokens`` fits the limits now (and count it if so)."""
        if self.limits is None:
            return True
        window_s, max_requests, max_tokens = self.limits
        with self.lock:
            now = time.monotonic()
            self.accepted = [(t, n) for t, n in self.accepted if t > now - window_s]
            used = sum(n for _, n in self.accepted)
            if (max_requests is not None and len(self.accepted) + 1 > max_requests) or (
                max_tokens is not None and used + tokens > max_tokens
            ):
                self.throttled += 1
                return False
            self.accepted.append((now, tokens))
            self.peak = (max(self.peak[0], len(self.accepted)), max(self.peak[1], used + tokens))
            return True

    def __enter__(self) -> FakeOpenAIServer:
        self.thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()

    # ---------------------------------------------------------------- responses
    @staticmethod
    def _send_json(
        handler: BaseHTTPRequestHandler, code: int, payload: dict[str, Any], headers: dict[str, str] | None = None
    ) -> None:
        data = json.dumps(payload).encode()
        handler.send_response(code)
        handler.send_header("Content-Type", "application/json")
        handler.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            handler.send_header(key, value)
        handler.end_headers()
        handler.wfile.write(data)
        handler.wfile.flush()

    def completion(
        self, body: dict[str, Any], text: str | None, refusal: str | None = None, usage: tuple[int, int] | None = None
    ) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if refusal is not None:
            message["refusal"] = refusal
        prompt, completion = usage or self.usage(body, text or refusal or "")
        with self.lock:
            self.reported.append((prompt, completion))
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "fake",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion},
        }

    def handle(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], action: Action) -> None:
        kind = action[0]
        if kind in ("ok", "default"):
            text = action[1] if kind == "ok" else self.default(body)
            usage = self.usage(body, text)
            if not self._admit(sum(usage)):
                error = {"error": {"message": "rate limit reached", "type": "requests", "code": "rate_limit_exceeded"}}
                self._send_json(handler, 429, error, {"Retry-After": "1"})
                return
            self._send_json(handler, 200, self.completion(body, text, usage=usage))
        elif kind == "refusal":
            self._send_json(handler, 200, self.completion(body, None, refusal=action[1]))
        elif kind == "auth_error":
            auth = handler.headers.get("Authorization", "")
            error = {"error": {"message": f"Incorrect API key provided: {auth}", "type": "invalid_request_error"}}
            self._send_json(handler, 401, error)
        elif kind == "status":
            code, headers = action[1], (action[2] if len(action) > 2 else {})
            error = {"error": {"message": f"injected HTTP {code}", "type": "injected", "code": code}}
            self._send_json(handler, code, error, headers)
        elif kind == "sleep":
            time.sleep(action[1])
            with contextlib.suppress(OSError):
                self._send_json(handler, 200, self.completion(body, self.default(body)))
        elif kind == "drop":
            data = json.dumps(self.completion(body, self.default(body))).encode()
            handler.send_response(200)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data[: len(data) // 2])
            handler.wfile.flush()
            handler.connection.shutdown(socket.SHUT_RDWR)
            handler.connection.close()
            handler.close_connection = True
        else:
            raise ValueError(f"unknown action {action!r}")
