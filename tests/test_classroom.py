"""The classroom: what-if scenarios, the 400-contacts scenario, and sliders that move.

The unit tests check the numbers and the slider wiring. The browser tests move the
sliders as a person would: in the rendered page (headless Chromium, offline, plotly's own
sliders) and in a real JupyterLab (ipywidgets sliders redrawing through a live kernel),
and check that the drawn figure changed.
"""

from __future__ import annotations

import math
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import casekit as ck
from casekit import classroom
from casekit import format as fmt
from casekit.exceptions import ParameterError

CASE = "synthetic-example"
REPO = Path(__file__).resolve().parents[1]
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
# set CASEKIT_SCREENSHOTS to a folder to keep screenshots of the browser tests
SHOTS = Path(os.environ["CASEKIT_SCREENSHOTS"]) if os.environ.get("CASEKIT_SCREENSHOTS") else None


@pytest.fixture(scope="module")
def fit():
    return ck.reach.fit(ck.load_case(CASE), metric="video_views")


# --- the 400-contacts scenario ---------------------------------------------------------------


@pytest.mark.parametrize("n_star", [0.0, 0.3, 0.5, 0.9, 0.99])
def test_contacts_expected_size_is_first_over_one_minus_n(n_star):
    s = classroom.contacts(n_star, 400)
    assert s.expected == pytest.approx(400 / (1 - n_star))
    assert s.lower <= s.expected <= s.upper
    assert not s.unbounded and "unbounded" not in s.text()


@pytest.mark.parametrize("n_star", [1.0, 1.05, 2.0])
def test_contacts_at_or_above_the_threshold_is_unbounded_and_says_so(n_star):
    s = classroom.contacts(n_star)
    assert s.unbounded and math.isinf(s.expected) and math.isinf(s.upper)
    assert "unbounded" in s.text() and "branching threshold" in s.text()
    row = classroom.contacts_table([n_star]).frame.iloc[0, 1]
    assert row.startswith("unbounded")


def test_contacts_grow_towards_the_threshold():
    sizes = [classroom.contacts(m).expected for m in (0.5, 0.9, 0.99)]
    assert sizes == pytest.approx([800.0, 4000.0, 40000.0])  # hundreds, thousands, tens of k


def _branching_totals(k: int, m: float, runs: int, seed: int) -> np.ndarray:
    """Total readers of ``runs`` Poisson(m) branching processes from k readers each, drawn
    generation by generation as ck.events.simulate draws children."""
    rng = np.random.default_rng(seed)
    total = np.full(runs, k, dtype=np.int64)
    alive = np.full(runs, k, dtype=np.int64)
    while alive.any():
        alive = rng.poisson(m * alive)
        total += alive
    return total


@pytest.mark.parametrize("m", [0.5, 0.9])
def test_contacts_interval_matches_simulated_branching(m):
    s = classroom.contacts(m, 400)
    totals = _branching_totals(400, m, 20000, seed=1)
    lo, hi = np.quantile(totals, [0.025, 0.975])
    sd = math.sqrt(400 * m / (1 - m) ** 3)
    assert abs(lo - s.lower) < 0.06 * sd and abs(hi - s.upper) < 0.06 * sd
    assert abs(totals.mean() - s.expected) < 4 * sd / math.sqrt(len(totals))
    inside = ((totals >= s.lower) & (totals <= s.upper)).mean()
    assert 0.94 <= inside <= 0.96


def test_contacts_model_is_the_hawkes_branching_of_ck_events():
    # ck.events.simulate with a kernel so short that no child falls after the window:
    # the mean number of events per immigrant is 1 / (1 - n*), as contacts() says.
    n_star, runs = 0.6, 200
    counts = np.array(
        [
            len(ck.events.simulate(mu=400.0, n_star=n_star, omega=1e5, end=1.0, seed=s))
            for s in range(runs)
        ]
    )
    per_first = counts.mean() / 400
    expected = classroom.contacts(n_star, 400).expected / 400
    # sd of one run: immigrants Poisson(400), each a Borel cluster
    sd = math.sqrt(400 * (n_star / (1 - n_star) ** 3 + 1 / (1 - n_star) ** 2)) / 400
    assert abs(per_first - expected) < 4 * sd / math.sqrt(runs)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"n_star": -0.1},
        {"n_star": float("nan")},
        {"n_star": True},
        {"n_star": "x"},
        {"n_star": 0.5, "first": 0},
        {"n_star": 0.5, "first": 2.5},
    ],
)
def test_contacts_refuses_bad_arguments(kwargs):
    with pytest.raises(ParameterError):
        classroom.contacts(**kwargs)


