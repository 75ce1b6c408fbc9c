"""Anchor resolution: the grid, placements, and that `in` placements really fit, measured on
the real Manim mobjects the generated code builds."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest
from lecture.compiler import layout
from lecture.compiler.frontend import load_text
from lecture.compiler.layout import GRID, PANEL, TITLE_BAND, Box, Occupancy, place
from lecture.compiler.lower import ir, section_contexts
from lecture.compiler.model import At, Auto, Cell, In, Ref, Relative
from lecture.runtime.measure import ManimMeasurer, measuring, namespace


def test_cell_centres_follow_the_design():
    assert layout.cell_center("A1") == (0.5, 2.2)
    assert layout.cell_center("F6") == (5.5, -2.8)
    assert layout.cell_center(Cell("C", 4)) == pytest.approx((3.5, 0.2))
    box = layout.cell_box("B2")
    assert (box.w, box.h) == (1.0, 1.0)


def test_grid_title_band_and_panel_do_not_overlap():
    assert GRID.left == 0.0 and GRID.right == 6.0
    assert GRID.top == pytest.approx(2.7) and GRID.bottom == pytest.approx(-3.3)
    assert not GRID.overlaps(TITLE_BAND)
    assert not GRID.overlaps(PANEL)
    assert not PANEL.overlaps(TITLE_BAND)
    assert GRID.right <= 14.22 / 2 and GRID.bottom >= -4.0


def test_area_box_in_either_order():
    a = layout.area_box(Cell("A", 1), Cell("C", 3))
    b = layout.area_box(Cell("C", 3), Cell("A", 1))
    assert a == b == Box.from_edges(0.0, 3.0, -0.3, 2.7)


def test_in_scales_down_to_fit_and_keeps_aspect():
    p = place(In(Cell("A", 1), Cell("B", 2)), 6.0, 1.0, occupancy=Occupancy())
    area = layout.area_box(Cell("A", 1), Cell("B", 2))
    assert area.inset(layout.MARGIN).contains(p.box)
    assert p.box.w / p.box.h == pytest.approx(6.0)
    assert p.box.center == area.center


def test_in_does_not_upscale_unless_asked():
    small = place(In(Cell("A", 1), Cell("C", 3)), 0.5, 0.5, occupancy=Occupancy())
    assert small.scale == 1.0
    big = place(In(Cell("A", 1), Cell("C", 3)), 0.5, 0.5, occupancy=Occupancy(), upscale=True)
    assert big.box.w == pytest.approx(3.0 - 2 * layout.MARGIN)


def test_at_centres_on_the_cell_and_caps_the_size():
    p = place(At(Cell("C", 4)), 1.0, 0.4, occupancy=Occupancy())
    assert p.box.center == pytest.approx((3.5, 0.2)) and p.scale == 1.0
    wide = place(At(Cell("C", 4)), 10.0, 1.0, occupancy=Occupancy())
    assert wide.box.w == pytest.approx(layout.AT_MAX_WIDTH)


def test_at_is_shifted_into_the_grid():
    p = place(At(Cell("A", 1)), 3.0, 0.5, occupancy=Occupancy())
    assert GRID.contains(p.box)
    assert p.box.left == pytest.approx(0.0)


@pytest.mark.parametrize("relation, check", [
    ("below", lambda t, b: b.top == pytest.approx(t.bottom - layout.GAP) and b.cx == t.cx),
    ("above", lambda t, b: b.bottom == pytest.approx(t.top + layout.GAP) and b.cx == t.cx),
    ("left of", lambda t, b: b.right == pytest.approx(t.left - layout.GAP) and b.cy == t.cy),
    ("right of", lambda t, b: b.left == pytest.approx(t.right + layout.GAP) and b.cy == t.cy),
    ("next to", lambda t, b: b.left == pytest.approx(t.right + layout.GAP) and b.cy == t.cy),
])
def test_relations_place_beside_the_target(relation, check):
    target = Box(3.0, 0.0, 1.0, 1.0)
    p = place(Relative(relation, Ref("x")), 0.6, 0.4, occupancy=Occupancy(), target_box=target)
    assert check(target, p.box)
    assert not p.box.overlaps(target)


def test_auto_picks_free_cells_deterministically():
    occ = Occupancy()
    occ.take_cells(0, 0, 1, 5)  # rows A and B taken
    first = place(Auto(), 1.5, 0.6, occupancy=occ)
    assert first.area == layout.cells_box(2, 0, 2, 1)  # C1..C2
    second = place(None, 1.5, 0.6, occupancy=occ)
    assert second.area == layout.cells_box(2, 2, 2, 3)  # C3..C4, next free block
    again = Occupancy()
    again.take_cells(0, 0, 1, 5)
    assert place(Auto(), 1.5, 0.6, occupancy=again) == first


def test_auto_on_a_full_grid_still_places_inside_it():
    occ = Occupancy()
    occ.take_cells(0, 0, 5, 5)
    p = place(Auto(), 2.0, 1.0, occupancy=occ)
    assert GRID.contains(p.box)


def test_edge_point_leaves_the_box():
    box = Box(0.0, 0.0, 2.0, 1.0)
    x, y = layout.edge_point(box, (10.0, 0.0), buff=0.0)
    assert (x, y) == pytest.approx((1.0, 0.0))
    x, y = layout.edge_point(box, (0.0, -10.0), buff=0.1)
    assert (x, y) == pytest.approx((0.0, -0.6))


# ---------------------------------------------------------------- real mobjects

AREAS_LESSON = textwrap.dedent('''\
    lesson "Fit"
    section s "Fitting"
      text t1 "A rather long sentence that must wrap and shrink to fit this small area." in A1..B2
      text t2 "short" in A3..A4
      title h "A heading" in A5..B6
      math m $\\int_0^1 x^2\\,dx = \\frac{1}{3}$ in C1..C2
      bullets b "first point" "a second, longer point" "third" in C3..D6
      table tb in E1..F2:
        "n" "square" "cube"
        "2" "4" "8"
      code src """for i in range(10):
        print(i * i)""" language=python in E3..E6
      circle c in F3..F3
      polygon p (0,0) (4,0) (0,3) in D1..D2
      custom cu "a description" in F4..F6
      step 1s: create t1, t2, h, m, b, tb, src, c, p, cu
    ''')


@pytest.fixture(scope="module")
def fitted():
    lesson = load_text(AREAS_LESSON, "fit.lecture").lesson
    (ctx,) = section_contexts(lesson, base_dir=Path("."), measurer=ManimMeasurer())
    return lesson, ctx


def _real_box(expr) -> Box:
    with measuring():
        mob = ir.build(expr, namespace())
    left, bottom = mob.get_corner([-1, -1, 0])[:2]
    right, top = mob.get_corner([1, 1, 0])[:2]
    return Box.from_edges(float(left), float(right), float(bottom), float(top))


def test_every_in_placement_fits_its_cells(fitted):
    lesson, ctx = fitted
    for el in lesson.sections[0].elements:
        assert isinstance(el.placement, In)
        area = layout.area_box(el.placement.first, el.placement.last)
        real = _real_box(ctx.lowered[el.id].expr)
        assert area.contains(real, tol=0.02), (el.id, area, real)
        assert real.w > 0.1 and real.h > 0.1, el.id


def test_the_layout_box_is_the_real_box(fitted):
    lesson, ctx = fitted
    for el_id in ("t1", "m", "b", "tb", "c"):
        real = _real_box(ctx.lowered[el_id].expr)
        box = ctx.lowered[el_id].box
        assert real.cx == pytest.approx(box.cx, abs=0.02) and real.cy == pytest.approx(box.cy, abs=0.02)
        assert real.w == pytest.approx(box.w, abs=0.02) and real.h == pytest.approx(box.h, abs=0.02)


def test_text_at_a_cell_keeps_its_natural_size():
    lesson = load_text('lesson "x"\nsection s "S"\n  text n "hello" at C4\n  step 1s: write n\n',
                       "n.lecture").lesson
    (ctx,) = section_contexts(lesson, base_dir=Path("."), measurer=ManimMeasurer())
    low = ctx.lowered["n"]
    assert low.scale == 1.0
    real = _real_box(low.expr)
    assert real.center == pytest.approx((3.5, 0.2), abs=0.01)
