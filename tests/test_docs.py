"""The documentation site and the citation file, as a reader sees them.

The site is built once with Sphinx, warnings treated as errors, exactly as the README says
(plus ``-W --keep-going``); the tests then read the built HTML pages.
"""

from __future__ import annotations

import datetime as dt
import html
import importlib
import inspect
import re
import subprocess
import sys
import tomllib
from html.parser import HTMLParser
from pathlib import Path

import pytest
import yaml
from conftest import REPO_ROOT

sys.path.insert(0, str(REPO_ROOT / "docs"))
from conf import OPTIONAL_API, public_api_ready  # noqa: E402  (docs/conf.py)

import casekit.cases
import casekit.reach

NOTEBOOKS = sorted((REPO_ROOT / "notebooks").glob("*.py"))
API_MODULES = (
    "casekit",
    "casekit.cases",
    "casekit.reach",
    "casekit.response",
    "casekit.market",
    "casekit.plots",
    "casekit.render",
    "casekit.results",
    "casekit.format",
)
OPTIONAL_MODULES = tuple(OPTIONAL_API.values())


@pytest.fixture(scope="module")
def site(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("docs") / "html"
    build = subprocess.run(
        [sys.executable, "-m", "sphinx", "-W", "--keep-going", "-q", "-b", "html"]
        + ["docs", str(out)],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert build.returncode == 0, f"sphinx-build failed:\n{build.stdout}\n{build.stderr}"
    return out


class _Text(HTMLParser):
    """The visible text of an HTML fragment, with ``<pre>`` blocks collected apart."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.pre: list[str] = []
        self._in_pre = 0

    def handle_starttag(self, tag, attrs):
        if tag == "pre":
            self._in_pre += 1
            self.pre.append("")

    def handle_endtag(self, tag):
        if tag == "pre":
            self._in_pre -= 1

    def handle_data(self, data):
        self.parts.append(data)
        if self._in_pre:
            self.pre[-1] += data


def _read(fragment: str) -> _Text:
    parser = _Text()
    parser.feed(fragment)
    return parser


def _text(fragment: str) -> str:
    return " ".join("".join(_read(fragment).parts).split())


def _entry(page: str, name: str) -> str:
    """The HTML of one documented object: from its anchor to the next object's."""
    start = page.rindex("<dt", 0, page.index(f'id="{name}"'))
    following = page.find('<dt class="sig sig-object py"', start + 1)
    return page[start : following if following != -1 else len(page)]


def test_reach_fit_page_shows_parameters_and_an_example(site):
    page = (site / "api" / "reach.html").read_text(encoding="utf-8")
    fit = _entry(page, "casekit.reach.fit")
    text = _text(fit)
    assert text.startswith("casekit.reach.fit(data, curve=")
    summary = casekit.reach.fit.__doc__.strip().splitlines()[0]
    assert summary in text
    # every argument of the signature is listed, by name, in the Parameters field
    field = fit[fit.index(">Parameters<") : fit.index(">Returns<")]
    listed = re.findall(r"<strong>([\w*]+)</strong>", field)
    assert list(inspect.signature(casekit.reach.fit).parameters) == listed
    params = _text(field)
    assert "The case’s metric. Default: the cumulative metric with most observations." in params
    examples = text[text.index("Examples") :]
    assert '>>> res = ck.reach.fit(case, "gompertz", metric="video_views", loss="log")' in examples
    assert "('log', 28, 25)" in examples  # the doctest's output is shown with its call
    # the module page lists the rest of the public API, each with its own anchor
    for name in ("compare", "ReachFit", "multiwave", "describe"):
        assert f'id="casekit.reach.{name}"' in page, name


def test_every_public_module_has_an_api_page(site):
    index = (site / "api" / "index.html").read_text(encoding="utf-8")
    # parts written in parallel get a page once they import and declare ``__all__``
    modules = list(API_MODULES) + [m for m in OPTIONAL_MODULES if public_api_ready(m)]
    for module in modules:
        page = "casekit" if module == "casekit" else module.split(".", 1)[1]
        assert f'href="{page}.html"' in index, module
        html_page = (site / "api" / f"{page}.html").read_text(encoding="utf-8")
        assert f'id="module-{module}"' in html_page, module
        namespace = importlib.import_module(module)
        for name in [n for n in namespace.__all__ if callable(getattr(namespace, n))]:
            if module == "casekit" and name in ("Case", "KeyDate"):
                continue  # documented once, under casekit.cases
            assert f'id="{module}.{name}"' in html_page, f"{module}.{name}"


def test_api_pages_show_no_raw_markup(site):
    """A docstring paragraph numpydoc misreads (say, a loose paragraph inside Parameters,
    taken for a parameter) reaches the reader as raw reST: ``name``, :func:`x`."""
    raw = re.compile(r"``|:(?:func|mod|class|data|meth|attr|doc|ref):`")
    for path in sorted((site / "api").glob("*.html")):
        page = re.sub(r"<pre\b.*?</pre>", "", path.read_text(encoding="utf-8"), flags=re.S)
        text = _text(page)
        shown = [text[max(0, m.start() - 60) : m.end() + 40] for m in raw.finditer(text)]
        assert not shown, f"{path.name} shows raw markup: {shown[:3]}"


def test_case_format_page_has_the_reach_columns_table(site):
    page = (site / "case-format.html").read_text(encoding="utf-8")
    assert "casekit case format" in _text(page)
    section = page[page.index('id="reach-csv"') : page.index('id="costs-csv"')]
    table = section[section.index("<table") : section.index("</table>")]
    header = _text(table[: table.index("</thead>")])
    assert header == "column required content"
    rows = [_text(row) for row in re.split(r"<tr\b[^>]*>", table)[2:]]
    columns = [row.split()[0] for row in rows]
    assert columns == list(casekit.cases.REACH_COLUMNS)
    row = dict(zip(columns, rows))
    assert row["cumulative"].startswith("cumulative yes true for running totals")
    assert row["time_end"] == "time_end for range end of the range"


def test_notebooks_are_rendered_as_example_pages_with_their_code(site):
    assert NOTEBOOKS, "no notebooks found"
    index = (site / "examples" / "index.html").read_text(encoding="utf-8")
    for notebook in NOTEBOOKS:
        assert f'href="{notebook.stem}.html"' in index, notebook.name
        page = (site / "examples" / f"{notebook.stem}.html").read_text(encoding="utf-8")
        code = "\n".join(_read(page).pre)
        source = notebook.read_text(encoding="utf-8")
        cells = source[source.index("# %%") :].strip()  # without the jupytext header
        assert cells in code, f"{notebook.name}: code on the page differs from the notebook"
        assert '# %% tags=["parameters"]' in code
        title = re.search(r"^# # (.+)$", source, re.M).group(1)
        assert html.escape(title, quote=False).split(":")[0] in page


def test_citation_cff_is_valid_cff_1_2_0():
    cff = yaml.safe_load((REPO_ROOT / "CITATION.cff").read_text(encoding="utf-8"))
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    assert cff["cff-version"] == "1.2.0"
    for key in ("message", "title", "authors"):
        assert isinstance(cff[key], str | list) and cff[key], key
    assert cff["authors"] == [{"name": "casekit developers"}]
    assert cff["version"] == project["version"]
    assert cff["license"] == "MIT" == project["license"]["text"]
    if "date-released" in cff:
        assert isinstance(cff["date-released"], dt.date)
    allowed = {
        "type",
        "authors",
        "title",
        "journal",
        "year",
        "volume",
        "issue",
        "start",
        "end",
        "doi",
    }
    assert len(cff["references"]) >= 5
    for ref in cff["references"]:
        assert set(ref) <= allowed, set(ref) - allowed
        assert ref["type"] == "article" and ref["title"] and ref["journal"]
        assert isinstance(ref["year"], int) and 1900 < ref["year"] <= 2026
        assert all(a["family-names"] and a["given-names"] for a in ref["authors"])
        assert ref["start"] < ref["end"]
        if "issue" in ref:
            assert isinstance(ref["issue"], str)  # the schema wants a string
        if "doi" in ref:
            assert re.fullmatch(r"10\.\d{4,9}/\S+", ref["doi"])
    titles = " ".join(ref["title"] for ref in cff["references"])
    assert "Event studies in economics and finance" in titles  # casekit.market
    assert "online firestorms" in titles  # casekit.response