def test_contacts_slider_steps_carry_each_scenario():
    values = [0.5, 0.9, 1.1]
    fig = classroom.contacts_slider_figure(values, 400, n_star=0.9)
    (slider,) = fig.layout.sliders
    assert slider.active == 1 and [s.label for s in slider.steps] == ["0.5", "0.9", "1.1"]
    for v, step in zip(values, slider.steps):
        upd, layout, traces = step.args
        assert step.method == "update" and list(traces) == [2, 3]
        s = classroom.contacts(v)
        marker_y = upd["y"][0][0]
        bars = upd["y"][1]
        assert bars[:2] == [400.0, pytest.approx(400 * v)]
        if s.unbounded:
            assert upd["text"][0] == ["unbounded"] and "unbounded" in layout["title.text"]
        else:
            assert marker_y == pytest.approx(s.expected)
            assert fmt.number(s.expected) in layout["title.text"]
    assert fig.frames == ()  # a report draws data and layout only


# --- what-if scenarios -----------------------------------------------------------------------


def _apply(fig, step):
    """Plotly's restyle of one slider step, on a copy of the trace visibility state."""
    upd, idx = step.args
    for key, values in upd.items():
        for i, v in zip(idx, values):
            fig["state"][i][key] = v


def test_what_if_sliders_compose_to_exactly_one_scenario(fit):
    delays, effs = [0, 2, 5], [0.25, 0.5, 0.9]
    fig = classroom.what_if_slider_figure(
        fit, delays, effs, delay=2, start_effectiveness=0.5, window=20
    )
    day, eff = fig.layout.sliders
    assert (day.active, eff.active) == (1, 1)
    assert [s.label for s in day.steps] == ["0", "2", "5"]
    assert [s.label for s in eff.steps] == ["25 %", "50 %", "90 %"]
    state = {
        "state": [{"visible": tr.visible is not False, "opacity": tr.opacity} for tr in fig.data]
    }
    for i, d in enumerate(delays):
        for j, e in enumerate(effs):
            _apply(state, day.steps[i])
            _apply(state, eff.steps[j])
            shown = [
                fig.data[k].name
                for k, s in enumerate(state["state"])
                if s["visible"]
                and s["opacity"] != 0
                and fig.data[k].name
                and fig.data[k].name.startswith("answer")
            ]
            assert len(shown) == 1, (d, e, shown)
            assert shown[0].startswith(f"answer on day {d}, effectiveness {round(e * 100)} %")


@pytest.mark.parametrize("model", ["intervention", "flow"])
def test_what_if_curves_and_finals_come_from_the_response_api(fit, model):
    kw = {} if model == "intervention" else {"model": model}  # intervention is the default
    fig = classroom.what_if_figure(fit, 3, 0.5, window=20, n_draws=100, **kw)
    ref = ck.response.what_if(fit, 3, 0.5, horizon=20, points=121, **kw)
    np.testing.assert_allclose(fig.data[1].y, ref.data[0].y)
    np.testing.assert_allclose(fig.data[2].y, ref.data[1].y)
    dc = ck.response.delay_cost(fit, delays=[3], effectiveness=0.5, n_draws=100, **kw)
    row = dc.table.set_index("delay_days").loc[3.0]
    assert fmt.interval(row["final_reach"], row["lower"], row["upper"]) in fig.data[2].name
    assert f"({model} model)" in fig.layout.title.text


def _logistic(t, K, r, t0):
    return K / (1.0 + np.exp(-r * (np.asarray(t, float) - t0)))


