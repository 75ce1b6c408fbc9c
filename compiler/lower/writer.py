"""The module writer: a lesson's sections as Scene classes, with a comment naming the
`.lecture` line before every element and step, and the source map of those lines."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from pathlib import Path

from ..diagnostics import DiagnosticError
from ..groups import expanded
from ..kinds import setting_choice
from ..model import Action, Lesson, Section, Step
from ..sourcemap import CompiledModule, CompiledScene, SourceMap, SourceMapEntry
from ..span import Span
from ..step_order import step_conflicts, touched
from . import groups, ir
from .registry import ACTIONS, HELPERS, SectionContext, StepCode, error

INDENT = "    "
MAX_LINE = 100


def comment_text(text: str) -> str:
    """Text made safe for a one-line comment: no line breaks or other control characters."""
    return "".join(ch if ch.isprintable() else "?" for ch in text)


def where(span: Span) -> str:
    name = Path(span.file).name if span.file else "<lesson>"
    return comment_text(f"{name}:{span.line}")


def class_name(index: int, section_id: str) -> str:
    """S01Intro, S02ProofByPictures: the section's order, then its id in CamelCase."""
    parts = [p for p in section_id.replace("-", "_").split("_") if p]
    camel = "".join(p[:1].upper() + p[1:] for p in parts)
    camel = "".join(ch for ch in camel if ch.isalnum() and ch.isascii()) or "Section"
    return f"S{index:02d}{camel}"


def seconds_text(seconds: float) -> str:
    v = ir.exact(seconds)
    return f"{int(v)}s" if float(v).is_integer() else f"{v}s"


class Writer:
    """Lines of the module, and the source-map entries that cover them."""

    def __init__(self) -> None:
        self.lines: list[str] = []
        self.entries: list[SourceMapEntry] = []

    def emit(self, text: str = "", depth: int = 0) -> None:
        for part in text.split("\n"):
            self.lines.append((INDENT * depth + part) if part else "")

    @property
    def next_line(self) -> int:
        return len(self.lines) + 1

    def map(self, first: int, node: str, span: Span, section: str | None) -> None:
        last = len(self.lines)
        if last >= first:
            self.entries.append(SourceMapEntry(first, last, node, span, section))


def statement(value: ir.Call, depth: int) -> str:
    """A statement of construct() (an action's or an element's), wrapped to the line length."""
    return ir.render_statement(value, INDENT, MAX_LINE, len(INDENT * depth))


def _emission_order(section: Section, ctx: SectionContext) -> list[str]:
    """Source order, except that an element comes after the elements its code uses."""
    out: list[str] = []
    seen: set[str] = set()

    def visit(el_id: str) -> None:
        if el_id in seen:
            return
        seen.add(el_id)
        for dep in ctx.lowered[el_id].deps:
            visit(dep)
        out.append(el_id)

    for el in section.elements:
        visit(el.id)
    return out


