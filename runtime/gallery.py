"""`lecture gallery`: a Markdown page (docs/gallery.md) that shows what Lecture makes.

For each lesson, its build: rendered as `lecture render -q low` does (into the same build
folder, through the same render cache, so an unchanged lesson costs a cache lookup), or
with `--no-render` the build folder as it is (refused when the lesson changed since it was
rendered). From the build's section videos it cuts

- a still (PNG, at the render's size): the last frame of the lesson's fullest section, the
  one with the most elements (the first of equals), that is the end of its last step,
  with everything it draws in place;
- a clip (an animated GIF, or VP9 WebM with `--clip webm`; CLIP_WIDTH pixels wide at
  CLIP_FPS, silent): the CLIP_SECONDS of one section in which the picture moves the most.
  A window starts where a step starts (moved back to fit in its section; a shorter
  section is taken whole) and scores the seconds of animation inside it, each step's
  as the narration's dead-air rule counts them (dead_air.step_motion); the first of
  equals wins.

and writes the page: per lesson its title, subject, audience and length, a link to the
lesson file, the still and the clip. Media go to `--media-dir` as <lesson stem>.png and
.gif/.webm, each written under a fresh name and renamed into place; the page is written
last, all at once. A lesson that cannot be built or cut is reported and left out of the
page (the exit status says so).
"""

from __future__ import annotations

import json
import os
import re
import stat
import urllib.parse
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lecture.compiler import source
from lecture.compiler.diagnostics import DiagnosticError, printable, render_all
from lecture.compiler.model import Lesson, Section, Text, Word

from . import manifest as manifest_mod
from .atomic import write_atomically
from .build import MANIFEST_NAME, RenderOptions, render_lessons
from .collaborators import Collaborators
from .dead_air import step_motion
from .ffmpeg import FfmpegError, cut_clip, last_frame
from .plan import load
from .report import EXIT_LESSON_ERROR, EXIT_OK, say
from .safe_fs import UnsafePathError, atomic_output, read_regular

if TYPE_CHECKING:
    from rich.console import Console

CLIP_SECONDS = 6.0
CLIP_WIDTH = 480
CLIP_FPS = 12
CLIP_FORMATS = ("gif", "webm")
EXAMPLES = "examples/*.lecture"  # the lessons of a gallery named no lesson
MAX_MANIFEST_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class GalleryOptions:
    out: Path = Path("docs/gallery.md")
    media_dir: Path = Path("docs/gallery")
    clip_format: str = "gif"  # one of CLIP_FORMATS
    render: bool = True  # False: take the build folders as they are
    build: RenderOptions = field(default_factory=lambda: RenderOptions(quality="low"))


@dataclass(frozen=True)
class Built:
    """A lesson with a finished build of its current text."""

    path: Path
    lesson: Lesson
    folder: Path  # build_root/<stem>
    duration: float  # seconds of lesson.mp4
    fps: int
    timings: dict[str, tuple[float, ...]]  # each section's step durations, as rendered


@dataclass(frozen=True)
class Cut:
    """A stretch of one section's video (seconds from the section's start)."""

    section: Section
    start: float
    seconds: float


@dataclass(frozen=True)
class StepSpan:
    """One step in its section's video: where it starts and how long its picture moves."""

    start: float
    moving: float


@dataclass(frozen=True)
class Entry:
    """One lesson on the page."""

    built: Built
    still: Path
    still_section: Section
    clip: Path
    clip_cut: Cut


class GalleryError(Exception):
    """Why a lesson is left out of the gallery (the message says what to do)."""


# ---------------------------------------------------------------- the command


def run_gallery(paths: Sequence[Path], options: GalleryOptions | None = None, *,
                console: Console | None = None, collaborators: Collaborators | None = None) -> int:
    """Build (or take) each lesson, cut its still and clip, write the page; the exit status
    (0: every lesson is on the page; else the worst of the render's and EXIT_LESSON_ERROR)."""
    options = options or GalleryOptions()
    lessons = list(paths) or sorted(Path().glob(EXAMPLES))
    if not lessons:
        say(console, f"error: no lessons named, and none in {EXAMPLES}", "red")
        return EXIT_LESSON_ERROR
    status = EXIT_OK
    if options.render:
        status = render_lessons(lessons, options.build, console=console, collaborators=collaborators)
    entries: list[Entry] = []
    for path in lessons:
        try:
            entries.append(make_entry(Path(path), options))
        except (GalleryError, FfmpegError, UnsafePathError) as exc:
            say(console, f"{printable(str(path))}: error: {exc}; left out of the gallery", "red")
            status = max(status, EXIT_LESSON_ERROR)
    if entries:
        write_page(entries, options)
        say(console, f"wrote {options.out} ({len(entries)} of {len(lessons)} lessons)")
    return status


