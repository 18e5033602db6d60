"""Exports as a reader sees them: the PDF's pages drawn to pixels show the figures, each
figure's PNG is a real image of the figure's size, and bad parameters are refused at once.

The PDF is printed by Debian's ``chromium`` and its pages turned into images by
``pdftoppm`` (Debian's ``poppler-utils``); scripts/test.sh installs both. PNGs are drawn by
kaleido on the same Chromium.
"""

from __future__ import annotations

import colorsys
import json
import shutil
import struct
import subprocess
import time
import zlib
from pathlib import Path

import pytest
from click.testing import CliRunner

from casekit import render as R
from casekit.cli import cli
from casekit.exceptions import ParameterError
from casekit.render import export as E

pytestmark = pytest.mark.browser

CASE = "synthetic-example"


def need(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"{tool} is not installed: scripts/test.sh installs it (apt-get)")
    return path


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    """One case report rendered with every export (PDF and PNGs)."""
    need("chromium")
    out = tmp_path_factory.mktemp("export")
    result = R.render(CASE, "case_report", out_dir=out, format="all", force=True)
    return out, result


# --- images: PPM from pdftoppm, PNG decoded here (no imaging library needed) -------------


def read_ppm(path: Path) -> tuple[int, int, bytes]:
    data = path.read_bytes()
    parts = data.split(maxsplit=4)
    assert parts[0] == b"P6" and parts[3] == b"255", path
    width, height = int(parts[1]), int(parts[2])
    pixels = parts[4]
    assert len(pixels) == width * height * 3
    return width, height, pixels


def pdf_pages(pdf: Path, folder: Path, dpi: int = 40) -> list[tuple[int, int, bytes]]:
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [need("pdftoppm"), "-r", str(dpi), str(pdf), str(folder / "page")],
        check=True,
        capture_output=True,
        timeout=120,
    )
    return [read_ppm(p) for p in sorted(folder.glob("page-*.ppm"))]


def hues(pages: list[tuple[int, int, bytes]]) -> list[int]:
    """Coloured pixels of the pages counted in 12 hue buckets (text is black or grey)."""
    counts = [0] * 12
    for _, _, px in pages:
        for i in range(0, len(px), 3):
            r, g, b = px[i], px[i + 1], px[i + 2]
            if max(r, g, b) - min(r, g, b) > 60:
                h, _, _ = colorsys.rgb_to_hsv(r / 255, g / 255, b / 255)
                counts[int(h * 12) % 12] += 1
    return counts


def coloured(pixels: bytes, channels: int = 3) -> int:
    """Pixels whose channels differ (colour, as in a figure's lines and markers; text is
    black or grey)."""
    n = 0
    for i in range(0, len(pixels) - channels + 1, channels):
        r, g, b = pixels[i], pixels[i + 1], pixels[i + 2]
        if max(r, g, b) - min(r, g, b) > 60:
            n += 1
    return n


def non_white(pixels: bytes, channels: int = 3) -> int:
    return sum(
        1 for i in range(0, len(pixels) - channels + 1, channels) if min(pixels[i : i + 3]) < 200
    )


def png_size(path: Path) -> tuple[int, int]:
    head = path.read_bytes()[:24]
    assert head[:8] == b"\x89PNG\r\n\x1a\n", f"{path.name} is not a PNG"
    assert head[12:16] == b"IHDR"
    return struct.unpack(">II", head[16:24])


