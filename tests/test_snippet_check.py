"""The allowlist check of custom-element code (runtime/snippet_check.py): every known way
around the old blocklist is refused with a reason the model can act on; the snippets the
project ships and tests are accepted; hypothesis-made snippets from the allowed API are
accepted, and one reference outside it, put anywhere, is refused. The allowlist data file
is what the installed Manim and numpy give, so it cannot go stale silently."""

from __future__ import annotations

import builtins
import json
import os
import re
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from lecture.agents.coder import extract_code, manim_sheet, system_prompt
from lecture.runtime.custom_box import CustomBox
from lecture.runtime.snippet_allowlist import ALLOWLIST_FILE, generate, load_allowlist, to_text
from lecture.runtime.snippet_check import BUILTINS, EXCEPTIONS, JOIN_METHODS, LABEL_CLASSES, check_code
from lecture.runtime.snippet_scopes import CONTAINER_FILLERS
from lecture.runtime.snippet_strings import STRING_BUILDERS

ROOT = Path(__file__).resolve().parent.parent
ALLOW = load_allowlist()
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def messages(code: str) -> str:
    return "\n".join(p.render() for p in check_code(textwrap.dedent(code)))


# ---------------------------------------------------------------- the bypass families

MANIM, NUMPY = "from manim import *", "import numpy as np"


def code(head: str, *body: str) -> str:
    """A snippet: the import line(s), then `def build(box):` with these body lines."""
    return (head + "\n" if head else "") + "def build(box):\n" + "".join(f"    {line}\n" for line in body)


