"""TeX confined: formulas typeset to SVG by our own runner, and a shared SVG cache that
trusts nothing it finds.

Manim's own TeX runner compiles in its media folder and lets TeX read and write what the
user can, with no time or memory limit. A formula is data from a lesson, possibly a cloned
one, so here each one is compiled

- in a private temporary folder of its own (never a shared one), as the working folder;
- by `latex -no-shell-escape -interaction=batchmode -halt-on-error`, with kpathsea told to
  be paranoid (`openin_any=p`, `openout_any=p`: no absolute paths, no `..`, no dotfiles,
  so nothing outside that folder and TeX's own tree is read or written) and no shell
  (`shell_escape=f`);
- under a wall-clock timeout (a macro loop is killed: its whole process group) and a
  memory cap (RLIMIT_AS, set by a tiny `sh` before it execs TeX: no preexec_fn, which is
  unsafe in threaded programs such as `lecture watch`);
- then converted by `dvisvgm`, confined the same way, with every special handler but
  colours off (no raw SVG, PostScript or image inclusion).

The SVGs are shared between processes (the compiler measuring, the render workers, other
lessons) through `<cache>/measure/Tex` and `<cache>/measure/texts` (Pango text), filled
only from our own runs and named by content: `<key>-<digest>.svg`, the key a hash of what
was typeset and the digest the first 16 hex digits of the SVG bytes' SHA-256. An entry is
used only if it is a regular file (opened without following links) whose bytes match its
digest; anything else found there is deleted and the SVG made again. Manim is handed a
private copy in a folder of this process (it writes a `<name>_.svg` next to every SVG it
parses, and reuses any file it finds at its own paths), never a path in the shared cache or
a build folder.

`install_svg_cache` puts this in place of Manim's runner in the current process; the
compiler's measuring (compiler/lower/registry.py) and the render workers
(runtime/render.py) both call it.
"""

from __future__ import annotations

import atexit
import contextlib
import hashlib
import json
import logging
import math
import os
import re
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeGuard

from lecture.compiler.user_cache import user_cache_dir

from .cache import pid_alive
from .safe_fs import UnsafePathError, read_regular, safe_dir, write_bytes_atomic
from .tex_preamble import with_lesson_preamble

log = logging.getLogger(__name__)

TEX_TIMEOUT_S = 20.0  # per program run; LECTURE_TEX_TIMEOUT overrides
TEX_MEMORY_BYTES = 1 << 30  # address space of latex and dvisvgm
MAX_SVG_BYTES = 32 << 20  # a cache entry larger than this is not read

# dvisvgm's special handlers that read files or paste raw SVG (dvisvgm:raw/img, PostScript
# through Ghostscript, pdf map files) are off; colours and drawing stay. (Keep the list
# short: dvisvgm 3.0.3 silently ignores a --no-specials list longer than 15 characters.)
_NO_SPECIALS = "dvisvgm,ps,pdf"
_COMPILERS = ("latex", "pdflatex", "xelatex")  # not luatex: its Lua can open any file


@dataclass(frozen=True)
class TexLimits:
    """How long and how much memory each TeX program may take."""

    timeout_s: float = TEX_TIMEOUT_S
    memory_bytes: int = TEX_MEMORY_BYTES

    @staticmethod
    def from_env() -> TexLimits:
        raw = os.environ.get("LECTURE_TEX_TIMEOUT", "")
        try:
            timeout = float(raw) if raw else TEX_TIMEOUT_S
        except ValueError:
            timeout = TEX_TIMEOUT_S
        return TexLimits(timeout if timeout > 0 else TEX_TIMEOUT_S)


