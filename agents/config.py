"""Where the agents' model comes from: flags, environment, or `lecture.toml`.

Every agent (planner, coder, critic) gets a `ModelConfig`: base URL, API key, model name,
timeout and retry policy. Each value is taken from the first of these that sets it:

1. explicit arguments (the CLI's `--base-url`, `--api-key`, `--model`);
2. the environment: `OPENAI_BASE_URL`, the API key variable (`OPENAI_API_KEY`, or the one
   named by `api_key_env` in lecture.toml), `LECTURE_PLANNER_MODEL` / `LECTURE_CODER_MODEL` /
   `LECTURE_CRITIC_MODEL`, then `LECTURE_MODEL`; `LECTURE_TIMEOUT`, `LECTURE_MAX_RETRIES`;
3. `lecture.toml`, found in the current folder or the nearest parent that has one:

       [model]                      # defaults for every agent
       base_url = "http://localhost:11434/v1"
       api_key_env = "OPENAI_API_KEY"   # the *name* of the variable holding the key
       model = "qwen2.5:14b"
       timeout = 120                # seconds per request
       max_retries = 4              # on 429, 5xx, connection errors and timeouts

       [critic]                     # per-agent overrides, same keys
       model = "qwen2.5vl:7b"

   A per-agent table beats [model].

Any OpenAI-compatible server works (the hosted API, vLLM, Ollama, llama.cpp server). A
server given by base URL needs no real key: a placeholder is sent when none is set. With
neither a base URL nor a key, `AgentConfigError` says what to configure; the CLI prints
it without a traceback. Keys are never read from lecture.toml itself (it is often
committed), only from the variable it names.
"""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

AGENTS = ("planner", "coder", "critic")
CONFIG_FILE = "lecture.toml"
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_HOSTED_MODEL = "gpt-4o"  # used only against the hosted API when no model is named
PLACEHOLDER_KEY = "sk-no-key-needed"  # local servers ignore the key, the client needs one
DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_RETRIES = 4
DEFAULT_BACKOFF_BASE = 1.0  # seconds; the n-th retry waits about base * 2**n
DEFAULT_BACKOFF_MAX = 30.0

NO_MODEL_MESSAGE = ("no model configured: set OPENAI_API_KEY or --base-url "
                    "(or LECTURE_MODEL / lecture.toml); `lecture render` works without a model")


class AgentError(Exception):
    """An agent could not do its work; the message is for the user (no traceback)."""


class AgentConfigError(AgentError):
    """The model is not configured, or configured wrongly."""


@dataclass(frozen=True)
class ModelConfig:
    """Everything needed to call one agent's model."""

    agent: str
    base_url: str | None  # None: the hosted OpenAI API
    api_key: str | None  # None only when unconfigured; a placeholder for keyless servers
    model: str | None  # None: ask the server (GET /models) and take its first model
    timeout: float = DEFAULT_TIMEOUT
    max_retries: int = DEFAULT_MAX_RETRIES
    backoff_base: float = DEFAULT_BACKOFF_BASE
    backoff_max: float = DEFAULT_BACKOFF_MAX
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)  # value -> where from

    @property
    def configured(self) -> bool:
        return bool(self.base_url) or bool(self.api_key)

    def require(self) -> ModelConfig:
        """This config, or AgentConfigError when there is no server to talk to."""
        if not self.configured:
            raise AgentConfigError(NO_MODEL_MESSAGE)
        return self

    def describe(self) -> str:
        """One line for logs, without the key."""
        where = self.base_url or "the OpenAI API"
        return f"{self.agent}: model {self.model or '(server default)'} at {where}"


@dataclass(frozen=True)
class ClientConfig:
    """The model settings of every agent."""

    agents: Mapping[str, ModelConfig]
    config_file: Path | None = None

    def for_agent(self, agent: str) -> ModelConfig:
        if agent not in self.agents:
            raise KeyError(f"unknown agent {agent!r}; expected one of {', '.join(AGENTS)}")
        return self.agents[agent]

    def with_backoff(self, base: float, maximum: float | None = None) -> ClientConfig:
        """A copy with another backoff (tests use a tiny one)."""
        return ClientConfig(
            {k: replace(v, backoff_base=base, backoff_max=v.backoff_max if maximum is None else maximum)
             for k, v in self.agents.items()},
            self.config_file)


