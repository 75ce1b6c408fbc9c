"""Narration before lowering: speak every step, time the lesson by its speech, report.

`plan_narration(lesson, narrator)` speaks the `say` actions of every step and returns a
NarrationPlan:

- `plan.lesson`: the TIMED lesson, a copy of the model in which a step whose speech (plus
  a short pause, TAIL_PAUSE) outruns its time lasts as long as its speech. Nothing else
  changes, so the compiler needs no change: it reads `Step.seconds` as always, and the
  video's timeline follows the speech. A step whose speech fits keeps its declared (or
  default) duration, so a lesson whose narration fits compiles exactly as before.
- `plan.sections`: per section, each step's Speech, its start in the section (seconds) and
  its timed duration, the section's length, and a narration hash for the cache key.
- `plan.diagnostics`: at the lesson's text, as the front end reports them:
  * `narration needs 3.4 s, step declares 2 s` (warning at the step; an error when
    strict) when the speech outruns a declared duration (a step with no declared duration
    silently takes its speech's length). A step its speech outruns lasts its speech plus
    TAIL_PAUSE, rounded up to a tenth of a second: the number the message says, the hint
    proposes (`step 3.4s`) and the video plays;
  * dead air (dead_air.py): more than six seconds of speech over a still picture, at the
    step (a warning; an error when strict);
  * the speech's Problems (LaTeX read aloud…) as warnings at the narration text, at the
    exact characters when the text is a one-line string without escapes;
  * a SpeechError (endpoint down, engine missing…) as an error at the step, naming it.
    After an error that says the engine itself is unusable, later steps are not tried
    (each would fail the same way, slowly); their speech is left empty.

Video timing: the generated scene gives step i the frames round(D_i * fps) - round(D_{i-1}
* fps), D_i being the sum of the first i step durations (each rounded to 4 decimals, as
the generated code writes them). `SectionNarration.frame_starts(fps)` mirrors that, so the
audio track and the subtitles put each step's speech on the frame where its step begins.

`narrator_for(lesson, voice=..., cache_dir=...)` builds the Narrator from the lesson's
`voice:`, `language:` and `rate:` settings (a `--voice` flag wins), or returns the
diagnostic that says why it cannot.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from lecture.compiler.diagnostics import Diagnostic, has_errors
from lecture.compiler.model import Action, Lesson, Section, Step, Text, Word
from lecture.compiler.span import NO_SPAN, Span

from .dead_air import dead_air, step_motion
from .speech import Narrator, Problem, Speech, SpeechError
from .speech.estimate import estimating_narrator
from .speech.narrator import DEFAULT_CACHE_DIR, Cue, lecture_version

TAIL_PAUSE = 0.4  # seconds of silence a step keeps after its speech
HASH_FORMAT = 2  # 2: sentences played at their stored gains (speech/loudness.py)
EMPTY_SECTION_SECONDS = 1.0  # a section without steps holds its frame for a second

# Errors after which the engine will fail the same way for every later step.
ENGINE_DOWN_CODES = frozenset({"speech-unreachable", "speech-engine-missing", "speech-no-endpoint",
                               "speech-no-voice", "unknown-voice"})


@dataclass(frozen=True)
class StepNarration:
    """One step of a section: its narration and where it lies in the section."""

    index: int  # 1-based, counting every step of the section (waits included)
    step: Step  # the timed step
    text: str  # what is spoken (the `say` texts, joined by a space); "" when silent
    speech: Speech
    start: float  # seconds from the section's start (sum of the earlier timed durations)
    declared: float  # the step's seconds before timing
    extended: bool = False  # True when the speech made the step longer

    @property
    def duration(self) -> float:
        return self.step.seconds

    @property
    def end(self) -> float:
        return self.start + self.duration


@dataclass(frozen=True)
class SectionNarration:
    id: str
    steps: tuple[StepNarration, ...]
    hash: str  # engine identity, voice, settings, texts and timing; for the cache key
    sample_rate: int
    spoken: bool = True  # False for a section left out by `sections=`

    @property
    def duration(self) -> float:
        """The section's timed length in seconds (before frame rounding)."""
        if not self.steps:
            return EMPTY_SECTION_SECONDS
        return sum(round(float(s.duration), 4) for s in self.steps)

    def frame_starts(self, fps: float) -> tuple[list[int], int]:
        """(first frame of each step, frames of the section) at `fps`, exactly as the
        generated scene counts them."""
        if not self.steps:
            return [], int(round(EMPTY_SECTION_SECONDS * fps))
        starts: list[int] = []
        declared = 0.0
        frames = 0
        for s in self.steps:
            starts.append(frames)
            declared += round(float(s.duration), 4)
            frames = max(frames, int(round(declared * fps)))
        return starts, frames

    def video_duration(self, fps: float) -> float:
        return self.frame_starts(fps)[1] / fps

    @property
    def cues(self) -> list[tuple[float, float, str]]:
        """Every spoken sentence as (start, end, text), seconds from the section's start
        (unquantized step starts; see `timed_cues` for the video's frames)."""
        return [(s.start + c.start, s.start + c.end, c.text) for s in self.steps for c in s.speech.sentences]

    def timed_cues(self, fps: float) -> list[tuple[float, float, str]]:
        """Every spoken sentence as (start, end, text), seconds from the section's start,
        each step starting on its first video frame."""
        starts, _ = self.frame_starts(fps)
        return [(f / fps + c.start, f / fps + c.end, c.text)
                for s, f in zip(self.steps, starts, strict=True) for c in s.speech.sentences]


