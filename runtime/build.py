"""`lecture render`: lesson files -> build/<lesson>/ with section videos and lesson.mp4.

For each lesson: load and check it (errors: print them, exit status 2); hash every section
from the lesson model (see cache.py: its nodes without spans or comments, the settings
and theme it uses, the quality, the tool versions); take the sections whose hash has a
finished video in the cache as they are; compile only the others to one Manim module (one
Scene per section) with its source map, and render them in parallel in a pool of
persistent Manim worker processes (pool.py, `jobs` of them, by default one per core);
join the section videos with ffmpeg into `lesson.mp4` (itself cached by its sections'
hashes) and write `manifest.json`. When every section is cached, neither the compiler nor
Manim is even imported. A section that fails to render is reported at the `.lecture` node
that caused it; the other sections still render, and the exit status is 1. Each section's
line says whether it was rendered or cached, and how long it took.

Layout of `build/<lesson-stem>/`:

    lesson_scenes.py     the generated Manim module (of the sections compiled last)
    sourcemap.json       generated line -> lesson node
    sections/<id>.mp4    one video per section (hard links into the cache when possible)
    lesson.mp4           the whole lesson (only when every section rendered)
    logs/<id>.log        the raw output of each section's render
    manifest.json        see manifest.py

and the cache, shared by all lessons, in `build/.cache/` (or `cache_dir`). Every file is
written under a temporary name and renamed into place, so two runs of the same lesson at
once both succeed, and a run that is killed leaves nothing half-written: an interrupted
section is simply rendered again next time.

`--sections a,b` renders only those sections; `lesson.mp4` always means the complete
lesson, so it is not rewritten then (with `-o`, the chosen sections are joined into that
file instead). Quality: see render.py (`-q` presets, else the lesson's `resolution:` and
`fps:`, else 1280x720 at 30 fps).
"""

from __future__ import annotations

import contextlib
import functools
import re
import secrets
import shutil
import time
from collections.abc import Callable, Iterable
from concurrent.futures import Future, as_completed
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from lecture.compiler import frontend
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError, render_all
from lecture.compiler.model import Lesson, Section
from lecture.compiler.sourcemap import CompiledModule, SourceMap
from lecture.compiler.span import Span

from . import assemble, failures, manifest
from . import cache as cache_mod
from .cache import Cache, SectionKey, place, write_text_atomic
from .custom_parts import CustomParts
from .isolated_render import IsolatedRenders, take_out
from .isolation import adopt_file
from .pool import JobResult, RenderPool, default_jobs
from .render import RenderSettings, SettingsError, probe, resolve_settings
from .safe_fs import UnsafePathError, safe_dir
from .soundtrack import Soundtrack, prepare_soundtrack
from .soundtrack import errors as soundtrack_errors

EXIT_OK = 0
EXIT_RENDER_FAILED = 1
EXIT_LESSON_ERROR = 2

MODULE_NAME = "lesson_scenes.py"
SOURCE_MAP_NAME = "sourcemap.json"
LESSON_VIDEO = "lesson.mp4"
MANIFEST_NAME = "manifest.json"
MAX_REPAIR_ROUNDS = 3  # auto-fix: compile-and-render rounds after the first

# `section_parts(lesson, section) -> dict`: extra inputs of a section's hash (the narration's
# hash, the Coder's lock entries); any JSON-able values.
SectionParts = Callable[[Lesson, Section], dict]


class CompilerMissing(RuntimeError):
    pass


def compile_module(lesson: Lesson, *, base_dir: Path, fps: int,
                   custom_functions: dict | None = None,
                   overrides: dict | None = None) -> CompiledModule:
    """The compiler's `compile_lesson`, imported late (tests may replace this function)."""
    try:
        from lecture.compiler.lower import compile_lesson  # type: ignore[attr-defined]
    except ImportError as exc:
        raise CompilerMissing(f"the lowering stage is not available: {exc}") from None
    return compile_lesson(lesson, base_dir=base_dir, fps=fps, custom_functions=custom_functions,
                          overrides=overrides)


def default_cache_dir(build_root: str | Path = "build") -> Path:
    return Path(build_root) / cache_mod.DEFAULT_CACHE_DIR_NAME


