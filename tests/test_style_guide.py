"""The style guide (docs/style.md) is one source: the Planner's prompt gives the model its rules
word for word, and the package ships it."""

import re
from pathlib import Path

from lecture.agents.planner import system_prompt
from lecture.agents.style_guide import END, START, style_guide, style_rules

ROOT = Path(__file__).resolve().parents[1]


def test_the_installed_guide_is_the_repository_one():
    assert style_guide() == (ROOT / "docs" / "style.md").read_text(encoding="utf-8")


def test_the_planner_prompt_carries_every_rule_of_the_guide():
    rules = style_rules()
    assert rules.startswith("- ") and rules.count("\n- ") >= 8
    prompt = system_prompt()
    assert rules in prompt
    assert START not in prompt and END not in prompt and "{{" not in prompt


def test_a_rule_added_to_the_guide_reaches_the_prompt_text():
    guide = style_guide().replace(END, "- A new rule.\n" + END)
    assert style_rules(guide).endswith("- A new rule.")


def test_every_checked_rule_names_a_code_that_check_reports():
    """`*Checked:* `code`` in the guide: the code is one that the checker's sources emit."""
    codes = re.findall(r"\*Checked:\*\s+`([a-z-]+)`", style_rules())
    assert len(codes) >= 4
    sources = "".join(p.read_text(encoding="utf-8") for folder in ("compiler", "runtime")
                      for p in (ROOT / folder).glob("*.py"))
    for code in codes:
        bare = code.removeprefix("layout-")  # layout findings are reported as layout-<code>
        assert f'"{bare}"' in sources, code