BYPASSES = {  # name -> (code, what the refusal says)
    # attribute chains of allowed modules to subprocess, builtins and os
    "np.lib": (code(NUMPY, "return np.lib.npyio.os.system('id'), []"),
               "`np.lib` is not in the allowed API of numpy"),
    "np.testing": (code(NUMPY, "np.testing.os.system('id')"), "`np.testing` is not in the allowed API"),
    "np.f2py": (code("import numpy", "return numpy.f2py.subprocess, []"), "`numpy.f2py` is not in the"),
    "np.load": (code(NUMPY, "return np.load('/etc/passwd'), []"), "`np.load` is not in the allowed API"),
    "numpy via manim's star": (code(MANIM, "return np.ctypeslib, []"), "`np.ctypeslib` is not in the"),
    "module as a value": (code(NUMPY, "m = np", "return m.lib, []"), "`np` is a module: use its functions"),
    "import manim": (code("import manim", "return manim.utils.file_ops.os, []"), "`import manim` is not"),
    "manim's utils": (code(MANIM, "return utils.file_ops.open_file, []"), "`utils` is not allowed in custom"),
    "from manim.utils": (code("from manim.utils.file_ops import os", "return os, []"),
                         "`from manim.utils.file_ops import ...` is not allowed"),
    "dunder globals": (code(MANIM, "return Mobject.__init__.__globals__['os'], []"),
                       "`__globals__` is not allowed: no dunder attributes"),
    "config via the box's class": (code("", "return box.__class__.__init__.__globals__, []"),
                                   "`__class__` is not allowed"),
    "type(x).mro()": (code("", "return type(box).mro()[-1].__subclasses__(), []"), "`type` is not allowed"),
    "mro on a class": (code(MANIM, "return Circle.mro(), []"), "attribute `.mro` is not in the allowed API"),
    "private attribute": (code(MANIM, "return Circle()._original__init__, []"), "no private attributes"),
    "getattr with pieces": (code(NUMPY, "return getattr(np, 'l' + 'oad')('x'), []"),
                            "`getattr` is not allowed: write attributes directly"),
    "vars": (code("", "return vars(box), []"), "`vars` is not allowed"),
    "config": (code(MANIM, "config.media_dir = '/'", "return Circle(), []"), "`config` is not allowed"),
    "SVGMobject": (code(MANIM, "return SVGMobject('/etc/x.svg'), []"), "`SVGMobject` is not allowed"),
    "Typst reads files": (code(MANIM, "return Typst('#read(\"/etc/passwd\")'), []"), "`Typst` is not"),
    "Code reads files": (code("from manim import Code", "return Code('/etc/passwd'), []"), "`Code` is not"),
    "background image": (code(MANIM, "return Circle(background_image='/etc/passwd'), []"),
                         "the keyword `background_image` is not allowed"),
    "background image in a config": (code(MANIM, "return Axes(axis_config={'background_image': 'x'}), []"),
                                     "the string 'background_image' is not allowed"),
    "save_image": (code(MANIM, "Circle().save_image('/tmp/x')"), "attribute `.save_image` is not in the"),
    "changing a constant": (code(MANIM, "UP[1] = 5", "return Circle(), []"),
                            "may not change Manim's or numpy's constants"),
    "monkeypatching a class": (code(MANIM, "Circle.shift = None"), "`Circle.shift` may not be changed"),
    # a forbidden name as the parameter of an unused helper, used elsewhere
    "parameter lifts no ban": (code("", "def helper(os, open):", "    return os, open",
                                    "return os.system('id'), open('/etc/passwd')"), "`os` is not allowed"),
    "a local shadows, nothing else": (code(NUMPY, "def f(np):", "    return np", "return np.lib, []"),
                                      "`np.lib` is not in the allowed API"),
    "class": (code(MANIM, "class A(VGroup):", "    pass", "return A(), []"), "class definitions are not"),
    "decorator": (code("", "@staticmethod", "def f():", "    pass"), "decorators are not allowed"),
    "default argument": (code(MANIM, "f = lambda k=open: k", "return Circle(), []"),
                         "default argument values are not allowed"),
    "bare except": (code("", "try:", "    pass", "except:", "    pass"), "a bare `except:` is not allowed"),
    "with": (code("", "with box:", "    pass"), "`with` statements are not allowed"),
    "generator": (code("", "def g():", "    yield box", "return g, []"), "generators"),
    "global": (code("", "global x"), "`global` is not allowed"),
    "bytes": (code("", "return b'\\x00', []"), "bytes literals are not allowed"),
    # TeX assembled from pieces
    "TeX by +": (code(MANIM, "return MathTex('\\\\in' + 'put{/etc/passwd}'), []"),
                 "ends in the command `\\in`, which the next piece would lengthen"),
    "TeX by implicit concatenation": (code(MANIM, "return MathTex('\\\\' 'input{/etc/passwd}'), []"),
                                      "`\\input` is not allowed in a formula"),
    "TeX by f-string": (code(MANIM, "cmd = 'input'", "return MathTex(f'\\\\{cmd}{{/etc/passwd}}'), []"),
                        "ends in a lone backslash"),
    "TeX by join": (code(MANIM, "t = ''.join(['\\\\in', 'put'])", "return VGroup(MathTex(t + '{/x}')), []"),
                    "the TeX given to MathTex must be written literally"),
    "TeX by %": (code(MANIM, "return MathTex('\\\\in%s' % 'put'), []"),
                 "the %-format piece before '%s' ends in the command `\\in`"),
    "TeX by format": (code(MANIM, "return MathTex('\\\\in{}'.format('put')), []"),
                      "the format string piece '\\\\in' ends in the command `\\in`"),
    "TeX by arguments Tex joins": (code(MANIM, "return Tex('\\\\in', 'put{x}'), []"),
                                   "in Tex, the piece '\\\\in' ends in the command `\\in`"),
    "TeX by Brace.get_text": (code(MANIM, "return Brace(Dot()).get_text('\\\\in', 'put'), []"),
                              "in get_text, the piece '\\\\in'"),
    "TeX class passed around": (code(MANIM, "return list(map(Tex, ['\\\\in'], ['put'])), []"),
                                "`Tex` may only be called"),
    "TeX from a slice": (code(MANIM, "s = '\\\\int'", "return Tex(s[:3], 'put'), []"),
                         "the TeX given to Tex must be written literally"),
    "TeX from split words": (code(MANIM, "return Tex(*'\\\\in put'.split()), []"),
                             "`*` arguments of Tex must be a list of string literals"),
    "TeX through a helper": (code(MANIM, "def lab(t):", "    return MathTex(t)",
                                  "return lab('\\\\in' + 'put'), []"),
                             "may not be passed to `MathTex`"),
    "TeX through a container": (code(MANIM, "parts = []", "parts.append('\\\\in' + 'put')",
                                     "return VGroup(*[MathTex(p) for p in parts]), []"),
                                "may not be passed to `MathTex`"),
    "TeX through numpy strings": (code(MANIM + "\n" + NUMPY, "a = np.add(['\\\\in'], ['put'])",
                                       "return MathTex(a[0]), []"),
                                  "the TeX given to MathTex must be written literally"),
    "TeX by ^^": (code(MANIM, "return MathTex('^^5cinput{x}'), []"), "`^^` is not allowed in a formula"),
    "TeX by a char code": (code(MANIM, "return MathTex(f'{92:c}input'), []"),
                           "the TeX given to MathTex must be written literally"),
    "TeX environment": (code(MANIM, "return MathTex('x', tex_environment='filecontents'), []"),
                        "`tex_environment` must be one of"),
    "TeX of a helper given pieces": (code(MANIM, "def lab(a, b):", "    return Tex(a, b)",
                                          "return lab('\\\\in', 'put'), []"),
                                     "in Tex, the piece '\\\\in' ends in the command `\\in`"),
    "TeX read back from mobjects": (code(MANIM, "a = Axes()", "t = MathTex('\\\\in').get_tex_string()",
                                         "u = MathTex('put').get_tex_string()",
                                         "return a.get_graph_label(a.plot(abs), t + u), []"),
                                    "may not be passed to `a.get_graph_label`"),
    "TeX by a format spec written later": (code(MANIM, "a = Axes()", "t = f\"{92:{'c'}}input\"",
                                                "return a.get_graph_label(a.plot(abs), t), []"),
                                           "may not be passed to `a.get_graph_label`"),
    "TeX by format's c": (code(MANIM, "a = Axes()", "t = '{:c}input'.format(92)",
                               "return a.get_graph_label(a.plot(abs), t), []"),
                          "may not be passed to `a.get_graph_label`"),
    "dunder in a format string": (code("", "x = '{0.__class__}'", "return x, []"),
                                  "strings naming dunder attributes are not allowed"),
}


