"""The engine interface, the engine registry, voice specs and the speech error types.

An engine turns one sentence of already normalised text into mono 16-bit samples. Engines
are classes registered by name with `@engine("name")`, the way the compiler registers its
lowerings; `voices.get_engine("piper")` (or a voice spec such as `"openai:alloy"`) builds one.
This module is the shared bottom of the package: it imports no engine.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import ClassVar


class SpeechError(Exception):
    """Narration cannot be spoken. `message` says what went wrong, `hint` what to do about it;
    the build turns it into a diagnostic at the step (or setting) that asked for the speech."""

    def __init__(self, message: str, hint: str | None = None, code: str = "speech") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        self.code = code

    def __str__(self) -> str:
        return self.message if not self.hint else f"{self.message}\n  hint: {self.hint}"


@dataclass(frozen=True)
class Problem:
    """A warning about narration text (LaTeX read out literally, an unspeakable character…).

    `start`/`end` are character offsets into the narration text as written, so the caller can
    underline the exact place in the lesson."""

    message: str
    hint: str | None = None
    code: str = "narration-latex"
    start: int = 0
    end: int = 0
    severity: str = "warning"


@dataclass(frozen=True)
class VoiceInfo:
    """One voice an engine can speak with, for `lecture voices`."""

    engine: str
    voice: str  # what follows `engine:` in a voice spec
    language: str  # BCP-47-ish code: en-us, fr, "*" for multilingual
    installed: bool
    licence: str = ""
    note: str = ""

    @property
    def spec(self) -> str:
        return f"{self.engine}:{self.voice}"


@dataclass(frozen=True)
class Audio:
    """Synthesised audio: little-endian signed 16-bit mono samples at `sample_rate` Hz."""

    samples: bytes
    sample_rate: int

    @property
    def frames(self) -> int:
        return len(self.samples) // 2


@dataclass(frozen=True)
class VoiceSpec:
    """A parsed voice spec: `piper`, `piper:en_US-joe-medium`, `espeak:fr`, `openai:alloy`,
    `none`."""

    engine: str
    voice: str | None = None

    @property
    def text(self) -> str:
        return self.engine if self.voice is None else f"{self.engine}:{self.voice}"


DEFAULT_ENGINE = "piper"


def normalise_language(language: str | None) -> str:
    """`en_US`, `EN-us`, ` en ` -> `en-us`; empty -> `en`."""
    lang = (language or "en").strip().replace("_", "-").lower()
    return lang or "en"


def language_matches(wanted: str, available: str) -> bool:
    """Same primary language: `en`, `en-us` and `en-gb` all match `en-us`; `fr` does not.
    Engines prefer an exact match (see `best_language`)."""
    wanted, available = normalise_language(wanted), normalise_language(available)
    return available == "*" or wanted.split("-")[0] == available.split("-")[0]


def best_language(wanted: str, available: list[str]) -> str | None:
    """The entry of `available` that fits `wanted` best: the same code, then the bare
    language (`fr` for `fr-ca`), then `xx-xx` (`fr-fr` for `fr`), then the first of the
    same language; None if the language is not there at all."""
    wanted = normalise_language(wanted)
    primary = wanted.split("-")[0]
    norm = [normalise_language(a) for a in available]
    for choice in (wanted, primary, f"{primary}-{primary}"):
        if choice in norm:
            return available[norm.index(choice)]
    return next((a for a, n in zip(available, norm, strict=True) if language_matches(wanted, n)), None)


class Engine(ABC):
    """A speech engine. Subclasses set `name` and implement the methods below.

    - `resolve(voice, language)` checks that the engine can speak `language` with `voice`
      (None: the engine's default for that language) and returns the concrete voice name;
      it raises SpeechError with a hint when it cannot (no such voice installed, tool
      missing, no endpoint configured).
    - `identity(voice)` is a string that changes whenever the same text would sound
      different (model file, version, endpoint and model name); it is part of the cache key.
    - `synthesize(text, voice=, language=, rate=)` speaks one sentence.
    - `voices()` lists the voices this engine knows, installed or not.
    - `deterministic`: the same input always gives the same samples.
    """

    name: ClassVar[str] = ""
    deterministic: ClassVar[bool] = True
    silent: ClassVar[bool] = False

    @abstractmethod
    def resolve(self, voice: str | None, language: str) -> str: ...

    @abstractmethod
    def identity(self, voice: str) -> str: ...

    @abstractmethod
    def synthesize(self, text: str, *, voice: str, language: str, rate: float) -> Audio: ...

    @abstractmethod
    def voices(self) -> list[VoiceInfo]: ...


ENGINES: dict[str, Callable[..., Engine]] = {}


def engine(name: str):
    """Register an engine class (or factory) under `name`."""

    def register(cls):
        cls.name = name
        ENGINES[name] = cls
        return cls

    return register


_SAFE = re.compile(r"[^A-Za-z0-9._-]+")


def safe_name(text: str) -> str:
    return _SAFE.sub("_", text)[:60] or "voice"
