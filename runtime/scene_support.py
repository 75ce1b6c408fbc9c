"""The small library that generated lesson modules import.

It keeps the generated code readable: the teaching layout (title band, lecture-line panel,
highlighting), word-wrapped text blocks, and `LectureScene.step`, which makes every step
last exactly its declared number of frames. The compiler builds the same mobjects with
these functions when it measures a layout, so what it measures is what gets rendered.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from typing import Literal

import numpy as np
from lecture.compiler import theme as _theme
from manim import (
    BOLD,
    DOWN,
    LEFT,
    UP,
    UR,
    Animation,
    AnimationGroup,
    Dot,
    FadeIn,
    FadeOut,
    Line,
    Rectangle,
    Scene,
    Succession,
    Table,
    Text,
    VGroup,
    VMobject,
    Wait,
    config,
)
from manim.animation.animation import prepare_animation

# Values, what follows them, movement along paths and traces (the generated module imports them from here)
from .motion_support import (  # noqa: F401
    change_value,
    keep_at,
    keep_beside,
    live_value,
    move_along,
    plot_area,
    plot_piece,
    redraw,
    resize_with,
    riemann_of,
    shown_live,
    start_trace,
    tangent_line,
    trace_of,
    turn,
)

# Parts of elements, formulas with terms, frames (the generated module imports them from here)
from .part_support import PartView, carry_terms, formula, frame_around, marker_over, part_of  # noqa: F401

# How long a step's animations run: one rule, read by the narration's dead-air finding too
from .step_time import MAX_ANIMATION_SECONDS, QUICK


def _pillow_compat() -> None:
    """Manim 0.22 pastes images onto `Image.fromarray(np.zeros((h, w)), mode="RGBA")`, which
    Pillow >= 12 rejects ("Invalid mode for data type"), so no ImageMobject can be drawn.
    Give manim's camera module a `fromarray` that makes that blank canvas the supported way
    and passes every other call through unchanged."""
    import types

    from manim.camera import camera as camera_module
    from PIL import Image as PILImage

    if getattr(camera_module.Image, "_lecture_compat", False):
        return

    def fromarray(obj, mode=None):
        if mode is None:
            return PILImage.fromarray(obj)
        try:
            return PILImage.fromarray(obj, mode=mode)
        except (ValueError, TypeError):
            arr = np.asarray(obj)
            if mode == "RGBA" and arr.ndim == 2 and not arr.any():
                return PILImage.new("RGBA", (arr.shape[1], arr.shape[0]))
            raise

    shim = types.SimpleNamespace(**{k: getattr(PILImage, k) for k in dir(PILImage) if not k.startswith("__")})
    shim.fromarray = fromarray
    shim._lecture_compat = True
    camera_module.Image = shim  # type: ignore[assignment]  # (a stand-in for the PIL module)


_pillow_compat()

LINE_SPACING_RATIO = 0.45  # space between two lecture lines, in text heights


# ---------------------------------------------------------------- text


FONT = _theme.DEFAULT_FONT
_LINE_BREAKS = {"\r\n": "\n", "\r": "\n", "\u2028": "\n", "\u2029": "\n", "\x85": "\n",
                "\x0b": "\n", "\x0c": "\n"}


def printable(text: str) -> str:
    """Text as Pango can draw it: every kind of line break becomes a newline, and control
    characters that draw nothing (NUL, escape…) are left out. The lesson's string itself
    is unchanged in the generated code."""
    for old, new in _LINE_BREAKS.items():
        text = text.replace(old, new)
    return "".join(ch for ch in text if ch in "\n\t" or (ord(ch) >= 32 and not 0x7F <= ord(ch) < 0xA0))


@lru_cache(maxsize=4096)
def _word_width(word: str, font_size: float, weight: str, font: str = FONT) -> float:
    return Text(word, font_size=font_size, weight=weight, font=font).width if word.strip() else 0.0


def wrap_text(text: str, width: float | None, font_size: float, weight: str = "NORMAL",
              font: str = FONT) -> str:
    """Insert line breaks so that no line of `text` is wider than `width` (greedy, by words;
    a word longer than a line is split). Existing line breaks are kept."""
    if width is None or width <= 0:
        return text
    space = _word_width("a a", font_size, weight, font) - 2 * _word_width("a", font_size, weight, font)
    out: list[str] = []
    for paragraph in text.split("\n"):
        line: list[str] = []
        line_width = 0.0
        for word in paragraph.split(" "):
            w = _word_width(word, font_size, weight, font)
            while w > width and len(word) > 1:  # split an over-long word
                # the longest prefix that fits: guessed from the glyphs' widths, then checked
                total, cut = 0.0, 0
                for ch in word:
                    total += _word_width(ch, font_size, weight, font) * 1.1
                    if total > width:
                        break
                    cut += 1
                cut = max(cut, 1)
                while cut > 1 and _word_width(word[:cut], font_size, weight, font) > width:
                    cut -= max(1, cut // 10)
                if line:
                    out.append(" ".join(line))
                    line, line_width = [], 0.0
                out.append(word[:cut])
                word = word[cut:]
                guess = sum(_word_width(ch, font_size, weight, font) for ch in word)
                w = guess if guess > width else _word_width(word, font_size, weight, font)
            extra = w if not line else line_width + space + w
            if line and extra > width:
                out.append(" ".join(line))
                line, line_width = [word], w
            else:
                line.append(word)
                line_width = extra
        out.append(" ".join(line))
    return "\n".join(out)


def text_block(text: str, *, width: float | None = None, font_size: float = 30,
               color: str = "#ffffff", bold: bool = False, font: str = FONT) -> Text:
    """A Text wrapped to `width` (scene units). Text is Pango text, not markup: any
    character is shown as itself."""
    weight = BOLD if bold else "NORMAL"
    text = printable(text)
    return Text(wrap_text(text, width, font_size, weight, font), font_size=font_size, color=color,
                weight=weight, font=font, line_spacing=0.8)


def bullet_list(items: Sequence[str], *, width: float | None = None, font_size: float = 30,
                color: str = "#ffffff", font: str = FONT) -> VGroup:
    """Bulleted items, one under another, aligned on the left; each bullet sits level with
    the middle of its item's first line."""
    rows = []
    cap = Text("Hx", font_size=font_size, font=font)  # the height of a line of capitals
    for item in items:
        dot = Dot(radius=0.035 * font_size / 26, color=color)
        body = text_block(item, width=None if width is None else max(width - 0.35, 0.5),
                          font_size=font_size, color=color, font=font)
        top = body.get_top()[1] if body.height > 0 else 0.0
        dot.move_to(np.array([body.get_left()[0] - 0.22, top - cap.height / 2, 0.0]))
        rows.append(VGroup(dot, body))
    group = VGroup(*rows)
    if rows:
        group.arrange(DOWN, aligned_edge=LEFT, buff=0.25 * font_size / 30)
    return group


