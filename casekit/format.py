"""How casekit writes numbers, intervals, dates and case text for people.

One module serves every ``repr``, every result's prose and every report, so a number
reads the same everywhere. Missing values are written as a dash with the reason, never
as ``NaN`` or ``None``; case text that reaches HTML goes through :func:`html_text` or
:func:`html_link`, which escape it and let only http(s) and relative links through.

Examples
--------
>>> from casekit import format as fmt
>>> fmt.number(20000000.0), fmt.compact(6_071_000), fmt.compact(204_100)
('20,000,000', '6.07 M', '204 k')
>>> fmt.interval(6.1e6, 4.4e6, 8.2e6)
'6.1 M (4.4–8.2 M)'
>>> fmt.percent(-0.0812), fmt.percent(0.027, signed=True)
('−8.1 %', '+2.7 %')
>>> fmt.days(0.5), fmt.days(1 / 24), fmt.days(3), fmt.days(None, reason="first response unknown")
('12 hours', '1 hour', '3 days', '– (first response unknown)')
>>> import pandas as pd
>>> fmt.date(pd.Timestamp("2008-11-01"), "month"), fmt.date(pd.Timestamp("2009-07-06"))
('Nov 2008', '6 Jul 2009')
>>> fmt.html_link("javascript:alert(1)", "<b>x</b>")
'&lt;b&gt;x&lt;/b&gt;'
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "DASH",
    "is_missing",
    "missing",
    "number",
    "compact",
    "interval",
    "percent",
    "days",
    "money",
    "date",
    "boolean",
    "cell",
    "settings_text",
    "html_text",
    "html_link",
    "plot_text",
    "safe_url",
]

DASH = "–"
MINUS = "−"


def is_missing(x: Any) -> bool:
    """True for None, NaN, NaT and non-finite floats."""
    if x is None or x is pd.NaT:
        return True
    if isinstance(x, (float, np.floating)):
        return not math.isfinite(float(x))
    try:
        return bool(pd.isna(x))
    except (TypeError, ValueError):
        return False


def missing(reason: str | None = None) -> str:
    """A dash, with the reason in brackets when there is one."""
    return f"{DASH} ({reason})" if reason else DASH


def _sign(x: float, text: str, signed: bool) -> str:
    if text.strip("0.,% ") == "" or text.startswith("0 "):  # rounds to zero: no sign
        return text
    if x < 0:
        return MINUS + text
    return ("+" + text) if signed else text


_SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


def number(x: Any, digits: int = 3, *, reason: str | None = None, signed: bool = False) -> str:
    """A number for people: thousands separators from 1,000 on, else ``digits`` significant.

    >>> number(204100.0), number(0.012345), number(float("nan"), reason="no fit")
    ('204,100', '0.0123', '– (no fit)')
    >>> number(7.054e-250)
    '7.05 × 10⁻²⁵⁰'
    >>> number(400.47, 2), number(689.8, 1)  # whole digits are never cut
    ('400', '690')
    """
    if is_missing(x):
        return missing(reason)
    v = float(x)
    a = abs(v)
    if a >= 1000:
        text = f"{a:,.0f}"
    elif a == 0:
        text = "0"
    else:
        text = f"{a:.{digits}g}"
        if "e" in text and a >= 1:  # more whole digits than ``digits``: keep them all
            text = f"{a:.0f}"
        elif "e" in text and a >= 1e-6:  # small: plain decimals
            text = f"{a:.{digits + int(-math.floor(math.log10(a)))}f}".rstrip("0").rstrip(".")
        elif "e" in text:  # tiny (a p-value, say): a power of ten for people, never e-250
            mantissa, exponent = text.split("e")
            text = f"{mantissa} × 10{str(int(exponent)).translate(_SUPERSCRIPT)}"
    return _sign(v, text, signed)


_SCALES = ((1e12, "T"), (1e9, "bn"), (1e6, "M"), (1e3, "k"))


def _scale_of(a: float) -> tuple[float, str]:
    for factor, suffix in _SCALES:
        if a >= factor:
            return factor, suffix
    return 1.0, ""


def _scaled(a: float, factor: float, digits: int) -> str:
    v = a / factor
    if factor == 1.0:
        return number(v, digits)
    text = f"{v:.{digits}g}"
    if "e" in text:
        text = f"{v:,.0f}"
    return text


def compact(x: Any, digits: int = 3, *, reason: str | None = None, signed: bool = False) -> str:
    """A large number with a scale word: ``6.07 M``, ``204 k``, ``1.2 bn``.

    >>> compact(999), compact(1234), compact(-2.5e9)
    ('999', '1.23 k', '−2.5 bn')
    """
    if is_missing(x):
        return missing(reason)
    v = float(x)
    factor, suffix = _scale_of(abs(v))
    text = _scaled(abs(v), factor, digits) + (f" {suffix}" if suffix else "")
    return _sign(v, text, signed)


def _is_open(bound: Any, sign: int) -> bool:
    try:
        v = float(bound)
    except (TypeError, ValueError):
        return False
    return math.isinf(v) and (v > 0) == (sign > 0)


def _bare(text: str, kind: str) -> str:
    """The estimate part of an interval text, without a trailing ``days``."""
    head = text[: text.index(" (")] if " (" in text else text
    return head.removesuffix(" days") if kind == "days" else head


def interval(
    estimate: Any,
    lower: Any,
    upper: Any,
    *,
    digits: int = 2,
    unit: str = "",
    kind: str = "compact",
    reason: str | None = None,
) -> str:
    """An estimate with its interval, at one scale: ``6.1 M (4.4–8.2 M)``.

    ``kind`` is ``"compact"`` (scale words), ``"number"``, ``"percent"`` (fractions) or
    ``"days"``. A missing bound is written as a dash; a missing estimate gives
    :func:`missing` with the reason.

    >>> interval(3.8, 2.9, 4.9, kind="days")
    '3.8 days (2.9–4.9)'
    >>> interval(0.027, -0.221, 0.276, kind="percent")
    '2.7 % (−22.1 to 27.6 %)'

    An infinite bound is a side the data leave open, and says so:

    >>> interval(2.9, 2.9, float("inf"), kind="days")
    '2.9 days (at least 2.9; no upper limit from the data)'
    """
    if is_missing(estimate):
        return missing(reason)
    lo_open = _is_open(lower, -1)
    hi_open = _is_open(upper, 1)
    if lo_open or hi_open:
        whole = interval(estimate, estimate, estimate, digits=digits, unit=unit, kind=kind)
        head = whole[: whole.index(" (")] if " (" in whole else whole
        if lo_open and hi_open:
            return f"{head} (no limits: the data do not bound it)"
        if hi_open:
            low = interval(lower, lower, lower, digits=digits, unit=unit, kind=kind)
            return f"{head} (at least {_bare(low, kind)}; no upper limit from the data)"
        high = interval(upper, upper, upper, digits=digits, unit=unit, kind=kind)
        return f"{head} (at most {_bare(high, kind)}; no lower limit from the data)"
    u = f" {unit}" if unit else ""
    if kind == "percent":
        e, lo, hi = (percent(v, 1) if not is_missing(v) else DASH for v in (estimate, lower, upper))
        return f"{e}{u} ({lo.removesuffix(' %')} to {hi}{u})"
    if kind == "days":
        lo, hi = (
            DASH if is_missing(v) else f"{float(v):.{digits - 1 if digits > 1 else 0}f}"
            for v in (lower, upper)
        )
        e = f"{float(estimate):.{digits - 1 if digits > 1 else 0}f}"
        return f"{e} days ({lo}–{hi})"
    if kind == "number":
        lo, hi = (number(v, digits + 1) for v in (lower, upper))
        return f"{number(estimate, digits + 1)}{u} ({lo}–{hi}{u})"
    finite = [abs(float(v)) for v in (estimate, lower, upper) if not is_missing(v)]
    factor, suffix = _scale_of(max(finite))
    sfx = f" {suffix}" if suffix else ""

    def one(v: Any) -> str:
        if is_missing(v):
            return DASH
        text = _scaled(abs(float(v)), factor, digits)
        return _sign(float(v), text, False)

    return f"{one(estimate)}{sfx}{u} ({one(lower)}–{one(upper)}{sfx}{u})"


def percent(x: Any, digits: int = 1, *, signed: bool = False, reason: str | None = None) -> str:
    """A fraction as a percentage: ``0.081`` -> ``8.1 %`` (``signed`` adds ``+``)."""
    if is_missing(x):
        return missing(reason)
    v = float(x) * 100
    return _sign(v, f"{abs(v):.{digits}f} %", signed)


def days(x: Any, *, reason: str | None = None, digits: int = 1) -> str:
    """A duration in days: whole days as ``3 days``, under two days in hours."""
    if is_missing(x):
        return missing(reason or None)
    v = float(x)
    if abs(v - round(v)) < 1e-9:
        n = int(round(v))
        return f"{n} day{'s' if abs(n) != 1 else ''}".replace("-", MINUS)
    if abs(v) < 2:
        h = v * 24
        text = f"{abs(h):.{digits}g}" if abs(h) < 10 else f"{abs(h):.0f}"
        return _sign(h, f"{text} hour{'' if text == '1' else 's'}", False)
    return _sign(v, f"{abs(v):.{digits}f} days", False)


_CURRENCY_SIGNS = {"USD": "$", "EUR": "€", "GBP": "£", "CAD": "CA$", "CHF": "CHF "}


def money(x: Any, currency: str = "USD", *, reason: str | None = None, signed: bool = False) -> str:
    """An amount of money: ``$56 M``, ``€1,200``, ``£350``.

    >>> money(-5.6e7), money(1200, "EUR"), money(1234.5, "NOK")
    ('−$56 M', '€1,200', '1,234 NOK')
    """
    if is_missing(x):
        return missing(reason)
    v = float(x)
    a = abs(v)
    text = (
        compact(a, 2)
        if a >= 1e6
        else f"{a:,.0f}"
        if a >= 100
        else f"{a:,.2f}".rstrip("0").rstrip(".")
    )
    sign = _CURRENCY_SIGNS.get(currency.upper())
    text = f"{sign}{text}" if sign else f"{text} {currency.upper()}"
    return _sign(v, text, signed)


def date(ts: Any, precision: str = "day", end: Any = None, *, reason: str | None = None) -> str:
    """A date written at its precision: ``2008`` (year), ``Nov 2008`` (month),
    ``6 Jul 2009`` (day), ``6 Jul 2009 13:09`` (hour), ``c. 6 Jul 2009`` (approximate)
    or ``7–8 Jul 2009`` (range)."""
    if is_missing(ts):
        return missing(reason or "unknown")
    t = pd.Timestamp(ts)
    if precision == "year":
        return f"{t.year}"
    if precision == "month":
        return t.strftime("%b %Y")
    day = f"{t.day} {t.strftime('%b %Y')}"
    if precision == "hour":
        zone = t.strftime(" %Z") if t.tzinfo is not None else ""
        return f"{day} {t:%H:%M}{zone}".rstrip()
    if precision == "approximate":
        return f"c. {day}"
    if precision == "range" and not is_missing(end):
        e = pd.Timestamp(end)
        if (e.year, e.month) == (t.year, t.month):
            return f"{t.day}–{e.day} {e.strftime('%b %Y')}"
        return f"{day} – {e.day} {e.strftime('%b %Y')}"
    return day


def boolean(x: Any, yes: str = "yes", no: str = "no", *, reason: str | None = None) -> str:
    """A boolean in words."""
    if is_missing(x):
        return missing(reason)
    return yes if bool(x) else no


def cell(x: Any, *, reason: str | None = None) -> str:
    """Any table value for people: words for booleans, dates at day precision,
    numbers per :func:`number`, a dash for missing values."""
    if isinstance(x, (bool, np.bool_)):
        return boolean(x)
    if is_missing(x):
        return missing(reason)
    if isinstance(x, pd.Timestamp):
        has_time = (x.hour, x.minute, x.second) != (0, 0, 0)
        return date(x, "hour" if has_time else "day")
    if isinstance(x, (int, np.integer)):
        return number(int(x))
    if isinstance(x, (float, np.floating)):
        return number(float(x))
    if isinstance(x, (list, tuple)):
        return ", ".join(cell(v) for v in x)
    return str(x)


def settings_text(settings: Mapping[str, Any]) -> str:
    """The settings and assumptions of a result, one per line, for its prose."""
    lines = []
    for k, v in settings.items():
        lines.append(f"  - {k}: {v if isinstance(v, str) else cell(v)}")
    return "\n".join(lines)


# --------------------------------------------------------------------------- HTML

# Links: http(s), or relative with no scheme. A relative link may not start with "//" or a
# backslash: "//host/x" is another host (on a file:// page a network share), and browsers
# read "\\" as "/". A colon is allowed in a relative link only after a "/", "?" or "#",
# where no browser reads it as a scheme, and an "&" only there too (no "&#106;avascript:"
# for a page that would decode the entity).
_SAFE_URL = re.compile(
    r"^(?:https?://[^/\\]|(?![/\\]{2})/|\.{1,2}/|[?#]|[^:/?#\\&]+(?:[/?#]|$))", re.I
)
# What browsers drop from a URL before reading its scheme (leading C0 controls and spaces,
# tab and newlines anywhere); any other control character makes the URL refused here.
_URL_STRIP = "".join(chr(i) for i in range(0x21))
_URL_DROP = re.compile(r"[\t\n\r]")
_URL_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")


def html_text(text: Any) -> str:
    """Case text escaped for HTML and for Markdown cells.

    ``<``, ``>``, ``&`` and quotes become entities, and so do the characters Markdown would
    read as syntax (links ``[x](y)``, emphasis, code, math ``$``), so the text shows exactly
    as written and nothing in it becomes markup, a link or a script.

    Examples
    --------
    >>> html_text("<script>x</script> [a](javascript:b) $5")
    '&lt;script&gt;x&lt;/script&gt; &#91;a&#93;&#40;javascript:b&#41; &#36;5'
    >>> html_text(None)
    '–'
    """
    if is_missing(text):
        return DASH
    s = html.escape(str(text), quote=True)
    # Markdown would turn these into links, emphasis, math or HTML: keep them literal.
    return re.sub(r"([\[\]()*_`\\<>!|$~])", lambda m: f"&#{ord(m.group(1))};", s)


def plot_text(text: Any) -> str:
    """Case text for a plotly title, annotation, legend or hover label.

    plotly.js reads a few HTML-like tags in these (``<b>``, ``<i>``, ``<br>``, ``<a>``,
    ``<span style>``) and decodes entities, so case text is escaped to show as written.

    Examples
    --------
    >>> plot_text("<b>Acme</b> & co")
    '&lt;b&gt;Acme&lt;/b&gt; &amp; co'
    """
    if is_missing(text):
        return DASH
    return html.escape(str(text), quote=False)


def safe_url(url: Any) -> str | None:
    """``url`` if it may become a link (http(s) or relative), else None.

    Refused: every other scheme (``javascript:``, ``data:``, ``vbscript:``, ``file:`` ...,
    in any case and behind leading spaces or control characters), protocol-relative
    ``//host`` links, backslashes and control characters. Tabs and newlines are dropped,
    as browsers do; inner spaces are percent-encoded.

    Examples
    --------
    >>> safe_url("https://example.org/a b"), safe_url("../cases/x.html")
    ('https://example.org/a%20b', '../cases/x.html')
    >>> [safe_url(u) for u in (" JaVaScRiPt:alert(1)", "java\tscript:x", "//evil.example/x")]
    [None, None, None]
    """
    if is_missing(url):
        return None
    u = _URL_DROP.sub("", str(url)).strip(_URL_STRIP)
    if not u or _URL_CONTROL.search(u) or "\\" in u or not _SAFE_URL.match(u):
        return None
    return u.replace(" ", "%20")


def html_link(url: Any, label: Any) -> str:
    """An escaped anchor when ``url`` is safe, else the escaped label alone."""
    u = safe_url(url)
    if u is None:
        return html_text(label)
    return (
        f'<a href="{html.escape(u, quote=True)}" rel="noopener noreferrer">{html_text(label)}</a>'
    )
