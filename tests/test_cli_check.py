"""`lecture check` as a teacher runs it: a subprocess, exit code 0 when clean and 2 on errors,
every diagnostic as `file:line:col: severity: message`, the source line, a caret underline
and a hint, and never a Python traceback."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys

import pytest
from conftest import lesson

CLEAN = lesson('line l1 "A right triangle."\ncircle c at B2\nstep 2s: say l1 "Look."; create c')
WARNS = lesson("circle c at B2\ncircle d at B3\nstep 1s: create c")  # d is never shown
MANY = 'lesson "Bad"\n  theme: chalkbord\nsection s "S"\n' + (
    "  cirle c at B2\n"                       # 4: unknown-kind
    "  circle d at G7 colr=red\n"             # 5: off-grid, unknown-option
    "  step 1s: create d; fadein d\n"         # 6: unknown-action
    "  step 1s: indicate zz\n")               # 7: undefined-id

HEAD = re.compile(r"^(?P<file>.+?):(?P<line>\d+):(?P<col>\d+): (?P<sev>error|warning): (?P<msg>.+)$")


def check(*args: str, cwd) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "LECTURE_DEBUG"}
    env["PYTHONIOENCODING"] = "utf-8"
    result = subprocess.run([sys.executable, "-m", "lecture", "check", *map(str, args)], cwd=cwd,
                            capture_output=True, text=True, encoding="utf-8", env=env, timeout=60)
    assert "Traceback" not in result.stdout + result.stderr
    assert "internal error" not in result.stderr
    return result


def diagnostics_in(stderr: str) -> list[dict]:
    """Parse the text output into diagnostics, checking each one's layout on the way."""
    lines = stderr.splitlines()
    found = []
    for i, line in enumerate(lines):
        head = HEAD.match(line)
        if not head:
            continue
        d = head.groupdict()
        d["line"], d["col"] = int(d["line"]), int(d["col"])
        rest = lines[i + 1:i + 4]
        if len(rest) >= 2 and re.match(r"^ *\d+ \| ", rest[0]):
            gutter, caret = rest[0], rest[1]
            assert gutter.lstrip().startswith(f"{d['line']} | ")
            prefix = gutter.index("| ") + 2
            assert re.match(r"^ +\| +\^+$", caret), caret
            assert caret.index("^") == prefix + d["col"] - 1, (gutter, caret)
            d["source"] = gutter[prefix:]
            has_hint = len(rest) > 2 and rest[2].startswith("  hint: ")
            d["hint"] = rest[2][len("  hint: "):] if has_hint else None
        found.append(d)
    return found


def test_clean_lesson_exits_0(tmp_path):
    (tmp_path / "ok.lecture").write_text(CLEAN, encoding="utf-8")
    result = check("ok.lecture", cwd=tmp_path)
    assert result.returncode == 0
    assert result.stderr == ""
    assert result.stdout.strip() == "ok.lecture: no problems"


def test_warnings_alone_exit_0_and_strict_makes_them_errors(tmp_path):
    (tmp_path / "w.lecture").write_text(WARNS, encoding="utf-8")
    result = check("w.lecture", cwd=tmp_path)
    assert result.returncode == 0
    (d,) = diagnostics_in(result.stderr)
    assert (d["file"], d["line"], d["col"], d["sev"]) == ("w.lecture", 4, 10, "warning")
    assert "1 warning" in result.stdout
    strict = check("--strict", "w.lecture", cwd=tmp_path)
    assert strict.returncode == 2
    assert [(d["sev"], d["line"]) for d in diagnostics_in(strict.stderr)] == [("error", 4)]


def test_many_errors_are_reported_in_one_run(tmp_path):
    (tmp_path / "bad.lecture").write_text(MANY, encoding="utf-8")
    result = check("bad.lecture", cwd=tmp_path)
    assert result.returncode == 2
    found = diagnostics_in(result.stderr)
    assert [(d["line"], d["col"], d["sev"]) for d in found] == [
        (2, 10, "error"), (4, 3, "error"), (5, 15, "error"), (5, 18, "error"),
        (6, 22, "error"), (7, 21, "error")]
    assert all(d["file"] == "bad.lecture" for d in found)
    assert found[0]["msg"] == "unknown theme 'chalkbord'"
    assert found[0]["source"] == "  theme: chalkbord"
    assert found[0]["hint"] == "did you mean 'chalkboard'?"
    assert found[1]["msg"] == "unknown element kind 'cirle'" and found[1]["hint"] == "did you mean 'circle'?"
    assert all(d["hint"] for d in found)
    assert "bad.lecture: 6 errors" in result.stderr