def table_of(rows: Sequence[Sequence[str]], *, font_size: float = 28,
             color: str = "#ffffff") -> Table:
    """A table of text cells (rows padded to the same length)."""
    n = max((len(r) for r in rows), default=1) or 1
    cells = [[printable(c) for c in r] + [""] * (n - len(r)) for r in rows] or [[""]]
    return Table(cells, element_to_mobject=Text,
                 element_to_mobject_config={"font_size": font_size, "color": color, "font": FONT},
                 line_config={"color": color, "stroke_width": 2}, include_outer_lines=True,
                 v_buff=0.35, h_buff=0.6)


def custom_element(build, left: float, bottom: float, right: float, top: float):
    """A custom element from its locked `build(box)` function: the mobject, carrying the
    animations that `play` runs."""
    from .custom_box import CustomBox

    with time_limit(CUSTOM_BUILD_SECONDS, "build(box)"):
        mobject, animations = build(CustomBox(left, bottom, right, top))
    mobject.lecture_animations = [prepare_animation(a) for a in animations]
    return mobject


# A custom element's build(box) gets this much wall time (LECTURE_CUSTOM_SECONDS overrides);
# the job's own timeout bounds the rest.
CUSTOM_BUILD_SECONDS = float(os.environ.get("LECTURE_CUSTOM_SECONDS") or 20.0)


