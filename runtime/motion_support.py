"""Motion in a lesson's scene: values that change over a step, what follows them, movement
along a path, traces (compiler/lower/motion.py writes the calls; the generated module imports
these names through scene_support).

    x0 = live_value(1.0)                                   # a value: a tracker (and its readout)
    slope = live_value(2.0, label=text_block('slope =', ...), decimals=2).move_to(...)
    slope.follows(lambda: 2.0 * x0.value())                # an expression of values
    keep_at(p, lambda: ax.c2p(x0.value(), f.underlying_function(x0.value())))
    redraw(tl, lambda: tangent_line(ax, f, x0.value(), length=3.0, color='#ffff00'))
    self.step(4.0, change_value(x0, [3.0], rate_func=smooth))

Everything that follows a value is redrawn from the trackers every frame by an updater, so it
is where the values put it on every frame, and at every step's end (runtime/geometry.py brings
each step's animations to their end and applies the updaters before it measures). Animations
that last their whole step (`lecture_full`: a change, a move along a path, an eased turn) say
so to LectureScene.step; those whose way matters and not only their end (`lecture_motion`: a
trace draws it) are sampled on the way by geometry.py. A step that shows a follower (`create
arm` while `change a` turns it) shows it where the values are on each frame (shown_live).
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, TypeVar
from weakref import WeakKeyDictionary, WeakSet

import numpy as np
from lecture.compiler import theme as _theme
from lecture.compiler.track import Journey, Track, journey
from manim import (
    BLUE,
    GREEN,
    ORIGIN,
    RIGHT,
    Animation,
    Arc,
    Create,
    DrawBorderThenFill,
    FadeIn,
    Group,
    GrowArrow,
    GrowFromCenter,
    Line,
    Mobject,
    Polygon,
    Rotate,
    Text,
    TracedPath,
    ValueTracker,
    VectorizedPoint,
    VGroup,
    VMobject,
    Write,
    linear,
    smooth,
)

RateFunction = Callable[[float], float]
M = TypeVar("M", bound=Mobject)
PLOT_PIECE_SAMPLES = 200  # points a piece of a plot is sampled at (as lower/elements.py samples plots)
MINUS = "\u2212"  # a readout's minus sign: as wide as a plus, not a hyphen


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class _Font:
    """How a piece of a readout is set: its font, size, colour and weight."""

    name: str
    size: float
    color: Any
    weight: str

    @classmethod
    def of(cls, text: Text) -> _Font:
        return cls(str(text.font), float(text.font_size), text.get_fill_color(), str(text.weight))


@lru_cache(maxsize=64)
def _advances(name: str, size: float, weight: str) -> tuple[float, float]:
    """How far the pen moves past an H and past a space, in a font at a size."""
    hh = Text("HH", font=name, font_size=size, weight=weight)
    spaced = Text("H H", font=name, font_size=size, weight=weight)
    h = float(hh[1].get_left()[0] - hh[0].get_left()[0])
    return h, float(spaced[1].get_left()[0] - spaced[0].get_left()[0]) - h


@dataclass(frozen=True)
class _Run:
    """A piece of one line of text: its glyphs, the pen where it starts and where it ends, and its
    baseline. Pango draws a glyph's ink, not its pen, so the piece is set between two H (the same
    distance from their pens every time): the pens are counted from the first H's left edge and the
    baseline is its bottom, whatever the piece's own glyphs are (a readout's digits then keep their
    places as they change, and sit on the label's baseline)."""

    glyphs: Text
    start: float
    end: float
    baseline: float


def _run(text: str, font: _Font) -> _Run:
    marked = Text(f"H{text}H", font=font.name, font_size=font.size, color=font.color, weight=font.weight)
    head, tail = marked.submobjects[0], marked.submobjects[-1]
    advance, _ = _advances(font.name, font.size, font.weight)
    run = _Run(marked, float(head.get_left()[0]) + advance, float(tail.get_left()[0]),
               float(head.get_bottom()[1]))
    marked.remove(head, tail)
    marked.original_text = text  # what it says (the check model reads it)
    return run


