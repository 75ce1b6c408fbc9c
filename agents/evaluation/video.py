"""What a model sees of a video: frames (JPEG) and, when there is one, a transcript.

`load_evidence(path)` accepts:

- a Lecture build folder (it holds manifest.json): one frame at the END of every step
  (the last frame of the step, where its animations have finished). Step times come from
  the generated scene module the manifest names (`self.step(seconds, ...)` calls, which
  carry the timing after narration, in order, per Scene class); when the module is
  missing, from the lesson file the manifest names (each step's declared seconds, scaled
  to the section's rendered length); failing both, one frame at the end of each section.
  Sections are laid end to end by their rendered frame counts (lesson.mp4 is their
  concatenation). The transcript is lesson.srt (or lesson.vtt) beside lesson.mp4.
  More than `max_step_frames` steps: an evenly spaced subset is kept (said in `notes`).
  The build is opened with build_folder.load_build: every file taken from it (the video,
  the module, the subtitles) is one of its own, never one its manifest names elsewhere.
- any other video file: frames at scene changes (ffmpeg `select='gt(scene,0.3)'`),
  at most `max_frames` (evenly spaced among the changes when there are more); a video
  with no scene change gets evenly spaced frames. The transcript is the first embedded
  subtitle stream, else a sidecar NAME.srt / NAME.vtt.
- a folder without manifest.json but with lesson.mp4 (or one .mp4): that video.

Frames are scaled to at most `width` pixels wide. `Evidence.key` identifies the video
file (sha256 of its bytes) together with the sampling settings, so stored answers are
reused only for the same evidence.
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

from lecture.runtime.ffmpeg import FRAME_TIMEOUT, VIDEO_TIMEOUT, FfmpegError, ProbeResult, probe, run

from .build_folder import BuildFolder, is_build, load_build, read_text

DEFAULT_MAX_FRAMES = 16
DEFAULT_MAX_STEP_FRAMES = 48
DEFAULT_WIDTH = 768
SCENE_THRESHOLD = 0.3
EVIDENCE_VERSION = 1


class EvidenceError(RuntimeError):
    """The video cannot be read (the message is for the user)."""


@dataclass(frozen=True)
class Frame:
    time: float  # seconds in the video
    label: str  # e.g. "end of step 2 of section 'squares'"
    jpeg: bytes

    def data_url(self) -> str:
        return "data:image/jpeg;base64," + base64.b64encode(self.jpeg).decode("ascii")


@dataclass
class Evidence:
    video: Path  # the video file
    kind: str  # "build" | "video"
    frames: list[Frame]
    transcript: str | None  # "[0:03] text" lines, or None
    duration: float
    key: str  # the evidence id used in the answer store
    build: Path | None = None  # the build folder, for a Lecture build
    notes: list[str] = field(default_factory=list)
    transcript_source: str | None = None
    build_folder: BuildFolder | None = None  # the build as opened (its checked files), for a build

    @property
    def has_transcript(self) -> bool:
        return bool(self.transcript and self.transcript.strip())


# ------------------------------------------------------------------ ffmpeg helpers


def _fps(info: ProbeResult) -> float:
    if not info.has_video:
        raise EvidenceError("the file has no video stream")
    return info.fps or 25.0


def file_hash(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _scale(width: int) -> str:
    return f"scale='min({width},iw)':-2"


def _read_frames(folder: Path) -> list[bytes]:
    return [p.read_bytes() for p in sorted(folder.glob("f*.jpg"))]


def frames_at_indices(video: Path, indices: list[int], width: int) -> list[bytes]:
    """The JPEGs of the given frame numbers (0-based, in order), decoded in one pass."""
    if not indices:
        return []
    wanted = sorted(set(indices))
    expr = "+".join(f"eq(n\\,{n})" for n in wanted)
    with tempfile.TemporaryDirectory(prefix="lecture-eval-") as tmp:
        script = Path(tmp) / "filter.txt"
        script.write_text(f"select={expr},{_scale(width)}", encoding="utf-8")
        run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(video), "-filter_script:v", str(script),
             "-fps_mode", "passthrough", "-q:v", "4", str(Path(tmp) / "f%05d.jpg")],
            f"take frames from {video}", VIDEO_TIMEOUT)
        images = _read_frames(Path(tmp))
    by_index = dict(zip(wanted, images, strict=False))
    return [by_index[n] for n in indices if n in by_index]


def scene_change_frames(video: Path, threshold: float, width: int) -> list[tuple[float, bytes]]:
    """(time, JPEG) of every frame whose scene score is above `threshold`."""
    with tempfile.TemporaryDirectory(prefix="lecture-eval-") as tmp:
        cp = run(["ffmpeg", "-v", "info", "-nostdin", "-i", str(video), "-vf",
                  f"select='gt(scene,{threshold})',showinfo,{_scale(width)}", "-fps_mode", "passthrough",
                  "-q:v", "4", str(Path(tmp) / "f%05d.jpg")], f"detect scene changes in {video}",
                 VIDEO_TIMEOUT)
        times = [float(m) for m in re.findall(r"pts_time:\s*([0-9.]+)", cp.stderr.decode("utf-8", "replace"))]
        images = _read_frames(Path(tmp))
    return list(zip(times, images, strict=False))


def frames_at_times(video: Path, times: list[float], width: int) -> list[bytes]:
    """One JPEG per time (a fast seek each)."""
    out = []
    with tempfile.TemporaryDirectory(prefix="lecture-eval-") as tmp:
        for i, t in enumerate(times):
            target = Path(tmp) / f"f{i:05d}.jpg"
            run(["ffmpeg", "-v", "error", "-nostdin", "-ss", f"{max(t, 0):.3f}", "-i", str(video),
                 "-frames:v", "1", "-vf", _scale(width), "-q:v", "4", str(target)],
                f"take a frame of {video}", FRAME_TIMEOUT)
            if target.exists():
                out.append(target.read_bytes())
    return out


def evenly(items: list, cap: int) -> list:
    """At most `cap` items, evenly spaced, the last one kept."""
    if cap <= 0 or len(items) <= cap:
        return list(items)
    if cap == 1:
        return [items[-1]]
    step = (len(items) - 1) / (cap - 1)
    return [items[round(i * step)] for i in range(cap)]


# ------------------------------------------------------------------ transcripts

_STAMP = re.compile(r"(\d+):(\d\d):(\d\d)[,.](\d{3})\s*-->")
_STAMP_SHORT = re.compile(r"(\d\d):(\d\d)[,.](\d{3})\s*-->")


def parse_subtitles(text: str) -> list[tuple[float, str]]:
    """(start seconds, text) of each cue of an SRT or WebVTT file."""
    cues: list[tuple[float, str]] = []
    for block in re.split(r"\n\s*\n", text.replace("\r\n", "\n").replace("\r", "\n")):
        lines = [ln.strip() for ln in block.strip().split("\n") if ln.strip()]
        for i, line in enumerate(lines):
            m = _STAMP.search(line)
            if m:
                start = int(m[1]) * 3600 + int(m[2]) * 60 + int(m[3]) + int(m[4]) / 1000
            else:
                m = _STAMP_SHORT.search(line)
                if not m:
                    continue
                start = int(m[1]) * 60 + int(m[2]) + int(m[3]) / 1000
            words = " ".join(re.sub(r"<[^>]+>", "", ln) for ln in lines[i + 1:])
            if words:
                cues.append((start, words))
            break
    return cues


def transcript_text(cues: list[tuple[float, str]]) -> str:
    return "\n".join(f"[{int(t) // 60}:{int(t) % 60:02d}] {words}" for t, words in cues)


def _sidecar_subtitles(video: Path) -> Path | None:
    for suffix in (".srt", ".vtt"):
        candidate = video.with_suffix(suffix)
        if candidate.is_file():
            return candidate
    return None


def _embedded_subtitles(video: Path, info: ProbeResult) -> str | None:
    if not info.has_subtitles:
        return None
    try:
        cp = run(["ffmpeg", "-v", "error", "-nostdin", "-i", str(video), "-map", "0:s:0", "-f", "srt", "-"],
                 f"read the subtitles of {video}", VIDEO_TIMEOUT)
    except FfmpegError:
        return None
    return cp.stdout.decode("utf-8", "replace")


# ------------------------------------------------------------------ Lecture builds


_CLASS = re.compile(r"^class (\w+)\(", re.MULTILINE)
_STEP = re.compile(r"self\.step\(\s*([0-9]+(?:\.[0-9]*)?)")


def module_step_seconds(module_text: str) -> dict[str, list[float]]:
    """Scene class name -> the seconds of its steps, in order, from the generated module."""
    result: dict[str, list[float]] = {}
    matches = list(_CLASS.finditer(module_text))
    for i, m in enumerate(matches):
        body = module_text[m.end(): matches[i + 1].start() if i + 1 < len(matches) else len(module_text)]
        result[m[1]] = [float(x) for x in _STEP.findall(body)]
    return result


def lesson_step_seconds(lesson_path: Path) -> dict[str, list[float]] | None:
    """Section id -> its steps' declared seconds, from the lesson file (None if unreadable)."""
    try:
        from lecture.compiler.frontend import load_file

        lesson = load_file(lesson_path).lesson
    except Exception:  # noqa: BLE001 - any failure: fall back to section ends
        return None
    return {s.id: [st.seconds for st in s.steps] for s in lesson.sections}


