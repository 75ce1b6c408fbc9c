"""The build plan: one lesson, from its file to its videos, in stages.

    load -> narrate -> key -> resolve -> compile -> render units -> assemble

- load: parse and check the lesson (frontend);
- narrate: speak it first, so that steps last as long as their speech and the timed lesson
  is what is hashed and compiled (soundtrack.py);
- key: every section's content hash (cache.py), with its narration and custom code;
  a section whose hash has a video in the cache is not built again;
- resolve: the custom elements' vetted code, from the source of custom code;
- compile: the sections to build, to one Manim module with its source map (a section the
  compiler rejects fails alone);
- render units: each section's scene in the worker pool, the sections drawing custom
  elements in the isolated pool (units.py; `lecture render` renders them as a batch into
  the build folder, batch_render.py; `lecture watch` as jobs for the newest save, watch.py);
- assemble: the lesson video from its sections', cached by their hashes.

`lecture render` (build.py) and `lecture watch` (watch.py) run these same stages. Each is a
small function with typed inputs and outputs; what comes from outside the runtime (a source
of custom code, a repairer) comes in as `Collaborators` (collaborators.py).
"""

from __future__ import annotations

import functools
import shutil
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TYPE_CHECKING

from lecture.compiler import frontend
from lecture.compiler.diagnostics import Diagnostic, DiagnosticError
from lecture.compiler.model import Lesson, Section
from lecture.compiler.source import Source
from lecture.compiler.sourcemap import CompiledModule, SourceMap
from lecture.compiler.span import Span

from . import assemble as assemble_mod
from . import cache as cache_mod
from .cache import Cache, SectionKey
from .collaborators import Collaborators, CustomCodeSource, CustomFunctions, Repairer
from .render import RenderSettings
from .soundtrack import Soundtrack, Speaking, prepare_soundtrack, speak_ahead

if TYPE_CHECKING:
    from rich.console import Console

LESSON_VIDEO = "lesson.mp4"

# `section_parts(lesson, section) -> dict`: extra inputs of a section's hash (any JSON-able
# values; tests use it)
SectionParts = Callable[[Lesson, Section], dict]
# the compile step: `compile(lesson, *, base_dir, fps, custom_functions=, overrides=)`
CompileStep = Callable[..., CompiledModule]
Overrides = Mapping[tuple[str, str], str]  # (section id, element id) -> auto-fix override kind

EMPTY_MODULE = CompiledModule("", (), SourceMap(()))


@dataclass(frozen=True)
class PlanOptions:
    settings: RenderSettings
    compile: CompileStep
    build_root: Path = Path("build")
    voice: str | None = None
    strict: bool = False  # narration warnings are errors
    sections: tuple[str, ...] | None = None  # narrate only these (None: all)
    section_parts: SectionParts | None = None


@dataclass(frozen=True)
class Narrated:
    lesson: Lesson  # timed by its speech
    soundtrack: Soundtrack | None  # None: the narration cannot be made (see diagnostics)
    diagnostics: tuple[Diagnostic, ...]


@dataclass(frozen=True)
class Narrating:
    """The narrate stage under way (Plan.narrate_ahead)."""

    speaking: Speaking

    @property
    def speaks(self) -> bool:
        """Whether sentences are being synthesised on this machine (not all cached)."""
        return self.speaking.pending and self.speaking.local

    def result(self) -> Narrated:
        timed, soundtrack, diagnostics = self.speaking.result()
        return Narrated(timed, soundtrack, tuple(diagnostics))


@dataclass(frozen=True)
class Keyed:
    lesson: Lesson
    soundtrack: Soundtrack
    custom: CustomCodeSource
    keys: Mapping[str, SectionKey]
    overrides: Overrides = field(default_factory=dict)  # the repairs the keys include


@dataclass(frozen=True)
class Resolved:
    functions: CustomFunctions | None  # None: some custom element has no usable code
    diagnostics: tuple[Diagnostic, ...]

    @property
    def ok(self) -> bool:
        return self.functions is not None

    @property
    def isolated(self) -> frozenset[str]:
        """The sections that run custom code: they render in the isolated pool."""
        return frozenset(sid for sid, _eid in (self.functions or {}))


