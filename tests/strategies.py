"""Hypothesis strategies for lesson models that a `.lecture` file can express.

`lessons()` draws whole lessons: settings of every kind, sections with lecture lines,
elements of every kind with arguments, placements and options that suit the kind, steps
whose actions refer to ids of their section, and comments (arbitrary one-line text) on
every statement. Strings are arbitrary Unicode, quotes, backslashes, `$`, `#`, triple quotes and
line breaks included, except the two characters no lesson file can hold: a carriage
return (line ends are normalised when reading) and NUL (a file with one is binary).
"""

from __future__ import annotations

import dataclasses
import re

from hypothesis import strategies as st
from lecture.compiler import model as m
from lecture.compiler.kinds import COLOR, FRACTION, KINDS, OPTIONS, POSITIVE, RANGE, STRING, WORD
from lecture.compiler.parser import KEYWORDS

GRID_CELL = re.compile(r"^[A-F][1-6]$")

# ------------------------------------------------------------------ atoms

_any_char = st.characters(exclude_categories=("Cs",), exclude_characters="\r\x00")
_tricky = st.sampled_from(['"', "\\", "\\n", '\\"', "$", "#", '"""', "\t", " ", "\n", "\\\\",
                           "\u2028", "\x0b", "\x0c", "\x85", "é", "√", "°", "𝔸"])

#: one line of text (no line break)
line_texts = st.lists(st.one_of(st.text(_any_char.filter(lambda c: c != "\n"), max_size=8),
                                _tricky.filter(lambda t: "\n" not in t)),
                      max_size=5).map("".join)

#: any text, line breaks included
texts = st.one_of(
    st.text(_any_char, max_size=20),
    st.lists(st.one_of(st.text(_any_char, max_size=6), _tricky), max_size=6).map("".join),
    # multi-line, the shapes of code and descriptions (indented lines, blank lines, tabs)
    st.lists(st.tuples(st.sampled_from(["", "", "  ", "    ", "\t", " \t"]), line_texts),
             min_size=2, max_size=5).map(lambda ls: "\n".join(a + b for a, b in ls)),
)

#: a comment's text: one line, nothing at its end that the parser strips
comment_texts = st.text(_any_char.filter(lambda c: c != "\n"), max_size=15).map(str.rstrip)

names = st.from_regex(r"[A-Za-z_][A-Za-z0-9_]{0,7}", fullmatch=True).filter(
    lambda n: n not in KEYWORDS and not GRID_CELL.match(n))

cells = st.builds(m.Cell, st.sampled_from("ABCDEF"), st.integers(1, 6))

finite_floats = st.floats(allow_nan=False, allow_infinity=False)
numbers = st.one_of(st.integers(-10**6, 10**6), st.integers(), finite_floats,
                    st.sampled_from([0.5, -1.5, 1e-05, 1e22, 0.1, 2.0, -0.0, 5e-324]))
positive_numbers = st.one_of(st.integers(1, 10**6),
                             st.floats(min_value=0, exclude_min=True, allow_infinity=False))
durations = st.one_of(
    st.integers(0, 600).map(float),
    st.integers(1, 999).map(lambda ms: ms / 1000.0),
    st.integers(1, 100).map(lambda n: n / 2),
    st.floats(min_value=0, allow_infinity=False, allow_nan=False),
)

color_words = st.sampled_from(["blue", "red", "yellow", "light_gray", "white", "GREEN"])
hex_colors = st.from_regex(r"#[0-9a-f]{6}", fullmatch=True)


def comments(with_after: bool = True) -> st.SearchStrategy[m.Comments]:
    after = st.one_of(st.none(), comment_texts) if with_after else st.none()
    return st.one_of(
        st.just(m.NO_COMMENTS),
        st.builds(m.Comments, st.lists(comment_texts, max_size=2).map(tuple), after),
    )


# ------------------------------------------------------------------ values

# expressions of values, as a coordinate or a value's `= "…"` holds them
expressions = st.sampled_from(["x0", "f(x0)", "2 x0 + 1", "sqrt(abs(x0))", "-x0", "x0^2 / 3",
                               "cos(a) * r", "f(sqrt(x0 + 1))"])
coordinate_values = st.one_of(numbers, expressions.map(m.Expr))


@st.composite
def points(draw) -> m.Point | m.MovingPoint:
    x, y = draw(coordinate_values), draw(coordinate_values)
    if isinstance(x, m.Expr) or isinstance(y, m.Expr):
        return m.MovingPoint(x, y)
    return m.Point(x, y)


