"""Values and motion, the compiler's side (issue 16): expressions over values and plot calls
(compiler/expression.py), each section's value graph and timeline (compiler/values.py), and
the diagnostics of compiler/motion_checks.py, each at its line:col."""

from __future__ import annotations

import math

import pytest
from conftest import diagnose, lesson
from lecture.compiler.diagnostics import Diagnostic
from lecture.compiler.expression import (
    ExpressionError,
    evaluate,
    evaluate_in,
    parse_expression,
    plot_scope,
    plots_called,
    to_numpy,
    to_python,
    value_scope,
    variables_of,
)
from lecture.compiler.frontend import parse_text
from lecture.compiler.kinds import EASINGS
from lecture.compiler.motion_checks import motion_diagnostics
from lecture.compiler.values import EASE_FUNCTIONS, SectionValues, ease_of, section_values

# ---------------------------------------------------------------- expressions

SCOPE = value_scope({"x0", "r", "slope"}, {"f", "g"})


def parse_error(text: str, scope=SCOPE) -> ExpressionError:
    with pytest.raises(ExpressionError) as caught:
        parse_expression(text, scope)
    return caught.value


def test_a_plots_function_reads_and_reports_as_before():
    assert to_numpy(parse_expression("2x^2 + sin(x) - pi")) == "(2.0 * x ** 2.0 + np.sin(x) - np.pi)"
    error = parse_error("y + 1", scope=plot_scope(set()))
    assert (error.message, error.offset, error.hint) == ("unknown name 'y'", 0,
                                                         "the variable is x; constants are pi and e")
    assert parse_error("sin + x", scope=plot_scope(set())).hint == "'sin' is a function: write sin(x)"
    assert parse_error("sinn(x)", scope=plot_scope(set())).hint == "did you mean 'sin'?"
    assert parse_error("", scope=plot_scope(set())).message == "the function is empty"
    assert parse_error("x(2)", scope=plot_scope(set())).message == "unknown function 'x'"


def test_an_unknown_name_suggests_the_values_there_are():
    error = parse_error("2 x00 + 1")
    assert (error.message, error.offset, error.length) == ("unknown name 'x00'", 2, 3)
    assert error.hint == "did you mean 'x0'?"
    hint = parse_error("q").hint
    assert "values here: r, slope, x0" in hint and "plots (called as f(…)): f, g" in hint


def test_x_plots_and_values_each_say_how_to_write_them():
    error = parse_error("x + 1")
    assert error.message == "x is a plot's variable, not a value" and "f(r)" in error.hint
    error = parse_error("f + 1")
    assert error.message == "'f' is a plot, not a value" and error.hint == "call it: f(r)"
    error = parse_error("x0(2)")
    assert error.message == "'x0' is a value, not a function" and error.hint == "write x0*(…) for a product"
    error = parse_error("h(x0)")
    assert error.message == "unknown function 'h'" and error.hint.endswith("; plots: f, g")
    assert parse_error("").message == "the expression is empty"


def test_a_plot_may_read_values_when_told_them():
    expr = parse_expression("a x^2", plot_scope({"a"}))
    assert variables_of(expr) == {"a", "x"} and plots_called(expr) == frozenset()
    assert evaluate_in(expr, {"a": 2.0, "x": 3.0}) == 18.0
    assert parse_error("a x^2", scope=plot_scope(set())).message == "unknown name 'a'"


def test_names_and_plot_calls_are_printed_as_the_caller_says():
    expr = parse_expression("2 x0 + f(x0)^2 - sin(pi r)", SCOPE)
    assert variables_of(expr) == {"x0", "r"} and plots_called(expr) == {"f"}
    code = to_python(expr, {"x0": "v['x0']", "r": "r.get_value()"}, {"f": "fn_f"})
    assert code == "(2.0 * v['x0'] + fn_f(v['x0']) ** 2.0 - np.sin(np.pi * r.get_value()))"
    # a printed name that is no simple atom keeps its meaning
    assert to_python(parse_expression("x0^2", SCOPE), {"x0": "a + b"}) == "((a + b) ** 2.0)"
    with pytest.raises(KeyError):
        to_python(expr, {"x0": "x0"})


def test_evaluation_walks_the_tree_with_values_and_plots():
    expr = parse_expression("2 x0 + f(x0 + 1)", SCOPE)
    assert evaluate_in(expr, {"x0": 1.5}, {"f": lambda x: x * x}) == pytest.approx(3 + 6.25)
    assert math.isnan(evaluate_in(parse_expression("log(r)", SCOPE), {"r": -1.0}))
    assert evaluate(parse_expression("x^2"), 3.0) == 9.0