def write_section(w: Writer, index: int, lesson: Lesson, section: Section,
                  ctx: SectionContext) -> CompiledScene:
    name = class_name(index, section.id)
    sid = section.id
    path = f"section {sid}"
    class_first = w.next_line

    # Lower every element first (layout needs them all), in source order.
    for node in section.elements:
        ctx.resolve(node.id, node.span)

    steps = section.steps
    total = sum(s.seconds for s in steps)

    w.emit(f"class {name}(LectureScene):")
    w.emit(f"# section {comment_text(sid)} — {where(section.span)}", 1)
    w.emit(f"theme_name = {ctx.theme.name!r}", 1)
    w.emit(f"lesson_seconds = {ir.exact_num(total if steps else 1.0)}  # the sum of its steps", 1)
    w.emit("")
    w.emit("def construct(self):", 1)
    first = w.next_line
    w.emit(f"self.show_title({section.title.value!r})", 2)
    w.map(first, f"{path} / title", section.title.span or section.span, sid)

    if section.lines:
        w.emit("self.show_lines([", 2)
        for ln in section.lines:
            first = w.next_line
            w.emit(f"# {comment_text(ln.id)} — {where(ln.span)}", 3)
            w.emit(f"({ln.id!r}, {ln.text.value!r}),", 3)
            w.map(first, f"{path} / line {ln.id}", ln.span, sid)
        # progressive: each line appears with the first step that says or highlights it
        progressive = setting_choice(lesson, "lines") == "progressive"
        w.emit("], progressive=True)" if progressive else "])", 2)

    for el_id in _emission_order(section, ctx):
        el = section.element(el_id)
        assert el is not None
        low = ctx.lowered[el_id]
        var = ctx.var(el_id)
        w.emit("")
        first = w.next_line
        w.emit(f"# {comment_text(el.id)}: {el.kind} — {where(el.span)}", 2)
        w.emit(f"{var} = {ir.render_wrapped(low.expr, INDENT, MAX_LINE, len(INDENT * 2 + var) + 3)}", 2)
        for stmt in low.after:
            w.emit(statement(stmt, 2), 2)
        w.map(first, f"{path} / element {el.id}", el.span, sid)

    if not steps:
        w.emit("")
        w.emit("# no steps: hold the frame for a second", 2)
        w.emit("self.step(1.0)", 2)
    for i, step in enumerate(steps, start=1):
        ctx.step_number = i
        code = lower_step(step, ctx)
        w.emit("")
        first = w.next_line
        # a wait is a step of the section like any other: numbered with the others, as in
        # the source map, the manifest's narration, the findings and `lecture eval`
        kind = "wait " if step.is_wait else ""
        w.emit(f"# step {i}, {kind}{seconds_text(step.seconds)} — {where(step.span)}", 2)
        for stmt in code.before:
            w.emit(statement(stmt, 2), 2)
        w.emit(statement(ir.method(ir.SELF, "step", ir.Exact(step.seconds), *code.animations), 2), 2)
        w.map(first, f"{path} / step {i}", step.span, sid)

    w.map(class_first, path, section.span, sid)
    return CompiledScene(sid, name, float(total) if steps else 1.0)


def lower_step(step: Step, ctx: SectionContext) -> StepCode:
    """A step's statements and animations. Animations on different elements play together;
    those on the same element one after another, in the order written (compiler.step_order,
    which also refuses the pairs that make no sense in one step)."""
    conflicts = step_conflicts(step, ctx.section)
    if conflicts:
        raise DiagnosticError(conflicts)
    code = StepCode()
    lanes: list[_Lane] = []
    for act in step.actions:
        rule = ACTIONS.get(act.verb)
        if rule is None:
            raise error(f"the compiler cannot lower the action '{act.verb}'", act.verb_span or act.span,
                        code="unknown-verb")
        for part in _one_target_each(expanded(act, ctx.section)):  # a group shown: each member
            part_code = StepCode()
            before = groups.boxes_before(part, ctx)
            rule.lower(part, ctx, part_code)
            groups.follow(part, ctx, before)  # a group's members go with it, and it with them
            code.before += part_code.before
            _add_to_lanes(lanes, {eid for eid, _ in touched(part, ctx.section)}, part_code.animations)
    # the same animation twice (e.g. `say l1; highlight l1`) is played once
    unique: dict[str, ir.Call] = {}
    for lane in lanes:
        unique.setdefault(ir.render(lane.expr), lane.expr)
    code.animations = list(unique.values())
    return code


@dataclass
class _Lane:
    """Animations that play one after another: those on the same elements."""

    elements: set[str]
    animations: list[ir.Call]

    @property
    def expr(self) -> ir.Call:
        return self.animations[0] if len(self.animations) == 1 else ir.call("Succession", *self.animations)


def _one_target_each(act: Action) -> list[Action]:
    """`create a, b` as `create a` and `create b`: each animation then belongs to one element."""
    if act.verb == "transform" or len(act.targets) < 2:
        return [act]
    return [replace(act, targets=(ref,)) for ref in act.targets]