@dataclass(frozen=True)
class Compiled:
    module: CompiledModule
    failures: Mapping[str, list[Diagnostic]] = field(default_factory=dict)  # sections it rejected
    isolated: frozenset[str] = frozenset()  # sections drawing custom elements
    # The sections to render from it (None: every one the cache lacks). `lecture render`
    # compiles every chosen section, so that the module in the build folder holds them all
    # whatever the cache held, and renders only the ones the cache lacks.
    render: frozenset[str] | None = None

    def renders(self, section_id: str) -> bool:
        return self.render is None or section_id in self.render


def load(src: Source, base_dir: Path) -> frontend.Loaded:
    """Parse and check the lesson (its images are looked up in `base_dir`); its errors
    raise DiagnosticError."""
    return frontend.load_source(src, base_dir=base_dir)


@dataclass(frozen=True)
class Plan:
    """The stages for one lesson file, with the options and collaborators of one build."""

    path: Path  # the lesson file, as the user named it
    options: PlanOptions
    collaborators: Collaborators = Collaborators()

    @property
    def base_dir(self) -> Path:
        return self.path.resolve().parent

    def narrate(self, lesson: Lesson) -> Narrated:
        o = self.options
        timed, soundtrack, diagnostics = prepare_soundtrack(
            lesson, voice=o.voice, strict=o.strict, build_root=Path(o.build_root),
            sections=list(o.sections) if o.sections is not None else None, fps=o.settings.fps)
        return Narrated(timed, soundtrack, tuple(diagnostics))

    def narrate_ahead(self, lesson: Lesson) -> Narrating:
        """The narrate stage started in a background thread (soundtrack.speak_ahead), so
        that the build can render what the lesson declares while its speech is made."""
        o = self.options
        return Narrating(speak_ahead(lesson, voice=o.voice, strict=o.strict, build_root=Path(o.build_root),
                                     sections=list(o.sections) if o.sections is not None else None,
                                     fps=o.settings.fps))

    def key(self, lesson: Lesson, soundtrack: Soundtrack) -> Keyed:
        """Every section's hash (no compiler, no Manim: a cached build imports neither)."""
        custom = self.collaborators.custom_code_for(lesson, self.path)
        return self._keyed(lesson, soundtrack, custom, {})

    def rekey(self, keyed: Keyed, overrides: Overrides) -> Keyed:
        """The hashes again, under auto-fix `overrides`: a repaired render is cached under
        its repairs, so the next build compiles the section again and warns again, until
        the lesson itself is fixed."""
        return self._keyed(keyed.lesson, keyed.soundtrack, keyed.custom, overrides)

    def _keyed(self, lesson: Lesson, soundtrack: Soundtrack, custom: CustomCodeSource,
               overrides: Overrides) -> Keyed:
        extra = self.options.section_parts

        def picture(lesson_: Lesson, section: Section) -> dict:
            """The parts that change the picture (all but the narration)."""
            out = dict(extra(lesson_, section)) if extra else {}
            out.update(custom.section_parts(section))
            fixes = sorted(f"{e}:{kind}" for (sid, e), kind in overrides.items() if sid == section.id)
            return {**out, "repairs": fixes} if fixes else out

        def parts(lesson_: Lesson, section: Section) -> dict:
            return {**picture(lesson_, section), **soundtrack.section_parts(section.id)}

        keys = section_keys(lesson, self.options.settings, base_dir=self.base_dir, section_parts=parts,
                            picture_parts=picture)
        return Keyed(lesson, soundtrack, custom, keys, dict(overrides))

    def resolve(self, keyed: Keyed, sections: Sequence[str], console: Console | None) -> Resolved:
        functions = keyed.custom.resolve(console, sections=list(sections))
        return Resolved(functions, tuple(keyed.custom.diagnostics))

    def compile(self, keyed: Keyed, resolved: Resolved, sections: Sequence[str]) -> Compiled:
        """The chosen sections compiled (see compile_sections); errors outside any section
        raise DiagnosticError, a missing compiler the compile step's own error."""
        step = _bound(self.options.compile, resolved.functions or {}, keyed.overrides)
        module, failures = compile_sections(keyed.lesson, step, base_dir=self.base_dir,
                                            fps=self.options.settings.fps, sections=list(sections))
        return Compiled(module, failures, resolved.isolated)

    def repairer(self, keyed: Keyed, console: Console | None) -> Repairer | None:
        factory = self.collaborators.repairer
        return factory(keyed.lesson, self.path, keyed.custom, console) if factory else None


