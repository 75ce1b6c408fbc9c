"""Speech: engines, determinism, sentence cues, the sentence cache, text normalisation,
and the errors a build reports (real piper and espeak-ng synthesis; a local fake
OpenAI-compatible server)."""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import math
import socket
import struct
import subprocess
import sys
import threading
import wave
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lecture.runtime.speech import (
    Narrator,
    Problem,
    SpeechError,
    find_latex,
    get_engine,
    list_voices,
    normalise,
    parse_voice,
    speak_lines,
    split_sentences,
)
from lecture.runtime.speech.base import Audio, Engine
from lecture.runtime.speech.wav import read_wav

TEXT = "Here is a right triangle. Its longest side, c, is the hypotenuse. So a² + b² = c²."


class Counting(Engine):
    """Wraps an engine and records every sentence it is asked to speak."""

    def __init__(self, inner: Engine) -> None:
        self.inner = inner
        self.spoken: list[str] = []
        self.name = inner.name
        self.silent = inner.silent

    def resolve(self, voice, language):
        return self.inner.resolve(voice, language)

    def identity(self, voice):
        return self.inner.identity(voice)

    def synthesize(self, text, *, voice, language, rate):
        self.spoken.append(text)
        return self.inner.synthesize(text, voice=voice, language=language, rate=rate)

    def voices(self):
        return self.inner.voices()


@pytest.fixture(scope="module")
def piper() -> Narrator:
    return Narrator("piper", cache_dir=None)


@pytest.fixture(scope="module")
def spoken(piper: Narrator):
    return piper.speak(TEXT)


# ---------------------------------------------------------------- determinism


def test_piper_same_text_same_bytes_in_process(spoken) -> None:
    narrator = Narrator("piper", cache_dir=None)
    again = narrator.speak(TEXT)
    assert again.samples == spoken.samples and again.sentences == spoken.sentences
    assert narrator.synthesized == 3  # no cache: every sentence spoken
    assert spoken.sample_rate == 22050 and spoken.duration > 2.0


def test_piper_same_bytes_in_another_process(spoken) -> None:
    here = hashlib.sha256(spoken.samples).hexdigest()
    code = ("import hashlib, sys; from lecture.runtime.speech import Narrator; "
            "print(hashlib.sha256(Narrator('piper', cache_dir=None).speak(sys.argv[1]).samples).hexdigest())")
    out = subprocess.run([sys.executable, "-c", code, TEXT], capture_output=True, text=True, timeout=120,
                         check=True).stdout.strip()
    assert out == here


def test_rate_changes_length() -> None:
    slow = Narrator("piper", rate=0.8, cache_dir=None).speak("The longest side.")
    fast = Narrator("piper", rate=1.25, cache_dir=None).speak("The longest side.")
    assert slow.duration > fast.duration * 1.3


# ---------------------------------------------------------------- cues and WAV


def test_sentence_cues_follow_the_samples(piper: Narrator, spoken, tmp_path: Path) -> None:
    speech = spoken.write_wav(tmp_path / "n.wav")
    assert [c.text for c in speech.sentences] == [
        "Here is a right triangle.", "Its longest side, c, is the hypotenuse.", "So a² + b² = c²."]
    assert speech.sentences[2].spoken == "So a squared plus b squared equals c squared."
    assert all(TEXT[c.offset:c.offset + len(c.text)] == c.text for c in speech.sentences)
    rate = speech.sample_rate
    gap = round(piper.pause / piper.rate * rate)
    previous_end = 0
    for i, cue in enumerate(speech.sentences):
        assert 0 <= cue.start < cue.end <= speech.duration
        assert cue.start_frame == (0 if i == 0 else previous_end + gap)
        assert math.isclose(cue.start, cue.start_frame / rate) and math.isclose(cue.end, cue.end_frame / rate)
        alone = piper.speak(cue.text)  # the sentence spoken on its own has exactly that length
        assert alone.frames == cue.end_frame - cue.start_frame
        assert speech.samples[cue.start_frame * 2:cue.end_frame * 2] == alone.samples
        previous_end = cue.end_frame
    assert previous_end == speech.frames and math.isclose(speech.duration, speech.frames / rate)
    with wave.open(str(speech.wav), "rb") as w:
        assert (w.getnchannels(), w.getsampwidth(), w.getframerate()) == (1, 2, 22050)
        assert w.readframes(w.getnframes()) == speech.samples