# The characters a readout's number is set from (_number_text).
NUMBER_CHARS = "0123456789." + MINUS
DIGITS = "0123456789"
KERN_TOLERANCE = 1e-3  # scene units a glyph set from the glyphs may sit from where Pango sets it


def _digit_pairs() -> str:
    """Digits in which each two digits follow each other once (a de Bruijn sequence)."""
    out, last = "0", "0"
    seen: set[str] = set()
    while len(seen) < len(DIGITS) ** 2:
        last = next(d for d in reversed(DIGITS) if last + d not in seen)  # (greedy: the highest unseen)
        seen.add(out[-1] + last)
        out += last
    return out


# The number characters, each between zeros (what each glyph and its advance are measured from),
# then every pair of neighbours a readout's number can have (a minus before a digit, a point
# between digits, digits in any order): set from the glyphs, the whole must match Pango's setting
# of it, or the font kerns or joins some pair and its numbers are set whole (`_Typeface.of`).
_SAMPLE = "0" + "".join(c + "0" for c in NUMBER_CHARS) + "".join(MINUS + d for d in DIGITS) \
    + "." + ".".join(DIGITS) + "." + _digit_pairs()


@dataclass(frozen=True)
class _Glyph:
    """A character of a number in one font: its ink, placed as `_run` places a piece (its pen at
    x = 0, on the baseline y = 0), and how far it moves the pen."""

    ink: VMobject
    advance: float
    top: float
    bottom: float


@dataclass(frozen=True)
class _Typeface:
    """The glyphs of a readout's numbers in one font, set once by Pango, so that setting a number
    copies glyphs to their pens instead of setting text again (a readout is set again on every
    frame its number changes: in a render, in running through steps, at each checked moment)."""

    glyphs: dict[str, _Glyph]
    shell: Text  # an empty Text in the font: a number set from glyphs is a copy of it, filled
    cap: float  # the marking H's height (Pango's H…H counted it in the Text's initial height)

    @staticmethod
    @lru_cache(maxsize=64)
    def of(font: _Font) -> _Typeface | None:
        """The font's number glyphs; None when Pango sets some pair of them otherwise than one
        after the other (kerning, a ligature), or a character as more than one glyph."""
        sample = _run(_SAMPLE, font)
        inks = list(sample.glyphs.submobjects)
        if len(inks) != len(_SAMPLE):
            return None
        lefts = [float(ink.get_left()[0]) for ink in inks]
        zero = (lefts[2] - lefts[0]) / 2  # ("000": the sample starts with three zeros)
        bearing = lefts[0] - sample.start  # (a zero's ink from its pen)
        glyphs = {}
        for i, char in enumerate(NUMBER_CHARS):
            at = 1 + 2 * i  # (between zeros at at - 1 and at + 1)
            pen = lefts[at - 1] - bearing + zero
            ink = _copied(inks[at]).shift(-np.array([pen, sample.baseline, 0.0]))
            glyphs[char] = _Glyph(ink, lefts[at + 1] - lefts[at - 1] - zero, float(ink.get_top()[1]),
                                  float(ink.get_bottom()[1]))
        shell = sample.glyphs
        shell.remove(*inks)
        shell.chars = shell.get_group_class()()
        shell.id_to_vgroup_dict = {}  # (Pango's glyphs, else copied with every number)
        cap = float(Text("H", font=font.name, font_size=font.size, weight=font.weight).height)
        face = _Typeface(glyphs, shell, cap)
        return face if face.sets_as(sample, inks) else None

    def compose(self, text: str) -> _Run:
        """A number set from the glyphs: a copy of each at its pen, in a copy of the shell."""
        number = _copied(self.shell)
        pen, top, bottom = 0.0, self.cap, 0.0
        for char in text:
            glyph = self.glyphs[char]
            number.add(_copied(glyph.ink).shift(np.array([pen, 0.0, 0.0])))
            top, bottom = max(top, glyph.top), min(bottom, glyph.bottom)
            pen += glyph.advance
        number.chars = number.get_group_class()(*number.submobjects)
        number.original_text = number.text = text
        number.initial_height = top - bottom  # (as Pango's H…H had it: Text.font_size reads it)
        return _Run(number, 0.0, pen, 0.0)

    def sets_as(self, sample: _Run, inks: Sequence[VMobject]) -> bool:
        """Whether the sample set from the glyphs has every glyph where Pango set it."""
        composed = self.compose(_SAMPLE)
        if abs(composed.end - (sample.end - sample.start)) > KERN_TOLERANCE:
            return False
        at = np.array([sample.start, sample.baseline, 0.0])
        return all(a.points.shape == b.points.shape and
                   float(np.max(np.abs(a.points - at - b.points), initial=0.0)) <= KERN_TOLERANCE
                   for a, b in zip(inks, composed.glyphs.submobjects, strict=True))


