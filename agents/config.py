"""Where the agents' model comes from: flags, environment, or a config file.

Every agent (planner, coder, critic) gets a `ModelConfig`: base URL, API key, model name,
timeout and retry policy. Each value is taken from the first of these that sets it:

1. explicit arguments (the CLI's `--base-url`, `--api-key`, `--model`);
2. the environment: `OPENAI_BASE_URL`, the API key variable (`OPENAI_API_KEY`, or the one
   named by `api_key_env`), `LECTURE_PLANNER_MODEL` / `LECTURE_CODER_MODEL` /
   `LECTURE_CRITIC_MODEL`, then `LECTURE_MODEL`; `LECTURE_TIMEOUT`, `LECTURE_MAX_RETRIES`;
3. the user's own config file, `config.toml` in the user's Lecture folder
   (`$LECTURE_CONFIG_DIR`, else `$XDG_CONFIG_HOME/lecture`, else `~/.config/lecture`);
4. the repository's `lecture.toml`, found in the lesson's folder (for commands without a
   lesson: the output's folder, else the current folder) or the nearest parent that has one.

Both files hold the same tables:

       [model]                      # defaults for every agent
       base_url = "http://localhost:11434/v1"
       api_key_env = "OPENAI_API_KEY"   # the *name* of the variable holding the key
       model = "qwen2.5:14b"
       timeout = 120                # seconds per request
       max_retries = 4              # on 429, 5xx, connection errors and timeouts
       temperature = 0.2            # sampling; unset: each agent's default (the Planner's: 0.2)
       max_tokens = 3000            # the longest answer asked for; unset: each agent's default
       grammar = "gbnf"             # grammar-guided decoding the server offers: none (default),
                                    # gbnf (llama.cpp), vllm (guided_grammar), vllm-lark

       [critic]                     # per-agent overrides, same keys
       model = "qwen2.5vl:7b"

   Within a file a per-agent table beats [model].

A repository's `lecture.toml` arrives with `git clone`, so it is untrusted: it may choose
model names, timeouts and retries, but its `base_url` and `api_key_env` (which decide where
requests, and the value of which environment variable, are sent) are ignored, with a
warning, until the user trusts that exact content on this machine (`lecture trust FILE`,
recorded by runtime/trust.py; an edit makes it untrusted again). Keys are never read from
any file, only from the variable named.

Any OpenAI-compatible server works (the hosted API, vLLM, Ollama, llama.cpp server). A
server given by base URL needs no real key: a placeholder is sent when none is set. With
neither a base URL nor a key, `AgentConfigError` says what to configure; the CLI prints
it without a traceback. Every command that talks to a model prints one line naming the
config files it read (`announce_settings`).
"""

from __future__ import annotations

import json
import os
import shlex
import sys
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from lecture.runtime.trust import TrustStore, content_hash, user_config_dir

AGENTS = ("planner", "coder", "critic")
CONFIG_FILE = "lecture.toml"
USER_CONFIG_FILE = "config.toml"
DEFAULT_API_KEY_ENV = "OPENAI_API_KEY"
DEFAULT_HOSTED_MODEL = "gpt-4o"  # used only against the hosted API when no model is named
PLACEHOLDER_KEY = "sk-no-key-needed"  # local servers ignore the key, the client needs one
DEFAULT_TIMEOUT = 120.0
DEFAULT_MAX_RETRIES = 4
DEFAULT_BACKOFF_BASE = 1.0  # seconds; the n-th retry waits about base * 2**n
DEFAULT_BACKOFF_MAX = 30.0
# Grammar-guided decoding a server may offer (the lesson grammar in its form, agents/planner.py):
# llama.cpp's `grammar` (GBNF), vLLM's `guided_grammar` (the same EBNF), vLLM with a Lark backend.
GRAMMAR_MODES = ("none", "gbnf", "vllm", "vllm-lark")

# Keys a repository file may set only once trusted: they pick the server and the secret sent to it.
TRUSTED_KEYS = ("base_url", "api_key_env")
# Ceilings on a repository file's numbers, so a cloned file cannot make a command wait for ever.
REPOSITORY_LIMITS: Mapping[str, float] = {"timeout": 900, "max_retries": 10, "backoff_base": 30,
                                          "max_tokens": 32768, "temperature": 2}

NO_MODEL_MESSAGE = ("no model configured: set OPENAI_API_KEY or --base-url "
                    "(or LECTURE_MODEL / lecture.toml); `lecture render` works without a model")


class AgentError(Exception):
    """An agent could not do its work; the message is for the user (no traceback)."""


class AgentConfigError(AgentError):
    """The model is not configured, or configured wrongly."""


def _under(path: Path, folder: Path) -> str | None:
    try:
        return str(path.relative_to(folder))
    except ValueError:
        return None


