"""A small OpenAI-compatible server for tests: scripted replies, every request recorded.

    server = FakeOpenAI().start()          # or the `fake_openai` fixture
    server.add("hello")                    # a reply's text
    server.add(lambda req: "...")          # computed from the request's JSON body
    server.add(429)                        # an HTTP error (retries are tested with these)
    server.add(Error(503, retry_after=0))  # an error with a Retry-After header
    server.add("hi", usage=(100, 20))      # explicit prompt / completion tokens
    ... server.base_url is "http://127.0.0.1:PORT/v1" ...
    server.requests                        # [Request(method, path, headers, body)]
    server.chat_requests                   # only POST /v1/chat/completions

Endpoints: POST /v1/chat/completions (`response_format` json_schema / json_object and
image content parts accepted; nothing is enforced, it is all recorded), GET /v1/models,
POST /v1/audio/speech (answers `speech_wav`). A chat request with no scripted reply left
gets HTTP 400 "fake_openai: no scripted reply left" so a test fails fast and clearly.
Unless given, usage is counted as one token per 4 characters of the messages / reply.
Binds 127.0.0.1 on a free port; nothing here touches the network.
"""

from __future__ import annotations

import collections
import io
import json
import threading
import time
import wave
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest

ReplyBody = str | Callable[[dict], str]

MODEL_ENV_VARS = ("OPENAI_API_KEY", "OPENAI_BASE_URL", "OPENAI_ORG_ID", "OPENAI_PROJECT_ID",
                  "LECTURE_MODEL", "LECTURE_PLANNER_MODEL", "LECTURE_CODER_MODEL", "LECTURE_CRITIC_MODEL",
                  "LECTURE_TIMEOUT", "LECTURE_MAX_RETRIES")


@dataclass(frozen=True)
class Error:
    """A scripted HTTP error answer."""

    status: int
    message: str = "scripted error"
    retry_after: float | None = None


@dataclass(frozen=True)
class Scripted:
    body: ReplyBody | Error
    usage: tuple[int, int] | None = None
    finish_reason: str = "stop"
    delay: float = 0.0


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    body: Any  # parsed JSON, or None

    @property
    def messages(self) -> list[dict]:
        return list((self.body or {}).get("messages", []))

    @property
    def last_user_text(self) -> str:
        """The text of the last user message (text parts joined)."""
        for message in reversed(self.messages):
            if message.get("role") == "user":
                return content_text(message.get("content"))
        return ""

    @property
    def all_text(self) -> str:
        return "\n".join(content_text(m.get("content")) for m in self.messages)


def content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "\n".join(p.get("text", "") for p in content
                         if isinstance(p, dict) and p.get("type") == "text")
    return ""


def silent_wav(seconds: float = 0.1, rate: int = 16000) -> bytes:
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(b"\0\0" * int(seconds * rate))
    return buffer.getvalue()


