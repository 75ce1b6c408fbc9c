"""The style guide's mechanical rules (docs/style.md, the rules marked *Checked*), as warnings
with a hint; `lecture check --strict` fails on them like on any warning.

mixed-label-style (compiler.checks runs it on every lesson)
    The elements that name the sides or corners of one shape use more than one style. A
    shape's *names* are the elements placed beside it (`left of tri`, `below tri`, `next to
    tri`…): every `label`, every `brace` with a label, and every `text` or `math` short
    enough to be a name (at most NAME_CHARS characters and no `=`: a longer one, or a
    statement such as "Area = 6", is a caption, not a name). Their style is their kind, as the
    video draws them: a label (small plain text), a brace (a brace and its plain text), a text
    (plain text at the text size) or a formula (`math`, typeset by LaTeX in italic: plain text
    mixed with maths). `$a$` written in a label is still drawn as plain text, the label's
    style. Only shapes (KINDS role SHAPE: polygons, squares, circles, dots…) are named this
    way; the marks of an angle (`angle … label=`) are marks, not names, and are left out. The
    style most names use wins (on a tie, the style of the first name in the file); each name
    in another style is reported at its kind, naming the others, with the statement that
    matches them.

narration-names-id (compiler.checks runs it on every lesson)
    A `say "…"` whose words contain an id of its section, an element's or a lecture line's.
    Ids are names in the file, not words for a listener, but many ids are also words ("tri",
    "a", "area", "sum") and a sentence may use the word: the rule must not guess. So only an
    id that no sentence would hold as a word is reported: one with an underscore or a digit
    ("sq_a", "l2", "x0") or with a capital inside it ("sideA"); an id of capitals and digits
    only ("CO2", "H2O", "B12") reads as a formula or a name and is left alone. The match is
    exact and case-sensitive, on whole words. The message says whether the step shows or
    acts on the element (then the sentence should name it in words), or neither (then the
    sentence also talks about something the picture does not touch).

note-size-changes (measured: compiler.findings' layout findings, which `lecture check` runs)
    `transform a into b` between two texts or formulas (text, label, math, title) shown in the
    same place (their boxes overlap), where b is drawn more than SIZE_TOLERANCE smaller or
    larger than a was: the note jumps in size. Sizes are the capital-letter heights measured
    on the real mobjects (a footprint's cap_height, lecture.runtime.geometry): a's at the end
    of the step before the transform, b's at the end of the transform's step. What decides the
    size is mostly the fitting — a longer note shrinks to fit its area, at a cell it shrinks
    to the largest size a cell allows — which the compiler cannot know without building the
    text; the declared font_size alone would miss exactly the case the rule is for (notes of
    one font size in one area, of different lengths). So this rule runs on the layout
    findings' views, not with the checks that read the lesson only, and `lecture check
    --no-layout` skips it. Its sizes are reported as capital heights in pixels at 1080p, as
    `too-small` reports them (a point size would need Manim's cap height per point).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from . import model as m
from .diagnostics import Diagnostic
from .findings import PX_PER_UNIT_1080, Finding, Footprint, SectionView
from .groups import leaves
from .kinds import KINDS, SHAPE, with_article
from .layout import Box
from .span import Span

NAMER_KINDS = ("label", "brace", "text", "math")
NAME_CHARS = 12  # a text or formula beside a shape longer than this is a caption, not a name
NOTE_KINDS = frozenset({"text", "label", "math", "title"})
_NOTE_WORDS = {"text": "a text", "label": "a label", "math": "a formula", "title": "a title"}
SIZE_TOLERANCE = 0.15  # the smaller note may be this much smaller than the larger one

_STYLE_WORDS = {"label": ("a label", "labels"), "brace": ("a brace", "braces"),
                "text": ("a plain text", "plain texts"), "math": ("a formula", "formulas")}
_WORD = re.compile(r"\w+")
_ID_LIKE = re.compile(r"[_0-9]|[a-z][A-Z]")
_FORMULA_LIKE = re.compile(r"[A-Z][A-Z0-9]*\Z")


def _warning(message: str, span: Span, hint: str, code: str) -> Diagnostic:
    return Diagnostic("warning", message, span, hint, code)


def style_diagnostics(lesson: m.Lesson) -> Iterator[Diagnostic]:
    """The style rules that read the lesson only (compiler.checks registers them)."""
    for section in lesson.sections:
        yield from _label_styles(section)
        yield from _narration_ids(section)


# ------------------------------------------------------------------ mixed-label-style


def _names_of_shapes(section: m.Section) -> dict[str, list[m.Element]]:
    """Each shape's names (module docstring), in the order of the file."""
    names: dict[str, list[m.Element]] = {}
    for el in section.elements:
        p = el.placement
        if not isinstance(p, m.Relative) or p.relation == "around" or p.target.part is not None:
            continue
        target = section.element(p.target.name)
        spec = KINDS.get(target.kind) if target is not None else None
        if spec is not None and spec.role == SHAPE and _is_a_name(el):
            names.setdefault(p.target.name, []).append(el)
    return names


