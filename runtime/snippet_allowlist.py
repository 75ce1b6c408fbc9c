"""What custom-element code may name: the allowlist behind `snippet_check`, read from
`snippet_allowlist.json` beside this file.

The list is derived from the installed Manim and numpy by `generate()` (run it with
`python -m lecture.runtime.snippet_check --generate`), never typed by hand, so that it
follows the library; a test regenerates it and compares, so it cannot go stale silently.
Checking a snippet must not import Manim (a second or two), hence the data file.

What goes in, and why:
- Manim names (what `from manim import *` brings): every Mobject and Animation class,
  except those that read files or run programs (SVGMobject and its subclasses, bar the
  TeX ones, whose TeX is confined separately, and Pango's Text and MarkupText; the image
  mobjects; Code; Typst); the constants (numbers, points, colours, font weights); the
  pure helpers of a few modules (rate functions, space_ops, bezier, colour maths, paths,
  updaters, iterables); ManimColor. Never the config, the logger, scenes, cameras,
  renderers, file helpers, TexTemplate or the re-exported submodules (except `np` and
  `rate_functions`, checked as modules).
- Module members: numpy's maths (its ufuncs, array construction and reduction, a few
  linalg and random functions), `math`'s public names, Manim's rate functions. Never
  `np.lib`, `np.testing`, `np.load` and the like.
- Value attributes (`x.attr` on anything that is not a module): the public names of the
  allowed Manim classes (class attributes and those an instance sets), of ndarray,
  ManimColor, numpy's random Generator and the custom box, and a few list, dict and str
  methods, less the doors to files, renderers and global state.
"""

from __future__ import annotations

import functools
import inspect
import json
import math
import platform
import types
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .custom_box import CustomBox

ALLOWLIST_FILE = Path(__file__).with_name("snippet_allowlist.json")

# Modules whose plain functions are pure helpers on numbers, points and colours.
HELPER_MODULES = (
    "manim.utils.rate_functions", "manim.utils.space_ops", "manim.utils.bezier",
    "manim.utils.color.core", "manim.utils.simple_functions", "manim.utils.paths",
    "manim.utils.iterables", "manim.animation.updaters.mobject_update_utils",
)
RATE_FUNCTIONS = "manim.utils.rate_functions"
# Re-exported submodules usable as `np.sqrt` / `rate_functions.smooth`.
STAR_MODULES = {"np": "numpy", "rate_functions": RATE_FUNCTIONS}
# SVGMobject subclasses that typeset strings instead of reading a file: TeX (checked by
# snippet_check, confined at run time) and Pango.
PANGO_CLASSES = ("Text", "MarkupText", "Paragraph")

# numpy's maths beyond its ufuncs (which are all allowed): construction, shape,
# reduction, sorting, interpolation. Nothing that reads, writes, prints or configures.
NUMPY_FUNCTIONS = """
all allclose amax amin any append arange argmax argmin argsort around array array_equal
array_split asarray atleast_1d atleast_2d atleast_3d average clip column_stack concatenate
convolve copy count_nonzero cross cumprod cumsum deg2rad delete diag diagonal diff digitize
dot dstack einsum empty empty_like expand_dims eye flatnonzero flip fliplr flipud full
full_like geomspace gradient histogram hstack hypot identity inner insert interp isclose
linspace logspace max mean median meshgrid min moveaxis nan_to_num ndim nonzero ones
ones_like outer percentile piecewise polyfit polyval prod ptp quantile rad2deg ravel repeat
reshape resize roll roots rot90 round searchsorted select shape sign size sort split squeeze
stack std sum swapaxes take tile trace transpose trapezoid tril triu unique unwrap var vdot
vectorize vstack where zeros zeros_like
e euler_gamma inf nan newaxis pi
ndarray float64 float32 int64 int32 complex128 bool_ uint8
""".split()
NUMPY_SUBMODULES = {
    "linalg": """cholesky cond det eig eigh eigvals eigvalsh inv lstsq matrix_power matrix_rank
                 norm pinv qr slogdet solve svd""".split(),
    "random": """choice default_rng normal permutation rand randint randn random random_sample
                 seed shuffle uniform""".split(),
}
# Python container and string methods a snippet may call (`.format` is checked apart).
PYTHON_METHODS = """append extend insert pop remove reverse sort index count copy clear items
keys values get update setdefault add discard union intersection difference join split strip
startswith endswith is_integer real imag conjugate""".split()
# Names that would open a door whatever object carries them: files, images, SVG sources,
# the renderer and camera, TeX templates, global defaults, the interpreter.
DENIED_ATTRIBUTES = frozenset("""save_image get_image show set_default add_animation_override
font_list get_file_path file_name init_svg_mobject generate_mobject modify_xml_tree
get_mobjects_from tex_template background_image color_using_background_image
match_background_image get_background_image ctypes data dump dumps tofile tobytes tostring
setfield getfield setflags view base flags strides bit_generator spawn mro format format_map
fget fset fdel""".split())
DENIED_SUBSTRINGS = ("image", "file", "svg", "config", "camera", "render", "scene", "template",
                     "writer", "cache", "shader", "opengl", "frame", "code", "glob")
