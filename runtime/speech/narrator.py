"""Narration spoken sentence by sentence, cached per sentence, timed from sample counts."""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from ..safe_fs import read_regular, safe_dir, write_bytes_atomic
from .base import Audio, Engine, Problem, SpeechError, normalise_language
from .text import find_latex, normalise, speakable, split_sentences
from .voices import get_engine, parse_voice
from .wav import read_wav, resample, wav_bytes, write_wav

DEFAULT_CACHE_DIR = Path("build/.speech-cache")
DEFAULT_PAUSE = 0.3  # seconds of silence between two sentences, at rate 1
CACHE_FORMAT = 1  # bump to invalidate every cached sentence


@dataclass(frozen=True)
class Cue:
    """One spoken sentence: its text as written, the words said, and where it lies in the
    narration's audio (seconds and sample frames from the start; end exclusive)."""

    text: str
    spoken: str
    start: float
    end: float
    start_frame: int
    end_frame: int
    offset: int = 0  # character offset of the sentence in the narration text
    cached: bool = field(default=False, compare=False)


@dataclass(frozen=True)
class Speech:
    """The audio of one narration text: mono 16-bit little-endian samples, the sentences'
    cues, and the warnings found in the text. `duration` is exact: frames / sample_rate."""

    text: str
    samples: bytes = field(repr=False)
    sample_rate: int
    sentences: tuple[Cue, ...]
    problems: tuple[Problem, ...] = ()
    voice: str = ""
    wav: Path | None = None

    @property
    def frames(self) -> int:
        return len(self.samples) // 2

    @property
    def duration(self) -> float:
        return self.frames / self.sample_rate

    def array(self) -> np.ndarray:
        import numpy as np

        return np.frombuffer(self.samples, "<i2")

    def write_wav(self, path: str | os.PathLike[str]) -> Speech:
        """Write the audio as a mono 16-bit WAV (atomically); returns a copy with `wav` set."""
        return replace(self, wav=write_wav(path, Audio(self.samples, self.sample_rate)))


def lecture_version() -> str:
    try:
        return metadata.version("lecture")
    except metadata.PackageNotFoundError:
        return "0"


