"""A local OpenAI-compatible mock server (loopback only) for tests and benchmarks.

It answers `POST /v1/chat/completions` like a real endpoint, with role-valid replies from the
scripted fakes, an optional fixed latency, and injected faults: 429 with Retry-After, 500,
timeouts, malformed JSON bodies and truncated replies. `structured` says which way of asking for
structured output it takes, as real servers differ: `json_schema` (vLLM, OpenAI: takes every
way), `json_object` (llama.cpp's server: 422 on json_schema, takes json_object with a schema),
`function_calling` (400 on any response_format, takes tools), `prompt` (400 on response_format
and on tools: the schema must be in the prompt). `status` answers every request with that HTTP
status (401, 404, ...), to test permanent errors (health checks included).

`GET /v1/models` lists one model and `GET /health` answers 200: what health checks call. Every chat
request is recorded in `requests` (its sampling seed, which names the episode, and a hash of its
system prompt), so tests can tell which episode each call came from. `python -m
humanllm.testing.mock_server` runs it from a shell.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import random
import threading
import time
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Literal

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

from humanllm.testing._roles import TextReply, role_reply

Fault = Literal["429", "500", "timeout", "malformed", "truncated"]
FAULTS: tuple[Fault, ...] = ("429", "500", "timeout", "malformed", "truncated")
Structured = Literal["json_schema", "json_object", "function_calling", "prompt"]
_LLAMA_CPP_422 = (
    b'{"detail": [{"type": "literal_error", "loc": ["body", "response_format", "type"], '
    b'"msg": "Input should be \'text\' or \'json_object\'", "input": "json_schema"}]}'
)
_SCHEMA_MARK = "valid against this JSON schema:"


def _schema_in_prompt(messages: list[BaseMessage]) -> dict[str, Any] | None:
    """The JSON schema a `prompt`-method request carries in its last message, if any."""
    text = messages[-1].text if messages else ""
    if _SCHEMA_MARK not in text:
        return None
    try:
        schema = json.loads(text.split(_SCHEMA_MARK, 1)[1].strip())
    except json.JSONDecodeError:
        return None
    return schema if isinstance(schema, dict) else None


@dataclass(frozen=True)
class SeenRequest:
    """What the server keeps of one chat request: enough to tell which episode sent it."""

    seed: int | None
    """The request's sampling seed (humanllm sends the episode's own seed with every call)."""
    system: str
    """A short hash of the first system message ('' when there is none)."""


def _seen(request: dict[str, Any]) -> SeenRequest:
    messages = request.get("messages") or []
    system = next((str(m.get("content") or "") for m in messages if m.get("role") == "system"), None)
    digest = hashlib.sha1(system.encode()).hexdigest()[:12] if system is not None else ""
    seed = request.get("seed")
    return SeenRequest(seed=seed if isinstance(seed, int) else None, system=digest)


def _messages(raw: list[dict[str, Any]]) -> list[BaseMessage]:
    kinds = {"system": SystemMessage, "assistant": AIMessage}
    return [kinds.get(m.get("role", "user"), HumanMessage)(content=m.get("content") or "") for m in raw]


class _QuietServer(ThreadingHTTPServer):
    """Does not print a traceback when a client drops its connection (normal at shutdown)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if isinstance(sys.exc_info()[1], ConnectionError):
            return
        super().handle_error(request, client_address)


