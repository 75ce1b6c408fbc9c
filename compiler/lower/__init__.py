"""Lowering: a checked lesson -> one readable Manim module, one Scene class per section.

    from lecture.compiler.lower import compile_lesson
    module = compile_lesson(lesson, base_dir=Path("lessons"))
    module.code          # the Python source (imports manim and lecture.runtime.scene_support)
    module.scenes        # CompiledScene(section_id, class_name, duration) per section
    module.source_map    # generated lines -> lesson nodes

Layout is resolved here, on real Manim mobjects built in this process (see `registry.measuring`),
and written into the code as literal scales and positions. Lowerings are found by name in
`registry.ELEMENTS` and `registry.ACTIONS`, filled by the decorators in `elements` and `actions`.
"""

from __future__ import annotations

from pathlib import Path

from lecture.runtime.theme import get_theme

from ..model import Lesson, Word
from ..sourcemap import CompiledModule
from . import actions, elements  # noqa: F401  (they fill the registries)
from .registry import ACTIONS, ELEMENTS, SectionContext
from .writer import class_name, write_module

__all__ = ["compile_lesson", "lesson_theme", "section_contexts", "class_name", "ELEMENTS", "ACTIONS"]


def lesson_theme(lesson: Lesson) -> str:
    value = lesson.setting("theme")
    name = value.name if isinstance(value, Word) else value if isinstance(value, str) else None
    return get_theme(name).name


def section_contexts(lesson: Lesson, *, base_dir: Path, measure: bool = True) -> list[SectionContext]:
    """One lowering context per section, with every element resolved (its code and box)."""
    theme = get_theme(lesson_theme(lesson))
    contexts = []
    for section in lesson.sections:
        ctx = SectionContext(lesson, section, theme, Path(base_dir), measure=measure)
        for el in section.elements:
            ctx.resolve(el.id, el.span)
        contexts.append(ctx)
    return contexts


def compile_lesson(lesson: Lesson, *, base_dir: Path, fps: int = 15, measure: bool = True) -> CompiledModule:
    """Lower a checked lesson to one Manim module with a Scene per section.

    `measure=False` skips building mobjects (sizes are estimated): only for tests of the
    code's shape; real builds always measure. Raises DiagnosticError (pointing at the
    lesson) when something cannot be built, e.g. a formula LaTeX rejects."""
    contexts = section_contexts(lesson, base_dir=base_dir, measure=measure)
    return write_module(lesson, contexts, fps)
