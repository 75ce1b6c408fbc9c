"""`lecture lsp` end to end, the slow parts: after a pause in typing, the layout findings and the
narration's timing join the diagnostics (and hover shows the measured box); the preview
command starts the watch server and opens its page at the cursor's section."""

from __future__ import annotations

import asyncio
import sys
import urllib.request
from pathlib import Path

import pytest
import pytest_lsp
from lecture.compiler.layout import cell_center
from lecture.compiler.theme import FRAME_HEIGHT, FRAME_WIDTH
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

LECTURE = str(Path(sys.executable).with_name("lecture"))

LESSON = '''lesson "Crowded"
  voice: espeak

section crowd "Crowd"
  square a at C3 side=1 fill=blue
  text b "Overlapping words" at C3
  step 1s: say "This one sentence is far too long to be spoken in one second."; create a, b
'''


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("slow")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[LECTURE, "lsp"]))
async def client(lsp_client: LanguageClient, workspace: Path):
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=workspace.as_uri(),
        initialization_options={"pause": 0.2, "layout": True, "narration": True}))
    yield
    await lsp_client.shutdown_session()


@pytest.mark.asyncio(loop_scope="module")
async def test_layout_and_narration_after_a_pause(client: LanguageClient, workspace: Path) -> None:
    path = workspace / "crowd.lecture"
    path.write_text(LESSON, encoding="utf-8")
    uri = path.as_uri()
    checked = client.wait_for_notification("$/lecture/checked")
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=uri, language_id="lecture", version=1, text=LESSON)))
    await asyncio.wait_for(checked, 120)
    found = client.diagnostics[uri]
    overlap = [d for d in found if "overlap" in d.message]
    assert overlap and overlap[0].severity == lsp.DiagnosticSeverity.Warning
    assert overlap[0].range.start.line == 5 and overlap[0].code == "layout-overlap"  # at the text
    narration = [d for d in found if "narration needs" in d.message]
    assert narration and narration[0].range.start.line == 6  # at the step

    hovered = await client.text_document_hover_async(lsp.HoverParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=lsp.Position(line=4, character=9)))
    assert hovered is not None and isinstance(hovered.contents, lsp.MarkupContent)
    text = hovered.contents.value
    assert "box: C3 (x " in text and "as laid out by the last check" in text


@pytest.mark.asyncio(loop_scope="module")
async def test_a_click_on_the_preview_reveals_the_element(client: LanguageClient, workspace: Path) -> None:
    """Runs after the layout check above: a click on the text (beside the square both sit on;
    fractions of the picture) selects its line in the editor; a click on empty grid nothing."""
    uri = (workspace / "crowd.lecture").as_uri()
    cx, cy = cell_center("C3")
    fx, fy = 0.5 + (cx + 1.2) / FRAME_WIDTH, 0.5 - cy / FRAME_HEIGHT  # on the text, beside the square
    shown_before = len(client.shown_documents)
    found = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="lecture.reveal", arguments=[uri, "crowd", 1, fx, fy, True]))
    assert found == {"element": "b", "line": 5}
    (shown,) = client.shown_documents[shown_before:]
    assert shown.uri == uri and shown.selection is not None and shown.selection.start.line == 5
    fx, fy = 0.5 + cell_center("F6")[0] / FRAME_WIDTH, 0.5 - cell_center("F6")[1] / FRAME_HEIGHT
    assert await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="lecture.reveal", arguments=[uri, "crowd", 1, fx, fy, True])) is None
    step = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="lecture.stepAt", arguments=[uri, 6]))
    assert step == {"section": "crowd", "step": 1}


@pytest.mark.asyncio(loop_scope="module")
async def test_custom_code_is_checked_as_lecture_check_does(client: LanguageClient, workspace: Path) -> None:
    text = ('lesson "C"\n  voice: none\n\nsection s "S"\n'
            '  custom proof "Four copies of the triangle slide inside a square." in A1..F6\n'
            '  step 1s: play proof\n')
    path = workspace / "custom.lecture"
    path.write_text(text, encoding="utf-8")
    checked = client.wait_for_notification("$/lecture/checked")
    client.text_document_did_open(lsp.DidOpenTextDocumentParams(
        lsp.TextDocumentItem(uri=path.as_uri(), language_id="lecture", version=1, text=text)))
    await asyncio.wait_for(checked, 120)
    (found,) = [d for d in client.diagnostics[path.as_uri()] if d.code == "custom-no-code"]
    assert found.range.start.line == 4 and "has no code yet" in found.message


@pytest.mark.asyncio(loop_scope="module")
async def test_preview_opens_the_watch_page_at_the_section(client: LanguageClient, workspace: Path) -> None:
    path = workspace / "crowd.lecture"
    result = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="lecture.preview", arguments=[path.as_uri(), 5, True]))
    assert result["section"] == "crowd"
    assert result["url"].startswith("http://127.0.0.1:") and result["url"].endswith("/#section-crowd")
    assert client.shown_documents[-1].uri == result["url"] and client.shown_documents[-1].external
    with urllib.request.urlopen(result["url"].split("#")[0], timeout=30) as page:
        assert page.status == 200 and b"<html" in page.read().lower()
    again = await client.workspace_execute_command_async(lsp.ExecuteCommandParams(
        command="lecture.preview", arguments=[path.as_uri(), 0, False]))
    assert again["url"].split("#")[0] == result["url"].split("#")[0]  # the same server, reused
