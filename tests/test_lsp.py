"""`lecture lsp` end to end: a real client (pytest-lsp) talks to the server started as its own
process over stdio, one test per feature. The slow checks (layout, narration) are off here:
tests/test_lsp_slow.py covers them and the preview."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import pytest
import pytest_lsp
from lsprotocol import types as lsp
from pytest_lsp import ClientServerConfig, LanguageClient, client_capabilities

LECTURE = str(Path(sys.executable).with_name("lecture"))

DEMO = '''# comment one
# comment two
lesson "Demo"
  theme: chalkboard

section intro "Intro" 10s
  line l1 "Here is a circle."
  line l2 "And a square."

  circle c at B2 color=blue
  square sq in C3..D4
  label lc "c" right of c
  value x0 = 1
  value y0 = "2 x0" at F2

  step 2s: say l1 "A circle."; create c, lc
  step 2s:
    say l2
    create sq
    write y0
  step 1s: change x0 to 2
  wait 1s

section other "Other"
  line l1 "Elsewhere."
  circle c at A1
  step 1s: say l1; create c
'''


@pytest.fixture(scope="module")
def workspace(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("workspace")


@pytest_lsp.fixture(scope="module", config=ClientServerConfig(server_command=[LECTURE, "lsp"]))
async def client(lsp_client: LanguageClient, workspace: Path):
    await lsp_client.initialize_session(lsp.InitializeParams(
        capabilities=client_capabilities("visual-studio-code"),
        root_uri=workspace.as_uri(),
        initialization_options={"layout": False, "narration": False}))
    yield
    await lsp_client.shutdown_session()


_versions: dict[str, int] = {}


async def open_doc(client: LanguageClient, workspace: Path, name: str, text: str) -> str:
    """Open (or replace) a document and wait for its diagnostics."""
    uri = (workspace / name).as_uri()
    (workspace / name).write_text(text, encoding="utf-8")
    version = _versions.get(uri, 0) + 1
    _versions[uri] = version
    waiting = client.wait_for_notification(lsp.TEXT_DOCUMENT_PUBLISH_DIAGNOSTICS)
    if version == 1:
        client.text_document_did_open(lsp.DidOpenTextDocumentParams(
            lsp.TextDocumentItem(uri=uri, language_id="lecture", version=version, text=text)))
    else:
        client.text_document_did_change(lsp.DidChangeTextDocumentParams(
            lsp.VersionedTextDocumentIdentifier(uri=uri, version=version),
            [lsp.TextDocumentContentChangeWholeDocument(text=text)]))
    await asyncio.wait_for(waiting, 30)
    return uri


def at(text: str, needle: str, nth: int = 0, offset: int = 0) -> lsp.Position:
    """The position of the nth occurrence of needle (plus offset characters)."""
    index = -1
    for _ in range(nth + 1):
        index = text.index(needle, index + 1)
    index += offset
    line = text.count("\n", 0, index)
    return lsp.Position(line=line, character=index - (text.rfind("\n", 0, index) + 1))


def labels(items: lsp.CompletionList | list[lsp.CompletionItem] | None) -> set[str]:
    assert items is not None
    found = items.items if isinstance(items, lsp.CompletionList) else items
    return {i.label for i in found}


@pytest.mark.asyncio(loop_scope="module")
async def test_diagnostics_as_you_type(client: LanguageClient, workspace: Path) -> None:
    text = 'lesson "T"\nsection s "S"\n  cirle c at B2\n  step 1s: create c\n'
    uri = await open_doc(client, workspace, "typing.lecture", text)
    found = client.diagnostics[uri]
    assert [d.message.split("\n")[0] for d in found] == ["unknown element kind 'cirle'"]
    first = found[0]
    assert first.range == lsp.Range(start=lsp.Position(line=2, character=2),
                                    end=lsp.Position(line=2, character=7))
    assert first.severity == lsp.DiagnosticSeverity.Error and first.code == "unknown-kind"
    assert "hint: did you mean 'circle'?" in first.message
    # a syntax error while typing
    await open_doc(client, workspace, "typing.lecture", text.replace("step 1s", "step 1"))
    assert [d.code for d in client.diagnostics[uri]] == ["syntax"]
    # fixed: nothing left
    await open_doc(client, workspace, "typing.lecture", text.replace("cirle", "circle"))
    assert list(client.diagnostics[uri]) == []
    # columns in UTF-16 code units, as VS Code counts them: the emoji takes two (19 characters)
    emoji = await open_doc(client, workspace, "emoji.lecture",
                           'lesson "T"\nsection s "S"\n  text t "\U0001F600" at B2 colr=red\n'
                           '  step 1s: write t\n')
    (option,) = client.diagnostics[emoji]
    assert option.code == "unknown-option" and option.range.start == lsp.Position(line=2, character=20)


@pytest.mark.asyncio(loop_scope="module")
async def test_completion(client: LanguageClient, workspace: Path) -> None:
    text = DEMO.replace("  wait 1s\n", "  wait 1s\n  \n  step 1s: \n  step 1s: say \n  step 1s: create \n"
                        "  square s2 \n  square s3 at \n  square s4 color=\n  step 1s: move c to B3 ease=\n")
    uri = await open_doc(client, workspace, "complete.lecture", text)

    async def complete(position: lsp.Position) -> set[str]:
        return labels(await client.text_document_completion_async(lsp.CompletionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=position)))

    line_of = {t: i for i, t in enumerate(text.split("\n"))}
    end = {t: lsp.Position(line=i, character=len(t)) for t, i in line_of.items()}
    statement = await complete(end["  "])
    assert {"circle", "math", "axes", "step", "line", "wait"} <= statement  # kinds from kinds.py
    assert await complete(lsp.Position(line=0, character=0)) >= {"section"}  # the section snippet
    assert {"create", "fade in", "say", "change"} <= await complete(end["  step 1s: "])
    assert await complete(end["  step 1s: say "]) == {"l1", "l2"}  # lecture lines for say
    assert {"c", "sq", "lc", "x0", "y0"} <= await complete(end["  step 1s: create "])
    assert {"color=", "fill=", "side=", "at", "in", "below"} <= await complete(end["  square s2 "])
    assert {"A1", "C4", "F6"} <= await complete(end["  square s3 at "])
    assert {"blue", "light_gray"} <= await complete(end["  square s4 color="])
    assert await complete(end["  step 1s: move c to B3 ease="]) == {"smooth", "linear", "in", "out",
                                                                    "there_and_back"}
    assert await complete(at(text, "is a circle", offset=3)) == set()  # inside a string


@pytest.mark.asyncio(loop_scope="module")
async def test_hover(client: LanguageClient, workspace: Path) -> None:
    uri = await open_doc(client, workspace, "hover.lecture", DEMO)

    async def hover(position: lsp.Position) -> str:
        result = await client.text_document_hover_async(lsp.HoverParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), position=position))
        assert result is not None and isinstance(result.contents, lsp.MarkupContent)
        return result.contents.value

    assert "**circle** — a circle" in await hover(at(DEMO, "circle c", offset=2))
    assert "**color=** (colour)" in await hover(at(DEMO, "color=blue", offset=1))
    assert "**create** — draw elements" in await hover(at(DEMO, "create c", offset=1))
    assert "**theme:**" in await hover(at(DEMO, "theme:", offset=1))
    element = await hover(at(DEMO, "sq in", offset=0))
    assert "**square sq**" in element and "placed in C3..D4" in element
    assert "> Here is a circle." in await hover(at(DEMO, "say l1", offset=5))


@pytest.mark.asyncio(loop_scope="module")
async def test_definition(client: LanguageClient, workspace: Path) -> None:
    uri = await open_doc(client, workspace, "definition.lecture", DEMO)
    result = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=at(DEMO, "create c, lc", offset=7)))
    assert isinstance(result, lsp.Location)
    assert result.range.start == at(DEMO, "c at B2")
    # section-scoped: the `c` of the second section is its own
    other = await client.text_document_definition_async(lsp.DefinitionParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=at(DEMO, "create c\n", nth=0, offset=7)))
    assert isinstance(other, lsp.Location) and other.range.start == at(DEMO, "c at A1")


@pytest.mark.asyncio(loop_scope="module")
async def test_references(client: LanguageClient, workspace: Path) -> None:
    uri = await open_doc(client, workspace, "references.lecture", DEMO)
    found = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=at(DEMO, "x0 = 1"),
        context=lsp.ReferenceContext(include_declaration=True)))
    assert found is not None
    # declared, inside y0's expression, and changed
    assert [r.range.start for r in found] == [at(DEMO, "x0 = 1"), at(DEMO, 'x0"'), at(DEMO, "x0 to 2")]
    lines = await client.text_document_references_async(lsp.ReferenceParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri), position=at(DEMO, "l1 \"Here"),
        context=lsp.ReferenceContext(include_declaration=False)))
    assert lines is not None and [r.range.start for r in lines] == [at(DEMO, "l1 \"A circle")]


@pytest.mark.asyncio(loop_scope="module")
async def test_rename(client: LanguageClient, workspace: Path) -> None:
    uri = await open_doc(client, workspace, "rename.lecture", DEMO)
    document = lsp.TextDocumentIdentifier(uri=uri)
    prepared = await client.text_document_prepare_rename_async(lsp.PrepareRenameParams(
        text_document=document, position=at(DEMO, "c at B2")))
    assert prepared == lsp.Range(start=at(DEMO, "c at B2"), end=at(DEMO, "c at B2", offset=1))
    edit = await client.text_document_rename_async(lsp.RenameParams(
        text_document=document, position=at(DEMO, "c at B2"), new_name="disc"))
    assert edit is not None and edit.changes is not None
    starts = sorted((e.range.start.line, e.range.start.character) for e in edit.changes[uri])
    expected = [at(DEMO, "c at B2"), at(DEMO, "c\n  value"), at(DEMO, "c, lc")]
    assert starts == [(p.line, p.character) for p in expected]  # not the other section's `c`
    with pytest.raises(Exception, match="grid cell"):
        await client.text_document_rename_async(lsp.RenameParams(
            text_document=document, position=at(DEMO, "c at B2"), new_name="B4"))


@pytest.mark.asyncio(loop_scope="module")
async def test_document_symbols(client: LanguageClient, workspace: Path) -> None:
    uri = await open_doc(client, workspace, "symbols.lecture", DEMO)
    symbols = await client.text_document_document_symbol_async(lsp.DocumentSymbolParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert symbols is not None
    names = [s.name for s in symbols if isinstance(s, lsp.DocumentSymbol)]
    assert names == ['lesson "Demo"', "intro", "other"]
    intro = symbols[1]
    assert isinstance(intro, lsp.DocumentSymbol) and intro.children is not None
    assert [c.name for c in intro.children] == ["l1", "l2", "c", "sq", "lc", "x0", "y0", "step 1 2s",
                                                "step 2 2s", "step 3 1s", "wait 1s"]
    assert intro.children[2].detail == "circle"


@pytest.mark.asyncio(loop_scope="module")
async def test_folding_ranges(client: LanguageClient, workspace: Path) -> None:
    uri = await open_doc(client, workspace, "folding.lecture", DEMO)
    ranges = await client.text_document_folding_range_async(lsp.FoldingRangeParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri)))
    assert ranges is not None
    spans = {(r.start_line, r.end_line) for r in ranges}
    lines = DEMO.split("\n")
    assert (0, 1) in spans  # the comments
    assert (lines.index('section intro "Intro" 10s'), lines.index("  wait 1s")) in spans
    assert (lines.index("  step 2s:"), lines.index("    write y0")) in spans


@pytest.mark.asyncio(loop_scope="module")
async def test_formatting(client: LanguageClient, workspace: Path) -> None:
    messy = 'lesson "T"\nsection s "S"\n    circle c   at B2\n    step 1s:   create c   # go\n'
    uri = await open_doc(client, workspace, "format.lecture", messy)
    edits = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        options=lsp.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert edits is not None and len(edits) == 1
    assert edits[0].new_text == ('lesson "T"\n\nsection s "S"\n  circle c at B2\n\n'
                                 '  step 1s: create c  # go\n')
    uri = await open_doc(client, workspace, "format.lecture", edits[0].new_text)
    again = await client.text_document_formatting_async(lsp.DocumentFormattingParams(
        text_document=lsp.TextDocumentIdentifier(uri=uri),
        options=lsp.FormattingOptions(tab_size=2, insert_spaces=True)))
    assert not again


@pytest.mark.asyncio(loop_scope="module")
async def test_code_actions(client: LanguageClient, workspace: Path) -> None:
    text = ('lesson "T"\nsection s "S"\n  line l1 "One."\n  cirle c at B2\n'
            '  circle d at C3 colr=red\n  step 1s: say l1; create d, e\n')
    uri = await open_doc(client, workspace, "actions.lecture", text)

    async def fixes(code: str) -> list[lsp.CodeAction]:
        chosen = [d for d in client.diagnostics[uri] if d.code == code]
        assert chosen, f"no {code} diagnostic in {[d.code for d in client.diagnostics[uri]]}"
        found = await client.text_document_code_action_async(lsp.CodeActionParams(
            text_document=lsp.TextDocumentIdentifier(uri=uri), range=chosen[0].range,
            context=lsp.CodeActionContext(diagnostics=chosen)))
        assert found is not None
        return [a for a in found if isinstance(a, lsp.CodeAction)]

    def edit_of(action: lsp.CodeAction) -> lsp.TextEdit:
        assert action.edit is not None and action.edit.changes is not None
        (edit,) = action.edit.changes[uri]
        return edit

    (kind,) = await fixes("unknown-kind")
    assert kind.title == "Change to 'circle'"
    assert edit_of(kind) == lsp.TextEdit(
        range=lsp.Range(start=at(text, "cirle"), end=at(text, "cirle", offset=5)), new_text="circle")
    (option,) = await fixes("unknown-option")  # only the misspelt key of `colr=red`
    assert edit_of(option) == lsp.TextEdit(
        range=lsp.Range(start=at(text, "colr"), end=at(text, "colr", offset=4)), new_text="color")
    (declare,) = await fixes("undefined-id")
    assert declare.title == "Declare text 'e'"
    assert edit_of(declare).new_text == '  text e "…" auto\n'
    assert edit_of(declare).range.start == lsp.Position(line=5, character=0)  # after the last element

    text = 'lesson "T"\nsection s "S"\n  circle d at C3\n  step 12: create d\n'
    uri = await open_doc(client, workspace, "actions.lecture", text)
    (unit,) = await fixes("syntax")
    assert unit.title == "Write 12s"
    assert edit_of(unit).new_text == "s" and edit_of(unit).range.start == at(text, ": create")