def test_intervention_what_if_reproduces_the_observed_answer_and_moves_it(fit):
    """By hand: the logistic run in operational time tau, the response at day 4 (the
    case's first response) and attention decaying at delta; e fixed at 0.5."""
    from casekit.response.intervention_cost import with_response

    inside = with_response(fit, 0.5)[0]
    p = inside.params
    K, r, t0 = p["K"], p["r"], p["t0"]
    d = float(inside.spec.definition["delta"]) if "delta" not in p else float(p["delta"])
    A = lambda t: t * (1 - d * t / 2) if d < 1e-12 else -np.expm1(-d * t) / d  # noqa: E731

    def tau(t, t1, e):
        t = np.asarray(t, float)
        return np.where(t < t1, A(t), A(t) - e * (A(t) - A(t1)))

    t = np.linspace(0.0, 20.0, 121)
    for day in (4.0, 1.0, 9.0):
        fig = classroom.what_if_figure(fit, day, 0.5, window=20, n_draws=0)
        fitted, cf = np.asarray(fig.data[1].y, float), np.asarray(fig.data[2].y, float)
        np.testing.assert_allclose(fitted, _logistic(tau(t, 4.0, 0.5), K, r, t0), rtol=1e-9)
        np.testing.assert_allclose(cf, _logistic(tau(t, day, 0.5), K, r, t0), rtol=1e-9)
    # the real answer day gives the fitted curve back; a later one never less reach
    assert np.allclose(
        classroom.what_if_figure(fit, 4.0, 0.5, window=20, n_draws=0).data[2].y, fitted
    )
    late = np.asarray(classroom.what_if_figure(fit, 9.0, 0.5, window=20, n_draws=0).data[2].y)
    assert np.all(late >= fitted * (1 - 1e-12))


def test_intervention_slider_figure_holds_each_effectiveness_fit(fit):
    from casekit.response.intervention_cost import with_response

    effs = [0.25, 0.75]
    fig = classroom.what_if_slider_figure(fit, [0, 4], effs, delay=4, window=20, n_draws=0)
    fitted = [tr for tr in fig.data if tr.name == "fitted curve (the answer as it happened)"]
    assert len(fitted) == 2 and [tr.opacity for tr in fitted] == [1.0, 0.0]
    t = np.linspace(0.0, 20.0, 121)
    for tr, e in zip(fitted, effs):
        inside = with_response(fit, e)[0]
        np.testing.assert_allclose(tr.y, np.round(inside.spec(t, *inside.theta), 1))
    # answering on the real day (4) draws the fitted curve of that effectiveness
    for j, e in enumerate(effs):
        name = f"answer on day 4, effectiveness {round(e * 100)} %"
        (cf,) = [tr for tr in fig.data if tr.name and tr.name.startswith(name)]
        np.testing.assert_allclose(cf.y, fitted[j].y)
    # the effectiveness slider switches the fitted curves with the scenarios
    eff = fig.layout.sliders[1]
    idx = eff.steps[1].args[1]
    ops = dict(zip(idx, eff.steps[1].args[0]["opacity"]))
    assert [ops[fig.data.index(tr)] for tr in fitted] == [0.0, 1.0]


def test_intervention_refuses_an_answer_that_stops_everything(fit):
    with pytest.raises(ParameterError, match="e up to 0.99"):
        ck.response.delay_cost(fit, delays=[0], effectiveness=1.0, n_draws=0)
    with pytest.raises(ParameterError, match="effectiveness"):
        classroom.sliders(fit, 2, 1.0)
    box = classroom.sliders(fit, 2, 1.0, model="flow")  # the accounting variant goes to 100 %
    assert box.children[0].children[1].max == 1.0


def test_scenario_table_is_labelled_and_compact(fit):
    grid = classroom.scenarios(fit, [0, 3], [0.25, 0.5], n_draws=50)
    assert len(grid) == 4 and set(grid.columns) >= {"delay_days", "final_reach", "lower", "upper"}
    t = classroom.scenario_table(grid)
    assert list(t.frame.columns) == ["company answers", "effectiveness 25 %", "effectiveness 50 %"]
    assert list(t.frame["company answers"]) == ["on day 0", "on day 3"]
    page = t._repr_html_()
    assert "(" in t.frame.iloc[0, 1] and "–" in t.frame.iloc[0, 1]
    for raw in ("0.0", "1.0", "e+0", "nan", "None"):
        assert raw not in t.frame.to_string(), raw
    assert "effectiveness 50 %" in page


