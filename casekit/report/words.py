"""The words of a report: a glossary, full citations, and curve names written out.

One place holds every term a report explains and every reference it cites, so a
report can define a term where it first appears (:func:`explain`), list the terms in a
glossary section (:func:`glossary`), turn the citation keys that casekit's texts carry
(``[L5]``, ``methods.md §4.2``) into links (:func:`cite`) and print the References
section (:func:`references`).

Examples
--------
>>> from casekit.report import words
>>> words.describe_curve("logisticx2")
'two-wave logistic, both waves free'
>>> words.describe_curve("logistic+response")
'logistic, with the response inside the curve'
>>> "Hurvich" in words.REFERENCES["AICc"].text
True
>>> words.cite("supported by [L5] (methods.md §4.2)")
'supported by <a href="#ref-L5">[L5]</a> &#40;<a href="#ref-methods">methods.md §4.2</a>&#41;'
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from casekit import format as fmt

__all__ = [
    "Term",
    "Reference",
    "GLOSSARY",
    "REFERENCES",
    "CURVE_WORDS",
    "describe_curve",
    "explain",
    "cite",
    "glossary",
    "references",
    "Block",
]


@dataclass(frozen=True)
class Block:
    """A piece of ready HTML for a notebook cell (``_repr_html_``) and its plain text."""

    html: str
    text: str = ""

    def _repr_html_(self) -> str:
        return self.html

    def __str__(self) -> str:
        return self.text

    def __repr__(self) -> str:
        return self.text or "<casekit report block>"


@dataclass(frozen=True)
class Term:
    """A glossary entry: the term, a one-line definition, and where to read more."""

    name: str
    definition: str
    ref: str | None = None


@dataclass(frozen=True)
class Reference:
    """A full citation, with a link where the work is online."""

    key: str
    text: str
    url: str | None = None


GLOSSARY: dict[str, Term] = {
    t.name: t
    for t in (
        Term(
            "AICc",
            "Akaike's information criterion, corrected for small samples: how well a curve "
            "fits, with a penalty for each parameter. Lower is better; a difference under "
            "about 2 means two curves fit about equally well.",
            "AICc",
        ),
        Term(
            "loss",
            "what the fit minimises. 'ols' squares the differences of the counts; 'log' "
            "squares the differences of their logarithms, so a reading of 10,000 weighs "
            "as much as one of 10 million; 'robust' lets outlying readings weigh less.",
        ),
        Term(
            "log scale",
            "an axis on which each step multiplies by the same factor (1, 10, 100, ...), so "
            "the first days and the later years of a story fit on one page.",
        ),
        Term(
            "saturation",
            "the final reach of a fitted growth curve: the level it approaches and never passes.",
        ),
        Term(
            "time to 90 %",
            "days from the story going public until the fitted curve reaches 90 % of its "
            "final reach.",
        ),
        Term(
            "confidence band",
            "the range that holds the fitted curve 95 times out of 100 (from the "
            "uncertainty of its parameters). Single readings scatter more than the curve, "
            "so some lie outside it.",
        ),
        Term(
            "effectiveness",
            "the share of further spread a response stops (0 = none, 1 = all; below 0: the "
            "response fuelled the storm). Estimated from the data, with an interval, when "
            "readings straddle the response; otherwise a scenario chosen by the reader, and "
            "the report says which.",
            "L5",
        ),
        Term(
            "CPM",
            "cost per mille: the money value given to 1,000 negative impressions.",
        ),
        Term(
            "Shitstorm scale",
            "a 0-6 severity scale for online outrage, like the Beaufort scale for wind, "
            "from single critical posts (0) to a storm reported by mass media and lasting "
            "weeks (6).",
            "L7",
        ),
        Term(
            "event study",
            "a test of whether a share price moved more than the market explains: a market "
            "model is fitted to the months before the event and its forecast compared "
            "with what happened.",
            "E1",
        ),
        Term(
            "CAR",
            "cumulative abnormal return: over a window of trading days, the sum of the "
            "differences between the share's return and what the market model predicted.",
            "E1",
        ),
        Term(
            "money lens",
            "one way to put a money value on the story, resting on its own assumptions; "
            "lenses overlap and are never added up.",
        ),
    )
}
"""Every term a report explains, by name."""

REFERENCES: dict[str, Reference] = {
    r.key: r
    for r in (
        Reference(
            "L1",
            "Twitter and Applied Marketing Science (2015). Customer service interactions on "
            "Twitter boost consumer spending (airline study: 600 k+ service tweets, 1,156 "
            "users surveyed; stated preference, platform-sponsored). Twitter Marketing.",
            "https://marketing.twitter.com/emea/en_gb/insights/customer-service-interactions-"
            "on-twitter-boost-consumer-spending.html",
        ),
        Reference(
            "L2",
            "Twitter (2016). Study: Twitter customer care increases willingness to pay across "
            "industries. Twitter blog.",
            "https://blog.x.com/en_us/a/2016/study-twitter-customer-care-increases-willingness"
            "-to-pay-across-industries",
        ),
        Reference(
            "L5",
            "Herhausen, D., Ludwig, S., Grewal, D., Wulf, J. & Schoegel, M. (2019). Detecting, "
            "preventing, and mitigating online firestorms in brand communities. Journal of "
            "Marketing 83(3), 1-21.",
            "https://doi.org/10.1177/0022242918822300",
        ),
        Reference(
            "L7",
            "Graf, D. & Schwede, B. (2012). Shitstorm-Skala: a Beaufort-style severity scale "
            "(0-6) for online outrage. Marketing-Wiki.",
            "https://marketing-wiki.ch/content/shitstorm",
        ),
        Reference(
            "S1a",
            "Meltwater. Understanding Alert Types (spike detection rules). Meltwater Community.",
            "https://community.meltwater.com/alerts-205/understanding-alert-types-8057",
        ),
        Reference(
            "S6a",
            "Socialmetrix. Variation alerts (24-hour mean against the 7-day mean plus k "
            "standard deviations). Socialmetrix support.",
            "https://socialmetrix.freshdesk.com/support/solutions/articles/1000143951-"
            "variation-alerts",
        ),
        Reference(
            "E1",
            "MacKinlay, A. C. (1997). Event studies in economics and finance. Journal of "
            "Economic Literature 35(1), 13-39.",
            "https://www.jstor.org/stable/2729691",
        ),
        Reference(
            "AICc",
            "Hurvich, C. M. & Tsai, C.-L. (1989). Regression and time series model selection "
            "in small samples. Biometrika 76(2), 297-307.",
            "https://doi.org/10.1093/biomet/76.2.297",
        ),
        Reference(
            "methods",
            "casekit research notes (2026). casekit: methods, target figures and "
            "cost-of-delay methods (methods.md; § numbers in the texts refer to its "
            "sections: §4 the money lenses, §4.1 willingness to pay, §4.2 reach avoided, "
            "§4.7 severity and early detection). Distributed with the casekit project's "
            "research folder.",
        ),
    )
}
"""Every work a report cites, by the key casekit's texts use."""