def _copied(mob: M) -> M:
    """A copy of a glyph (or of the empty shell) as Mobject.copy makes it, but with only its arrays,
    lists and dicts copied and the rest shared: its colours (never changed in place: set_fill and
    the like assign new ones) and the parsed SVG path it was made from (only read when it was made),
    which a deep copy copies at ten times the cost of the rest. (Its submobjects, if any, are not
    copied: a glyph has none, and the shell's are added after.)"""
    copied = mob.__class__.__new__(mob.__class__)
    for key, value in mob.__dict__.items():
        setattr(copied, key, value.copy() if isinstance(value, (np.ndarray, list, dict)) else value)
    copied.original_id = str(id(mob))
    return copied


def _number_run(text: str, font: _Font) -> _Run:
    """A number set as `_run` sets it: from the font's glyphs when they set it as Pango does."""
    face = _Typeface.of(font)
    return face.compose(text) if face is not None else _run(text, font)


def _number_text(value: float, decimals: int) -> str | None:
    """A value as a readout shows it (None: it has no value there)."""
    if not math.isfinite(value):
        return None
    text = f"{value:.{decimals}f}"
    if float(text) == 0:
        text = text.lstrip("-")  # never -0.00
    return text.replace("-", MINUS)


class LiveValue(VGroup):
    """A value of the lesson: a tracker that `change` animates, or an expression of other values
    (`follows`); shown, a live readout of it — an optional label, the number, an optional unit —
    set as one line of text: the number on the label's baseline, a space after the label, the unit a
    space after the number. As the number changes its digits keep their places (the label never
    moves; the unit moves only when the number gains or loses a digit)."""

    def __init__(self, start: float, *, label: Text | None = None, decimals: int = 2,
                 unit: Text | None = None, color: str = "#ffffff", font_size: float = 30,
                 span: Sequence[float] = ()) -> None:
        """`label` and `unit`: text built by the scene's `text_block`, set before and after;
        `span`: the least and the most the value will be — the readout keeps room on its right for
        the widest number between them (its box does not change as the number does)."""
        super().__init__()
        self.tracker = ValueTracker(start)
        self.rule: Callable[[], float] | None = None
        self.decimals = decimals
        given = label if label is not None else unit
        name, weight = (str(given.font), str(given.weight)) if given is not None \
            else (_theme.DEFAULT_FONT, "NORMAL")
        self.font = _Font(name, float(font_size), color, weight)
        self.space = _advances(name, float(font_size), weight)[1]
        pieces = [_run(str(t.original_text), _Font.of(t)) if t is not None else None for t in (label, unit)]
        number = _number_run(_number_text(start, decimals) or "0", self.font)
        pens, pen = [], 0.0  # the line's pens, on the baseline y = 0
        for run in (pieces[0], number, pieces[1]):
            pens.append(pen)
            if run is not None:
                run.glyphs.shift(RIGHT * (pen - run.start) - np.array([0.0, run.baseline, 0.0]))
                pen += run.end - run.start + self.space
        self.label, self.number = (pieces[0].glyphs if pieces[0] else None), number.glyphs
        self.unit = pieces[1].glyphs if pieces[1] else None
        # Where the number's pen starts, kept through moves and scaling: two points inside the number
        # (moved and scaled with the readout) and the pen's offset from the first.
        middle = self.number.get_center()
        self._reach = max(float(self.number.height) / 4, 1e-3)
        self._anchors = (VectorizedPoint(middle), VectorizedPoint(middle + np.array([0.0, self._reach, 0.0])))
        self._pen = np.array([pens[1], 0.0, 0.0]) - middle
        self._unit_lead = pens[2] - float(self.unit.get_left()[0]) if self.unit is not None else 0.0
        self.add(*(m for m in (self.label, self.number, self.unit) if m is not None), *self._anchors)
        self._keep_room(span, number)
        self.add_updater(lambda m: m.refresh())
        _FOLLOWERS.add(self)

    def _keep_room(self, span: Sequence[float], shown: _Run) -> None:
        """Room on the right for the widest number of `span` (a point where the line would end)."""
        texts = [t for t in (_number_text(float(v), self.decimals) for v in span) if t is not None]
        widest = max((_number_run(t, self.font) for t in texts), key=lambda r: r.end - r.start, default=None)
        extra = (widest.end - widest.start) - (shown.end - shown.start) if widest is not None else 0.0
        if extra > KERN_TOLERANCE:  # (not a rounding's worth: digits as wide as each other differ by 1e-5)
            middle = self._anchors[0].get_center()[1]
            self.add(VectorizedPoint(np.array([self.get_right()[0] + extra, middle, 0.0])))

    def value(self) -> float:
        """The value now: its tracker's, or its expression's of the others."""
        return float(self.rule()) if self.rule is not None else float(self.tracker.get_value())

    def follows(self, rule: Callable[[], float]) -> LiveValue:
        """Make this value an expression of others (computed when asked, never stored)."""
        self.rule = rule
        return self

    def refresh(self) -> None:
        """Show the value now."""
        self.set_number(self.value())

    def set_number(self, value: float) -> None:
        """Show a number: set from where the number's pen starts, in the readout's colour and size
        as they are now; the unit a space after it."""
        text = _number_text(value, self.decimals)
        if text is None or text == self.number.original_text:
            return  # (no value there, or the same digits: nothing to set)
        a, b = (p.get_center() for p in self._anchors)
        k = float(np.linalg.norm(b - a)) / self._reach
        pen = a + k * self._pen
        run = _number_run(text, self.font)
        glyphs = run.glyphs.scale(k, about_point=ORIGIN)
        glyphs.shift(pen - k * np.array([run.start, run.baseline, 0.0]))
        glyphs.set_fill(self.number.get_fill_color(), opacity=self.number.get_fill_opacity())
        self.submobjects = [glyphs if m is self.number else m for m in self.submobjects]
        _emptied(self.number)
        self.number = glyphs
        if self.unit is not None:
            end = pen[0] + k * (run.end - run.start + self.space)
            self.unit.shift(RIGHT * (end - float(self.unit.get_left()[0]) - k * self._unit_lead))


