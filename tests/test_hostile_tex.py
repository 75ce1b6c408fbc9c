"""Hostile TeX in a cloned lesson: formulas that read files, write files, loop or are huge.

Two layers are tested, each on its own: the compile-time allowlist (compiler/tex_safety.py),
through the real `lecture check` / `render` CLI — a clear error at the formula's line,
exit 2, in seconds, no TeX run at all; and the runtime runner (runtime/tex.py) fed the
hostile TeX directly, bypassing the allowlist — real latex and dvisvgm, confined: no file
read or written outside its private folder, a loop killed at the timeout, and a shared SVG
cache that uses only entries whose bytes match their name and never follows a link.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from lecture.compiler.tex_safety import ALLOWED_COMMANDS, tex_problems
from lecture.runtime import tex
from lecture.runtime.tex import SvgStore, TexError, TexLimits, TexTimeout, svg_digest, tex_to_svg

CANARY = "CANARY-7f3a-do-not-leak"
DOC = ("\\documentclass[preview]{standalone}\n\\usepackage{amsmath}\n\\begin{document}\n"
       "%s\n\\end{document}\n")


@pytest.fixture
def canary(tmp_path) -> Path:
    path = tmp_path / "secret" / "canary.txt"
    path.parent.mkdir()
    path.write_text(CANARY + "\n", encoding="utf-8")
    return path


def _env(cache: Path) -> dict[str, str]:
    return {**os.environ, "LECTURE_CACHE_DIR": str(cache), "PYTHONUNBUFFERED": "1"}


def _lesson(formula: str) -> str:
    return (f'lesson "Hostile"\n\nsection a "A"\n  line l1 "A formula."\n'
            f"  math eq ${formula}$ at C3\n  step 1s: write eq\n")


# ---------------------------------------------------------------- the allowlist, through the CLI


def _cases(canary: Path, cache: Path) -> dict[str, tuple[str, str, int]]:
    """name -> (formula, expected message part, column of the first problem)."""
    planted = cache / "measure" / "Tex" / ("0" * 32 + "-" + "0" * 16 + ".svg")
    return {
        "input": (f"x = \\text{{\\input{{{canary}}}}}", "`\\input` is not allowed in a formula: "
                  "it reads or writes files", 12 + len("x = \\text{")),
        "openout": (f"\\immediate\\openout5={planted}\\immediate\\write5{{<svg/>}} a^2",
                    "`\\immediate` is not allowed in a formula: it reads or writes files", 12),
        "loop": ("\\def\\x{\\x}\\x", "`\\def` is not allowed in a formula: it redefines or programs TeX", 12),
        "huge": ("x+" * 50_000, "this formula is 100,000 characters long; formulas may have at most "
                 "2,000", 12),
    }


@pytest.mark.parametrize("case", ["input", "openout", "loop", "huge"])
def test_check_refuses_hostile_formulas_at_their_line(tmp_path, canary, case):
    cache = tmp_path / "cache"
    formula, message, column = _cases(canary, cache)[case]
    lesson = tmp_path / "repo" / "hostile.lecture"
    lesson.parent.mkdir()
    lesson.write_text(_lesson(formula), encoding="utf-8")
    for flags in ([], ["--no-layout"]):
        started = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "lecture", "check", *flags, lesson.name],
                             cwd=lesson.parent, env=_env(cache), capture_output=True, text=True,
                             timeout=60)
        seconds = time.monotonic() - started
        out = run.stdout + run.stderr
        assert run.returncode == 2, out
        assert f"hostile.lecture:5:{column}: error: {message}" in out
        assert "hint:" in out and "Traceback" not in out
        assert CANARY not in out
        assert seconds < 15, f"check took {seconds:.1f} s"
    # No TeX ran: nothing was typeset, nothing planted in the shared cache.
    assert not list(cache.glob("measure/Tex/*"))
    assert canary.read_text(encoding="utf-8") == CANARY + "\n"
    assert sorted(p.name for p in lesson.parent.iterdir()) == ["hostile.lecture"]


def test_render_refuses_before_any_tex_runs(tmp_path, canary):
    cache = tmp_path / "cache"
    lesson = tmp_path / "repo" / "hostile.lecture"
    lesson.parent.mkdir()
    lesson.write_text(_lesson(f"\\input{{{canary}}}"), encoding="utf-8")
    run = subprocess.run([sys.executable, "-m", "lecture", "render", lesson.name, "-q", "low",
                          "--voice", "none"], cwd=lesson.parent, env=_env(cache),
                         capture_output=True, text=True, timeout=120)
    out = run.stdout + run.stderr
    assert run.returncode == 2, out
    assert "hostile.lecture:5:12: error: `\\input` is not allowed in a formula" in out
    assert CANARY not in out
    assert not list(cache.glob("measure/Tex/*"))
    assert not list(lesson.parent.glob("build/**/*.mp4"))


def test_allowlist_accepts_what_teachers_write_and_names_the_closest_command():
    for formula in [r"f'(x) = \lim_{h \to 0} \dfrac{f(x+h) - f(x)}{h}",
                    r"\bar{X}_n \approx \mathcal{N}\!\left(\mu,\ \tfrac{\sigma^2}{n}\right)",
                    r"A = \begin{pmatrix} 1 & 2 \\ 3 & 4 \end{pmatrix},\quad "
                    r"|x| = \begin{cases} x & x \ge 0 \\ -x & x < 0 \end{cases}",
                    r"\sum_{k=1}^{n} k = \binom{n+1}{2} \qquad \int_0^\infty e^{-x}\,dx = 1",
                    r"\underbrace{a + b}_{\text{sum}} \ne \overline{z} \cdot \vec v \times \hat n",
                    r"\color{red} x \textcolor{blue}{y} \; \nabla \cdot \partial \le \infty"]:
        assert tex_problems(formula) == [], formula
    [typo] = tex_problems(r"\fracc{1}{2}")
    assert (typo.offset, typo.length, typo.hint) == (0, 6, "did you mean `\\frac`?")
    [env] = tex_problems(r"\begin{align*} x \end{align*}")[:1]
    assert "align*" in env.message and env.hint == "did you mean `aligned`?"
    assert {"\\frac", "\\sqrt", "\\alpha", "\\color", "\\textcolor", "\\\\", "\\,"} <= ALLOWED_COMMANDS


@pytest.mark.parametrize("formula, part", [
    (r"\csname input\endcsname{x}", "redefines or programs TeX"),
    (r"\catcode`\|=0 |input x", "redefines or programs TeX"),
    (r"\expandafter\x", "redefines or programs TeX"),
    (r"\openin1=x \read1 to\y", "reads or writes files"),
    (r"\usepackage{x}", "reads or writes files"),
    (r"\directlua{os.exit()}", "reads or writes files"),
    (r"x^^5cinput{x}", "^^"),
    ("{" * 40 + "x" + "}" * 40, "nests more than"),
    (r"\begin{document}", "environment `document`"),
])
def test_allowlist_refuses_each_dangerous_family(formula, part):
    problems = tex_problems(formula)
    assert problems and any(part in p.message for p in problems), problems


# ---------------------------------------------------------------- the runner itself, bypassing the allowlist


def _tex(body: str, tmp_path: Path, timeout: float = 10.0) -> bytes:
    return tex_to_svg(DOC % body, limits=TexLimits(timeout_s=timeout), log_dir=tmp_path / "logs")


def test_runner_cannot_read_a_file_outside_its_folder(tmp_path, canary):
    relative = "../" + os.path.relpath(canary, tempfile.gettempdir())
    for name in (str(canary), relative):
        with pytest.raises(TexError) as info:
            _tex(f"\\input{{{name}}}", tmp_path)
        log = info.value.log_file
        assert log is not None and log.is_file() and log.is_relative_to(tmp_path / "logs")
        text = log.read_text(encoding="utf-8", errors="replace")
        assert "not found" in text and CANARY not in text
    # \openin + \read, typesetting what was read: the file is never opened.
    svg = _tex(f"\\newread\\r\\openin\\r={canary} \\ifeof\\r closed\\else\\read\\r to\\got got\\fi $x$",
               tmp_path)
    assert svg_digest(svg) == svg_digest(_tex("closed$x$", tmp_path))  # not "got$x$"


def test_runner_cannot_write_outside_its_folder(tmp_path):
    target = tmp_path / "written.txt"
    for name in (str(target), "../lecture-escape-" + hashlib.sha256(str(tmp_path).encode()).hexdigest()[:8]):
        with pytest.raises(TexError):
            _tex(f"\\newwrite\\w\\immediate\\openout\\w={name}\\immediate\\write\\w{{{CANARY}}}"
                 "\\immediate\\closeout\\w $x$", tmp_path)
    assert not target.exists()
    assert not list(Path(tempfile.gettempdir()).glob("lecture-escape-*"))


def _children() -> list[str]:
    """Our living child processes (latex, sh, dvisvgm…), by name."""
    out = []
    for stat_file in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat_file.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == os.getpid() and fields[0] != "Z":
            out.append(stat_file.parent.name)
    return out


def test_a_macro_loop_is_killed_at_the_timeout(tmp_path):
    before = set(_children())
    started = time.monotonic()
    with pytest.raises(TexTimeout) as info:
        _tex(r"\def\x{\x}\x", tmp_path, timeout=3)
    seconds = time.monotonic() - started
    assert 2.5 < seconds < 8, seconds
    assert str(info.value) == "TeX did not finish within 3 s (a macro loop?)"
    assert set(_children()) <= before  # killed, its whole process group, and reaped


def test_an_innocent_formula_renders(tmp_path):
    svg = _tex(r"$a^2 + b^2 = c^2$", tmp_path)
    assert svg.lstrip().startswith(b"<?xml") and svg.rstrip().endswith(b"</svg>")
    assert svg.count(b"<path") >= 5 and len(svg) > 2000


def test_a_tex_error_still_maps_to_the_lesson_with_what_tex_says(tmp_path):
    from lecture.compiler.sourcemap import SourceMap, SourceMapEntry
    from lecture.compiler.span import Span
    from lecture.runtime import failures, render

    module = tmp_path / "lesson_scenes.py"
    with pytest.raises(TexError) as info:  # as a render worker meets it: at the module's line 7
        exec(compile("\n" * 6 + "svg = tex_to_svg(doc, log_dir=logs)\n", str(module), "exec"),
             {"tex_to_svg": tex_to_svg, "doc": DOC % r"$\mathscr{x}$", "logs": tmp_path / "Tex"})
    failure = render._worker_failure(info.value, str(module))
    smap = SourceMap((SourceMapEntry(7, 7, "section a / element eq", Span("l.lecture", 5, 3, 5, 20), "a"),))
    f = failures.diagnose("a", failure, source_map=smap, module_path=module)
    assert f.diagnostic.code == "render-latex" and f.diagnostic.span.line == 5
    assert "Undefined control sequence" in f.diagnostic.message
    assert "TeX says:" in f.notes and "! Undefined control sequence." in f.tex_errors


# ---------------------------------------------------------------- the shared SVG cache


FORMULA = r"a^2 + b^2 = c^2"
PLANTED = (b"<?xml version='1.0'?>\n<svg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 10 10'>"
           b"<path d='M0 0L10 0L5 9Z'/></svg>\n")


@pytest.fixture
def shared(tmp_path):
    """The confined runner installed in this process with a cache folder of the test's own
    (the previous installation is put back afterwards)."""
    from manim import tempconfig

    before = tex._INSTALLED
    root = tmp_path / "measure"
    tex.install_svg_cache(root)
    try:
        with tempconfig({"media_dir": str(tmp_path / "media")}):
            yield root
    finally:
        tex._INSTALLED = before


def _shape() -> tuple[float, float, int]:
    """The formula as Manim builds it (Manim's in-memory SVG cache emptied first)."""
    from manim import MathTex
    from manim.mobject.svg import svg_mobject

    svg_mobject.SVG_HASH_TO_MOB_MAP.clear()
    mob = MathTex(FORMULA)
    return round(mob.width, 4), round(mob.height, 4), len(mob.family_members_with_points())


def _entries(root: Path) -> list[Path]:
    return sorted((root / "Tex").iterdir())


def test_the_cache_fills_from_our_own_output_named_by_content(shared):
    shape = _shape()
    assert shape[0] > 1 and shape[2] >= 8  # a, 2, +, b, 2, =, c, 2
    [entry] = _entries(shared)
    data = entry.read_bytes()
    assert entry.name.endswith(f"-{svg_digest(data)}.svg") and len(data) > 2000
    assert _shape() == shape  # served from the cache


def test_a_corrupted_entry_is_discarded_and_the_formula_rebuilt(shared):
    shape = _shape()
    [entry] = _entries(shared)
    entry.write_bytes(PLANTED)  # wrong content for its name
    assert _shape() == shape
    [again] = _entries(shared)
    assert again.name == entry.name and svg_digest(again.read_bytes()) == entry.name[-20:-4]


def test_a_planted_entry_with_a_matching_name_behind_a_link_is_not_followed(shared, tmp_path):
    shape = _shape()
    [entry] = _entries(shared)
    key = entry.name.split("-")[0]
    outside = tmp_path / "outside.svg"
    outside.write_bytes(PLANTED)
    entry.unlink()
    link = shared / "Tex" / f"{key}-{svg_digest(PLANTED)}.svg"  # a name PLANTED would verify under
    link.symlink_to(outside)
    assert _shape() == shape
    assert not link.is_symlink() and outside.read_bytes() == PLANTED
    [fresh] = _entries(shared)
    assert not fresh.is_symlink() and fresh.name == entry.name


def test_a_link_at_the_name_we_write_is_replaced_not_written_through(tmp_path):
    store = SvgStore(tmp_path / "measure", "Tex")
    svg = _tex("$x$", tmp_path)
    victim = tmp_path / "victim.txt"
    victim.write_text("mine", encoding="utf-8")
    (tmp_path / "measure" / "Tex").mkdir(parents=True)
    link = tmp_path / "measure" / "Tex" / f"{'ab' * 16}-{svg_digest(svg)}.svg"
    link.symlink_to(victim)
    store.put("ab" * 16, svg)
    assert victim.read_text(encoding="utf-8") == "mine"
    assert not link.is_symlink() and link.read_bytes() == svg
    assert store.get("ab" * 16) == svg


def test_a_linked_cache_folder_is_not_used(tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    (tmp_path / "measure").mkdir()
    (tmp_path / "measure" / "Tex").symlink_to(elsewhere, target_is_directory=True)
    store = SvgStore(tmp_path / "measure", "Tex")
    svg = _tex("$x$", tmp_path)
    store.put("cd" * 16, svg)
    assert store.get("cd" * 16) is None
    assert not list(elsewhere.iterdir())
