"""Rendered reports in a real browser: every figure draws, offline, from the shared script.

Opens the HTML files in headless Chromium (Debian's ``chromium`` package; the test
installs nothing, ``.ci/run`` does) over ``file://`` with every host name unresolvable,
and reads back the DOM after the page's scripts ran: each plotly figure must contain
plotly's ``<svg class="main-svg">``. Then the same pages without ``plotly.min.js`` must
draw nothing, which proves the figures come from the one shared file next to them.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from casekit import render as R

pytestmark = pytest.mark.browser

NOTEBOOKS = ("case_report", "classroom")
FIG_DIV = re.compile(r'<div[^>]*class="plotly-graph-div casekit-figure[^"]*"[^>]*>')


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail(
        "headless Chromium is not installed: `.ci/run` installs Debian's `chromium` "
        "package (apt-get install chromium); this test needs it and installs nothing"
    )


def dump_dom(page: Path, profile: Path) -> str:
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
        # no network: every host name fails to resolve, so only file:// can load
        "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
        f"--user-data-dir={profile}",
        "--virtual-time-budget=15000",
        "--dump-dom",
        page.resolve().as_uri(),
    ]
    res = subprocess.run(
        cmd, capture_output=True, text=True, timeout=120, env={**os.environ, "HOME": str(profile)}
    )
    assert res.returncode == 0, res.stderr[-2000:]
    return res.stdout


def figures(dom: str) -> list[str]:
    """The markup of each casekit figure div (up to the next figure)."""
    starts = [m.start() for m in FIG_DIV.finditer(dom)]
    return [dom[a:b] for a, b in zip(starts, starts[1:] + [len(dom)], strict=True)]


@pytest.fixture(scope="module")
def reports(tmp_path_factory):
    # The same renders as test_notebooks.py (same folder, same parameters): reused when
    # that module ran first, rendered here otherwise.
    import importlib.util

    spec = importlib.util.spec_from_file_location(
        "_casekit_test_notebooks", Path(__file__).with_name("test_notebooks.py")
    )
    helpers = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(helpers)
    out, batch = helpers.shared_reports(tmp_path_factory)
    by_name = {r.notebook: r for r in batch.results}
    for name in NOTEBOOKS:
        assert by_name[name].ok, by_name[name].error
    return out, [by_name[n].html for n in NOTEBOOKS]


@pytest.mark.parametrize("index", range(len(NOTEBOOKS)), ids=NOTEBOOKS)
def test_every_figure_draws_offline(reports, index, tmp_path):
    _, pages = reports
    page = pages[index]
    expected = len(FIG_DIV.findall(page.read_text(encoding="utf-8")))
    assert expected >= 1
    dom = dump_dom(page, tmp_path / "profile")
    figs = figures(dom)
    assert len(figs) == expected
    for i, fig in enumerate(figs, 1):
        assert '<svg class="main-svg"' in fig, f"{page.name}: figure {i} did not draw"
    assert f"this page needs the file {R.PLOTLY_JS}" not in dom


def test_without_the_shared_script_nothing_draws(reports, tmp_path):
    out, pages = reports
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / R.PLOTLY_JS).unlink()
    page = copy / pages[0].relative_to(out)
    dom = dump_dom(page, tmp_path / "profile")
    assert '<svg class="main-svg"' not in dom
    assert f"this page needs the file {R.PLOTLY_JS}" in dom  # and the reader is told why


def test_index_page_links_every_report(reports, tmp_path):
    out, pages = reports
    dom = dump_dom(out / "index.html", tmp_path / "profile")
    for page in pages:
        assert f'href="{page.parent.name}/{page.name}"' in dom