@pytest.mark.parametrize("name", sorted(BYPASSES))
def test_each_bypass_family_is_refused_with_its_reason(name):
    code, expected = BYPASSES[name]
    found = messages(code)
    assert expected in found, f"{name}:\n{code}\n--- got:\n{found}"
    assert all(p.line >= 1 for p in check_code(code)), "every refusal names its line"


def test_structure_rules_are_kept():
    assert "exactly `def build(box):`" in messages("def build(box, other):\n    pass\n")
    assert "must be called `build`" in messages("def make(box):\n    pass\n")
    assert "only imports and one function" in messages("x = 1\ndef build(box):\n    pass\n")
    assert "must define one top-level function" in messages("import math\n")
    assert messages("def build(box)\n    pass\n").startswith("line 1: syntax error")


# ---------------------------------------------------------------- what is accepted

SHIPPED = {
    "helper labels and a brace": r'''
        from manim import *

        def build(box):
            def node(tex, color):
                circle = Circle(radius=0.35, color=color)
                label = MathTex(tex, font_size=30).move_to(circle.get_center())
                return VGroup(circle, label)

            a = node("x", BLUE)
            b = node(r"\sqrt{x}", GREEN).next_to(a, RIGHT, buff=1)
            brace = Brace(VGroup(a, b), DOWN)
            group = VGroup(a, b, brace, brace.get_tex(r"\Delta x"))
            box.fit(group)
            return group, [FadeIn(a), FadeIn(b), GrowFromCenter(brace)]
    ''',
    "graph and labels": r'''
        from manim import *
        import numpy as np

        def build(box):
            axes = Axes(x_range=[0, 2 * PI, PI / 2], y_range=[-1.5, 1.5, 0.5],
                        x_length=box.width * 0.85, y_length=box.height * 0.7)
            graph = axes.plot(lambda x: np.sin(x), color=YELLOW)
            label = axes.get_graph_label(graph, r"\sin(x)", x_val=PI / 2, direction=UP)
            values = [3, 5, 2]
            numbers = VGroup(*[MathTex(f"{v}", font_size=24) for v in values]).arrange(RIGHT)
            ticks = VGroup(*[MathTex(f"x = {t:.2f}") for t in np.linspace(0, 1, 3)])
            terms = [r"\frac{1}{2}", r"\frac{1}{4}"]
            parts = VGroup(*[MathTex(t) for t in terms], MathTex(*terms))
            words = VGroup(*[Text(f"{i + 1}. {w}", font_size=20) for i, w in enumerate(["a", "b"])])
            group = VGroup(axes, graph, label, numbers, ticks, parts, words).move_to(box.center)
            box.fit(group)
            return group, [Create(axes), Create(graph), Write(label, rate_func=rate_functions.ease_in_sine)]
    ''',
    "trackers, randomness and maths": '''
        import math
        import numpy as np
        from manim import *
        from numpy.linalg import norm

        def build(box):
            """A dot wandering around a circle of chords."""
            rng = np.random.default_rng(3)
            steps = rng.normal(0, 0.2, size=(20, 2))
            pts = np.hstack([np.cumsum(steps, axis=0), np.zeros((20, 1))])
            path = VMobject(color=ORANGE).set_points_as_corners(pts)
            r = min(box.width, box.height) * 0.35
            corners = [box.center + r * np.array([math.cos(TAU * k / 8), math.sin(TAU * k / 8), 0])
                       for k in range(8)]
            chords = VGroup()
            for i in range(8):
                for j in range(i + 1, 8):
                    if norm(corners[i] - corners[j]) > r:
                        chords.add(Line(corners[i], corners[j], stroke_width=1))
            t = ValueTracker(0)
            dot = always_redraw(lambda: Dot(path.point_from_proportion(t.get_value())))
            label = Text(str(len(chords)) + " chords", font_size=20)
            group = VGroup(path, chords, dot, label)
            box.fit(group)
            return group, [Create(path), t.animate.set_value(1), Indicate(label), Wiggle(dot)]
    ''',
    "labels from containers": r'''
        from manim import *

        def build(box):
            places = {"A": UP, "B": DOWN}
            dots = VGroup()
            for name, where in places.items():
                dots.add(VGroup(Dot(where), MathTex(name).next_to(where, RIGHT)))
            for label, height in zip(["a", "b"], [1, 2]):
                dots.add(MathTex(label, "=", str(height)).shift(LEFT * height))
            square = Square()
            brace = BraceLabel(square, r"\ell", brace_direction=DOWN)
            axes = Axes(x_length=3, y_length=2)
            area = 2.5
            group = VGroup(dots, square, brace, axes, axes.get_axis_labels(x_label="x", y_label="f(x)"),
                           Tex("Area: ", f"{area:.2f}"), *[Tex(f"Step {i}") for i in range(3)])
            box.fit(group)
            return group, [FadeIn(dots), GrowFromCenter(brace)]
    ''',
}


