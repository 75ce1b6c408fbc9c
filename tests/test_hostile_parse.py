"""A cloned lesson must not hang `lecture check`, crash it, or drive the user's terminal:
the front end is linear in the size of the lesson, nesting has a limit with a clear
diagnostic, and text from the lesson is shown escaped. Everything runs through the real
command, `lecture check --no-layout`, in a subprocess: its CPU time is bounded, and its wall time."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from lecture.compiler import source
from lecture.compiler.expression import MAX_LEVELS, MAX_OPERATIONS

LECTURE = Path(sys.executable).parent / "lecture"
HEADER = 'lesson "Hostile"\n  theme: chalkboard\n\n'
NARRATION = ("Here the two shorter sides meet at a right angle, and the longest side, the hypotenuse, "
             "lies opposite that angle; watch how the squares on the sides compare in area as we go.")


def check(path: Path, limit: float = 60) -> tuple[subprocess.CompletedProcess, float]:
    """`lecture check --no-layout --no-narration PATH` (the front end alone: parsing and the
    lesson checks): the result (bytes) and the CPU time it took. CPU time, not wall time, so
    that a loaded machine does not make the bounds flaky; that process's own (os.wait4), not
    all children's, which would count any earlier test's child reaped meanwhile; `limit` is a
    wall-clock limit (the process is killed past it)."""
    env = {k: v for k, v in os.environ.items() if k != "LECTURE_DEBUG"}
    args = [str(LECTURE), "check", "--no-layout", "--no-narration", str(path)]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    timer = threading.Timer(limit, proc.kill)
    timer.start()
    with ThreadPoolExecutor(2) as readers:
        out, err = readers.submit(proc.stdout.read), readers.submit(proc.stderr.read)
        stdout, stderr = out.result(), err.result()
    _, status, usage = os.wait4(proc.pid, 0)
    timer.cancel()
    proc.returncode = os.waitstatus_to_exitcode(status)  # (reaped here: Popen must not wait again)
    result = subprocess.CompletedProcess(args, proc.returncode, stdout, stderr)
    output = (result.stdout + result.stderr).decode("utf-8")
    assert "Traceback" not in output and "internal error" not in output, output[-2000:]
    return result, usage.ru_utime + usage.ru_stime


def section(n: int) -> str:
    """A section shaped like the examples': lecture lines, elements, narrated steps."""
    return (
        f'section s{n} "Part {n}: the theorem in pictures"\n'
        '  line l1 "A right triangle has one 90 degree angle."\n'
        '  line l2 "Its longest side is called the hypotenuse."\n'
        "  polygon tri (0,0) (3,0) (0,2) in B2..E5 color=blue opacity=0.5\n"
        "  math eq $a^2 + b^2 = c^2$ at F4 color=#ff8800\n"
        '  label lc "c" right of tri\n'
        f"  # narration for part {n}\n"
        f'  step 8s:\n    say l1 "{NARRATION}"\n    create tri, lc\n'
        f'  step 8s: say l2 "{NARRATION}"; indicate tri\n'
        f'  step 8s: say "{NARRATION}"; write eq\n'
        "  wait 1s\n\n"
    )


def lesson_of_size(size: int) -> str:
    parts, total, n = [HEADER], len(HEADER), 0
    while total + len(section(n)) <= size:
        parts.append(section(n))
        total += len(parts[-1])
        n += 1
    return "".join(parts)


# ------------------------------------------------------------------ size