class CustomTimeLimit(BaseException):
    """A custom element's code ran past its time (a BaseException: `except Exception` in
    the code cannot swallow it)."""


@contextlib.contextmanager
def time_limit(seconds: float, what: str) -> Iterator[None]:
    """Stop the code inside after `seconds` of wall time (main thread only: SIGALRM)."""
    def expire(signum: int, frame: object) -> None:  # noqa: ARG001
        raise CustomTimeLimit(f"{what} ran longer than {seconds:g} s and was stopped (an endless loop?)")

    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


class _PlayCustom(Succession):
    """A custom element's own animations, one after another; the finished element stays."""

    lecture_full = True  # it takes the whole step, not the capped animation time

    def __init__(self, mobject) -> None:
        super().__init__(*mobject.lecture_animations)
        self.custom_mobject = mobject

    def clean_up_from_scene(self, scene) -> None:
        super().clean_up_from_scene(scene)
        scene.add(self.custom_mobject)


def play_custom(mobject):
    """`play ID`: the element's animations, or a fade-in when it has none (a placeholder)."""
    if getattr(mobject, "lecture_animations", None):
        return _PlayCustom(mobject)
    return FadeIn(mobject)


def placeholder(description: str, *, width: float, height: float, color: str = "#888888",
                text_color: str = "#ffffff") -> VGroup:
    """What a `custom` element shows until its code is written: a dashed frame filling its
    area, with its description inside."""
    from manim import DashedVMobject

    frame = DashedVMobject(Rectangle(width=width, height=height, color=color, stroke_width=2),
                           num_dashes=max(int(2 * (width + height) / 0.3), 8))
    label = text_block(description, width=max(width - 0.5, 0.5), font_size=22, color=text_color)
    if label.width > 0 and label.height > 0:
        label.scale(min(1.0, (width - 0.4) / label.width, (height - 0.4) / label.height))
    tag = Text("custom", font_size=16, color=color, font=FONT)
    tag.next_to(frame.get_corner(UR), DOWN + LEFT, buff=0.1)
    return VGroup(frame, label, tag)


# ---------------------------------------------------------------- the scene


