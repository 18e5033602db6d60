"""The case report's contents list matches the notebook's numbered headings."""

from __future__ import annotations

import re
from pathlib import Path

from casekit.report.summary import CASE_SECTIONS

NOTEBOOK = Path(__file__).resolve().parents[1] / "notebooks" / "case_report.py"


def _headings():
    """(anchor, heading text) of every heading that follows an ``<a id=...>`` anchor."""
    out, anchor = [], None
    for line in NOTEBOOK.read_text(encoding="utf-8").splitlines():
        m = re.match(r'# <a id="([^"]+)"></a>', line)
        if m:
            anchor = m.group(1)
            continue
        h = re.match(r"# #{2,3} (.+)", line)
        if h and anchor is not None:
            out.append((anchor, h.group(1).strip()))
            anchor = None
    return out


def test_contents_are_the_notebook_headings_in_order():
    assert list(CASE_SECTIONS) == _headings()


def test_section_numbers_have_no_gaps():
    numbers = [t.split(" ", 1)[0] for _, t in CASE_SECTIONS if t[0].isdigit()]
    seen: dict[str, int] = {}
    for n in numbers:
        parts = n.rstrip(".").split(".")
        if len(parts) == 1:
            assert int(parts[0]) == len([k for k in seen if "." not in k]) + 1, numbers
            seen[parts[0]] = 0
        else:
            seen[parts[0]] += 1
            assert int(parts[1]) == seen[parts[0]], f"{n} follows a gap in {numbers}"