def section_keys(lesson: Lesson, settings: RenderSettings, *, base_dir: Path,
                 section_parts: SectionParts | None = None) -> dict[str, SectionKey]:
    """Every section's content hash (cheap: no compiler, no Manim)."""
    return {s.id: cache_mod.section_key(
        lesson, s, width=settings.width, height=settings.height, fps=settings.fps,
        base_dir=base_dir, parts=section_parts(lesson, s) if section_parts else None)
        for s in lesson.sections}


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


class _PoolHolder:
    """One worker pool for a whole `lecture render` run, started when first needed."""

    def __init__(self, jobs: int | None, lessons: int) -> None:
        self.jobs = jobs
        self.lessons = lessons
        self.pool: RenderPool | None = None

    def get(self, needed: int) -> RenderPool:
        if self.pool is None:
            n = self.jobs or default_jobs()
            if self.lessons == 1:
                n = min(n, needed)
            self.pool = RenderPool(max(1, n))
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


def render_lessons(paths: list[Path], *, quality: str | None, output: Path | None,
                   sections: list[str] | None, build_root: Path = Path("build"),
                   console: Any = None, timeout: float | None = None, jobs: int | None = None,
                   cache_dir: Path | None = None,
                   section_parts: SectionParts | None = None, voice: str | None = None,
                   strict: bool = False, burn_subtitles: bool = False, autofix: bool = True,
                   usage: Any = None) -> int:
    """Render each lesson; the exit status is the worst of theirs (0 ok, 1 some sections
    failed to render, 2 a lesson has errors or cannot be rendered at all).

    jobs: worker processes (default: the number of cores); cache_dir: the render cache
    (default: `build_root/.cache`); section_parts: extra inputs of each section's hash."""
    paths = [Path(p) for p in paths]
    if output is not None and len(paths) != 1:
        _plain(console, f"error: -o/--output needs exactly one lesson, got {len(paths)}", "red")
        return EXIT_LESSON_ERROR
    status = EXIT_OK
    stems: dict[str, Path] = {}
    holder = _PoolHolder(jobs, len(paths))
    try:
        for path in paths:
            other = stems.setdefault(path.stem, path)
            if other != path:
                _plain(console, f"error: {path} and {other} would both build into "
                                f"{Path(build_root) / path.stem}; render them separately", "red")
                status = EXIT_LESSON_ERROR
                continue
            try:
                rc = render_lesson(path, quality=quality, output=output, sections=sections,
                                   build_root=build_root, console=console, timeout=timeout,
                                   jobs=jobs, cache_dir=cache_dir, pool=holder,
                                   section_parts=section_parts, voice=voice, strict=strict,
                                   burn_subtitles=burn_subtitles, autofix=autofix, usage=usage)
            except UnsafePathError as exc:  # a link in the build folder (a cloned build/)
                _plain(console, f"error: {exc}", "red")
                rc = EXIT_LESSON_ERROR
            status = max(status, rc)
    finally:
        holder.close()
    return status