def display_path(path: Path) -> str:
    """A path as the user would type it: relative to the current folder when inside it, else
    with ~ for the home folder; control characters escaped (a repository names its folders)."""
    path = Path(path).absolute()
    home = _under(path, Path.home())
    text = _under(path, Path.cwd()) or (str(Path("~", home)) if home is not None else str(path))
    return _printable(text)


def _shell_path(path: Path) -> str:
    """A path to paste into a shell command (relative when inside the current folder)."""
    path = Path(path).absolute()
    return _printable(shlex.quote(_under(path, Path.cwd()) or str(path)))


def _printable(text: str) -> str:
    return "".join(ch if ch.isprintable() else ascii(ch)[1:-1] for ch in text)


@dataclass(frozen=True)
class ConfigSource:
    """One config file that was read, and what of it was used."""

    path: Path
    kind: Literal["user", "repository"]
    trusted: bool = False  # a repository file whose base_url / api_key_env the user trusted
    ignored: tuple[str, ...] = ()  # keys it sets that were not used (an untrusted repository file)

    def describe(self) -> str:
        name = display_path(self.path)
        if self.ignored:
            them = "it" if len(self.ignored) == 1 else "them"
            return (f"{name} ({', '.join(self.ignored)} ignored: not trusted on this machine; review the "
                    f"file, then `lecture trust {_shell_path(self.path)}` to use {them}, or set {them} in "
                    f"{display_path(user_config_path())})")
        return f"{name} (trusted)" if self.trusted else name


def settings_line(files: tuple[ConfigSource, ...]) -> str:
    """The one line naming the config files read (and what was ignored)."""
    if not files:
        return "model settings: no config file (flags and environment only)"
    return "model settings: " + ", ".join(f.describe() for f in files)


_announced: set[str] = set()  # lines already printed by this process


def announce_settings(files: tuple[ConfigSource, ...]) -> None:
    """Print `settings_line` to stderr, once per process for each distinct line: every
    command that talks to a model says where its settings came from."""
    line = settings_line(files)
    if line not in _announced:
        _announced.add(line)
        print(line, file=sys.stderr, flush=True)


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
    temperature: float | None = None  # None: the agent's own default
    max_tokens: int | None = None  # None: the agent's own default
    grammar: str = "none"  # one of GRAMMAR_MODES: what grammar-guided decoding the server supports
    sources: Mapping[str, str] = field(default_factory=dict, compare=False)  # value -> where from
    files: tuple[ConfigSource, ...] = field(default=(), compare=False)  # the config files read

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
    config_file: Path | None = None  # the repository's lecture.toml, when one was read
    files: tuple[ConfigSource, ...] = ()  # every config file read, the user's first

    def for_agent(self, agent: str) -> ModelConfig:
        if agent not in self.agents:
            raise KeyError(f"unknown agent {agent!r}; expected one of {', '.join(AGENTS)}")
        return self.agents[agent]

    def settings_line(self) -> str:
        return settings_line(self.files)


# ------------------------------------------------------------------ finding and reading files

def user_config_path() -> Path:
    """The user's own config file (may set everything but keys)."""
    return user_config_dir() / USER_CONFIG_FILE


def find_config_file(start: Path | None = None) -> Path | None:
    """The nearest lecture.toml in `start` (default: the current folder) or its parents."""
    folder = (start or Path.cwd()).resolve()
    for candidate in (folder, *folder.parents):
        path = candidate / CONFIG_FILE
        if path.is_file():
            return path
    return None


_TABLE_KEYS: dict[str, type | tuple[type, ...]] = {
    "base_url": str, "api_key_env": str, "model": str, "timeout": (int, float),
    "max_retries": int, "backoff_base": (int, float), "temperature": (int, float), "max_tokens": int,
    "grammar": str}
Tables = dict[str, dict[str, Any]]


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except OSError as exc:
        raise AgentConfigError(f"{display_path(path)}: cannot read the file: {exc.strerror or exc}") from None


