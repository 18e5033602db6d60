"""Hostile case text in rendered reports: escaped, never run (issue #12, stored XSS).

A copy of the synthetic example case gets script payloads in every free-text field of
case.yaml and of the CSV files. case_report, classroom and compare_cases are rendered for
it through :func:`casekit.render.render` and opened in headless Chromium (as in
test_browser.py), with ``alert``/``confirm``/``prompt`` replaced by functions that record
their calls. Nothing may run: ``document.title`` stays the page's own, no dialog opens,
no element has a ``javascript:``/``data:``/``vbscript:`` link or an ``on*`` handler, and
the payloads are shown as text where the report shows the field (escaped, not deleted).
The unit tests below pin the escaping helpers of :mod:`casekit.format`.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
from html.parser import HTMLParser
from pathlib import Path

import pandas as pd
import pytest
import yaml

import casekit as ck
from casekit import format as fmt
from casekit import render as R

REPO_ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = Path(ck.__file__).resolve().parent / "examples" / "synthetic-example"
CASE = "hostile-example"
FIG_DIV = re.compile(r'<div[^>]*class="plotly-graph-div casekit-figure[^"]*"[^>]*>')

# Free-text fields; every other field is an id, a date, a number or a fixed word.
YAML_FIELDS = ("title", "company", "customer", "country", "summary")
SOURCE_FIELDS = ("title", "publisher", "note")
CSV_FIELDS = {
    "timeline.csv": ("description", "quote", "note"),
    "reach.csv": ("unit", "method", "quote", "note"),
    "costs.csv": ("item", "unit", "method", "quote", "note"),
}
BAD_URLS = (
    "javascript:document.title+=' pwned-url'",
    " \tJaVaScRiPt:alert('pwned-url')",
    "data:text/html,<script>alert('pwned-url')</script>",
    "vbscript:msgbox('pwned-url')",
)


def marker(tag: str) -> str:
    """The visible head of a payload: a tag that must show as text, not as italics."""
    return f"<i>F:{tag}</i>"


def payload(tag: str) -> str:
    t = f"pwned-{tag}"
    return (
        f"{marker(tag)} <script>document.title+=' {t}-script'</script>"
        f"<img src=x onerror=\"document.title+=' {t}-img'\"> [x](javascript:alert('{t}-md')) "
        f'"><svg onload="document.title+=\' {t}-svg\'"> '
        f"<a href=\"javascript:alert('{t}-a')\">a</a> <img src=x onerror=alert('{t}-alert')>"
    )


def hostile_case(root: Path) -> tuple[Path, set[str]]:
    """The synthetic example with payloads in every text field; returns the folder and the
    case.yaml fields the validator refused a payload in (those keep their real value)."""
    target = root / CASE
    shutil.copytree(SYNTHETIC, target)
    original = yaml.safe_load((SYNTHETIC / "case.yaml").read_text(encoding="utf-8"))
    meta = dict(original, id=CASE)
    for key in YAML_FIELDS:
        meta[key] = payload(key)
    meta["sources"] = [dict(s) for s in original["sources"]]
    for i, src in enumerate(meta["sources"]):
        for key in SOURCE_FIELDS:
            src[key] = payload(f"source{i}-{key}")
        src["url"] = BAD_URLS[i % len(BAD_URLS)]

    def write_yaml():
        text = yaml.safe_dump(meta, sort_keys=False, allow_unicode=True)
        (target / "case.yaml").write_text(text, encoding="utf-8")

    write_yaml()
    for name, columns in CSV_FIELDS.items():
        with open(target / name, newline="", encoding="utf-8") as fh:
            rows = list(csv.DictReader(fh))
        for j, row in enumerate(rows):
            for col in columns:
                # a metric keeps one unit; other cells are numbered for the first rows
                numbered = j < 3 and not (name == "reach.csv" and col == "unit")
                row[col] = payload(f"{name[:-4]}-{col}" + (f"-{j}" if numbered else ""))
        with open(target / name, "w", newline="", encoding="utf-8") as fh:
            writer = csv.DictWriter(fh, list(rows[0]))
            writer.writeheader()
            writer.writerows(rows)
    # A field the validator restricts (a country must be an ISO code) keeps its real value:
    # the validator is then the guard, and the case still renders.
    refused = {p.column for p in ck.validate(target) if p.file == "case.yaml"}
    for key in refused & set(YAML_FIELDS):
        meta[key] = original[key]
    write_yaml()
    problems = ck.validate(target)
    assert not problems, problems
    return target, refused


# --- the browser ----------------------------------------------------------------------------

# Runs first in <head>: records every dialog instead of opening it.
DIALOG_HOOK = (
    "<script>(function(){function rec(kind){return function(m){var e=document.documentElement;"
    "e.setAttribute('data-dialogs',(e.getAttribute('data-dialogs')||'')+kind+':'+m+';');};}"
    "window.alert=rec('alert');window.confirm=rec('confirm');window.prompt=rec('prompt');"
    "})();</script>"
)
URL_ATTRS = {"href", "src", "action", "formaction", "xlink:href", "data", "srcdoc"}
BAD_SCHEME = re.compile(r"^[\x00-\x20]*(javascript|vbscript|data)\s*:", re.I)


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        "headless Chromium is not installed: `.ci/run` installs Debian's `chromium` "
        "package (apt-get install chromium); this test needs it and installs nothing"
    )


def dump_dom(page: Path, profile: Path, hook: str = "") -> str:
    """The DOM after the page's scripts ran (a copy with ``hook`` first in <head>)."""
    probe = page.with_name(f"_probe_{page.name}")
    probe.write_text(page.read_text(encoding="utf-8").replace("<head>", "<head>" + hook, 1))
    cmd = [
        chromium(),
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-default-apps",
        "--disable-extensions",
        "--mute-audio",
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        probe.resolve().as_uri(),
    ]
    try:
        res = subprocess.run(
            cmd,
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HOME": str(profile)},
        )
    finally:
        probe.unlink()
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


