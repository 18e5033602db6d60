"""The reports as a person sees them, and the package functions behind their summary.

The browser tests open rendered reports in headless Chromium (as test_browser.py does)
and read the page after its scripts ran: no ``NaN``, ``None`` or ``e+0`` anywhere in the
text, every figure drawn, and the summary at the top with its intervals and links that
jump to anchors on the page. They reuse the session's shared renders of the synthetic
case (test_notebooks.py) and render United Breaks Guitars once, with the reference
prices when they are available.
"""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

import casekit as ck
from casekit import render as R
from casekit.report import views as V

HERE = Path(__file__).parent
SHARED_PRICES = HERE.parent.parent / "shared" / "research" / "prices"


def _helpers(name: str):
    spec = importlib.util.spec_from_file_location(f"_casekit_{name}", HERE / f"{name}.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


# --- the package: what the summary and the views compute ---------------------------------


@pytest.fixture(scope="module")
def ubg():
    case = ck.load_case("united-breaks-guitars")
    fit = ck.reach.fit(case, curve=ck.reach.multiwave("logistic", 2), loss="log")
    return case, fit


def test_curve_names_are_written_out():
    assert ck.report.describe_curve("logisticx2") == "two-wave logistic, both waves free"
    assert ck.report.describe_curve("logisticx3[free,43,free]") == (
        "three-wave logistic, first wave free, second wave anchored at day 43, third wave free"
    )
    assert ck.report.describe_curve("gompertz").startswith("Gompertz")
    assert ck.report.describe_curve("mystery") == "mystery"


def test_citation_keys_link_to_the_references_section():
    html = ck.report.cite("as [L5] finds (methods.md §4.2); [ZZ9] is unknown <b>")
    assert '<a href="#ref-L5">[L5]</a>' in html
    assert '<a href="#ref-methods">methods.md §4.2</a>' in html
    assert "<b>" not in html and "&#91;ZZ9&#93;" in html
    refs = ck.report.references()._repr_html_()
    for key in ("L1", "L5", "L7", "E1", "methods"):
        assert f'id="ref-{key}"' in refs
    assert "Journal of Marketing 83" in refs


def test_observations_outside_the_band_are_listed(ubg):
    _, fit = ubg
    out = ck.report.outside_band(fit)
    pred = fit.predict(fit.data["t"].to_numpy(float), interval="confidence")
    n_out = int(((fit.data["y"] > pred["upper"]) | (fit.data["y"] < pred["lower"])).sum())
    assert len(out) == n_out > 0
    # the 20 M reading of 2021 lies above the band, and the view says so
    last = out.sort_values("time").iloc[-1]
    assert last["y"] == 20_000_000 and last["side"] == "above"
    assert "20 M on 1 Jan 2021 (above the band" in str(V.fit_view(fit))


def test_one_car_window_the_claims_or_0_3():
    ubg_case = ck.load_case("united-breaks-guitars")
    assert V.market_window(ubg_case, None) == (0, 3)  # The Times' claim: within four days
    no_claim = ck.load_case("synthetic-example")
    assert V.market_window(no_claim, None) == V.DEFAULT_WINDOW


def test_remedy_refused_beside_the_money_lenses(ubg):
    case, fit = ubg
    cost = ck.response.delay_cost(fit, delays=[0, 1, 3], model="flow", n_draws=200)
    lenses = ck.response.money_lenses(case, cost)
    rem = V.remedy(case)
    assert set(rem["category"]) == {"remedy_requested", "remedy_refused"}
    assert rem["value"].tolist() == [1200.0, 1200.0]
    view = str(V.money_view(lenses, case))
    assert view.startswith("Settling would have cost $1,200")
    html = V.money_view(lenses, case)._repr_html_()
    assert html.count(">negative impressions x CPM: all reach</td>") == 1  # each lens once


def test_summary_gives_intervals_or_says_why(ubg):
    case, fit = ubg
    d = ck.response.delays(case)
    cost = ck.response.delay_cost(fit, delays=[0, 1, 3], model="flow", n_draws=200)
    s = ck.report.summary(case, fit=fit, delays=d, cost=cost)
    t = s.table.set_index("item")
    sat = fit.summary.loc["saturation"]
    assert t.loc["final reach", "estimate"] == pytest.approx(sat["estimate"])
    assert re.fullmatch(r"[\d.]+ M \([\d.]+–[\d.]+ M\)", t.loc["final reach", "text"])
    assert "(" in t.loc["time to 90 %", "text"] and "days" in t.loc["time to 90 %", "text"]
    assert t.loc["settling the complaint", "text"] == "$1,200"
    assert t.loc["market test", "text"].startswith("– (no market test")
    assert "nan" not in s._repr_html_().lower()
    # no fit: a dash and the reason, never a number
    bare = ck.report.summary(case, delays=d, why_no_fit="too few readings")
    assert bare.table.set_index("item").loc["final reach", "text"] == "– (too few readings)"
    assert type(s).from_dict(s.to_dict()).to_dict() == s.to_dict()


def test_detection_replay_in_one_line():
    case = ck.load_case("united-breaks-guitars")
    text = str(V.detection_line(ck.response.detection_replay(case)))
    assert "not replayed:" not in text and text.count("Not replayed") <= 1


def test_market_hint_names_no_tickers():
    text = str(V.market_hint("werder-bremen-wiesenhof", "", ""))
    assert "DAL" not in text and "LUV" not in text and "airline" not in text.lower()
    assert "-p ticker TICKER" in text


# --- in the browser -----------------------------------------------------------------------

WORDS = re.compile(r"\bNaN\b|\bNone\b|\bnan\b|\d[eE][+-]0\d")


def _visible_text(dom: str) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(dom, "html.parser")
    for tag in soup(["script", "style", "head"]):
        tag.decompose()
    return soup.get_text(" ")


@pytest.fixture(scope="module")
def pages(tmp_path_factory):
    """(name, html path) of the case report and compare_cases (shared synthetic renders)
    and of the United Breaks Guitars case report."""
    out, batch = _helpers("test_notebooks").shared_reports(tmp_path_factory)
    by_name = {r.notebook: r for r in batch.results}
    params = {"prices_dir": str(SHARED_PRICES)} if SHARED_PRICES.is_dir() else {}
    ubg = R.render_batch(
        [R.Spec("case_report", "united-breaks-guitars", params)],
        out_dir=tmp_path_factory.getbasetemp() / "ubg-report",
        progress=False,
    ).results[0]
    assert ubg.ok, ubg.error
    found = {
        "synthetic case_report": by_name["case_report"],
        "compare_cases": by_name["compare_cases"],
        "UBG case_report": ubg,
    }
    for name, r in found.items():
        assert r.ok, f"{name}: {r.error}"
    return {name: r.html for name, r in found.items()}


@pytest.fixture(scope="module")
def doms(pages, tmp_path_factory):
    browser = _helpers("test_browser")
    return {
        name: browser.dump_dom(page, tmp_path_factory.mktemp("profile"))
        for name, page in pages.items()
    }


NAMES = ("synthetic case_report", "compare_cases", "UBG case_report")


@pytest.mark.browser
@pytest.mark.parametrize("name", NAMES)
def test_no_nan_none_or_scientific_notation_on_the_page(doms, name):
    text = _visible_text(doms[name])
    hits = [text[max(0, m.start() - 60) : m.end() + 30] for m in WORDS.finditer(text)]
    assert not hits, f"{name}: {hits[:5]}"


@pytest.mark.browser
@pytest.mark.parametrize("name", NAMES)
def test_every_figure_draws(doms, pages, name):
    browser = _helpers("test_browser")
    expected = len(browser.FIG_DIV.findall(pages[name].read_text(encoding="utf-8")))
    figs = browser.figures(doms[name])
    assert expected >= 1 and len(figs) == expected
    for i, fig in enumerate(figs, 1):
        assert '<svg class="main-svg"' in fig, f"{name}: figure {i} did not draw"


@pytest.mark.browser
@pytest.mark.parametrize("name", ["synthetic case_report", "UBG case_report"])
def test_summary_at_the_top_with_intervals_and_working_links(doms, name):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(doms[name], "html.parser")
    box = soup.find(id="summary")
    assert box is not None, "no summary"
    # at the top: before the first numbered section and before any figure
    text = str(soup)
    first_section = text.find('id="story"')
    assert 0 < text.find('id="summary"') < first_section
    assert text.find('id="summary"') < text.find("casekit-figure")
    rows = {
        th.get_text(" ", strip=True): th.find_next("td").get_text(" ", strip=True)
        for th in box.find_all("th")
    }
    assert {"final reach", "time to 90 %", "cost of the delay", "market test"} <= set(rows)
    assert re.search(r"\(.+–.+\)", rows["final reach"]), rows["final reach"]
    assert re.search(r"\(.+–.+\)", rows["cost of the delay"]), rows["cost of the delay"]
    ids = {t["id"] for t in soup.find_all(id=True)}
    links = [a["href"][1:] for a in box.find_all("a", href=True) if a["href"].startswith("#")]
    assert len(links) >= 10
    assert not [h for h in links if h not in ids], "summary links to missing anchors"
    # every in-page link of the report lands somewhere
    dangling = {
        a["href"][1:]
        for a in soup.find_all("a", href=True)
        if a["href"].startswith("#") and len(a["href"]) > 1 and a["href"][1:] not in ids
    }
    assert not dangling, dangling


@pytest.mark.browser
def test_long_evidence_is_folded(doms):
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(doms["UBG case_report"], "html.parser")
    summaries = [d.find("summary").get_text() for d in soup.find_all("details")]
    assert any(s.startswith("Every dated event of the timeline") for s in summaries)
    assert any(s.startswith("Every row of costs.csv") for s in summaries)
    assert any(s.startswith("All ") and s.endswith(" sources") for s in summaries)
    text = _visible_text(doms["UBG case_report"])
    assert "Settling would have cost $1,200" in text
    assert text.count("Money lenses for case") == 0  # shown once, as one table
    assert "Glossary" in text and "Herhausen" in text


def test_report_html_stays_small(pages):
    for name, page in pages.items():
        assert page.stat().st_size < 1_000_000, name


def test_tables_have_no_index_column(pages):
    page = pages["UBG case_report"].read_text(encoding="utf-8")
    assert '<table border="1" class="dataframe' not in page  # no raw pandas table
