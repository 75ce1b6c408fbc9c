"""File-level inputs: what reaches the parser from bytes on disk. Broken files get one
diagnostic with a line:col; harmless variations (BOM, CRLF, trailing white space, no final
newline, tab indentation) give the same lesson as the plain file."""

from __future__ import annotations

import pytest
from conftest import lesson
from lecture.compiler import source
from lecture.compiler.diagnostics import DiagnosticError
from lecture.compiler.frontend import load_file, load_text

PLAIN = lesson('line l1 "A right triangle."\ncircle c at B2\n'
               'code k """\n  def f(x):\n      return x\n  """ at C3\n'
               'step 2s: say l1 "Look."; create c\nstep 1s:\n  create k\n  indicate c')


def single(exc_info) -> object:
    (d,) = exc_info.value.diagnostics
    return d


def test_plain_file_loads(write_lesson):
    loaded = load_file(write_lesson(PLAIN))
    assert loaded.diagnostics == ()
    assert loaded.source.text == PLAIN


# ------------------------------------------------------------------ broken files

def test_empty_file(write_lesson):
    path = write_lesson(b"")
    with pytest.raises(DiagnosticError) as info:
        load_file(path)
    d = single(info)
    assert (d.code, d.span.line, d.span.column) == ("empty", 1, 1)
    assert d.message == "the lesson is empty" and d.span.file == str(path)
    assert 'lesson "Title"' in d.hint


@pytest.mark.parametrize("data", [b"\n\n", b"   \r\n\t\r\n", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n  \r\n"])
def test_blank_files_are_empty(write_lesson, data):
    with pytest.raises(DiagnosticError) as info:
        load_file(write_lesson(data))
    assert single(info).code == "empty"


def test_binary_file_points_at_the_first_nul(write_lesson):
    with pytest.raises(DiagnosticError) as info:
        load_file(write_lesson(b'lesson "X"\nab\x00cd\x00'))
    d = single(info)
    assert (d.code, d.span.line, d.span.column) == ("binary", 2, 3)
    assert "binary file" in d.message and "UTF-8" in d.hint


def test_an_image_renamed_to_lecture_is_binary(write_lesson):
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256))
    with pytest.raises(DiagnosticError) as info:
        load_file(write_lesson(png))
    assert single(info).code == "binary"


@pytest.mark.parametrize("data, line, column", [
    (b'lesson "Caf\xe9"\n', 1, 12),  # Latin-1
    (b'lesson "X"\nsection s "\xc3\xa9t\xe9"\n', 2, 14),  # columns count characters, not bytes
    (b'lesson "X"\n  \xff', 2, 3),
    (b'lesson "\xe2\x82"\n', 1, 9),  # a truncated UTF-8 sequence
])
def test_non_utf8_file_points_at_the_bad_byte(write_lesson, data, line, column):
    with pytest.raises(DiagnosticError) as info:
        load_file(write_lesson(data))
    d = single(info)
    assert (d.code, d.span.line, d.span.column) == ("encoding", line, column)
    assert "not valid UTF-8" in d.message and "save the file as UTF-8" in d.hint


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32"])
def test_utf16_and_utf32_files_are_named_as_such(write_lesson, encoding):
    data = PLAIN.encode(encoding)
    if encoding == "utf-16-be":
        data = b"\xfe\xff" + data
    with pytest.raises(DiagnosticError) as info:
        load_file(write_lesson(data))
    d = single(info)
    assert (d.code, d.span.line, d.span.column) == ("encoding", 1, 1)
    assert encoding[:6].upper() in d.message and "UTF-8" in d.hint