# ---------------------------------------------------------------- the value graph


def graph_of(body: str) -> SectionValues:
    return section_values(parse_text(lesson(body), "t.lecture").sections[0])


TANGENT = """\
axes ax in A1..D5 x=0..4 y=0..16
plot f "x^2" on ax
value x0 = 1
value slope = "2 x0" at F2 label="slope =" decimals=2
dot p at (x0, f(x0)) on ax
tangent tl on f x=x0 length=3
area under on f x=0..x0
step 1s: create ax, f, p, tl, under, slope
step 4s: change x0 to 3
step 4s: change x0 to 1, 3 ease=linear
wait 1s
"""


def test_the_graph_knows_trackers_derived_values_and_uses():
    g = graph_of(TANGENT)
    assert g.trackers == ("x0",) and g.derived == ("slope",) and g.cycles == ()
    assert g.values["slope"].reads == {"x0"} and g.start == {"x0": 1.0, "slope": 2.0}
    assert g.moving == {"p", "tl", "under"}
    placed = {(u.where, u.key, u.bound): u for u in g.uses_of("p")}
    assert placed[("at", "y", "")].text == "f(x0)" and placed[("at", "y", "")].system == "ax"
    assert placed[("at", "y", "")].axis == 1 and placed[("at", "y", "")].reads == {"x0"}
    bounds = {u.bound: u for u in g.uses_of("under")}
    assert bounds["high"].text == "x0" and bounds["high"].system == "f"
    assert (bounds["high"].span.line, bounds["high"].span.column) == (9, 24)
    assert g.uses_of("tl")[0].system == "f"


def test_the_timeline_moves_each_tracker_through_its_step():
    g = graph_of(TANGENT)
    assert [dict(s.start) for s in g.steps] == [{"x0": 1.0}, {"x0": 1.0}, {"x0": 3.0}, {"x0": 3.0}]
    assert g.values_at(2, 0.5) == pytest.approx({"x0": 2.0, "slope": 4.0})  # smooth is half way at 0.5
    assert g.values_at(2, 0.25)["x0"] < 1.5  # ... and slow at first
    assert g.values_at(3, 0.25)["x0"] == pytest.approx(2.0)  # linear, to 1 in the first half
    assert g.values_at(3, 0.5)["x0"] == pytest.approx(1.0)
    assert g.values_at(3, 0.75)["x0"] == pytest.approx(2.0)
    samples = g.samples(3, n=3)
    assert [s.fraction for s in samples] == [0.0, 0.25, 0.5, 0.75, 1.0]  # the turn at 0.5 is kept
    assert [s.values["slope"] for s in samples] == pytest.approx([6.0, 4.0, 2.0, 4.0, 6.0])
    assert samples[1].seconds == pytest.approx(1.0)
    assert len(g.samples(4)) == 1  # a wait changes nothing


def test_there_and_back_ends_where_it_started():
    g = graph_of("value t = 2\nstep 2s: change t to 4 ease=there_and_back\nstep 1s: change t to 0, 1")
    assert g.steps[0].end == {"t": 2.0} and g.values_at(1, 0.5)["t"] == pytest.approx(4.0)
    assert 0.5 in g.steps[0].turns
    assert g.values_at(2, 0.5)["t"] == pytest.approx(0.0) and g.steps[1].end == {"t": 1.0}


def test_eases_are_manims_rate_functions():
    from manim.utils import rate_functions as rf

    manim = {"smooth": rf.smooth, "linear": rf.linear, "in": rf.ease_in_sine, "out": rf.ease_out_sine,
             "there_and_back": rf.there_and_back}
    assert EASE_FUNCTIONS.keys() == EASINGS.keys() == manim.keys()
    for name, ours in EASE_FUNCTIONS.items():
        for t in (0.0, 0.1, 0.37, 0.5, 0.8, 1.0):
            assert ours(t) == pytest.approx(float(manim[name](t)), abs=1e-12), (name, t)
    action = parse_text(lesson("value t = 1\nstep 1s: change t to 2"), "t").sections[0].steps[0].actions[0]
    assert ease_of(action) == "smooth"