def shipped_snippets() -> dict[str, str]:
    """Every snippet the repository ships or tests as good: the Coder tests' answers, the
    lowering and auto-fix tests' lock entries, lock files under tests/ and examples/."""
    import test_autofix
    import test_coder
    import test_custom_lowering

    found = {"test_coder.GOOD": extract_code(test_coder.GOOD),
             "test_custom_lowering.CODE": test_custom_lowering.CODE,
             **{f"test_autofix.{n}": extract_code(getattr(test_autofix, n))
                for n in ("PROOF_V1", "OTHER", "PROOF_FIXED")}}
    for lock in sorted((*ROOT.glob("tests/**/*.lecture.lock"), *ROOT.glob("examples/**/*.lecture.lock"))):
        for key, entry in json.loads(lock.read_text(encoding="utf-8")).get("entries", {}).items():
            found[f"{lock.name}:{key[:8]}"] = entry["code"]
    found.update({name: textwrap.dedent(code) for name, code in SHIPPED.items()})
    return found


def test_the_snippets_the_repository_ships_and_tests_are_accepted():
    snippets = shipped_snippets()
    assert len(snippets) >= 8 and all("def build(box):" in code for code in snippets.values())
    refused = {name: messages(code) for name, code in snippets.items() if check_code(code)}
    assert refused == {}


def test_accepted_snippets_are_real_code(tmp_path):
    """The accepted examples without TeX build real mobjects (the check is not judging
    nonsense): run in this process, with Manim's media in a temporary folder."""
    from manim import Mobject, tempconfig

    with tempconfig({"media_dir": str(tmp_path), "verbosity": "CRITICAL"}):
        plain = (SHIPPED["trackers, randomness and maths"], shipped_snippets()["test_custom_lowering.CODE"])
        for snippet in plain:
            namespace: dict = {}
            exec(compile(textwrap.dedent(snippet), "<custom>", "exec"), namespace)  # noqa: S102 - our own snippets
            mob, animations = namespace["build"](CustomBox(-3, -2, 3, 2))
            assert isinstance(mob, Mobject) and animations


