"""A Lecture build folder as `lecture eval` reads it: its own files, and nothing else.

A build folder may come with a cloned repository, its `manifest.json` written by anyone:
`"output": "/home/me/.ssh/id_rsa"`, `"module": "../../../other/secret.py"`, or a
`lesson.mp4` that is a link to another folder's video. Whatever eval reads of a build
would end up in front of a vision model (frames, the transcript) or in the report, so
`load_build(path)` is the one place a build is opened, and it checks every path first:

- the folder itself must be a real folder, not a link (`safe_fs.safe_dir`);
- `manifest.json` is read only as a regular file (never through a link, never a FIFO);
- the paths the manifest gives for the build's own files (`module`, `source_map`,
  `output`, `subtitles[]`, `sections[].output`, `sections[].log`) are taken relative to
  the folder the manifest was written in (the folder of its `module`, which is always
  `<build root>/<lesson>/lesson_scenes.py` as written), so a build that was moved or copied
  (`videos/<slug>/` of a bench) still finds its own files; a path not below that folder
  (absolute elsewhere, `../..`) is not a file of this build;
- each of those, and each file eval takes from the folder by name (`lesson.mp4`,
  `lesson_scenes.py`, `lesson.srt`, `lesson.vtt`), is then resolved (links followed, `..`
  folded) and must lie inside the build folder and be a regular file (lstat), or be
  missing.

Anything else is a BuildFolderError naming the field and the path: the command stops
(exit 2) before it reads any file the manifest names or sends anything.

Two fields name files outside the build by design and are treated apart: `copied_to`
(the `-o` copy of the video) is never read, since the build's own lesson.mp4 is the same
video; `lesson` (the lesson file, used only for Lecture's own findings and step times) is
used when it is a regular `.lecture` file inside the folder the build belongs to (the
build root's parent, where `lecture render` ran), else left unread with the reason in
`lesson_note` (a build made from elsewhere is legitimate; its report says "n/a").
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
from dataclasses import dataclass
from pathlib import Path, PurePath

from lecture.runtime.build import LESSON_VIDEO, MANIFEST_NAME, MODULE_NAME
from lecture.runtime.safe_fs import UnsafePathError, read_regular, safe_dir, shown

MAX_MANIFEST_BYTES = 32 * 1024 * 1024
MAX_TEXT_BYTES = 32 * 1024 * 1024  # a generated module or a subtitle file
MAX_LESSON_BYTES = 8 * 1024 * 1024

_FILE_FIELDS = ("module", "source_map", "output")  # the build's own files, named in the manifest
_SECTION_FILE_FIELDS = ("output", "log")
_BY_NAME = (LESSON_VIDEO, MODULE_NAME, "lesson.srt", "lesson.vtt")  # files taken by name


class BuildFolderError(Exception):
    """A build folder eval will not read (the message names the field and the path)."""


@dataclass(frozen=True)
class BuildFolder:
    path: Path  # as given
    root: Path  # its real path
    manifest: dict
    files: dict[str, Path]  # "output", "module", "lesson.mp4", "subtitles[0]"... -> checked real path
    lesson: Path | None  # the lesson file, when it may be read
    lesson_note: str  # why `lesson` is None

    def first(self, *names: str) -> Path | None:
        """The first of the checked files `names` that exists."""
        return next((self.files[n] for n in names if n in self.files and self.files[n].exists()), None)

    def video(self) -> Path | None:
        return self.first(LESSON_VIDEO, "output")

    def module(self) -> Path | None:
        return self.first("module", MODULE_NAME)

    def subtitles(self) -> Path | None:
        named = sorted(n for n in self.files if n.startswith("subtitles["))
        return self.first("lesson.srt", "lesson.vtt", *named)


def is_build(path: Path) -> bool:
    """A folder with a manifest.json (a link there counts: load_build refuses it)."""
    return path.is_dir() and os.path.lexists(path / MANIFEST_NAME)


def read_text(path: Path, limit: int = MAX_TEXT_BYTES) -> str | None:
    """A checked file's text (a regular file only, never through a link); None if unreadable."""
    data = read_regular(path, limit)
    return None if data is None else data.decode("utf-8", errors="replace")