def test_cycles_are_found_and_their_values_have_none():
    g = graph_of('value a = "b + 1"\nvalue b = "2 a"\nvalue c = "c"\nvalue d = "a + 1"\nvalue e0 = 3\n'
                 'value h = "e0 / 2"')
    assert g.cycles == (("a", "b"), ("c",))
    assert g.derived == ("h",)
    values = g.start
    assert math.isnan(values["a"]) and math.isnan(values["d"]) and values["h"] == 1.5


def test_derived_values_are_computed_in_dependency_order_through_plots():
    g = graph_of('axes ax in A1..D5 x=0..4 y=0..16\nvalue k = "2 m"\nplot g "k x" on ax\n'
                 'value y0 = "g(3)"\nvalue m = 1\nstep 2s: change m to 2')
    assert g.derived == ("k", "y0") and g.values["y0"].reads == {"k"} and g.plots["g"].reads == {"k"}
    assert g.values_at(1, 1.0) == pytest.approx({"m": 2.0, "k": 4.0, "y0": 12.0})


# ---------------------------------------------------------------- diagnostics


def motion(body: str, *, warnings: bool = False) -> list[Diagnostic]:
    """The diagnostics of compiler.motion_checks, in line order (without its warnings unless
    asked: most of these lessons leave a value unused)."""
    found = motion_diagnostics(parse_text(lesson(body), "t.lecture"))
    return sorted((d for d in found if warnings or d.severity == "error"),
                  key=lambda d: (d.span.line, d.span.column))


def where(d: Diagnostic) -> tuple[str, int, int]:
    return d.code, d.span.line, d.span.column


AXES = "axes ax in A1..D5 x=0..4 y=0..16\nplot f \"x^2\" on ax\nvalue x0 = 1\n"


def test_an_unknown_value_in_a_coordinate_is_underlined_where_it_is():
    found = motion(AXES + "dot p at (x0, f(xx0)) on ax\nstep 1s: create ax, p")
    assert [where(d) for d in found] == [("bad-expression", 6, 19)]
    assert found[0].message == "unknown name 'xx0'" and found[0].hint == "did you mean 'x0'?"
    assert found[0].span.end_column == 22


def test_unknown_names_in_bounds_options_and_expressions():
    found = motion(AXES + 'area a on f x=0..xx\ncircle c at E5 radius="2 rr"\nvalue s = "3 + x0 + q"\n'
                   "step 1s: create ax, f, a, c, s")
    assert [where(d) for d in found] == [("bad-expression", 6, 20), ("bad-expression", 7, 28),
                                         ("bad-expression", 8, 23)]
    assert [d.message for d in found] == ["unknown name 'xx'", "unknown name 'rr'", "unknown name 'q'"]
    assert found[2].hint == "values here: s, x0; plots (called as f(…)): f; constants are pi and e"


def test_a_value_cannot_take_a_name_of_the_language():
    found = motion("value pi = 3\nvalue x = 1\nstep 1s: create pi, x")
    assert [where(d) for d in found] == [("reserved-name", 3, 9), ("reserved-name", 4, 9)]
    assert "a constant" in found[0].message and "plot's variable" in found[1].message


def test_a_cycle_names_its_values():
    found = motion('value a = "b + 1"\nvalue b = "2 a"\nvalue c = "c"\nstep 1s: create a, b, c')
    assert [where(d) for d in found] == [("value-cycle", 3, 13), ("value-cycle", 5, 13)]
    assert found[0].message == "these values are computed from each other in a cycle: a → b → a"
    assert found[1].message == "the value 'c' is computed from itself"


def test_change_takes_tracker_values_once_a_step():
    found = motion(AXES + 'value s = "2 x0"\ndot p at C3\n'
                   "step 1s: create p, s; change s to 3\nstep 1s: change p to 2\nstep 1s: change xo to 2\n"
                   "step 1s: change x0 to 2; change x0 to 3")
    assert [where(d) for d in found] == [("not-a-tracker", 8, 32), ("not-a-value", 9, 19),
                                         ("undefined-id", 10, 19), ("change-twice", 11, 35)]
    assert found[0].message == "'s' is computed from x0; it cannot be changed"
    assert found[1].message == "'p' is a dot, not a value"
    assert found[2].hint == "values here: x0, s"


def test_easing_and_action_options():
    found = motion("value t = 1\ncircle c at C3\nstep 1s: create c; change t to 2 ease=lineer\n"
                   "step 1s: rotate c 90 ease=linear; change t to 3 x=0..2")
    assert [where(d) for d in found] == [("unknown-ease", 5, 41), ("unknown-option", 6, 51)]
    assert found[0].hint == "did you mean 'linear'?"


