"""Subtitles timed from the spoken sentences: lesson.srt, lesson.vtt, soft or burnt in.

Each sentence the narrator spoke is one subtitle, at its exact time in the video: the
section's offset (the frames of the sections before it) + its step's first frame + the
sentence's start and end in the step's speech. A sentence that does not fit in
MAX_LINES lines of MAX_CHARS characters is split, between words, into several cues
that share the sentence's time in proportion to their characters. Cues are in order,
never overlap, and end inside the video; their texts, joined with spaces, are the
narration (white space collapsed).

- `lesson_cues(plan, fps)` -> [Cue(start, end, lines)]
- `to_srt(cues)`, `to_vtt(cues)`, `write_subtitles(plan, fps, stem)` -> (.srt, .vtt)
- `add_soft_subtitles(mp4, srt, out)`: a `mov_text` subtitle stream (video and audio
  copied), which players can switch on and off.
- `burn_subtitles(mp4, srt, out)`: the subtitles drawn into the picture (ffmpeg's
  `subtitles` filter, libass), the video re-encoded with H.264, the audio copied.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from .ffmpeg import VIDEO_TIMEOUT, run
from .safe_fs import atomic_output, write_bytes_atomic
from .step_timing import NarrationPlan

MAX_CHARS = 42
MAX_LINES = 2
_FFMPEG = ("ffmpeg", "-hide_banner", "-nostdin", "-y", "-loglevel", "error")


@dataclass(frozen=True)
class Cue:
    start: float  # seconds in the video
    end: float
    lines: tuple[str, ...]

    @property
    def text(self) -> str:
        return " ".join(self.lines)


# ---------------------------------------------------------------- cutting sentences


def wrap(text: str, width: int = MAX_CHARS) -> list[str]:
    """Greedy word wrap into lines of at most `width` characters; a word longer than a
    line is cut."""
    lines: list[str] = []
    current = ""
    for word in text.split():
        while len(word) > width:
            if current:
                lines.append(current)
                current = ""
            lines.append(word[:width])
            word = word[width:]
        if not word:
            continue
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current += " " + word
        else:
            lines.append(current)
            current = word
    if current:
        lines.append(current)
    return lines


def _balance(first: str, second: str, width: int) -> tuple[str, str]:
    """Two lines re-cut between words so that the longer one is as short as can be."""
    words = (first + " " + second).split(" ")
    best = (first, second)
    for i in range(1, len(words)):
        a, b = " ".join(words[:i]), " ".join(words[i:])
        if len(a) <= width and len(b) <= width and max(len(a), len(b)) < max(map(len, best)):
            best = (a, b)
    return best


def split_sentence(text: str, width: int = MAX_CHARS, max_lines: int = MAX_LINES) -> list[tuple[str, ...]]:
    """A sentence as cues of at most `max_lines` lines of at most `width` characters."""
    lines = wrap(text, width)
    chunks = [tuple(lines[i:i + max_lines]) for i in range(0, len(lines), max_lines)]
    out = []
    for chunk in chunks:
        if len(chunk) == 2 and len(chunk[0]) <= width and len(chunk[1]) <= width \
                and " " in (chunk[0] + " " + chunk[1]):
            chunk = _balance(chunk[0], chunk[1], width)
        out.append(chunk)
    return out


def sentence_cues(start: float, end: float, text: str, width: int = MAX_CHARS,
                  max_lines: int = MAX_LINES) -> list[Cue]:
    chunks = split_sentence(text, width, max_lines)
    if not chunks:
        return []
    weights = [sum(len(line) for line in c) + len(c) - 1 for c in chunks]
    total = sum(weights)
    cues = []
    at = start
    for chunk, weight in zip(chunks, weights, strict=True):
        stop = at + (end - start) * weight / total
        cues.append(Cue(at, stop, chunk))
        at = stop
    return cues[:-1] + [Cue(cues[-1].start, end, cues[-1].lines)]


def lesson_cues(plan: NarrationPlan, fps: float, sections: list[str] | None = None) -> list[Cue]:
    """Every spoken sentence of the chosen sections (all by default), on the lesson video's
    timeline (the sections back to back)."""
    cues: list[Cue] = []
    frames_before = 0
    for section in plan.sections:
        if sections is not None and section.id not in sections:
            continue
        offset = frames_before / fps
        for start, end, text in section.timed_cues(fps):
            cues += sentence_cues(offset + start, offset + end, text)
        frames_before += section.frame_starts(fps)[1]
    return _tidy(cues, frames_before / fps)


def _tidy(cues: list[Cue], video_end: float) -> list[Cue]:
    """Times in whole milliseconds, in order, not overlapping, inside the video."""
    out: list[Cue] = []
    last_ms = 0
    end_ms = int(video_end * 1000 + 1e-6)
    for cue in cues:
        a = max(last_ms, round(cue.start * 1000))
        b = min(end_ms, round(cue.end * 1000))
        if b <= a:
            b = min(end_ms, a + 1)
            if b <= a:
                continue
        out.append(Cue(a / 1000, b / 1000, cue.lines))
        last_ms = b
    return out


# ---------------------------------------------------------------- files


def _stamp(seconds: float, sep: str) -> str:
    ms = int(round(seconds * 1000))
    h, rest = divmod(ms, 3_600_000)
    m, rest = divmod(rest, 60_000)
    s, ms = divmod(rest, 1000)
    return f"{h:02d}:{m:02d}:{s:02d}{sep}{ms:03d}"


def _clean(line: str) -> str:
    return line.replace("-->", "->")


def to_srt(cues: list[Cue]) -> str:
    blocks = [f"{i}\n{_stamp(c.start, ',')} --> {_stamp(c.end, ',')}\n"
              + "\n".join(_clean(line) for line in c.lines) + "\n"
              for i, c in enumerate(cues, start=1)]
    return "\n".join(blocks)


def _vtt_escape(line: str) -> str:
    return _clean(line).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def to_vtt(cues: list[Cue]) -> str:
    blocks = ["WEBVTT\n"] + [f"{_stamp(c.start, '.')} --> {_stamp(c.end, '.')}\n"
                             + "\n".join(_vtt_escape(line) for line in c.lines) + "\n"
                             for c in cues]
    return "\n".join(blocks)


def write_subtitles(plan: NarrationPlan, fps: float, stem: str | os.PathLike[str],
                    sections: list[str] | None = None) -> tuple[Path, Path]:
    """Write `<stem>.srt` and `<stem>.vtt` (e.g. stem = build/x/lesson); returns both."""
    cues = lesson_cues(plan, fps, sections)
    stem = Path(stem)
    stem.parent.mkdir(parents=True, exist_ok=True)
    srt_path, vtt_path = stem.with_name(stem.name + ".srt"), stem.with_name(stem.name + ".vtt")
    # (a link at either path, as a cloned build/ may hold, is replaced, never written through)
    write_bytes_atomic(srt_path, to_srt(cues).encode("utf-8"))
    write_bytes_atomic(vtt_path, to_vtt(cues).encode("utf-8"))
    return srt_path, vtt_path


# ---------------------------------------------------------------- ffmpeg


def add_soft_subtitles(mp4: str | os.PathLike[str], srt: str | os.PathLike[str],
                       out: str | os.PathLike[str], *, language: str = "eng") -> Path:
    """`out` = `mp4` (every video and audio stream copied) + `srt` as a mov_text stream.
    `language`: ISO 639-2 code written on the subtitle stream. `out` may be `mp4`."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(out, ".subs.tmp.mp4") as tmp:  # (a fixed name could be a planted link)
        run([*_FFMPEG, "-i", str(mp4), "-i", str(srt), "-map", "0:v", "-map", "0:a?", "-map", "1:0",
             "-c:v", "copy", "-c:a", "copy", "-c:s", "mov_text",
             "-metadata:s:s:0", f"language={language}", "-movflags", "+faststart", str(tmp)],
            f"add subtitles to {mp4}", VIDEO_TIMEOUT)
    return out