def render_lesson(path: Path, *, quality: str | None, output: Path | None,
                  sections: list[str] | None, build_root: Path = Path("build"),
                  console: Any = None, timeout: float | None = None,
                  compile: Callable[..., CompiledModule] | None = None,
                  jobs: int | None = None, cache_dir: Path | None = None,
                  pool: RenderPool | _PoolHolder | None = None,
                  section_parts: SectionParts | None = None, voice: str | None = None,
                  strict: bool = False, burn_subtitles: bool = False,
                  autofix: bool = True, usage: Any = None) -> int:
    started = time.perf_counter()
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

    for sub in ("sections", "logs"):  # before any work: a link there is refused (safe_fs.py)
        safe_dir(build_root, path.stem, sub)

    # Narration first: steps last as long as their speech, so the timed lesson is what is
    # hashed and compiled.
    lesson, soundtrack, spoken = prepare_soundtrack(lesson, voice=voice, strict=strict,
                                                    build_root=Path(build_root), sections=wanted,
                                                    fps=settings.fps)
    _print_diagnostics(console, spoken, text)
    if soundtrack is None:
        return EXIT_LESSON_ERROR
    custom = CustomParts(lesson, path, usage=usage)

    def parts(lesson_: Lesson, section: Section) -> dict:
        out = dict(section_parts(lesson_, section)) if section_parts else {}
        out.update(soundtrack.section_parts(section.id))
        out.update(custom.section_parts(section))
        return out

    base_dir = path.resolve().parent
    cache = Cache(cache_dir if cache_dir is not None else default_cache_dir(build_root))
    keys = section_keys(lesson, settings, base_dir=base_dir, section_parts=parts)
    chosen = [s.id for s in lesson.sections if wanted is None or s.id in wanted]
    cached = {sid: rec for sid in chosen if (rec := cache.record(keys[sid].hash)) is not None}
    misses = [sid for sid in chosen if sid not in cached]

    own: _PoolHolder | None = None
    holder: _PoolHolder | RenderPool | None = pool
    if holder is None:
        own = holder = _PoolHolder(jobs, 1)
    # sections drawing custom elements render isolated (see isolated_render.py)
    isolated = IsolatedRenders(frozenset(), cache.run_dir / f"isolated-{secrets.token_hex(4)}",
                               (base_dir, cache.root / "modules"), jobs=min(jobs or default_jobs(), 2))
    try:
        compiled = CompiledModule("", (), SourceMap(()))
        compile_failures: dict[str, list[Diagnostic]] = {}
        live: RenderPool | None = None
        if misses:
            # Start the workers first: they import Manim while this process compiles (the
            # sections drawing custom elements get isolated workers of their own).
            plain = [sid for sid in misses if not _draws_custom(lesson.section(sid))]
            if plain:
                live = holder.get(len(plain)) if isinstance(holder, _PoolHolder) else holder
            functions = custom.resolve(console, sections=misses)
            _print_diagnostics(console, custom.diagnostics, text)
            if functions is None:
                return EXIT_LESSON_ERROR
            isolated.sections = frozenset(sid for sid, _eid in functions)
            try:
                compile_fn = compile or compile_module
                if functions:
                    compile_fn = functools.partial(compile_fn, custom_functions=functions)
                compiled, compile_failures = compile_sections(
                    lesson, compile_fn, base_dir=base_dir, fps=settings.fps, sections=misses)
            except DiagnosticError as exc:
                _plain(console, render_all(exc.diagnostics, exc.source or text), "red")
                return EXIT_LESSON_ERROR
            except CompilerMissing as exc:
                _plain(console, f"error: {exc}", "red")
                return EXIT_LESSON_ERROR

        out_dir = Path(build_root) / path.stem

        def render(failed: list, repairs: list | None = None) -> int:
            """Render what is compiled now into out_dir; failures are added to `failed`."""
            extra = {"custom": custom.to_json(), "usage": custom.usage_json()}
            if repairs is not None:
                extra["repairs"] = repairs
            return render_compiled(compiled, lesson=lesson, source_text=text, lesson_path=path,
                                   settings=settings, out_dir=out_dir, sections=wanted,
                                   output=output, console=console, timeout=timeout,
                                   compile_failures=compile_failures, cache=cache, keys=keys,
                                   cached=cached, pool=live, started=started,
                                   soundtrack=soundtrack, burn_subtitles=burn_subtitles,
                                   extra=extra, failures_out=failed, isolated=isolated)

        failed: list[failures.RenderFailure] = []
        code = render(failed)
        # Auto-fix at node scope: each failure names one node; repair it (a deterministic
        # fallback, or the Coder for custom code), compile and render its section again.
        fixer = None
        for _round in range(MAX_REPAIR_ROUNDS if autofix else 0):
            if code != EXIT_RENDER_FAILED or not failed:
                break
            from lecture.agents.autofix import AutoFixer

            if fixer is None:
                fixer = AutoFixer(lesson, path, custom=custom.code, client_config=custom.config,
                                  usage=custom.usage, console=console)
            repaired = []
            for failure in failed:
                repair = fixer.fix(failure)
                _print_diagnostics(console, repair.diagnostics, text)
                if repair.ok and repair.section:
                    repaired.append(repair.section)
            if not repaired:
                break
            custom.reload()
            overrides = {k: o.kind for k, o in fixer.overrides.items()}

            def repaired_parts(lesson_: Lesson, section: Section, overrides: dict = overrides) -> dict:
                # A repaired render is cached under its repairs: the next build compiles the
                # section again and warns again, until the lesson itself is fixed.
                out = parts(lesson_, section)
                fixes = sorted(f"{e}:{kind}" for (sid, e), kind in overrides.items() if sid == section.id)
                return {**out, "repairs": fixes} if fixes else out

            keys = section_keys(lesson, settings, base_dir=base_dir, section_parts=repaired_parts)
            cached = {sid: rec for sid in chosen if sid not in repaired
                      and (rec := cache.record(keys[sid].hash)) is not None}
            functions = custom.resolve(console, sections=repaired) or {}
            isolated.sections = frozenset(sid for sid, _eid in functions)
            compiled, compile_failures = compile_sections(
                lesson, functools.partial(compile or compile_module, custom_functions=functions,
                                          overrides=overrides),
                base_dir=base_dir, fps=settings.fps, sections=repaired)
            if live is None:
                live = holder.get(len(repaired)) if isinstance(holder, _PoolHolder) else holder
            failed = []
            code = render(failed, repairs=fixer.to_json())
        return code
    finally:
        isolated.close()
        if own is not None:
            own.close()
        cache.close()


