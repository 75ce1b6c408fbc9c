"""Voices by name: a voice spec parsed, the engine it names built, every voice listed.

These need the built-in engines registered, so they live above `engines` (which imports
`base`); keeping them out of `base` keeps the package free of import cycles.
"""

from __future__ import annotations

from . import engines as _builtin  # noqa: F401  (registers the built-in engines)
from .base import DEFAULT_ENGINE, ENGINES, Engine, SpeechError, VoiceInfo, VoiceSpec


def parse_voice(spec: str) -> VoiceSpec:
    """Split a voice spec into engine name and voice; an unknown engine raises SpeechError."""
    spec = (spec or "").strip()
    name, _, voice = spec.partition(":")
    name = name.strip().lower() or DEFAULT_ENGINE
    if name not in ENGINES:
        raise SpeechError(
            f"unknown voice {spec!r}: no speech engine named {name!r}",
            hint=f"voice is one of {', '.join(sorted(ENGINES))} (e.g. `voice: piper`, "
                 "`voice: espeak`, `voice: openai:alloy`)",
            code="unknown-voice")
    voice = voice.strip()
    return VoiceSpec(name, voice or None)


def get_engine(spec: str = DEFAULT_ENGINE, **options: object) -> Engine:
    """The engine for a name or voice spec (`piper`, `openai:alloy` -> the openai engine).
    Keyword options go to the engine (openai: base_url, api_key, model, timeout,
    max_retries)."""
    return ENGINES[parse_voice(spec).engine](**options)


def list_voices() -> list[VoiceInfo]:
    """Every voice of every registered engine, installed or not (for `lecture voices`)."""
    voices: list[VoiceInfo] = []
    for name in ENGINES:
        try:
            voices += get_engine(name).voices()
        except SpeechError as error:
            voices.append(VoiceInfo(name, "*", "*", False, "", error.message))
    return voices
