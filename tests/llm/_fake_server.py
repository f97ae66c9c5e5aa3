"""A small OpenAI-protocol server on 127.0.0.1 for the LLM tests (http.server, one thread per request).

Each POST to ``/v1/chat/completions`` takes the next *action* from a queue (or the default
handler when the queue is empty) and records the request body. Actions:

* ``("ok", text)``: answer ``text`` as the assistant message.
* ``("status", code, headers)``: an HTTP error with an OpenAI-style error body.
* ``("sleep", seconds)``: wait, then answer the default (the client times out first).
* ``("drop",)``: send headers announcing a long body, half of it, then close the connection.
* ``("refusal", text)``: ``content: null`` and ``refusal: text``.
"""

from __future__ import annotations

import contextlib
import json
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

Action = tuple[Any, ...]


class FakeOpenAIServer:
    def __init__(self, default: Callable[[dict[str, Any]], str]) -> None:
        self.default = default
        self.actions: deque[Action] = deque()
        self.requests: list[dict[str, Any]] = []
        self.served: list[str] = []
        self.lock = threading.Lock()
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
                    action = server.actions.popleft() if server.actions else ("default",)
                    server.served.append(action[0])
                server.handle(self, body, action)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.port = self.httpd.server_address[1]
        self.base_url = f"http://127.0.0.1:{self.port}/v1"
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)

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

    @staticmethod
    def completion(text: str | None, refusal: str | None = None) -> dict[str, Any]:
        message: dict[str, Any] = {"role": "assistant", "content": text}
        if refusal is not None:
            message["refusal"] = refusal
        return {
            "id": "chatcmpl-test",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": "fake",
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": 11, "completion_tokens": 7, "total_tokens": 18},
        }

    def handle(self, handler: BaseHTTPRequestHandler, body: dict[str, Any], action: Action) -> None:
        kind = action[0]
        if kind == "ok":
            self._send_json(handler, 200, self.completion(action[1]))
        elif kind == "refusal":
            self._send_json(handler, 200, self.completion(None, refusal=action[1]))
        elif kind == "status":
            code, headers = action[1], (action[2] if len(action) > 2 else {})
            error = {"error": {"message": f"injected HTTP {code}", "type": "injected", "code": code}}
            self._send_json(handler, code, error, headers)
        elif kind == "sleep":
            time.sleep(action[1])
            with contextlib.suppress(OSError):
                self._send_json(handler, 200, self.completion(self.default(body)))
        elif kind == "drop":
            data = json.dumps(self.completion(self.default(body))).encode()
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
            self._send_json(handler, 200, self.completion(self.default(body)))