class TexError(ValueError):
    """TeX (or dvisvgm) could not typeset a formula.

    Its message's first line is what a diagnostic shows after the element's name,
    `LaTeX error: ! Missing } inserted.` (TeX's own `!` line), the lines below it are the rest
    of what TeX said (`TeX says:`, its `!` lines and their `l.N` context), then, only when the
    log was kept, `See the log file: X.log`. `tex_says` holds those lines, read from the log
    before TeX's private folder is removed; `log_file` is the kept log (None: not kept)."""

    def __init__(self, message: str, log_file: Path | None = None, tex_says: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.log_file = log_file
        self.tex_says = tex_says


class TexTimeout(TexError):
    """TeX did not finish in time (a macro loop, or a formula far too big); it was killed."""


# ---------------------------------------------------------------- running TeX


def tex_to_svg(source: str, *, compilers: tuple[str, ...] = ("latex",), output_format: str = ".dvi",
               limits: TexLimits | None = None, log_dir: Path | None = None,
               name: str = "formula") -> bytes:
    """Typeset the LaTeX document `source` and return its first page as SVG bytes.

    Runs in a new private temporary folder, removed afterwards; all of it (TeX, then
    dvisvgm) within `limits.timeout_s`. On a TeX error its log is copied to
    `log_dir/<name>.log` (when given) and named by the TexError."""
    limits = limits or TexLimits.from_env()
    deadline = time.monotonic() + limits.timeout_s
    for compiler in compilers:
        if compiler not in _COMPILERS:
            raise TexError(f"the TeX compiler {compiler!r} is not supported; use one of "
                           + ", ".join(_COMPILERS))
    if output_format not in (".dvi", ".xdv", ".pdf"):
        raise TexError(f"TeX output format {output_format!r} is not supported")
    with tempfile.TemporaryDirectory(prefix="lecture-tex-") as tmp:
        work = Path(tmp)
        (work / "formula.tex").write_text(source, encoding="utf-8")
        for compiler in compilers:
            code = _run(_compile_command(compiler, output_format), work, limits, deadline,
                        program="TeX", likely="a macro loop?")
            if code != 0:
                raise _tex_failed(compiler, work / "formula.log", log_dir, name)
        out = work / "formula.svg"
        code = _run(["dvisvgm", *(["--pdf"] if output_format == ".pdf" else []), "--page=1",
                     "--no-fonts", "--verbosity=1", f"--no-specials={_NO_SPECIALS}",
                     f"--output={out.name}", "formula" + output_format], work, limits, deadline,
                    program="dvisvgm", likely="a formula far too big?")
        data = read_regular(out, MAX_SVG_BYTES + 1)
        if code != 0 or not _complete_svg(data):
            said = (read_regular(work / "stderr.txt", 4000) or b"").decode("utf-8", "replace")
            detail = said.strip().splitlines()[-1] if said.strip() else f"exit status {code}"
            raise TexError(f"dvisvgm could not convert the formula to SVG: {detail}")
        return data


def _compile_command(compiler: str, output_format: str) -> list[str]:
    if compiler == "xelatex":
        fmt = ["-no-pdf"] if output_format == ".xdv" else []
    else:
        fmt = [f"-output-format={output_format[1:]}"]
    return [compiler, "-no-shell-escape", "-interaction=batchmode", "-halt-on-error", *fmt,
            "formula.tex"]


def _confined_env() -> dict[str, str]:
    env = dict(os.environ)
    env.update(openin_any="p", openout_any="p", shell_escape="f")
    env.pop("TEXMFOUTPUT", None)  # paranoid mode lets TeX write anywhere under it
    return env


def _run(cmd: list[str], work: Path, limits: TexLimits, deadline: float, *, program: str,
         likely: str) -> int:
    """Run one program in `work`, confined and limited; its exit status. A run still going
    at `deadline` (time.monotonic) is killed with its whole process group and raises
    TexTimeout, naming the program and the likely reason."""
    kb = max(limits.memory_bytes // 1024, 1)
    cpu = math.ceil(limits.timeout_s) + 5  # a backstop should we die before killing it
    wrapper = ["/bin/sh", "-c", 'ulimit -v "$1" 2>/dev/null; ulimit -t "$2" 2>/dev/null; '
               'shift 2; exec "$@"', "sh", str(kb), str(cpu), *cmd]
    with open(work / "stderr.txt", "wb") as err:
        try:
            proc = subprocess.Popen(wrapper, cwd=work, env=_confined_env(), stdin=subprocess.DEVNULL,
                                    stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        except OSError as exc:
            raise TexError(f"{cmd[0]} could not be started ({exc}); install a TeX Live with "
                           "dvisvgm") from None
        try:
            return proc.wait(timeout=max(deadline - time.monotonic(), 0.1))
        except subprocess.TimeoutExpired:
            raise TexTimeout(f"{program} did not finish within {limits.timeout_s:g} s ({likely})") from None
        finally:
            if proc.returncode is None:  # timed out, or we were interrupted: none of it lives on
                with contextlib.suppress(OSError):
                    os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def _tex_failed(compiler: str, log: Path, log_dir: Path | None, name: str) -> TexError:
    """The TexError for a TeX run that failed: TeX's own lines from its log (read now: the
    private folder goes away), and the log kept in `log_dir` when one is given."""
    data = read_regular(log, 4 << 20)
    said = tex_log_errors(data.decode("utf-8", "replace")) if data is not None else ()
    kept = _keep_log(data, log_dir, name)
    return TexError(tex_error_message(compiler, said, kept), kept, said)


def tex_error_message(compiler: str, said: tuple[str, ...], log: Path | str | None = None) -> str:
    """What a TexError says (see TexError): TeX's first `!` line, then all it said."""
    first = next((line for line in said if line.startswith("!")), None)
    head = f"LaTeX error: {first}" if first else f"LaTeX error: {compiler} stopped and said nothing"
    lines = [head]
    if said:
        lines += ["TeX says:", *said]
    if log is not None:
        lines.append(f"See the log file: {log}")
    return "\n".join(lines)


_TEX_CONTEXT = re.compile(r"^l\.\d+")


def tex_log_errors(log: str, most: int = 6) -> tuple[str, ...]:
    """TeX's own error lines in a log: each `!` line and its `l.N` context (TeX prints the
    text read so far, then the rest on the next line: both are kept, joined by a space).
    The same error tends to repeat; the first `most` distinct lines are kept."""
    lines = log.splitlines()
    out: list[str] = []
    i = 0
    while i < len(lines):
        if lines[i].startswith("!"):
            out.append(lines[i].rstrip())
            for j in range(i + 1, min(i + 12, len(lines))):
                if lines[j].startswith("!"):
                    break
                if _TEX_CONTEXT.match(lines[j]):
                    context = lines[j].rstrip()
                    if j + 1 < len(lines) and lines[j + 1].strip():
                        context += " " + lines[j + 1].strip()
                    out.append(context)
                    i = j
                    break
        i += 1
    return tuple(dict.fromkeys(out))[:most]


def _keep_log(data: bytes | None, log_dir: Path | None, name: str) -> Path | None:
    if data is None or log_dir is None:
        return None
    try:
        return write_bytes_atomic(log_dir / f"{name}.log", data)
    except (OSError, UnsafePathError):
        return None


def _complete_svg(data: bytes | None) -> TypeGuard[bytes]:
    return data is not None and 0 < len(data) <= MAX_SVG_BYTES and b"</svg>" in data[-256:]


# ---------------------------------------------------------------- the shared, verified cache

_ENTRY = re.compile(r"(?P<key>[0-9a-f]{16,64})-(?P<digest>[0-9a-f]{16})\.svg")


def svg_digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


class SvgStore:
    """One folder of the shared SVG cache (`Tex` or `texts`): entries `<key>-<digest>.svg`,
    verified on every read. Any failure to use the folder (a link there, a read-only file
    system) makes it a cache that never hits; typesetting goes on without it."""

    def __init__(self, root: Path, kind: str) -> None:
        self.root = root
        self.kind = kind
        self._index: dict[str, list[str]] | None = None  # key -> entry names, as last listed
        self._warned = False

    def _folder(self) -> Path | None:
        try:
            return safe_dir(self.root, self.kind)
        except (OSError, UnsafePathError) as exc:
            if not self._warned:
                self._warned = True
                log.warning("not sharing typeset SVGs through %s: %s", self.root / self.kind, exc)
            return None

    def _list(self, folder: Path) -> dict[str, list[str]]:
        index: dict[str, list[str]] = {}
        with contextlib.suppress(OSError), os.scandir(folder) as entries:
            for entry in entries:
                m = _ENTRY.fullmatch(entry.name)
                if m:
                    index.setdefault(m["key"], []).append(entry.name)
        self._index = index
        return index

    def get(self, key: str) -> bytes | None:
        """The SVG stored for `key`, if a verified one is there; bad entries are deleted."""
        folder = self._folder()
        if folder is None:
            return None
        known = list((self._index or {}).get(key, ()))
        # Not seen (or gone) since the folder was last listed: another process may have made it.
        return self._first_good(folder, known) or self._first_good(folder, self._list(folder).get(key, []))

    def _first_good(self, folder: Path, names: list[str]) -> bytes | None:
        for name in names:
            path = folder / name
            data = read_regular(path, MAX_SVG_BYTES + 1)  # never through a link
            if data is not None and _complete_svg(data) and svg_digest(data) == name[-20:-4]:
                return data
            self._discard(path)
        return None

    def put(self, key: str, data: bytes) -> None:
        """Store an SVG we made; a link or a stray file at its name is replaced, not
        followed."""
        folder = self._folder()
        if folder is None or not _complete_svg(data):
            return
        name = f"{key}-{svg_digest(data)}.svg"
        try:
            write_bytes_atomic(folder / name, data)
        except (OSError, UnsafePathError) as exc:  # e.g. read-only in an isolated worker
            if not self._warned:
                self._warned = True
                log.warning("could not store a typeset SVG in %s: %s", folder, exc)
            return
        if self._index is not None:
            names = self._index.setdefault(key, [])
            if name not in names:
                names.append(name)

    @staticmethod
    def _discard(path: Path) -> None:
        """Remove a bad entry (a link itself, not its target; a stray folder too)."""
        try:
            if path.is_symlink() or not path.is_dir():
                path.unlink()
            else:
                shutil.rmtree(path)
        except OSError:
            pass


# ---------------------------------------------------------------- private copies for Manim

_SCRATCH: tuple[int, Path] | None = None
_SCRATCH_NAME = re.compile(r"lecture-svg-([1-9][0-9]{0,9})-[A-Za-z0-9_]+")


def _scratch() -> Path:
    """This process's own folder for the SVGs handed to Manim: made once (mode 0700),
    removed at exit, and by a later process should this one be killed first."""
    global _SCRATCH
    if _SCRATCH is None or _SCRATCH[0] != os.getpid():  # a forked child makes its own
        _sweep_scratch()
        folder = Path(tempfile.mkdtemp(prefix=f"lecture-svg-{os.getpid()}-"))
        atexit.register(shutil.rmtree, folder, True)
        _SCRATCH = (os.getpid(), folder)
    return _SCRATCH[1]


def _sweep_scratch() -> None:
    """Remove the scratch folders of our processes that have ended (a killed render worker
    leaves its own behind): our own real folders only, never a link."""
    with contextlib.suppress(OSError), os.scandir(tempfile.gettempdir()) as entries:
        for entry in entries:
            m = _SCRATCH_NAME.fullmatch(entry.name)
            if not m or int(m[1]) == os.getpid() or pid_alive(int(m[1])):
                continue
            with contextlib.suppress(OSError):
                st = entry.stat(follow_symlinks=False)
                if stat.S_ISDIR(st.st_mode) and st.st_uid == os.getuid():
                    shutil.rmtree(entry.path, ignore_errors=True)


def _private_copy(kind: str, key: str, data: bytes) -> Path:
    return write_bytes_atomic(_scratch() / kind / f"{key}.svg", data)


def _remove(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError, IsADirectoryError, PermissionError):
        path.unlink()


# ---------------------------------------------------------------- Manim, in this process


@dataclass
class _Installed:
    tex: SvgStore
    texts: SvgStore
    limits: TexLimits | None = None  # None: TexLimits.from_env() at each formula


_INSTALLED: _Installed | None = None
_PATCHED = False  # Manim's runner replaced by ours in this process


def measure_cache_dir() -> Path:
    """The shared cache of typeset SVGs: `user_cache_dir()/measure`."""
    return user_cache_dir() / "measure"


def _current() -> _Installed:
    """What install_svg_cache set up (the default cache folder before it is called)."""
    global _INSTALLED
    if _INSTALLED is None:
        root = measure_cache_dir()
        _INSTALLED = _Installed(SvgStore(root, "Tex"), SvgStore(root, "texts"))
    return _INSTALLED


def tex_key(code: str, compilers: tuple[str, ...], output_format: str) -> str:
    return hashlib.sha256(json.dumps([list(compilers), output_format, code]).encode()).hexdigest()[:32]


def tex_to_svg_file(expression: str, environment: str | None = None, tex_template: Any = None) -> Path:
    """Manim's `tex_to_svg_file`, confined and cached (see the module doc)."""
    from manim import config

    tmpl = tex_template if tex_template is not None else config["tex_template"]
    code = with_lesson_preamble(tmpl.get_texcode_for_expression_in_env(expression, environment)
                                if environment is not None else tmpl.get_texcode_for_expression(expression))
    compilers = (tmpl.tex_compiler,) if isinstance(tmpl.tex_compiler, str) else tuple(tmpl.tex_compiler)
    key = tex_key(code, compilers, tmpl.output_format)
    installed = _current()
    data = installed.tex.get(key)
    if data is None:
        # No log is kept: Manim's TeX folder belongs to this process and goes with it, and
        # the error carries TeX's own lines.
        data = tex_to_svg(code, compilers=compilers, output_format=tmpl.output_format,
                          limits=installed.limits)
        installed.tex.put(key, data)
    return _private_copy("Tex", key, data)


def _wrap_text(cls: Any, convert: Any) -> None:
    """Pango text: the same shared, verified cache. Manim's own `_text2svg` reuses any file
    it finds at its path, so that path is cleared before it runs."""
    original = cls._text2svg

    def _text2svg(self: Any, color: Any) -> str:
        from manim import config

        key = self._text2hash(convert(color))
        store = _current().texts
        data = store.get(key)
        if data is None:
            made = config.get_dir("text_dir") / f"{key}.svg"
            for stale in (made, made.with_name(f"{key}_.svg")):
                _remove(stale)
            svg = Path(original(self, color))
            data = read_regular(svg, MAX_SVG_BYTES + 1)
            _remove(svg)
            if not _complete_svg(data):
                raise ValueError(f"Pango could not draw the text {self.text[:40]!r}")
            store.put(key, data)
        return str(_private_copy("texts", key, data))

    cls._text2svg = _text2svg


def _as_written(self: Any, tex: str) -> str:
    """The formula TeX is given: what the lesson wrote. Manim's own version repairs a formula
    without a word (adds or drops braces, turns an unmatched \\left into \\big, adds a blank
    after a trailing ^ or _, empties a lone \\begin{array}), so `$\\frac{a}{b$` rendered as
    something else; here TeX refuses it, and the check says so at the formula. Only what
    cannot change the picture is kept: an empty formula is a blank, and a formula starting
    with a line break gets a blank first row (a document may not start with one)."""
    tex = tex.strip()
    if not tex:
        return "\\quad"
    return "\\quad" + tex if tex.startswith("\\\\") else tex


# ---------------------------------------------------------------- parsed texts, shared


_SHARING = 0  # >0: inside parsed_texts_shared()
MAX_PARSED_SVGS = 4096  # Manim's parsed SVGs kept in a process (memory), then forgotten


@contextlib.contextmanager
def parsed_texts_shared() -> Iterator[None]:
    """Inside, a Text or MarkupText is parsed from its SVG once per process and copied after
    that: Manim's own parsed-SVG cache (`use_svg_cache`), which every formula always uses, also
    for text. The copy is the mobject the parse made (its points, to the last bit), so what is
    measured is what a render draws; it only saves a warm process (runtime/warm_check.py)
    parsing the same SVG again at every check. Renders do not use it."""
    global _SHARING
    from manim.mobject.svg.svg_mobject import SVG_HASH_TO_MOB_MAP

    if len(SVG_HASH_TO_MOB_MAP) > MAX_PARSED_SVGS:
        SVG_HASH_TO_MOB_MAP.clear()
    _SHARING += 1
    try:
        yield
    finally:
        _SHARING -= 1


def _share_parsed(cls: Any) -> None:
    original = cls.__init__

    def __init__(self: Any, *args: Any, **kwargs: Any) -> None:
        if _SHARING and "use_svg_cache" not in kwargs:
            kwargs["use_svg_cache"] = True
        original(self, *args, **kwargs)

    cls.__init__ = __init__


def _share_svg_paths() -> None:
    """Copies of a mobject made from an SVG (a text, a formula) share the parsed path each of its
    pieces was made from (VMobjectFromSVGPath.path_obj) instead of copying it: Manim reads it only
    while it makes the piece and never changes it after, and deep-copying it was most of what
    copying a text cost (Manim builds a text it has parsed before by copying it; a step that
    highlights a line copies it). Nothing drawn changes: the pieces' points are copied as before."""
    import svgelements  # type: ignore[import-untyped]

    def shared(path: object, memo: dict[int, object]) -> object:
        return path

    svgelements.Path.__deepcopy__ = shared


def install_svg_cache(shared: Path | None = None, limits: TexLimits | None = None) -> None:
    """Make Manim, in this process, typeset formulas with `tex_to_svg_file` above and share
    TeX and text SVGs through the verified cache in `shared` (default: measure_cache_dir())."""
    global _INSTALLED, _PATCHED
    root = Path(shared) if shared is not None else measure_cache_dir()
    if not _PATCHED:
        from manim import ManimColor
        from manim.mobject.text import tex_mobject, text_mobject
        from manim.utils import tex_file_writing

        tex_mobject.tex_to_svg_file = tex_to_svg_file
        tex_file_writing.tex_to_svg_file = tex_to_svg_file
        tex_mobject.SingleStringMathTex._modify_special_strings = _as_written  # type: ignore[method-assign]
        _wrap_text(text_mobject.Text, lambda c: c)
        _wrap_text(text_mobject.MarkupText, ManimColor)
        _share_parsed(text_mobject.Text)
        _share_parsed(text_mobject.MarkupText)
        _share_svg_paths()
        _PATCHED = True
    _INSTALLED = _Installed(SvgStore(root, "Tex"), SvgStore(root, "texts"), limits)


__all__ = ["SvgStore", "TexError", "TexLimits", "TexTimeout", "install_svg_cache", "measure_cache_dir",
           "parsed_texts_shared", "svg_digest", "tex_key", "tex_to_svg", "tex_to_svg_file"]
