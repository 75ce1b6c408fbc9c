"""What a build needs from outside the runtime: a source of custom code and a repairer.

The runtime neither writes nor repairs code: the agents do, with the lesson's lock file and
a model. The build plan (plan.py) takes them as these small protocols, and the command line
wires the agents' implementations in (lecture.agents.build_collaborators). Without them a
build renders every lesson that draws no custom element; one that does gets a diagnostic
at each custom element, and a failed section is reported as it is, unrepaired.

Whatever a source of custom code gives, the runtime still vets and isolates: the code is
checked before it is used (locked_code.vet, which the agents' source calls), and sections
drawing custom elements render in the isolated pool (isolated_render.py).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.model import Lesson, Section

from .failures import RenderFailure

if TYPE_CHECKING:
    from rich.console import Console

# (section id, element id) -> (function name, module source) of each custom element
CustomFunctions = Mapping[tuple[str, str], tuple[str, str]]


class CustomCodeSource(Protocol):
    """The code of one lesson's custom elements."""

    @property
    def diagnostics(self) -> Sequence[Diagnostic]:
        """What the last `resolve` found (errors when it returned None)."""
        ...

    def section_parts(self, section: Section) -> dict:
        """Extra inputs of the section's cache key: its custom code, as JSON-able values
        (cheap: read from the lock file, no model, no Manim)."""
        ...

    def resolve(self, console: Console | None,
                sections: Sequence[str] | None = None) -> CustomFunctions | None:
        """Each custom element's function for the compiler (of `sections`, default all),
        vetted; None when some element has no usable code (see `diagnostics`)."""
        ...

    def reload(self) -> None:
        """Read the code again (a repair may have replaced some)."""
        ...

    def to_json(self) -> list:
        """Where each element's code came from, for the manifest."""
        ...

    def usage_json(self) -> dict | None:
        """The model usage of this build, for the manifest (None: no model was used)."""
        ...


class RepairOutcome(Protocol):
    """What a repairer did about one failure."""

    @property
    def ok(self) -> bool:
        """True: compile and render `section` again with the repairer's overrides."""
        ...

    @property
    def section(self) -> str | None: ...

    @property
    def diagnostics(self) -> Sequence[Diagnostic]:
        """A warning naming the repair, or the error saying why there is none."""
        ...


class Override(Protocol):
    @property
    def kind(self) -> str:
        """How the compiler lowers the element instead ("math-as-text", "placeholder", ...)."""
        ...


class Repairer(Protocol):
    """Repairs failed sections at the node that failed, across one build."""

    @property
    def overrides(self) -> Mapping[tuple[str, str], Override]:
        """(section id, element id) -> the override to compile that element with."""
        ...

    def fix(self, failure: RenderFailure) -> RepairOutcome: ...

    def to_json(self) -> list[dict]:
        """Every repair so far, for the manifest."""
        ...


CustomCodeFactory = Callable[[Lesson, Path], CustomCodeSource]  # (lesson, lesson file)
RepairerFactory = Callable[[Lesson, Path, CustomCodeSource, "Console | None"], Repairer]


@dataclass(frozen=True)
class Collaborators:
    """The agents a build may use; the command line fills them in."""

    custom_code: CustomCodeFactory | None = None  # None: custom elements cannot be drawn
    repairer: RepairerFactory | None = None  # None: no auto-fix

    def custom_code_for(self, lesson: Lesson, lesson_path: Path) -> CustomCodeSource:
        if self.custom_code is None:
            return NoCustomCode(lesson)
        return self.custom_code(lesson, lesson_path)


class NoCustomCode:
    """The source of custom code of a build that has none: a lesson without custom
    elements needs none; one with them gets an error at each."""

    def __init__(self, lesson: Lesson) -> None:
        self.lesson = lesson
        self.diagnostics: list[Diagnostic] = []

    def section_parts(self, section: Section) -> dict:
        return {}

    def resolve(self, console: Console | None,
                sections: Sequence[str] | None = None) -> CustomFunctions | None:
        self.diagnostics = [
            Diagnostic("error", f"custom element '{el.id}' needs its code, and this build has no "
                       "source of custom code", el.span,
                       "render it with `lecture render` or `lecture watch`, which take the code "
                       "from the lesson's lock file", "custom-no-source")
            for s in self.lesson.sections for el in s.elements if el.kind == "custom"]
        return None if self.diagnostics else {}

    def reload(self) -> None:
        pass

    def to_json(self) -> list:
        return []

    def usage_json(self) -> dict | None:
        return None