def png_pixels(path: Path) -> tuple[int, int, int, bytes]:
    """Decode an 8-bit RGB or RGBA PNG: (width, height, channels, raw pixel bytes)."""
    data = path.read_bytes()
    pos, idat, header = 8, b"", None
    while pos < len(data):
        (length,) = struct.unpack(">I", data[pos : pos + 4])
        kind, body = data[pos + 4 : pos + 8], data[pos + 8 : pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat += body
        pos += 12 + length
    width, height, depth, colour, _, _, interlace = header
    assert depth == 8 and colour in (2, 6) and interlace == 0, header
    ch = 3 if colour == 2 else 4
    raw, stride = zlib.decompress(idat), width * ch
    out, prev = bytearray(), bytearray(stride)
    for y in range(height):
        row = raw[y * (stride + 1) : (y + 1) * (stride + 1)]
        f, line = row[0], bytearray(row[1:])
        for x in range(stride):
            a = line[x - ch] if x >= ch else 0
            b, c = prev[x], prev[x - ch] if x >= ch else 0
            if f == 1:
                line[x] = (line[x] + a) & 255
            elif f == 2:
                line[x] = (line[x] + b) & 255
            elif f == 3:
                line[x] = (line[x] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                pred = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[x] = (line[x] + pred) & 255
        out += line
        prev = line
    return width, height, ch, bytes(out)


# --- the PDF ---------------------------------------------------------------------------


def test_pdf_is_written_beside_the_html_and_shows_the_figures(report, tmp_path):
    out, result = report
    pdf = E.pdf_path(result.html)
    assert pdf == result.html.with_suffix(".pdf") and pdf.is_file()
    assert pdf.read_bytes()[:5] == b"%PDF-"
    assert not list(pdf.parent.glob(".*.tmp")), "a temporary file was left beside the PDF"

    pages = pdf_pages(pdf, tmp_path / "with")
    assert len(pages) >= 2
    w, h, first = pages[0]
    assert non_white(first) > 0.01 * w * h, "the first page is blank"
    with_figures = hues(pages)

    # The same report printed without the shared plotly.min.js draws no figure: its only
    # colours are the links' blue and the red "figure not drawn" notes. The colours that
    # the figures add (their lines, markers and bands) are what the figures put on paper.
    copy = tmp_path / "copy"
    shutil.copytree(out, copy)
    (copy / R.PLOTLY_JS).unlink()
    bare_pdf = E.export_pdf(copy / result.html.relative_to(out))
    bare = hues(pdf_pages(bare_pdf, tmp_path / "without"))
    added = [w for w, b in zip(with_figures, bare, strict=True) if w >= 300 and b < 100]
    assert len(added) >= 2 and sum(added) > 3000, (with_figures, bare)


def test_pdf_export_replaces_the_old_pdf_atomically(report, tmp_path):
    _, result = report
    target = tmp_path / "report.pdf"
    target.write_bytes(b"old")
    E.export_pdf(result.html, target)
    assert target.read_bytes()[:5] == b"%PDF-"
    assert [p.name for p in tmp_path.iterdir()] == ["report.pdf"]


def test_pdf_export_without_a_browser_says_what_to_install(report, monkeypatch):
    _, result = report
    monkeypatch.setenv("BROWSER_PATH", "/nonexistent/chromium")
    with pytest.raises(E.ExportError, match="BROWSER_PATH"):
        E.export_pdf(result.html)


# --- the PNGs --------------------------------------------------------------------------


def test_a_png_per_figure_of_the_figure_size_with_the_figure_on_it(report):
    _, result = report
    nb = json.loads(result.ipynb.read_text(encoding="utf-8"))
    figs = [
        o["data"][E.PLOTLY_MIME]
        for c in nb["cells"]
        for o in c.get("outputs", [])
        if E.PLOTLY_MIME in o.get("data", {})
    ]
    assert len(figs) >= 3
    folder = E.figures_dir(result.html)
    pngs = sorted(folder.glob("*.png"))
    assert [p.name for p in pngs] == [f"figure-{i:02d}.png" for i in range(1, len(figs) + 1)]
    for fig, png in zip(figs, pngs, strict=True):
        assert png_size(png) == E.figure_size(fig), png.name
    width, height, ch, px = png_pixels(pngs[0])
    drawn = non_white(px, ch)
    assert 0.005 * width * height < drawn < 0.9 * width * height, drawn
    assert coloured(px, ch) > 500  # the lines and markers, not only axes and text


def test_export_runs_as_a_cli_option_and_reuses_fresh_exports(report, monkeypatch):
    out, result = report
    # casekit's own source is part of the fingerprint; others may be editing it right now
    monkeypatch.setattr(R.jobs, "_package_fingerprint", lambda: "fixed for this test")
    pdf = E.pdf_path(result.html)
    args = ["render", CASE, "--out", str(out), "--format", "pdf", "--no-progress"]
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert pdf.stat().st_mtime >= result.html.stat().st_mtime
    before = pdf.stat().st_mtime_ns
    res = CliRunner().invoke(cli, args)
    assert res.exit_code == 0, res.output
    assert "cached" in res.output
    assert pdf.stat().st_mtime_ns == before  # a reused report keeps its up-to-date PDF


def test_index_links_the_exports(report):
    out, result = report
    page = (out / "index.html").read_text(encoding="utf-8")
    assert f'href="{CASE}/case_report.pdf"' in page
    assert f'href="{CASE}/case_report_figures/"' in page


def test_unknown_format_is_refused_before_any_kernel(tmp_path):
    with pytest.raises(ParameterError, match="html, pdf, png, all"):
        R.render(CASE, "case_report", out_dir=tmp_path, format="docx")
    assert not (tmp_path / CASE).exists()


# --- parameters that cannot be right ----------------------------------------------------


def test_out_of_range_parameter_fails_before_any_kernel_from_the_api(tmp_path):
    start = time.perf_counter()
    with pytest.raises(ParameterError, match=r"'effectiveness' must be from 0 to 0\.99, got 1\.3"):
        R.render(CASE, "case_report", params={"effectiveness": 1.3}, out_dir=tmp_path)
    assert time.perf_counter() - start < 3
    assert not (tmp_path / CASE).exists()  # nothing rendered, no kernel started


def test_out_of_range_parameter_fails_before_any_kernel_from_the_cli(tmp_path):
    start = time.perf_counter()
    res = CliRunner().invoke(
        cli, ["render", CASE, "--out", str(tmp_path), "-p", "effectiveness", "1.3"]
    )
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    assert "'effectiveness' must be from 0 to 0.99, got 1.3" in res.output
    assert "[0, 0.99]" in res.output  # the listing shows each parameter's range
    assert time.perf_counter() - start < 3
    assert not (tmp_path / CASE).exists()


@pytest.mark.parametrize(
    ("notebook", "params", "message"),
    [
        ("case_report", {"delays": "0,-1"}, "each value of parameter 'delays' must be 0 or more"),
        ("case_report", {"loss": "l1"}, "'loss' must be one of"),
        ("case_report", {"curves": "logistic,spline"}, "got 'spline'"),
        ("classroom", {"grid_effectiveness": [0.5, 2]}, "must be from 0 to 0.99, got 2.0"),
        ("classroom", {"model": "flows"}, "'model' must be one of intervention, flow, rate"),
        ("compare_cases", {"min_points": 0}, "'min_points' must be 1 or more"),
        ("new_case", {"curve": "cubic"}, "'curve' must be one of logistic"),
    ],
)
def test_declared_ranges_and_choices_are_checked(notebook, params, message):
    with pytest.raises(ParameterError, match=message):
        R.coerce_params(notebook, params)


def test_values_inside_the_range_and_defaults_pass():
    got = R.coerce_params(
        "case_report", {"effectiveness": "0.99", "delays": "0,30", "loss": "", "curves": "bass"}
    )
    assert got == {"effectiveness": 0.99, "delays": [0.0, 30.0], "loss": "", "curves": ["bass"]}
    p = {x.name: x for x in R.notebook_params("case_report")}
    assert p["effectiveness"].range == (0.0, 0.99, True, True)
    assert p["loss"].choices == ("", "ols", "log", "robust", "robust_log")
    assert p["ticker"].range is None and p["ticker"].choices is None


def test_casekit_params_shows_the_ranges():
    res = CliRunner().invoke(cli, ["params", "classroom"])
    assert res.exit_code == 0
    assert "effectiveness: float = 0.5" in res.output and "[0, 0.99]" in res.output
    assert "{intervention, flow, rate}" in res.output


def test_a_figure_is_drawn_again_after_kaleido_restarts(monkeypatch):
    """kaleido may call its page before the page's script has loaded; one restart and
    one more try, then the error is the user's to see."""
    from casekit.render import export as X

    calls, restarts = [], []

    class FakeKaleido:
        @staticmethod
        def calc_fig_sync(fig, opts):
            calls.append(fig)
            if len(calls) == 1:
                raise RuntimeError("ReferenceError: kaleido_scopes is not defined")
            return b"png"

        @staticmethod
        def stop_sync_server(silence_warnings=True):
            restarts.append("stop")

    monkeypatch.setattr(X, "_start_kaleido", lambda: restarts.append("start"))
    assert X._draw(FakeKaleido, {"data": []}, {}) == b"png"
    assert len(calls) == 2 and restarts == ["stop", "start"]

    def always_fails(fig, opts):
        raise RuntimeError("still broken")

    FakeKaleido.calc_fig_sync = staticmethod(always_fails)
    with pytest.raises(RuntimeError, match="still broken"):
        X._draw(FakeKaleido, {"data": []}, {})