# Keyword arguments (and dict keys of config dictionaries) that name a file to read.
DENIED_KEYWORDS = frozenset("""background_image file_name filename code_file font_paths
typst_preamble tex_template use_svg_cache""".split())


@dataclass(frozen=True)
class Allowlist:
    """The derived lists (see the module's docstring)."""

    versions: dict[str, str]
    manim_names: frozenset[str]  # allowed names of `from manim import *`
    manim_refused: frozenset[str]  # the other public names (for precise messages)
    star_modules: dict[str, str]  # `np` -> "numpy", ...
    modules: dict[str, frozenset[str]]  # module path -> allowed member names
    value_attributes: frozenset[str]
    tex_classes: dict[str, str]  # TeX classes joining their arguments -> separator
    pango_classes: frozenset[str]
    denied_keywords: frozenset[str]


@functools.cache
def load_allowlist() -> Allowlist:
    """The shipped allowlist (read once per process)."""
    return from_data(json.loads(ALLOWLIST_FILE.read_text(encoding="utf-8")))


def from_data(data: dict[str, Any]) -> Allowlist:
    return Allowlist(
        versions=dict(data["versions"]),
        manim_names=frozenset(data["manim_names"]),
        manim_refused=frozenset(data["manim_refused"]),
        star_modules=dict(data["star_modules"]),
        modules={k: frozenset(v) for k, v in data["modules"].items()},
        value_attributes=frozenset(data["value_attributes"]),
        tex_classes=dict(data["tex_classes"]),
        pango_classes=frozenset(data["pango_classes"]),
        denied_keywords=frozenset(data["denied_keywords"]),
    )