class MockOpenAIServer:
    """Run with `with MockOpenAIServer(...) as server:` and point `--base-url` at `server.base_url`."""

    def __init__(
        self,
        *,
        latency_s: float = 0.0,
        fault_rate: float = 0.0,
        faults: tuple[Fault, ...] = FAULTS,
        fault_rates: dict[Fault, float] | None = None,
        timeout_sleep_s: float = 3.0,
        seed: int = 0,
        reply: TextReply = role_reply,
        structured: Structured = "json_schema",
        status: int | None = None,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        """`fault_rates` (kind -> probability, summing to at most 1) replaces `fault_rate` and `faults`."""
        if fault_rates is not None and sum(fault_rates.values()) > 1:
            raise ValueError("the fault rates add up to more than 1")
        self.latency_s = latency_s
        self.fault_rate = fault_rate
        self.faults = faults
        self.fault_rates = dict(fault_rates or {})
        self.timeout_sleep_s = timeout_sleep_s
        self.reply = reply
        self.structured = structured
        self.status = status
        self.counts: Counter[str] = Counter()
        self.requests: list[SeenRequest] = []
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._server = _QuietServer((host, port), self._handler())
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def base_url(self) -> str:
        host, port = self._server.server_address[:2]
        name = host.decode() if isinstance(host, bytes) else str(host)
        return f"http://{name}:{port}/v1"

    def __enter__(self) -> MockOpenAIServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._server.shutdown()
        self._server.server_close()

    def rejection(self, request: dict[str, Any]) -> tuple[int, bytes] | None:
        """The status and body a server of this kind answers to the request's structured-output ask."""
        fmt = request.get("response_format")
        kind = fmt.get("type") if isinstance(fmt, dict) else None
        if self.structured == "json_object" and kind == "json_schema":
            return 422, _LLAMA_CPP_422
        if self.structured in ("function_calling", "prompt") and kind in ("json_schema", "json_object"):
            return 400, b'{"error": {"message": "response_format is not supported by this server"}}'
        if self.structured == "prompt" and request.get("tools"):
            return 400, b'{"error": {"message": "tools are not supported by this server"}}'
        return None

    def _pick_fault(self) -> Fault | None:
        with self._lock:
            self.counts["requests"] += 1
            if self.fault_rates:
                draw, edge = self._rng.random(), 0.0
                for fault, rate in self.fault_rates.items():
                    edge += rate
                    if draw < edge:
                        self.counts[fault] += 1
                        return fault
                return None
            if self._rng.random() < self.fault_rate:
                fault = self._rng.choice(self.faults)
                self.counts[fault] += 1
                return fault
            return None

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        server = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            disable_nagle_algorithm = True  # else headers and body wait on delayed ACKs (~40 ms)

            def log_message(self, format: str, *args: Any) -> None:  # quiet
                return

            def _send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                # the client may have given up (an injected timeout): nothing left to answer
                with contextlib.suppress(BrokenPipeError, ConnectionResetError):
                    self.wfile.write(body)

            def do_GET(self) -> None:
                with server._lock:
                    server.counts["health checks"] += 1
                if server.status is not None:
                    return self._send(server.status, b'{"error": {"message": "mock status"}}')
                path = self.path.split("?", 1)[0].rstrip("/")
                if path == "/v1/models":
                    model = {"id": "mock", "object": "model", "created": 0, "owned_by": "humanllm"}
                    return self._send(200, json.dumps({"object": "list", "data": [model]}).encode())
                if path == "/health":
                    return self._send(200, b'{"status": "ok"}')
                self._send(404, b'{"error": {"message": "no such route"}}')

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length", 0))
                request = json.loads(self.rfile.read(length) or b"{}")
                with server._lock:
                    server.requests.append(_seen(request))
                if server.latency_s:
                    time.sleep(server.latency_s)
                if server.status is not None:
                    with server._lock:
                        server.counts["requests"] += 1
                    return self._send(server.status, b'{"error": {"message": "mock status"}}')
                rejected = server.rejection(request)
                if rejected is not None:
                    with server._lock:
                        server.counts["requests"] += 1
                        server.counts[f"rejected {server.structured}"] += 1
                    return self._send(*rejected)
                fault = server._pick_fault()
                if fault == "429":
                    return self._send(429, b'{"error": {"message": "rate limited"}}', {"Retry-After": "0"})
                if fault == "500":
                    return self._send(500, b'{"error": {"message": "internal error"}}')
                if fault == "timeout":
                    time.sleep(server.timeout_sleep_s)
                if fault == "malformed":
                    return self._send(200, b'{"id": "x", "choices": [ {"message": ')
                messages = _messages(request.get("messages", []))
                tools = request.get("tools") or []
                fmt = request.get("response_format")
                if tools:
                    schema = tools[0]["function"]["parameters"]
                    fmt = {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}
                elif fmt is None and (schema := _schema_in_prompt(messages)) is not None:
                    fmt = {"type": "json_schema", "json_schema": {"name": "reply", "schema": schema}}
                text = server.reply(messages, {"response_format": fmt})
                if fault == "truncated":
                    text = text[: max(1, len(text) // 2)]
                prompt = sum(len(m.text.split()) for m in messages)
                completion = len(text.split())
                message: dict[str, Any] = {"role": "assistant", "content": text}
                if tools:
                    call = {"name": tools[0]["function"]["name"], "arguments": text}
                    message = {
                        "role": "assistant",
                        "content": None,
                        "tool_calls": [{"id": "call-mock", "type": "function", "function": call}],
                    }
                body = {
                    "id": "chatcmpl-mock",
                    "object": "chat.completion",
                    "created": 0,
                    "model": request.get("model", "mock"),
                    "choices": [{"index": 0, "message": message, "finish_reason": "tool_calls" if tools else "stop"}],
                    "usage": {
                        "prompt_tokens": prompt,
                        "completion_tokens": completion,
                        "total_tokens": prompt + completion,
                    },
                }
                self._send(200, json.dumps(body).encode())

        return Handler