@dataclass(frozen=True)
class NarrationPlan:
    lesson: Lesson  # the timed lesson: compile and hash this one
    sections: tuple[SectionNarration, ...]
    diagnostics: tuple[Diagnostic, ...]
    voice: str  # the narrator's voice spec, e.g. piper:en_US-joe-medium
    sample_rate: int  # the rate every section's track is built at
    synthesized: int = 0  # sentences the engine spoke (the rest came from the cache)
    reused: int = 0

    @property
    def ok(self) -> bool:
        return not has_errors(self.diagnostics)

    def section(self, section_id: str) -> SectionNarration | None:
        return next((s for s in self.sections if s.id == section_id), None)

    @property
    def silent(self) -> bool:
        return not any(st.speech.frames for s in self.sections for st in s.steps)


# ---------------------------------------------------------------- the narrator


def _setting_text(value) -> str | None:
    if value is None:
        return None
    if isinstance(value, Word):
        return value.name
    return str(value)


def _language_and_rate(lesson: Lesson) -> tuple[str, Any]:
    language = _setting_text(lesson.setting("language")) or "en"
    rate: Any = lesson.setting("rate", 1.0)  # a number, or what the Narrator refuses by name
    try:
        rate = float(rate)
    except (TypeError, ValueError):
        pass
    return language, rate


def estimating_narrator_for(lesson: Lesson) -> Narrator | None:
    """A Narrator that times the lesson's speech by an estimate (speech/estimate.py), at
    its language and rate; None when those are refused (narrator_for says why)."""
    try:
        return estimating_narrator(*_language_and_rate(lesson))
    except SpeechError:
        return None


def narrator_for(lesson: Lesson, *, voice: str | None = None,
                 cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
                 **engine_options) -> tuple[Narrator | None, list[Diagnostic]]:
    """The Narrator for a lesson's `voice:`, `language:` and `rate:` settings; `voice`
    (a `--voice` flag) overrides the setting. On a SpeechError: (None, [error diagnostic at
    the setting that chose the voice, or at the lesson's first line])."""
    spec = voice if voice is not None else (_setting_text(lesson.setting("voice")) or "piper")
    language, rate = _language_and_rate(lesson)
    try:
        return Narrator(spec, language=language, rate=rate, cache_dir=cache_dir, **engine_options), []
    except SpeechError as error:
        key = {"speech-bad-rate": "rate"}.get(error.code, "voice" if voice is None else None)
        setting = next((s for s in lesson.settings if s.key == key), None) if key else None
        if setting is None and error.code in ("speech-no-voice",):
            setting = next((s for s in lesson.settings if s.key == "language"), None)
        span = setting.value_span if setting is not None else _lesson_span(lesson)
        where = " (from --voice)" if voice is not None and error.code != "speech-bad-rate" else ""
        return None, [Diagnostic("error", error.message + where, span, error.hint, error.code)]