@dataclass(frozen=True)
class StepMark:
    frame: int  # the last frame of the step, in the whole video
    time: float
    label: str


def build_step_marks(build: BuildFolder, fps: float) -> tuple[list[StepMark], str]:
    """The last frame of every step of a build, and where the timing came from."""
    sections = [s for s in build.manifest.get("sections", []) if s.get("status") == "ok"]
    per_class: dict[str, list[float]] = {}
    source = "sections"
    module = build.module()
    module_text = read_text(module) if module is not None else None
    if module_text is not None:
        per_class = module_step_seconds(module_text)
        source = "module"
    per_section: dict[str, list[float]] | None = None
    if not any(per_class.get(s.get("class_name") or "") for s in sections):
        per_section = lesson_step_seconds(build.lesson) if build.lesson is not None else None
        source = "lesson" if per_section else "sections"
    marks: list[StepMark] = []
    offset = 0
    for s in sections:
        frames = s.get("frames")
        if not frames:
            frames = round(float(s.get("rendered_duration") or s.get("planned_duration") or 0) * fps)
        steps = per_class.get(s.get("class_name") or "") if source == "module" else (
            (per_section or {}).get(s.get("id")) if source == "lesson" else None)
        name = s.get("id") or s.get("title") or "?"
        if steps:
            total = sum(steps)
            scale = 1.0
            if source == "lesson" and total > 0 and frames:
                scale = frames / (total * fps)  # narration may have lengthened steps
            declared = 0.0
            for i, seconds in enumerate(steps):
                declared += seconds * scale
                end = min(max(round(declared * fps), 1), frames)
                marks.append(StepMark(offset + end - 1, (offset + end - 1) / fps,
                                      f"end of step {i + 1} of section '{name}'"))
        elif frames:
            marks.append(StepMark(offset + frames - 1, (offset + frames - 1) / fps,
                                  f"end of section '{name}'"))
        offset += frames
    # two steps can end on the same frame (a step shorter than a frame): keep one
    unique: list[StepMark] = []
    for mark in marks:
        if unique and unique[-1].frame == mark.frame:
            unique[-1] = mark
        else:
            unique.append(mark)
    return unique, source


