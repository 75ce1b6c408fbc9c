"""Lowering: a checked lesson -> one readable Manim module, one Scene class per section.

    from lecture.compiler.lower import compile_lesson
    module = compile_lesson(lesson, base_dir=Path("lessons"), measurer=ManimMeasurer())
    module.code          # the Python source (imports manim and lecture.runtime.scene_support)
    module.scenes        # CompiledScene(section_id, class_name, duration) per section
    module.source_map    # generated lines -> lesson nodes

Layout is resolved here, on real Manim mobjects the caller's `Measurer` builds (the runtime's
`lecture.runtime.measure.ManimMeasurer`; see `measurer`), and written into the code as literal
scales and positions. Lowerings are found by name in
`registry.ELEMENTS` and `registry.ACTIONS`, filled by the decorators in `elements` and `actions`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from ..model import Lesson, Word
from ..sourcemap import CompiledModule
from ..theme import get_theme
from . import actions, charts, coords, elements, groups, motion, parts, shapes  # noqa: F401  (they fill the registries)
from .measurer import Measurer
from .registry import ACTIONS, ELEMENTS, SectionContext
from .writer import class_name, write_module

__all__ = ["compile_lesson", "lesson_theme", "section_contexts", "class_name", "ELEMENTS", "ACTIONS",
           "Measurer"]


def lesson_theme(lesson: Lesson) -> str:
    value = lesson.setting("theme")
    name = value.name if isinstance(value, Word) else value if isinstance(value, str) else None
    return get_theme(name).name


CustomFunctions = Mapping[tuple[str, str], tuple[str, str]]
Overrides = Mapping[tuple[str, str], str]


def section_contexts(lesson: Lesson, *, base_dir: Path, measurer: Measurer | None,
                     custom_functions: CustomFunctions | None = None,
                     overrides: Overrides | None = None) -> list[SectionContext]:
    """One lowering context per section, with every element resolved (its code and box)."""
    theme = get_theme(lesson_theme(lesson))
    contexts = []
    for section in lesson.sections:
        ctx = SectionContext(lesson, section, theme, Path(base_dir), measurer=measurer)
        for (sid, eid), (name, _source) in (custom_functions or {}).items():
            if sid == section.id:
                ctx.custom_functions[eid] = name
        for (sid, eid), override in (overrides or {}).items():
            if sid == section.id:
                ctx.overrides[eid] = override
        for el in section.elements:
            ctx.resolve(el.id, el.span)
        contexts.append(ctx)
    return contexts


def compile_lesson(lesson: Lesson, *, base_dir: Path, measurer: Measurer | None, fps: int = 15,
                   custom_functions: CustomFunctions | None = None,
                   overrides: Overrides | None = None) -> CompiledModule:
    """Lower a checked lesson to one Manim module with a Scene per section.

    `custom_functions` maps (section id, element id) of a custom element to the name and
    module-level source of its locked `build(box)` function (from the Coder's lock file);
    `overrides` maps elements to a repair chosen by auto-fix ("math-as-text",
    "image-placeholder", "placeholder"). Both are data: the compiler never calls a model.

    `measurer` builds the mobjects whose sizes the layout needs (the runtime's ManimMeasurer);
    None estimates sizes instead: only for tests of the code's shape, real builds always
    measure. Raises DiagnosticError (pointing at the lesson) when something cannot be
    built, e.g. a formula LaTeX rejects."""
    contexts = section_contexts(lesson, base_dir=base_dir, measurer=measurer,
                                custom_functions=custom_functions, overrides=overrides)
    return write_module(lesson, contexts, fps, custom_functions or {})