class Page(HTMLParser):
    """What a test needs of a DOM: title, recorded dialogs, dangerous attributes, text."""

    def __init__(self, dom: str):
        super().__init__(convert_charrefs=True)
        self.title, self.dialogs, self.bad, self._text, self._in_title = "", None, [], [], False
        self.feed(dom)
        self.text = "".join(self._text)

    def handle_starttag(self, tag, attrs):
        if tag == "title":
            self._in_title = True
        if tag == "html":
            self.dialogs = dict(attrs).get("data-dialogs")
        for name, value in attrs:
            value = value or ""
            if name.startswith("on") or (name in URL_ATTRS and BAD_SCHEME.match(value)):
                self.bad.append(f"<{tag} {name}={value[:80]!r}>")

    def handle_endtag(self, tag):
        if tag == "title":
            self._in_title = False

    def handle_data(self, data):
        if self._in_title:
            self.title += data
        self._text.append(data)


def page_title(html_text: str) -> str:
    return re.search(r"<title>(.*?)</title>", html_text, re.S).group(1)


def with_kernel_env(mp: pytest.MonkeyPatch, data_dir: Path) -> None:
    mp.setenv("CASEKIT_DATA", str(data_dir))
    # the kernel runs in a temporary folder: make it import this checkout's casekit
    mp.setenv(
        "PYTHONPATH", os.pathsep.join(filter(None, [str(REPO_ROOT), os.environ.get("PYTHONPATH")]))
    )


@pytest.fixture(scope="module")
def hostile(tmp_path_factory):
    root = tmp_path_factory.mktemp("hostile")
    cases = root / "cases"
    cases.mkdir()
    _, refused = hostile_case(cases)
    out = root / "reports"
    specs = {
        "case_report": (CASE, {"curves": ["logistic"], "horizon": 20, "delays": [0, 3]}),
        "classroom": (CASE, {"grid_delays": [0, 3], "grid_effectiveness": [0.5]}),
        "compare_cases": (None, {"cases": [CASE], "horizon": 20}),
    }
    pages = {}
    with pytest.MonkeyPatch.context() as mp:
        with_kernel_env(mp, cases)
        for name, (case, params) in specs.items():
            result = R.render(case, name, params=params, out_dir=out, force=True)
            assert result.ok, result.error
            pages[name] = result.html
    return pages, refused


# Fields each report shows (where a reader sees them, the payload must read as text).
SHOWN = {
    "case_report": {
        "title", "company", "country", "summary", "timeline-description-0",
        "source0-title", "source0-publisher", "source0-note",
    },
    "classroom": {"title", "summary", "source0-title", "source0-publisher", "source0-note"},
    "compare_cases": {
        "title", "company", "costs-item-0", "costs-unit-0",
        "source0-title", "source0-publisher", "source0-note",
    },
}  # fmt: skip


