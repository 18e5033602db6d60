"""notebooks/event_log.py and its helpers, casekit.events.story.

The helpers run in-process (fast); the notebook runs through ``casekit.render`` like the
command line, once for the synthetic example (which ships an event log) and once for a
case without one, and the tests read the HTML a user sees.
"""

from __future__ import annotations

import html
import re

import pytest

import casekit as ck
from casekit import render as R
from casekit.events import story

CASE = "synthetic-example"
SMALL = {"step": "1D", "n_draws": 200}


def visible_text(page: str) -> str:
    """The text of an HTML page as a reader sees it (no scripts, styles or tags)."""
    page = re.sub(r"<(script|style)\b.*?</\1>", " ", page, flags=re.S | re.I)
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


# --- the helpers --------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def example():
    c = ck.load_case(CASE)
    log = story.load_log(c)
    return c, log


def test_find_log_finds_the_example_folder_and_nothing_elsewhere(tmp_path):
    assert story.find_log(CASE) == ck.events.EXAMPLE_LOG
    ck.cases.new_case("no-log", tmp_path, company="A", country="GB", summary="S")
    assert story.find_log(ck.load_case(tmp_path / "no-log")) is None
    (tmp_path / "no-log" / "events").mkdir()
    (tmp_path / "no-log" / "events" / "README.md").write_text("nothing yet")
    assert story.find_log(ck.load_case(tmp_path / "no-log")) is None  # no data file
    assert story.find_log(CASE, "/some/file.csv").name == "file.csv"  # given path wins


def test_response_day_is_days_since_the_log_origin(example):
    c, log = example
    assert log.origin == c.context.origin
    # first_response 2024-03-08, origin 2024-03-04 00:00
    assert story.response_day(c, log) == pytest.approx(4.0)
    assert story.response_day(c, None) is None


def test_fit_estimates_e_when_the_log_straddles_the_response(example):
    c, log = example
    hf = story.fit_log(log, story.response_day(c, log), n_draws=100)
    assert hf.e_mode == "estimated"
    assert list(hf.data["responses"]) == [4.0]
    words = story.fit_words(hf)
    assert "Branching ratio n&#42; = " in words and "estimated from the events" in words
    assert "nan" not in words.lower()


def test_fit_falls_back_to_the_scenario_when_e_cannot_be_estimated(example):
    _, log = example
    t = log.times()
    response = float(t[10]) + 1e-9  # only 11 events before it: too few to estimate e
    hf = story.fit_log(log, response, e_scenario=0.4, n_draws=100)
    assert hf.e_mode == "scenario" and hf.estimates["e"] == 0.4
    assert "stated scenario" in story.fit_words(hf)
    # a response outside the log: no response in the fit
    assert story.fit_log(log, float(t[-1]) + 1, n_draws=100).e_mode == "none"


def test_moments_table_and_plot_mark_alerts_and_response(example):
    c, log = example
    r = ck.forecast.replay(log, threshold=2000, step="1D", context=c, n_draws=100)
    tab = story.moments(r)
    assert list(tab.index) == [
        "forecast lower bound passes the threshold",
        "spike rules' first alert",
        "company's first response",
    ]
    assert not tab.isna().any().any()
    assert tab.loc["company's first response", "date"] == "8 Mar 2024"
    spike = tab.loc["spike rules' first alert"]
    assert spike["detail"] == r.spike_rule and spike["vs the response"].endswith("h before")
    fig = story.moments_plot(r, log)
    names = [t.name for t in fig.data]
    assert names[0] == "events per 1h"
    assert {"forecast passes threshold", "spike rule fires", "company responds"} <= set(names)
    assert story.moments(None) is None and story.moments_plot(None, None) is None


# --- the rendered notebook ----------------------------------------------------------------------


@pytest.mark.notebook
def test_event_log_notebook_tells_the_story(tmp_path):
    r = R.render(CASE, "event_log", params=SMALL, out_dir=tmp_path)
    assert r.ok
    page = r.html.read_text(encoding="utf-8")
    # rate against the fit, QQ plot, forecast fan, alerts and response on one axis
    assert page.count('class="plotly-graph-div casekit-figure"') == 4
    for title in (
        "Events per period and the fitted Hawkes intensity",
        "Time-rescaling residuals, QQ against Exp(1)",
        "Forecast of the final size at each origin",
        "Alerts and response on one time axis",
    ):
        assert title in page, title
    text = visible_text(page)
    assert "Branching ratio n* = " in text and "Expected final size" in text
    assert "estimated from the events on both sides of the response" in text
    assert "company's first response 8 Mar 2024 4" in text  # the response time, dated
    assert "the company answered at 8 Mar 2024 (day 4)" in text
    assert "Synthetic example data" in text
    assert re.search(r'<h2 id="[^"]*Sources">', page) and "About this notebook" in text
    assert not re.search(r"\b(NaN|nan|None)\b", text)
    assert not re.search(r"Traceback|Error:|Warning", text)


@pytest.mark.notebook
def test_event_log_notebook_without_a_log_says_so(tmp_path, monkeypatch):
    ck.cases.new_case("no-log", tmp_path / "cases", company="A", country="GB", summary="S")
    monkeypatch.setenv("CASEKIT_DATA", str(tmp_path / "cases"))
    r = R.render("no-log", "event_log", params=SMALL, out_dir=tmp_path / "reports")
    page = r.html.read_text(encoding="utf-8")
    text = visible_text(page)
    assert "has no event log" in text
    assert 'class="plotly-graph-div' not in page
    assert not re.search(r"\b(NaN|nan|None)\b|Traceback|Error:", text)