def _is_a_name(el: m.Element) -> bool:
    if el.kind not in NAMER_KINDS or not el.texts:  # (a brace without a label names nothing)
        return False
    if el.kind in ("label", "brace"):
        return True
    text = el.texts[0].value.strip()
    return len(text) <= NAME_CHARS and "=" not in text


def _label_styles(section: m.Section) -> Iterator[Diagnostic]:
    for shape, names in _names_of_shapes(section).items():
        kinds = [el.kind for el in names]
        if len(set(kinds)) < 2:
            continue
        # the style most names use; on a tie, the first name's (max keeps the first it meets)
        usual = max(dict.fromkeys(kinds), key=kinds.count)
        same = [el for el in names if el.kind == usual]
        for odd in (el for el in names if el.kind != usual):
            yield _mixed_style(odd, shape, same)


def _mixed_style(odd: m.Element, shape: str, same: list[m.Element]) -> Diagnostic:
    one, many = _STYLE_WORDS[same[0].kind]
    quoted = [f"'{el.id}'" for el in same]
    others = quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " and " + quoted[-1]
    are = f"is {one}" if len(same) == 1 else f"are {many}"
    message = (f"'{odd.id}' names a part of '{shape}' with {_STYLE_WORDS[odd.kind][0]}, while {others} "
               f"{are}: the sides and corners of one shape are named in one style")
    hint = f"write it as the others are written: {_restyled(odd, same[0].kind)}"
    return _warning(message, odd.kind_span if odd.kind_span.line else odd.id_span, hint,
                    "mixed-label-style")


def _restyled(el: m.Element, kind: str) -> str:
    """The element's statement in another kind, beside the same shape."""
    placement = el.placement
    where = f" {placement.relation} {placement.target.name}" if isinstance(placement, m.Relative) else ""
    return f"{kind} {el.id} {_literal(el.texts[0].value, kind)}{where}"


def _literal(text: str, kind: str) -> str:
    """A string as a lesson writes it: a formula between dollars, else "…" with its escapes
    (compiler.format writes them the same way; it cannot be imported here: it reads lessons
    through compiler.frontend, which runs these checks)."""
    if kind == "math" and "$" not in text and "\n" not in text:
        return f"${text}$"
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


# ------------------------------------------------------------------ narration-names-id


def is_id_like(name: str) -> bool:
    """Whether an id is a name no sentence holds as a word (module docstring)."""
    return bool(_ID_LIKE.search(name)) and not _FORMULA_LIKE.match(name)


def _narration_ids(section: m.Section) -> Iterator[Diagnostic]:
    ids = {name: el.kind for name, el in section.elements_by_id.items() if is_id_like(name)}
    ids.update({name: "lecture line" for name in section.lines_by_id if is_id_like(name)})
    if not ids:
        return
    for step in section.steps:
        touched = _touched(step, section)
        for say in step.narration:
            if say.text is None:
                continue
            reported: set[str] = set()
            for word in _WORD.finditer(say.text.value):
                name = word.group()
                if name in ids and name not in reported:
                    reported.add(name)
                    yield _names_id(say.text, word.start(), name, ids[name], name in touched)


def _touched(step: m.Step, section: m.Section) -> set[str]:
    """The names a step shows or acts on: every reference of its actions, a group's members
    with it, and the lecture lines it says or highlights."""
    names: set[str] = set()
    for act in step.actions:
        refs = [*act.targets, *(r for r in (act.into, act.along, act.about) if r is not None)]
        if isinstance(act.to, m.Relative):
            refs.append(act.to.target)
        for ref in refs:
            names.add(ref.name)
            names.update(leaves(section, ref.name))
    return names


