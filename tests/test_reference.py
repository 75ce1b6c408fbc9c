"""The README's language reference is generated from the same tables the checks use."""

from pathlib import Path

from lecture.compiler import frontend
from lecture.compiler.format import format_text
from lecture.compiler.kinds import KINDS, OPTIONS, VERBS
from lecture.compiler.model import Element
from lecture.compiler.reference import README_END, README_START, language_reference

ROOT = Path(__file__).resolve().parents[1]


def test_readme_reference_is_current():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    embedded = readme[readme.index(README_START) + len(README_START): readme.index(README_END)]
    assert embedded.strip() == language_reference().strip(), (
        "README.md is out of date: run `lecture reference --update-readme README.md`")


def test_reference_documents_every_kind_action_and_option():
    text = language_reference()
    for name in KINDS:
        assert f"| `{name}` |" in text
    for verb in VERBS:
        assert f"| `{verb}` |" in text
    for key in OPTIONS:
        assert f"| `{key}` |" in text
    for placement in ("`at CELL`", "`in CELL..CELL`", "`below ID`", "`left of ID`", "`next to ID`", "`auto`"):
        assert placement in text


def test_every_kind_example_parses():
    """Each documented example is a valid element statement."""
    for spec in KINDS.values():
        text = ('lesson "x"\n\nsection s "S"\n  axes ax in A1..C3\n  text tri "t" at F6\n'
                f'  text note "n" at F1\n  {spec.example}\n')
        lesson = frontend.parse_text(text)
        kinds = [e.kind for e in lesson.sections[0].elements if isinstance(e, Element)]
        assert spec.name in kinds, spec.example
        # written as `lecture fmt` writes it, so that a copied example stays as it is
        assert f"  {spec.example}\n" in format_text(text), spec.example
