"""Time the front end on a generated 5,000-line valid lesson: parse, build, check.

    python bench/bench_parse.py [LINES] [REPEATS]

Not part of the test suite. Prints the best of REPEATS runs for each stage.
"""

from __future__ import annotations

import sys
import time

from lecture.compiler import builder, checks, parser, source
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


def generate(lines: int) -> str:
    head = '# generated\nlesson "Benchmark"\n  audience: "anyone"\n  theme: chalkboard\n\n'
    parts, count, n = [head], head.count("\n"), 0
    while count < lines:
        chunk = section_text(n)
        parts.append(chunk)
        count += chunk.count("\n")
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
    parser.parse_tree(source.from_text('lesson "warm"\nsection a "A"\n  line l "x"\n'))  # build the parser

    t_parse, (tree, comments) = best(lambda: parser.parse_tree(src), repeats)
    t_build, (lesson, _) = best(lambda: builder.build(tree, comments, src.name), repeats)
    t_check, found = best(lambda: checks.check(lesson), repeats)
    t_total, loaded = best(lambda: load_text(text, "bench.lecture"), repeats)
    errors = [d for d in loaded.diagnostics if d.severity == "error"]
    assert not errors, errors[:3]

    print(f"lesson: {text.count(chr(10))} lines, {len(text) / 1024:.0f} kB, "
          f"{len(lesson.sections)} sections, {len(found)} diagnostics")
    print(f"parse  {t_parse * 1000:8.1f} ms")
    print(f"build  {t_build * 1000:8.1f} ms")
    print(f"check  {t_check * 1000:8.1f} ms")
    print(f"total  {t_total * 1000:8.1f} ms  (load_text: parse + build + check, best of {repeats})")


if __name__ == "__main__":
    main()
