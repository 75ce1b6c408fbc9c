"""Time the front end on a generated 5,000-line valid lesson: parse (and build), check; then
show that it is linear: the time per kB of a 2 MB lesson against that of a 128 kB one,
measured in the same run (a ratio near 1 is linear; counting lines from the start of the
file for every node, as the front end once did, made it 3-4 and a 2 MB lesson take 60 s).

    python bench/bench_parse.py [LINES] [REPEATS]

Not part of the test suite. Prints the best of REPEATS runs for each stage.
"""

from __future__ import annotations

import sys
import time

from lecture.compiler import builder, checks, source
from lecture.compiler.frontend import load_text


def section_text(n: int) -> str:
    return (
        f'section s{n} "Part {n}" 1min\n'
        f'  line l1 "Step {n}: a right triangle has one 90° angle."   # note {n}\n'
        '  line l2 "Its longest side is the hypotenuse."\n'
        "  polygon tri (0,0) (3,0) (0,2) in B2..E5 color=blue opacity=0.5\n"
        "  math eq $a^2 + b^2 = c^2$ at F4 color=#ff8800\n"
        '  label lc "c" right of tri\n'
        "  axes ax x=-3..3 y=0..9 in A4..C6\n"
        '  plot f "x^2 + 2 sin(x)" on ax color=yellow\n'
        "  line seg from A1 to C3\n"
        '  table t in A1..B3:\n    "x" "y"\n    "1" "2"\n'
        '  step 2s: say l1 "Here is a right triangle."; create tri, lc\n'
        "  # before the second step\n"
        "  step 3s:\n    say l2\n    write eq\n    create ax, f, seg, t\n"
        "  wait 1s\n"
        "  step 1s: indicate eq; fade out tri, lc\n"
        "\n"
    )


HEAD = '# generated\nlesson "Benchmark"\n  audience: "anyone"\n  theme: chalkboard\n\n'


def generate(lines: int) -> str:
    parts, count, n = [HEAD], HEAD.count("\n"), 0
    while count < lines:
        chunk = section_text(n)
        parts.append(chunk)
        count += chunk.count("\n")
        n += 1
    return "".join(parts)


def generate_bytes(size: int) -> str:
    """A valid lesson of whole sections, at most `size` bytes."""
    parts, total, n = [HEAD], len(HEAD.encode()), 0
    while total + len(section_text(n).encode()) <= size:
        parts.append(section_text(n))
        total += len(parts[-1].encode())
        n += 1
    return "".join(parts)


def best(fn, repeats: int) -> tuple[float, object]:
    times, result = [], None
    for _ in range(repeats):
        start = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - start)
    return min(times), result


def main() -> None:
    lines = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    repeats = int(sys.argv[2]) if len(sys.argv) > 2 else 5
    text = generate(lines)
    src = source.from_text(text, "bench.lecture")
    builder.build(source.from_text('lesson "warm"\nsection a "A"\n  line l "x"\n'))  # load the tables

    t_parse, (lesson, _) = best(lambda: builder.build(src), repeats)
    t_check, found = best(lambda: checks.check(lesson), repeats)
    t_total, loaded = best(lambda: load_text(text, "bench.lecture"), repeats)
    errors = [d for d in loaded.diagnostics if d.severity == "error"]
    assert not errors, errors[:3]

    print(f"lesson: {text.count(chr(10))} lines, {len(text) / 1024:.0f} kB, "
          f"{len(lesson.sections)} sections, {len(found)} diagnostics")
    print(f"parse  {t_parse * 1000:8.1f} ms  (lex, parse and build the model: one pass)")
    print(f"check  {t_check * 1000:8.1f} ms")
    print(f"total  {t_total * 1000:8.1f} ms  (load_text: parse + build + check, best of {repeats})")
    linearity(repeats)


def linearity(repeats: int) -> None:
    small, large = generate_bytes(128 * 1024), generate_bytes(2_000_000)
    t_small, _ = best(lambda: load_text(small, "small.lecture"), repeats)
    t_large, _ = best(lambda: load_text(large, "large.lecture"), max(1, repeats // 3))
    rows = [(small, t_small), (large, t_large)]
    per_kb = [t * 1000 / (len(text.encode()) / 1024) for text, t in rows]
    for label, (text, t), per in zip(("scale ", "      "), rows, per_kb, strict=True):
        print(f"{label} {len(text.encode()) / 1024:6.0f} kB lesson {t * 1000:8.1f} ms = {per:.2f} ms/kB")
    print(f"       time per kB, 2 MB / 128 kB: {per_kb[1] / per_kb[0]:.2f}x  (1.0 is linear)")


if __name__ == "__main__":
    main()
