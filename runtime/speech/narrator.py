"""Narration spoken sentence by sentence, cached per sentence, timed from sample counts."""

from __future__ import annotations

import functools
import hashlib
import json
import math
import os
import threading
import weakref
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field, replace
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import numpy as np

from ..safe_fs import read_regular, safe_dir, write_bytes_atomic
from . import loudness
from .base import Audio, Engine, Problem, SpeechError, normalise_language
from .loudness import Level
from .text import find_latex, normalise, speakable, split_sentences
from .voices import get_engine, parse_voice
from .wav import read_chunk, read_wav, resample, wav_bytes, write_wav

DEFAULT_CACHE_DIR = Path("build/.speech-cache")
DEFAULT_PAUSE = 0.3  # seconds of silence between two sentences, at rate 1
CACHE_FORMAT = 1  # bump to invalidate every cached sentence
LEVEL_CHUNK = b"lcLV"  # a cache entry's chunk holding the sentence's Level (loudness.py)
# What a cache entry may be to be used (it may come from a cloned repository): a sentence
# no longer than this, at a sample rate a voice uses; else it is spoken again.
MAX_SENTENCE_SECONDS = 120
SAMPLE_RATES = (8000, 192000)
SPEAKERS = 2  # sentences synthesised at once (each engine call uses one core)


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
    gain: float = 0.0  # dB the sentence is played at (loudness.py), stored with it in the cache


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


@functools.cache
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
        self._made: dict[str, tuple[Audio, Level]] = {}  # spoken ahead, not yet asked for
        self._todo: list[str] = []  # queued to speak ahead (prefetch)
        self._busy: set[str] = set()  # being spoken ahead in the background
        self._threads: list[threading.Thread] = []  # the background speakers
        self._lock = threading.Lock()

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
        """The audio of one normalised sentence, and whether it came from the cache."""
        audio, cached, _level = self.sentence(spoken)
        return audio, cached

    def sentence(self, spoken: str) -> tuple[Audio, bool, Level]:
        """One normalised sentence: its audio, whether it came from the cache, and its Level
        (loudness and gain), measured once when it entered the cache and stored there.

        A cache entry is untrusted (a cloned build/ may hold any bytes): it is read only
        when it is a regular file (not a link) of a bounded size and a WAV of a plausible
        rate and length; anything else is spoken again and replaced, never written
        through. A stored level out of its ranges (loudness.py) is measured again from the
        clip; one in range is used as it is, and the limiter keeps any gain's peaks under
        the ceiling."""
        with self._lock:
            made = self._made.pop(spoken, None)
        if made is not None:  # spoken ahead by `prefetch`
            self.synthesized += 1
            return made[0], False, made[1]
        folder = self._cache_folder()
        path = folder / f"{self.cache_key(spoken)}.wav" if folder is not None else None
        entry = _read_entry(path) if path is not None else None
        if entry is not None and path is not None:
            audio, level = entry
            if level is None:  # an entry from before levels were stored: measured once
                level = loudness.level(audio.samples, audio.sample_rate)
                _write_entry(path, audio, level)
            self.reused += 1
            return audio, True, level
        audio, level = self._synthesize(spoken)
        self.synthesized += 1
        if path is not None:
            _write_entry(path, audio, level)
        return audio, False, level

    def _synthesize(self, spoken: str) -> tuple[Audio, Level]:
        audio = self.engine.synthesize(spoken, voice=self.voice, language=self.language, rate=self.rate)
        return audio, loudness.level(audio.samples, audio.sample_rate)

    def missing(self, texts: Iterable[str]) -> list[str]:
        """The sentences of `texts` (normalised, once each) the cache has no entry for."""
        if self.engine.silent:
            return []
        folder = self._cache_folder()
        todo: list[str] = []
        for text in texts:
            for _written, spoken, _offset in self.sentences(text):
                path = folder / f"{self.cache_key(spoken)}.wav" if folder is not None else None
                if spoken not in todo and spoken not in self._made and (path is None or not path.is_file()):
                    todo.append(spoken)
        return todo

    def prefetch(self, texts: Iterable[str], *, background: bool = False) -> None:
        """Speak ahead, SPEAKERS sentences at once, every sentence of `texts` the cache lacks,
        storing each in the cache (and keeping it for `speak`); errors are left for `speak`
        to raise where the sentence is asked for. `background`: in daemon threads at the
        lowest CPU priority, returning at once (what they have not spoken when `hurry` or
        a later `prefetch` comes is spoken there); else now, and waiting for it."""
        if self.engine.silent or SPEAKERS < 2:
            return
        todo = self.missing(texts)
        with self._lock:
            self._todo += [spoken for spoken in todo if spoken not in self._todo and spoken not in self._busy]
        if not background:
            self.hurry()
            return
        if not self._threads:  # (at exit, or when this narrator goes: stopped between sentences)
            weakref.finalize(self, _stop, self._todo, self._threads, self._lock)
        for _ in range(SPEAKERS):
            thread = threading.Thread(target=self._speak_queued, name="lecture-speech", daemon=True)
            self._threads.append(thread)
            thread.start()

    def hurry(self) -> None:
        """Speak now, at this thread's CPU priority, what `prefetch` queued and no thread
        has spoken yet, the sentences being spoken in the background included (spoken
        again rather than waited for: a thread at the lowest priority may be starved)."""
        with self._lock:
            todo = [s for s in (*self._todo, *self._busy) if s not in self._made]
            self._todo.clear()
        if todo:
            with ThreadPoolExecutor(SPEAKERS, thread_name_prefix="lecture-speech") as pool:
                list(pool.map(self._speak_ahead, todo))
        # The background speakers end with the sentence they are on (spoken here too): never
        # left inside the engine when the process ends.
        for thread in self._threads:
            thread.join()
        self._threads.clear()

    def _speak_queued(self) -> None:
        """A background speaker: the queued sentences, one at a time, at the lowest priority."""
        lowest_priority()
        while True:
            with self._lock:
                if not self._todo:
                    return
                spoken = self._todo.pop(0)
                self._busy.add(spoken)
            self._speak_ahead(spoken)

    def _speak_ahead(self, spoken: str) -> None:
        try:
            audio, level = self._synthesize(spoken)
        except SpeechError:
            return
        finally:
            with self._lock:
                self._busy.discard(spoken)
        with self._lock:
            if spoken in self._made:
                return  # (spoken twice: see hurry; the same samples either way)
            self._made[spoken] = (audio, level)
        folder = self._cache_folder()
        if folder is not None:
            _write_entry(folder / f"{self.cache_key(spoken)}.wav", audio, level)

    # ------------------------------------------------------------ speaking

    def speak(self, text: str, *, wav_path: str | os.PathLike[str] | None = None) -> Speech:
        """Speak one narration text: each sentence separately, joined by `pause` seconds of
        silence (scaled by 1/rate). Cue times come from the sample counts."""
        problems = tuple(self.check(text))
        if self.engine.silent:
            speech = Speech(text, b"", getattr(self.engine, "SAMPLE_RATE", 22050), (), problems,
                            self.voice_spec)
            return speech.write_wav(wav_path) if wav_path is not None else speech
        parts: list[tuple[str, str, int, Audio, bool, float]] = []
        for written, spoken, offset in self.sentences(text):
            audio, cached, level = self.sentence(spoken)
            parts.append((written, spoken, offset, audio, cached, level.gain))
        rate_hz = parts[0][3].sample_rate if parts else 22050
        gap = b"\x00\x00" * round(self.pause / self.rate * rate_hz)
        chunks: list[bytes] = []
        cues: list[Cue] = []
        frame = 0
        for index, (written, spoken, offset, audio, cached, gain) in enumerate(parts):
            if index:
                chunks.append(gap)
                frame += len(gap) // 2
            if audio.sample_rate != rate_hz:
                audio = resample(audio, rate_hz)
            chunks.append(audio.samples)
            end = frame + audio.frames
            cues.append(Cue(written, spoken, frame / rate_hz, end / rate_hz, frame, end, offset, cached,
                            gain))
            frame = end
        speech = Speech(text, b"".join(chunks), rate_hz, tuple(cues), problems, self.voice_spec)
        return speech.write_wav(wav_path) if wav_path is not None else speech

    def speak_lines(self, texts: Iterable[str]) -> list[Speech]:
        return [self.speak(text) for text in texts]