class LectureScene(Scene):
    """A section of a lesson: title band, lecture-line panel, and frame-exact steps."""

    theme_name = _theme.DEFAULT_THEME

    def setup(self) -> None:
        self.theme = _theme.get_theme(self.theme_name)
        self.camera.background_color = self.theme.background  # type: ignore[union-attr]  # (Cairo camera)
        self.lecture_lines: dict[str, VMobject] = {}
        self.hidden_lines: list[str] = []  # progressive lines not shown yet, top to bottom
        self.highlighted: str | None = None
        self.part_marks: dict[int, tuple[VMobject, VMobject]] = {}  # element -> (element, its highlight)
        self._declared = 0.0  # seconds declared by the steps so far
        self._frames = 0  # frames written so far

    # -- the title band and the panel -------------------------------------------------

    def show_title(self, title: str) -> None:
        t = Text(printable(title), font_size=self.theme.title_font_size, color=self.theme.title, weight=BOLD,
                 font=self.theme.font)
        if t.width > 0 and t.height > 0:
            t.scale(min(1.0, _theme.TITLE_MAX_WIDTH / t.width, _theme.TITLE_MAX_HEIGHT / t.height))
        t.move_to(np.array([0.0, _theme.TITLE_CENTER_Y, 0.0]))
        half = _theme.FRAME_WIDTH / 2 - 0.3
        rule = Line(np.array([-half, _theme.TITLE_RULE_Y, 0.0]),
                    np.array([half, _theme.TITLE_RULE_Y, 0.0]), color=self.theme.rule,
                    stroke_width=2)
        self.add(t, rule)

    def show_lines(self, lines: Iterable[tuple[str, str]], progressive: bool = False) -> None:
        """Lay out the lecture lines in the left panel, top to bottom, wrapped to its width,
        shrinking the font until they all fit. `progressive`: the panel is laid out for all
        of them (nothing moves later), but a line is drawn only from the step that
        highlights it (`highlight`), together with the lines above it not shown yet."""
        lines = list(lines)
        if not lines:
            return
        width = _theme.PANEL_RIGHT - _theme.PANEL_LEFT
        height = _theme.PANEL_TOP - _theme.PANEL_BOTTOM
        font_size = self.theme.line_font_size
        while True:
            group = bullet_list([text for _, text in lines], width=width, font_size=font_size,
                                color=self.theme.text, font=self.theme.font)
            group.arrange(DOWN, aligned_edge=LEFT, buff=LINE_SPACING_RATIO * font_size / 26 * 0.9)
            if group.height <= height or font_size <= 12:
                break
            font_size -= 2
        if group.height > height:
            group.scale(height / group.height)
        group.move_to(np.array([_theme.PANEL_LEFT, _theme.PANEL_TOP, 0.0]), aligned_edge=UP + LEFT)
        divider = Line(np.array([_theme.PANEL_DIVIDER_X, _theme.PANEL_TOP, 0.0]),
                       np.array([_theme.PANEL_DIVIDER_X, _theme.PANEL_BOTTOM, 0.0]),
                       color=self.theme.rule, stroke_width=1.5)
        for (line_id, _), row in zip(lines, group, strict=True):
            self.lecture_lines[line_id] = row
        if progressive:
            self.hidden_lines = [line_id for line_id, _ in lines]
            self.add(divider)  # the rows come in one by one, with `highlight`
        else:
            self.add(group, divider)

    def _reveal(self, line_id: str) -> list[Animation]:
        """Fade-ins of the hidden lines down to `line_id` (none when it is shown already):
        lines appear top to bottom, with no gap left above the one reached."""
        if line_id not in self.hidden_lines:
            return []
        upto = self.hidden_lines.index(line_id) + 1
        shown, self.hidden_lines = self.hidden_lines[:upto], self.hidden_lines[upto:]
        return [FadeIn(self.lecture_lines[name]) for name in shown]

    def _recolour(self, line_id: str, color: str) -> Animation | None:
        """A line's colour change: animated when the line is on screen; set at once when it
        is still to fade in (its fade-in, not played yet, takes the new colour), since two
        animations of one row in one step would fight over it."""
        row = self.lecture_lines[line_id]
        if row in self.get_mobject_family_members():
            # manim types `.animate` as `_AnimationBuilder | Self` (so that chained calls check),
            # but a method called on it gives an animation builder, never the mobject
            return prepare_animation(row.animate.set_color(color))  # type: ignore[arg-type]
        row.set_color(color)
        return None

    def highlight(self, line_id: str) -> Animation | None:
        """Turn a lecture line the accent colour, and the previously highlighted line back
        to normal; with progressive lines, bring the line in (and the hidden ones above it).
        Returned as an animation for `step`; a quick one."""
        if line_id not in self.lecture_lines or line_id == self.highlighted:
            return None
        recoloured = [self._recolour(line_id, self.theme.accent)]
        if self.highlighted is not None:
            recoloured.append(self._recolour(self.highlighted, self.theme.text))
        self.highlighted = line_id
        group = AnimationGroup(*self._reveal(line_id), *(a for a in recoloured if a is not None))
        group.lecture_quick = True  # type: ignore[attr-defined]
        return group

    def highlight_part(self, view: PartView) -> Animation:
        """A marker over a part of an element (`highlight t[2, 3]`) that stays, following it,
        until another part of that element is highlighted or the element leaves the scene."""
        mark = marker_over(view, self.theme.accent)
        earlier = self.part_marks.pop(id(view.owner), None)
        self.part_marks[id(view.owner)] = (view.owner, mark)
        return AnimationGroup(FadeIn(mark), *([FadeOut(earlier[1])] if earlier is not None else []))

    def _drop_lost_marks(self) -> None:
        """Highlights of elements no longer shown go with them (they faded with them already)."""
        if not self.part_marks:
            return
        shown = {id(m) for m in self.get_mobject_family_members()}
        for key, (owner, mark) in list(self.part_marks.items()):
            if id(owner) not in shown:
                self.remove(mark)
                del self.part_marks[key]

    # -- time --------------------------------------------------------------------------

    def add_mobjects_from_animations(self, animations) -> None:
        """Manim adds an animation's mobject to the scene before playing it. For a group
        that would add its container and pull its members out of their own groups (a
        highlighted line out of the panel); add the members' mobjects instead, and nothing
        for a Wait's empty mobject."""
        flat: list = []

        def walk(anim) -> None:
            if isinstance(anim, Succession) and not isinstance(anim, _PlayCustom):
                # actions on one element in turn (LectureScene.step): the later ones act on
                # what the first shows, which brings it in itself (added now, a later part's
                # element would be drawn before the first part hides it, e.g. a custom element)
                walk(anim.animations[0])
            elif type(anim) is AnimationGroup:
                # only a plain group: a subclass such as TransformMatchingTex manages its own
                # pieces and removes exactly what it added (its members added here stayed
                # drawn after it, the old formula under the new one)
                for child in anim.animations:
                    walk(child)
            elif not isinstance(anim, Wait) and not isinstance(anim.mobject, PartView):
                flat.append(anim)  # (a part's mobjects are drawn as members of their element)

        for anim in animations:
            walk(anim)
        super().add_mobjects_from_animations(flat)

    def get_moving_and_static_mobjects(self, animations) -> tuple[list, list]:
        """What a play redraws every frame, and what it draws once (Cairo renderer only).
        When nothing moves (a step with no animations: a frozen wait) Manim 0.22 draws the
        static ones into its static image, then draws `moving_mobjects` over it — and an empty
        list there means *every* mobject: each translucent fill was drawn twice, visibly
        denser on the wait's frames. Then nothing is static, so the frame is drawn once."""
        moving, static = super().get_moving_and_static_mobjects(animations)
        return (moving, static) if moving else (moving, [])

    def step(self, seconds: float, *animations) -> None:
        """One step of the lesson: play the animations together over exactly `seconds`
        (rounded to whole frames so that the scene's length is the sum of its steps), or
        hold the frame when there are none (drawn once: see get_moving_and_static_mobjects).
        An animation takes at most MAX_ANIMATION_SECONDS (a highlight QUICK, a custom
        element's `play` the whole step); a Succession (the lowering's actions on one
        element, one after another) takes that much for each of its parts, which share it
        in proportion to their own run times. All end by the step's last frame."""
        unit_step = getattr(self.renderer, "lecture_step", None)
        if unit_step is not None:  # rendered as units (step_units.py): the renderer plays it as it must
            unit_step(self, sys._getframe(1))
        fps = config.frame_rate
        self._declared += seconds
        frames = round(self._declared * fps) - self._frames
        anims = [shown_live(prepare_animation(a)) for a in animations if a is not None]
        if frames <= 0:
            if not anims:
                return
            frames = 1
        self._frames += frames
        if not anims:
            # A frozen wait writes int(duration * fps) frames: half a frame more keeps that exact.
            self.wait((frames + 0.5) / fps, frozen_frame=True)
            return
        # Every animation is finished by the step's last frame, which then shows the step's
        # finished picture (played to the step's very end, an `indicate` was still fading back
        # on it). The play shows group time seconds * k / (frames - 0.5) on its frame k.
        finish = seconds * (frames - 1) / (frames - 0.5) * (1 - 1e-9) if frames > 1 else seconds
        for a in anims:
            a.run_time = min(animation_seconds(a, seconds), finish)
        if max(a.run_time for a in anims) < seconds:
            anims.append(Wait(run_time=seconds))
        group = AnimationGroup(*anims)
        # An animation of run_time t writes len(arange(0, t, 1/fps)) frames: half a frame
        # less than `frames` keeps that exact whatever the float rounding.
        self.play(group, run_time=(frames - 0.5) / fps)
        self._drop_lost_marks()


