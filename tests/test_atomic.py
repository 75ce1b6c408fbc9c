"""Atomic rewrites of lesson files, refusing to overwrite a concurrent edit."""

from __future__ import annotations

import os
import stat
import sys
from unittest import mock

import pytest
from lecture.runtime import atomic
from lecture.runtime.atomic import ConcurrentEditError, write_atomically


def leftovers(folder) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.endswith(".tmp"))


def test_writes_new_and_existing_files(tmp_path):
    path = tmp_path / "a.lecture"
    write_atomically(path, 'lesson "A"\n', None)
    assert path.read_bytes() == b'lesson "A"\n'
    write_atomically(str(path), 'lesson "B" °\n', path.read_bytes())
    assert path.read_bytes() == 'lesson "B" °\n'.encode()
    assert leftovers(tmp_path) == []


def test_text_is_written_exactly_lf_no_bom(tmp_path):
    path = tmp_path / "a.lecture"
    original = '\ufefflesson "A"\r\n'.encode()
    path.write_bytes(original)
    write_atomically(path, 'lesson "A"\n', original)
    assert path.read_bytes() == b'lesson "A"\n'


def test_concurrent_edit_is_refused(tmp_path):
    path = tmp_path / "a.lecture"
    path.write_bytes(b"what we read\n")
    read = path.read_bytes()
    path.write_bytes(b"someone else's edit\n")
    with pytest.raises(ConcurrentEditError) as info:
        write_atomically(path, "our formatted text\n", read)
    assert str(path) in str(info.value)
    assert path.read_bytes() == b"someone else's edit\n"
    assert leftovers(tmp_path) == []


def test_deleted_file_counts_as_changed(tmp_path):
    path = tmp_path / "gone.lecture"
    with pytest.raises(ConcurrentEditError):
        write_atomically(path, "x\n", b"old\n")
    assert not path.exists() and leftovers(tmp_path) == []


def test_edit_during_the_write_is_refused(tmp_path):
    """An edit that lands after the first check, while the new text is being written."""
    path = tmp_path / "a.lecture"
    path.write_bytes(b"v1\n")
    real_fsync = os.fsync

    def edit_then_fsync(fd):
        path.write_bytes(b"v2 from the editor\n")
        return real_fsync(fd)

    with mock.patch.object(atomic.os, "fsync", edit_then_fsync), pytest.raises(ConcurrentEditError):
        write_atomically(path, "formatted\n", b"v1\n")
    assert path.read_bytes() == b"v2 from the editor\n"
    assert leftovers(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX permission bits")
def test_mode_is_kept(tmp_path):
    path = tmp_path / "a.lecture"
    path.write_bytes(b"x\n")
    path.chmod(0o640)
    write_atomically(path, "y\n", b"x\n")
    assert stat.S_IMODE(path.stat().st_mode) == 0o640
    path.chmod(0o755)
    write_atomically(path, "z\n", None)
    assert stat.S_IMODE(path.stat().st_mode) == 0o755


@pytest.mark.skipif(sys.platform == "win32", reason="POSIX umask")
def test_new_file_gets_the_default_mode(tmp_path):
    old = os.umask(0o022)
    try:
        write_atomically(tmp_path / "new.lecture", "x\n")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.lecture").stat().st_mode) == 0o644


def test_no_temporary_file_left_when_writing_fails(tmp_path):
    path = tmp_path / "a.lecture"
    path.write_bytes(b"keep me\n")

    def broken_replace(src, dst):
        raise OSError("disk on fire")

    with mock.patch.object(atomic.os, "replace", broken_replace), pytest.raises(OSError):
        write_atomically(path, "new\n", b"keep me\n")
    assert path.read_bytes() == b"keep me\n"
    assert leftovers(tmp_path) == []

    with pytest.raises(UnicodeEncodeError):
        write_atomically(path, "lone surrogate \ud800", None)
    assert path.read_bytes() == b"keep me\n" and leftovers(tmp_path) == []


@pytest.mark.skipif(sys.platform == "win32", reason="symbolic links")
def test_symlink_target_is_replaced(tmp_path):
    real = tmp_path / "real.lecture"
    real.write_bytes(b"a\n")
    link = tmp_path / "link.lecture"
    link.symlink_to(real)
    write_atomically(link, "b\n", b"a\n")
    assert link.is_symlink() and real.read_bytes() == b"b\n"