def _lesson_span(lesson: Lesson) -> Span:
    if lesson.span is not NO_SPAN and lesson.span.line:
        s = lesson.span
        return Span(s.file, s.line, s.column, s.line, s.column + 1, s.start_pos, s.start_pos + 1)
    return Span.point(lesson.file, 1, 1)


# ---------------------------------------------------------------- speaking


def say_texts(step: Step, section: Section) -> list[tuple[str, Text | None]]:
    """The texts a step speaks, in order, each with the Text it came from (for positions):
    `say l1 "words"` speaks the words, `say l1` speaks line l1's text."""
    out: list[tuple[str, Text | None]] = []
    for act in step.narration:
        text = _say_text(act, section)
        if text is not None and text.value.strip():
            out.append((text.value, text))
    return out


def _say_text(act: Action, section: Section) -> Text | None:
    if act.text is not None:
        return act.text
    for ref in act.targets:
        line = section.line(ref.name)
        if line is not None:
            return line.text
    return None


def _join(speeches: list[Speech], texts: list[str], pause_frames: int) -> Speech:
    """One Speech for a step with several `say`s: each spoken separately, joined by the
    narrator's pause; cue offsets and problem offsets point into the joined text."""
    if len(speeches) == 1:
        return speeches[0]
    from .speech.base import Audio
    from .speech.wav import resample

    rate = next((s.sample_rate for s in speeches if s.frames), speeches[0].sample_rate)
    chunks: list[bytes] = []
    cues: list[Cue] = []
    problems: list[Problem] = []
    frame = 0
    offset = 0
    for i, (speech, text) in enumerate(zip(speeches, texts, strict=True)):
        samples = speech.samples
        if speech.sample_rate != rate and samples:
            samples = resample(Audio(samples, speech.sample_rate), rate).samples
        if i and frame and samples:
            chunks.append(b"\x00\x00" * pause_frames)
            frame += pause_frames
        for c in speech.sentences:
            scale = rate / speech.sample_rate
            sf, ef = frame + round(c.start_frame * scale), frame + round(c.end_frame * scale)
            cues.append(replace(c, start=sf / rate, end=ef / rate, start_frame=sf, end_frame=ef,
                                offset=c.offset + offset))
        problems += [replace(p, start=p.start + offset, end=p.end + offset) for p in speech.problems]
        chunks.append(samples)
        frame += len(samples) // 2
        offset += len(text) + 1
    return Speech(" ".join(texts), b"".join(chunks), rate, tuple(cues), tuple(problems),
                  speeches[0].voice)


def _problem_span(text: Text | None, problem: Problem, fallback: Span) -> Span:
    """The span of a Problem: its exact characters when the text is a one-line string
    written without escapes (source length = value + 2 quotes), else the whole text."""
    if text is None or text.span is NO_SPAN or not text.span.line:
        return fallback
    s = text.span
    plain = (s.end_line == s.line and s.end_column - s.column == len(text.value) + 2
             and "\n" not in text.value)
    if not plain:
        return s
    start = max(0, min(problem.start, len(text.value)))
    end = max(start + 1, min(problem.end, len(text.value)))
    return Span(s.file, s.line, s.column + 1 + start, s.line, s.column + 1 + end,
                s.start_pos + 1 + start, s.start_pos + 1 + end)


def _seconds(value: float) -> str:
    """A duration as the lesson writes it: 3.1 -> '3.1', 2.0 -> '2', 2.25 -> '2.25'."""
    return f"{round(value, 3):g}"


def _needed(speech_seconds: float) -> float:
    """A step's length for its speech: the speech plus TAIL_PAUSE, up to the next ms."""
    return math.ceil(round((speech_seconds + TAIL_PAUSE) * 1000, 6)) / 1000