def test_a_10_mb_file_is_refused_without_parsing(write_lesson):
    data = PLAIN.encode() + b"# padding\n" * (10 * 1024 * 1024 // 10)
    assert len(data) > 10 * 1024 * 1024
    with pytest.raises(DiagnosticError) as info:
        load_file(write_lesson(data))
    d = single(info)
    assert (d.code, d.span.line, d.span.column) == ("too-large", 1, 1)
    assert "too large" in d.message and "MB" in d.message and d.hint


def test_a_file_just_under_the_limit_is_read(write_lesson):
    head = PLAIN.encode() + b"# "
    data = head + b"x" * (source.MAX_LESSON_BYTES - len(head) - 1) + b"\n"
    assert len(data) == source.MAX_LESSON_BYTES
    loaded = load_file(write_lesson(data))
    assert loaded.lesson.trailing_comments[0].startswith(" xxx")


def test_missing_file_and_folder(tmp_path):
    with pytest.raises(DiagnosticError) as info:
        load_file(tmp_path / "nope.lecture")
    assert single(info).code == "no-file" and single(info).message == "no such file"
    with pytest.raises(DiagnosticError) as info:
        load_file(tmp_path)
    assert single(info).code == "no-file" and "folder" in single(info).message


# ------------------------------------------------------------------ harmless variations

def _same_lesson(loaded, normalised_text: bool = True):
    expected = load_text(PLAIN, loaded.source.name)
    assert loaded.lesson == expected.lesson
    if normalised_text:
        assert loaded.source.text == PLAIN
    assert loaded.diagnostics == ()


def test_utf8_bom(write_lesson):
    _same_lesson(load_file(write_lesson(b"\xef\xbb\xbf" + PLAIN.encode())))


def test_crlf_line_ends(write_lesson):
    path = write_lesson(PLAIN.replace("\n", "\r\n").encode())
    loaded = load_file(path)
    _same_lesson(loaded)
    assert loaded.source.original == PLAIN.replace("\n", "\r\n")  # kept for byte-exact rewrites
    code = loaded.lesson.sections[0].elements[1]
    assert code.texts[0].value == "def f(x):\n    return x"  # no \r inside a block string


def test_old_mac_cr_and_mixed_line_ends(write_lesson):
    mixed = "".join(line + ("\r\n", "\r", "\n")[i % 3] for i, line in enumerate(PLAIN.split("\n")[:-1]))
    _same_lesson(load_file(write_lesson(mixed.encode())))


def test_bom_and_crlf_together(write_lesson):
    _same_lesson(load_file(write_lesson(b"\xef\xbb\xbf" + PLAIN.replace("\n", "\r\n").encode())))


def test_trailing_whitespace(write_lesson):
    noisy = "\n".join(line + (" \t " if line.strip() and '"""' not in line and "def" not in line
                              and "return" not in line else "") for line in PLAIN.split("\n"))
    _same_lesson(load_file(write_lesson(noisy.encode())), normalised_text=False)


@pytest.mark.parametrize("ending", ["", "\n\n\n", "\n   ", "\n# last words"])
def test_missing_or_extra_final_newline(write_lesson, ending):
    loaded = load_file(write_lesson((PLAIN.rstrip("\n") + ending).encode()))
    assert loaded.lesson.sections == load_text(PLAIN).lesson.sections


def test_tab_indentation(write_lesson):
    loaded = load_file(write_lesson(PLAIN.replace("  ", "\t").encode()))
    assert loaded.diagnostics == ()
    assert loaded.lesson.sections[0].steps == load_text(PLAIN).lesson.sections[0].steps


# ------------------------------------------------------------------ positions survive normalisation

BROKEN = lesson('circle c at B2\nstep 1s: create c\nstep 1s: indicate c @')  # error at 5:23


@pytest.mark.parametrize("transform", [
    lambda t: t,
    lambda t: t.replace("\n", "\r\n"),
    lambda t: "\ufeff" + t,
    lambda t: "\ufeff" + t.replace("\n", "\r\n"),
    lambda t: t.rstrip("\n"),
    lambda t: t.replace("\n", " \n"),
], ids=["lf", "crlf", "bom", "bom-crlf", "no-final-newline", "trailing-space"])
def test_error_positions_are_those_of_the_original_file(write_lesson, transform):
    with pytest.raises(DiagnosticError) as info:
        load_file(write_lesson(transform(BROKEN).encode()))
    d = single(info)
    assert (d.code, d.span.line, d.span.column) == ("syntax", 5, 23)
    rendered = str(info.value)
    assert "\r" not in rendered and "\ufeff" not in rendered
    assert "    5 |   step 1s: indicate c @" in rendered


@pytest.mark.parametrize("transform", [
    lambda t: t, lambda t: t.replace("\n", "\r\n"), lambda t: "\ufeff" + t, lambda t: t.rstrip("\n"),
], ids=["lf", "crlf", "bom", "no-final-newline"])
def test_an_error_on_the_last_line_without_newline(write_lesson, transform):
    text = transform(lesson("circle c at B2\nstep 1s: create c\nwait"))
    with pytest.raises(DiagnosticError) as info:
        load_file(write_lesson(text.encode()))
    d = single(info)
    assert (d.span.line, d.span.column, d.message) == (5, 6, "this line ends too early")


def test_an_error_on_line_one_after_a_bom():
    with pytest.raises(DiagnosticError) as info:
        load_text("\ufefflesson X\n")
    assert (single(info).span.line, single(info).span.column) == (1, 8)


@pytest.mark.parametrize("indent, code, line, column, message", [
    ("\t", "tabs", 4, 1, "this line is indented with tabs, but line 3 uses spaces"),
    (" \t", "tabs", 4, 2, "this line's indentation mixes tabs and spaces"),
    ("\t ", "tabs", 4, 2, "this line's indentation mixes tabs and spaces"),
])
def test_mixed_tabs_and_spaces(write_lesson, indent, code, line, column, message):
    text = lesson("circle c at B2") + indent + "step 1s: create c\n"
    with pytest.raises(DiagnosticError) as info:
        load_file(write_lesson(text.encode()))
    d = single(info)
    assert (d.code, d.span.line, d.span.column) == (code, line, column)
    assert d.message == message and "spaces only" in d.hint


def test_tabs_inside_a_line_and_in_comments_are_fine():
    text = lesson("circle c\tat B2\t# a\tcomment\nstep 1s:\tcreate c")
    assert load_text(text).diagnostics == ()