CURVE_WORDS: dict[str, str] = {
    "logistic": "logistic (S-shaped, symmetric around its fastest day)",
    "gompertz": "Gompertz (S-shaped, fast start and long slow end)",
    "richards": "Richards (S-shaped, asymmetry fitted)",
    "bass": "Bass diffusion (spread by outside news and by word of mouth)",
    "expsat": "exponential saturation (fastest on the first day, then slowing)",
}
"""Curve names written out for people."""

_NUMBER_WORDS = {2: "two", 3: "three", 4: "four", 5: "five"}
_ORDINALS = ("first", "second", "third", "fourth", "fifth")


def describe_curve(name: str) -> str:
    """A fitted curve's name written out for people.

    ``<curve>x<k>`` is a sum of ``k`` waves whose start days are fitted freely;
    ``<curve>x<k>[free,313]`` anchors a wave at a day; ``<curve>+response`` has the
    company's response inside the curve. Unknown names come back unchanged.

    >>> describe_curve("logisticx2[0,free]")
    'two-wave logistic, first wave anchored at day 0, second wave free'
    """
    name = str(name)
    if name.endswith("+response"):
        return describe_curve(name.removesuffix("+response")).split(" (")[0] + (
            ", with the response inside the curve"
        )
    m = re.fullmatch(r"([a-z]+)x(\d+)(?:\[(.*)\])?", name)
    if not (m and m.group(1) in CURVE_WORDS):
        return CURVE_WORDS.get(name, name)
    k = int(m.group(2))
    base = CURVE_WORDS[m.group(1)].split(" (")[0]
    head = f"{_NUMBER_WORDS.get(k, str(k))}-wave {base}"
    if not m.group(3):
        return head + (", both waves free" if k == 2 else ", every wave free")
    parts = []
    for i, a in enumerate(m.group(3).split(",")):
        which = _ORDINALS[i] if i < len(_ORDINALS) else f"wave {i + 1}"
        a = a.strip()
        parts.append(f"{which} wave free" if a == "free" else f"{which} wave anchored at day {a}")
    return head + ", " + ", ".join(parts)