@pytest.mark.browser
@pytest.mark.parametrize("name", sorted(SHOWN))
def test_hostile_case_text_never_runs(hostile, name, tmp_path):
    pages, refused = hostile
    page = pages[name]
    source = page.read_text(encoding="utf-8")
    # statically: no payload reached the page as markup (Markdown, HTML or figure JSON)
    for raw in ("<img src=x", "<svg onload", "<script>document", '<a href="javascript:'):
        assert raw not in source, f"{name}: {raw!r} reached the page unescaped"
    dom = Page(dump_dom(page, tmp_path / "profile", DIALOG_HOOK))
    assert dom.title == page_title(source) and "pwned" not in dom.title, dom.title
    assert dom.dialogs is None, f"{name}: dialogs opened: {dom.dialogs}"
    assert not dom.bad, f"{name}: dangerous attributes: {dom.bad}"
    for field in SHOWN[name] - refused:
        assert marker(field) in dom.text, f"{name}: the {field} payload is not shown as text"
    # the escaped source urls show as text, never as links
    if name != "compare_cases":
        assert "JaVaScRiPt:alert" in dom.text
    # the page's Content-Security-Policy leaves every figure drawing
    expected = len(FIG_DIV.findall(source))
    assert dom_figures(dump_dom(page, tmp_path / "profile2")) == expected >= 1


def dom_figures(dom: str) -> int:
    """How many casekit figures drew (plotly's svg inside the figure's markup)."""
    starts = [m.start() for m in FIG_DIV.finditer(dom)]
    parts = [dom[a:b] for a, b in zip(starts, starts[1:] + [len(dom)], strict=True)]
    return sum('<svg class="main-svg"' in part for part in parts)


NOTEBOOK_WITH_RAW_HTML = """# %%
from IPython.display import HTML, Markdown, display

display(HTML("<script>document.title += ' pwned-html-script'</script>"))
display(HTML("<img src=x onerror=\\"document.title += ' pwned-html-img'\\">"))
display(Markdown("<svg onload=\\"document.title += ' pwned-md-svg'\\"></svg> raw"))
display(Markdown("<img src=x onerror=alert('pwned-md-alert')>"))
"""


@pytest.mark.browser
def test_unescaped_output_is_blocked_by_the_page_policy(tmp_path):
    """Defence in depth: a report whose outputs carry raw script (as if an escape were
    forgotten) still runs none of it: only the page's own scripts carry its nonce."""
    nb = tmp_path / "raw_html.py"
    nb.write_text(NOTEBOOK_WITH_RAW_HTML, encoding="utf-8")
    with pytest.MonkeyPatch.context() as mp:
        with_kernel_env(mp, tmp_path)
        result = R.render(None, nb, out_dir=tmp_path / "reports", force=True)
    assert result.ok, result.error
    source = result.html.read_text(encoding="utf-8")
    # the raw markup is there ...
    assert "<script>document.title += ' pwned-html-script'</script>" in source
    assert "onerror=\"document.title += ' pwned-html-img'\"" in source
    assert "Content-Security-Policy" in source
    dom = Page(dump_dom(result.html, tmp_path / "profile", DIALOG_HOOK))
    assert "pwned" not in dom.title, dom.title  # ... and does not run
    assert dom.dialogs is None, dom.dialogs


# --- unit tests of the escaping helpers -----------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "javascript:alert(1)",
        "JaVaScRiPt:alert(1)",
        "  javascript:alert(1)",
        "\x00\x01javascript:alert(1)",
        "java\tscript:alert(1)",
        "java\nscript:alert(1)",
        "java\x00script:alert(1)",
        "data:text/html,<script>alert(1)</script>",
        "vbscript:msgbox(1)",
        "file:///etc/passwd",
        "mailto:a@example.org",
        "//evil.example/x",  # protocol-relative: another host (a share, on a file:// page)
        "/\\evil.example/x",  # browsers read "\" as "/"
        "\\\\evil\\share",
        "https:evil",
        "https://",
        "&#106;avascript:alert(1)",
        "javascript&colon;alert(1)",
        "",
        "   ",
        None,
        float("nan"),
    ],
)
def test_safe_url_refuses(url):
    assert fmt.safe_url(url) is None
    assert "<a " not in fmt.html_link(url, "label")