def load_build(path: str | os.PathLike[str]) -> BuildFolder:
    """Open the build folder `path`: its manifest read and every path in it checked (see the
    module doc). Raises BuildFolderError."""
    given = Path(path)
    try:
        safe_dir(given)
    except UnsafePathError as exc:
        raise BuildFolderError(f"{exc} (eval reads a build only from its own folder)") from None
    root = Path(os.path.realpath(given))
    manifest_path = given / MANIFEST_NAME
    data = read_regular(root / MANIFEST_NAME, MAX_MANIFEST_BYTES)
    if data is None:
        raise BuildFolderError(f"{shown(manifest_path)} is not a regular file (a link, a folder or "
                               "unreadable); eval reads only a build's own manifest — render the "
                               "lesson again")
    try:
        manifest = json.loads(data.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise BuildFolderError(f"{shown(manifest_path)}: not a valid manifest ({exc})") from None
    if not isinstance(manifest, dict):
        raise BuildFolderError(f"{shown(manifest_path)}: not a valid manifest (not a JSON object)")
    home = _written_in(manifest, manifest_path)
    files: dict[str, Path] = {}
    for field, value in _named_files(manifest):
        if value is not None:
            what = f"the manifest field `{field}`"
            files[field] = build_file(root, _below(home, value, what, manifest_path), what, value,
                                      manifest_path)
    for name in _BY_NAME:
        files[name] = build_file(root, PurePath(name), f"{name} of the build", name, manifest_path)
    lesson, note = _lesson(root, manifest.get("lesson"))
    return BuildFolder(given, root, manifest, files, lesson, note)


def _named_files(manifest: dict) -> list[tuple[str, object]]:
    """(field, value) of every path the manifest gives for a file of the build itself."""
    out: list[tuple[str, object]] = [(f, manifest.get(f)) for f in _FILE_FIELDS]
    subtitles = manifest.get("subtitles")
    out += [(f"subtitles[{i}]", v) for i, v in enumerate(subtitles if isinstance(subtitles, list) else [])]
    sections = manifest.get("sections")
    for i, section in enumerate(sections if isinstance(sections, list) else []):
        if isinstance(section, dict):
            out += [(f"sections[{i}].{f}", section.get(f)) for f in _SECTION_FILE_FIELDS]
    return out


def _written_in(manifest: dict, manifest_path: Path) -> str | None:
    """The folder the manifest's paths were written from (`build/<lesson>` as written): the
    folder of its `module`, which a build always names lesson_scenes.py; None without one."""
    module = manifest.get("module")
    if module is None:
        return None
    if not isinstance(module, str) or "\0" in module or PurePath(module).name != MODULE_NAME:
        raise BuildFolderError(f"{shown(manifest_path)}: the manifest field `module` names {module!r}, "
                               f"which is not a build's {MODULE_NAME}; eval reads only the build's own "
                               "files — render the lesson again")
    return os.path.dirname(os.path.normpath(module))


def _below(home: str | None, value: object, what: str, manifest_path: Path) -> PurePath:
    """`value`'s path below `home` (the folder the manifest was written in), lexically;
    a path that is not below it (an absolute path elsewhere, `../..`) is refused."""
    if not isinstance(value, str) or not value or "\0" in value:
        raise BuildFolderError(f"{shown(manifest_path)}: {what} is not a file path: {value!r}")
    rel: PurePath | None = None
    if home is not None:
        with contextlib.suppress(ValueError):
            rel = PurePath(os.path.normpath(value)).relative_to(home or ".")
    if rel is None or not rel.parts or rel.parts[0] == "..":
        where = (f"it lies outside {home or '.'}, the folder the manifest was written in" if home is not None
                 else "the manifest names no module, so no folder of its own")
        raise BuildFolderError(
            f"{shown(manifest_path)}: {what} names {value!r}, which is not a file of this build "
            f"({where}); eval reads only the build's own files — render the lesson again, or "
            "delete the build folder if it came with a repository")
    return rel


def build_file(root: Path, rel: PurePath, what: str, value: object, manifest_path: Path) -> Path:
    """The real path of `root/rel`, the file `what` (`value` in the manifest) names: it must
    lie inside the build folder `root` (a real path) once resolved, and be a regular file or
    be missing; anything else raises BuildFolderError."""
    real = Path(os.path.realpath(root / rel))
    if real == root or not real.is_relative_to(root):
        raise BuildFolderError(
            f"{shown(manifest_path)}: {what} names {value!r}, which is a link out of the build "
            f"folder {shown(root)} (to {real}); eval reads only the build's own files — delete "
            "the link, or the build folder if it came with a repository")
    try:
        mode = os.lstat(real).st_mode
    except FileNotFoundError:
        return real
    except OSError as exc:
        raise BuildFolderError(f"{shown(manifest_path)}: {what} ({value!r}) cannot be read: "
                               f"{exc.strerror}") from None
    if not stat.S_ISREG(mode):
        raise BuildFolderError(f"{shown(manifest_path)}: {what} names {value!r}, which is not a regular "
                               "file; eval reads only the build's own files")
    return real


def _lesson(root: Path, value: object) -> tuple[Path | None, str]:
    """The lesson file the manifest names, when it is a regular .lecture file inside the
    folder the build belongs to (the build root's parent); else None and why."""
    if not isinstance(value, str) or not value or "\0" in value:
        return None, "the manifest names no lesson file"
    project = root.parent.parent
    given = Path(value)
    bases = [] if given.is_absolute() else [Path.cwd(), project, root]
    candidates = [Path(os.path.realpath(base / given)) for base in bases] or [Path(os.path.realpath(given))]
    existing = [c for c in candidates if os.path.lexists(c)]
    if not existing:
        return None, f"lesson file {value} not found"
    for real in existing:
        try:
            regular = stat.S_ISREG(os.lstat(real).st_mode)
        except OSError:
            continue
        if regular and real.suffix == ".lecture" and real.is_relative_to(project):
            return real, ""
    if not any(real.is_relative_to(project) for real in existing):
        return None, f"the manifest's lesson {value} lies outside the folder the build belongs to; not read"
    return None, f"the manifest's lesson {value} is not a regular .lecture file; not read"