def _bound(step: CompileStep, functions: CustomFunctions, overrides: Overrides) -> CompileStep:
    """The compile step with the custom functions and overrides it needs (none: as it is)."""
    kw: dict = {}
    if functions:
        kw["custom_functions"] = dict(functions)
    if overrides:
        kw["overrides"] = dict(overrides)
    return functools.partial(step, **kw) if kw else step


def section_keys(lesson: Lesson, settings: RenderSettings, *, base_dir: Path,
                 section_parts: SectionParts | None = None,
                 picture_parts: SectionParts | None = None) -> dict[str, SectionKey]:
    """Every section's content hash (cheap: no compiler, no Manim); `picture_parts`: those of
    the parts that change the picture (the base of the step units' keys)."""
    return {s.id: cache_mod.section_key(
        lesson, s, width=settings.width, height=settings.height, fps=settings.fps,
        base_dir=base_dir, parts=section_parts(lesson, s) if section_parts else None,
        picture_parts=picture_parts(lesson, s) if picture_parts else None)
        for s in lesson.sections}


def _section_at(lesson: Lesson, span: Span) -> Section | None:
    here = (span.line, span.column)
    for s in lesson.sections:
        if (s.span.line, s.span.column) <= here < (s.span.end_line, s.span.end_column):
            return s
    return None


def compile_sections(lesson: Lesson, compile: CompileStep, *, base_dir: Path,
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
            return EMPTY_MODULE, failed
        try:
            return compile(replace(lesson, sections=tuple(todo)), base_dir=base_dir,
                           fps=fps), failed
        except DiagnosticError as exc:
            hit = _failed_sections(lesson, exc, {s.id for s in todo})
            for sid, diagnostics in hit.items():
                failed.setdefault(sid, []).extend(diagnostics)
            todo = [s for s in todo if s.id not in hit]
    raise AssertionError("unreachable")  # pragma: no cover


def _failed_sections(lesson: Lesson, exc: DiagnosticError, ids: set[str]) -> dict[str, list[Diagnostic]]:
    """The compiler's errors by the section they are in; re-raises `exc` when one is
    outside the sections being compiled, or none is an error."""
    hit: dict[str, list[Diagnostic]] = {}
    for d in exc.diagnostics:
        section = _section_at(lesson, d.span)
        if d.severity != "error":
            continue
        if section is None or section.id not in ids:
            raise exc
        hit.setdefault(section.id, []).append(d)
    if not hit:
        raise exc
    return hit


# ---------------------------------------------------------------- assemble


@dataclass(frozen=True)
class Assembled:
    key: str  # the lesson video's cache key: its sections' hashes
    path: Path  # the video, in the cache
    duration: float
    frames: int | None


def assemble(cache: Cache, videos: Sequence[Path], hashes: Sequence[str], *, fps: int,
             soundtrack: Soundtrack | None = None, transition: str = assemble_mod.CUT) -> Assembled:
    """The lesson video from its sections' videos, in the cache (joined now, unless these
    sections were joined before with this `transition`, the lesson's `transition:`
    setting); with its soundtrack's lesson track and subtitles."""
    key = cache_mod.lesson_key(list(hashes), fps, transition)
    record = cache.lesson_record(key)
    if record is None:
        work = cache.job_dir("lesson")
        try:
            info = assemble_mod.concat(list(videos), work / LESSON_VIDEO, fps=fps, transition=transition)
            if soundtrack is not None:
                soundtrack.finish_lesson(work / LESSON_VIDEO, work / "audio")
            record = {"duration": info.duration, "frames": info.frames, "sections": list(hashes)}
            cache.put_lesson(key, work / LESSON_VIDEO, record)
        finally:
            shutil.rmtree(work, ignore_errors=True)
    return Assembled(key, cache.lesson_path(key), record["duration"], record.get("frames"))
