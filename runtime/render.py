"""Rendering one section of a compiled lesson with Manim, and probing videos with ffprobe.

`render_section` is self-contained on purpose: it renders one Scene class of a generated
module in its own Python process (so a crash, a hang or a LaTeX failure in one section
never takes the others down, and a later worker pool or cache can call it as is). The
child process runs this module as a worker (`python -m lecture.runtime.render`), drives
Manim through its Python API with explicit settings, and writes a small JSON result:
either the movie's path or the failure's type, message and traceback frames, which
`failures.py` maps back to the `.lecture` file. Everything the child prints goes to the
section's log file.

Quality presets (`-q`):

    low     854x480   15 fps
    medium  1280x720  30 fps
    high    1920x1080 60 fps
    4k      3840x2160 60 fps

Without `-q`, the lesson's `resolution:` and `fps:` settings are used, each falling back
to the medium preset's value (1280x720, 30 fps) when it is not set.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import traceback
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import tex

# ---------------------------------------------------------------- settings


@dataclass(frozen=True)
class RenderSettings:
    quality: str  # a preset name, or "lesson" when taken from the lesson's settings
    width: int
    height: int
    fps: int

    @property
    def resolution(self) -> str:
        return f"{self.width}x{self.height}"


QUALITIES: dict[str, RenderSettings] = {
    "low": RenderSettings("low", 854, 480, 15),
    "medium": RenderSettings("medium", 1280, 720, 30),
    "high": RenderSettings("high", 1920, 1080, 60),
    "4k": RenderSettings("4k", 3840, 2160, 60),
}
DEFAULT_QUALITY = "medium"


class SettingsError(ValueError):
    """An unknown quality name or an unusable resolution/fps."""


def parse_resolution(text: str) -> tuple[int, int]:
    try:
        w, h = (int(part) for part in str(text).lower().split("x"))
    except ValueError:
        raise SettingsError(f"resolution must look like 1280x720, not {text!r}") from None
    if w <= 0 or h <= 0 or w % 2 or h % 2:
        raise SettingsError(f"resolution {text} must be positive and even in both directions "
                            "(H.264 needs even sizes)")
    return w, h


def resolve_settings(quality: str | None, lesson: Any = None) -> RenderSettings:
    """The render settings for a `-q` value, or (quality None) the lesson's own settings."""
    if quality is not None:
        key = quality.lower()
        if key not in QUALITIES:
            raise SettingsError(f"unknown quality {quality!r}; choose one of "
                                + ", ".join(QUALITIES))
        return QUALITIES[key]
    base = QUALITIES[DEFAULT_QUALITY]
    if lesson is None:
        return base
    res = lesson.setting("resolution")
    fps = lesson.setting("fps")
    if res is None and fps is None:
        return base
    w, h = parse_resolution(res) if res is not None else (base.width, base.height)
    f = base.fps
    if fps is not None:
        f = int(round(float(fps)))
        if f <= 0:
            raise SettingsError(f"fps must be positive, not {fps}")
    return RenderSettings("lesson", w, h, f)


# ---------------------------------------------------------------- ffprobe


@dataclass(frozen=True)
class ProbeResult:
    path: str
    duration: float  # seconds: the container's duration (the video stream's when absent)
    width: int | None
    height: int | None
    fps: float | None
    frames: int | None  # the video stream's frame count (nb_frames, else counted)
    video_codec: str | None
    pixel_format: str | None
    has_video: bool
    has_audio: bool
    streams: tuple[dict, ...] = field(default=(), repr=False)  # ffprobe's stream records

    def to_json(self) -> dict:
        return {"duration": self.duration, "width": self.width, "height": self.height,
                "fps": self.fps, "frames": self.frames, "video_codec": self.video_codec,
                "has_audio": self.has_audio}


class ProbeError(RuntimeError):
    pass


def _rate(text: str | None) -> float | None:
    if not text or text in ("0/0", "0"):
        return None
    if "/" in text:
        num, den = text.split("/", 1)
        return float(num) / float(den) if float(den) else None
    return float(text)