def find_config_file(start: Path | None = None) -> Path | None:
    """The nearest lecture.toml in `start` (default: the current folder) or its parents."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / CONFIG_FILE
        if path.is_file():
            return path
    return None


_TABLE_KEYS = {"base_url": str, "api_key_env": str, "model": str, "timeout": (int, float),
               "max_retries": int, "backoff_base": (int, float)}


def load_config_file(path: Path) -> dict[str, dict]:
    """The [model], [planner], [coder], [critic] tables of a lecture.toml, checked."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError) as exc:
        raise AgentConfigError(f"{path}: cannot read the file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise AgentConfigError(f"{path}: not valid TOML: {exc}") from None
    tables: dict[str, dict] = {}
    for name in ("model", *AGENTS):
        table = data.get(name, {})
        if not isinstance(table, dict):
            raise AgentConfigError(f"{path}: [{name}] must be a table")
        for key, value in table.items():
            if key == "api_key":
                raise AgentConfigError(
                    f"{path}: [{name}] api_key: keys do not belong in lecture.toml; put the key in "
                    "an environment variable and name it with api_key_env")
            if key not in _TABLE_KEYS:
                raise AgentConfigError(f"{path}: [{name}] unknown key {key!r}; expected one of "
                                       f"{', '.join(_TABLE_KEYS)}")
            expected = _TABLE_KEYS[key]
            if not isinstance(value, expected) or isinstance(value, bool):
                raise AgentConfigError(f"{path}: [{name}] {key} has the wrong type ({type(value).__name__})")
        tables[name] = dict(table)
    return tables


def _number(text: str, what: str, kind: type) -> float | int:
    try:
        value = kind(text)
    except ValueError:
        raise AgentConfigError(f"{what}={text!r} is not a number") from None
    if value < 0:
        raise AgentConfigError(f"{what}={text!r} must not be negative")
    return value


def resolve_config(*, base_url: str | None = None, api_key: str | None = None, model: str | None = None,
                   agent_models: Mapping[str, str] | None = None, timeout: float | None = None,
                   max_retries: int | None = None, backoff_base: float | None = None,
                   env: Mapping[str, str] | None = None, cwd: Path | None = None,
                   config_file: Path | None = None, use_config_file: bool = True) -> ClientConfig:
    """Resolve every agent's model settings: arguments > environment > lecture.toml > defaults.

    `model` (the `--model` flag) applies to every agent, `agent_models` to one agent each.
    Nothing is checked for presence here: `ModelConfig.require()` (called when a client is
    made) raises the "no model configured" error, so commands that need no model never fail.
    """
    env = os.environ if env is None else env
    path = config_file if config_file is not None else (find_config_file(cwd) if use_config_file else None)
    tables = load_config_file(path) if path is not None else {}
    general = tables.get("model", {})
    agent_models = agent_models or {}

    env_timeout = (_number(env["LECTURE_TIMEOUT"], "LECTURE_TIMEOUT", float)
                   if env.get("LECTURE_TIMEOUT") else None)
    env_retries = (_number(env["LECTURE_MAX_RETRIES"], "LECTURE_MAX_RETRIES", int)
                   if env.get("LECTURE_MAX_RETRIES") else None)

    agents: dict[str, ModelConfig] = {}
    for agent in AGENTS:
        own = tables.get(agent, {})
        sources: dict[str, str] = {}

        def pick(key: str, *candidates: tuple[object, str]):
            for value, origin in candidates:
                if value not in (None, ""):
                    sources[key] = origin  # noqa: B023 - used at once
                    return value
            return None

        toml_name = f"{path}" if path is not None else CONFIG_FILE
        url = pick("base_url", (base_url, "--base-url"), (env.get("OPENAI_BASE_URL"), "OPENAI_BASE_URL"),
                   (own.get("base_url"), f"{toml_name} [{agent}]"),
                   (general.get("base_url"), f"{toml_name} [model]"))
        key_env = own.get("api_key_env") or general.get("api_key_env") or DEFAULT_API_KEY_ENV
        key = pick("api_key", (api_key, "--api-key"), (env.get(key_env), key_env))
        if key is None and key_env != DEFAULT_API_KEY_ENV and env.get(DEFAULT_API_KEY_ENV):
            key = pick("api_key", (env.get(DEFAULT_API_KEY_ENV), DEFAULT_API_KEY_ENV))
        upper = agent.upper()
        name = pick("model", (agent_models.get(agent), f"--{agent}-model"), (model, "--model"),
                    (env.get(f"LECTURE_{upper}_MODEL"), f"LECTURE_{upper}_MODEL"),
                    (env.get("LECTURE_MODEL"), "LECTURE_MODEL"),
                    (own.get("model"), f"{toml_name} [{agent}]"),
                    (general.get("model"), f"{toml_name} [model]"))
        if key is None and url:
            key = PLACEHOLDER_KEY
            sources["api_key"] = "placeholder (a server given by URL needs no key)"
        if name is None and not url and key:
            name = DEFAULT_HOSTED_MODEL
            sources["model"] = "default for the OpenAI API"
        agents[agent] = ModelConfig(
            agent=agent,
            base_url=str(url).rstrip("/") if url else None,
            api_key=key,
            model=name,
            timeout=float(pick("timeout", (timeout, "--timeout"), (env_timeout, "LECTURE_TIMEOUT"),
                               (own.get("timeout"), toml_name), (general.get("timeout"), toml_name))
                          or DEFAULT_TIMEOUT),
            max_retries=int(_first(max_retries, env_retries, own.get("max_retries"),
                                   general.get("max_retries"), DEFAULT_MAX_RETRIES)),
            backoff_base=float(_first(backoff_base, own.get("backoff_base"), general.get("backoff_base"),
                                      DEFAULT_BACKOFF_BASE)),
            sources=sources,
        )
    return ClientConfig(agents, path)


def _first(*values):
    for value in values:
        if value is not None:
            return value
    return None


def config_from_args(args, *, env: Mapping[str, str] | None = None, cwd: Path | None = None) -> ClientConfig:
    """The ClientConfig of a parsed command line (any of --base-url, --api-key, --model,
    --timeout, --max-retries may be missing from `args`)."""
    return resolve_config(base_url=getattr(args, "base_url", None), api_key=getattr(args, "api_key", None),
                          model=getattr(args, "model", None), timeout=getattr(args, "timeout", None),
                          max_retries=getattr(args, "max_retries", None), env=env, cwd=cwd)