def to_text(data: dict[str, Any]) -> str:
    """The data file's text: sorted, one name a line, so that a regeneration diffs well."""
    return json.dumps(data, indent=1, sort_keys=True, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------- generating

def generate() -> dict[str, Any]:
    """Derive the allowlist from the installed Manim and numpy (imports them: slow)."""
    import manim
    import numpy as np

    classes = _allowed_classes(manim)
    names = set(classes) | _constants(manim, np) | _helpers(manim) | {"ManimColor"}
    public = {n for n in dir(manim) if not n.startswith("_")}
    modules: dict[str, list[str]] = {
        "numpy": sorted({n for n in dir(np) if isinstance(getattr(np, n), np.ufunc)}
                        | {n for n in NUMPY_FUNCTIONS if hasattr(np, n)} | set(NUMPY_SUBMODULES)),
        "math": sorted(n for n in dir(math) if not n.startswith("_")),
        RATE_FUNCTIONS: sorted(_functions_of(manim.rate_functions, RATE_FUNCTIONS)),
    }
    for sub, members in NUMPY_SUBMODULES.items():
        modules[f"numpy.{sub}"] = sorted(n for n in members if hasattr(getattr(np, sub), n))
    tex_base = manim.SingleStringMathTex
    tex_classes = {n: _separator(c) for n, c in classes.items() if issubclass(c, tex_base)}
    return {
        "versions": {"manim": manim.__version__, "numpy": np.__version__,
                     "python": ".".join(platform.python_version_tuple()[:2])},
        "manim_names": sorted(names),
        "manim_refused": sorted(public - names - set(STAR_MODULES)),
        "star_modules": STAR_MODULES,
        "modules": modules,
        "value_attributes": sorted(_value_attributes(manim, np, classes.values())),
        "tex_classes": tex_classes,
        "pango_classes": sorted(n for n in PANGO_CLASSES if n in classes),
        "denied_keywords": sorted(DENIED_KEYWORDS),
    }


def _allowed_classes(manim: types.ModuleType) -> dict[str, type]:
    base = (manim.Mobject, manim.Animation)
    refused = (manim.SVGMobject, manim.ImageMobject.__mro__[1], manim.Code)  # AbstractImageMobject
    typesetters = (manim.SingleStringMathTex, *(getattr(manim, n) for n in PANGO_CLASSES))
    out = {}
    for name in dir(manim):
        value = getattr(manim, name)
        if name.startswith("_") or not inspect.isclass(value) or not issubclass(value, base):
            continue
        if issubclass(value, refused) and not issubclass(value, typesetters):
            continue
        out[name] = value
    return out


def _constants(manim: types.ModuleType, np: types.ModuleType) -> set[str]:
    out = set()
    for name in dir(manim):
        value = getattr(manim, name)
        if name.startswith("_") or isinstance(value, bool):
            continue
        if isinstance(value, (int, float, np.ndarray, manim.ManimColor)) \
                or (isinstance(value, str) and value == name):  # font weights and slants: BOLD
            out.add(name)
    return out


def _helpers(manim: types.ModuleType) -> set[str]:
    return {n for n in dir(manim) if not n.startswith("_") and inspect.isfunction(getattr(manim, n))
            and getattr(manim, n).__module__ in HELPER_MODULES}


def _functions_of(module: types.ModuleType, home: str) -> set[str]:
    return {n for n in dir(module) if not n.startswith("_") and inspect.isfunction(getattr(module, n))
            and getattr(module, n).__module__ == home}


def _separator(cls: type) -> str:
    """What a TeX class puts between its string arguments ("" when it takes only one)."""
    for klass in cls.__mro__:
        param = inspect.signature(klass.__init__).parameters.get("arg_separator")  # type: ignore[misc]
        if param is not None:
            return str(param.default)
    return ""


def _value_attributes(manim: types.ModuleType, np: types.ModuleType, classes: Iterable[type]) -> set[str]:
    names: set[str] = set(PYTHON_METHODS)
    for cls in (*classes, np.ndarray, manim.ManimColor, np.random.Generator, CustomBox):
        names.update(n for n in dir(cls) if not isinstance(_static(cls, n), types.ModuleType))
    for sample in _samples(manim):
        names.update(vars(sample))
    # What TeX and Text inherit from SVGMobject is about reading an SVG source: not theirs.
    svg_only = set(dir(manim.SVGMobject)) - set(dir(manim.VMobject))
    return {n for n in names - svg_only - _class_valued(classes, np) if _public(n)}


def _class_valued(classes: Iterable[type], np: types.ModuleType) -> set[str]:
    """Attributes holding a class (`label_constructor`, `mob_class`, ...): a class reached
    through an attribute could be a TeX class called out of the checker's sight."""
    out = set()
    for cls in classes:
        for klass in cls.__mro__:
            init = vars(klass).get("__init__")
            if init is None:
                continue
            try:
                params = inspect.signature(init).parameters.values()
            except (TypeError, ValueError):
                continue
            out |= {p.name for p in params if "type[" in str(p.annotation)}
        out |= {n for n in dir(cls) if not n.startswith("_") and inspect.isclass(_static(cls, n))}
    return out - set(dir(np.ndarray))  # `shape` (a Rectangle or Circle class for labels) is numbers there


def _static(cls: type, name: str) -> Any:
    try:
        return inspect.getattr_static(cls, name)
    except AttributeError:
        return None


def _public(name: str) -> bool:
    return not name.startswith("_") and name not in DENIED_ATTRIBUTES \
        and not any(s in name.lower() for s in DENIED_SUBSTRINGS)


def _samples(manim: types.ModuleType) -> list[Any]:
    """A few instances, for the attributes their __init__ sets (none needs TeX or Pango)."""
    m = manim
    shapes = [m.Mobject(), m.VMobject(), m.VGroup(m.Circle()), m.Group(m.Dot()), m.Circle(), m.Square(),
              m.Rectangle(), m.Line(), m.Arrow(), m.Dot(), m.Arc(), m.Polygon(m.ORIGIN, m.RIGHT, m.UP),
              m.NumberLine(), m.Axes(), m.NumberPlane(), m.ValueTracker(0), m.Brace(m.Square())]
    animations = [m.Create(m.Circle()), m.FadeIn(m.Circle()), m.Transform(m.Circle(), m.Square()),
                  m.Rotate(m.Square()), m.AnimationGroup(m.Create(m.Circle())),
                  m.Succession(m.FadeOut(m.Dot())), m.MoveAlongPath(m.Dot(), m.Circle())]
    return shapes + animations
