"""The server's state: its settings, the open documents and their analyses, and the slow
checks, which run after a pause in typing, on a worker thread, one at a time, and are dropped
when the text changed meanwhile.

Initialization options (all optional): `{"pause": 1.0, "layout": true, "narration": true,
"buildDir": "build", "quality": "low"}` — seconds without typing before the slow checks,
whether to run each, and where the preview's builds go (relative to the workspace folder).
When a slow check has been published the server sends `$/lecture/checked`
(`{"uri", "version", "diagnostics"}`)."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lecture.compiler.diagnostics import Diagnostic
from lsprotocol import types as lsp
from pygls.lsp.server import LanguageServer
from pygls.uris import to_fs_path

from lecture import __version__

from .analysis import Analysis, analyse
from .positions import Lines
from .preview import Previews
from .slow_checks import SlowResult, slow_checks


@dataclass
class Settings:
    pause: float = 1.0
    layout: bool = True
    narration: bool = True
    build_dir: str = "build"
    quality: str = "low"

    @staticmethod
    def of(options: Any) -> Settings:
        given = options if isinstance(options, dict) else {}
        return Settings(pause=float(given.get("pause", 1.0)), layout=bool(given.get("layout", True)),
                        narration=bool(given.get("narration", True)),
                        build_dir=str(given.get("buildDir", "build")),
                        quality=str(given.get("quality", "low")))


@dataclass
class Document:
    """What the server knows of one open lesson."""

    uri: str
    path: Path
    version: int
    analysis: Analysis
    last_good: Analysis | None = None  # the last analysis that parsed (completion while typing)
    slow: SlowResult | None = None  # the last slow checks of this version
    waiting: asyncio.Task | None = field(default=None, repr=False)

    @property
    def model(self) -> Analysis | None:
        """The analysis that has a model: the current one, or the last that parsed."""
        return self.analysis if self.analysis.lesson is not None else self.last_good


class LectureServer(LanguageServer):
    def __init__(self) -> None:
        super().__init__("lecture-lsp", __version__)
        self.settings = Settings()
        self.documents: dict[str, Document] = {}
        self.previews = Previews()
        self.root = Path.cwd()
        self.slow_runner = ThreadPoolExecutor(max_workers=1, thread_name_prefix="lecture-check")
        # the last slow checks of each document (kept while typing: hover and clicks read them)
        self.measured: dict[str, SlowResult] = {}

    # ------------------------------------------------------------ documents

    def update(self, uri: str, version: int, text: str) -> Document:
        path = Path(to_fs_path(uri) or "untitled.lecture")
        analysis = analyse(text, path, str(self.workspace.position_encoding or "utf-16"))
        doc = self.documents.get(uri)
        if doc is None:
            doc = self.documents[uri] = Document(uri, path, version, analysis)
        else:
            doc.version, doc.analysis, doc.slow = version, analysis, None
        if analysis.lesson is not None:
            doc.last_good = analysis
        self.publish(doc)
        self.schedule_slow_checks(doc)
        return doc

    def publish(self, doc: Document) -> None:
        found = list(doc.analysis.diagnostics) + list(doc.slow.diagnostics if doc.slow else ())
        lines = doc.analysis.lines
        self.text_document_publish_diagnostics(lsp.PublishDiagnosticsParams(
            uri=doc.uri, version=doc.version, diagnostics=[to_lsp(d, lines) for d in found]))

    def schedule_slow_checks(self, doc: Document) -> None:
        if doc.waiting is not None:
            doc.waiting.cancel()
        if doc.analysis.clean and (self.settings.layout or self.settings.narration):
            doc.waiting = asyncio.get_running_loop().create_task(self._slow_checks(doc, doc.version))

    async def _slow_checks(self, doc: Document, version: int) -> None:
        await asyncio.sleep(self.settings.pause)
        lesson = doc.analysis.lesson
        assert lesson is not None
        settings = self.settings
        build_root = self.build_root(doc.path)
        try:
            result = await asyncio.get_running_loop().run_in_executor(
                self.slow_runner, lambda: slow_checks(lesson, doc.path, layout=settings.layout,
                                                      narration=settings.narration, build_root=build_root))
        except Exception as exc:  # a bug in the checks: say so, and keep serving the fast ones
            self.window_log_message(lsp.LogMessageParams(
                type=lsp.MessageType.Error, message=f"lecture: the layout check failed: {exc!r}"))
            return
        if doc.version != version:
            return  # typed meanwhile: a newer run is on its way
        doc.slow = result
        self.measured[doc.uri] = result
        self.publish(doc)
        self.protocol.notify("$/lecture/checked", {"uri": doc.uri, "version": version,
                                                 "diagnostics": len(result.diagnostics)})

    def build_root(self, path: Path) -> Path:
        root = self.root if path.resolve().is_relative_to(self.root.resolve()) else path.parent
        return root / self.settings.build_dir


def to_lsp(d: Diagnostic, lines: Lines) -> lsp.Diagnostic:
    severity = lsp.DiagnosticSeverity.Error if d.severity == "error" else lsp.DiagnosticSeverity.Warning
    message = d.message + (f"\nhint: {d.hint}" if d.hint else "")
    return lsp.Diagnostic(range=lines.span_range(d.span), message=message, severity=severity,
                          code=d.code or None, source="lecture", data={"hint": d.hint, "code": d.code})