def test_a_two_megabyte_lesson_checks_in_linear_time(tmp_path):
    small, large = tmp_path / "small.lecture", tmp_path / "large.lecture"
    small.write_text(lesson_of_size(128 * 1024), encoding="utf-8")
    large.write_text(lesson_of_size(2_000_000), encoding="utf-8")
    assert 1_990_000 < large.stat().st_size <= source.MAX_LESSON_BYTES

    small_times = []
    for _ in range(3):
        result, seconds = check(small)
        assert result.returncode == 0, result.stderr.decode()[-2000:]
        small_times.append(seconds)
    result, large_time = check(large, limit=120)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert b"no problems" in result.stdout

    # 16 times the bytes: linear takes less than 16 times as long, as the start-up is paid
    # once (4 to 6 times here, 2.1 to 3 s of CPU on 2 cores; Lark building a tree that a
    # Transformer then walked took 4.5 s). Counting lines from the top of the file for every
    # node took 21 times as long: 22 s. The bound leaves room for a slower machine.
    assert large_time < 12 * sorted(small_times)[1], (large_time, small_times)
    assert large_time < 4, large_time


def test_a_lesson_over_the_size_limit_gets_a_clear_error(tmp_path):
    path = tmp_path / "huge.lecture"
    text = lesson_of_size(source.MAX_LESSON_BYTES)
    path.write_text(text + "#" * (source.MAX_LESSON_BYTES + 1 - len(text)), encoding="utf-8")
    result, seconds = check(path)
    assert result.returncode == 2
    assert f"{path}:1:1: error: file is too large for a lesson (2.1 MB; the limit is 2 MB)" \
        in result.stderr.decode()
    assert seconds < 10


# ------------------------------------------------------------------ nesting

PLOT_HEAD = 'lesson "Deep"\nsection s "S"\n  axes ax x=-3..3 y=0..9 in A1..D6\n'
EXPRESSION_COLUMN = 11  # `  plot f "` then the function: its first character is at column 11


def plot_lesson(expression: str) -> str:
    return PLOT_HEAD + f'  plot f "{expression}" on ax\n  step 1s: create ax, f\n'


@pytest.mark.parametrize(("expression", "levels", "offset"), [
    ("(" * 5000 + "x" + ")" * 5000, 5000, MAX_LEVELS),        # the 33rd parenthesis
    ("(" * 4000 + "x", 4000, MAX_LEVELS),                      # never closed
    ("-" * 5000 + "x", 5000, MAX_LEVELS),
    ("x" + "^x" * 3000, 3000, 2 * MAX_LEVELS + 1),             # the 33rd '^'
    ("sin(" * 100 + "x" + ")" * 100, 100, 4 * MAX_LEVELS + 3),  # the 33rd call's '('
], ids=["parentheses", "unclosed", "signs", "powers", "calls"])
def test_a_plot_nested_too_deep_is_a_diagnostic(tmp_path, expression, levels, offset):
    path = tmp_path / "deep.lecture"
    path.write_text(plot_lesson(expression), encoding="utf-8")
    result, seconds = check(path, limit=30)
    assert result.returncode == 2
    head = (f"{path}:4:{EXPRESSION_COLUMN + offset}: error: expression nested too deep "
            f"({levels} levels; at most {MAX_LEVELS})")
    assert head in result.stderr.decode().splitlines()
    assert seconds < 10


def test_a_long_flat_function_is_fast_and_checked(tmp_path):
    flat = tmp_path / "flat.lecture"
    flat.write_text(plot_lesson("x" + " + x" * (MAX_OPERATIONS - 1)), encoding="utf-8")
    result, seconds = check(flat, limit=30)
    assert result.returncode == 0, result.stderr.decode()[-2000:]
    assert seconds < 10

    longer = tmp_path / "longer.lecture"
    longer.write_text(plot_lesson("x" + "+x" * 4000), encoding="utf-8")
    result, seconds = check(longer, limit=30)
    assert result.returncode == 2
    assert (f"{longer}:4:{EXPRESSION_COLUMN}: error: the function is too long (4000 operations; "
            f"at most {MAX_OPERATIONS})") in result.stderr.decode().splitlines()
    assert seconds < 10