def test_the_coder_prompt_names_only_allowed_api():
    """What the sheet and the system prompt show the model is what the check allows."""
    sheet = manim_sheet()
    usable = sheet.split("Not available:")[0]
    classes = set(re.findall(r"\b([A-Z][A-Za-z]*[a-z][A-Za-z]*)\(", usable))
    assert classes and classes <= ALLOW.manim_names, classes - ALLOW.manim_names
    constants = set(re.findall(r"\b([A-Z][A-Z_]+)\b", usable)) - {"API", "SHEET", "ID", "MANIM"}
    assert {"UP", "TAU", "DEGREES"} <= constants <= ALLOW.manim_names, constants - ALLOW.manim_names
    methods = set(re.findall(r"(?<!np)(?<!math)\.([a-z_]+)\b", usable))
    methods -= {"lecture", "txt", "play", "add", "wait"}  # prose, or `self.` in the warning
    assert methods <= ALLOW.value_attributes, methods - ALLOW.value_attributes
    for module, path in (("np", "numpy"), ("math", "math")):
        used = set(re.findall(rf"\b{module}\.(\w+)", sheet + system_prompt()))
        assert used and used <= ALLOW.modules[path] | {"linalg", "random"}, used - ALLOW.modules[path]
    unavailable = sheet.split("Not available:")[1]
    for refused in re.findall(r"\b(SVGMobject|ImageMobject|Code|Typst|config)\b", unavailable):
        assert refused not in ALLOW.manim_names
    prompt = system_prompt()
    shown = re.search(r"a few builtins \(([^)]*)\)", prompt.replace("\n  ", " "))
    assert shown and {w.strip(" .") for w in shown.group(1).split(",")} - {""} <= BUILTINS
    assert not {"print", "open", "type", "getattr"} & BUILTINS


# ---------------------------------------------------------------- the allowlist itself

def test_the_allowlist_file_is_what_the_installed_libraries_give():
    """Regenerate it: a Manim or numpy upgrade must come with a regenerated file
    (`python -m lecture.runtime.snippet_check --generate`)."""
    assert ALLOWLIST_FILE.read_text(encoding="utf-8") == to_text(generate())


def test_the_allowlist_keeps_the_doors_shut():
    refused = {"config", "SVGMobject", "ImageMobject", "ImageMobjectFromCamera", "Code", "Typst", "MathTypst",
               "TexTemplate", "tempconfig", "logger", "open_file", "register_font", "Scene", "Camera",
               "utils", "capture", "SceneFileWriter", "get_full_raster_image_path"}
    assert not refused & ALLOW.manim_names and refused <= ALLOW.manim_refused
    assert {"Tex", "MathTex", "Text", "MarkupText", "Circle", "VGroup", "Create", "ValueTracker", "smooth",
            "rotate_vector", "interpolate", "always_redraw", "UP", "PI", "RED", "BOLD"} <= ALLOW.manim_names
    assert ALLOW.tex_classes["Tex"] == "" and ALLOW.tex_classes["MathTex"] == " "
    for door in ("lib", "testing", "load", "save", "ctypeslib", "f2py", "fromfile", "memmap", "DataSource"):
        assert door not in ALLOW.modules["numpy"], door
    for door in ("save_image", "get_image", "show", "tofile", "dump", "ctypes", "file_name", "get_file_path",
                 "tex_template", "background_image", "label_constructor", "set_default", "mro", "format",
                 "bit_generator"):
        assert door not in ALLOW.value_attributes, door
    assert {"shift", "move_to", "animate", "submobjects", "points", "width", "fit", "reshape",
            "uniform"} <= ALLOW.value_attributes


def test_the_check_does_not_import_manim():
    """Checking is fast: the allowlist is read from its file, Manim is not imported."""
    code = ("import sys\nfrom lecture.runtime.snippet_check import check_code\n"
            "assert check_code('from manim import *\\ndef build(box):\\n    return Circle(), []\\n') == []\n"
            "print('manim' in sys.modules)\n")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60)
    assert out.stdout.strip() == "False"


# ---------------------------------------------------------------- properties