def parse_config(path: Path, data: bytes) -> Tables:
    """The [model], [planner], [coder], [critic] tables of a config file's bytes, checked."""
    name = display_path(path)
    try:
        parsed = tomllib.loads(data.decode("utf-8"))
    except UnicodeDecodeError as exc:
        raise AgentConfigError(f"{name}: cannot read the file: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise AgentConfigError(f"{name}: not valid TOML: {exc}") from None
    tables: Tables = {}
    for table_name in ("model", *AGENTS):
        table = parsed.get(table_name, {})
        if not isinstance(table, dict):
            raise AgentConfigError(f"{name}: [{table_name}] must be a table")
        for key, value in table.items():
            if key == "api_key":
                raise AgentConfigError(
                    f"{name}: [{table_name}] api_key: keys do not belong in lecture.toml or config.toml; "
                    "put the key in an environment variable and name it with api_key_env")
            if key not in _TABLE_KEYS:
                raise AgentConfigError(f"{name}: [{table_name}] unknown key {_printable(repr(key))}; "
                                       f"expected one of {', '.join(_TABLE_KEYS)}")
            expected = _TABLE_KEYS[key]
            if not isinstance(value, expected) or isinstance(value, bool):
                raise AgentConfigError(f"{name}: [{table_name}] {key} has the wrong type "
                                       f"({type(value).__name__})")
            if isinstance(value, int | float) and value < 0:  # the numeric keys
                raise AgentConfigError(f"{name}: [{table_name}] {key} must not be negative")
            if key == "grammar" and value not in GRAMMAR_MODES:
                raise AgentConfigError(f"{name}: [{table_name}] grammar = {_printable(repr(value))}: "
                                       f"expected one of {', '.join(GRAMMAR_MODES)}")
        tables[table_name] = dict(table)
    return tables


def load_config_file(path: Path) -> Tables:
    """The checked tables of one config file."""
    return parse_config(path, _read(path))


def _sets_trusted_keys(tables: Tables) -> tuple[str, ...]:
    return tuple(k for k in TRUSTED_KEYS if any(k in t for t in tables.values()))


def _check_repository_limits(path: Path, tables: Tables) -> None:
    for table_name, table in tables.items():
        for key, ceiling in REPOSITORY_LIMITS.items():
            if key in table and table[key] > ceiling:
                user = display_path(user_config_path())
                raise AgentConfigError(
                    f"{display_path(path)}: [{table_name}] {key} = {table[key]} is above {ceiling:g}, the "
                    f"most a repository's lecture.toml may set; set a larger value in {user}")


@dataclass(frozen=True)
class _Layer:
    """One file's tables, as used (an untrusted repository file without base_url/api_key_env)."""

    tables: Tables
    name: str

    def candidates(self, agent: str, key: str) -> list[tuple[object, str]]:
        return [(self.tables.get(t, {}).get(key), f"{self.name} [{t}]") for t in (agent, "model")]


def _repository_layer(path: Path) -> tuple[_Layer, ConfigSource]:
    data = _read(path)
    tables = parse_config(path, data)
    _check_repository_limits(path, tables)
    restricted = _sets_trusted_keys(tables)
    trusted = bool(restricted) and TrustStore.default().config_trusted(data)
    if restricted and not trusted:
        tables = {name: {k: v for k, v in t.items() if k not in TRUSTED_KEYS} for name, t in tables.items()}
    source = ConfigSource(path, "repository", trusted=trusted, ignored=() if trusted else restricted)
    return _Layer(tables, str(path)), source


def _layers(start: Path | None, config_file: Path | None,
            use_config_file: bool) -> tuple[list[_Layer], tuple[ConfigSource, ...], Path | None]:
    """The config files in precedence order (the user's first), what was read, the repository file."""
    if not use_config_file:
        return [], (), None
    layers: list[_Layer] = []
    files: list[ConfigSource] = []
    user = user_config_path()
    if user.is_file():
        layers.append(_Layer(load_config_file(user), str(user)))
        files.append(ConfigSource(user, "user"))
    repository = config_file if config_file is not None else find_config_file(start)
    if repository is not None:
        layer, source = _repository_layer(repository)
        layers.append(layer)
        files.append(source)
    return layers, tuple(files), repository


# ------------------------------------------------------------------ trusting a repository's file

def describe_repository_config(path: Path) -> str:
    """What `lecture trust FILE` shows before trusting: every value the file sets, and what
    base_url and api_key_env would do."""
    return _describe(path, _read(path))


def trust_repository_config(path: Path, shown: str | None = None) -> None:
    """Trust this exact content of a repository's lecture.toml on this machine. With `shown`
    (the text of `describe_repository_config` the user agreed to), refuse when the file
    changed meanwhile."""
    data = _read(path)
    text = _describe(path, data)  # parses and checks it: a broken file is not trusted
    if shown is not None and text != shown:
        raise AgentConfigError(f"{display_path(path)} changed since it was shown; nothing was trusted, "
                               "run the command again")
    TrustStore.default().trust_config(path, data)


_MEANING = {"base_url": "model requests, with the API key, are sent to this server",
            "api_key_env": "the value of this environment variable is sent as the API key"}


def _describe(path: Path, data: bytes) -> str:
    tables = parse_config(path, data)
    _check_repository_limits(path, tables)
    rows = [(f"[{name}] {key} = {json.dumps(value)}", _MEANING.get(key, ""))
            for name, table in tables.items() for key, value in table.items()]
    width = max((len(r[0]) for r in rows), default=0)
    lines = [f"{display_path(path)} (sha256 {content_hash(data)[:16]}) sets:"]
    lines += [f"  {setting.ljust(width)}  {('# ' + meaning) if meaning else ''}".rstrip()
              for setting, meaning in rows] or ["  nothing"]
    restricted = _sets_trusted_keys(tables)
    if restricted:
        lines.append(f"Trusting it lets its {' and '.join(restricted)} take effect on this machine, for this "
                     "exact content (an edit makes it untrusted again).")
    else:
        lines.append("It sets no base_url or api_key_env: it is used as it is, trusted or not.")
    return "\n".join(lines)


# ------------------------------------------------------------------ resolving

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
                   env: Mapping[str, str] | None = None, start: Path | None = None,
                   config_file: Path | None = None, use_config_file: bool = True) -> ClientConfig:
    """Resolve every agent's model settings: arguments > environment > the user's config.toml >
    the repository's lecture.toml (looked up from `start`, the lesson's folder; default the
    current folder) > defaults.

    `model` (the `--model` flag) applies to every agent, `agent_models` to one agent each.
    Nothing is checked for presence here: `ModelConfig.require()` (called when a client is
    made) raises the "no model configured" error, so commands that need no model never fail.
    """
    env = os.environ if env is None else env
    layers, files, repository = _layers(start, config_file, use_config_file)
    agent_models = agent_models or {}

    env_timeout = (_number(env["LECTURE_TIMEOUT"], "LECTURE_TIMEOUT", float)
                   if env.get("LECTURE_TIMEOUT") else None)
    env_retries = (_number(env["LECTURE_MAX_RETRIES"], "LECTURE_MAX_RETRIES", int)
                   if env.get("LECTURE_MAX_RETRIES") else None)

    agents: dict[str, ModelConfig] = {}
    for agent in AGENTS:
        sources: dict[str, str] = {}

        def in_files(key: str) -> list[tuple[object, str]]:
            return [c for layer in layers for c in layer.candidates(agent, key)]  # noqa: B023 - used at once

        def pick(key: str, *candidates: tuple[object, str]):
            for value, origin in candidates:
                if value not in (None, ""):
                    sources[key] = origin  # noqa: B023 - used at once
                    return value
            return None

        url = pick("base_url", (base_url, "--base-url"), (env.get("OPENAI_BASE_URL"), "OPENAI_BASE_URL"),
                   *in_files("base_url"))
        key_env = str(_first(*(v for v, _ in in_files("api_key_env") if v)) or DEFAULT_API_KEY_ENV)
        key = pick("api_key", (api_key, "--api-key"), (env.get(key_env), key_env))
        if key is None and key_env != DEFAULT_API_KEY_ENV and env.get(DEFAULT_API_KEY_ENV):
            key = pick("api_key", (env.get(DEFAULT_API_KEY_ENV), DEFAULT_API_KEY_ENV))
        upper = agent.upper()
        name = pick("model", (agent_models.get(agent), f"--{agent}-model"), (model, "--model"),
                    (env.get(f"LECTURE_{upper}_MODEL"), f"LECTURE_{upper}_MODEL"),
                    (env.get("LECTURE_MODEL"), "LECTURE_MODEL"), *in_files("model"))
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
                               *in_files("timeout")) or DEFAULT_TIMEOUT),
            max_retries=int(_first(max_retries, env_retries, *(v for v, _ in in_files("max_retries")),
                                   DEFAULT_MAX_RETRIES)),
            backoff_base=float(_first(backoff_base, *(v for v, _ in in_files("backoff_base")),
                                      DEFAULT_BACKOFF_BASE)),
            temperature=_optional(float, _first(*(v for v, _ in in_files("temperature")))),
            max_tokens=_optional(int, _first(*(v for v, _ in in_files("max_tokens")))),
            grammar=str(_first(*(v for v, _ in in_files("grammar")), "none")),
            sources=sources,
            files=files,
        )
    return ClientConfig(agents, repository, files)


def _optional(kind: type, value: object) -> Any:
    return None if value is None else kind(value)


def _first(*values):
    for value in values:
        if value is not None:
            return value
    return None


def config_from_args(args, *, env: Mapping[str, str] | None = None,
                     start: Path | None = None) -> ClientConfig:
    """The ClientConfig of a parsed command line (any of --base-url, --api-key, --model,
    --timeout, --max-retries may be missing from `args`), with the repository file looked up
    from `start` (the lesson's or the output's folder). Only commands that talk to a model
    call this, so it also prints which config files were read."""
    config = resolve_config(base_url=getattr(args, "base_url", None), api_key=getattr(args, "api_key", None),
                            model=getattr(args, "model", None), timeout=getattr(args, "timeout", None),
                            max_retries=getattr(args, "max_retries", None), env=env, start=start)
    announce_settings(config.files)
    return config
