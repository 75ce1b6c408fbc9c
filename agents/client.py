"""The one place where the `openai` client is built and called.

`ModelClient(config, usage)` wraps an `openai.OpenAI` client for one agent: it sends chat
requests, retries what is worth retrying (429, 408, 409, 5xx, connection errors and
timeouts) with exponential backoff (`config.backoff_base * 2**n`, capped, honouring
Retry-After up to the cap), records tokens and wall time in the `UsageLog`, and turns
every failure into an `AgentError` whose message is for the user.

`chat_json` asks for JSON with `response_format` (json_schema, falling back to
json_object and then to none for servers that support neither); the caller still parses
and validates the answer, since not every server enforces the schema.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import openai

from .config import AgentConfigError, AgentError, ClientConfig, ModelConfig, announce_settings
from .usage import CallRecord, UsageLog

Message = dict[str, Any]  # {"role": ..., "content": str | list of content parts}

RETRY_STATUSES = frozenset({408, 409, 429})

# Manim installs a handler on the root logger; without this every request would be
# printed as an INFO line by httpx (the openai client's transport; "httpx2" in some builds).
TRANSPORT_LOGGERS = ("httpx", "httpx2")


def _quiet_transport() -> None:
    for name in TRANSPORT_LOGGERS:
        logging.getLogger(name).setLevel(logging.WARNING)


_quiet_transport()


class ModelCallError(AgentError):
    """A model call failed for good (after retries, or at once for errors retrying cannot fix)."""

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


@dataclass(frozen=True)
class Reply:
    text: str
    prompt_tokens: int
    completion_tokens: int
    seconds: float
    attempts: int
    finish_reason: str | None = None
    model: str = ""


def build_openai(config: ModelConfig) -> openai.OpenAI:
    """The `openai.OpenAI` client of one agent (retries are ModelClient's own)."""
    config.require()
    _quiet_transport()  # (again: a library may have lowered it)
    return openai.OpenAI(base_url=config.base_url or None, api_key=config.api_key,
                         timeout=config.timeout, max_retries=0)


def image_part(data_url_or_url: str, detail: str = "auto") -> dict:
    """A chat content part holding an image (a https:// or data: URL)."""
    return {"type": "image_url", "image_url": {"url": data_url_or_url, "detail": detail}}


def _retryable(exc: Exception) -> bool:
    if isinstance(exc, openai.APIConnectionError):  # includes APITimeoutError
        return True
    if isinstance(exc, openai.APIStatusError):
        return exc.status_code in RETRY_STATUSES or exc.status_code >= 500
    return False


def _retry_after(exc: Exception) -> float | None:
    response = getattr(exc, "response", None)
    if response is None:
        return None
    value = response.headers.get("retry-after")
    try:
        return max(float(value), 0.0) if value is not None else None
    except ValueError:
        return None


def _error_text(exc: Exception) -> str:
    if isinstance(exc, openai.APIStatusError):
        body = exc.body  # the server's "error" object, when it sent one
        detail = body.get("message") if isinstance(body, dict) else body
        if isinstance(detail, str) and detail:
            return f"{exc.status_code}: {detail}"
        return f"{exc.status_code}: {exc.message}"
    if isinstance(exc, openai.APITimeoutError):
        return "the request timed out"
    if isinstance(exc, openai.APIConnectionError):
        cause = exc.__cause__
        return f"cannot connect ({cause or exc})"
    return str(exc)


class ModelClient:
    """Chat calls for one agent, with retries and usage accounting."""

    def __init__(self, config: ModelConfig, usage: UsageLog | None = None, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        announce_settings(config.files)  # every client is built here: the one place that says where from
        self.config = config.require()
        self.usage = usage if usage is not None else UsageLog()
        self._sleep = sleep
        self._client = build_openai(config)
        self._model = config.model
        self._json_modes = ["json_schema", "json_object", None]  # tried in order; failures drop out

    @property
    def where(self) -> str:
        return self.config.base_url or "the OpenAI API"

    @property
    def model(self) -> str:
        """The model name; asks the server for its first model when none was configured."""
        if self._model is None:
            try:
                models = list(self._client.models.list())
            except openai.OpenAIError as exc:
                raise AgentConfigError(
                    f"no model named for the {self.config.agent}: set --model or LECTURE_MODEL "
                    f"(the server at {self.where} did not list its models: {_error_text(exc)})") from None
            if not models:
                raise AgentConfigError(f"no model named for the {self.config.agent}, and the server at "
                                       f"{self.where} lists none: set --model or LECTURE_MODEL")
            self._model = models[0].id
        return self._model

    # ------------------------------------------------------------------ calls

    def chat(self, messages: Sequence[Message], *, response_format: dict | None = None,
             **params: Any) -> Reply:
        """One chat completion (retried as needed); the answer's text and its usage."""
        model = self.model
        request: dict[str, Any] = {"model": model, "messages": list(messages), **params}
        if response_format is not None:
            request["response_format"] = response_format
        start = time.monotonic()
        attempt = 0
        # (again before every call: a library imported meanwhile may have changed it)
        _quiet_transport()
        while True:
            attempt += 1
            try:
                response = self._client.chat.completions.create(**request)
                break
            except openai.APIError as exc:
                if _retryable(exc) and attempt <= self.config.max_retries:
                    self._sleep(self._delay(attempt, exc))
                    continue
                self.usage.record(CallRecord(self.config.agent, model, 0, 0, time.monotonic() - start,
                                             attempt, usage_reported=False, ok=False))
                raise self._failure(exc, attempt) from None
        seconds = time.monotonic() - start
        usage = getattr(response, "usage", None)
        prompt = int(getattr(usage, "prompt_tokens", 0) or 0) if usage else 0
        completion = int(getattr(usage, "completion_tokens", 0) or 0) if usage else 0
        self.usage.record(CallRecord(self.config.agent, model, prompt, completion, seconds, attempt,
                                     usage_reported=usage is not None))
        choices = getattr(response, "choices", None) or []
        if not choices:
            raise ModelCallError(f"{self.config.agent}: the server at {self.where} sent an answer "
                                 "without choices")
        choice = choices[0]
        text = choice.message.content or ""
        return Reply(text, prompt, completion, seconds, attempt, choice.finish_reason, model)

    def chat_json(self, messages: Sequence[Message], schema: dict, name: str = "answer",
                  **params: Any) -> Reply:
        """A chat call asking for JSON that follows `schema`. Servers that refuse
        `response_format` json_schema (HTTP 400) are asked with json_object, then without
        response_format; the mode that works is remembered."""
        while True:
            mode = self._json_modes[0]
            if mode == "json_schema":
                fmt: dict | None = {"type": "json_schema",
                                    "json_schema": {"name": name, "schema": schema, "strict": False}}
            elif mode == "json_object":
                fmt = {"type": "json_object"}
            else:
                fmt = None
            try:
                return self.chat(messages, response_format=fmt, **params)
            except ModelCallError as exc:
                if exc.status in (400, 422) and mode is not None:
                    self._json_modes.pop(0)
                    continue
                raise

    # ------------------------------------------------------------------ helpers

    def _delay(self, attempt: int, exc: Exception) -> float:
        cap = self.config.backoff_max
        delay = min(cap, self.config.backoff_base * 2 ** (attempt - 1))
        after = _retry_after(exc)
        if after is not None:
            delay = min(cap, max(delay, after))
        return delay * (1 + 0.1 * random.random())

    def _failure(self, exc: Exception, attempts: int) -> ModelCallError:
        agent, where = self.config.agent, self.where
        status = exc.status_code if isinstance(exc, openai.APIStatusError) else None
        detail = _error_text(exc)
        if isinstance(exc, openai.AuthenticationError):
            hint = "check OPENAI_API_KEY or --api-key" if self.config.base_url is None else \
                "check the API key for this server (--api-key, or the variable named by api_key_env)"
            return ModelCallError(f"{agent}: the server at {where} refused the API key ({detail}); {hint}",
                                  status)
        if isinstance(exc, openai.NotFoundError):
            return ModelCallError(f"{agent}: not found at {where} ({detail}); check the model name "
                                  f"'{self._model}' and the base URL (it usually ends in /v1)", status)
        if _retryable(exc):
            tries = f"{attempts} tr{'ies' if attempts != 1 else 'y'}"
            return ModelCallError(f"{agent}: the model server at {where} failed after {tries}: {detail}",
                                  status)
        return ModelCallError(f"{agent}: the model server at {where} rejected the request ({detail})", status)


def make_client(config: ClientConfig, agent: str, usage: UsageLog | None = None,
                **kwargs: Any) -> ModelClient:
    """The ModelClient of one agent (raises AgentConfigError when no model is configured)."""
    return ModelClient(config.for_agent(agent), usage, **kwargs)