def animation_seconds(animation: Animation, seconds: float) -> float:
    """How long an animation of a step of `seconds` may take (see LectureScene.step)."""
    if getattr(animation, "lecture_full", False):
        return seconds
    if getattr(animation, "lecture_quick", False):
        return QUICK
    if isinstance(animation, Succession):
        return sum(animation_seconds(part, seconds) for part in animation.animations)
    return MAX_ANIMATION_SECONDS


def brace_with_label(target, *, direction, text: str | None = None, color: str = "#ffffff",
                     font_size: float = 26) -> VGroup:
    """A brace along one side of `target`, with an optional text label beyond it."""
    from manim import Brace

    brace = Brace(target, direction=direction, color=color)
    if text is None:
        return VGroup(brace)
    label = Text(printable(text), font_size=font_size, color=color, font=FONT)
    label.next_to(brace, direction, buff=0.1)
    return VGroup(brace, label)


# ---------------------------------------------------------------- angle marks and bar charts


def corner_angle(polygon, corner: int, *, radius: float = 0.5, right: bool = False,
                 label: str | None = None, color: str = "#ffffff", stroke_width: float = 4,
                 font_size: float = 26) -> VGroup:
    """The mark of a polygon's inner angle at a corner (numbered from 1, in the order its
    points were written), on the polygon's edges as they are now: Manim's Angle, or its
    RightAngle (`right`), with an optional label. The mark shrinks to fit short edges."""
    vertices = polygon.get_vertices()
    n = len(vertices)
    here, before, after = vertices[(corner - 1) % n], vertices[(corner - 2) % n], vertices[corner % n]
    xs, ys = vertices[:, 0], vertices[:, 1]
    counter_clockwise = float(np.dot(xs, np.roll(ys, -1)) - np.dot(ys, np.roll(xs, -1))) > 0
    # Manim's Angle sweeps counter-clockwise from its first line to its second: inside a
    # counter-clockwise polygon, that is from the next edge to the previous one.
    first, second = (Line(here, after), Line(here, before)) if counter_clockwise else \
        (Line(here, before), Line(here, after))
    radius = min(radius, 0.45 * first.get_length(), 0.45 * second.get_length())
    return _angle_mark(first, second, (1, 1), radius=radius, right=right, label=label, color=color,
                       stroke_width=stroke_width, font_size=font_size)