def _draws_custom(section: Section | None) -> bool:
    return section is not None and any(el.kind == "custom" for el in section.elements)


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


@dataclass
class _Running:
    sid: str
    future: Future
    job_dir: Path
    log_tmp: Path
    record: manifest.SectionRecord
    section: Section | None
    worker_dir: Path | None = None  # an isolated render's folder in the scratch (untrusted)


def render_compiled(compiled: CompiledModule, *, lesson: Lesson, source_text: str,
                    lesson_path: Path, settings: RenderSettings, out_dir: Path,
                    sections: list[str] | None = None, output: Path | None = None,
                    console: Any = None, timeout: float | None = None,
                    compile_failures: dict[str, list[Diagnostic]] | None = None,
                    cache: Cache | None = None, keys: dict[str, SectionKey] | None = None,
                    cached: dict[str, dict] | None = None, pool: RenderPool | None = None,
                    jobs: int | None = None, started: float | None = None,
                    soundtrack: Soundtrack | None = None, burn_subtitles: bool = False,
                    extra: dict | None = None,
                    failures_out: list | None = None,
                    isolated: IsolatedRenders | None = None) -> int:
    """Render an already compiled lesson into `out_dir` (the part of the build that does
    not need the compiler; tests drive it with a hand-written module).

    `compile_failures`: sections that could not even be compiled (see compile_sections);
    they are reported and recorded as failed like sections whose render failed.
    `cache`/`keys`/`cached`: the render cache, every section's key, and the sections found
    in it (their records); without a cache every compiled section is rendered and nothing
    is stored. `pool`: the worker pool to use (else one is started for this call);
    `isolated`: the sections that run custom code, and the isolated pool they render in."""
    started = time.perf_counter() if started is None else started
    compile_failures = compile_failures or {}
    cached = dict(cached or {})
    keys = keys or {}
    for sub in ("sections", "logs"):  # real folders, never links (a cloned build/ may hold any)
        safe_dir(out_dir, sub)
    map_path = out_dir / SOURCE_MAP_NAME
    module_path = out_dir / MODULE_NAME
    render_module = module_path
    if compiled.code:
        write_text_atomic(module_path, compiled.code)
        write_text_atomic(map_path, compiled.source_map.to_json() + "\n")
        if cache is not None:  # workers import a copy named by its content: never rewritten
            render_module = cache.module(compiled.code)
        else:  # they import this one: never bytecode found next to it (a cloned build/)
            cache_mod.drop_bytecode(module_path)
    lesson_video = out_dir / LESSON_VIDEO

    scenes = {s.section_id: s for s in compiled.scenes}
    order = [s.id for s in lesson.sections]
    order += [sid for sid in scenes if sid not in order]  # (a hand-made module may differ)
    chosen = [sid for sid in order if (sections is None or sid in sections)
              and (sid in scenes or sid in compile_failures or sid in cached)]
    partial = len(chosen) < len(order)
    to_render = [sid for sid in chosen if sid not in cached and sid in scenes]
    man = manifest.Manifest(
        lesson=str(lesson_path), title=lesson.title.value,
        content_hash=manifest.content_hash(source_text), quality=settings.quality,
        fps=settings.fps, resolution=settings.resolution, module=str(module_path),
        source_map=str(map_path), cache_dir=str(cache.root) if cache else None)

    plural = "s" if len(order) != 1 else ""
    _plain(console, f"Rendering {lesson_path} ({len(chosen)} of {len(order)} section{plural}, "
                    f"{settings.resolution} at {settings.fps} fps; {len(cached)} cached, "
                    f"{len(to_render)} to render)")
    failed: list[failures.RenderFailure] = []
    records: dict[str, manifest.SectionRecord] = {}
    running: list[_Running] = []
    own_pool: RenderPool | None = None
    try:
        for index, sid in enumerate(order, start=1):
            section = lesson.section(sid)
            scene = scenes.get(sid)
            key = keys.get(sid)
            record = manifest.SectionRecord(
                id=sid, title=section.title.value if section else sid,
                class_name=scene.class_name if scene else None,
                declared_duration=section.duration if section else None,
                planned_duration=scene.duration if scene else None, status="skipped",
                hash=key.hash if key else None)
            man.sections.append(record)
            records[sid] = record
            if sid not in chosen:
                continue
            log_path = out_dir / "logs" / f"{sid}.log"
            if sid in cached:
                t0 = time.perf_counter()
                rec = cached[sid]
                assert cache is not None and key is not None
                video = place(cache.video_path(key.hash), out_dir / "sections" / f"{sid}.mp4")
                record.status, record.cached, record.output = "ok", True, str(video)
                record.rendered_duration = rec.get("duration")
                record.frames = rec.get("frames")
                record.render_seconds = rec.get("render_seconds")
                record.class_name = record.class_name or rec.get("class_name")
                record.planned_duration = record.planned_duration or rec.get("planned_duration")
                record.log = str(log_path) if log_path.is_file() else None
                record.seconds = round(time.perf_counter() - t0, 4)
                _plain(console, f"  ✓ {sid} done in {record.seconds:.2f}s: cached "
                                f"({(record.rendered_duration or 0):.2f}s of video)", "green")
                continue
            if sid in compile_failures:
                failure = failures.from_compile(sid, compile_failures[sid], log_path=log_path)
                (out_dir / "sections" / f"{sid}.mp4").unlink(missing_ok=True)
                failed.append(failure)
                record.status = "failed"
                record.log = str(log_path)
                record.error = failure.summary
                record.diagnostic = failure.to_json()
                _plain(console, f"  ✗ {sid} failed while compiling", "red")
                _plain(console, failure.render(source_text), "red")
                continue
            assert scene is not None
            if pool is None and (isolated is None or sid not in isolated):
                own_pool = pool = RenderPool(min(jobs or default_jobs(), len(to_render)))
            token = secrets.token_hex(4)
            job_dir = cache.job_dir(sid) if cache is not None else \
                safe_dir(out_dir, "work") / f"{sid}-{token}"
            job_dir.mkdir(parents=True, exist_ok=True)
            log_tmp = (out_dir / "logs" / f".{sid}.{token}.log").resolve()
            log_tmp.parent.mkdir(parents=True, exist_ok=True)
            log_tmp.write_text(f"# lecture: rendering section {sid!r} ({scene.class_name}) of "
                               f"{render_module}\n# {settings.width}x{settings.height} "
                               f"{settings.fps} fps\n", encoding="utf-8")
            job = {"module": str(Path(render_module).resolve()), "scene": scene.class_name,
                   "section": sid, "width": settings.width, "height": settings.height,
                   "fps": settings.fps, "media_dir": str(job_dir / "media"),
                   "cwd": str(Path(lesson_path).resolve().parent)}
            worker_dir = None
            target, job_timeout = pool, timeout
            if isolated is not None and sid in isolated:
                worker_dir = isolated.job_dir(sid)
                job["media_dir"] = str(worker_dir.resolve() / "media")
                log_tmp = place(log_tmp, worker_dir.resolve() / "render.log", move=True)
                target, job_timeout = isolated.pool(), isolated.timeout(timeout)
            assert target is not None
            fut = target.submit(job, log_path=log_tmp, priority=(0, index), timeout=job_timeout)
            running.append(_Running(sid, fut, job_dir, log_tmp, record, section, worker_dir))
            _plain(console, f"  rendering {sid} ({index}/{len(order)})…")

        by_future = {r.future: r for r in running}
        jobs_used = pool.jobs if (pool is not None and running) else 0
        man.jobs = jobs_used
        with _spinner(console, f"rendering {len(running)} section"
                               f"{'s' if len(running) != 1 else ''} with {jobs_used} "
                               f"worker{'s' if jobs_used != 1 else ''}…"):
            for fut in as_completed(list(by_future)):
                r = by_future[fut]
                failure = _finish_section(r, fut.result(), out_dir=out_dir, cache=cache,
                                          key=keys.get(r.sid), compiled=compiled,
                                          render_module=Path(render_module),
                                          lesson_path=lesson_path, console=console,
                                          source_text=source_text, soundtrack=soundtrack)
                if failure is not None:
                    failed.append(failure)
    finally:
        for r in running:
            if not r.future.done():
                owner = isolated.pool() if r.worker_dir is not None and isolated is not None else pool
                if owner is not None:
                    owner.cancel(r.future)
            shutil.rmtree(r.job_dir, ignore_errors=True)
            if r.worker_dir is not None:
                shutil.rmtree(r.worker_dir, ignore_errors=True)
            r.log_tmp.unlink(missing_ok=True)
        if own_pool is not None:
            own_pool.close()

    if failures_out is not None:
        failures_out.extend(failed)
    rendered = [Path(records[sid].output) for sid in chosen
                if records[sid].status == "ok" and records[sid].output]
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
                info = _assemble(rendered, [records[sid].hash for sid in chosen], lesson_video,
                                 fps=settings.fps, cache=cache, man=man, soundtrack=soundtrack)
                man.output = str(lesson_video)
                man.duration, man.frames = info
                if soundtrack is not None:
                    subs = soundtrack.write_subtitles(out_dir / "lesson")
                    man.subtitles = [str(p) for p in subs] if subs else []
                    if burn_subtitles and subs:
                        soundtrack.burn(lesson_video, subs[0])
                if output is not None:
                    place(lesson_video, Path(output))
                    man.copied_to = str(output)
            else:
                man.status = "partial"
                if output is not None:
                    result = assemble.concat(rendered, Path(output), fps=settings.fps)
                    if soundtrack is not None:
                        work = safe_dir(out_dir, "work") / f"partial-{secrets.token_hex(4)}"
                        try:
                            soundtrack.finish_lesson(Path(output), work, sections=chosen)
                        finally:
                            shutil.rmtree(work, ignore_errors=True)
                    man.copied_to = str(output)
                    man.duration, man.frames = result.duration, result.frames
        except (assemble.AssembleError, OSError, *soundtrack_errors()) as exc:
            _plain(console, f"error: could not assemble the lesson video: {exc}", "red")
            man.status = "failed"
            code = EXIT_RENDER_FAILED
    if soundtrack is not None:
        man.narration = soundtrack.to_json()
    for key, value in (extra or {}).items():
        setattr(man, key, value)
    man_path = man.write(out_dir / MANIFEST_NAME)
    if code == EXIT_OK:
        if partial:
            for p in rendered:
                _plain(console, f"wrote {p}")
        if man.output:
            _plain(console, f"wrote {man.output} ({man.duration:.2f}s)", "bold green")
        if man.copied_to:
            _plain(console, f"wrote {man.copied_to}", "bold green")
    _plain(console, f"manifest: {man_path} ({time.perf_counter() - started:.2f}s in all)")
    return code


