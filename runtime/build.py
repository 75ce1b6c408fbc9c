"""`lecture render`: lesson files -> build/<lesson>/ with section videos and lesson.mp4.

For each lesson: load and check it (errors: print them, exit status 2), compile it to one
Manim module (one Scene per section) with its source map, write both to
`build/<lesson-stem>/`, render every section in its own process, join the section videos
with ffmpeg into `lesson.mp4`, and write `manifest.json`. A section that fails to render
is reported at the `.lecture` node that caused it; the other sections still render, and
the exit status is 1.

Layout of `build/<lesson-stem>/`:

    lesson_scenes.py     the generated Manim module
    sourcemap.json       generated line -> lesson node
    sections/<id>.mp4    one video per section
    lesson.mp4           the whole lesson (only when every section rendered)
    logs/<id>.log        the raw output of each section's render
    work/<id>/           Manim's media for the section (partial movies, TeX files)
    manifest.json        see manifest.py

`--sections a,b` renders only those sections; `lesson.mp4` always means the complete
lesson, so it is not rewritten then (with `-o`, the chosen sections are joined into that
file instead). Quality: see render.py (`-q` presets, else the lesson's `resolution:` and
`fps:`, else 1280x720 at 30 fps).
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterable
from dataclasses import replace
from pathlib import Path
from typing import Any

from lecture.compiler import frontend
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError, render_all
from lecture.compiler.model import Lesson, Section
from lecture.compiler.sourcemap import CompiledModule, SourceMap
from lecture.compiler.span import Span

from . import assemble, failures, manifest
from .render import RenderSettings, SettingsError, probe, render_section, resolve_settings

EXIT_OK = 0
EXIT_RENDER_FAILED = 1
EXIT_LESSON_ERROR = 2

MODULE_NAME = "lesson_scenes.py"
SOURCE_MAP_NAME = "sourcemap.json"
LESSON_VIDEO = "lesson.mp4"
MANIFEST_NAME = "manifest.json"


class CompilerMissing(RuntimeError):
    pass


def compile_module(lesson: Lesson, *, base_dir: Path, fps: int) -> CompiledModule:
    """The compiler's `compile_lesson`, imported late (tests may replace this function)."""
    try:
        from lecture.compiler.lower import compile_lesson  # type: ignore[attr-defined]
    except ImportError as exc:
        raise CompilerMissing(f"the lowering stage is not available: {exc}") from None
    return compile_lesson(lesson, base_dir=base_dir, fps=fps)


# ---------------------------------------------------------------- console helpers


def _plain(console: Any, text: str, style: str | None = None) -> None:
    if console is None:
        print(text)
    else:
        console.print(text, style=style, markup=False, highlight=False, soft_wrap=True)


def _print_diagnostics(console: Any, diagnostics: Iterable[Diagnostic], source: str | None) -> None:
    for d in diagnostics:
        _plain(console, d.render(source), "red" if d.severity == "error" else "yellow")


def _split_ids(sections: list[str] | None) -> list[str] | None:
    if sections is None:
        return None
    ids = [part.strip() for item in sections for part in str(item).split(",") if part.strip()]
    return ids or None


def _lesson_error(console: Any, path: Path, message: str, span: Span | None = None,
                  source: str | None = None, hint: str | None = None, code: str = "") -> int:
    d = Diagnostic("error", message, span or Span.point(str(path), 1, 1), hint, code)
    _print_diagnostics(console, [d], source)
    return EXIT_LESSON_ERROR


# ---------------------------------------------------------------- entry points


def render_lessons(paths: list[Path], *, quality: str | None, output: Path | None,
                   sections: list[str] | None, build_root: Path = Path("build"),
                   console: Any = None, timeout: float | None = None) -> int:
    """Render each lesson; the exit status is the worst of theirs (0 ok, 1 some sections
    failed to render, 2 a lesson has errors or cannot be rendered at all)."""
    paths = [Path(p) for p in paths]
    if output is not None and len(paths) != 1:
        _plain(console, f"error: -o/--output needs exactly one lesson, got {len(paths)}", "red")
        return EXIT_LESSON_ERROR
    status = EXIT_OK
    stems: dict[str, Path] = {}
    for path in paths:
        other = stems.setdefault(path.stem, path)
        if other != path:
            _plain(console, f"error: {path} and {other} would both build into "
                            f"{Path(build_root) / path.stem}; render them separately", "red")
            status = EXIT_LESSON_ERROR
            continue
        rc = render_lesson(path, quality=quality, output=output, sections=sections,
                           build_root=build_root, console=console, timeout=timeout)
        status = max(status, rc)
    return status


