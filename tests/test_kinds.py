"""A kind is its KindSpec and its lowering: two kinds added here the way a contributor would
(one entry in KINDS, one lowering function) are known to the JSON Schema, the reference,
the checks, the layout rules and the geometry without an edit anywhere else."""

from __future__ import annotations

from pathlib import Path

import pytest
from conftest import diagnose, lesson
from lecture.agents.critic import check_lesson
from lecture.compiler import jsonform
from lecture.compiler.findings import SectionRules, role_of
from lecture.compiler.frontend import load_text
from lecture.compiler.jsonform import lesson_to_json, load_schema, validate_json
from lecture.compiler.kinds import EXPRESSION, KINDS, LINE, NONE, ROLES, SHAPE, SHAPE_STYLE, KindSpec
from lecture.compiler.lower import compile_lesson
from lecture.compiler.lower.elements import finish_shape, lower_plot, place_shape, shape_style
from lecture.compiler.lower.ir import Float, call
from lecture.compiler.lower.registry import ELEMENTS, ElementRule, Lowered
from lecture.compiler.reference import language_reference
from lecture.runtime.geometry import footprint

ELLIPSE = KindSpec("oval", "an oval", "oval e width=3 height=1 at C3", role=SHAPE,
                   options=SHAPE_STYLE + ("width", "height"))
DASHED = KindSpec("dashed", "a dashed graph of a function of x on axes", 'dashed g "x^2" on ax',
                  role=LINE, texts=(1, 1), text_doc="the function of x", text_is=EXPRESSION, on=("axes",),
                  options=("color", "stroke", "x"), placement=NONE)


def lower_ellipse(el, ctx) -> Lowered:
    box = place_shape(el, ctx, ctx.number(el, "width"), ctx.number(el, "height"), default=(2.0, 1.0))
    expr = call("Ellipse", width=Float(box.w), height=Float(box.h), **shape_style(el, ctx))
    return finish_shape(expr, el, ctx, box)


def lower_dashed(el, ctx) -> Lowered:
    plot = lower_plot(el, ctx)
    return Lowered(call("DashedVMobject", plot.expr), plot.box, deps=plot.deps)


@pytest.fixture
def new_kinds(monkeypatch):
    """The two throwaway kinds, registered for one test only."""
    for spec, lower in ((ELLIPSE, lower_ellipse), (DASHED, lower_dashed)):
        monkeypatch.setitem(KINDS, spec.name, spec)
        monkeypatch.setitem(ELEMENTS, spec.name, ElementRule(spec.name, lower, "Create"))
    jsonform._validator.cache_clear()
    yield
    jsonform._validator.cache_clear()


SCENE = lesson('''
    oval e width=4 height=2 in A3..C5
    text t "hi" at B4
    axes ax x=-3..3 y=0..9 in D1..F3
    plot p "x^2" on ax
    dashed g "x^2 / 2" on ax
    step 1s: create e; write t
    step 1s: create ax, p, g
''')


def test_every_kind_has_a_known_role_and_known_targets():
    for spec in KINDS.values():
        assert spec.role in ROLES, spec.name
        assert all(kind in KINDS for kind in spec.on), spec.name
        assert set(spec.options) <= set(jsonform.name_lists()["options"]), spec.name


def test_the_schema_and_the_reference_know_a_new_kind(new_kinds):
    schema = load_schema()
    assert schema["$defs"]["element"]["properties"]["kind"]["enum"][-2:] == ["oval", "dashed"]
    assert validate_json(lesson_to_json(load_text(SCENE, "t.lecture").lesson)) == []
    assert "| `oval` | an oval |" in language_reference()
    # the shipped file keeps no list of kinds of its own
    text = (Path(jsonform.__file__).parent / jsonform.SCHEMA_FILE).read_text("utf-8")
    assert '"circle"' not in text and '"create"' not in text


def test_the_checks_apply_a_new_kinds_spec(new_kinds):
    assert diagnose(SCENE) == []
    codes = {d.code: d.message for d in diagnose(lesson('''
        circle c at B2
        dashed g "x^2 +" on c at B3
        step 1s: create g, c
    '''))}
    assert codes["bad-target"] == "'c' is a circle, not axes"
    assert codes["bad-placement"] == "a dashed takes its place from its axes"
    assert codes["bad-expression"] == "the function ends too early"
    before = [d.message for d in diagnose(lesson('''
        axes ax in D1..F3
        dashed g "x" on ax
        step 1s: create g
        step 1s: create ax
    '''))]
    assert before == ["the dashed 'g' is shown before its axes 'ax'"]


def test_the_layout_rules_and_the_geometry_measure_a_new_kind_by_its_role(new_kinds):
    from manim import Ellipse

    assert role_of("oval") == "shape" and role_of("dashed") == "line"
    fp = footprint("e", "oval", Ellipse(width=4, height=2))
    assert [p.kind for p in fp.parts] == ["area"]  # its outline, not its bounding box
    loaded = load_text(SCENE, "t.lecture").lesson
    rules = SectionRules.of(loaded.sections[0])
    assert {frozenset(("g", "ax")), frozenset(("g", "p"))} <= rules.exempt  # drawn on the same axes
    code = compile_lesson(loaded, base_dir=Path("."), measurer=None).code
    assert "e = Ellipse(width=" in code and "g = DashedVMobject(\n" in code
    assert "    ax.plot(lambda x: (x ** 2.0 / 2.0)" in code
    # text inside the oval and two graphs on one axes are intended: no finding
    assert check_lesson(loaded, Path(".")).findings == []