# ------------------------------------------------------------------ entry point


def _evidence_key(digest: str, kind: str, settings: dict) -> str:
    blob = json.dumps({"v": EVIDENCE_VERSION, "kind": kind, **settings}, sort_keys=True)
    return digest[:16] + "-" + hashlib.sha256(blob.encode()).hexdigest()[:6]


def find_video(path: Path) -> tuple[Path, BuildFolder | None]:
    """(video file, build folder or None) of a path given on the command line. A build is
    opened with load_build: a path its manifest gives outside it is a BuildFolderError."""
    if is_build(path):
        build = load_build(path)
        video = build.video()
        if video is None:
            raise EvidenceError(f"{path}: the build has no lesson.mp4 (did its render fail?)")
        return video, build
    if path.is_dir():
        if (path / "lesson.mp4").is_file():
            return path / "lesson.mp4", None
        videos = sorted(path.glob("*.mp4"))
        if len(videos) == 1:
            return videos[0], None
        raise EvidenceError(f"{path}: not a build folder (no manifest.json) and not one video")
    if path.is_file():
        return path, None
    raise EvidenceError(f"{path}: no such file or folder")


def load_evidence(path: str | Path, *, max_frames: int = DEFAULT_MAX_FRAMES,
                  max_step_frames: int = DEFAULT_MAX_STEP_FRAMES, width: int = DEFAULT_WIDTH,
                  threshold: float = SCENE_THRESHOLD, build: BuildFolder | None = None) -> Evidence:
    """The evidence of `path` (see the module doc); `build`: the build at `path`, when the
    caller has opened it already. Raises EvidenceError, BuildFolderError, FfmpegError."""
    if build is not None:
        video = build.video()
        if video is None:
            raise EvidenceError(f"{path}: the build has no lesson.mp4 (did its render fail?)")
    else:
        video, build = find_video(Path(path))
    info = probe(video)
    fps = _fps(info)
    duration = info.duration
    digest = file_hash(video)
    notes: list[str] = []
    transcript: str | None = None
    transcript_source: str | None = None
    if build is not None:
        try:
            fps = float(build.manifest.get("fps") or fps)
            marks, source = build_step_marks(build, fps)
        except (AttributeError, TypeError, ValueError) as exc:  # a field of the wrong type
            raise EvidenceError(f"{build.path}: not a valid manifest ({type(exc).__name__}: {exc})") from None
        if not marks:
            raise EvidenceError(f"{build.path}: the manifest lists no rendered section")
        if len(marks) > max_step_frames:
            notes.append(f"{len(marks)} steps; {max_step_frames} evenly spaced step ends kept")
            marks = evenly(marks, max_step_frames)
        notes.append(f"step times from the {'generated module' if source == 'module' else source}")
        images = frames_at_indices(video, [m.frame for m in marks], width)
        if len(images) != len(marks):
            raise EvidenceError(f"{video}: expected {len(marks)} step frames, ffmpeg gave {len(images)}")
        frames = [Frame(m.time, m.label, jpeg) for m, jpeg in zip(marks, images, strict=True)]
        subs = build.subtitles()
        subs_text = read_text(subs) if subs is not None else None
        if subs is not None and subs_text is not None:
            transcript_source = subs.name
            transcript = transcript_text(parse_subtitles(subs_text))
        key = _evidence_key(digest, "build", {"width": width, "max_step_frames": max_step_frames,
                                              "marks": [m.frame for m in marks], "subs": transcript or ""})
        return Evidence(video, "build", frames, transcript or None, duration, key, build.path, notes,
                        transcript_source, build)

    scenes = scene_change_frames(video, threshold, width)
    if scenes:
        if len(scenes) > max_frames:
            notes.append(f"{len(scenes)} scene changes; {max_frames} evenly spaced kept")
        chosen = evenly(scenes, max_frames)
        frames = [Frame(t, f"scene change at {int(t) // 60}:{int(t) % 60:02d}", jpeg) for t, jpeg in chosen]
    else:
        count = max(1, min(max_frames, 8))
        times = [duration * (i + 0.5) / count for i in range(count)] if duration > 0 else [0.0]
        notes.append(f"no scene change above {threshold}; {len(times)} evenly spaced frames")
        frames = [Frame(t, f"frame at {int(t) // 60}:{int(t) % 60:02d}", jpeg)
                  for t, jpeg in zip(times, frames_at_times(video, times, width), strict=False)]
    embedded = _embedded_subtitles(video, info)
    if embedded and embedded.strip():
        transcript_source = "embedded subtitle stream"
        transcript = transcript_text(parse_subtitles(embedded))
    elif (sidecar := _sidecar_subtitles(video)) is not None:
        transcript_source = sidecar.name
        transcript = transcript_text(parse_subtitles(sidecar.read_text(encoding="utf-8", errors="replace")))
    key = _evidence_key(digest, "video", {"width": width, "max_frames": max_frames, "threshold": threshold,
                                          "subs": transcript or ""})
    return Evidence(video, "video", frames, transcript or None, duration, key, None, notes, transcript_source)
