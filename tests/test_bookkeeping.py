"""One step numbering everywhere, and a build folder whose generated module does not depend
on what the cache held.

- A wait is a step of its section like any other: the generated module's `# step N`
  comments, the source map, the manifest's narration timing and `lecture eval`'s step marks
  all count it, from 1.
- `build/<lesson>/lesson_scenes.py` holds every section after every build: the first one,
  one where only an edited section is rendered again, one where everything is cached, and
  one back at an earlier version whose videos are all cached.
"""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import pytest
from lecture.agents.evaluation.build_folder import load_build
from lecture.agents.evaluation.video import build_step_marks
from lecture.compiler.sourcemap import SourceMap
from lecture.runtime.build import RenderOptions, render_lesson
from lecture.runtime.pool import RenderPool
from rich.console import Console

LESSON = """\
lesson "Bookkeeping"

section one "One"
  circle c at B2 color=blue
  step 0.5s: create c
  wait 0.5s
  step 0.5s: indicate c

section two "Two"
  square s at C3 color=red
  step 0.5s: create s
"""
EDITED = LESSON.replace("color=red", "color=green")
STEP_COMMENT = re.compile(r"^\s+# step (\d+), (wait )?[0-9.]+s — ", re.MULTILINE)
CLASS = re.compile(r"^class (\w+)\(", re.MULTILINE)


def render(lesson: Path, root: Path, pool: RenderPool) -> tuple[str, dict, str]:
    """`lecture render -q low`, with the workers of `pool` (started once for all builds)."""
    buf = io.StringIO()
    console = Console(file=buf, width=200, force_terminal=False, color_system=None)
    rc = render_lesson(lesson, RenderOptions(quality="low", build_root=root), console=console, pool=pool)
    out = buf.getvalue()
    assert rc == 0, out
    folder = root / lesson.stem
    man = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    return out, man, (folder / "lesson_scenes.py").read_text(encoding="utf-8")


def step_comments(module: str) -> dict[str, list[int]]:
    """Scene class -> the numbers of its `# step N` comments, in order."""
    classes = list(CLASS.finditer(module))
    out = {}
    for i, m in enumerate(classes):
        body = module[m.end(): classes[i + 1].start() if i + 1 < len(classes) else len(module)]
        out[m[1]] = [int(n) for n, _ in STEP_COMMENT.findall(body)]
    return out


def holds_every_section(man: dict, module: str) -> None:
    classes = [s["class_name"] for s in man["sections"]]
    assert [s["id"] for s in man["sections"]] == ["one", "two"] and all(classes)
    assert CLASS.findall(module) == classes
    assert f"SCENES = [{', '.join(classes)}]" in module


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """The lesson rendered, its second section edited and rendered again, rendered once
    more unchanged, then put back as it was first."""
    tmp = tmp_path_factory.mktemp("books")
    lesson, root = tmp / "books.lecture", tmp / "build"
    pool = RenderPool(1)
    try:
        lesson.write_text(LESSON, encoding="utf-8")
        first = render(lesson, root, pool)
        lesson.write_text(EDITED, encoding="utf-8")
        edited = render(lesson, root, pool)
        again = render(lesson, root, pool)
        lesson.write_text(LESSON, encoding="utf-8")
        back = render(lesson, root, pool)
    finally:
        pool.close()
    return root / "books", first, edited, again, back


def test_one_step_numbering(builds):
    folder, (_, man, module), *_ = builds
    comments = step_comments(module)
    by_class = {s["id"]: s["class_name"] for s in man["sections"]}
    assert comments[by_class["one"]] == [1, 2, 3] and comments[by_class["two"]] == [1]
    assert "# step 2, wait 0.5s — books.lecture:6" in module
    # the manifest's narration timing numbers the same steps the same way
    timed = {sid: [st["step"] for st in man["narration"]["steps"] if st["section"] == sid]
             for sid in ("one", "two")}
    assert timed == {sid: comments[by_class[sid]] for sid in ("one", "two")}
    # and so does the source map: the wait's code is "step 2"
    source_map = SourceMap.from_json((folder / "sourcemap.json").read_text(encoding="utf-8"))
    wait_line = module.splitlines().index(next(ln for ln in module.splitlines() if "wait 0.5s" in ln)) + 1
    entry = source_map.lookup(wait_line)
    assert entry is not None and entry.node == "section one / step 2" and entry.span.line == 6


def test_a_partly_cached_build_still_writes_every_section(builds):
    folder, first, (out, man, module), *_ = builds
    assert [s["cached"] for s in man["sections"]] == [True, False], out
    assert out.count(": rendered") == 1
    holds_every_section(man, module)
    assert module != first[2]  # the edited colour
    # `lecture eval` finds the end of every step (4), timed from the module
    marks, source = build_step_marks(load_build(folder), man["fps"])
    assert source == "module" and len(marks) == 4
    assert [m.label for m in marks][:3] == [f"end of step {i} of section 'one'" for i in (1, 2, 3)]


def test_a_fully_cached_build_keeps_or_rewrites_the_module(builds):
    folder, first, edited, (out, man, module), back = builds
    assert all(s["cached"] for s in man["sections"]) and "rendered (" not in out
    assert module == edited[2]  # unchanged lesson: the module there is kept
    assert man["module_key"] == edited[1]["module_key"] and man["module_hash"] == edited[1]["module_hash"]
    # back at the first version: every video is cached, and the module is the first one again
    out, man, module = back
    assert all(s["cached"] for s in man["sections"]) and "rendered (" not in out
    assert module == first[2]
    holds_every_section(man, module)
    assert man["module_key"] == first[1]["module_key"]