def test_timeline_table_shows_every_event_for_people():
    case = ck.load_case(CASE)
    t = classroom.timeline_table(case)
    assert len(t.frame) == len(case.timeline)
    assert {"date", "who", "what", "description", "sources"} <= set(t.frame.columns)
    assert not t.frame["date"].str.contains("00:00").any()


def test_first_weeks_zooms_to_the_window():
    c = ck.load_case("united-breaks-guitars")
    fit = ck.reach.compare(c).best
    fig = classroom.first_weeks(fit, days=60)
    lo, hi = (pd.Timestamp(v) for v in fig.layout.xaxis.range)
    assert lo <= fit.origin < hi <= fit.origin + pd.Timedelta(days=61)
    top = fig.layout.yaxis.range[1]
    in_window = fit.data[(fit.data["t"] >= 0) & (fit.data["t"] <= 60)]["y"]
    assert in_window.max() <= top < fit.data["y"].max()  # the 2013/2021 counts are not shown
    assert any("not shown" in a.text for a in fig.layout.annotations)


def test_live_sliders_redraw_on_change(fit, monkeypatch):
    import ipywidgets as widgets

    calls = []
    monkeypatch.setattr(classroom, "what_if_figure", lambda *a, **k: calls.append((a, k)) or {})
    box = classroom.sliders(fit, 2, 0.5, window=20)
    (controls, out) = box.children
    assert isinstance(out, widgets.Output)
    day, eff = controls.children
    assert (day.value, eff.value) == (2, 0.5) and len(calls) == 1
    day.value = 4.5
    eff.value = 0.8
    assert [c[0][1:3] for c in calls] == [(2, 0.5), (4.5, 0.5), (4.5, 0.8)]


def test_live_contacts_slider_redraws_on_change(monkeypatch):
    calls = []
    monkeypatch.setattr(classroom, "contacts_figure", lambda *a, **k: calls.append(a) or {})
    box = classroom.contacts_sliders(0.5)
    (slider,) = box.children[0].children
    slider.value = 0.95
    assert calls == [(0.5, 400), (0.95, 400)]


def test_sliders_refuse_values_out_of_range(fit):
    with pytest.raises(ParameterError):
        classroom.sliders(fit, 2, 1.5)
    with pytest.raises(ParameterError):
        classroom.contacts_sliders(-1)


# --- in a browser ------------------------------------------------------------------------------


def _browser(p):
    exe = shutil.which("chromium") or "/usr/bin/chromium"
    if not Path(exe).exists():
        pytest.fail("headless Chromium is not installed (apt-get install chromium)")
    return p.chromium.launch(executable_path=exe, args=CHROMIUM_ARGS)


def _shot(page, name):
    if SHOTS:
        SHOTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(SHOTS / name), full_page=True)


# The drawn state of a figure: the path of every opaque scatter line and bar, the marker
# positions and the title, read from plotly's SVG.
_DRAWN = """(div) => {
  const parts = [];
  div.querySelectorAll('g.trace').forEach((g) => {
    const op = parseFloat(getComputedStyle(g).opacity || '1');
    if (op === 0 || g.style.display === 'none') return;
    g.querySelectorAll('path.js-line, path.point, g.points path').forEach((p) =>
      parts.push((p.getAttribute('d') || '') + '@' + (p.getAttribute('transform') || '')));
  });
  const t = div.querySelector('.gtitle');
  parts.push(t ? t.textContent : '');
  return parts.join('|');
}"""


def _click_step(page, div, slider_index, step_index):
    """Click a plotly slider's step as a person would: on the rail, at the step's tick."""
    slider = div.locator("g.slider-group").nth(slider_index)
    slider.scroll_into_view_if_needed()
    tick = slider.locator("rect.slider-tick-rect").nth(step_index).bounding_box()
    rail = slider.locator("rect.slider-rail-touch-rect").bounding_box()
    page.mouse.click(tick["x"] + tick["width"] / 2, rail["y"] + rail["height"] / 2)