def _stop(todo: list[str], threads: list[threading.Thread], lock: threading.Lock) -> None:
    """Background speakers stopped: nothing more to speak, the sentence each is on finished
    (a thread left inside the engine when the process ends would abort it)."""
    with lock:
        todo.clear()
    for thread in threads:
        thread.join()


def lowest_priority() -> None:
    """This thread at the lowest CPU priority (a thread's own on Linux; the threads and
    processes it starts inherit it): it takes only the CPU nothing else wants."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 19)
    except (AttributeError, OSError):
        pass


def _read_entry(path: Path) -> tuple[Audio, Level | None] | None:
    """A cache entry's audio and stored level (None: none or out of range), or None when it
    is not a usable entry (see Narrator.sentence)."""
    data = read_regular(path, MAX_SENTENCE_SECONDS * SAMPLE_RATES[1] * 2 + 4096)
    if data is None:
        return None
    try:
        audio = read_wav(data)
    except SpeechError:
        return None
    if not SAMPLE_RATES[0] <= audio.sample_rate <= SAMPLE_RATES[1] \
            or audio.frames > MAX_SENTENCE_SECONDS * audio.sample_rate:
        return None
    chunk = read_chunk(data, LEVEL_CHUNK)
    return audio, Level.from_bytes(chunk) if chunk is not None else None


def _write_entry(path: Path, audio: Audio, level: Level) -> None:
    try:
        write_bytes_atomic(path, wav_bytes(audio, {LEVEL_CHUNK: level.to_bytes()}))
    except OSError:
        pass  # a read-only cache only costs speed


def speak_lines(texts: Iterable[str], *, voice: str = "piper", language: str = "en", rate: float = 1.0,
                cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
                pause: float = DEFAULT_PAUSE) -> list[Speech]:
    """Speak several narration texts with one voice; see Narrator."""
    return Narrator(voice, language=language, rate=rate, cache_dir=cache_dir, pause=pause).speak_lines(texts)