# ---------------------------------------------------------------- cache


def test_cache_hit_speaks_nothing_and_an_edit_speaks_one_sentence(tmp_path: Path) -> None:
    counting = Counting(get_engine("piper"))
    first = Narrator("piper", cache_dir=tmp_path, engine=counting).speak(TEXT)
    assert len(counting.spoken) == 3
    files = sorted(tmp_path.rglob("*"))
    assert len([f for f in files if f.suffix == ".wav"]) == 3
    assert not [f for f in files if f.is_file() and f.suffix != ".wav"]  # no temporary files left

    counting.spoken.clear()
    again = Narrator("piper", cache_dir=tmp_path, engine=counting)
    second = again.speak(TEXT)
    assert counting.spoken == [] and again.reused == 3
    assert second.samples == first.samples and second.sentences == first.sentences

    edited = TEXT.replace("longest side, c,", "longest side")
    third = Narrator("piper", cache_dir=tmp_path, engine=counting).speak(edited)
    assert counting.spoken == ["Its longest side is the hypotenuse."]
    assert third.sentences[0] == first.sentences[0]

    counting.spoken.clear()  # another rate is another voice setting: spoken again
    Narrator("piper", rate=1.1, cache_dir=tmp_path, engine=counting).speak("Here is a right triangle.")
    assert counting.spoken == ["Here is a right triangle."]


def test_damaged_cache_entry_is_spoken_again(tmp_path: Path) -> None:
    counting = Counting(get_engine("piper"))
    narrator = Narrator("piper", cache_dir=tmp_path, engine=counting)
    good = narrator.speak("A square has four sides.")
    entry = next(tmp_path.rglob("*.wav"))
    entry.write_bytes(b"RIFF garbage")
    again = Narrator("piper", cache_dir=tmp_path, engine=counting).speak("A square has four sides.")
    assert len(counting.spoken) == 2 and again.samples == good.samples
    assert read_wav(entry).samples == good.samples


def test_speak_lines(tmp_path: Path) -> None:
    out = speak_lines(["One.", "Two. Three."], voice="piper", cache_dir=tmp_path)
    assert [len(s.sentences) for s in out] == [1, 2]


# ---------------------------------------------------------------- text


@pytest.mark.parametrize("text, spoken", [
    ("A 90° angle", "A ninety degree angle"),
    ("Turn it 45°.", "Turn it forty-five degrees."),
    ("It is 20°C.", "It is twenty degrees Celsius."),
    ("50% of them", "fifty percent of them"),
    ("a² + b² = c²", "a squared plus b squared equals c squared"),
    ("x³ − y", "x cubed minus y"),
    ("x^2 - 4 = 0", "x squared minus four equals zero"),
    ("2^10", "two to the power of ten"),
    ("3 × 4 ÷ 2", "three times four divided by two"),
    ("π is 3.14", "pi is three point one four"),
    ("0.5", "zero point five"),
    ("1/2", "one half"),
    ("3/4", "three quarters"),
    ("2/3", "two thirds"),
    ("5/8", "five eighths"),
    ("7/25", "seven over twenty-five"),
    ("a ≤ b ≥ c", "a is less than or equal to b is greater than or equal to c"),
    ("x = -3", "x equals minus three"),
    ("0", "zero"),
    ("21", "twenty-one"),
    ("105", "one hundred five"),
    ("1,000,000", "one million"),
    ("2500000", "two million five hundred thousand"),
    ("123456", "one hundred twenty-three thousand four hundred fifty-six"),
    ("the 1st and 22nd", "the first and twenty-second"),
    ("ages 12-14", "ages twelve to fourteen"),
    ("α + β = 90°", "alpha plus beta equals ninety degrees"),
    ("½", "one half"),
    ("$5", "five dollars"),
    ("The result – surprisingly – holds.", "The result – surprisingly – holds."),
    ("well-known", "well-known"),
    (r"$\frac{1}{2}$", "one half"),
    (r"\sqrt{x} and \pi", "the square root of x and pi"),
    ("a^{2}", "a squared"),
])
def test_english_notation(text: str, spoken: str) -> None:
    assert normalise(text, "en") == spoken