def _numpy_functions() -> list[str]:
    return sorted(n for n in ALLOW.modules["numpy"] if f"numpy.{n}" not in ALLOW.modules)


# Constructors taking anything (TeX classes take the `tex` expressions below).
_CALLABLE_MANIM = sorted(n for n in ALLOW.manim_names if n[0].isupper() and not n.isupper()
                         and n not in ALLOW.tex_classes and n not in LABEL_CLASSES) + [
    "always_redraw", "rotate_vector", "interpolate", "smooth", "there_and_back"]
_METHODS = sorted(ALLOW.value_attributes - STRING_BUILDERS - CONTAINER_FILLERS - set(JOIN_METHODS))
SAFE_TEX = [r"x^2", r"\frac{a}{b}", r"\alpha + \beta_1", r"\sqrt{2}", "E = mc^2", r"\sum_{k=1}^{n} k", "y"]
numbers = st.one_of(st.integers(-5, 9).map(str), st.floats(-3, 3).map(lambda f: f"{f:.2f}"),
                    st.sampled_from(["PI", "TAU / 4", "box.width * 0.5", "math.pi", "np.sqrt(2)",
                                     "len(parts)"]))
fractions = st.floats(0, 1).map(lambda f: f"{f:.2f}")
points = st.one_of(st.sampled_from(["box.center", "UP", "LEFT * 2", "ORIGIN"]),
                   st.tuples(numbers, numbers).map(lambda p: f"np.array([{p[0]}, {p[1]}, 0])"),
                   st.tuples(fractions, fractions).map(lambda p: f"box.point({p[0]}, {p[1]})"))


@st.composite
def expressions(draw, names: list[str]) -> str:
    """An expression of the allowed API over the mobject variables `names`."""
    kind = draw(st.sampled_from(["construct", "method", "numpy", "arith", "tex", "var"] if names
                                else ["construct", "numpy", "arith", "tex"]))
    if kind == "construct":
        args = draw(st.lists(st.one_of(numbers, points, st.sampled_from(names or ["UP"])), max_size=3))
        kwargs = draw(st.lists(st.tuples(st.sampled_from(["color", "buff", "font_size", "stroke_width"]),
                                         st.one_of(numbers, st.sampled_from(["RED", '"#58c4dd"']))),
                               max_size=2, unique_by=lambda kv: kv[0]))
        written = ", ".join([*args, *(f"{k}={v}" for k, v in kwargs)])
        return f"{draw(st.sampled_from(_CALLABLE_MANIM))}({written})"
    if kind == "method":
        receiver, method = draw(st.sampled_from(names)), draw(st.sampled_from(_METHODS))
        return f"{receiver}.{method}({draw(st.one_of(numbers, points))})"
    if kind == "numpy":
        return f"np.{draw(st.sampled_from(_numpy_functions()))}({draw(numbers)}, {draw(points)})"
    if kind == "arith":
        return f"({draw(numbers)} {draw(st.sampled_from(['+', '-', '*', '/', '**']))} {draw(numbers)})"
    if kind == "tex":
        pieces = draw(st.lists(st.sampled_from(SAFE_TEX), min_size=1, max_size=3))
        return f"{draw(st.sampled_from(sorted(ALLOW.tex_classes)))}({', '.join(repr(p) for p in pieces)})"
    return draw(st.sampled_from(names))


@st.composite
def snippets(draw) -> list[str]:
    """The lines of a `build(box)` body composed from the allowed API (statements, a loop,
    a helper, a comprehension), ending in its return."""
    lines = ["parts = []"]
    names: list[str] = []
    for i in range(draw(st.integers(1, 6))):
        form = draw(st.sampled_from(["assign", "loop", "helper", "comprehension", "expr", "tex names"]))
        if form == "tex names":
            tex = draw(st.lists(st.sampled_from(SAFE_TEX), min_size=1, max_size=3))
            lines += [f"tex{i} = {tex!r}", f"for t{i} in tex{i}:", f"    parts.append(MathTex(t{i}))",
                      f"v{i} = {draw(st.sampled_from(sorted(ALLOW.tex_classes)))}(*tex{i})"]
            names.append(f"v{i}")
        elif form == "loop":
            lines += [f"for k{i} in range({draw(st.integers(1, 4))}):",
                      f"    parts.append(Dot(box.point(k{i} / 5, 0.5)).shift(UP * k{i}))"]
        elif form == "helper":
            colour = draw(st.sampled_from(["RED", "BLUE"]))
            lines += [f"def helper{i}(m, s):", f"    return m.scale(s).set_color({colour})",
                      f"v{i} = helper{i}({draw(expressions(names))}, {draw(numbers)})"]
            names.append(f"v{i}")
        elif form == "comprehension":
            item, count = draw(expressions(names)), draw(st.integers(1, 3))
            lines.append(f"v{i} = VGroup(*[{item} for _ in range({count})])")
            names.append(f"v{i}")
        elif form == "expr":
            lines.append(draw(expressions(names)))
        else:
            lines.append(f"v{i} = {draw(expressions(names))}")
            names.append(f"v{i}")
    group = ", ".join(names) or "Circle()"
    lines.append(f"group = VGroup({group}, *parts)")
    lines.append("return group, [Create(group), group.animate.shift(RIGHT * 0.1)]")
    return lines