def _lengthened(need: float) -> float:
    """How long a step its speech outruns lasts: its need up to the next tenth of a second,
    the one number the diagnostic says, the hint proposes and the video plays."""
    return math.ceil(round(need * 10, 6)) / 10


def _step_name(index: int, section: Section) -> str:
    return f"step {index} of section '{section.id}'"


def _silent(narrator: Narrator, text: str) -> Speech:
    rate = getattr(narrator.engine, "SAMPLE_RATE", 22050)
    return Speech(text, b"", rate, (), (), narrator.voice_spec)


@dataclass
class _Speaker:
    """Speaks the steps one after another. After an error saying the engine itself is
    unusable, later steps are not tried (each would fail the same way, slowly)."""

    narrator: Narrator
    engine_down: bool = False

    def speak(self, step: Step, section: Section, index: int,
              texts: list[tuple[str, Text | None]]) -> tuple[Speech, list[Diagnostic]]:
        """The step's speech (silent when it says nothing or cannot be spoken) and its
        diagnostics: the texts' Problems, or the SpeechError that stopped it."""
        speeches: list[Speech] = []
        for value, _text in texts:
            if self.engine_down:
                return _silent(self.narrator, ""), []
            try:
                speeches.append(self.narrator.speak(value))
            except SpeechError as error:
                self.engine_down = error.code in ENGINE_DOWN_CODES
                return _silent(self.narrator, ""), [Diagnostic(
                    "error", f"cannot speak the narration of {_step_name(index, section)}: {error.message}",
                    step.span, error.hint, error.code or "speech")]
        if not speeches:
            return _silent(self.narrator, " ".join(v for v, _ in texts)), []
        problems = [Diagnostic("warning", problem.message, _problem_span(text, problem, step.span),
                               problem.hint, problem.code)
                    for (_value, text), sp in zip(texts, speeches, strict=True) for problem in sp.problems]
        pause = round(self.narrator.pause / self.narrator.rate * speeches[0].sample_rate)
        return _join(speeches, [v for v, _ in texts], pause), problems


def _timed(step: Step, speech: Speech, strict: bool) -> tuple[Step, list[Diagnostic]]:
    """The step lengthened to its speech when the speech outruns it (a tenth of a second at
    a time), with the finding when its duration was declared."""
    if not speech.frames or _needed(speech.duration) <= step.seconds + 1e-9:
        return step, []
    lasts = _lengthened(_needed(speech.duration))
    timed = replace(step, duration=lasts)
    if step.duration is None:  # no declared duration: the step silently takes its speech's
        return timed, []
    return timed, [Diagnostic(
        "error" if strict else "warning",
        f"narration needs {_seconds(lasts)} s, step declares {_seconds(step.seconds)} s", step.span,
        f"the step will last {_seconds(lasts)} s; shorten the narration or declare "
        f"`step {_seconds(lasts)}s`", "narration-too-long")]


@dataclass(frozen=True)
class _Row:
    """One step as spoken and timed, before its start in the section is known."""

    index: int
    step: Step  # timed
    text: str
    speech: Speech
    declared: float
    extended: bool  # the speech made the step longer


def _narrate_section(section: Section, speaker: _Speaker, *, speak: bool, strict: bool,
                     ) -> tuple[list[_Row], list[Diagnostic]]:
    """Speak and time one section's steps (`speak` False: keep them silent), with the
    narration's findings: problems, overruns, dead air."""
    rows: list[_Row] = []
    diagnostics: list[Diagnostic] = []
    highlighted: str | None = None  # the scene's highlighted lecture line (dead_air.py)
    for index, step in enumerate(section.steps, start=1):
        texts = say_texts(step, section) if speak else []
        speech, found = speaker.speak(step, section, index, texts)
        timed, overrun = _timed(step, speech, strict)
        motion = step_motion(timed, section, highlighted)
        highlighted = motion.highlighted
        still = dead_air(timed, speech.duration, motion, strict=strict) if speech.frames else None
        diagnostics += found + overrun + ([still] if still is not None else [])
        joined = " ".join(v for v, _ in texts)
        rows.append(_Row(index, timed, joined, speech, step.seconds, extended=timed is not step))
    return rows, diagnostics