def test_other_languages_pass_through() -> None:
    assert normalise("Il fait 20 degrés, 50 %.", "fr") == "Il fait 20 degrés, 50 %."
    assert normalise(r"$\frac{1}{2}$", "de") == "1/2"  # LaTeX clean-up applies to every language


def test_latex_is_reported_with_offsets() -> None:
    text = r"The area is $\frac{1}{2}bh$, and a^{2} too."
    problems = find_latex(text)
    assert problems and all(isinstance(p, Problem) and p.severity == "warning" for p in problems)
    assert text[problems[0].start:problems[0].end].startswith("$")
    assert any(text[p.start:p.end] == "^{" for p in problems)
    assert problems[0].hint and "math" in problems[0].hint
    assert find_latex("It costs $5 and $10.") == [] and find_latex("A plain sentence.") == []
    assert Narrator("none").speak(text).problems  # the warnings come back with the speech


def test_sentences() -> None:
    text = "First one. Pi is 3.14 here! See Fig. 2 e.g. this one? yes.\n\nLast part"
    assert [text[a:b] for a, b in split_sentences(text)] == [
        "First one.", "Pi is 3.14 here!", "See Fig. 2 e.g. this one? yes.", "Last part"]
    assert split_sentences("   ") == []


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.text())
def test_any_text_normalises_or_reports(text: str) -> None:
    for language in ("en", "fr"):
        spoken = normalise(text, language)
        assert isinstance(spoken, str)
        spoken.encode("utf-8")  # no lone surrogates reach an engine
    problems = find_latex(text)
    assert all(isinstance(p, Problem) and 0 <= p.start <= p.end <= len(text) for p in problems)
    for a, b in split_sentences(text):
        assert 0 <= a < b <= len(text)
    Narrator("none").check(text)


@pytest.mark.parametrize("text", ["", "...", "\x00\x01", "😀 🎉", r"$\frac{}{}$", "1/0 and 10^999",
                                  "9" * 20, "ﷺ ☃ ∮", "\ud800 lone surrogate"])
def test_odd_text_is_spoken_without_other_errors(piper: Narrator, text: str) -> None:
    try:
        speech = piper.speak(text)
    except SpeechError:
        return
    assert speech.frames >= 0 and all(c.end <= speech.duration for c in speech.sentences)


# ---------------------------------------------------------------- engines and errors


def test_espeak_speaks_french() -> None:
    narrator = Narrator("espeak", language="fr", cache_dir=None)
    speech = narrator.speak("Bonjour. Le triangle a trois côtés.")
    assert speech.duration > 1.0 and len(speech.sentences) == 2
    assert np.abs(speech.array()).max() > 1000  # not silence
    assert narrator.speak("Bonjour. Le triangle a trois côtés.").samples == speech.samples


def test_piper_without_a_voice_for_the_language_suggests_espeak() -> None:
    with pytest.raises(SpeechError) as caught:
        Narrator("piper", language="fr")
    assert "fr" in caught.value.message and "espeak" in caught.value.hint
    assert caught.value.code == "speech-no-voice"


def test_espeak_missing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SpeechError) as caught:
        Narrator("espeak", language="fr")
    assert "espeak-ng is not installed" in caught.value.message and "apt-get" in caught.value.hint


def test_bad_specs() -> None:
    with pytest.raises(SpeechError, match="no speech engine named 'pipr'"):
        parse_voice("pipr")
    assert parse_voice("openai:alloy").voice == "alloy" and parse_voice("").engine == "piper"
    with pytest.raises(SpeechError, match="rate"):
        Narrator("none", rate=0)
    with pytest.raises(SpeechError, match="no piper voice named"):
        Narrator("piper:fr_FR-nobody-low")


def test_silent_voice() -> None:
    speech = Narrator("none").speak(TEXT)
    assert speech.duration == 0 and speech.sentences == ()


def test_list_voices() -> None:
    voices = list_voices()
    joe = [v for v in voices if v.engine == "piper" and v.voice == "en_US-joe-medium"]
    assert joe and joe[0].installed and "CC0" in joe[0].licence and joe[0].language == "en-us"
    assert any(v.engine == "espeak" and v.language.startswith("fr") for v in voices)
    assert {v.engine for v in voices} >= {"piper", "espeak", "openai", "none"}