def probe(path: str | Path, *, count_frames: bool = False) -> ProbeResult:
    """Duration, size, frame rate, frame count and streams of a video, from ffprobe."""
    cmd = ["ffprobe", "-v", "error", "-print_format", "json", "-show_format", "-show_streams"]
    if count_frames:
        cmd.append("-count_frames")
    cmd.append(str(path))
    try:
        cp = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
    except FileNotFoundError:
        raise ProbeError("ffprobe was not found; install ffmpeg") from None
    if cp.returncode != 0:
        raise ProbeError(f"ffprobe could not read {path}: {cp.stderr.strip()}")
    data = json.loads(cp.stdout or "{}")
    streams = tuple(data.get("streams", ()))
    video = next((s for s in streams if s.get("codec_type") == "video"), None)
    audio = next((s for s in streams if s.get("codec_type") == "audio"), None)
    duration = data.get("format", {}).get("duration")
    if duration is None and video is not None:
        duration = video.get("duration")
    frames = None
    if video is not None:
        raw = video.get("nb_read_frames") if count_frames else None
        raw = raw or video.get("nb_frames")
        frames = int(raw) if raw not in (None, "N/A") else None
    return ProbeResult(
        path=str(path),
        duration=float(duration) if duration not in (None, "N/A") else 0.0,
        width=int(video["width"]) if video and "width" in video else None,
        height=int(video["height"]) if video and "height" in video else None,
        fps=_rate(video.get("avg_frame_rate") or video.get("r_frame_rate")) if video else None,
        frames=frames,
        video_codec=video.get("codec_name") if video else None,
        pixel_format=video.get("pix_fmt") if video else None,
        has_video=video is not None,
        has_audio=audio is not None,
        streams=streams,
    )


# ---------------------------------------------------------------- rendering one section


@dataclass
class SectionRender:
    """What happened when one section was rendered."""

    section_id: str
    ok: bool
    seconds: float  # wall time of the render
    video: Path | None  # the section's video when ok
    log: Path  # everything the worker printed, plus the raw traceback
    failure: dict | None = None  # the worker's structured failure (see _worker_failure)
    returncode: int | None = None


DEFAULT_TIMEOUT = 30 * 60.0


def render_section(module_path: str | Path, class_name: str, section_id: str,
                   settings: RenderSettings, *, out_path: str | Path, work_dir: str | Path,
                   log_path: str | Path, cwd: str | Path | None = None,
                   timeout: float | None = DEFAULT_TIMEOUT,
                   python: str | None = None) -> SectionRender:
    """Render `class_name` of the module at `module_path` to `out_path` (an .mp4).

    `work_dir` holds Manim's media (partial movies, TeX files) for this section only, so
    that sections can render side by side. A stale `out_path` is removed first: after a
    failure no old video is left looking current.
    """
    module_path = Path(module_path).resolve()
    out_path = Path(out_path)
    work_dir = Path(work_dir).resolve()
    log_path = Path(log_path)
    result_path = work_dir / "result.json"
    out_path.parent.mkdir(parents=True, exist_ok=True)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    work_dir.mkdir(parents=True, exist_ok=True)
    out_path.unlink(missing_ok=True)
    result_path.unlink(missing_ok=True)

    job = {"module": str(module_path), "scene": class_name, "section": section_id,
           "width": settings.width, "height": settings.height, "fps": settings.fps,
           "media_dir": str(work_dir / "media"), "result": str(result_path)}
    # -P: the lesson's folder (the child's working directory) is not put on sys.path, so a
    # `manim.py` or `lecture/` next to a lesson cannot shadow the real packages.
    cmd = [python or sys.executable, "-P", "-m", "lecture.runtime.render", json.dumps(job)]
    env = dict(os.environ)
    env.setdefault("PYTHONUNBUFFERED", "1")
    env["COLUMNS"] = env.get("LECTURE_LOG_COLUMNS", "160")  # rich wraps log lines to this
    started = time.perf_counter()
    returncode: int | None = None
    timed_out = False
    with open(log_path, "w", encoding="utf-8", errors="replace") as log:
        log.write(f"# lecture: rendering section {section_id!r} ({class_name}) of {module_path}\n"
                  f"# {settings.width}x{settings.height} {settings.fps} fps\n"
                  f"# $ {' '.join(cmd[:4])} '<job>'\n")
        log.flush()
        try:
            cp = subprocess.run(cmd, stdout=log, stderr=subprocess.STDOUT,
                                cwd=str(cwd) if cwd else None, env=env, timeout=timeout)
            returncode = cp.returncode
        except subprocess.TimeoutExpired:
            timed_out = True
            log.write(f"\n# lecture: the render was stopped after {timeout:.0f} s\n")
    seconds = time.perf_counter() - started

    result: dict | None = None
    if result_path.is_file():
        try:
            result = json.loads(result_path.read_text(encoding="utf-8"))
        except ValueError:
            result = None
    if result and result.get("ok") and Path(result["movie"]).is_file():
        os.replace(result["movie"], out_path)
        return SectionRender(section_id, True, seconds, out_path, log_path, None, returncode)

    if result and not result.get("ok"):
        failure = result
    elif timed_out:
        failure = {"ok": False, "kind": "timeout", "type": "TimeoutExpired",
                   "message": f"the render took longer than {timeout:.0f} s and was stopped",
                   "frames": []}
    else:
        failure = {"ok": False, "kind": "crash", "type": "WorkerCrash",
                   "message": f"the Manim process ended with status {returncode} "
                              "without producing a video",
                   "frames": []}
    return SectionRender(section_id, False, seconds, None, log_path, failure, returncode)