def _emptied(mob: Mobject) -> Mobject:
    """A mobject that was replaced, made to draw nothing: a step being played redraws the parts its
    mobjects had when it began (Scene.moving_mobjects), and would still draw this one."""
    for part in mob.get_family():
        part.reset_points()
    return mob


def live_value(start: float, **readout: Any) -> LiveValue:
    """A value starting at `start` (see LiveValue for the readout's options)."""
    return LiveValue(start, **readout)


class ValueChange(Animation):
    """Values' trackers sliding to each of `values` in turn, in equal shares of the step, each
    leg eased by `rate_func`; it lasts the whole step."""

    lecture_full = True
    lecture_motion = True

    def __init__(self, value: LiveValue, values: Sequence[float], rate_func: RateFunction = smooth) -> None:
        self.value = value
        self.targets = [float(v) for v in values]
        self.ease = rate_func
        self.legs: list[tuple[float, float]] = []
        super().__init__(value.tracker, rate_func=lambda t: t)

    def begin(self) -> None:
        start = self.value.tracker.get_value()
        self.legs = []
        for target in self.targets:  # each leg starts where the one before ended
            self.legs.append((start, target))
            start = start + (target - start) * self.ease(1.0)
        super().begin()

    def interpolate_mobject(self, alpha: float) -> None:
        if not self.legs:
            return
        n = len(self.legs)
        leg = min(int(alpha * n), n - 1)
        low, high = self.legs[leg]
        self.value.tracker.set_value(low + (high - low) * self.ease(alpha * n - leg))