Quadrant = tuple[Literal[-1, 1], Literal[-1, 1]]  # Manim's: each arm along its line (1) or against it (-1)


def angle_between(first, second, *, radius: float = 0.5, right: bool = False, label: str | None = None,
                  color: str = "#ffffff", stroke_width: float = 4, font_size: float = 26) -> VGroup:
    """The mark of the angle between two lines (or arrows) where they meet, between their
    longer arms from there, the smaller way round; empty when the lines are parallel."""
    from manim import line_intersection

    try:
        meet = line_intersection([first.get_start(), first.get_end()], [second.get_start(), second.get_end()])
    except ValueError:  # parallel: no angle
        return VGroup()
    # each arm runs from the meeting point towards the line's farther end (Angle's quadrant)
    a, b = (np.linalg.norm(ln.get_end() - meet) >= np.linalg.norm(ln.get_start() - meet)
            for ln in (first, second))
    quadrant: Quadrant = (1 if a else -1, 1 if b else -1)
    u, v = quadrant[0] * first.get_unit_vector(), quadrant[1] * second.get_unit_vector()
    if u[0] * v[1] - u[1] * v[0] < 0:  # the smaller way round is clockwise from the first
        first, second, quadrant = second, first, (quadrant[1], quadrant[0])
    return _angle_mark(first, second, quadrant, radius=radius, right=right, label=label,
                       color=color, stroke_width=stroke_width, font_size=font_size)


