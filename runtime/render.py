"""Render settings, and rendering one job of a compiled lesson with Manim in this process.

`run_job(job)` is what a render worker (pool.py) does for each job it is sent: it imports
the generated module, renders one Scene class through Manim's Python API with explicit
settings, and answers with the movie's (or the still's) path or a typed failure
(worker_result.WorkerFailure: the exception's type, message and traceback frames, which
`failures.py` maps back to the `.lecture` file).

Quality presets (`-q`):

    low     854x480   15 fps
    medium  1280x720  30 fps
    high    1920x1080 60 fps
    4k      3840x2160 60 fps

Without `-q`, the lesson's `resolution:` and `fps:` settings are used, each falling back
to the medium preset's value (1280x720, 30 fps) when it is not set.
"""

from __future__ import annotations

import importlib.util
import sys
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import ModuleType

from lecture.compiler.model import Lesson

from . import tex
from .worker_result import WorkerFailure, WorkerOutput

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


def parse_resolution(text: object) -> tuple[int, int]:
    try:
        w, h = (int(part) for part in str(text).lower().split("x"))
    except ValueError:
        raise SettingsError(f"resolution must look like 1280x720, not {text!r}") from None
    if w <= 0 or h <= 0 or w % 2 or h % 2:
        raise SettingsError(f"resolution {text} must be positive and even in both directions "
                            "(H.264 needs even sizes)")
    return w, h


def resolve_settings(quality: str | None, lesson: Lesson | None = None) -> RenderSettings:
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
        if not isinstance(fps, int | float | str):
            raise SettingsError(f"fps must be a number, not {fps}")
        f = int(round(float(fps)))
        if f <= 0:
            raise SettingsError(f"fps must be positive, not {fps}")
    return RenderSettings("lesson", w, h, f)


# ---------------------------------------------------------------- one job, in a worker


def _worker_failure(exc: BaseException, module_path: str) -> WorkerFailure:
    """A failure describing an exception raised while rendering the module at `module_path`."""
    return WorkerFailure.from_exception(exc, module_path)


def _configure(config: object, job: dict) -> None:
    """Manim's settings for one job: its size, rate and media folder, nothing cached."""
    media = Path(job["media_dir"])
    w, h, fps = int(job["width"]), int(job["height"]), int(job["fps"])
    settings = {
        "pixel_width": w, "pixel_height": h, "frame_rate": fps,
        "frame_height": 8.0, "frame_width": 8.0 * w / h,
        "media_dir": str(media), "video_dir": str(media / "videos"),
        "images_dir": str(media / "images"), "tex_dir": str(media / "Tex"),
        "text_dir": str(media / "texts"),
        "partial_movie_dir": str(media / "partial_movie_files" / "{scene_name}"),
        "output_file": job["section"], "format": "png" if job.get("still") else "mp4",
        "preview": False, "disable_caching": True, "progress_bar": "none", "verbosity": "WARNING",
    }
    for name, value in settings.items():  # (in this order: Manim derives some from others)
        setattr(config, name, value)


@contextmanager
def _loaded(path: str, name: str) -> Iterator[ModuleType]:
    """The generated module at `path`, imported as `name` for the duration of the block."""
    spec = importlib.util.spec_from_file_location(name, path)
    if spec is None or spec.loader is None:
        raise ImportError(f"cannot load the generated module {path}")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    try:
        spec.loader.exec_module(module)
        yield module
    finally:
        sys.modules.pop(name, None)


def run_job(job: dict) -> WorkerOutput | WorkerFailure:
    """Render one job in this process (Manim is imported here) and describe the outcome.

    job: module, scene, section, width, height, fps, media_dir; optional `still` (write the
    last frame as a PNG, skipping the animations, instead of the movie), `units` (render a
    range of the section's steps: step_units.UnitRange) and `module_name`.
    Returns the movie's or the still's path, or the failure. Manim's global config is
    restored afterwards, so a long-lived worker can run many jobs one after another. TeX
    and text SVGs are shared with the compiler and the other workers through the measure
    cache (tex.install_svg_cache)."""
    try:
        from manim import config, tempconfig

        tex.install_svg_cache()
        with tempconfig({}):
            _configure(config, job)
            with _loaded(job["module"], job.get("module_name") or "lesson_scenes") as module:
                scene_cls = getattr(module, job["scene"], None)
                if scene_cls is None:
                    return WorkerFailure.internal(
                        "LookupError", f"the generated module has no scene class {job['scene']!r}")
                if job.get("units") is not None:  # a range of the section's steps (step_units.py)
                    from .step_units import UnitRange, render_units

                    listing = render_units(scene_cls, UnitRange.from_json(job["units"]),
                                           Path(job["media_dir"]) / "units")
                    return WorkerOutput("units", listing)
                scene = scene_cls()
                scene.render()
                writer = scene.renderer.file_writer
                if job.get("still"):
                    return WorkerOutput("image", Path(writer.image_file_path))
                return WorkerOutput("movie", Path(writer.movie_file_path))
    except BaseException as exc:  # noqa: BLE001 - everything is reported, nothing escapes raw
        traceback.print_exception(exc)
        return _worker_failure(exc, job["module"])


__all__ = ["DEFAULT_QUALITY", "QUALITIES", "RenderSettings", "SettingsError", "parse_resolution",
           "resolve_settings", "run_job"]