def option_value(kind: str) -> st.SearchStrategy:
    if kind == COLOR:
        return st.one_of(color_words.map(m.Word), hex_colors.map(m.Color))
    if kind == FRACTION:
        return st.one_of(st.sampled_from([0, 1]), st.floats(0, 1))
    if kind == POSITIVE:
        return positive_numbers
    if kind == RANGE:
        return st.one_of(
            st.tuples(numbers, numbers).filter(lambda t: t[0] < t[1]).map(lambda t: m.Range(*t)),
            st.tuples(st.one_of(numbers, names), names).map(lambda t: m.ValueRange(*t)))
    if kind == WORD:
        return names.map(m.Word)
    if kind == STRING:
        return texts
    return numbers


@st.composite
def options(draw, keys: tuple[str, ...]) -> tuple[m.Option, ...]:
    chosen = draw(st.lists(st.sampled_from(keys), unique=True, max_size=3)) if keys else []
    return tuple(m.Option(k, draw(option_value(OPTIONS[k].type))) for k in chosen)


SETTING_VALUES = {
    "audience": texts,
    "subject": texts,
    "theme": st.sampled_from(["chalkboard", "light"]).map(m.Word),
    "resolution": st.sampled_from(["1280x720", "1920x1080", "640x360"]),
    "fps": st.integers(1, 120),
    "voice": st.sampled_from(["piper", "espeak", "none"]).map(m.Word),
    "language": st.sampled_from(["en", "fr", "de"]).map(m.Word),
    "rate": positive_numbers,
}


@st.composite
def settings(draw) -> tuple[m.Setting, ...]:
    keys = draw(st.lists(st.sampled_from(sorted(SETTING_VALUES)), unique=True, max_size=4))
    return tuple(m.Setting(k, draw(SETTING_VALUES[k]), draw(comments())) for k in keys)


# ------------------------------------------------------------------ elements

@st.composite
def placements(draw, others: list[str], allow_relative: bool = True) -> m.Placement:
    choices = ["at", "in", "auto"] + (["relative"] if allow_relative and others else [])
    kind = draw(st.sampled_from(choices))
    if kind == "at":
        return m.At(draw(cells))
    if kind == "in":
        return m.In(draw(cells), draw(cells))
    if kind == "auto":
        return m.Auto()
    return m.Relative(draw(st.sampled_from(m.RELATIONS)), m.Ref(draw(st.sampled_from(others))))


@st.composite
def element(draw, kind: str, ident: str, others: list[str], axes: list[str]) -> m.Element:
    spec = KINDS[kind]
    args: list[m.Arg] = []
    rows: tuple[tuple[m.Text, ...], ...] = ()
    low, high = spec.texts
    if kind == "table":
        width = draw(st.integers(1, 3))
        rows = tuple(draw(st.lists(st.tuples(*[texts.map(m.Text)] * width).map(tuple),
                                   min_size=1, max_size=3)))
    elif spec.rows == "items" and draw(st.booleans()):
        rows = tuple((m.Text(t),) for t in draw(st.lists(texts, min_size=1, max_size=3)))
    else:
        n = draw(st.integers(max(low, 1 if kind in ("bullets", "custom") else 0), min(high, 3)))
        args += [m.Text(draw(texts)) for _ in range(n)]
    if kind in ("line", "arrow"):
        if draw(st.booleans()):
            ends = st.one_of(cells.map(lambda c: c.name), st.sampled_from(others or ["A1"]))
            args.append(m.Endpoints(m.Ref(draw(ends)), m.Ref(draw(ends))))
        else:
            args += [draw(points()) for _ in range(2)]
    elif spec.points[1]:
        args += [m.Point(draw(numbers), draw(numbers))
                 for _ in range(draw(st.integers(spec.points[0], min(spec.points[1], 5))))]
    if spec.needs_target:
        args.append(m.Target(m.Ref(draw(st.sampled_from(axes or others or ["ax"])))))
    if spec.initial:  # a value: `= 1` or `= "2 x0"`
        args.append(m.Initial(draw(st.one_of(numbers, expressions.map(m.Text)))))
    if spec.follows:  # a trace: `of p`
        args.append(m.Members((m.Ref(draw(st.sampled_from(others or ["p"]))),)))
    if spec.members:  # a group: `of a, b`
        held = draw(st.lists(st.sampled_from(others or ["a"]), min_size=1, max_size=3))
        args.append(m.Members(tuple(m.Ref(name) for name in held)))
    args = draw(st.permutations(args)) if kind not in ("line", "arrow", "polygon") else args
    if spec.placement == "none":
        placement = None
    elif spec.placement == "relation":
        placement = m.Relative(draw(st.sampled_from(m.RELATIONS)),
                               m.Ref(draw(st.sampled_from(others or ["tri"]))))
    else:
        placement = draw(st.one_of(st.none(), placements(others)))
    return m.Element(kind, ident, tuple(args), placement, draw(options(spec.options)), rows,
                     draw(comments()))