@dataclass
class FakeOpenAI:
    model_ids: list[str] = field(default_factory=lambda: ["fake-model"])
    speech_wav: bytes = field(default_factory=silent_wav)

    def __post_init__(self) -> None:
        self._queue: collections.deque[Scripted] = collections.deque()
        self._lock = threading.Lock()
        self.requests: list[Request] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ script

    def add(self, *replies: ReplyBody | Error | int, usage: tuple[int, int] | None = None,
            finish_reason: str = "stop", delay: float = 0.0) -> FakeOpenAI:
        """Queue replies, answered in order: text, callable(request_json) -> text,
        an HTTP status (int) or an Error."""
        with self._lock:
            for reply in replies:
                body = Error(reply) if isinstance(reply, int) else reply
                self._queue.append(Scripted(body, usage, finish_reason, delay))
        return self

    @property
    def pending(self) -> int:
        with self._lock:
            return len(self._queue)

    @property
    def chat_requests(self) -> list[Request]:
        return [r for r in self.requests if r.path.endswith("/chat/completions")]

    # ------------------------------------------------------------------ lifecycle

    @property
    def base_url(self) -> str:
        assert self._server is not None, "server not started"
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def start(self) -> FakeOpenAI:
        fake = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:  # keep test output quiet
                pass

            def do_GET(self) -> None:  # noqa: N802
                fake._record(self, None)
                if self.path.rstrip("/").endswith("/models"):
                    data = [{"id": m, "object": "model", "created": 0, "owned_by": "fake"}
                            for m in fake.model_ids]
                    self._json(200, {"object": "list", "data": data})
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("content-length") or 0)
                raw = self.rfile.read(length) if length else b""
                try:
                    body = json.loads(raw) if raw else None
                except json.JSONDecodeError:
                    fake._record(self, None)
                    self._json(400, {"error": {"message": "body is not JSON"}})
                    return
                fake._record(self, body)
                path = self.path.split("?")[0].rstrip("/")
                if path.endswith("/chat/completions"):
                    fake._chat(self, body)
                elif path.endswith("/audio/speech"):
                    self._send(200, fake.speech_wav, "audio/wav")
                else:
                    self._json(404, {"error": {"message": f"no route {self.path}", "type": "not_found"}})

            def _json(self, status: int, payload: Any, headers: dict[str, str] | None = None) -> None:
                self._send(status, json.dumps(payload).encode(), "application/json", headers)

            def _send(self, status: int, data: bytes, content_type: str,
                      headers: dict[str, str] | None = None) -> None:
                self.send_response(status)
                self.send_header("content-type", content_type)
                self.send_header("content-length", str(len(data)))
                for key, value in (headers or {}).items():
                    self.send_header(key, value)
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        name="fake-openai", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None

    def __enter__(self) -> FakeOpenAI:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # ------------------------------------------------------------------ internals

    def _record(self, handler: BaseHTTPRequestHandler, body: Any) -> None:
        request = Request(handler.command, handler.path.split("?")[0],
                          {k.lower(): v for k, v in handler.headers.items()}, body)
        with self._lock:
            self.requests.append(request)

    def _chat(self, handler: Any, body: dict) -> None:
        with self._lock:
            scripted = self._queue.popleft() if self._queue else None
        if scripted is None:
            handler._json(400, {"error": {"message": "fake_openai: no scripted reply left",
                                          "type": "invalid_request_error"}})
            return
        if scripted.delay:
            time.sleep(scripted.delay)
        if isinstance(scripted.body, Error):
            error = scripted.body
            headers = {"retry-after": str(error.retry_after)} if error.retry_after is not None else None
            handler._json(error.status, {"error": {"message": error.message, "type": "scripted",
                                                   "code": error.status}}, headers)
            return
        text = scripted.body(body) if callable(scripted.body) else scripted.body
        if scripted.usage is not None:
            prompt, completion = scripted.usage
        else:
            prompt = max(1, len(json.dumps(body.get("messages", []))) // 4)
            completion = max(1, len(text) // 4)
        handler._json(200, {
            "id": f"chatcmpl-fake-{len(self.requests)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake-model"),
            "choices": [{"index": 0, "finish_reason": scripted.finish_reason,
                         "message": {"role": "assistant", "content": text}}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": completion,
                      "total_tokens": prompt + completion},
        })


@pytest.fixture(name="clean_model_env")
def clean_model_env_fixture(monkeypatch, tmp_path) -> Iterator[Any]:
    """No model settings from the outside: model variables unset, and the current folder a
    temporary one (so no lecture.toml of the checkout or the user is found)."""
    for name in MODEL_ENV_VARS:
        monkeypatch.delenv(name, raising=False)
    monkeypatch.chdir(tmp_path)
    yield monkeypatch


@pytest.fixture(name="fake_openai")
def fake_openai_fixture(clean_model_env) -> Iterator[FakeOpenAI]:
    """A running FakeOpenAI; stopped after the test."""
    server = FakeOpenAI().start()
    try:
        yield server
    finally:
        server.stop()