def _finish_section(r: _Running, result: JobResult, *, out_dir: Path, cache: Cache | None,
                    key: SectionKey | None, compiled: CompiledModule, render_module: Path,
                    lesson_path: Path, console: Any, source_text: str,
                    soundtrack: Soundtrack | None = None) -> failures.RenderFailure | None:
    """Store a finished render (cache, build folder, log) and report it."""
    sid, record, section = r.sid, r.record, r.section
    log_path = out_dir / "logs" / f"{sid}.log"
    if r.worker_dir is not None:
        result = _take_out(r, result)
    with contextlib.suppress(OSError):
        place(r.log_tmp, log_path, move=True)
    record.log = str(log_path)
    record.render_seconds = round(result.seconds, 3)
    record.seconds = record.render_seconds
    out_video = out_dir / "sections" / f"{sid}.mp4"
    movie = Path(result.result["movie"]) if result.ok and result.result.get("movie") else None
    try:
        if movie is not None and movie.is_file():
            if soundtrack is not None:  # the voice goes in before the video is cached
                movie = soundtrack.add_to_section(sid, movie, r.job_dir / "audio")
            info = probe(movie)
            record.status = "ok"
            record.rendered_duration = info.duration
            record.frames = info.frames
            if cache is not None and key is not None:
                stored = cache.put_video(key.hash, movie, {
                    "section": sid, "duration": info.duration, "frames": info.frames,
                    "width": info.width, "height": info.height, "fps": info.fps,
                    "render_seconds": record.render_seconds, "class_name": record.class_name,
                    "planned_duration": record.planned_duration, "inputs": key.parts,
                    "created": time.strftime("%Y-%m-%dT%H:%M:%S")})
                place(stored, out_video)
            else:
                place(movie, out_video, move=True)
            record.output = str(out_video)
            _plain(console, f"  ✓ {sid} done in {result.seconds:.1f}s: rendered "
                            f"({info.duration:.2f}s of video)", "green")
            return None
        out_video.unlink(missing_ok=True)
        failed = keep_tex_logs(result.result or {}, r.worker_dir or r.job_dir,
                               out_dir / "logs" / f"{sid}.tex.log", isolated=r.worker_dir is not None)
    finally:
        shutil.rmtree(r.job_dir, ignore_errors=True)
        if r.worker_dir is not None:
            shutil.rmtree(r.worker_dir, ignore_errors=True)
    failure = failures.diagnose(
        sid, failed, source_map=compiled.source_map,
        module_path=render_module, log_path=log_path,
        section_span=section.span if section else None, lesson_file=str(lesson_path))
    record.status = "failed"
    record.error = failure.summary
    record.diagnostic = failure.to_json()
    _plain(console, f"  ✗ {sid} failed after {result.seconds:.1f}s", "red")
    _plain(console, failure.render(source_text), "red")
    return failure


