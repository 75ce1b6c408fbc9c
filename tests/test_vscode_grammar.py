"""The VS Code extension's TextMate grammar: it is the one compiler/highlight.py writes from
kinds.py, and, run by vscode-textmate on Oniguruma as VS Code runs it (node, from
editors/vscode/node_modules: `npm ci` there first, which scripts/build_vsix.sh does; the test
runs it when they are missing), it gives every example's kinds, ids, cells, durations, formulas,
strings and comments their scopes."""

from __future__ import annotations

import json
import shutil
import subprocess
import zipfile
from functools import cache
from pathlib import Path

from lecture.compiler.highlight import textmate_grammar
from lecture.compiler.kinds import KINDS, VERBS

ROOT = Path(__file__).resolve().parent.parent
EXTENSION = ROOT / "editors" / "vscode"
GRAMMAR = EXTENSION / "syntaxes" / "lecture.tmLanguage.json"
EXAMPLES = sorted((ROOT / "examples").glob("*.lecture"))

Token = tuple[str, tuple[str, ...]]


def test_the_grammar_file_is_generated_from_kinds() -> None:
    written = json.loads(GRAMMAR.read_text(encoding="utf-8"))
    assert written == textmate_grammar(), f"run: python -m lecture.compiler.highlight --textmate > {GRAMMAR}"
    manifest = json.loads((EXTENSION / "package.json").read_text(encoding="utf-8"))
    (grammar,) = manifest["contributes"]["grammars"]
    assert (EXTENSION / grammar["path"]).resolve() == GRAMMAR and grammar["scopeName"] == written["scopeName"]
    assert manifest["contributes"]["languages"][0]["extensions"] == [".lecture"]


@cache
def _node_modules() -> Path:
    modules = EXTENSION / "node_modules"
    if not (modules / "vscode-textmate").is_dir():
        npm = shutil.which("npm")
        assert npm is not None, "the grammar test needs Node.js and npm"
        subprocess.run([npm, "ci", "--no-audit", "--no-fund"], cwd=EXTENSION, check=True,
                       capture_output=True, timeout=600)
    return modules


def tokenize(paths: list[Path]) -> dict[str, list[list[Token]]]:
    _node_modules()
    node = shutil.which("node")
    assert node is not None, "the grammar test needs Node.js"
    result = subprocess.run([node, str(EXTENSION / "test" / "tokenize.js"), *map(str, paths)],
                            capture_output=True, text=True, timeout=120, check=True)
    return {file: [[(t["text"], tuple(t["scopes"])) for t in line] for line in lines]
            for file, lines in json.loads(result.stdout).items()}


def scope_of(tokens: list[list[Token]], text: str, on: str = "") -> tuple[str, ...]:
    """The scopes of the first token `text` (on the first line that has a token `on`)."""
    return next(scopes for line in tokens if not on or any(t == on for t, _ in line)
                for t, scopes in line if t == text)


def test_every_example_gets_its_scopes(tmp_path: Path) -> None:
    sample = tmp_path / "sample.lecture"
    sample.write_text(
        "# a comment\nlesson \"T\"\n  theme: light\n\nsection intro \"Intro\" 20s\n"
        "  line l1 \"A \\\"line\\\".\"\n  math eq $\\frac{a}{b}$ at B2 color=#ff8800\n"
        "  code prog \"\"\"\n    x = 1\n    \"\"\" in A1..C3 language=python\n"
        + "".join(f"  {kind} id_{kind} at C3\n" for kind in KINDS)
        + "".join(f"  step 500ms: {verb} a_{i}\n" for i, verb in enumerate(VERBS))
        + "  wait 1min\n", encoding="utf-8")
    found = tokenize([*EXAMPLES, sample])
    for path in EXAMPLES:  # every line of every example is read, and its words are scoped
        lines = found[str(path)]
        assert len(lines) == len(path.read_text(encoding="utf-8").split("\n"))
        names = {t for line in lines for t, scopes in line if "storage.type.kind.lecture" in scopes}
        assert names and names <= set(KINDS)
    tokens = found[str(sample)]
    assert "comment.line.number-sign.lecture" in scope_of(tokens, "# a comment")
    assert "keyword.control.section.lecture" in scope_of(tokens, "section")
    assert "entity.name.section.lecture" in scope_of(tokens, "intro")
    assert "variable.other.constant.line.lecture" in scope_of(tokens, "l1")
    for kind in KINDS:
        assert "storage.type.kind.lecture" in scope_of(tokens, kind, on=f"id_{kind}")
        assert "variable.other.definition.lecture" in scope_of(tokens, f"id_{kind}")
    for i, verb in enumerate(VERBS):
        assert "keyword.other.action.lecture" in scope_of(tokens, verb, on=f"a_{i}")
    for cell in ("B2", "A1", "C3"):
        assert "constant.other.cell.lecture" in scope_of(tokens, cell)
    for duration in ("20s", "500ms", "1min"):
        assert "constant.numeric.duration.lecture" in scope_of(tokens, duration)
    assert "meta.embedded.math.latex" in scope_of(tokens, "\\frac")  # LaTeX inside $…$
    assert "support.function.latex" in scope_of(tokens, "\\frac")
    assert "constant.character.escape.lecture" in scope_of(tokens, '\\"')
    assert "string.quoted.triple.lecture" in scope_of(tokens, '"""')
    assert "entity.other.attribute-name.lecture" in scope_of(tokens, "language")
    assert "constant.other.color.rgb-value.lecture" in scope_of(tokens, "#ff8800")
    assert "variable.parameter.setting.lecture" in scope_of(tokens, "theme")


def test_the_extension_packages_into_a_vsix(tmp_path: Path) -> None:
    """What scripts/build_vsix.sh does after `npm ci`: @vscode/vsce packs the extension with its
    client library (about 6 s)."""
    modules = _node_modules()
    node = shutil.which("node")
    assert node is not None
    subprocess.run([node, "--check", str(EXTENSION / "extension.js")], check=True, timeout=60)
    out = tmp_path / "lecture.vsix"
    subprocess.run([node, str(modules / "@vscode" / "vsce" / "vsce"), "package", "--allow-missing-repository",
                    "-o", str(out)], cwd=EXTENSION, check=True, capture_output=True, timeout=300)
    with zipfile.ZipFile(out) as vsix:
        names = set(vsix.namelist())
    assert {"extension/package.json", "extension/extension.js", "extension/language-configuration.json",
            "extension/syntaxes/lecture.tmLanguage.json",
            "extension/node_modules/vscode-languageclient/node.js"} <= names
    assert not any(n.startswith("extension/node_modules/vscode-textmate/") for n in names)  # dev only