def test_a_move_goes_along_a_path():
    found = motion(AXES + 'dot p at C3\ntext t "path" at D3\ncircle c at E3\n'
                   "step 1s: create p, t, c\nstep 1s: move p along t\nstep 1s: move p along c x=0..1\n"
                   "step 1s: move p along f x=0..9\nstep 1s: move p along nowhere")
    assert [where(d) for d in found] == [("bad-path", 10, 25), ("bad-option", 11, 27),
                                         ("out-of-range", 12, 29), ("undefined-id", 13, 25)]
    assert found[0].message == "'t' is a text: a move cannot go along it"
    assert found[2].message == "x = 9 is outside the curve 'f'"


def test_a_moving_point_leaving_its_axes_names_the_step_and_the_value():
    found = motion(AXES + "dot p at (x0, f(x0)) on ax\nstep 1s: create ax, p\nstep 2s: change x0 to 3\n"
                   "step 2s: change x0 to 5")
    assert [where(d) for d in found] == [("value-out-of-range", 6, 13), ("value-out-of-range", 6, 17)]
    assert found[0].message == "'p' leaves the x range of 'ax' (0..4) in step 3 (line 9): x0 reaches 5"
    assert found[1].message == ("'p' leaves the y range of 'ax' (0..16) in step 3 (line 9): "
                                "f(x0) is 25 when x0 = 5")


def test_bounds_and_tangents_stay_on_their_plot_and_options_keep_their_kind():
    found = motion(AXES + 'value r = 1\ntangent tl on f x="x0 + 3.5"\narea a on f x=0..x0\n'
                   'circle c at E5 radius="r - 1"\nstep 1s: create ax, f, tl, a, c\n'
                   "step 1s: change x0 to 4.5")
    assert [where(d) for d in found] == [("value-out-of-range", 7, 22), ("value-out-of-range", 8, 20),
                                         ("value-out-of-range", 9, 26)]
    assert found[0].message == ("'tl' leaves the x range of the curve 'f' (0..4) in step 1 (line 10): "
                                "x0 + 3.5 is 4.5 when x0 = 1")
    assert found[1].message == ("'a' leaves the x range of the curve 'f' (0..4) in step 2 (line 11): "
                                "x0 reaches 4.5")
    assert found[2].message == ("'radius' of 'c' is not greater than 0 in step 1 (line 10): "
                                "r - 1 is 0 when r = 1")


def test_a_curve_without_a_value_there_is_reported():
    found = motion("axes ax in A1..D5 x=-2..4 y=-5..5\nvalue t = 1\ndot p at (t, log(t)) on ax\n"
                   "step 1s: create ax, p\nstep 1s: change t to -1")
    assert [where(d) for d in found] == [("value-out-of-range", 5, 16)]
    assert found[0].message.startswith("'p' has no value in step 2 (line 7): log(t) is no number when t =")


def test_nothing_is_checked_before_the_element_is_shown():
    assert motion(AXES + "dot p at (x0, 0) on ax\nstep 1s: change x0 to 9\nstep 1s: change x0 to 1\n"
                  "step 1s: create ax, p") == []


def test_a_range_of_axes_cannot_follow_a_value_and_unused_values_are_warned():
    found = motion("value a = 2\nvalue b = 1\naxes ax in A1..D5 x=0..a\nstep 1s: create ax", warnings=True)
    assert [where(d) for d in found] == [("unused-value", 4, 9), ("fixed-range", 5, 23)]
    assert found[0].severity == "warning"


def test_the_sampled_arrays_are_the_samples_of_every_step():
    g = graph_of(TANGENT)
    sampled = g.sampled(n=3)
    rows = [(s.step, s.fraction, s.values) for n in range(1, len(g.steps) + 1) for s in g.samples(n, n=3)]
    assert list(sampled.step) == [r[0] for r in rows] and list(sampled.fraction) == [r[1] for r in rows]
    for index, (_, _, values) in enumerate(rows):
        assert sampled.at(index) == pytest.approx(values)
    assert g.trackers_behind(frozenset({"slope"})) == {"x0"}


# ---------------------------------------------------------------- through `check`


def check(body: str) -> list[tuple[str, int, int, str]]:
    return [(d.code, d.span.line, d.span.column, d.message) for d in diagnose(lesson(body))]