class Narrator:
    """Speaks narration with one voice, language and rate, through a sentence cache.

    Construction resolves the voice and raises SpeechError when it cannot be used (unknown
    engine, no voice for the language, espeak-ng missing, no endpoint configured), so a
    build can report it before anything is rendered. `synthesized` and `reused` count
    sentences spoken by the engine and sentences taken from the cache."""

    def __init__(self, voice: str = "piper", *, language: str = "en", rate: float = 1.0,
                 cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
                 pause: float = DEFAULT_PAUSE, engine: Engine | None = None,
                 **engine_options) -> None:
        if not isinstance(rate, int | float) or not math.isfinite(rate) or not 0.25 <= rate <= 4.0:
            raise SpeechError(f"speaking rate {rate!r} is out of range",
                              hint="rate is a number from 0.25 to 4 (1 = normal): `rate: 1.1`",
                              code="speech-bad-rate")
        self.spec = parse_voice(voice)
        self.language = normalise_language(language)
        self.rate = float(rate)
        self.pause = max(0.0, float(pause))
        self.engine = engine if engine is not None else get_engine(self.spec.engine, **engine_options)
        self.voice = self.engine.resolve(self.spec.voice, self.language)
        self.cache_dir = Path(cache_dir) if cache_dir is not None else None
        self.synthesized = 0
        self.reused = 0
        self._identity: str | None = None

    @property
    def voice_spec(self) -> str:
        return f"{self.spec.engine}:{self.voice}"

    # ------------------------------------------------------------ text

    def check(self, text: str) -> list[Problem]:
        """Warnings for a narration text, without speaking it."""
        problems = find_latex(text)
        if text.strip() and not any(speakable(normalise(text[a:b], self.language))
                                    for a, b in split_sentences(text)):
            problems.append(Problem("narration has nothing to speak", hint="write words to say",
                                    code="narration-empty", start=0, end=len(text)))
        return problems

    def sentences(self, text: str) -> list[tuple[str, str, int]]:
        """(sentence as written, words to speak, character offset) for each sentence that has
        something to say."""
        out = []
        for start, end in split_sentences(text):
            spoken = normalise(text[start:end], self.language)
            if speakable(spoken):
                out.append((text[start:end], spoken, start))
        return out

    # ------------------------------------------------------------ cache

    def cache_key(self, spoken: str) -> str:
        if self._identity is None:
            self._identity = self.engine.identity(self.voice)
        key = {"format": CACHE_FORMAT, "lecture": lecture_version(), "engine": self.spec.engine,
               "voice": self.voice, "identity": self._identity, "settings": {"rate": repr(self.rate)},
               "language": self.language, "text": spoken}
        return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode()).hexdigest()

    def cache_path(self, spoken: str) -> Path | None:
        if self.cache_dir is None:
            return None
        return self.cache_dir / self.spec.engine / f"{self.cache_key(spoken)}.wav"

    def _cache_folder(self) -> Path | None:
        """The engine's cache folder, checked to be a real folder (the cache may come with a
        cloned build/: a link there raises UnsafePathError), or None when it cannot be made."""
        if self.cache_dir is None:
            return None
        try:
            return safe_dir(self.cache_dir, self.spec.engine)
        except OSError:
            return None  # a read-only cache only costs speed

    def sentence_audio(self, spoken: str) -> tuple[Audio, bool]:
        """The audio of one normalised sentence, from the cache when it is there; the flag says
        whether it came from the cache. An entry is read only when it is a regular file (not
        a link) and is a WAV (anything else is spoken again and replaced, never written
        through)."""
        folder = self._cache_folder()
        path = folder / f"{self.cache_key(spoken)}.wav" if folder is not None else None
        data = read_regular(path) if path is not None else None
        if data is not None:
            try:
                audio: Audio | None = read_wav(data)
            except SpeechError:
                audio = None  # a damaged entry is spoken again and replaced
            if audio is not None:
                self.reused += 1
                return audio, True
        audio = self.engine.synthesize(spoken, voice=self.voice, language=self.language, rate=self.rate)
        self.synthesized += 1
        if path is not None:
            try:
                write_bytes_atomic(path, wav_bytes(audio))
            except OSError:
                pass  # a read-only cache only costs speed
        return audio, False

    # ------------------------------------------------------------ speaking

    def speak(self, text: str, *, wav_path: str | os.PathLike[str] | None = None) -> Speech:
        """Speak one narration text: each sentence separately, joined by `pause` seconds of
        silence (scaled by 1/rate). Cue times come from the sample counts."""
        problems = tuple(self.check(text))
        if self.engine.silent:
            speech = Speech(text, b"", getattr(self.engine, "SAMPLE_RATE", 22050), (), problems,
                            self.voice_spec)
            return speech.write_wav(wav_path) if wav_path is not None else speech
        parts: list[tuple[str, str, int, Audio, bool]] = []
        for written, spoken, offset in self.sentences(text):
            audio, cached = self.sentence_audio(spoken)
            parts.append((written, spoken, offset, audio, cached))
        rate_hz = parts[0][3].sample_rate if parts else 22050
        gap = b"\x00\x00" * round(self.pause / self.rate * rate_hz)
        chunks: list[bytes] = []
        cues: list[Cue] = []
        frame = 0
        for index, (written, spoken, offset, audio, cached) in enumerate(parts):
            if index:
                chunks.append(gap)
                frame += len(gap) // 2
            if audio.sample_rate != rate_hz:
                audio = resample(audio, rate_hz)
            chunks.append(audio.samples)
            end = frame + audio.frames
            cues.append(Cue(written, spoken, frame / rate_hz, end / rate_hz, frame, end, offset, cached))
            frame = end
        speech = Speech(text, b"".join(chunks), rate_hz, tuple(cues), problems, self.voice_spec)
        return speech.write_wav(wav_path) if wav_path is not None else speech

    def speak_lines(self, texts: Iterable[str]) -> list[Speech]:
        return [self.speak(text) for text in texts]


def speak_lines(texts: Iterable[str], *, voice: str = "piper", language: str = "en", rate: float = 1.0,
                cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
                pause: float = DEFAULT_PAUSE) -> list[Speech]:
    """Speak several narration texts with one voice; see Narrator."""
    return Narrator(voice, language=language, rate=rate, cache_dir=cache_dir, pause=pause).speak_lines(texts)