# ---------------------------------------------------------------- the worker (child process)


def _worker_failure(exc: BaseException, module_path: str) -> dict:
    """A JSON-able description of an exception: its chain's frames, innermost last."""
    frames = []
    for item in traceback.extract_tb(exc.__traceback__):
        frames.append({"file": item.filename, "line": item.lineno, "function": item.name,
                       "code": item.line})
    # A SyntaxError in the generated module has its position on the exception itself.
    if isinstance(exc, SyntaxError) and exc.filename and exc.lineno:
        frames.append({"file": exc.filename, "line": exc.lineno, "function": "<module>",
                       "code": (exc.text or "").strip()})
    cause = exc.__cause__ or exc.__context__
    return {
        "ok": False,
        "kind": "exception",
        "type": type(exc).__name__,
        "module_type": type(exc).__module__,
        "message": str(exc),
        "frames": frames,
        "cause": _worker_failure(cause, module_path) if cause is not None
        and cause is not exc else None,
        "module": module_path,
        "traceback": "".join(traceback.format_exception(exc)),
    }


def measure_cache_dir() -> Path:
    """The shared cache of typeset TeX and text SVGs (kept by runtime/tex.py)."""
    return tex.measure_cache_dir()


def install_shared_svg_cache(shared: Path | None = None) -> None:
    """Make Manim, in this process, typeset formulas with the confined TeX runner and share
    TeX and text SVGs with the compiler and the other workers through the verified measure
    cache (runtime/tex.py, the one home of both)."""
    tex.install_svg_cache(shared)


def run_job(job: dict) -> dict:
    """Render one job in this process (Manim is imported here) and describe the outcome.

    job: module, scene, section, width, height, fps, media_dir; optional `still` (write the
    last frame as a PNG, skipping the animations, instead of the movie) and `module_name`.
    Returns {"ok": True, "movie": path} / {"ok": True, "image": path} or a failure (see
    _worker_failure). Manim's global config is restored afterwards, so a long-lived worker
    can run many jobs one after another. TeX and text SVGs are shared with the compiler
    and the other workers through the measure cache (install_shared_svg_cache)."""
    module_name = job.get("module_name") or "lesson_scenes"
    try:
        import importlib.util

        from manim import config, tempconfig

        install_shared_svg_cache()
        media = Path(job["media_dir"])
        w, h, fps = int(job["width"]), int(job["height"]), int(job["fps"])
        with tempconfig({}):
            config.pixel_width = w
            config.pixel_height = h
            config.frame_rate = fps
            config.frame_height = 8.0
            config.frame_width = 8.0 * w / h
            config.media_dir = str(media)
            config.video_dir = str(media / "videos")
            config.images_dir = str(media / "images")
            config.tex_dir = str(media / "Tex")
            config.text_dir = str(media / "texts")
            config.partial_movie_dir = str(media / "partial_movie_files" / "{scene_name}")
            config.output_file = job["section"]
            config.format = "png" if job.get("still") else "mp4"
            config.preview = False
            config.disable_caching = True
            config.progress_bar = "none"
            config.verbosity = "WARNING"

            spec = importlib.util.spec_from_file_location(module_name, job["module"])
            module = importlib.util.module_from_spec(spec)
            sys.modules[module_name] = module
            try:
                spec.loader.exec_module(module)
                scene_cls = getattr(module, job["scene"], None)
                if scene_cls is None:
                    return {"ok": False, "kind": "internal", "type": "LookupError",
                            "message": f"the generated module has no scene class {job['scene']!r}",
                            "frames": []}
                scene = scene_cls()
                scene.render()
                writer = scene.renderer.file_writer
                if job.get("still"):
                    return {"ok": True, "image": str(writer.image_file_path)}
                return {"ok": True, "movie": str(writer.movie_file_path)}
            finally:
                sys.modules.pop(module_name, None)
    except BaseException as exc:  # noqa: BLE001 - everything is reported, nothing escapes raw
        traceback.print_exception(exc)
        return _worker_failure(exc, job["module"])


def _worker(job: dict) -> int:
    """The one-shot worker of render_section: one job, its result written to a file."""
    result_path = Path(job["result"])
    result = run_job(job)
    try:
        tmp = result_path.with_suffix(".tmp")
        tmp.write_text(json.dumps(result), encoding="utf-8")
        os.replace(tmp, result_path)
    except Exception:  # noqa: BLE001
        pass
    return 0 if result.get("ok") else 1


if __name__ == "__main__":
    sys.exit(_worker(json.loads(sys.argv[1])))