EVERY_FORM = """\
axes ax in A1..D5 x=0..4 y=0..16
plot f "x^2" on ax
value a = 0.5
plot g "a x^2" on ax
value x0 = 1
value slope = "2 x0" at F2 label="slope =" decimals=2 unit="m/s"
value r = 1
dot p at (x0, f(x0)) on ax color=red
line drop from (x0, 0) to (x0, f(x0)) on ax
label lp "P" above p
tangent tl on f x=x0 length=3 color=yellow
area under on f x=0..x0
riemann rs on g x=0..x0 n=4
circle c at E5 radius=r
circle c2 at E6 radius="r / 2 + 0.1"
trace tr of p color=yellow
dot q at 2 on g
step 1s: create ax, f, g, p, drop, lp, tl, under, rs, tr, slope, c, c2, q
step 4s: change x0 to 3; change a to 1 ease=out
step 4s: change x0 to 1, 3 ease=linear; change r to 2, 0.5
step 4s: move c2 along f x=0..x0
step 4s: rotate c 360 about E4 ease=linear
"""


def test_every_form_of_motion_checks_clean():
    assert check(EVERY_FORM) == []


def test_check_reports_motion_at_the_lines_of_the_lesson():
    body = (EVERY_FORM.replace("change a to 1 ease=out", "change a to 5 ease=out")
            .replace('radius="r / 2 + 0.1"', 'radius="r / 2 + rr"')
            .replace("change x0 to 3;", "change slope to 3;"))
    assert check(body) == [
        ("bad-expression", 17, 35, "unknown name 'rr'"),
        ("value-out-of-range", 19, 12,
         "'q' leaves the y range of 'ax' (0..16) in step 2 (line 21): g(2) is 20 when a = 5"),
        ("not-a-tracker", 21, 19, "'slope' is computed from x0; it cannot be changed"),
    ]


def test_a_word_that_names_no_value_is_still_no_number():
    found = diagnose(lesson("value r = 1\ncircle c at B2 radius=big\nstep 1s: create c, r"))
    assert [(d.code, d.span.line, d.span.column) for d in found] == [("bad-option", 4, 25)]
    assert found[0].message == "'radius' needs a number, or the name of a value"
    assert found[0].hint == "radius in grid cells; values here: r"
    found = diagnose(lesson("circle c at B2 radius=rr\nvalue r = 1\nstep 1s: create c, r"))
    assert found[0].hint == "did you mean 'r'?"


def test_a_plot_reads_the_sections_values_and_only_those():
    found = diagnose(lesson('axes ax in A1..D5 x=0..4 y=0..16\nvalue a = 1\nplot g "a x^2 + b" on ax\n'
                            "step 1s: create ax, g, a"))
    assert [(d.code, d.span.line, d.span.column, d.message) for d in found] == [
        ("bad-expression", 5, 19, "unknown name 'b'")]
    assert found[0].hint == "the variable is x; values here: a; constants are pi and e"


def test_a_moving_point_on_a_number_line_is_one_number():
    found = diagnose(lesson("numberline nl in D1..D6 x=0..5\nvalue t = 1\ndot d at (t, 0) on nl\n"
                            "step 1s: create nl, d"))
    assert [(d.code, d.span.line, d.span.column) for d in found] == [("coordinate-shape", 5, 12)]


def test_a_move_to_a_moving_point_is_checked_in_its_step_only():
    moves = AXES + "dot p at (1, 1) on ax\nstep 1s: create ax, f, p\nstep 1s: move p to (x0, 2) on ax\n"
    assert check(moves + "step 1s: change x0 to 9") == []
    late = moves.replace("step 1s: move", "step 1s: change x0 to 9\nstep 1s: move")
    assert check(late) == [
        ("value-out-of-range", 9, 23,
         "'p' leaves the x range of 'ax' (0..4) in step 3 (line 9): x0 reaches 9")]


def test_a_range_that_follows_a_value_stays_a_range():
    found = motion(AXES + "area a on f x=x0..2\nstep 1s: create ax, f, a\nstep 1s: change x0 to 3")
    assert [where(d) for d in found] == [("value-out-of-range", 6, 17)]
    assert found[0].message == ("the x range of 'a' is empty or inverted in step 2 (line 8): x0..2 is 3..2 "
                                "when x0 = 3")
    assert found[0].span.end_column == 22