def change_value(value: LiveValue, values: Sequence[float], *,
                 rate_func: RateFunction = smooth) -> ValueChange:
    """`change x0 to 1, 3`: x0 slides to 1, then to 3, over the step."""
    return ValueChange(value, values, rate_func)


# ---------------------------------------------------------------- following


# The mobjects that follow values or another mobject (they have an updater of this module's).
_FOLLOWERS: WeakSet[Mobject] = WeakSet()
# The animations a step shows an element by (compiler/lower/actions.py), each made from the element alone.
SHOWS: tuple[type[Animation], ...] = (Create, Write, FadeIn, GrowArrow, GrowFromCenter, DrawBorderThenFill)


# What stands in for a follower while a step shows it (_Shown): a trace of it is drawn under that.
_STAND_INS: WeakKeyDictionary[Mobject, Mobject] = WeakKeyDictionary()


def shown_live(animation: Animation) -> Animation:
    """A step's animation as the scene plays it (LectureScene.step): one that shows a mobject which
    follows values (`create arm` in the step that turns it) draws it where the values put it on
    every frame. (Played as it is, it would hold the mobject where it was until the step's end:
    an animation holds what it animates still, and a step's animations end together.)"""
    shown = animation.mobject
    if type(animation) in SHOWS and isinstance(shown, Mobject) and shown in _FOLLOWERS:
        return _Shown(animation)
    return animation


class _Shown(Animation):
    """A follower being shown. It is drawn by a stand-in: on each frame the follower is brought
    to the values (its updaters), and the stand-in is a copy of it as the show animation draws it
    that far through; when the show ends the follower takes the stand-in's place in the scene and
    follows the values itself from then on."""

    follower: Mobject
    kind: type[Animation]
    stand_in: Group
    scene: Any
    done: bool

    def __init__(self, show: Animation) -> None:
        assert isinstance(show.mobject, Mobject)
        self.follower = show.mobject
        self.kind = type(show)
        self.stand_in = Group()
        _STAND_INS[self.follower] = self.stand_in
        self.scene = None
        self.done = False
        super().__init__(self.stand_in, run_time=show.run_time, rate_func=linear, introducer=True)

    def _setup_scene(self, scene: Any) -> None:
        super()._setup_scene(scene)
        self.scene = scene

    def interpolate_mobject(self, alpha: float) -> None:
        if self.done:
            return
        self.follower.update(0)
        snapshot = self.follower.copy().clear_updaters()
        drawn = self.kind(snapshot)
        drawn.begin()
        drawn.interpolate(alpha)
        for old in self.stand_in.submobjects:
            _emptied(old)
        self.stand_in.submobjects = [snapshot]
        if alpha >= 1.0:
            self._hand_over()

    def finish(self) -> None:
        super().finish()
        self._hand_over()

    def _hand_over(self) -> None:
        """The follower in the stand-in's place: drawn in its turn, updated by the scene."""
        if self.done:
            return
        self.done = True
        _STAND_INS.pop(self.follower, None)
        for old in self.stand_in.submobjects:
            _emptied(old)
        self.stand_in.submobjects = []
        if self.scene is None:
            return
        for name in ("mobjects", "moving_mobjects"):
            drawn = getattr(self.scene, name, None)
            if isinstance(drawn, list) and self.stand_in in drawn and self.follower not in drawn:
                drawn[drawn.index(self.stand_in)] = self.follower