def _take_out(r: _Running, result: JobResult) -> JobResult:
    """An isolated render's log and video, copied out of its scratch folder."""
    assert r.worker_dir is not None
    result, r.log_tmp = take_out(result, r.worker_dir, r.job_dir, r.log_tmp)
    return result


def keep_tex_logs(failure: dict, job_dir: Path, dest: Path, *, isolated: bool = False) -> dict:
    """A failure whose message names a TeX log inside the job's folder (about to be
    removed): the log is copied to `dest` and the failure made to name that instead
    (from an isolated job's folder, without following links)."""
    message = str(failure.get("message") or "")
    root = str(Path(job_dir).resolve())
    found = re.search(r"(\S+\.log)\b", message)
    if not found or not found.group(1).startswith(root):
        return failure
    try:
        if isolated:
            adopt_file(found.group(1), Path(job_dir).resolve(), dest)
        else:
            place(Path(found.group(1)), dest)
    except (OSError, ValueError):
        return failure
    out = dict(failure)
    for key in ("message", "traceback"):
        if isinstance(out.get(key), str):
            out[key] = out[key].replace(found.group(1), str(dest))
    return out


def _assemble(videos: list[Path], hashes: list[str | None], lesson_video: Path, *, fps: int,
              cache: Cache | None, man: manifest.Manifest,
              soundtrack: Soundtrack | None = None) -> tuple[float, int | None]:
    """lesson.mp4 from the section videos, from the cache when these sections were joined
    before. Returns its duration and frame count."""
    if cache is None or any(h is None for h in hashes):
        info = assemble.concat(videos, lesson_video, fps=fps)
        if soundtrack is not None:
            work = safe_dir(lesson_video.parent, "work") / f"lesson-{secrets.token_hex(4)}"
            try:
                soundtrack.finish_lesson(lesson_video, work)
            finally:
                shutil.rmtree(work, ignore_errors=True)
        return info.duration, info.frames
    key = cache_mod.lesson_key([h for h in hashes if h], fps)
    man.lesson_key = key
    rec = cache.lesson_record(key)
    if rec is None:
        work = cache.job_dir("lesson")
        try:
            info = assemble.concat(videos, work / LESSON_VIDEO, fps=fps)
            if soundtrack is not None:
                soundtrack.finish_lesson(work / LESSON_VIDEO, work / "audio")
            rec = {"duration": info.duration, "frames": info.frames, "sections": hashes}
            cache.put_lesson(key, work / LESSON_VIDEO, rec)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    place(cache.lesson_path(key), lesson_video)
    return rec["duration"], rec.get("frames")


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