# ---------------------------------------------------------------- openai-compatible endpoint


def _wav(rate: int, seconds: float, streaming: bool = False) -> bytes:
    t = np.arange(int(rate * seconds)) / rate
    samples = (np.sin(2 * np.pi * 220 * t) * 8000).astype("<i2").tobytes()
    if not streaming:
        buffer = io.BytesIO()
        with wave.open(buffer, "wb") as w:
            w.setnchannels(1)
            w.setsampwidth(2)
            w.setframerate(rate)
            w.writeframes(samples)
        return buffer.getvalue()
    # the way streaming servers write it: unknown sizes
    return struct.pack("<4sI4s4sIHHIIHH4sI", b"RIFF", 0xFFFFFFFF, b"WAVE", b"fmt ", 16, 1, 1, rate,
                       rate * 2, 2, 16, b"data", 0xFFFFFFFF) + samples


@pytest.fixture()
def speech_server():
    requests: list[dict] = []
    state = {"status": 200, "streaming": False}

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self):  # noqa: N802
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            requests.append({"path": self.path, "auth": self.headers.get("Authorization"), **body})
            if state["status"] != 200:
                error = {"error": {"message": "model exploded", "type": "server_error"}}
                payload = json.dumps(error).encode()
                self.send_response(state["status"])
                self.send_header("Content-Type", "application/json")
            else:
                payload = _wav(24000, 0.25 + 0.05 * len(body["input"].split()), state["streaming"])
                self.send_response(200)
                self.send_header("Content-Type", "audio/wav")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/v1", requests, state
    server.shutdown()
    server.server_close()


def test_openai_engine_against_a_local_server(speech_server, tmp_path: Path) -> None:
    base_url, requests, state = speech_server
    narrator = Narrator("openai:nova", cache_dir=tmp_path, base_url=base_url, api_key="sk-test",
                        model="tts-test", max_retries=0)
    speech = narrator.speak("Hello there. It is 3.5 metres.")
    assert [r["input"] for r in requests] == ["Hello there.", "It is three point five metres."]
    assert requests[0]["path"] == "/v1/audio/speech" and requests[0]["auth"] == "Bearer sk-test"
    first = requests[0]
    assert (first["model"], first["voice"], first["response_format"]) == ("tts-test", "nova", "wav")
    assert speech.sample_rate == 24000 and len(speech.sentences) == 2
    assert speech.sentences[1].end_frame == speech.frames
    Narrator("openai:nova", cache_dir=tmp_path, base_url=base_url, api_key="sk-test", model="tts-test").speak(
        "Hello there. It is 3.5 metres.")
    assert len(requests) == 2  # cached

    state["streaming"] = True  # placeholder sizes in the WAV header are read to the end
    streamed = narrator.speak("Streaming works.")
    assert math.isclose(streamed.duration, 0.35, abs_tol=1e-3)

    state["status"] = 500
    with pytest.raises(SpeechError) as caught:
        narrator.speak("This one fails.")
    assert "answered 500" in caught.value.message and "model exploded" in caught.value.message


def test_openai_unreachable_endpoint() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    narrator = Narrator("openai", cache_dir=None, base_url=f"http://127.0.0.1:{port}/v1", api_key="x",
                        max_retries=0, timeout=5)
    with pytest.raises(SpeechError) as caught:
        narrator.speak("Anyone there?")
    assert f"cannot reach the speech endpoint http://127.0.0.1:{port}/v1/audio/speech" in caught.value.message
    assert "OPENAI_BASE_URL" in caught.value.hint


def test_openai_without_configuration(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    monkeypatch.delenv("OPENAI_BASE_URL", raising=False)
    with pytest.raises(SpeechError, match="no endpoint configured"):
        Narrator("openai:alloy")


def test_audio_roundtrip() -> None:
    audio = Audio(np.arange(-100, 100, dtype="<i2").tobytes(), 16000)
    from lecture.runtime.speech.wav import wav_bytes

    assert read_wav(wav_bytes(audio)) == audio
    with pytest.raises(SpeechError):
        read_wav(b"not a wav at all")