def burn_subtitles(mp4: str | os.PathLike[str], srt: str | os.PathLike[str],
                   out: str | os.PathLike[str], *, font: str = "DejaVu Sans",
                   font_size: int = 18, crf: int = 18) -> Path:
    """`out` = `mp4` with the subtitles drawn into the picture (libass through ffmpeg's
    `subtitles` filter; the video re-encoded with H.264 yuv420p, the audio copied).
    `font_size` is in libass's units (a 288-line script scaled to the video's height)."""
    out = Path(os.path.abspath(out))  # (ffmpeg runs in another folder; a link is not followed)
    out.parent.mkdir(parents=True, exist_ok=True)
    style = f"FontName={font},FontSize={font_size},Outline=1,Shadow=0,MarginV=12"
    with atomic_output(out, ".burn.tmp.mp4") as tmp, \
            tempfile.TemporaryDirectory(prefix="lecture-subs-") as folder:
        # The filter's argument has its own escaping rules; a plain name in the working
        # folder needs none.
        shutil.copyfile(srt, Path(folder) / "subs.srt")
        run([*_FFMPEG, "-i", str(Path(mp4).resolve()), "-map", "0:v:0", "-map", "0:a?",
             "-vf", f"subtitles=subs.srt:charenc=UTF-8:force_style='{style}'",
             "-c:v", "libx264", "-pix_fmt", "yuv420p", "-crf", str(crf), "-c:a", "copy",
             "-movflags", "+faststart", str(tmp)],
            f"burn subtitles into {mp4}", VIDEO_TIMEOUT, cwd=folder)
    return out


__all__ = ["MAX_CHARS", "MAX_LINES", "Cue", "wrap", "split_sentence", "sentence_cues",
           "lesson_cues", "to_srt", "to_vtt", "write_subtitles", "add_soft_subtitles", "burn_subtitles"]
