"""Tables for people: what a report shows instead of a raw DataFrame.

:func:`show` turns a DataFrame into an HTML table a reader can use: no index column,
thousands separators, dates written at their precision, an interval written as
``6.1 M (4.4–8.2 M)``, a dash and the reason for a missing value, words for booleans,
full text that wraps instead of being cut, and wide tables that scroll inside their box
(or are transposed). Every cell is escaped: case text never reaches the page as HTML.

Examples
--------
>>> import pandas as pd
>>> from casekit import tables
>>> df = pd.DataFrame({
...     "delay_days": [0.0, 1.0], "final_reach": [6.07e6, 6.1e6], "lower": [4.4e6, 4.5e6],
...     "upper": [8.2e6, 8.3e6], "actual": [False, True]})
>>> t = tables.show(df, intervals={"final reach": ("final_reach", "lower", "upper")},
...                 labels={"delay_days": "delay (days)"})
>>> t.frame.to_dict("records")[0]
{'delay (days)': '0', 'final reach': '6.1 M (4.4–8.2 M)', 'actual': 'no'}
>>> "<table" in t._repr_html_() and "nan" not in t._repr_html_().lower()
True
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import pandas as pd

from casekit import format as fmt

__all__ = ["PeopleTable", "show", "TABLE_CSS"]

TABLE_CSS = """
.ck-table-box { overflow-x: auto; max-width: 100%; margin: 0.5em 0 1em 0; }
table.ck-table { border-collapse: collapse; font-size: 0.92em; }
table.ck-table th { text-align: left; border-bottom: 2px solid #999; padding: 4px 8px;
  vertical-align: bottom; }
table.ck-table td { border-bottom: 1px solid #ddd; padding: 4px 8px; vertical-align: top;
  text-align: left; white-space: normal; overflow-wrap: break-word; }