def hostile_lessons() -> dict[str, tuple[str, int, str]]:
    """Lesson shapes that were quadratic or worse, or might recurse: text, exit code, and a
    line the output must hold."""
    n = 10_000
    head = 'lesson "Big"\nsection s "S"\n'
    stairs = head + "  circle c at B2\n" + "".join(" " * (3 + i) + "circle c at B2\n" for i in range(1000))
    chain = head + "".join(f'  label a{i} "x" below a{i + 1}\n' for i in range(n)) + \
        f"  circle a{n} at B2\n  step 1s: " + "create " + ", ".join(f"a{i}" for i in range(n + 1)) + "\n"
    cycle = head + "".join(f'  label a{i} "x" below a{(i + 1) % n}\n' for i in range(n)) + \
        "  step 1s: create a0\n"
    wrong = head + "".join(f'  line l{i} "x"\n' for i in range(n)) + "  text t \"x\" at A1\n" + \
        "".join(f'  step 1s: say q{i} "x"\n' for i in range(n)) + "  step 1s: create t\n"
    return {
        "indented-stairs": (stairs, 2, "error: unexpected indentation"),
        "placement-chain": (chain, 0, "no problems"),
        "placement-cycle": (cycle, 2, "error: these placements form a cycle: a0 → a1 → a2"),
        "thousands-of-wrong-names": (wrong, 2, "error: no lecture line named 'q9999' in section 's'"),
    }


@pytest.mark.parametrize("name", list(hostile_lessons()))
def test_hostile_lesson_shapes_end_quickly_with_a_diagnostic(tmp_path, name):
    text, code, expected = hostile_lessons()[name]
    path = tmp_path / f"{name}.lecture"
    path.write_text(text, encoding="utf-8")
    result, seconds = check(path, limit=60)
    assert result.returncode == code
    assert expected in (result.stdout + result.stderr).decode()
    assert seconds < 20  # each took from a minute to hours of CPU
    # One line of the output per line of the lesson at most: no hint lists every name.
    assert len(result.stderr) < 400 * (text.count("\n") + 10)


# ------------------------------------------------------------------ terminal escapes

RAW = ["\x1b", "\x9b", "\x07", "\x08", "\u202e", "\u202c", "\u2066", "\u2069"]


def test_control_and_bidi_characters_are_shown_escaped(tmp_path):
    path = tmp_path / "escapes.lecture"
    path.write_text(
        'lesson "Escapes"\nsection s "S"\n'
        '  text t "\x1b[2J\x1b]0;owned\x07 \u202eevil\u202c \x9b31m \u2066x\u2069\x08" at Z9\n'
        '  text u "\x1b[31m" at A1 color="\x1b[5mred"\n'
        "  step 1s: create t, u\n", encoding="utf-8")
    result, _ = check(path)
    assert result.returncode == 2
    for out in (result.stdout, result.stderr):
        for char in RAW:
            assert char.encode() not in out, (char, out)
    lines = result.stderr.decode().splitlines()
    shown = r'    3 |   text t "\x1b[2J\x1b]0;owned\x07 \u202eevil\u202c \x9b31m \u2066x\u2069\x08" at Z9'
    assert shown in lines
    underline = lines[lines.index(shown) + 1]
    assert underline.index("^") == shown.index("Z9") and underline.endswith("^^")
    assert f"{path}:4:30: error: unknown colour '\\x1b[5mred'" in lines
    colour = lines[lines.index(f"{path}:4:30: error: unknown colour '\\x1b[5mred'") + 1]
    assert lines[lines.index(colour) + 1].index("^") == colour.index('"\\x1b[5mred"')


def test_a_control_character_outside_a_string_is_a_syntax_error_shown_escaped(tmp_path):
    path = tmp_path / "escape.lecture"
    path.write_text('lesson "E"\nsection s "S"\n  circle c at B2 \x1b[8m\n  step 1s: create c\n',
                    encoding="utf-8")
    result, _ = check(path)
    assert result.returncode == 2
    assert b"\x1b" not in result.stdout + result.stderr
    lines = result.stderr.decode().splitlines()
    assert f"{path}:3:18: error: unexpected character '\\x1b'" in lines
    assert r"    3 |   circle c at B2 \x1b[8m" in lines
    assert "      |                  ^^^^" in lines