def _angle_mark(first, second, quadrant: Quadrant, *, radius: float, right: bool,
                label: str | None, color: str, stroke_width: float, font_size: float) -> VGroup:
    from manim import Angle, RightAngle, line_intersection

    mark: Angle
    if right:
        mark = RightAngle(first, second, length=radius, quadrant=quadrant, color=color,
                          stroke_width=stroke_width)
    else:
        mark = Angle(first, second, radius=radius, quadrant=quadrant, color=color, stroke_width=stroke_width)
    group = VGroup(mark)
    if not label:
        return group
    meet = line_intersection([first.get_start(), first.get_end()], [second.get_start(), second.get_end()])
    u, v = quadrant[0] * first.get_unit_vector(), quadrant[1] * second.get_unit_vector()
    sweep = (np.arctan2(v[1], v[0]) - np.arctan2(u[1], u[0])) % (2 * np.pi)
    half = sweep / 2
    c, s = np.cos(half), np.sin(half)
    bisector = np.array([u[0] * c - u[1] * s, u[0] * s + u[1] * c, 0.0])
    text = Text(printable(label), font_size=font_size, color=color, font=FONT)
    reach = max(text.width, text.height) / 2 + 0.08
    # beyond the arc, and far enough out along the bisector to clear both arms
    distance = max(radius + reach + 0.04, reach / max(abs(np.sin(half)), 0.2))
    text.move_to(meet + bisector * distance)
    group.add(text)
    return group


def bar_chart(values: Sequence[float], names: Sequence[str], *, y_range: Sequence[float], width: float,
              height: float, color: str = "#58c4dd", text_color: str = "#ffffff", opacity: float = 0.8,
              font_size: float = 24, decimals: int = 0) -> VGroup:
    """Manim's BarChart of `values`, one bar each in `color`, its axes and numbers in
    `text_color`, each bar's name (plain text, not TeX) under the chart."""
    from manim import BarChart

    chart = BarChart(
        list(values), y_range=list(y_range), x_length=width, y_length=height, bar_colors=[color, color],
        bar_fill_opacity=opacity, bar_stroke_width=2,
        axis_config={"color": text_color, "include_tip": False, "font_size": 24},
        y_axis_config={"include_numbers": True,
                       "decimal_number_config": {"color": text_color, "num_decimal_places": decimals}})
    names_group = VGroup(*[
        Text(printable(name), font_size=font_size, color=text_color, font=FONT)
        .next_to(chart.c2p(i + 0.5, y_range[0]), DOWN, buff=0.15)
        for i, name in enumerate(names)])
    _fit_names_to_slots(names_group, abs(chart.c2p(1, y_range[0])[0] - chart.c2p(0, y_range[0])[0]))
    chart.add(names_group)
    return chart


# the gap a bar's name keeps from its neighbours: more than a space (findings.MIN_TEXT_GAP), so
# that two names never read as one word ("sickwell") in a narrow chart
NAME_GAP = 0.12


def _fit_names_to_slots(names: VGroup, slot: float) -> None:
    """Shrink every name by one factor (they keep one size) so that the widest fits its bar's slot."""
    widest = max((name.width for name in names), default=0.0)
    if widest > slot - NAME_GAP > 0:
        factor = (slot - NAME_GAP) / widest
        for name in names:
            name.scale(factor, about_edge=UP)
