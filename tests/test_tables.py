"""Tables for people: what a reader sees instead of raw pandas output."""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

import casekit as ck
from casekit import tables

RAW_MARKERS = re.compile(r"\bNaN\b|\bnan\b|\bNone\b|\bNaT\b|e[+-]0\d|\bTrue\b|\bFalse\b|00:00:00")


def _cells(t: tables.PeopleTable) -> list[str]:
    return [str(v) for v in t.frame.to_numpy().ravel()]


def test_bundled_case_tables_have_no_raw_values():
    for case_id in ("united-breaks-guitars", "werder-bremen-wiesenhof", "synthetic-example"):
        c = ck.load_case(case_id)
        for df in (c.timeline, c.reach, c.costs, c.sources):
            t = tables.show(df.drop(columns=["line"], errors="ignore"))
            bad = [v for v in _cells(t) if RAW_MARKERS.search(v)]
            assert not bad, (case_id, bad[:5])
            assert "line" not in t.frame.columns


def test_dates_are_written_at_their_precision():
    df = pd.DataFrame(
        {
            "date": pd.to_datetime(["2008-11-01", "2009-07-06", "2009-07-07", "2009-01-01"]),
            "date_precision": ["month", "day", "range", "year"],
            "date_end": pd.to_datetime([None, None, "2009-07-08", None]),
        }
    )
    t = tables.show(df)
    assert list(t.frame["date"]) == ["Nov 2008", "6 Jul 2009", "7–8 Jul 2009", "2009"]
    assert list(t.frame.columns) == ["date"]  # the helper columns are used, not shown


def test_intervals_missing_values_and_booleans():
    df = pd.DataFrame(
        {
            "quantity": ["final reach", "t90"],
            "estimate": [6.1e6, np.nan],
            "lower": [4.4e6, np.nan],
            "upper": [8.2e6, np.nan],
            "on_bound": [True, False],
            "n": [20000000.0, 2.041e5],
        }
    )
    t = tables.show(
        df, intervals={"value": ("estimate", "lower", "upper")}, missing={"estimate": "no fit"}
    )
    assert list(t.frame["value"]) == ["6.1 M (4.4–8.2 M)", "– (no fit)"]
    assert list(t.frame["on_bound"]) == ["yes", "no"]
    assert list(t.frame["n"]) == ["20,000,000", "204,100"]
    assert "lower" not in t.frame.columns and "upper" not in t.frame.columns


def test_case_text_is_escaped_and_never_cut():
    long = "A very long description " * 20 + "<script>alert(1)</script>"
    page = tables.show(pd.DataFrame({"description": [long]}))._repr_html_()
    assert "<script>alert" not in page and "&lt;script&gt;" in page
    assert "A very long description " * 20 in page  # full text, wrapped by CSS


def test_transpose_for_wide_one_row_tables():
    df = pd.DataFrame([{f"col{i}": i * 1000.0 for i in range(12)}])
    t = tables.show(df, transpose=True)
    assert list(t.frame.columns) == ["", "value"] and len(t.frame) == 12
    assert t.frame.iloc[3, 1] == "3,000"