def _caught_up(target: Mobject) -> Mobject:
    """The mobject another one follows, its own updaters applied first (whatever order the scene
    updates them in), except a trace's: it adds a point each time."""
    if not isinstance(target, TracedPath):
        target.update(0)
    return target


def keep_at(mob: Mobject, where: Callable[[], Any], side: Any = None, buff: float = 0.15,
            on: Mobject | None = None) -> Mobject:
    """Keep a mobject at a moving point (`dot p at (x0, f(x0)) on ax`), or beside it (`side`);
    `on`: the axes the point is on."""
    def update(m: Mobject) -> None:
        point = np.asarray(where(), dtype=float)
        if not np.all(np.isfinite(point)):
            return  # (no place: a value outside where its expression has one)
        if side is None:
            m.move_to(point)
        else:
            m.next_to(point, side, buff=buff)

    mob.add_updater(update)
    _FOLLOWERS.add(mob)
    if side is None:
        _PLACES[mob] = _Place(where, on)
    return mob


@dataclass(frozen=True)
class _Place:
    """Where a mobject kept at a moving point is meant to be (keep_at), and the axes that say where."""

    where: Callable[[], Any]
    on: Mobject | None


_PLACES: WeakKeyDictionary[Mobject, _Place] = WeakKeyDictionary()


def keep_beside(mob: Mobject, target: Mobject) -> Mobject:
    """Keep a mobject where it was laid out beside another one, as that one moves."""
    offset = mob.get_center() - target.get_center()
    mob.add_updater(lambda m: m.move_to(_caught_up(target).get_center() + offset))
    _FOLLOWERS.add(mob)
    return mob


def redraw(mob: Mobject, build: Callable[[], Mobject], *after: Mobject) -> Mobject:
    """Rebuild a mobject every frame from the values (a line to the curve, a tangent, an area up
    to a value), keeping its style as the steps have made it; `after`: the mobjects it is built
    from that are redrawn too (a plot that reads values), brought up to date first."""
    def update(m: Mobject) -> None:
        for source in after:
            _caught_up(source)
        new = build()
        if isinstance(new, VMobject) and isinstance(m, VMobject):
            new.match_style(m)
        m.become(new)

    mob.add_updater(update)
    _FOLLOWERS.add(mob)
    return mob


def resize_with(mob: Mobject, value: Callable[[], float], start: float, how: str = "scale") -> Mobject:
    """Keep a size or a style in proportion to a value that started at `start` (a bound option:
    `radius=r`): `scale` (about its centre), `stretch_x`, `stretch_y`, `opacity`, `stroke`."""
    state = {"factor": 1.0}

    def update(m: Mobject) -> None:
        wanted = float(value())
        if not np.isfinite(wanted):
            return
        if how == "opacity":
            m.set_fill(opacity=min(max(wanted, 0.0), 1.0))
        elif how == "stroke":
            m.set_stroke(width=max(wanted, 0.0))
        else:
            factor = max(abs(wanted / start), 1e-3) if start else 1.0  # never collapsed to nothing
            change = factor / state["factor"]
            if how == "scale":  # an arc (a circle, a dot) about its centre, not its box's
                m.scale(change, about_point=m.get_arc_center() if isinstance(m, Arc) else m.get_center())
            else:
                m.stretch(change, 0 if how == "stretch_x" else 1)
            state["factor"] = factor

    mob.add_updater(update)
    _FOLLOWERS.add(mob)
    return mob


# ---------------------------------------------------------------- drawn from values


def _underlying(graph: Any) -> Callable[[float], float]:
    function: Callable[[float], float] = graph.underlying_function
    return function