def make_entry(path: Path, options: GalleryOptions) -> Entry:
    """The lesson's build read back, its still and clip written into the media folder."""
    built = read_build(path, options.build.build_root)
    still_section = fullest_section(built.lesson)
    clip = busiest_cut(built)
    options.media_dir.mkdir(parents=True, exist_ok=True)
    still = options.media_dir / f"{path.stem}.png"
    with atomic_output(still, suffix=".png") as tmp:
        last_frame(section_video(built, still_section), tmp, mp4_only=True)
    movie = options.media_dir / f"{path.stem}.{options.clip_format}"
    with atomic_output(movie, suffix=movie.suffix) as tmp:
        cut_clip(section_video(built, clip.section), tmp, start=clip.start, seconds=clip.seconds,
                 width=CLIP_WIDTH, fps=min(CLIP_FPS, built.fps))
    return Entry(built, still, still_section, movie, clip)


# ---------------------------------------------------------------- the build


def read_build(path: Path, build_root: Path) -> Built:
    """The lesson and its build folder's manifest, which must describe a complete build of
    the lesson's current text."""
    try:
        loaded = load(source.read(path), path.resolve().parent)
    except DiagnosticError as exc:
        raise GalleryError("the lesson has errors:\n" + render_all(exc.diagnostics, exc.source)) from None
    folder = Path(build_root) / path.stem
    man = _manifest(folder)
    if man.get("content_hash") != manifest_mod.content_hash(loaded.source.text):
        raise GalleryError(f"the build in {folder} is not of this lesson's current text; "
                           "render it again (leave out --no-render)")
    duration, fps = _number(man.get("duration")), man.get("fps")
    if man.get("status") != "ok" or duration is None or not isinstance(fps, int) or fps <= 0:
        raise GalleryError(f"the build in {folder} is not complete; render the whole lesson again")
    return Built(path, loaded.lesson, folder, duration, fps, _timings(man, loaded.lesson))


def _manifest(folder: Path) -> dict:
    data = read_regular(folder / MANIFEST_NAME, MAX_MANIFEST_BYTES)
    try:
        man = None if data is None else json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        man = None
    if not isinstance(man, dict):
        raise GalleryError(f"no readable build in {folder}; render the lesson first")
    return man


def _number(value: object) -> float | None:
    """A positive number read from the manifest, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float) or value <= 0:
        return None
    return float(value)


def _timings(man: dict, lesson: Lesson) -> dict[str, tuple[float, ...]]:
    """Each section's step durations as the build timed them (the narration's record: a
    step its speech outruns lasts longer), else as the lesson declares them."""
    narration = man.get("narration")
    steps = narration.get("steps") if isinstance(narration, dict) else None
    recorded: dict[str, dict[int, float]] = {}
    for rec in steps if isinstance(steps, list) else []:
        if isinstance(rec, dict) and isinstance(rec.get("section"), str) \
                and isinstance(rec.get("step"), int) and (seconds := _number(rec.get("duration"))):
            recorded.setdefault(rec["section"], {})[rec["step"]] = seconds
    timings = {}
    for section in lesson.sections:
        timed = recorded.get(section.id, {})
        timings[section.id] = tuple(timed.get(i, step.seconds) for i, step in enumerate(section.steps, 1))
    return timings


def section_video(built: Built, section: Section) -> Path:
    """The section's video in the build folder: a regular file (never a link)."""
    video = built.folder / "sections" / f"{section.id}.mp4"
    try:
        regular = stat.S_ISREG(os.lstat(video).st_mode)
    except OSError:
        regular = False
    if not regular:
        raise GalleryError(f"{video} is missing; render the lesson again")
    return video


# ---------------------------------------------------------------- what to show


def fullest_section(lesson: Lesson) -> Section:
    """The section with the most elements (the first of equals): its end is the still."""
    if not lesson.sections:
        raise GalleryError("the lesson has no sections")
    return max(lesson.sections, key=lambda s: len(s.elements))


def step_spans(section: Section, durations: Sequence[float], fps: int) -> tuple[list[StepSpan], float]:
    """Each step's start on its first frame, as the generated scene counts frames
    (step_timing.SectionNarration.frame_starts), and how long its picture moves; and the
    section's length."""
    spans: list[StepSpan] = []
    declared, frames = 0.0, 0
    highlighted: str | None = None
    for step, seconds in zip(section.steps, durations, strict=True):
        motion = step_motion(replace(step, duration=seconds), section, highlighted)
        highlighted = motion.highlighted
        spans.append(StepSpan(frames / fps, motion.seconds))
        declared += round(float(seconds), 4)
        frames = max(frames, int(round(declared * fps)))
    return spans, frames / fps