# ------------------------------------------------------------------ steps

@st.composite
def action(draw, lines: list[str], elements: list[str]) -> m.Action:
    verbs = ["say"] + (["highlight"] if lines else []) + (
        ["create", "write", "fade in", "fade out", "indicate", "remove", "play", "move",
         "transform", "change", "along"] if elements else [])
    verb = draw(st.sampled_from(verbs))
    some = st.lists(st.sampled_from(elements or ["x"]), min_size=1, max_size=3).map(
        lambda ids: tuple(m.Ref(i) for i in ids))
    note = draw(comments())
    if verb == "say":
        target = draw(st.one_of(st.none(), st.sampled_from(lines))) if lines else None
        text = draw(st.one_of(st.none(), texts.map(m.Text)))
        return m.Action("say", (m.Ref(target),) if target else (), text, comments=note)
    if verb == "highlight":
        return m.Action(verb, (m.Ref(draw(st.sampled_from(lines))),), comments=note)
    if verb == "transform":
        a, b = draw(st.sampled_from(elements)), draw(st.sampled_from(elements))
        return m.Action(verb, (m.Ref(a),), into=m.Ref(b), comments=note)
    if verb == "move":
        return m.Action(verb, draw(some), to=draw(placements(elements)), comments=note)
    eases = options(("ease",))
    if verb == "change":
        values = tuple(draw(st.lists(numbers, min_size=1, max_size=3)))
        return m.Action(verb, draw(some), values=values, options=draw(eases), comments=note)
    if verb == "along":
        return m.Action("move", draw(some), along=m.Ref(draw(st.sampled_from(elements))),
                        options=draw(eases), comments=note)
    return m.Action(verb, draw(some), comments=note)


@st.composite
def step(draw, lines: list[str], elements: list[str]) -> m.Step:
    if draw(st.integers(0, 4)) == 0:
        return m.Step(draw(durations), (), is_wait=True, comments=draw(comments()))
    # Comments on actions are the exception (they force the block form); keep both forms.
    plain = draw(st.booleans())
    acts = draw(st.lists(action(lines, elements), min_size=1, max_size=4))
    if plain:
        acts = [dataclasses.replace(a, comments=m.NO_COMMENTS) for a in acts]
    return m.Step(draw(st.one_of(st.none(), durations)), tuple(acts), comments=draw(comments()))


# ------------------------------------------------------------------ sections, lessons

@st.composite
def section(draw, ident: str) -> m.Section:
    ids = draw(st.lists(names, unique=True, max_size=8))
    n_lines = draw(st.integers(0, min(3, len(ids))))
    line_ids, element_ids = ids[:n_lines], ids[n_lines:]
    lines = tuple(m.LectureLine(i, m.Text(draw(texts)), draw(comments())) for i in line_ids)
    elements: list[m.Element] = []
    axes: list[str] = []
    for i, eid in enumerate(element_ids):
        kind = draw(st.sampled_from(sorted(KINDS)))
        elements.append(draw(element(kind, eid, element_ids[:i] + element_ids[i + 1:], axes)))
        if kind == "axes":
            axes.append(eid)
    steps = tuple(draw(st.lists(step(line_ids, element_ids), max_size=4)))
    if not (lines or elements or steps):
        steps = (m.Step(1.0, (), is_wait=True),)
    return m.Section(ident, m.Text(draw(texts)), draw(st.one_of(st.none(), durations)),
                     lines, tuple(elements), steps, draw(comments()))


@st.composite
def lessons(draw, max_sections: int = 3) -> m.Lesson:
    section_ids = draw(st.lists(names, unique=True, max_size=max_sections))
    return m.Lesson(
        title=m.Text(draw(texts)),
        settings=draw(settings()),
        sections=tuple(draw(section(s)) for s in section_ids),
        comments=draw(comments()),
        trailing_comments=tuple(draw(st.lists(comment_texts, max_size=2))),
    )


__all__ = ["lessons", "texts", "line_texts", "comment_texts", "names", "durations", "numbers"]