def assemble(body: list[str]) -> str:
    return "import math\nimport numpy as np\nfrom manim import *\n\ndef build(box):\n" + \
        "".join(f"    {line}\n" for line in body)


@PROPERTY
@given(snippets())
def test_snippets_from_the_allowed_api_are_accepted(body):
    code = assemble(body)
    assert check_code(code) == [], code + "\n" + messages(code)


_LOCALS = {"parts", "group", "box", "m", "s", "math", "np"}
_BAD_NAMES = sorted({n for n in (*dir(os), *dir(builtins), *ALLOW.manim_refused)
                     if n.isidentifier() and n not in BUILTINS | EXCEPTIONS | ALLOW.manim_names | _LOCALS
                     and n not in ("True", "False", "None")
                     and not re.fullmatch(r"(v|k|t|tex|helper)\d+", n)})
_BAD_ATTRIBUTES = sorted({n for n in (*dir(os), *dir(sys), *dir(builtins), *dir(type), *dir(lambda: 0),
                                      "gi_frame", "f_globals", "tb_frame", "mro", "load", "renderer",
                                      "file_writer")
                          if n.isidentifier() and n not in ALLOW.value_attributes})
_BAD_NUMPY = sorted({n for n in dir(np) if n.isidentifier()} - ALLOW.modules["numpy"])
_BAD_MATH = ["sys", "os", "__loader__", "__spec__"]
bad_references = st.one_of(
    st.sampled_from(_BAD_NAMES),
    st.tuples(st.sampled_from(["box", "group", "parts", "Circle()", "UP", "np.zeros(3)"]),
              st.sampled_from(_BAD_ATTRIBUTES)).map(lambda p: f"{p[0]}.{p[1]}"),
    st.sampled_from(_BAD_NUMPY).map(lambda n: f"np.{n}"),
    st.sampled_from(_BAD_MATH).map(lambda n: f"math.{n}"),
)


@PROPERTY
@given(snippets(), bad_references, st.data())
def test_one_reference_outside_the_allowlist_anywhere_is_refused(body, bad, data):
    at = data.draw(st.integers(1, len(body) - 1), label="line")  # after `parts = []`, before the return
    indent = re.match(r"\s*", body[at]).group()  # inside a loop or helper when body[at] is
    form = data.draw(st.sampled_from(["statement", "argument", "lambda", "helper"]), label="form")
    probe = {"statement": [f"probe = {bad}"],
             "argument": [f"parts.append(VGroup({bad}))"],
             "lambda": [f"probe = lambda t: {bad}"],
             "helper": ["def probe(t):", f"    return t + {bad}"]}[form]
    code = assemble([*body[:at], *(indent + line for line in probe), *body[at:]])
    problems = check_code(code)
    assert problems, code
    line_of_probe = code.split("\n").index(f"    {indent}{probe[-1]}") + 1
    assert any(p.line == line_of_probe for p in problems), (code, messages(code))


def test_a_long_snippet_checks_quickly():
    """A long but ordinary snippet checks in well under the time a render takes."""
    body = [f"v{i} = Circle(radius={i % 5 + 1}).shift(UP * {i}).set_color(RED)" for i in range(300)]
    code = assemble([*body, "return VGroup(" + ", ".join(f"v{i}" for i in range(300)) + "), []"])
    start = time.perf_counter()
    assert check_code(code) == []
    assert time.perf_counter() - start < 2.0