def motion_in(spans: Sequence[StepSpan], start: float, seconds: float) -> float:
    """Seconds of motion between `start` and `start + seconds`."""
    end = start + seconds
    return sum(max(0.0, min(s.start + s.moving, end) - max(s.start, start)) for s in spans)


def busiest_window(spans: Sequence[StepSpan], length: float,
                   clip: float = CLIP_SECONDS) -> tuple[float, float]:
    """(start, seconds) of the `clip`-second window of a section `length` seconds long with
    the most seconds of motion: it starts at a step's start, moved back to fit (the whole
    section when it is shorter); the first of equals."""
    seconds = min(clip, length)
    best, best_score = 0.0, -1.0
    for span in spans:
        start = max(0.0, min(span.start, length - seconds))
        score = motion_in(spans, start, seconds)
        if score > best_score + 1e-9:
            best, best_score = start, score
    return best, seconds


def busiest_cut(built: Built) -> Cut:
    """The lesson's clip: of every section's busiest window, the busiest (the first of equals)."""
    best: tuple[float, Cut] | None = None
    for section in built.lesson.sections:
        spans, length = step_spans(section, built.timings[section.id], built.fps)
        start, seconds = busiest_window(spans, length)
        score = motion_in(spans, start, seconds)
        if best is None or score > best[0] + 1e-9:
            best = (score, Cut(section, start, seconds))
    if best is None:
        raise GalleryError("the lesson has no sections")
    return best[1]


# ---------------------------------------------------------------- the page


_MARKDOWN = re.compile(r"([\\`*_\[\]<>#|~!])")


def md(text: str) -> str:
    """Lesson text as literal Markdown on one line: its markup characters escaped."""
    return _MARKDOWN.sub(r"\\\1", " ".join(printable(text).split()))


def setting_text(lesson: Lesson, key: str) -> str | None:
    value = lesson.setting(key)
    if value is None:
        return None
    if isinstance(value, Text):
        return value.value
    return value.name if isinstance(value, Word) else str(value)


def clock(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 60}:{whole % 60:02d}"


def length_text(seconds: float) -> str:
    whole = int(round(seconds))
    return f"{whole // 60} min {whole % 60} s" if whole >= 60 else f"{whole} s"


def _link(target: Path, page: Path) -> str:
    """`target` as a link from the page's folder (URL-quoted, `/` separators)."""
    relative = os.path.relpath(os.path.abspath(target), os.path.abspath(page.parent))
    return urllib.parse.quote(relative.replace(os.sep, "/"))


def entry_markdown(entry: Entry, page: Path) -> str:
    lesson, cut = entry.built.lesson, entry.clip_cut
    title = md(lesson.title.value)
    facts = [f"**{name}:** {md(value)}" for name, key in (("Subject", "subject"), ("Audience", "audience"))
             if (value := setting_text(lesson, key))]
    facts += [f"**Length:** {length_text(entry.built.duration)}",
              f"**Lesson:** [{md(entry.built.path.name)}]({_link(entry.built.path, page)})"]
    still_alt = f"{title}: the end of “{md(entry.still_section.title.value)}”"
    clip_label = f"“{md(cut.section.title.value)}”, {clock(cut.start)}–{clock(cut.start + cut.seconds)}"
    clip = (f"![{title}: {clip_label}]({_link(entry.clip, page)})" if entry.clip.suffix == ".gif" else
            f'<video src="{_link(entry.clip, page)}" autoplay loop muted playsinline width="{CLIP_WIDTH}">'
            f"</video>")
    return "\n".join([
        f"## {title}", "", " · ".join(facts), "",
        f"| the end of “{md(entry.still_section.title.value)}” | {clip_label} |", "|---|---|",
        f"| ![{still_alt}]({_link(entry.still, page)}) | {clip} |", ""])


def page_markdown(entries: Sequence[Entry], page: Path) -> str:
    intro = [
        "# Gallery", "",
        "What Lecture makes, lesson by lesson: each one's header, a still and a short silent clip of "
        "its video. The still is the end of the lesson's section with the "
        f"most elements; the clip is the {CLIP_SECONDS:g} seconds of one section in which the picture "
        "moves the most.", "",
        "This page is written by `lecture gallery` (see README.md); edit the lessons, not the page.", ""]
    return "\n".join(intro + [entry_markdown(e, page) for e in entries])


def write_page(entries: Sequence[Entry], options: GalleryOptions) -> None:
    options.out.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(options.out, page_markdown(entries, options.out))


__all__ = ["CLIP_FORMATS", "CLIP_SECONDS", "CLIP_WIDTH", "Built", "Cut", "Entry", "GalleryError",
           "GalleryOptions", "StepSpan", "busiest_cut", "busiest_window", "fullest_section", "make_entry",
           "page_markdown", "read_build", "run_gallery", "step_spans"]