def _common_rate(rows: list[_Row], narrator: Narrator) -> int:
    """The sample rate most of the speech has: every section's track is built at it."""
    rates = [row.speech.sample_rate for row in rows if row.speech.frames]
    return (max(sorted(set(rates)), key=rates.count) if rates
            else getattr(narrator.engine, "SAMPLE_RATE", 22050))


def _section_narration(section: Section, rows: list[_Row], narrator: Narrator, identity: str,
                       sample_rate: int, spoken: bool) -> SectionNarration:
    """The section's steps placed one after another, and its narration hash."""
    start = 0.0
    items = []
    for row in rows:
        items.append(StepNarration(row.index, row.step, row.text, row.speech, start, row.declared,
                                   row.extended))
        start += round(float(row.step.seconds), 4)
    return SectionNarration(section.id, tuple(items), _section_hash(narrator, identity, items, sample_rate),
                            sample_rate, spoken)


def plan_narration(lesson: Lesson, narrator: Narrator, *, strict: bool = False,
                   sections: Iterable[str] | None = None) -> NarrationPlan:
    """Speak every step's narration and time the lesson by it (see the module doc).

    `sections`: speak only these sections (the others keep their declared timings, with
    silent speech and `spoken=False`)."""
    wanted = None if sections is None else set(sections)
    # the sentences the cache lacks, spoken ahead on the cores there are
    narrator.prefetch(value for section in lesson.sections if wanted is None or section.id in wanted
                      for step in section.steps for value, _text in say_texts(step, section))
    speaker = _Speaker(narrator)
    synthesized0, reused0 = narrator.synthesized, narrator.reused
    narrated: list[tuple[Section, list[_Row], bool]] = []
    diagnostics: list[Diagnostic] = []
    for section in lesson.sections:
        speak = wanted is None or section.id in wanted
        rows, found = _narrate_section(section, speaker, speak=speak, strict=strict)
        diagnostics += found
        steps = tuple(row.step for row in rows)
        narrated.append((replace(section, steps=steps) if steps != section.steps else section, rows, speak))

    sample_rate = _common_rate([row for _, rows, _ in narrated for row in rows], narrator)
    identity = _identity(narrator)
    out = tuple(_section_narration(section, rows, narrator, identity, sample_rate, spoken)
                for section, rows, spoken in narrated)
    timed_lesson = replace(lesson, sections=tuple(section for section, _, _ in narrated))
    diagnostics.sort(key=lambda d: (d.span.line, d.span.column))
    return NarrationPlan(timed_lesson, out, tuple(diagnostics), narrator.voice_spec, sample_rate,
                         narrator.synthesized - synthesized0, narrator.reused - reused0)


def _identity(narrator: Narrator) -> str:
    try:
        return narrator.engine.identity(narrator.voice)
    except SpeechError as error:  # an identity that cannot be read still keys something stable
        return f"unavailable: {error.code}"


def _section_hash(narrator: Narrator, identity: str, steps: list[StepNarration], sample_rate: int) -> str:
    key = {
        "format": HASH_FORMAT, "lecture": lecture_version(), "engine": narrator.spec.engine,
        "voice": narrator.voice, "identity": identity, "language": narrator.language,
        "rate": repr(narrator.rate), "pause": repr(narrator.pause), "tail": TAIL_PAUSE,
        "sample_rate": sample_rate,
        "steps": [[s.text, repr(round(float(s.duration), 4)), s.speech.frames,
                   [repr(round(c.gain, 3)) for c in s.speech.sentences]] for s in steps],
    }
    return hashlib.sha256(json.dumps(key, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def lesson_narration_hash(plan: NarrationPlan) -> str:
    """One hash for the whole lesson's narration (the lesson.mp4 audio)."""
    return hashlib.sha256("\n".join(s.hash for s in plan.sections).encode()).hexdigest()


__all__ = ["ENGINE_DOWN_CODES", "TAIL_PAUSE", "StepNarration", "SectionNarration", "NarrationPlan",
           "estimating_narrator_for", "narrator_for", "plan_narration", "say_texts", "lesson_narration_hash"]