@pytest.mark.parametrize(
    "url, expected",
    [
        ("https://example.org/a?b=1#c", "https://example.org/a?b=1#c"),
        ("HTTP://EXAMPLE.ORG", "HTTP://EXAMPLE.ORG"),
        ("  https://example.org/x  ", "https://example.org/x"),
        ("https://example.org/a b", "https://example.org/a%20b"),
        ("https://exa\nmple.org/", "https://example.org/"),
        ("/reports/index.html", "/reports/index.html"),
        ("../x/case_report.html", "../x/case_report.html"),
        ("./x.html", "./x.html"),
        ("x/y.html", "x/y.html"),
        ("page.html?a=b:c", "page.html?a=b:c"),
        ("#section", "#section"),
    ],
)
def test_safe_url_keeps_http_and_relative_links(url, expected):
    assert fmt.safe_url(url) == expected


def test_html_link_escapes_href_and_label():
    link = fmt.html_link('https://example.org/"><script>x</script>', "<b>label</b>")
    assert link.startswith('<a href="https://example.org/&quot;&gt;&lt;script&gt;')
    assert "<script>" not in link and "<b>" not in link
    assert 'rel="noopener noreferrer"' in link
    assert fmt.html_link("javascript:alert(1)", "[x](javascript:alert(1))") == (
        "&#91;x&#93;&#40;javascript:alert&#40;1&#41;&#41;"
    )


def test_html_text_neutralises_html_and_markdown():
    s = fmt.html_text("<img src=x onerror=alert(1)> [x](javascript:y) *a* `c` $1 $2 & \"'")
    assert "<" not in s and ">" not in s and "[" not in s and "(" not in s
    assert "`" not in s and "$" not in s and "*" not in s and '"' not in s and "'" not in s
    import html

    # entities decode back to exactly the text (nothing deleted)
    assert html.unescape(s) == "<img src=x onerror=alert(1)> [x](javascript:y) *a* `c` $1 $2 & \"'"
    assert fmt.html_text(None) == fmt.DASH


def test_plot_text_escapes_plotly_tags():
    assert fmt.plot_text('<a href="javascript:x">a</a><br>') == (
        '&lt;a href="javascript:x"&gt;a&lt;/a&gt;&lt;br&gt;'
    )
    assert fmt.plot_text(None) == fmt.DASH


@pytest.fixture(scope="module")
def hostile_loaded(tmp_path_factory):
    folder, refused = hostile_case(tmp_path_factory.mktemp("hostile-unit"))
    return ck.load_case(folder), refused


def test_case_and_source_list_html_escape(hostile_loaded):
    case, _ = hostile_loaded
    for html_out in (case._repr_html_(), case.source_list()._repr_html_()):
        assert "<script" not in html_out and "<img" not in html_out and "<svg" not in html_out
        assert "<a " not in html_out  # no source url here is http(s) or relative
    assert "&lt;i&gt;F:title&lt;/i&gt;" in case._repr_html_()


def test_dataframes_and_result_tables_escape(hostile_loaded):
    from casekit.results import html_table

    case, _ = hostile_loaded
    for html_out in (
        case.timeline._repr_html_(),
        case.costs._repr_html_(),
        html_table(case.timeline[["description", "quote", "note"]]),
        ck.list_cases([case.path.parent])._repr_html_(),
    ):
        assert "<script" not in html_out and "<img" not in html_out and "<svg" not in html_out


def test_figure_text_is_escaped(hostile_loaded):
    case, _ = hostile_loaded
    figures = [ck.plots.timeline_plot(case)]
    fit = ck.reach.fit(case, "logistic")
    figures.append(fit.plot())
    for fig in figures:
        text = fig.to_json()
        for raw in ("<script", "<img", "<svg", "<a href", "<i>F:"):
            assert raw not in text, raw
    assert "Timeline: &lt;i&gt;F:title" in figures[0].layout.title.text
    hover = {str(c) for tr in figures[0].data for row in tr.customdata for c in row}
    assert any(c.startswith("&lt;i&gt;F:timeline-description") for c in hover)


def test_escaped_text_survives_as_text(hostile_loaded):
    """Nothing is deleted: a payload reads back exactly, once decoded."""
    import html

    case, _ = hostile_loaded
    assert html.unescape(fmt.html_text(case.title)) == case.title
    assert html.unescape(fmt.plot_text(case.title)) == case.title
    assert isinstance(case.timeline, pd.DataFrame)