def tangent_line(axes: Any, graph: Any, x: float, *, length: float = 3.0, **style: Any) -> Line:
    """The tangent to a plot at x, `length` long, centred on the point of the curve."""
    f = _underlying(graph)
    span = float(axes.x_range[1] - axes.x_range[0])
    h = span * 1e-5
    with np.errstate(all="ignore"):
        here = axes.c2p(x, f(x))
        slope = axes.c2p(x + h, f(x + h)) - axes.c2p(x - h, f(x - h))
    norm = float(np.linalg.norm(slope))
    if not (np.all(np.isfinite(here)) and np.isfinite(norm)) or norm == 0:
        here = here if np.all(np.isfinite(here)) else axes.c2p(axes.x_range[0], axes.y_range[0])
        return Line(here, here, **style)  # no tangent there: nothing drawn
    half = slope / norm * length / 2
    return Line(here - half, here + half, **style)


def plot_area(axes: Any, graph: Any, low: float, high: float, **style: Any) -> VMobject:
    """The area under a plot between two x that may move (`x=0..x0`); nothing when they meet."""
    if not high > low:
        return VMobject(**{k: v for k, v in style.items() if k in ("color", "stroke_width")})
    if style.get("bounded_graph") is not None:
        between: VMobject = axes.get_area(graph, x_range=[low, high], **style)
        return between
    # Axes.get_area's polygon, its plot's points between the two x found in one call for all of
    # them (get_area asks for each point's coordinates on both axes one at a time: redrawn on
    # every frame of a step, that was most of what a moving area cost)
    style = dict(style)
    color, opacity = style.pop("color", (BLUE, GREEN)), style.pop("opacity", 0.3)
    points = np.asarray(graph.points)
    xs = np.asarray(axes.get_axes()[0].point_to_number(points)) if len(points) else np.zeros(0)
    inside = points[(low <= xs) & (xs <= high)]
    corners = [axes.c2p(low), graph.function(low), *inside, graph.function(high), axes.c2p(high)]
    area: VMobject = Polygon(*corners, **style).set_opacity(opacity).set_color(color)
    return area


def riemann_of(axes: Any, graph: Any, low: float, high: float, n: int, **style: Any) -> VGroup:
    """`n` Riemann rectangles under a plot between two x that may move."""
    if not high > low:
        return VGroup()
    dx = (high - low) / n
    rectangles: VGroup = axes.get_riemann_rectangles(graph, x_range=[low, high - dx / 2], dx=dx, **style)
    return rectangles


def plot_piece(axes: Any, graph: Any, low: float, high: float) -> VMobject:
    """The piece of a plot between two x (a path to move along: `move p along f x=0..2`)."""
    step = (high - low) / PLOT_PIECE_SAMPLES
    piece: VMobject = axes.plot(_underlying(graph), x_range=[low, high, step])
    return piece


# ---------------------------------------------------------------- traces


class _StartTrace(Animation):
    """A trace appearing: it starts drawing at once, from where its element is, under it."""

    def __init__(self, trace: TracedPath) -> None:
        super().__init__(trace, introducer=True, suspend_mobject_updating=False)

    def _setup_scene(self, scene: Any) -> None:
        super()._setup_scene(scene)
        followed = getattr(self.mobject, "followed", None)
        followed = _STAND_INS.get(followed, followed) if isinstance(followed, Mobject) else followed
        if followed in scene.mobjects and self.mobject in scene.mobjects:  # drawn just before it
            scene.mobjects.remove(self.mobject)
            scene.mobjects.insert(scene.mobjects.index(followed), self.mobject)

    def interpolate_mobject(self, alpha: float) -> None:
        pass  # (the trace draws itself, by its updater)

    def update_mobjects(self, dt: float) -> None:
        pass  # (the scene updates the trace, once a frame: updated here too, it added each point twice)


