"""Speech timed by an estimate, for `lecture check` on a machine that cannot speak the
lesson's voice (no voice installed, no endpoint configured…).

`estimating_narrator(language, rate)` is a Narrator whose engine "speaks" each sentence as
silence as long as the default voice would take to say it (its characters at
CHARACTERS_PER_SECOND, measured on the examples with piper's en_US joe voice), so that the
narration is timed, and its findings made, exactly as with a real voice. It is never a
lesson's voice: it is not registered, and nothing it says is cached.
"""

from __future__ import annotations

from typing import Any

from .base import Audio, Engine, VoiceInfo
from .narrator import Narrator

CHARACTERS_PER_SECOND = 16.6  # piper en_US-joe-medium at rate 1 (5763 characters in 347 s)


class EstimateEngine(Engine):
    """Silence as long as the default voice would speak."""

    SAMPLE_RATE = 22050

    def __init__(self, **_options: Any) -> None:
        pass

    def resolve(self, voice: str | None, language: str) -> str:
        return "estimate"

    def identity(self, voice: str) -> str:
        return f"estimate at {CHARACTERS_PER_SECOND:g} characters a second"

    def synthesize(self, text: str, *, voice: str, language: str, rate: float) -> Audio:
        frames = round(len(text) / CHARACTERS_PER_SECOND / rate * self.SAMPLE_RATE)
        return Audio(b"\x00\x00" * max(frames, 1), self.SAMPLE_RATE)

    def voices(self) -> list[VoiceInfo]:
        return []


def estimating_narrator(language: str = "en", rate: float = 1.0) -> Narrator:
    """A Narrator that times speech by the estimate (see the module doc)."""
    return Narrator("none", language=language, rate=rate, cache_dir=None, engine=EstimateEngine())


__all__ = ["CHARACTERS_PER_SECOND", "EstimateEngine", "estimating_narrator"]
