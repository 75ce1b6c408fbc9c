"""What a lesson's compiled scenes show at the end of every step (and at moments inside a step
that moves things), from the real Manim mobjects, without drawing a frame.

    views = lesson_views(lesson, base_dir=Path("."))      # one SectionView per section
    findings = lesson_findings(views)                     # compiler.findings

The lesson is compiled as for rendering (layout measured on real mobjects), the module
is executed, and each Scene's `construct` runs with `step` replaced: instead of playing
its animations frame by frame, each animation is brought straight to its end state (an
introducer adds its mobject, FadeOut removes it, ReplacementTransform swaps the two,
`.animate` applies its target, Indicate changes nothing; anything else is run the normal
way with skipped frames). After each step the scene's mobjects are matched to lesson
elements by identity — each element is the variable `ctx.var(id)` of the construct frame
— and measured into `Footprint`s.

A motion — a change of values, a move along a path (motion_support's `lecture_motion`), a turn
(Rotate) — is different: its way matters, not only its end (a trace draws it; a label beside a
moving dot may cross something on the way). A step's other animations are brought to their end
first; then its motions play together, each over its own run time as the scene gives it
(LectureScene.step), through the moments MOTION_SAMPLES spaces evenly over them and those where a
value turns round (compiler.values), the scene's updaters applied at each (so that what follows
them follows). At each moment the scene is measured into the step's `moments` (StepView, with
`fraction` the moment's time in the step): what may move (what the motions animate, what has an
updater) is measured again, the rest is taken as it was when they began. A step's other
animations (a `create` beside a `change`) are already finished at those moments: the rules see
them at their end.

`render_key_frames` draws the end of chosen steps as PNG stills (for the vision Critic).
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np
from lecture.compiler import theme as T
from lecture.compiler.findings import (
    LINE_WIDTH,
    Footprint,
    PanelView,
    Part,
    SectionView,
    StepView,
    TextRun,
    rect_footprint,
    role_of,
)
from lecture.compiler.kinds import BOX, KINDS, SHAPE, TEXT
from lecture.compiler.layout import Box
from lecture.compiler.lower import Measurer, section_contexts
from lecture.compiler.lower.registry import SectionContext
from lecture.compiler.lower.writer import write_module
from lecture.compiler.model import Lesson
from lecture.compiler.sourcemap import CompiledModule
from lecture.compiler.tex_scripts import smallest_script
from lecture.compiler.values import section_values

from .measure import ManimMeasurer, namespace, private_media_dir

# ---------------------------------------------------------------- measuring mobjects

_CAP_PER_POINT: dict[str, float] = {}


def _cap_per_point(kind: str) -> float:
    """Height of a capital H per point of font size, in scene units (Text or LaTeX)."""
    if kind not in _CAP_PER_POINT:
        from manim import MathTex, Text

        probe: Text | MathTex
        if kind == "text":
            probe = Text("H", font_size=100, font=T.DEFAULT_FONT)
        else:
            probe = MathTex("H", font_size=100)
        _CAP_PER_POINT[kind] = float(probe.height) / 100
    return _CAP_PER_POINT[kind]


def cap_height(mob: Any) -> float | None:
    """The smallest cap height of the text in a mobject, in scene units (None: no text)."""
    from manim import SingleStringMathTex, Text

    best: float | None = None
    for sub in mob.get_family():
        try:
            if isinstance(sub, Text):
                if not getattr(sub, "initial_height", 0) or sub.height <= 0:
                    continue
                h = _cap_per_point("text") * float(sub.font_size)
            elif isinstance(sub, SingleStringMathTex):
                if not getattr(sub, "initial_height", 0) or sub.height <= 0:
                    continue
                h = _cap_per_point("tex") * float(sub.font_size)
            else:
                continue
        except (ZeroDivisionError, AttributeError, ValueError):
            continue
        best = h if best is None else min(best, h)
    return best


def script_cap_height(mob: Any) -> tuple[float, str] | None:
    """The cap height the smallest script of the formulas in a mobject is drawn at (a
    formula's cap height times the size TeX gives its smallest script, compiler.tex_scripts),
    and that script's source; None when nothing in it is drawn smaller than its formula."""
    from manim import SingleStringMathTex

    best: tuple[float, str] | None = None
    for sub in mob.get_family():
        if not isinstance(sub, SingleStringMathTex) or not getattr(sub, "initial_height", 0) \
                or sub.height <= 0:
            continue
        script = smallest_script(str(getattr(sub, "tex_string", "")))
        if script.factor >= 1.0:
            continue
        try:
            h = _cap_per_point("tex") * float(sub.font_size) * script.factor
        except (ZeroDivisionError, AttributeError, ValueError):
            continue
        if best is None or h < best[0]:
            best = (h, script.text)
    return best


def _run_text(mob: Any) -> str | None:
    """What a mobject says when it is one run of text (a Text, a formula, a number); None
    when it is not one."""
    from manim import DecimalNumber, MarkupText, Paragraph, SingleStringMathTex, Text

    if isinstance(mob, DecimalNumber):
        return "".join(str(getattr(sub, "tex_string", "")) for sub in mob.submobjects)
    if isinstance(mob, SingleStringMathTex):
        return str(getattr(mob, "tex_string", ""))
    if isinstance(mob, (Text, MarkupText)):
        return str(getattr(mob, "original_text", "") or getattr(mob, "text", ""))
    if isinstance(mob, Paragraph):  # a code listing's lines
        return str(getattr(getattr(mob, "lines_text", None), "text", ""))
    return None


def text_runs(mob: Any) -> tuple[TextRun, ...]:
    """The runs of text in a mobject, each with its box: the Text and formula mobjects in it
    (a tick number of an axes counts as one run, not one per digit)."""
    out: list[TextRun] = []
    stack = [mob]
    while stack:
        sub = stack.pop()
        text = _run_text(sub)
        if text is None:
            stack.extend(reversed(sub.submobjects))
            continue
        if sub.family_members_with_points() and (sub.width > 1e-6 or sub.height > 1e-6):
            out.append(TextRun(_bbox(sub), text))
    return tuple(out)


def _hex(color: Any) -> str | None:
    try:
        return color.to_hex().lower()[:7]
    except AttributeError:
        return None


def _colors(mob: Any, role: str) -> tuple[str, ...]:
    from manim import SingleStringMathTex, Text, VMobject

    out: list[str | None] = []
    if role == TEXT:  # the glyphs' colour, not frames or table rules
        for sub in mob.get_family():
            if isinstance(sub, (Text, SingleStringMathTex)):
                for leaf in sub.family_members_with_points():
                    if isinstance(leaf, VMobject) and leaf.get_fill_opacity() > 0.5:
                        out.append(_hex(leaf.get_fill_color()))
        return tuple(sorted({c for c in out if c}))
    for leaf in mob.family_members_with_points():
        if not isinstance(leaf, VMobject):
            continue
        if leaf.get_stroke_width() > 0 and leaf.get_stroke_opacity() > 0.5:
            out.append(_hex(leaf.get_stroke_color()))
        elif leaf.get_fill_opacity() >= 0.5:
            out.append(_hex(leaf.get_fill_color()))
    return tuple(sorted({c for c in out if c}))


def _outline(leaf: Any) -> np.ndarray:
    """Points along a VMobject's path: its cubic curves sampled."""
    pts = np.asarray(leaf.points)[:, :2]
    n = len(pts) // 4 * 4
    if n == 0:
        return pts
    curves = pts[:n].reshape(-1, 4, 2)
    if len(curves) > 60:  # a plot: its anchors are enough
        return np.vstack([curves[:, 0], curves[-1:, 3]])
    ts = np.array([0.0, 0.25, 0.5, 0.75])[:, None]
    out = []
    for a, b, c, d in curves:
        u = 1 - ts
        out.append(u ** 3 * a + 3 * u ** 2 * ts * b + 3 * u * ts ** 2 * c + ts ** 3 * d)
    out.append(curves[-1, 3][None, :])
    return np.vstack(out)


def _bbox(mob: Any) -> Box:
    left, bottom = mob.get_corner(np.array([-1, -1, 0]))[:2]
    right, top = mob.get_corner(np.array([1, 1, 0]))[:2]
    return Box.from_edges(float(left), float(right), float(bottom), float(top))


def footprint(element: str, kind: str, mob: Any) -> Footprint:
    """The footprint of an element's mobject (see compiler.findings for the roles)."""
    from manim import VMobject

    role = role_of(kind)
    spec = KINDS.get(kind)
    box = _bbox(mob)
    cap = cap_height(mob) if role in (TEXT, BOX) else None
    script = script_cap_height(mob) if role in (TEXT, BOX) else None
    # kinds that draw in colours of their own (a code listing, an image) are not judged by them
    colors = () if spec is not None and spec.own_colors else _colors(mob, role)
    if role in (TEXT, BOX):
        return rect_footprint(element, kind, box, cap_height=cap, colors=colors, texts=text_runs(mob),
                              script_cap_height=script[0] if script else None,
                              script_text=script[1] if script else "")
    parts: list[Part] = []
    for leaf in mob.family_members_with_points():
        if not isinstance(leaf, VMobject) or len(leaf.points) < 2:
            continue
        pts = _outline(leaf)
        closed = len(pts) > 2 and np.allclose(pts[0], pts[-1], atol=1e-3)
        as_tuple = tuple((float(x), float(y)) for x, y in pts)
        if closed and (role == SHAPE or leaf.get_fill_opacity() > 0):
            parts.append(Part("area", as_tuple))
        else:
            width = max(float(leaf.get_stroke_width()) / 100, LINE_WIDTH)
            parts.append(Part("line", as_tuple, width))
    if not parts:
        return rect_footprint(element, kind, box, colors=colors)
    return Footprint(element, kind, tuple(parts), box, None, colors)


# ---------------------------------------------------------------- running the scenes

# Points a step's motions are played through, both ends included (what follows them draws them; the
# layout rules look at the 23 inside): a dot sliding 4 units over its step is seen every 0.17 units.
MOTION_SAMPLES = 25


def _is_motion(anim: Any) -> bool:
    """An animation whose way matters, not only its end: a change of values, a move along a path,
    a turn (motion_support marks the first two `lecture_motion`; a plain `rotate` is Manim's
    Rotate)."""
    from manim import Rotate

    return bool(getattr(anim, "lecture_motion", False)) or isinstance(anim, Rotate)


@dataclass
class CompiledLesson:
    lesson: Lesson
    contexts: list[SectionContext]
    module: CompiledModule
    namespace: dict


def compile_for_views(lesson: Lesson, *, base_dir: Path, fps: int = 15,
                      measurer: Measurer | None = None) -> CompiledLesson:
    """`measurer`: ManimMeasurer by default (the warm checker passes one that remembers)."""
    contexts = section_contexts(lesson, base_dir=base_dir, measurer=measurer or ManimMeasurer())
    module = write_module(lesson, contexts, fps)
    ns = dict(namespace())
    ns["__name__"] = "lecture_geometry_probe"
    exec(compile(module.code, f"<{Path(lesson.file).name} compiled>", "exec"), ns)  # noqa: S102
    return CompiledLesson(lesson, contexts, module, ns)


def _finish(scene: Any, anim: Any) -> None:
    """Bring one animation to its end state in the scene, without its frames."""
    from manim import (
        AnimationGroup,
        FadeOut,
        Indicate,
        ReplacementTransform,
        Wait,
    )
    from manim.mobject.mobject import _AnimationBuilder  # noqa: F401 (type of .animate)

    if isinstance(anim, Wait):
        return
    if isinstance(anim, AnimationGroup) and not getattr(anim, "lecture_full", False) \
            and type(anim).__name__ in ("AnimationGroup", "Succession"):
        # a Succession (a step's actions on one element, in turn) ends as its parts do, in
        # order; played whole it added a group of the element's parts, splitting it up
        for child in anim.animations:
            _finish(scene, child)
        return
    if isinstance(anim, Indicate):
        return
    if isinstance(anim, ReplacementTransform):
        scene.remove(anim.mobject)
        scene.add(anim.target_mobject)
        return
    if isinstance(anim, FadeOut):
        scene.remove(anim.mobject)
        return
    if type(anim).__name__ == "_MethodAnimation":
        anim.mobject.become(anim.mobject.target)
        return
    if anim.is_introducer() and type(anim).__name__ in (
            "Create", "Write", "FadeIn", "GrowArrow", "DrawBorderThenFill", "GrowFromCenter",
            "GrowFromPoint", "ShowIncreasingSubsets", "AddTextLetterByLetter", "SpiralIn"):
        scene.add(anim.mobject)
        return
    # anything else: the real thing, with its frames skipped
    if not anim.is_remover() or anim.mobject not in scene.mobjects:
        scene.add(anim.mobject)
    anim._setup_scene(scene)
    anim.begin()
    if _is_motion(anim):  # a trace draws its way
        for alpha in np.linspace(0.0, 1.0, MOTION_SAMPLES)[1:-1]:
            anim.interpolate(alpha)
            scene.update_mobjects(0)
    anim.finish()
    anim.clean_up_from_scene(scene)


@dataclass(frozen=True)
class _Motions:
    """A step's motions, played together as the scene plays them: each over its own run time."""

    animations: tuple[Any, ...]
    runs: tuple[float, ...]  # seconds each takes (LectureScene.step's rule)
    seconds: float  # the step's

    @staticmethod
    def of(animations: Sequence[Any], seconds: float) -> _Motions:
        from .scene_support import animation_seconds  # the scene's rule for an animation's run time

        runs = tuple(max(min(animation_seconds(a, seconds), seconds), 1e-6) for a in animations)
        return _Motions(tuple(animations), runs, seconds)

    def moments(self, turns: Sequence[float]) -> tuple[float, ...]:
        """The moments they are played through (fractions of the step): MOTION_SAMPLES over the
        longest, and where the values turn round."""
        way = np.linspace(0.0, max(self.runs) / self.seconds, MOTION_SAMPLES)[1:-1]
        wanted = {round(float(f), 4) for f in (*way, *turns)}
        return tuple(sorted(f for f in wanted if 0.0 < f < 1.0))

    def carried(self) -> set[int]:
        """The mobjects they animate (ids)."""
        return {id(m) for anim in self.animations for m in anim.mobject.get_family()}

    def play(self, scene: Any, moments: Sequence[float],
             measure: Callable[[float], StepView]) -> tuple[StepView, ...]:
        """Play the motions to their end through `moments`, measuring the scene at each."""
        for anim in self.animations:
            if not anim.is_remover() or anim.mobject not in scene.mobjects:
                scene.add(anim.mobject)
            anim._setup_scene(scene)
            anim.begin()
        views: list[StepView] = []
        for fraction in moments:
            for anim, run in zip(self.animations, self.runs, strict=True):
                anim.interpolate(min(fraction * self.seconds / run, 1.0))
            scene.update_mobjects(0)
            views.append(measure(fraction))
        for anim in self.animations:
            anim.finish()
            anim.clean_up_from_scene(scene)
        return tuple(views)


@dataclass
class _Measurer:
    """Measures what a section's scene shows into StepViews: the elements (each the variable of
    the construct frame it is bound to) in the scene, each a Footprint, measured once per state."""

    section: Any
    kinds: dict[str, str]
    elements: dict[str, Any]  # element id -> its mobject
    cache: dict[tuple, Footprint]

    def view(self, scene: Any, n: int, fraction: float | None = None) -> StepView:
        family = {id(mob) for mob in scene.get_mobject_family_members()}
        seen = [self.footprint(eid, mob) for eid, mob in self.elements.items() if id(mob) in family]
        span = self.section.steps[n - 1].span if n <= len(self.section.steps) else self.section.span
        return StepView(n, span, tuple(seen), fraction=fraction)

    def footprint(self, eid: str, mob: Any) -> Footprint:
        key = (eid, _state_key(mob))
        fp = self.cache.get(key)
        if fp is None:
            fp = self.cache[key] = footprint(eid, self.kinds.get(eid, "custom"), mob)
        return fp

    def movers(self, carried: set[int]) -> set[str]:
        """The elements that may move while motions play: animated by them, or following
        something (an updater in them)."""
        return {eid for eid, mob in self.elements.items()
                if any(id(sub) in carried or sub.updaters for sub in mob.get_family())}

    def moment(self, scene: Any, start: StepView, movers: set[str], fraction: float) -> StepView:
        """What the scene shows at a moment inside a step: the movers measured again, the rest
        as at the motions' start."""
        seen = tuple(self.footprint(fp.element, self.elements[fp.element]) if fp.element in movers else fp
                     for fp in start.visible)
        return replace(start, visible=seen, fraction=fraction)


def run_views(compiled: CompiledLesson, *, sections: Sequence[int] | None = None,
              on_step: Callable[[int, int, Any], None] | None = None) -> list[SectionView]:
    """Run the scenes of a compiled lesson (all, or the sections at these indices) and
    describe the end of every step. `on_step(section_index, step_index, scene)` is called
    after each step (used to draw key frames)."""
    from manim import logger, tempconfig

    views: list[SectionView] = []
    level = logger.level
    logger.setLevel(logging.CRITICAL)
    try:
        with tempconfig({"dry_run": True, "media_dir": str(private_media_dir()), "frame_rate": 15,
                         "verbosity": "CRITICAL", "progress_bar": "none", "disable_caching": True}):
            for index, (scene_info, ctx) in enumerate(zip(compiled.module.scenes, compiled.contexts,
                                                          strict=True)):
                if sections is None or index in sections:
                    cls = compiled.namespace[scene_info.class_name]
                    views.append(_run_section(index, compiled.lesson.sections[index], cls, ctx, on_step))
    finally:
        logger.setLevel(level)
    return views


def _run_section(index: int, section: Any, cls: type, ctx: SectionContext,
                 on_step: Callable[[int, int, Any], None] | None) -> SectionView:
    from manim.animation.animation import prepare_animation
    from manim.renderer.cairo_renderer import CairoRenderer

    kinds = {el.id: el.kind for el in section.elements}
    # A group is measured as its members (each its own footprint), never as a whole of its own.
    by_var = {var: eid for eid, var in ctx.variables.items()
              if not (eid in kinds and kinds[eid] in KINDS and KINDS[kinds[eid]].members)}
    steps: list[StepView] = []
    state: dict[str, Any] = {"measurer": None, "n": 0}

    class Probe(cls):
        def step(self, seconds, *animations):  # noqa: ANN001
            if state["measurer"] is None:  # every element is built before the first step
                frame = sys._getframe(1)
                elements = {by_var[k]: v for k, v in frame.f_locals.items() if k in by_var}
                state["measurer"] = _Measurer(section, kinds, elements, {})
            measurer: _Measurer = state["measurer"]
            state["n"] += 1
            n = state["n"]
            anims = [prepare_animation(a) for a in animations if a is not None]
            motions = [a for a in anims if _is_motion(a)] if seconds > 0 else []
            for a in anims:
                if not any(a is b for b in motions):
                    _finish(self, a)
            self.update_mobjects(0)  # what follows another element (a frame `around` it) catches up
            moments: tuple[StepView, ...] = ()
            if motions:  # played through their way, together, after the step's other animations
                played = _Motions.of(motions, float(seconds))
                start, movers = measurer.view(self, n), measurer.movers(played.carried())
                moments = played.play(self, played.moments(_turns(section, n)),
                                      lambda f: measurer.moment(self, start, movers, f))
                self.update_mobjects(0)
            steps.append(replace(measurer.view(self, n), moments=moments))
            if on_step is not None:
                on_step(index, n, self)

    scene = Probe(renderer=CairoRenderer(skip_animations=True))
    scene.render()
    return SectionView(section, tuple(steps), scene.theme.background, _panel_view(scene, section),
                       tuple(ctx.shifted.values()))


def _turns(section: Any, number: int) -> tuple[float, ...]:
    """Where the values turn round in step `number` (fractions of it; compiler.values)."""
    if not any(el.kind == "value" for el in section.elements):
        return ()
    graph = section_values(section)
    return graph.step(number).turns if 1 <= number <= len(graph.steps) else ()


def _state_key(mob: Any) -> tuple:
    """Enough of a mobject's state to know it has not moved, changed size or grown (a trace)."""
    c = mob.get_center()
    points = sum(len(sub.points) for sub in mob.family_members_with_points())
    return (round(float(c[0]), 4), round(float(c[1]), 4), round(float(mob.width), 4),
            round(float(mob.height), 4), points, id(mob))


def _panel_view(scene: Any, section: Any) -> PanelView | None:
    from .scene_support import printable, wrap_text

    rows = getattr(scene, "lecture_lines", {})
    if not rows:
        return None
    sizes, counts, caps = [], [], []
    width = T.PANEL_RIGHT - T.PANEL_LEFT
    for line_id, row in rows.items():
        body = row[1] if len(row) > 1 else row
        try:
            sizes.append(float(body.font_size))
            built = float(getattr(body, "_font_size", body.font_size))
        except (ZeroDivisionError, AttributeError):
            continue
        line = section.line(line_id)
        if line is not None:
            wrapped = wrap_text(printable(line.text.value), max(width - 0.35, 0.5), built,
                                font=scene.theme.font)
            counts.append((line_id, len(wrapped.split("\n"))))
        cap = cap_height(body)
        if cap is not None:
            caps.append(cap)
    if not sizes:
        return None
    return PanelView(min(sizes), scene.theme.line_font_size, tuple(counts), min(caps) if caps else None)


def lesson_views(lesson: Lesson, *, base_dir: Path, sections: Sequence[int] | None = None
                 ) -> tuple[CompiledLesson, list[SectionView]]:
    compiled = compile_for_views(lesson, base_dir=base_dir)
    return compiled, run_views(compiled, sections=sections)


# ---------------------------------------------------------------- key frames


def render_key_frames(lesson: Lesson, *, base_dir: Path, wanted: dict[int, set[int]], out_dir: Path,
                      width: int = 854, height: int = 480) -> dict[tuple[int, int], Path]:
    """PNG stills of the end of chosen steps: `wanted` maps a section index to the step
    numbers (1-based) to draw. Drawn with Manim's Cairo camera at low resolution; returns
    (section index, step) -> path."""
    from manim import tempconfig

    out_dir.mkdir(parents=True, exist_ok=True)
    frames: dict[tuple[int, int], Path] = {}
    compiled = compile_for_views(lesson, base_dir=base_dir)

    def grab(section_index: int, step: int, scene: Any) -> None:
        if step not in wanted.get(section_index, set()):
            return
        from manim import Camera

        camera = Camera(pixel_width=width, pixel_height=height,
                        background_color=scene.camera.background_color)
        camera.capture_mobjects(scene.mobjects)
        path = out_dir / f"s{section_index + 1:02d}_step{step:02d}.png"
        camera.get_image().convert("RGB").save(path)
        frames[(section_index, step)] = path

    with tempconfig({"pixel_width": width, "pixel_height": height}):
        run_views(compiled, sections=sorted(wanted), on_step=grab)
    return frames