def test_exact_text_of_one_diagnostic(tmp_path):
    (tmp_path / "one.lecture").write_text(lesson("cirle c at B2\nstep 1s: create c"), encoding="utf-8")
    result = check("one.lecture", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr.startswith(
        "one.lecture:3:3: error: unknown element kind 'cirle'\n"
        "    3 |   cirle c at B2\n"
        "      |   ^^^^^\n"
        "  hint: did you mean 'circle'?\n")


def test_syntax_error(tmp_path):
    (tmp_path / "syn.lecture").write_text(lesson('text t "hello at A1'), encoding="utf-8")
    result = check("syn.lecture", cwd=tmp_path)
    assert result.returncode == 2
    (d,) = diagnostics_in(result.stderr)
    assert (d["line"], d["col"], d["msg"]) == (3, 10, "unterminated string")
    assert d["source"] == '  text t "hello at A1' and d["hint"]


@pytest.mark.parametrize("name, data, message", [
    ("empty.lecture", b"", "the lesson is empty"),
    ("binary.lecture", b"\x89PNG\r\n\x1a\n\x00\x00\x00", "binary file"),
    ("latin1.lecture", b'lesson "Caf\xe9"\n', "not valid UTF-8"),
    ("utf16.lecture", 'lesson "X"\n'.encode("utf-16"), "UTF-16"),
    ("big.lecture", CLEAN.encode() + b"#" * (10 * 1024 * 1024), "too large"),
    ("tabs.lecture", lesson("circle c at B2").encode() + b"\tstep 1s: create c\n", "tabs"),
    ("nested.lecture", lesson("").encode() + b"".join(b" " * (2 + i) + b"step:\n" for i in range(500)),
     ""),
])
def test_broken_files_exit_2_with_a_located_diagnostic(tmp_path, name, data, message):
    (tmp_path / name).write_bytes(data)
    result = check(name, cwd=tmp_path)
    assert result.returncode == 2
    found = diagnostics_in(result.stderr)
    assert len(found) == 1 and found[0]["file"] == name and found[0]["sev"] == "error"
    assert message in found[0]["msg"]
    assert len(result.stderr) < 2000  # never megabytes of the file echoed back


def test_missing_file_and_folder(tmp_path):
    (tmp_path / "folder.lecture").mkdir()
    result = check("nope.lecture", "folder.lecture", cwd=tmp_path)
    assert result.returncode == 2
    found = diagnostics_in(result.stderr)
    assert [(d["file"], d["line"], d["col"]) for d in found] == [
        ("nope.lecture", 1, 1), ("folder.lecture", 1, 1)]
    assert found[0]["msg"] == "no such file"


def test_crlf_bom_and_no_final_newline_are_clean(tmp_path):
    data = b"\xef\xbb\xbf" + CLEAN.rstrip("\n").replace("\n", "\r\n").encode()
    (tmp_path / "win.lecture").write_bytes(data)
    result = check("win.lecture", cwd=tmp_path)
    assert result.returncode == 0 and result.stderr == ""


def test_crlf_file_errors_show_clean_source_lines(tmp_path):
    (tmp_path / "win.lecture").write_bytes(MANY.replace("\n", "\r\n").encode())
    result = check("win.lecture", cwd=tmp_path)
    assert result.returncode == 2 and "\r" not in result.stderr
    assert [d["line"] for d in diagnostics_in(result.stderr)] == [2, 4, 5, 5, 6, 7]


def test_several_files_in_one_run(tmp_path):
    (tmp_path / "a.lecture").write_text(CLEAN, encoding="utf-8")
    (tmp_path / "b.lecture").write_text(MANY, encoding="utf-8")
    (tmp_path / "c.lecture").write_text(lesson("circle c at B2 @"), encoding="utf-8")
    result = check("a.lecture", "b.lecture", "c.lecture", cwd=tmp_path)
    assert result.returncode == 2
    files = [d["file"] for d in diagnostics_in(result.stderr)]
    assert files == ["b.lecture"] * 6 + ["c.lecture"]
    assert "a.lecture: no problems" in result.stdout


def test_json_format(tmp_path):
    (tmp_path / "bad.lecture").write_text(MANY, encoding="utf-8")
    result = check("--format", "json", "bad.lecture", cwd=tmp_path)
    assert result.returncode == 2
    data = json.loads(result.stdout)
    assert [(d["code"], d["line"], d["column"]) for d in data] == [
        ("unknown-theme", 2, 10), ("unknown-kind", 4, 3), ("off-grid", 5, 15),
        ("unknown-option", 5, 18), ("unknown-action", 6, 22), ("undefined-id", 7, 21)]
    assert all(d["file"] == "bad.lecture" and d["severity"] == "error" for d in data)


def test_no_file_argument_is_a_usage_error_not_a_traceback(tmp_path):
    result = check(cwd=tmp_path)
    assert result.returncode == 2 and "usage" in result.stderr