table.ck-table td.num { text-align: right; white-space: nowrap; }
table.ck-table td.text { min-width: 16em; max-width: 40em; }
"""

_PRECISION_COLUMNS = ("date_precision", "time_precision", "precision")


@dataclass(frozen=True)
class PeopleTable:
    """A table of formatted strings, ready to show (see :func:`show`).

    Attributes
    ----------
    frame : pandas.DataFrame
        Every cell as the text a reader sees.
    numeric : tuple of str
        Columns aligned right.
    text : tuple of str
        Long-text columns that wrap.
    caption : str or None
        Shown above the table (escaped).
    """

    frame: pd.DataFrame
    numeric: tuple[str, ...] = ()
    text: tuple[str, ...] = ()
    caption: str | None = None

    def to_html(self) -> str:
        """The escaped HTML table in a scrolling box."""
        head = "".join(f"<th>{html.escape(str(c))}</th>" for c in self.frame.columns)
        rows = []
        for rec in self.frame.itertuples(index=False, name=None):
            cells = []
            for col, value in zip(self.frame.columns, rec):
                cls = "num" if col in self.numeric else "text" if col in self.text else ""
                attr = f' class="{cls}"' if cls else ""
                cells.append(f"<td{attr}>{html.escape(str(value))}</td>")
            rows.append("<tr>" + "".join(cells) + "</tr>")
        cap = f"<caption>{html.escape(self.caption)}</caption>" if self.caption else ""
        return (
            f"<style>{TABLE_CSS}</style>"
            f'<div class="ck-table-box"><table class="ck-table">{cap}<thead><tr>{head}</tr>'
            f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
        )

    def _repr_html_(self) -> str:
        return self.to_html()

    def __str__(self) -> str:
        return self.frame.to_string(index=False)


def _precision_column(df: pd.DataFrame, col: str) -> str | None:
    for cand in (f"{col}_precision", *_PRECISION_COLUMNS):
        if cand in df.columns:
            return cand
    return None


def _end_column(df: pd.DataFrame, col: str) -> str | None:
    for cand in (f"{col}_end", "date_end", "time_end"):
        if cand in df.columns and cand != col:
            return cand
    return None


def _format_column(
    df: pd.DataFrame, col: str, reason: str | None, kind: str | None, currency: str | None
) -> tuple[list[str], bool]:
    s = df[col]
    if kind == "percent":
        return [fmt.percent(v, reason=reason) for v in s], True
    if kind == "money":
        return [fmt.money(v, currency or "USD", reason=reason) for v in s], True
    if kind == "compact":
        return [fmt.compact(v, reason=reason) for v in s], True
    if kind == "days":
        return [fmt.days(v, reason=reason) for v in s], True
    if pd.api.types.is_bool_dtype(s):
        return [fmt.boolean(v, reason=reason) for v in s], False
    if pd.api.types.is_datetime64_any_dtype(s):
        pcol, ecol = _precision_column(df, col), _end_column(df, col)
        out = []
        for i, v in enumerate(s):
            precision = str(df[pcol].iloc[i]) if pcol else "day"
            end = df[ecol].iloc[i] if ecol else None
            out.append(fmt.date(v, precision, end, reason=reason))
        return out, False
    if pd.api.types.is_numeric_dtype(s):
        return [fmt.number(v, reason=reason) for v in s], True
    return [fmt.cell(v, reason=reason) for v in s], False


def show(
    df: pd.DataFrame,
    *,
    intervals: Mapping[str, Sequence[str]] | None = None,
    labels: Mapping[str, str] | None = None,
    missing: Mapping[str, str] | None = None,
    kinds: Mapping[str, str] | None = None,
    currency: str | None = None,
    drop: Sequence[str] = (),
    text: Sequence[str] = (
        "description",
        "quote",
        "note",
        "claim",
        "reason",
        "statement",
        "assumptions",
        "item",
        "title",
    ),
    transpose: bool = False,
    caption: str | None = None,
) -> PeopleTable:
    """Format ``df`` for people.

    Parameters
    ----------
    df : pandas.DataFrame
        The table. Its index is dropped (reset it first to keep it as a column).
    intervals : mapping of label to (estimate, lower, upper[, kind])
        Columns merged into one interval column, written as ``6.1 M (4.4–8.2 M)``;
        ``kind`` is ``compact`` (default), ``number``, ``percent`` or ``days``.
    labels : mapping of column to label
        Column headings for people.
    missing : mapping of column to reason
        Why a value can be missing, written after the dash.
    kinds : mapping of column to kind
        ``percent`` (fractions), ``money``, ``compact`` or ``days``; other columns
        are formatted by type (numbers, dates at their precision, booleans as words).
    currency : str, optional
        For ``money`` columns.
    drop : sequence of str
        Columns to leave out. Precision and end-date columns used to write a date
        are left out automatically.
    text : sequence of str
        Long-text columns that wrap (never cut).
    transpose : bool
        Show one row per column instead (for wide, one-row tables).
    caption : str, optional
        A caption above the table.

    Returns
    -------
    PeopleTable
    """
    intervals = dict(intervals or {})
    labels = dict(labels or {})
    missing = dict(missing or {})
    kinds = dict(kinds or {})
    used: set[str] = set(drop)
    for col in df.columns:
        if pd.api.types.is_datetime64_any_dtype(df[col]):
            for helper in (_precision_column(df, col), _end_column(df, col)):
                if helper:
                    used.add(helper)
    merged: dict[str, list[str]] = {}
    first_of: dict[str, str] = {}
    for label, cols in intervals.items():
        est, lo, hi = cols[:3]
        kind = cols[3] if len(cols) > 3 else "compact"
        merged[label] = [
            fmt.interval(e, a, b, kind=kind, reason=missing.get(est))
            for e, a, b in zip(df[est], df[lo], df[hi])
        ]
        first_of[est] = label
        used.update({lo, hi})
    out: dict[str, list[str]] = {}
    numeric: list[str] = []
    for col in df.columns:
        if col in first_of:
            out[first_of[col]] = merged[first_of[col]]
            numeric.append(first_of[col])
            continue
        if col in used or col in {c for cols in intervals.values() for c in cols[:3]}:
            continue
        values, is_num = _format_column(df, col, missing.get(col), kinds.get(col), currency)
        name = labels.get(col, str(col))
        out[name] = values
        if is_num:
            numeric.append(name)
    frame = pd.DataFrame(out, dtype=object)
    text_cols = tuple(labels.get(c, c) for c in text)
    if transpose:
        frame = pd.DataFrame(
            {
                "": list(frame.columns),
                **{
                    str(i + 1) if len(frame) > 1 else "value": list(r)
                    for i, r in enumerate(frame.itertuples(index=False))
                },
            }
        )
        numeric = []
    return PeopleTable(frame=frame, numeric=tuple(numeric), text=text_cols, caption=caption)