def _names_id(text: m.Text, offset: int, name: str, kind: str, touched: bool) -> Diagnostic:
    """`kind`: the element's kind, or "lecture line"."""
    span = _inside(text, offset, name)
    code = "narration-names-id"
    if kind == "lecture line":
        return _warning(f"the narration says '{name}', the id of a lecture line: ids are names in the "
                        "file, not words for a listener", span,
                        f"say what the line says, in words; `say {name} \"…\"` ties the sentence to its "
                        "line without speaking its id", code)
    heard = f"the narration says '{name}', the id of {with_article(kind)}"
    if touched:
        return _warning(f"{heard}: ids are names in the file, not words for a listener", span,
                        f"name the {kind} as the class sees it (what it shows, its colour, where it is), "
                        f"not by its id '{name}'", code)
    return _warning(f"{heard} that this step neither shows nor acts on", span,
                    f"name the {kind} in words, and show or mark it as the sentence speaks of it "
                    f"(e.g. indicate {name}), or leave it out of this sentence", code)


def _inside(text: m.Text, offset: int, word: str) -> Span:
    """The span of `word` at `offset` in a one-line "…" string written without escapes (the
    whole string otherwise: its characters then do not map one to one onto the source)."""
    span = text.span
    if not span.line or span.line != span.end_line or span.end_pos - span.start_pos != len(text.value) + 2:
        return span
    column = span.column + 1 + offset
    start = span.start_pos + 1 + offset
    return Span(span.file, span.line, column, span.line, column + len(word), start, start + len(word))


# ------------------------------------------------------------------ note-size-changes (measured)


@dataclass(frozen=True)
class _Transform:
    """`transform before into after` in the step at `index` of a section view's steps."""

    before: str
    after: str
    index: int


def note_size_findings(views: Sequence[SectionView]) -> list[Finding]:
    """Notes that change size across a transform (module docstring), once per transform."""
    found: list[Finding] = []
    for view in views:
        for t in _note_transforms(view):
            finding = _size_jump(view, t)
            if finding is not None:
                found.append(finding)
    return found


def _note_transforms(view: SectionView) -> Iterator[_Transform]:
    section = view.section
    for n, step in enumerate(view.steps):
        if n == 0 or not 0 < step.index <= len(section.steps):
            continue
        for act in section.steps[step.index - 1].actions:
            if act.verb != "transform" or act.into is None or act.into.part is not None:
                continue
            for ref in act.targets:
                kinds = {_kind(section, ref.name), _kind(section, act.into.name)}
                if ref.part is None and kinds <= NOTE_KINDS:
                    yield _Transform(ref.name, act.into.name, n)


def _kind(section: m.Section, name: str) -> str:
    el = section.element(name)
    return el.kind if el is not None else ""


def _size_jump(view: SectionView, t: _Transform) -> Finding | None:
    before = view.steps[t.index - 1].get(t.before)
    step = view.steps[t.index]
    after = step.get(t.after)
    if before is None or after is None or not _same_place(before.bbox, after.bbox):
        return None
    was, now = _cap_px(before), _cap_px(after)
    if was is None or now is None or min(was, now) >= (1 - SIZE_TOLERANCE) * max(was, now):
        return None
    change = (f"{(1 - now / was) * 100:.0f} % smaller" if now < was
              else f"{(now / was - 1) * 100:.0f} % larger")
    message = (f"'{t.after}' is drawn {change} than '{t.before}', which it replaces (capitals "
               f"{now:.0f} px tall at 1080p, where '{t.before}' had {was:.0f} px): the note jumps in size")
    el, old = view.section.element(t.after), view.section.element(t.before)
    span = el.span if el is not None else view.section.span
    hint = _size_hint(old, el) if old is not None and el is not None else _SAME_LENGTH
    return Finding("note-size-changes", view.section.id, t.after, message, hint, span, t.before,
                   step.index, step.span.line)


_SAME_LENGTH = ("make the notes about the same length, or give both one font_size= small enough that "
                "the longer fits its place")


def _size_hint(before: m.Element, after: m.Element) -> str:
    """The fix: one declared size for both when they declare different ones, else one length."""
    def declared(el: m.Element) -> str:
        given = [f"{key}={el.option(key)}" for key in ("font_size", "scale") if el.option(key) is not None]
        return " ".join(given) or f"the default size of {_NOTE_WORDS.get(el.kind, el.kind)}"

    if declared(before) == declared(after):
        return _SAME_LENGTH
    return (f"give both the same font_size= ('{before.id}' has {declared(before)}, '{after.id}' "
            f"{declared(after)}), small enough that the longer fits its place")


def _cap_px(fp: Footprint) -> float | None:
    return fp.cap_height * PX_PER_UNIT_1080 if fp.cap_height is not None and fp.cap_height > 0 else None


def _same_place(a: Box, b: Box) -> bool:
    """Whether two boxes overlap: the new note is drawn where the old one was."""
    return a.left < b.right and b.left < a.right and a.bottom < b.top and b.bottom < a.top