def _add_to_lanes(lanes: list[_Lane], elements: set[str], animations: list[ir.Call]) -> None:
    if not elements:  # a lecture line's highlight: beside everything else
        lanes += [_Lane(set(), [a]) for a in animations]
        return
    if not animations:
        return
    joined = [lane for lane in lanes if lane.elements & elements]
    if not joined:
        lanes.append(_Lane(set(elements), list(animations)))
        return
    first = joined[0]
    if len(joined) > 1:  # (an action on two elements that each had their own: those together first)
        first.animations = [ir.call("AnimationGroup", *(lane.expr for lane in joined))]
        for lane in joined[1:]:
            first.elements |= lane.elements
            lanes.remove(lane)
    first.elements |= elements
    for animation in animations:  # the same thing twice in a row (`highlight a; indicate a`): once
        if ir.render(animation) == ir.render(first.animations[-1]):
            continue
        chained = _chained(first.animations[-1], animation)
        if chained is not None:
            first.animations[-1] = chained
        else:
            first.animations.append(animation)


def _animate_chain(animation: ir.Call) -> tuple[object, list[ir.Call]] | None:
    """`x.animate.move_to(p).scale(2)` as (x, [its method calls]); None for anything else."""
    calls: list[ir.Call] = []
    node: object = animation
    while isinstance(node, ir.Call) and node.method is not None:
        calls.append(node)
        node = node.func
    if not calls or not (isinstance(node, ir.Attr) and node.name == "animate"):
        return None
    return node.value, calls[::-1]


def _chained(earlier: ir.Call, later: ir.Call) -> ir.Call | None:
    """Two `.animate` changes of one mobject in one step as one chain (`move c to B4; scale c
    0.5` -> `c.animate.move_to(…).scale(0.5)`): a second `.animate` is built from the state
    before the step, so played after the first it would undo it."""
    a, b = _animate_chain(earlier), _animate_chain(later)
    if a is None or b is None or a[0] != b[0]:
        return None
    out = earlier
    for call in b[1]:
        out = ir.Call(out, call.args, call.kwargs, call.method)
    return out


def write_module(lesson: Lesson, contexts: list[SectionContext], fps: int,
                 custom_functions: Mapping[tuple[str, str], tuple[str, str]] | None = None) -> CompiledModule:
    w = Writer()
    source = comment_text(Path(lesson.file).name if lesson.file else "<lesson>")
    w.emit(f"# Generated by lecture from {source}: edit the lesson, not this file.")
    w.emit("# One Scene per section. Each `# name — file:line` comment points at the lesson text;")
    w.emit(f"# steps last exactly their declared seconds, in whole frames ({fps} fps by default).")
    w.emit("import numpy as np")
    w.emit("from manim import *  # noqa: F403")
    w.emit("")
    w.emit(f"from lecture.runtime.scene_support import {', '.join(HELPERS)}")
    w.emit("")
    w.emit(f"LESSON_TITLE = {lesson.title.value!r}")
    for (sid, eid), (_name, source) in sorted((custom_functions or {}).items()):
        section = lesson.section(sid)
        el = section.element(eid) if section is not None else None
        if el is None:
            continue
        w.emit("")
        w.emit("")
        first = w.next_line
        w.emit(f"# {comment_text(eid)}: the Coder's code for this custom element — {where(el.span)}")
        w.emit("# (from the lesson's .lock file; regenerate with `lecture lock --update`)")
        for line in source.rstrip("\n").split("\n"):
            w.emit(line)
        w.map(first, f"section {sid} / element {eid}", el.span, sid)
    scenes = []
    for index, ctx in enumerate(contexts, start=1):
        w.emit("")
        w.emit("")
        scenes.append(write_section(w, index, lesson, ctx.section, ctx))
    w.emit("")
    w.emit(f"SCENES = [{', '.join(s.class_name for s in scenes)}]")
    code = "\n".join(w.lines) + "\n"
    return CompiledModule(code, tuple(scenes), SourceMap(tuple(w.entries)))