class _Trace(TracedPath):
    """A TracedPath that waits while what it follows is being drawn in or animated with its updating
    held (a half-drawn dot's centre, or a point on axes being drawn, wanders): the path then joins
    where it was to where it is."""

    def __init__(self, target: Mobject, **style: Any) -> None:
        self.followed = target
        super().__init__(self.point, **style)

    def point(self) -> Any:
        place = _PLACES.get(self.followed)
        if place is not None:
            return np.asarray(place.where(), dtype=float)
        return _caught_up(self.followed).get_center()

    def held(self) -> bool:
        """Whether what it follows is being drawn in or animated (its updating held: the step's
        animations hold all they animate), unless a motion carries it (`move … along`, a turn)."""
        place = _PLACES.get(self.followed)
        movers = [self.followed] if place is None or place.on is None else [self.followed, place.on]
        return any(getattr(m, "updating_suspended", False) and m not in _CARRIED for m in movers)

    def update_path(self, mob: Mobject, dt: float) -> None:
        if self.held() or not np.all(np.isfinite(self.point())):
            return
        super().update_path(mob, dt)


def trace_of(target: Mobject, *, color: str = "#ffffff", stroke_width: float = 3) -> TracedPath:
    """The path a mobject travels, drawn behind it once the trace is in the scene: where it is
    meant to be when it is kept at a moving point, else its centre."""
    return _Trace(target, stroke_color=color, stroke_width=stroke_width)


def start_trace(trace: TracedPath) -> Animation:
    """`create tr`: the trace starts drawing."""
    return _StartTrace(trace)


# ---------------------------------------------------------------- moving over the whole step


# What a motion (move along, turn) is carrying now: a trace follows it, though the step holds its updating.
_CARRIED: WeakSet[object] = WeakSet()


class _Carrying(Animation):
    """A motion over the whole step that traces follow (geometry.py samples its way too)."""

    lecture_full = True
    lecture_motion = True

    def begin(self) -> None:
        _CARRIED.update(self.mobject.get_family())
        super().begin()

    def clean_up_from_scene(self, scene: Any) -> None:
        super().clean_up_from_scene(scene)
        for mob in self.mobject.get_family():
            _CARRIED.discard(mob)


class _Along(_Carrying):
    """`move p along c`: p travels along c from where it is (compiler/track.py says the way: on a
    closed path once round from its point nearest p, on an open one to its far end, onto the
    path first when p is off it); the path is as the scene has it when the step starts."""

    def __init__(self, mob: Mobject, path: VMobject, closed: bool, ease: RateFunction) -> None:
        self.path, self.closed, self.ease = path, closed, ease
        self.way: Journey | None = None
        super().__init__(mob, rate_func=linear)

    def begin(self) -> None:
        self.way = journey(Track.of_curves(self.path.points, self.closed), self.mobject.get_center())
        super().begin()

    def interpolate_mobject(self, alpha: float) -> None:
        if self.way is not None:
            x, y = self.way.at(alpha, self.ease)
            self.mobject.move_to(np.array([x, y, float(self.mobject.get_center()[2])]))


class _Turn(_Carrying, Rotate):
    pass


class _PlainTurn(_Turn):
    """`rotate sq 90`: a turn in the time any action takes, that traces still follow."""

    lecture_full = False


def move_along(mob: Mobject, path: VMobject, *, closed: bool = False,
               rate_func: RateFunction = smooth) -> Animation:
    """`move ball along flight`: along the path from where the ball is, over the whole step;
    `closed`: the path is a closed shape (a circle, an ellipse, a polygon), gone round once."""
    return _Along(mob, path, closed, rate_func)


def turn(mob: Mobject, angle: float, *, about_point: Any = None,
         rate_func: RateFunction = smooth, whole_step: bool = True) -> Animation:
    """`rotate arm 360 about O ease=linear`: a turn over the whole step, eased as asked;
    `whole_step=False` (`rotate sq 90`): in the time any action takes."""
    kind = _Turn if whole_step else _PlainTurn
    return kind(mob, angle=angle, about_point=about_point, rate_func=rate_func)


__all__ = ["LiveValue", "ValueChange", "change_value", "keep_at", "keep_beside", "live_value", "move_along",
           "plot_area", "plot_piece", "redraw", "resize_with", "riemann_of", "shown_live", "start_trace",
           "tangent_line", "trace_of", "turn"]