def render_lesson(path: Path, *, quality: str | None, output: Path | None,
                  sections: list[str] | None, build_root: Path = Path("build"),
                  console: Any = None, timeout: float | None = None,
                  compile: Callable[..., CompiledModule] | None = None) -> int:
    path = Path(path)
    try:
        loaded = frontend.load_file(path)
    except DiagnosticError as exc:
        _plain(console, render_all(exc.diagnostics, exc.source), "red")
        return EXIT_LESSON_ERROR
    lesson, text = loaded.lesson, loaded.source.text
    _print_diagnostics(console, loaded.diagnostics, text)

    try:
        settings = resolve_settings(quality, lesson)
    except SettingsError as exc:
        bad = next((s for s in lesson.settings if s.key in ("resolution", "fps")), None)
        return _lesson_error(console, path, str(exc), bad.value_span if quality is None
                             and bad else None, text, code="bad-quality")

    wanted = _split_ids(sections)
    if wanted is not None:
        valid = [s.id for s in lesson.sections]
        unknown = [s for s in wanted if s not in valid]
        if unknown:
            return _lesson_error(
                console, path,
                f"no section {', '.join(repr(u) for u in unknown)} in this lesson",
                lesson.span if lesson.span.line else None, None,
                hint="the sections are: " + (", ".join(valid) or "(none)"),
                code="unknown-section")

    try:
        compiled, compile_failures = compile_sections(
            lesson, compile or compile_module, base_dir=path.resolve().parent,
            fps=settings.fps, sections=wanted)
    except DiagnosticError as exc:
        _plain(console, render_all(exc.diagnostics, exc.source or text), "red")
        return EXIT_LESSON_ERROR
    except CompilerMissing as exc:
        _plain(console, f"error: {exc}", "red")
        return EXIT_LESSON_ERROR

    out_dir = Path(build_root) / path.stem
    return render_compiled(compiled, lesson=lesson, source_text=text, lesson_path=path,
                           settings=settings, out_dir=out_dir, sections=wanted, output=output,
                           console=console, timeout=timeout, compile_failures=compile_failures)


def _section_at(lesson: Lesson, span: Span) -> Section | None:
    here = (span.line, span.column)
    for s in lesson.sections:
        if (s.span.line, s.span.column) <= here < (s.span.end_line, s.span.end_column):
            return s
    return None


def compile_sections(lesson: Lesson, compile: Callable[..., CompiledModule], *, base_dir: Path,
                     fps: int, sections: list[str] | None = None,
                     ) -> tuple[CompiledModule, dict[str, list[Diagnostic]]]:
    """Compile the chosen sections (all by default). The compiler builds real mobjects to
    measure them, so a formula LaTeX rejects or an image that cannot be read already fails
    here; such a failure inside one section fails that section only (like a render
    failure): it is left out and the rest compiled again. Errors outside any section are
    lesson errors and raise DiagnosticError."""
    todo = [s for s in lesson.sections if sections is None or s.id in sections]
    failed: dict[str, list[Diagnostic]] = {}
    for _ in range(len(lesson.sections) + 1):
        if not todo:
            return CompiledModule("", (), SourceMap(())), failed
        try:
            return compile(replace(lesson, sections=tuple(todo)), base_dir=base_dir,
                           fps=fps), failed
        except DiagnosticError as exc:
            ids = {s.id for s in todo}
            hit: set[str] = set()
            for d in exc.diagnostics:
                section = _section_at(lesson, d.span)
                if d.severity != "error":
                    continue
                if section is None or section.id not in ids:
                    raise
                failed.setdefault(section.id, []).append(d)
                hit.add(section.id)
            if not hit:
                raise
            todo = [s for s in todo if s.id not in hit]
    raise AssertionError("unreachable")  # pragma: no cover


