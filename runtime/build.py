"""`lecture render`: lesson files -> build/<lesson>/ with section videos and lesson.mp4.

For each lesson the build plan (plan.py) runs: load and check it (errors: print them, exit
status 2); narrate it; hash every section from the lesson model (see cache.py: its nodes
without spans or comments, the settings and theme it uses, the quality, the tool versions,
its narration and custom code); take the sections whose hash has a finished video in the
cache as they are; compile only the others to one Manim module (one Scene per section) with
its source map, and render them in parallel in a pool of persistent Manim worker processes
(pool.py, `jobs` of them, by default one per core; batch_render.py); join the section videos
with ffmpeg into `lesson.mp4` (itself cached by its sections' hashes) and write
`manifest.json`. When every section is cached, neither the compiler nor Manim is even
imported. A section that fails to render is reported at the `.lecture` node that caused it;
the other sections still render, and the exit status is 1. With a repairer (the command
line wires the agents' auto-fix in), a failed node is repaired and its section compiled and
rendered again. Each section's line says whether it was rendered or cached, and how long it
took.

Layout of `build/<lesson-stem>/`:

    lesson_scenes.py     the generated Manim module: every section of the lesson (or of
                         `--sections`), cached or not, so what reads it (`lecture eval`)
                         sees the same module whatever the cache held
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

import json
import secrets
import shutil
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lecture.compiler import source
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError, render_all
from lecture.compiler.model import Lesson, Section
from lecture.compiler.sourcemap import CompiledModule, CompiledScene, SourceMap
from lecture.compiler.span import Span

from . import cache as cache_mod
from . import manifest as manifest_mod
from . import units
from .batch_render import (
    MANIFEST_NAME,
    MODULE_NAME,
    SOURCE_MAP_NAME,
    CacheUse,
    Outcome,
    RenderTarget,
    Workers,
    render_compiled,
    render_units,
)
from .cache import Cache
from .collaborators import Collaborators, Repairer
from .executor import LOCAL, Executor
from .failures import RenderFailure
from .isolated_render import IsolatedRenders
from .plan import (
    LESSON_VIDEO,
    Compiled,
    Keyed,
    Plan,
    PlanOptions,
    SectionParts,
    compile_sections,
    load,
    section_keys,
)
from .pool import RenderPool, default_jobs
from .render import RenderSettings, SettingsError, resolve_settings
from .report import EXIT_LESSON_ERROR, EXIT_OK, EXIT_RENDER_FAILED, say, say_diagnostics
from .safe_fs import UnsafePathError, place, read_regular, safe_dir

if TYPE_CHECKING:
    from rich.console import Console

__all__ = ["EXIT_LESSON_ERROR", "EXIT_OK", "EXIT_RENDER_FAILED", "LESSON_VIDEO", "MANIFEST_NAME",
           "MODULE_NAME", "SOURCE_MAP_NAME", "CompilerMissing", "RenderOptions", "RenderTarget",
           "SectionParts", "compile_module", "compile_sections", "default_cache_dir", "render_compiled",
           "render_lesson", "render_lessons", "section_keys"]

MAX_REPAIR_ROUNDS = 3  # auto-fix: compile-and-render rounds after the first


class CompilerMissing(RuntimeError):
    pass


def compile_module(lesson: Lesson, *, base_dir: Path, fps: int,
                   custom_functions: dict | None = None,
                   overrides: dict | None = None) -> CompiledModule:
    """The compiler's `compile_lesson`, measuring on real mobjects in this process, imported
    late (tests may replace this function)."""
    try:
        from lecture.compiler.lower import compile_lesson
    except ImportError as exc:
        raise CompilerMissing(f"the lowering stage is not available: {exc}") from None
    from .measure import ManimMeasurer

    return compile_lesson(lesson, base_dir=base_dir, measurer=ManimMeasurer(), fps=fps,
                          custom_functions=custom_functions, overrides=overrides)


def default_cache_dir(build_root: str | Path = "build") -> Path:
    return Path(build_root) / cache_mod.DEFAULT_CACHE_DIR_NAME


@dataclass(frozen=True)
class RenderOptions:
    """What `lecture render` is asked for (its command line's options)."""

    quality: str | None = None  # a preset (see render.py); None: the lesson's own settings
    sections: Sequence[str] | None = None  # section ids (items may be "a,b"); None: every section
    output: Path | None = None  # -o: the lesson video is also copied here (one lesson only)
    build_root: Path = Path("build")
    cache_dir: Path | None = None  # the render cache (default: build_root/.cache)
    jobs: int | None = None  # worker processes (default: the number of cores)
    timeout: float | None = None  # seconds for one section's render
    voice: str | None = None
    strict: bool = False  # narration warnings are errors
    burn_subtitles: bool = False
    autofix: bool = True  # repair failed nodes (with a repairer: see collaborators.py)
    section_parts: SectionParts | None = None  # extra inputs of each section's hash
    executor: Executor = LOCAL  # who renders: the local pool, or a Ray cluster (executor.py)


# ---------------------------------------------------------------- entry points


class _PoolHolder:
    """One worker pool for a whole `lecture render` run, started when first needed."""

    def __init__(self, jobs: int | None, lessons: int, executor: Executor = LOCAL) -> None:
        self.jobs = jobs
        self.lessons = lessons
        self.executor = executor
        self.pool: RenderPool | None = None

    def get(self, needed: int) -> RenderPool:
        if self.pool is None:
            n = self.jobs or default_jobs()
            if self.lessons == 1:
                n = min(n, needed)
            self.pool = self.executor.start(max(1, n))
        return self.pool

    def close(self) -> None:
        if self.pool is not None:
            self.pool.close()
            self.pool = None


def render_lessons(paths: Sequence[Path], options: RenderOptions | None = None, *,
                   console: Console | None = None, collaborators: Collaborators | None = None) -> int:
    """Render each lesson; the exit status is the worst of theirs (0 ok, 1 some sections
    failed to render, 2 a lesson has errors or cannot be rendered at all).

    collaborators: the source of custom code and the repairer (the command line gives the
    agents'); without them lessons with custom elements cannot be rendered, and nothing is
    repaired."""
    options = options or RenderOptions()
    paths = [Path(p) for p in paths]
    if options.output is not None and len(paths) != 1:
        say(console, f"error: -o/--output needs exactly one lesson, got {len(paths)}", "red")
        return EXIT_LESSON_ERROR
    status = EXIT_OK
    stems: dict[str, Path] = {}
    holder = _PoolHolder(options.jobs, len(paths), options.executor)
    try:
        for path in paths:
            other = stems.setdefault(path.stem, path)
            if other != path:
                say(console, f"error: {path} and {other} would both build into "
                             f"{Path(options.build_root) / path.stem}; render them separately", "red")
                status = EXIT_LESSON_ERROR
                continue
            try:
                rc = render_lesson(path, options, console=console, collaborators=collaborators,
                                   pool=holder)
            except UnsafePathError as exc:  # a link in the build folder (a cloned build/)
                say(console, f"error: {exc}", "red")
                rc = EXIT_LESSON_ERROR
            status = max(status, rc)
    finally:
        holder.close()
    return status


def render_lesson(path: Path, options: RenderOptions | None = None, *, console: Console | None = None,
                  collaborators: Collaborators | None = None,
                  pool: RenderPool | _PoolHolder | None = None) -> int:
    """Render one lesson into build_root/<its stem>/; the exit status (see render_lessons).
    pool: the workers to use (else they are started for this lesson)."""
    options = options or RenderOptions()
    started = time.perf_counter()
    opened = _open(Path(path), options, console)
    if isinstance(opened, int):
        return opened
    plan = Plan(opened.path, PlanOptions(opened.settings, compile_module, Path(options.build_root),
                                         options.voice, options.strict, opened.wanted,
                                         options.section_parts), collaborators or Collaborators())
    holder = pool if pool is not None else _PoolHolder(options.jobs, 1, options.executor)
    try:
        # Narration first: steps last as long as their speech, so the timed lesson is what is
        # hashed and compiled. While new sentences are spoken, the lesson is rendered as it
        # declares its timing (see _render_ahead).
        narrating = plan.narrate_ahead(opened.lesson)
        ahead = _render_ahead(plan, opened, options, console, holder, started) if narrating.speaks else None
        narrated = narrating.result()
        say_diagnostics(console, narrated.diagnostics, opened.text)
        if narrated.soundtrack is None:
            return EXIT_LESSON_ERROR
        run = _LessonRun(plan, plan.key(narrated.lesson, narrated.soundtrack), opened, options,
                         console=console, pool=holder, started=started, ahead=ahead)
        try:
            return run.build()
        finally:
            run.close()
    finally:
        if pool is None:
            holder.close()


@dataclass(frozen=True)
class _Ahead:
    """A lesson's sections rendered silent, as the lesson declares their timing, while its
    narration was spoken (`_render_ahead`)."""

    lesson: Lesson  # as declared
    keys: Mapping[str, cache_mod.SectionKey]  # their silent hashes: their videos in the cache
    compiled: Compiled | None  # the module they were rendered from


def _render_ahead(plan: Plan, opened: _Opened, options: RenderOptions, console: Console | None,
                  pool: RenderPool | _PoolHolder, started: float) -> _Ahead | None:
    """Render the lesson silent, as it declares its timing, into the render cache (its
    build folder elsewhere), while the sentences the speech cache lacks are spoken in the
    background at the lowest CPU priority. A step lasts longer than it declares only when
    its speech outruns it, which `check` warns about: the sections whose timing the speech
    leaves as declared (every one, in a finished lesson) keep this render, their voice
    added (_LessonRun._adopt), so speaking costs only the CPU the renders leave idle. Not
    for lessons with custom elements (their code is resolved, and repaired, by the build
    itself)."""
    if any(_draws_custom(s) for s in opened.lesson.sections):
        return None
    silent = Plan(plan.path, replace(plan.options, voice="none"), Collaborators())
    narrated = silent.narrate(opened.lesson)
    if narrated.soundtrack is None:
        return None
    keyed = silent.key(narrated.lesson, narrated.soundtrack)
    say(console, f"Rendering {opened.path} while its narration is spoken…")
    cache_dir = options.cache_dir if options.cache_dir is not None else default_cache_dir(options.build_root)
    with tempfile.TemporaryDirectory(prefix="lecture-ahead-") as tmp:
        quiet = replace(options, build_root=Path(tmp), cache_dir=cache_dir, output=None, voice="none",
                        autofix=False, burn_subtitles=False)
        from rich.console import Console as Quiet  # (its lines name a folder about to go)

        run = _LessonRun(silent, keyed, opened, quiet, console=Quiet(quiet=True), pool=pool, started=started)
        try:
            run.build()
        finally:
            run.close()
        for log in (Path(tmp) / opened.path.stem / "logs").glob("*.log"):  # (the build's, if it keeps them)
            place(log, safe_dir(options.build_root, opened.path.stem, "logs") / log.name, move=True)
    return _Ahead(narrated.lesson, keyed.keys, run.compiled)


# ---------------------------------------------------------------- one lesson


@dataclass(frozen=True)
class _Opened:
    """A loaded lesson, with what was asked of it."""

    path: Path
    lesson: Lesson
    text: str
    settings: RenderSettings
    wanted: tuple[str, ...] | None  # the chosen sections (None: all)


def _open(path: Path, options: RenderOptions, console: Console | None) -> _Opened | int:
    """The plan's load stage, and the render settings and chosen sections checked, the
    build folder's folders made (a link there is refused, see safe_fs.py); else the exit
    status."""
    try:
        loaded = load(source.read(path), path.resolve().parent)
    except DiagnosticError as exc:
        say(console, render_all(exc.diagnostics, exc.source), "red")
        return EXIT_LESSON_ERROR
    lesson, text = loaded.lesson, loaded.source.text
    say_diagnostics(console, loaded.diagnostics, text)
    try:
        settings = resolve_settings(options.quality, lesson)
    except SettingsError as exc:
        bad = next((s for s in lesson.settings if s.key in ("resolution", "fps")), None)
        return _lesson_error(console, path, str(exc), bad.value_span if options.quality is None
                             and bad else None, text, code="bad-quality")
    wanted = _split_ids(options.sections)
    valid = [s.id for s in lesson.sections]
    unknown = [s for s in wanted or () if s not in valid]
    if unknown:
        return _lesson_error(
            console, path, f"no section {', '.join(repr(u) for u in unknown)} in this lesson",
            lesson.span if lesson.span.line else None, None,
            hint="the sections are: " + (", ".join(valid) or "(none)"), code="unknown-section")
    for sub in ("sections", "logs"):  # before any work
        safe_dir(options.build_root, path.stem, sub)
    return _Opened(path, lesson, text, settings, wanted)


def _split_ids(sections: Sequence[str] | None) -> tuple[str, ...] | None:
    if sections is None:
        return None
    ids = tuple(part.strip() for item in sections for part in str(item).split(",") if part.strip())
    return ids or None


def _lesson_error(console: Console | None, path: Path, message: str, span: Span | None = None,
                  source_text: str | None = None, hint: str | None = None, code: str = "") -> int:
    d = Diagnostic("error", message, span or Span.point(str(path), 1, 1), hint, code)
    say_diagnostics(console, [d], source_text)
    return EXIT_LESSON_ERROR


MAX_MANIFEST_BYTES = 32 * 1024 * 1024
MAX_MODULE_BYTES = 32 * 1024 * 1024


@dataclass(frozen=True)
class KeptModule:
    compiled: Compiled  # its scenes, nothing to render
    module_hash: str


def kept_module(out_dir: Path, key: str, sections: Sequence[str]) -> KeptModule | None:
    """The module the build folder holds, when the last build wrote it for this very lesson
    (its manifest's `module_key`) and it is still what that build wrote (`module_hash`):
    the scenes of `sections` as that manifest recorded them. Else None: it is compiled
    again. What a cloned build folder holds is only trusted to be text (this module is
    never imported)."""
    data = read_regular(out_dir / MANIFEST_NAME, MAX_MANIFEST_BYTES + 1)
    code = read_regular(out_dir / MODULE_NAME, MAX_MODULE_BYTES + 1)
    if data is None or code is None or len(data) > MAX_MANIFEST_BYTES or len(code) > MAX_MODULE_BYTES:
        return None
    try:
        man = json.loads(data.decode("utf-8"))
        module_hash = manifest_mod.content_hash(code.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    if not isinstance(man, dict) or man.get("module_key") != key or man.get("module_hash") != module_hash:
        return None
    scenes = []
    for rec in man.get("sections") or []:
        if isinstance(rec, dict) and all(isinstance(rec.get(k), str) for k in ("id", "class_name")) \
                and rec["id"] in sections and isinstance(rec.get("planned_duration"), int | float):
            scenes.append(CompiledScene(rec["id"], rec["class_name"], float(rec["planned_duration"])))
    module = CompiledModule("", tuple(scenes), SourceMap(()))
    return KeptModule(Compiled(module, render=frozenset()), module_hash)


_KEPT_FIELDS = ("render_seconds", "class_name", "planned_duration")  # of a record rendered ahead


def _draws_custom(section: Section | None) -> bool:
    return section is not None and any(el.kind == "custom" for el in section.elements)


class _LessonRun:
    """One lesson's `lecture render` once it is keyed: the plan's resolve and compile stages
    for the sections the cache lacks, its render stage, and the auto-fix rounds."""

    def __init__(self, plan: Plan, keyed: Keyed, opened: _Opened, options: RenderOptions, *,
                 console: Console | None, pool: RenderPool | _PoolHolder | None, started: float,
                 ahead: _Ahead | None = None) -> None:
        self.plan, self.keyed, self.opened, self.options = plan, keyed, opened, options
        self.ahead = ahead
        self.adopted: set[str] = set()  # sections rendered ahead and kept (_adopt)
        self.compiled: Compiled | None = None  # what was compiled to render (or kept)
        self.console, self.started = console, started
        self.cache = Cache(options.cache_dir if options.cache_dir is not None
                           else default_cache_dir(options.build_root))
        self.own = _PoolHolder(options.jobs, 1, options.executor) if pool is None else None
        self.holder = pool if pool is not None else self.own
        # sections drawing custom elements render isolated (see isolated_render.py)
        self.isolated = IsolatedRenders(frozenset(),
                                        lambda: self.cache.run_dir / f"isolated-{secrets.token_hex(4)}",
                                        (plan.base_dir, self.cache.root / "modules"),
                                        jobs=min(options.jobs or default_jobs(), 2))
        self.chosen = [s.id for s in keyed.lesson.sections
                       if opened.wanted is None or s.id in opened.wanted]
        self.live: RenderPool | None = None
        self.kept_hash: str | None = None  # the build folder's module, kept as it is

    def close(self) -> None:
        self.isolated.close()
        if self.own is not None:
            self.own.close()
        self.cache.close()

    @property
    def out_dir(self) -> Path:
        return Path(self.options.build_root) / self.opened.path.stem

    @property
    def module_key(self) -> str:
        """The lesson state the build folder's module is compiled from: the lesson's text
        (its comments name lesson lines) and the chosen sections' hashes."""
        return cache_mod.digest({"lesson": manifest_mod.content_hash(self.opened.text),
                                 "sections": [[sid, self.keyed.keys[sid].hash] for sid in self.chosen]})

    def build(self) -> int:
        cached = self._cached()
        misses = [sid for sid in self.chosen if sid not in cached]
        if misses and self.ahead is not None and self._adopt(misses):
            cached = self._cached()
            misses = [sid for sid in self.chosen if sid not in cached]
        # every chosen section is compiled (and only the misses rendered), unless all are
        # cached and the build folder already holds their module
        kept = None if misses else kept_module(self.out_dir, self.module_key, self.chosen)
        compiled = kept.compiled if kept is not None else None
        self.kept_hash = kept.module_hash if kept is not None else None
        ahead = self.ahead
        if compiled is None and not misses and ahead is not None and ahead.compiled is not None \
                and ahead.lesson == self.keyed.lesson:  # the module rendered ahead is this lesson's
            compiled = replace(ahead.compiled, render=frozenset())
        if compiled is None:
            first = self._compile(misses)
            if isinstance(first, int):
                return first
            compiled = first
        self.compiled = compiled
        return self._repair(self._render(compiled, cached))

    def _adopt(self, misses: list[str]) -> bool:
        """The sections rendered ahead (silent, as declared) whose timing their speech left
        as declared: their videos with their voice, into the cache under their hashes.
        Whether any was."""
        ahead, keys = self.ahead, self.keyed.keys
        assert ahead is not None
        adopted = False
        for sid in misses:
            silent = ahead.keys.get(sid)
            record = self.cache.record(silent.hash) if silent is not None else None
            timed_as_declared = self.keyed.lesson.section(sid) == ahead.lesson.section(sid)
            if silent is None or record is None or not timed_as_declared:
                continue
            work = self.cache.job_dir(f"{sid}-voice")
            try:
                movie = place(self.cache.video_path(silent.hash), work / f"{sid}.mp4")
                units.store_video(self.cache, keys[sid].hash, sid, movie, soundtrack=self.keyed.soundtrack,
                                  work=work, record={**{k: record.get(k) for k in _KEPT_FIELDS},
                                                     "inputs": keys[sid].parts})
                self.adopted.add(sid)
                adopted = True
            finally:
                shutil.rmtree(work, ignore_errors=True)
        return adopted

    def _cached(self, skip: Sequence[str] = ()) -> dict[str, dict]:
        """The chosen sections the cache has (their records), but `skip`."""
        return {sid: rec for sid in self.chosen if sid not in skip
                and (rec := self.cache.record(self.keyed.keys[sid].hash)) is not None}

    def _start_workers(self, needed: int) -> None:
        if self.live is None and needed:
            holder = self.holder
            self.live = holder.get(needed) if isinstance(holder, _PoolHolder) else holder

    def _compile(self, misses: list[str]) -> Compiled | int:
        """Every chosen section compiled, to render the misses."""
        # Start the workers first: they import Manim while this process compiles (the
        # sections drawing custom elements get isolated workers of their own).
        self._start_workers(len([s for s in misses if not _draws_custom(self.keyed.lesson.section(s))]))
        # the narration's tracks are made in the background while the sections render
        self.keyed.soundtrack.prepare(misses, lesson=self.chosen)
        text = self.opened.text
        resolved = self.plan.resolve(self.keyed, self.chosen, self.console)
        say_diagnostics(self.console, resolved.diagnostics, text)
        if not resolved.ok:
            return EXIT_LESSON_ERROR
        self.isolated.sections = resolved.isolated
        try:
            compiled = self.plan.compile(self.keyed, resolved, self.chosen)
            return replace(compiled, render=frozenset(misses))
        except DiagnosticError as exc:
            say(self.console, render_all(exc.diagnostics, exc.source or text), "red")
        except CompilerMissing as exc:
            say(self.console, f"error: {exc}", "red")
        return EXIT_LESSON_ERROR

    def _render(self, compiled: Compiled, cached: Mapping[str, dict], repairs: list | None = None) -> Outcome:
        """The plan's render and assemble stages: what is compiled now, into the build folder."""
        custom, o, opened = self.keyed.custom, self.options, self.opened
        extra: dict[str, object] = {"custom": custom.to_json(), "usage": custom.usage_json(),
                                    "module_key": self.module_key}
        if not compiled.module.code and self.kept_hash is not None:  # the module there is kept
            extra["module_hash"] = self.kept_hash
        if repairs is not None:
            extra["repairs"] = repairs
        target = RenderTarget(self.keyed.lesson, opened.text, opened.path, opened.settings,
                              Path(o.build_root) / opened.path.stem, opened.wanted, o.output,
                              self.keyed.soundtrack, o.burn_subtitles)
        return render_units(compiled, target, console=self.console,
                            cache=CacheUse(self.cache, self.keyed.keys, cached, frozenset(self.adopted)),
                            workers=Workers(self.live, self.isolated, o.jobs, o.timeout),
                            started=self.started, extra=extra)

    def _repair(self, outcome: Outcome) -> int:
        """Auto-fix at node scope: each failure names one node; the repairer repairs it (a
        deterministic fallback, or the Coder for custom code), and its section is compiled
        and rendered again."""
        fixer: Repairer | None = None
        for _round in range(MAX_REPAIR_ROUNDS if self.options.autofix else 0):
            if outcome.code != EXIT_RENDER_FAILED or not outcome.failures:
                break
            fixer = fixer or self.plan.repairer(self.keyed, self.console)
            if fixer is None:
                break
            repaired = self._fix(fixer, outcome.failures)
            if not repaired:
                break
            outcome = self._render_repaired(fixer, repaired)
        return outcome.code

    def _fix(self, fixer: Repairer, failures: Sequence[RenderFailure]) -> list[str]:
        """The sections repaired (to compile and render again)."""
        repaired = []
        for failure in failures:
            repair = fixer.fix(failure)
            say_diagnostics(self.console, repair.diagnostics, self.opened.text)
            if repair.ok and repair.section:
                repaired.append(repair.section)
        return repaired

    def _render_repaired(self, fixer: Repairer, repaired: list[str]) -> Outcome:
        self.keyed.custom.reload()  # the repairer may have written new code
        self.keyed = self.plan.rekey(self.keyed, {k: o.kind for k, o in fixer.overrides.items()})
        cached = self._cached(skip=repaired)
        resolved = self.plan.resolve(self.keyed, self.chosen, self.console)
        self.isolated.sections = resolved.isolated
        compiled = replace(self.plan.compile(self.keyed, resolved, self.chosen), render=frozenset(repaired))
        self._start_workers(len(repaired))
        return self._render(compiled, cached, fixer.to_json())