def _wait_changed(page, div, before, timeout=15.0):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        now = div.evaluate(_DRAWN)
        if now != before:
            return now
        page.wait_for_timeout(200)
    return div.evaluate(_DRAWN)


@pytest.fixture(scope="module")
def classroom_page(tmp_path_factory):
    from casekit import render as R

    out = tmp_path_factory.mktemp("classroom-reports")
    r = R.render(
        CASE,
        "classroom",
        params={
            "grid_delays": [0, 2, 7],
            "grid_effectiveness": [0.25, 0.75],
            "pass_on_grid": [0.5, 0.9, 1.1],
            "n_draws": 50,
        },
        out_dir=out,
    )
    return r.html


@pytest.mark.browser
def test_static_page_sliders_redraw_the_figures_offline(classroom_page):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1200, "height": 900})
            # offline: only the page and its shared plotly.min.js (file://) may load
            page.route(
                "**/*",
                lambda route: (
                    route.continue_() if route.request.url.startswith("file://") else route.abort()
                ),
            )
            page.goto(classroom_page.resolve().as_uri())
            page.wait_for_selector("g.slider-group", timeout=30000)
            divs = page.locator("div.casekit-figure")
            n_sliders = [divs.nth(i).locator("g.slider-group").count() for i in range(divs.count())]
            what_if = divs.nth(n_sliders.index(2))
            contacts = divs.nth(n_sliders.index(1))

            before = what_if.evaluate(_DRAWN)
            _click_step(page, what_if, 0, 2)  # answer on day 7
            after_day = _wait_changed(page, what_if, before)
            assert after_day != before, "the answer-day slider did not change the figure"
            assert "day 7" in what_if.locator(".legend").text_content()
            _click_step(page, what_if, 1, 1)  # effectiveness 75 %
            after_eff = _wait_changed(page, what_if, after_day)
            assert after_eff != after_day, "the effectiveness slider did not change the figure"
            assert "effectiveness 75 %" in what_if.locator(".legend").text_content()

            before = contacts.evaluate(_DRAWN)
            _click_step(page, contacts, 0, 1)  # n* = 0.9
            after = _wait_changed(page, contacts, before)
            assert after != before, "the n* slider did not change the figure"
            assert "4,000" in contacts.locator(".gtitle").text_content()
            _click_step(page, contacts, 0, 2)  # n* = 1.1: above the threshold
            _wait_changed(page, contacts, after)
            assert "unbounded" in contacts.locator(".gtitle").text_content()
            _shot(page, "classroom_static.png")
        finally:
            browser.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _quick_notebook(root: Path) -> Path:
    """The classroom notebook as .ipynb, with a cell after the parameters for a quick run."""
    import jupytext
    import nbformat

    nb = jupytext.read(REPO / "notebooks" / "classroom.py")
    at = next(i for i, c in enumerate(nb.cells) if "parameters" in c.metadata.get("tags", []))
    quick = (
        'case = "synthetic-example"\ngrid_delays = [0, 3]\ngrid_effectiveness = [0.5]\n'
        "pass_on_grid = [0.5, 0.9]\nn_draws = 50\ninteractive = True"
    )
    nb.cells.insert(at + 1, nbformat.v4.new_code_cell(quick))
    nb.metadata.pop("jupytext", None)  # a plain notebook, not paired with the .py
    path = root / "classroom.ipynb"
    nbformat.write(nb, path)
    return path


