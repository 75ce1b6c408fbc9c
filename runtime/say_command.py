"""`lecture say FILE [--section ID] [-o narration.wav] [--voice V]` and `lecture voices`.

`say` speaks a lesson's narration alone, without rendering anything, so that an author
can check pronunciation and pacing: the sections' narration tracks back to back, each
step's speech at the time the video will show that step (steps lengthened by their
speech as in a render), loudness-normalised like lesson.mp4's audio, into one WAV. Its
duration is the sum of the timed steps (in whole video frames at the lesson's fps).
Diagnostics as everywhere: warnings printed, errors printed and exit status 2.

`voices` lists every voice of every speech engine, installed or not.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from lecture.compiler import frontend
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.model import Lesson
from lecture.compiler.span import Span

from . import voice_track
from .ffmpeg import FfmpegError
from .speech import list_voices
from .speech.narrator import DEFAULT_CACHE_DIR
from .step_timing import narrator_for, plan_narration

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_LESSON_ERROR = 2
DEFAULT_FPS = 30


def _plain(console: Any, text: str, style: str | None = None) -> None:
    if console is None:
        print(text)
    else:
        console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)


def _print_diagnostics(console: Any, diagnostics, source: str | None) -> None:
    for d in diagnostics:
        _plain(console, d.render(source), "red" if d.severity == "error" else "yellow")


def lesson_fps(lesson: Lesson) -> int:
    """The lesson's `fps:` setting (as render.py reads it), else 30."""
    value = lesson.setting("fps")
    try:
        fps = int(round(float(value))) if value is not None else DEFAULT_FPS  # type: ignore[arg-type]
    except (TypeError, ValueError):
        fps = DEFAULT_FPS
    return fps if fps > 0 else DEFAULT_FPS


def run_say(path: str | os.PathLike[str], *, section: str | None, output: Path, voice: str | None,
            console: Any = None, cache_dir: str | os.PathLike[str] | None = DEFAULT_CACHE_DIR,
            fps: int | None = None, normalise: bool = True, strict: bool = False) -> int:
    """Speak the lesson (or one section) into `output` (a WAV). Returns the exit status."""
    path = Path(path)
    try:
        loaded = frontend.load_file(path, strict=strict)
    except DiagnosticError as exc:
        _print_diagnostics(console, exc.diagnostics, exc.source)
        return EXIT_LESSON_ERROR
    lesson, text = loaded.lesson, loaded.source.text
    _print_diagnostics(console, loaded.diagnostics, text)

    chosen: list[str] | None = None
    if section is not None:
        if lesson.section(section) is None:
            valid = ", ".join(s.id for s in lesson.sections) or "(none)"
            span = lesson.span if lesson.span.line else Span.point(str(path), 1, 1)
            span = Span(span.file, span.line, span.column, span.line, span.column + 1)
            _print_diagnostics(console, [Diagnostic("error", f"no section {section!r} in this lesson", span,
                                                    f"the sections are: {valid}", "unknown-section")],
                               text)
            return EXIT_LESSON_ERROR
        chosen = [section]

    narrator, problems = narrator_for(lesson, voice=voice, cache_dir=cache_dir)
    if narrator is None:
        _print_diagnostics(console, problems, text)
        return EXIT_LESSON_ERROR
    plan = plan_narration(lesson, narrator, strict=strict, sections=chosen)
    _print_diagnostics(console, plan.diagnostics, text)
    if not plan.ok:
        return EXIT_LESSON_ERROR

    fps = fps or lesson_fps(lesson)
    output = Path(output)
    output.parent.mkdir(parents=True, exist_ok=True)
    try:
        if normalise:  # at the narration's level, at the rate the videos carry
            voice_track.write_lesson_track(plan, fps, output, chosen, sample_rate=voice_track.OUTPUT_RATE)
        else:
            voice_track.write_lesson_track(plan, fps, output, chosen, levelled=False)
    except (FfmpegError, OSError) as exc:
        _plain(console, f"error: could not write {output}: {exc}", "red")
        return EXIT_FAILED

    for s in plan.sections:
        if chosen is not None and s.id not in chosen:
            continue
        longer = [st for st in s.steps if st.extended]
        note = f", {len(longer)} step{'s' if len(longer) != 1 else ''} lengthened by speech" if longer else ""
        _plain(console, f"  {s.id}: {s.video_duration(fps):.2f}s{note}")
    seconds = voice_track.wav_duration(output)
    _plain(console, f"wrote {output} ({seconds:.2f}s, voice {plan.voice}; "
                    f"{plan.synthesized} sentence{'s' if plan.synthesized != 1 else ''} spoken, "
                    f"{plan.reused} from the cache)", "bold green")
    return EXIT_OK


def run_voices(console: Any = None) -> int:
    """Print every voice of every engine: spec, language, installed or not, licence, note."""
    voices = list_voices()
    rows = [("VOICE", "LANGUAGE", "INSTALLED", "NOTE")]
    for v in voices:
        note = "; ".join(x for x in (v.licence, v.note) if x)
        rows.append((v.spec, v.language, "yes" if v.installed else "no", note))
    widths = [max(len(r[i]) for r in rows) for i in range(3)]
    for r in rows:
        _plain(console, "  ".join(cell.ljust(w) for cell, w in zip(r[:3], widths, strict=True)) + "  " + r[3])
    return EXIT_OK


__all__ = ["run_say", "run_voices", "lesson_fps"]
