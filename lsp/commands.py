"""The server's commands: `lecture.preview` (the watch page of the lesson, at the cursor's
section), and preview ↔ source: `lecture.reveal` (a click on the preview selects the element's
line) and `lecture.stepAt` (the section and step of a line, for the preview to show)."""

from __future__ import annotations

from pathlib import Path

from lsprotocol import types as lsp
from pygls.uris import to_fs_path

from .analysis import section_at
from .documents import LectureServer
from .sync import element_at, step_at

PREVIEW_COMMAND = "lecture.preview"
REVEAL_COMMAND = "lecture.reveal"
STEP_AT_COMMAND = "lecture.stepAt"


def register_commands(server: LectureServer) -> None:
    @server.command(PREVIEW_COMMAND)
    @server.thread()
    def preview(ls: LectureServer, uri: str, line: int = 0, show: bool = True) -> dict:
        """Open the watch page of the lesson at the section holding `line` (0-based): the watch
        server is started on first use and renders on every save. Returns `{"url", "section"}`;
        with `show`, asks the editor to open the page too (window/showDocument)."""
        doc = ls.documents.get(uri)
        path = Path(to_fs_path(uri) or "")
        section = None
        model = doc.model if doc is not None else None
        if model is not None and model.lesson is not None:
            found = section_at(model.lesson, model.lines.offset(lsp.Position(line=line, character=0)))
            section = found.id if found is not None else None
        url = ls.previews.url(path, section, build_root=ls.build_root(path), quality=ls.settings.quality)
        if show:
            ls.window_show_document(lsp.ShowDocumentParams(uri=url, external=True))
        return {"url": url, "section": section}


    @server.command(REVEAL_COMMAND)
    def reveal(ls: LectureServer, uri: str, section: str, step: int | None, x: float, y: float,
               show: bool = True) -> dict | None:
        """A click on the preview at (x, y), fractions of the picture from its top-left corner, at
        the end of a step of a section: the element there (by the last layout check), and with
        `show` the editor selects its line (window/showDocument). None: nothing there."""
        doc = ls.documents.get(uri)
        measured = ls.measured.get(uri)
        model = doc.model if doc is not None else None
        if measured is None or model is None or model.lesson is None:
            return None
        element = element_at(measured, section, step, x, y)
        found = model.lesson.section(section)
        node = found.element(element) if found is not None and element is not None else None
        if node is None:
            return None
        where = model.lines.span_range(node.span)
        if show:
            ls.window_show_document(lsp.ShowDocumentParams(uri=uri, take_focus=True, selection=where))
        return {"element": element, "line": where.start.line}


    @server.command(STEP_AT_COMMAND)
    def step_at_line(ls: LectureServer, uri: str, line: int) -> dict | None:
        """The section and step (numbered from 1, waits counted) that a 0-based line is in, for the
        preview to show that step; `step` is null outside the steps."""
        doc = ls.documents.get(uri)
        model = doc.model if doc is not None else None
        if model is None or model.lesson is None:
            return None
        found = step_at(model.lesson, line + 1)
        return None if found is None else {"section": found[0].id, "step": found[1]}
