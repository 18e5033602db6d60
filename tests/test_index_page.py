"""The reports folder's index.html as a reader sees it in headless Chromium: each report
named by its notebook's title and its case's title, the synthetic case flagged, status and
time shown, and no absolute local path anywhere on the page."""

from __future__ import annotations

import html
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from casekit import render as R
from casekit.render.index_info import notebook_title

pytestmark = pytest.mark.browser

CASE = "synthetic-example"
CASE_TITLE = "Synthetic example: the broken kettle"


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    pytest.fail("headless Chromium is not installed: scripts/test.sh installs it (apt-get)")


def inner_text(page: Path, profile: Path) -> str:
    """``document.body.innerText`` of ``page`` after layout, read back from the DOM."""
    probe = page.with_name(".probe-" + page.name)
    probe.write_text(
        page.read_text(encoding="utf-8").replace(
            "</body>",
            "<script>document.documentElement.setAttribute('data-inner-text', "
            "document.body.innerText)</script></body>",
        ),
        encoding="utf-8",
    )
    try:
        res = subprocess.run(
            [
                chromium(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost",
                f"--user-data-dir={profile}",
                "--virtual-time-budget=5000",
                "--dump-dom",
                probe.resolve().as_uri(),
            ],
            capture_output=True,
            text=True,
            timeout=120,
            env={**os.environ, "HOME": str(profile)},
        )
    finally:
        probe.unlink()
    assert res.returncode == 0, res.stderr[-2000:]
    m = re.search(r'data-inner-text="([^"]*)"', res.stdout)
    assert m, "the page's text could not be read back"
    return html.unescape(m.group(1))


@pytest.fixture(scope="module")
def index(tmp_path_factory):
    root = tmp_path_factory.mktemp("index")
    prices = root / "my-local-prices"  # an absolute local path given as a parameter
    prices.mkdir()
    out = root / "reports"
    batch = R.render_batch(
        [
            R.Spec("case_report", CASE, {"prices_dir": str(prices), "horizon": 10}),
            R.Spec("compare_cases", None, {"cases": [CASE], "horizon": 20}),
        ],
        jobs=2,
        out_dir=out,
        progress=False,
    )
    assert batch.ok, batch.table()
    text = inner_text(out / "index.html", root / "profile")
    return root, out, text


def test_reports_are_named_by_notebook_and_case_titles(index):
    _, out, text = index
    page = (out / "index.html").read_text(encoding="utf-8")
    links = re.findall(r'<a href="[^"]+\.html">([^<]*)</a>', page)
    assert links == ["Case report", notebook_title("compare_cases")]
    assert links[1] != "compare_cases"
    assert CASE_TITLE in text
    assert "all cases" in text  # compare_cases is about no one case


def test_the_synthetic_case_is_flagged(index):
    _, _, text = index
    line = next(ln for ln in text.splitlines() if CASE_TITLE in ln)
    assert "synthetic" in line.replace(CASE_TITLE, "").lower()


def test_status_and_time_are_shown(index):
    _, _, text = index
    rows = [ln for ln in text.splitlines() if "\tok\t" in ln or ln.endswith("\tok")]
    assert len(rows) == 2, text
    assert all(re.search(r"\t\d+(\.\d+)?\t\d{4}-\d\d-\d\d \d\d:\d\d", r) for r in rows), rows


def test_no_absolute_local_path_on_the_page(index):
    root, out, text = index
    page = (out / "index.html").read_text(encoding="utf-8")
    for where in (text, page):
        assert str(root) not in where
        assert str(Path.home()) + os.sep not in where
        assert "file://" not in where
    assert "prices_dir='my-local-prices'" in text  # the folder's name, not its path


def test_shown_value_keeps_paths_inside_the_reports_folder_relative(tmp_path):
    from casekit.render.index_info import shown_value

    assert shown_value(str(tmp_path / "a" / "b.csv"), tmp_path) == "a/b.csv"
    assert shown_value(str(tmp_path), tmp_path / "reports") == tmp_path.name
    assert shown_value("relative/x", tmp_path) == "relative/x"