def explain(term: str) -> str:
    """Markdown for a term's first appearance: the term in bold and its definition.

    The definition links to the glossary section (``#glossary``).
    """
    t = GLOSSARY[term]
    return f"**{fmt.html_text(t.name)}** ([glossary](#glossary)): {fmt.html_text(t.definition)}"


_KEY = re.compile(r"&#91;([A-Z]+\d+[a-z]?)&#93;")
_METHODS = re.compile(r"methods\.md( §[0-9.]*[0-9])?")


def cite(text: str) -> str:
    """``text`` escaped (:func:`casekit.format.html_text`), with its citation keys
    (``[L5]``) and ``methods.md §…`` turned into links to the References section."""
    s = fmt.html_text(text)
    s = _KEY.sub(
        lambda m: (
            f'<a href="#ref-{m.group(1)}">[{m.group(1)}]</a>'
            if m.group(1) in REFERENCES
            else m.group(0)
        ),
        s,
    )
    return _METHODS.sub(lambda m: f'<a href="#ref-methods">{m.group(0)}</a>', s)


def glossary(terms: list[str] | None = None) -> Block:
    """The glossary section's body: every term (or ``terms``) with its definition."""
    items = []
    for name in terms or list(GLOSSARY):
        t = GLOSSARY[name]
        more = f' (<a href="#ref-{t.ref}">[{t.ref}]</a>)' if t.ref else ""
        items.append(
            f"<dt><b>{fmt.html_text(t.name)}</b></dt><dd>{fmt.html_text(t.definition)}{more}</dd>"
        )
    text = "\n".join(f"{GLOSSARY[n].name}: {GLOSSARY[n].definition}" for n in terms or GLOSSARY)
    return Block(f'<dl class="ck-glossary">{"".join(items)}</dl>', text)


def references(keys: list[str] | None = None) -> Block:
    """The References section's body: full citations, each with its anchor ``ref-<key>``."""
    items = []
    for key in keys or list(REFERENCES):
        r = REFERENCES[key]
        label = "methods.md" if key == "methods" else f"[{key}]"
        link = f" {fmt.html_link(r.url, r.url)}" if r.url else ""
        items.append(
            f'<li id="ref-{key}"><b>{fmt.html_text(label)}</b> {fmt.html_text(r.text)}{link}</li>'
        )
    text = "\n".join(f"[{k}] {REFERENCES[k].text}" for k in keys or REFERENCES)
    return Block(f'<ul class="ck-references">{"".join(items)}</ul>', text)