@pytest.fixture
def jupyter_lab(tmp_path):
    root = tmp_path / "lab"
    root.mkdir()
    _quick_notebook(root)
    port, token = _free_port(), "casekit-test-token"
    home = tmp_path / "home"
    env = {
        **os.environ,
        "JUPYTER_CONFIG_DIR": str(home / "config"),
        "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
        "JUPYTERLAB_WORKSPACES_DIR": str(home / "workspaces"),
        "JUPYTERLAB_SETTINGS_DIR": str(home / "settings"),
        "IPYTHONDIR": str(home / "ipython"),
    }
    log = open(tmp_path / "lab.log", "wb")
    server = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "jupyterlab",
            "--no-browser",
            f"--port={port}",
            "--ServerApp.ip=127.0.0.1",
            f"--IdentityProvider.token={token}",
            f"--ServerApp.root_dir={root}",
            "--ServerApp.open_browser=False",
        ]
        + (["--allow-root"] if hasattr(os, "geteuid") and os.geteuid() == 0 else []),
        stdout=log,
        stderr=subprocess.STDOUT,
        env=env,
        cwd=root,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        end = time.monotonic() + 120
        while True:
            try:
                with urllib.request.urlopen(f"{base}/api/status?token={token}", timeout=5):
                    break
            except OSError:
                if server.poll() is not None or time.monotonic() > end:
                    log.flush()
                    pytest.fail(
                        "JupyterLab did not start:\n"
                        + (tmp_path / "lab.log").read_text(errors="replace")[-3000:]
                    )
                time.sleep(0.5)
        yield f"{base}/lab/tree/classroom.ipynb?token={token}"
    finally:
        try:  # shuts the kernels down too
            req = urllib.request.Request(f"{base}/api/shutdown?token={token}", method="POST")
            urllib.request.urlopen(req, timeout=10).close()
        except OSError:
            pass
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.terminate()
            try:
                server.wait(timeout=15)
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        log.close()


def _start_kernel(page):
    """Accept the kernel JupyterLab proposes (Python 3), then wait until it is idle."""
    accept = page.locator(".jp-Dialog .jp-mod-accept")
    try:
        accept.wait_for(timeout=20000)
    except Exception:  # no dialog: the kernel starts by itself
        pass
    else:
        title = page.locator(".jp-Dialog-header").text_content() or ""
        assert "Kernel" in title, page.locator(".jp-Dialog").text_content()
        accept.click()
    page.locator(".jp-StatusBar-TextItem", has_text="Idle").first.wait_for(timeout=120000)


@pytest.mark.browser
def test_jupyterlab_slider_redraws_the_figure(jupyter_lab):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = _browser(p)
        try:
            page = browser.new_page(viewport={"width": 1400, "height": 1000})
            page.set_default_timeout(120000)
            page.goto(jupyter_lab)
            page.wait_for_selector(".jp-NotebookPanel .jp-Notebook .jp-Cell", timeout=120000)
            _start_kernel(page)
            page.locator(".lm-MenuBar-itemLabel", has_text="Run").first.click(timeout=30000)
            page.locator(".lm-Menu-itemLabel", has_text="Run All Cells").first.click(timeout=30000)
            boxes = page.locator(".jp-OutputArea-output .widget-vbox").filter(
                has=page.locator(".widget-slider")
            )
            boxes.nth(1).wait_for(state="attached", timeout=240000)  # what-if and 400 contacts
            what_if = boxes.nth(0)
            plot = what_if.locator(".js-plotly-plot")
            what_if.scroll_into_view_if_needed()
            plot.locator("path.js-line").first.wait_for(state="attached", timeout=120000)
            before = plot.evaluate(_DRAWN)
            assert "answer on day 3" in plot.locator(".legend").text_content()

            handle = what_if.locator(".widget-slider .noUi-handle").first
            readout = what_if.locator(".widget-slider .widget-readout").first
            handle.scroll_into_view_if_needed()
            day_before = readout.text_content()
            box = handle.bounding_box()
            page.mouse.move(box["x"] + box["width"] / 2, box["y"] + box["height"] / 2)
            page.mouse.down()
            # to the left: the quick run's grid ends at the first answer day
            page.mouse.move(
                box["x"] + box["width"] / 2 - 80, box["y"] + box["height"] / 2, steps=10
            )
            page.mouse.up()
            end = time.monotonic() + 90
            after = before
            while time.monotonic() < end and after == before:
                page.wait_for_timeout(500)
                try:
                    after = what_if.locator(".js-plotly-plot").evaluate(_DRAWN)
                except Exception:  # the Output is redrawing: the old plot is gone
                    continue
            if SHOTS:
                SHOTS.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(SHOTS / "classroom_jupyterlab.png"))
            assert readout.text_content() != day_before, "the slider did not move"
            assert after != before, "moving the slider in JupyterLab did not redraw the figure"
            legend = what_if.locator(".js-plotly-plot .legend").text_content()
            assert "answer on day 3," not in legend and "answer on day" in legend
        finally:
            browser.close()
