"""The README's rule table is generated from the registry: it must list every rule."""

from __future__ import annotations

import re
from pathlib import Path

from r2d_tui.core.checks import iter_rules

README = Path(__file__).resolve().parent.parent / "README.md"


def test_readme_lists_every_rule_with_its_code_and_severity() -> None:
    text = README.read_text(encoding="utf-8")
    table = text.split("<!-- rules-table")[1].split("<!-- /rules-table -->")[0]
    rows = {
        m.group(2): (m.group(1), m.group(3))
        for m in re.finditer(r"^\| (R2D\d+) \| `([a-z0-9-]+)` \| (\w+) \|", table, re.M)
    }
    expected = {r.name: (r.code, r.severity.value) for r in iter_rules()}
    assert rows == expected


def test_readme_commands_exist() -> None:
    text = README.read_text(encoding="utf-8")
    assert "python3 -m venv .venv && .venv/bin/pip install -e '.[test]'" in text
    assert ".venv/bin/python -m pytest" in text
    assert (README.parent / ".ci" / "run").read_text().count(".venv/bin/python -m pytest") == 1