def render_compiled(compiled: CompiledModule, *, lesson: Lesson, source_text: str,
                    lesson_path: Path, settings: RenderSettings, out_dir: Path,
                    sections: list[str] | None = None, output: Path | None = None,
                    console: Any = None, timeout: float | None = None,
                    compile_failures: dict[str, list[Diagnostic]] | None = None) -> int:
    """Render an already compiled lesson into `out_dir` (the part of the build that does
    not need the compiler; tests drive it with a hand-written module).

    `compile_failures`: sections that could not even be compiled (see compile_sections);
    they are reported and recorded as failed like sections whose render failed."""
    compile_failures = compile_failures or {}
    out_dir.mkdir(parents=True, exist_ok=True)
    module_path = out_dir / MODULE_NAME
    module_path.write_text(compiled.code, encoding="utf-8")
    map_path = out_dir / SOURCE_MAP_NAME
    map_path.write_text(compiled.source_map.to_json() + "\n", encoding="utf-8")
    lesson_video = out_dir / LESSON_VIDEO

    scenes = {s.section_id: s for s in compiled.scenes}
    order = [s.id for s in lesson.sections]
    order += [sid for sid in scenes if sid not in order]  # (a hand-made module may differ)
    chosen = [sid for sid in order if (sections is None or sid in sections)
              and (sid in scenes or sid in compile_failures)]
    partial = len(chosen) < len(order)
    man = manifest.Manifest(
        lesson=str(lesson_path), title=lesson.title.value,
        content_hash=manifest.content_hash(source_text), quality=settings.quality,
        fps=settings.fps, resolution=settings.resolution, module=str(module_path),
        source_map=str(map_path))

    _plain(console, f"Rendering {lesson_path} ({len(chosen)} of {len(order)} "
                    f"section{'s' if len(order) != 1 else ''}, "
                    f"{settings.resolution} at {settings.fps} fps)")
    rendered: list[Path] = []
    failed: list[failures.RenderFailure] = []
    for index, sid in enumerate(order, start=1):
        section = lesson.section(sid)
        scene = scenes.get(sid)
        record = manifest.SectionRecord(
            id=sid, title=section.title.value if section else sid,
            class_name=scene.class_name if scene else None,
            declared_duration=section.duration if section else None,
            planned_duration=scene.duration if scene else None, status="skipped")
        man.sections.append(record)
        if sid not in chosen:
            continue
        label = f"{sid} ({index}/{len(order)})"
        log_path = out_dir / "logs" / f"{sid}.log"
        (out_dir / "sections" / f"{sid}.mp4").unlink(missing_ok=True)
        if sid in compile_failures:
            failure = failures.from_compile(sid, compile_failures[sid], log_path=log_path)
            failed.append(failure)
            record.status = "failed"
            record.log = str(log_path)
            record.error = failure.summary
            record.diagnostic = failure.to_json()
            _plain(console, f"  ✗ {sid} failed while compiling", "red")
            _plain(console, failure.render(source_text), "red")
            continue
        _plain(console, f"  rendering {label}…")
        kwargs = {"timeout": timeout} if timeout is not None else {}
        with _spinner(console, f"rendering {label}…"):
            result = render_section(
                module_path, scene.class_name, sid, settings,
                out_path=out_dir / "sections" / f"{sid}.mp4",
                work_dir=out_dir / "work" / sid, log_path=log_path,
                cwd=lesson_path.resolve().parent, **kwargs)
        record.render_seconds = round(result.seconds, 3)
        record.log = str(result.log)
        if result.ok and result.video is not None:
            info = probe(result.video)
            record.status = "ok"
            record.output = str(result.video)
            record.rendered_duration = info.duration
            record.frames = info.frames
            rendered.append(result.video)
            _plain(console, f"  ✓ {sid} done in {result.seconds:.1f}s "
                            f"({info.duration:.2f}s of video)", "green")
        else:
            failure = failures.diagnose(
                sid, result.failure or {}, source_map=compiled.source_map,
                module_path=module_path, log_path=result.log,
                section_span=section.span if section else None, lesson_file=str(lesson_path))
            failed.append(failure)
            record.status = "failed"
            record.error = failure.summary
            record.diagnostic = failure.to_json()
            _plain(console, f"  ✗ {sid} failed after {result.seconds:.1f}s", "red")
            _plain(console, failure.render(source_text), "red")

    code = EXIT_OK
    if failed:
        man.status = "failed"
        lesson_video.unlink(missing_ok=True)  # never leave an older lesson.mp4 looking current
        names = ", ".join(f.section_id for f in failed)
        _plain(console, f"{len(failed)} of {len(chosen)} section"
                        f"{'s' if len(chosen) != 1 else ''} failed: {names}; "
                        f"{LESSON_VIDEO} was not assembled", "red")
        code = EXIT_RENDER_FAILED
    else:
        try:
            if not partial:
                info = assemble.concat(rendered, lesson_video, fps=settings.fps)
                man.output = str(lesson_video)
                man.duration, man.frames = info.duration, info.frames
                if output is not None:
                    Path(output).parent.mkdir(parents=True, exist_ok=True)
                    shutil.copyfile(lesson_video, output)
                    man.copied_to = str(output)
            else:
                man.status = "partial"
                if output is not None:
                    info = assemble.concat(rendered, Path(output), fps=settings.fps)
                    man.copied_to = str(output)
                    man.duration, man.frames = info.duration, info.frames
        except (assemble.AssembleError, OSError) as exc:
            _plain(console, f"error: could not assemble the lesson video: {exc}", "red")
            man.status = "failed"
            code = EXIT_RENDER_FAILED
    man_path = man.write(out_dir / MANIFEST_NAME)
    if code == EXIT_OK:
        if partial:
            for p in rendered:
                _plain(console, f"wrote {p}")
        if man.output:
            _plain(console, f"wrote {man.output} ({man.duration:.2f}s)", "bold green")
        if man.copied_to:
            _plain(console, f"wrote {man.copied_to}", "bold green")
    _plain(console, f"manifest: {man_path}")
    return code


class _NullContext:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _spinner(console: Any, text: str):
    """A live spinner on a terminal (long renders show they are alive); nothing elsewhere."""
    if console is not None and getattr(console, "is_terminal", False):
        return console.status(text)
    return _NullContext()
