"""Exports of a finished report: a PDF of the page, and a PNG of each figure for slides.

* :func:`export_pdf` prints the report's HTML with headless Chromium (Debian's
  ``chromium``, or the browser named by ``BROWSER_PATH``) after its scripts ran, so the
  figures are drawn; no network is used (the report loads the shared ``plotly.min.js``
  from its folder).
* :func:`export_figures` draws each figure of the executed notebook with kaleido on the
  same Chromium, offline, through one reused browser session (the first image takes
  seconds, the next ones a fraction of a second).
* :func:`export_results` does either or both for the reports of a batch, after their
  HTML is written (``casekit render --format pdf|png|all``).

Every file is written under a temporary name beside its destination and renamed into
place, so a report's PDF or figures folder never holds a half-written file.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from casekit.exceptions import CasekitError, ParameterError

__all__ = [
    "FORMATS",
    "FIGURE_SIZE",
    "ExportError",
    "browser_path",
    "check_format",
    "export_figures",
    "export_pdf",
    "export_results",
    "figures_dir",
    "pdf_path",
]

FORMATS = ("html", "pdf", "png", "all")
"""``casekit render --format``: the HTML report alone (always written), with its PDF, with
a PNG of each figure, or with both."""

FIGURE_SIZE = (1000, 560)
"""Width and height in pixels of a figure's PNG when its layout sets none (at scale 1)."""

PLOTLY_MIME = "application/vnd.plotly.v1+json"
_BROWSERS = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_PDF_TIMEOUT = 120.0  # seconds; a stuck browser must not hang the batch
_KALEIDO_LOCK = threading.Lock()  # kaleido's sync server takes one request at a time


class ExportError(CasekitError):
    """A PDF or a figure could not be made (no browser, or the browser failed)."""


def pdf_path(html: str | os.PathLike) -> Path:
    """The PDF beside a report: ``case_report.html`` -> ``case_report.pdf``.

    Examples
    --------
    >>> pdf_path("reports/acme/case_report.html").as_posix()
    'reports/acme/case_report.pdf'
    """
    p = Path(html)
    return p.with_name(p.name[: -len(".html")] + ".pdf" if p.name.endswith(".html") else p.name)


def figures_dir(html: str | os.PathLike) -> Path:
    """The folder of a report's figure PNGs: ``case_report.html`` -> ``case_report_figures``.

    Examples
    --------
    >>> figures_dir("reports/acme/case_report.html").as_posix()
    'reports/acme/case_report_figures'
    """
    p = Path(html)
    stem = p.name[: -len(".html")] if p.name.endswith(".html") else p.stem
    return p.with_name(f"{stem}_figures")


def browser_path() -> str:
    """The Chromium to use: ``BROWSER_PATH`` if set, else the first found on ``PATH``.

    Raises
    ------
    ExportError
        No Chromium is installed.
    """
    env = os.environ.get("BROWSER_PATH")
    if env:
        if not (os.path.isfile(env) and os.access(env, os.X_OK)):
            raise ExportError(f"BROWSER_PATH={env!r} is not an executable file")
        return env
    for name in _BROWSERS:
        found = shutil.which(name)
        if found:
            return found
    raise ExportError(
        "PDF and PNG export need Chromium: install Debian's chromium package "
        "(apt-get install chromium) or set BROWSER_PATH to a Chromium or Chrome"
    )


def _temp_beside(dest: Path, directory: bool = False) -> Path:
    """A fresh temporary name beside ``dest`` (``.<name>.<pid>.<random>.tmp``: the pattern
    that :mod:`casekit.render.cleanup` sweeps after a killed run)."""
    dest.parent.mkdir(parents=True, exist_ok=True)
    prefix, suffix = f".{dest.name}.{os.getpid()}.", ".tmp"
    if directory:
        return Path(tempfile.mkdtemp(prefix=prefix, suffix=suffix, dir=dest.parent))
    fd, tmp = tempfile.mkstemp(prefix=prefix, suffix=suffix, dir=dest.parent)
    os.close(fd)
    return Path(tmp)


def export_pdf(
    html: str | os.PathLike,
    pdf: str | os.PathLike | None = None,
    *,
    budget_ms: int = 5000,
    timeout: float = _PDF_TIMEOUT,
) -> Path:
    """Print a rendered report to PDF with headless Chromium, its figures drawn.

    Parameters
    ----------
    html : path-like
        The report's HTML file (its ``plotly.min.js`` is loaded from its folder's parent,
        as when it is opened in a browser).
    pdf : path-like, optional
        Where to write; default :func:`pdf_path` of ``html``.
    budget_ms : int
        Virtual milliseconds the page's scripts may run before it is printed (virtual time
        runs as fast as the page allows, so this is not waited out in full).
    timeout : float
        Seconds before the browser is stopped and the export fails.

    Returns
    -------
    Path
        The PDF, written atomically (under a temporary name beside it, then renamed).

    Raises
    ------
    ExportError
        No browser, the browser failed or timed out, or it wrote no PDF.
    """
    src = Path(html).resolve()
    if not src.is_file():
        raise ParameterError(f"{src}: no such report to print")
    dest = Path(pdf) if pdf is not None else pdf_path(src)
    tmp = _temp_beside(dest)
    profile = tempfile.mkdtemp(prefix=f"casekit-{os.getpid()}-chromium-")
    cmd = [
        browser_path(),
        "--headless",
        "--no-sandbox",  # root in containers; the page is our own report, read from disk
        "--disable-gpu",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-dev-shm-usage",
        "--no-pdf-header-footer",
        "--hide-scrollbars",
        "--window-size=700,1000",  # about an A4 page's width: figures are drawn to fit it
        f"--user-data-dir={profile}",
        f"--virtual-time-budget={int(budget_ms)}",
        f"--print-to-pdf={tmp}",
        src.as_uri(),
    ]
    try:
        try:
            proc = subprocess.run(
                cmd,
                capture_output=True,
                text=True,
                timeout=timeout,
                stdin=subprocess.DEVNULL,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise ExportError(
                f"{src.name}: Chromium did not print the PDF within {timeout:g} s"
            ) from None
        with open(tmp, "rb") as fh:
            head = fh.read(5)
        if head != b"%PDF-":
            detail = (proc.stderr or "").strip().splitlines()
            raise ExportError(
                f"{src.name}: Chromium wrote no PDF (exit status {proc.returncode}"
                + (f": {detail[-1]}" if detail else "")
                + ")"
            )
        os.chmod(tmp, 0o644)
        os.replace(tmp, dest)
    finally:
        with contextlib.suppress(OSError):
            tmp.unlink()
        shutil.rmtree(profile, ignore_errors=True)
    return dest


def _figures(ipynb: Path) -> list[dict]:
    """The plotly figures an executed notebook shows, in order (as figure dicts)."""
    nb = json.loads(ipynb.read_text(encoding="utf-8"))
    out = []
    for cell in nb.get("cells", []):
        for output in cell.get("outputs") or []:
            fig = (output.get("data") or {}).get(PLOTLY_MIME)
            if isinstance(fig, dict) and "data" in fig:
                out.append(fig)
    return out


def figure_size(fig: dict) -> tuple[int, int]:
    """A figure's size in pixels at scale 1: its layout's, else :data:`FIGURE_SIZE`.

    Examples
    --------
    >>> figure_size({"layout": {"height": 400}})
    (1000, 400)
    """
    layout = fig.get("layout") or {}
    width = layout.get("width") or FIGURE_SIZE[0]
    height = layout.get("height") or FIGURE_SIZE[1]
    return int(width), int(height)


def _start_kaleido() -> None:
    import kaleido

    path = browser_path()
    os.environ.setdefault("BROWSER_PATH", path)
    kaleido.start_sync_server(silence_warnings=True)


def _draw(kaleido, fig: dict, opts: dict) -> bytes:
    """One PNG; on a first failure, kaleido's browser is restarted and the figure drawn once
    more. kaleido can call its page before the page's script has loaded (seen in a fresh
    venv with kaleido 1.5.1 on a loaded machine: "kaleido_scopes is not defined")."""
    try:
        return kaleido.calc_fig_sync(fig, opts=opts)
    except Exception:
        kaleido.stop_sync_server(silence_warnings=True)
        _start_kaleido()
        return kaleido.calc_fig_sync(fig, opts=opts)


def export_figures(
    ipynb: str | os.PathLike,
    folder: str | os.PathLike | None = None,
    *,
    scale: float = 1.0,
) -> list[Path]:
    """Draw each figure of an executed notebook as a PNG, offline, with kaleido.

    Parameters
    ----------
    ipynb : path-like
        The executed notebook (``<report>.ipynb``) whose outputs hold the figures.
    folder : path-like, optional
        Where the PNGs go (``figure-01.png``, ...); default :func:`figures_dir` of the
        report. The folder is replaced whole: old figures never mix with new ones.
    scale : float
        Pixels per figure pixel (2 for sharp slides).

    Returns
    -------
    list of Path
        One PNG per figure, in the order the report shows them (empty: no figures, and
        no folder).

    Raises
    ------
    ExportError
        No browser, or kaleido failed to draw a figure.
    """
    src = Path(ipynb)
    dest = Path(folder) if folder is not None else figures_dir(src.with_suffix(".html"))
    figs = _figures(src)
    if not figs:
        if dest.is_dir():
            shutil.rmtree(dest, ignore_errors=True)
        return []
    import kaleido

    staged = _temp_beside(dest, directory=True)
    names = []
    try:
        with _KALEIDO_LOCK:
            _start_kaleido()
            for i, fig in enumerate(figs, 1):
                width, height = figure_size(fig)
                opts = {"format": "png", "width": width, "height": height, "scale": scale}
                try:
                    data = _draw(kaleido, fig, opts)
                except Exception as err:  # kaleido raises its own and the browser's errors
                    raise ExportError(
                        f"{src.name}: figure {i} could not be drawn ({type(err).__name__}: {err})"
                    ) from None
                name = f"figure-{i:02d}.png"
                (staged / name).write_bytes(data)
                names.append(name)
        os.chmod(staged, 0o755)
        old = None
        if dest.exists():
            old = _temp_beside(dest, directory=True)
            os.replace(dest, old / "previous")
        os.replace(staged, dest)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    finally:
        if staged.exists():
            shutil.rmtree(staged, ignore_errors=True)
    return [dest / n for n in names]


def stop() -> None:
    """Close kaleido's browser session, if one was started."""
    with contextlib.suppress(Exception), _KALEIDO_LOCK:
        import kaleido

        kaleido.stop_sync_server(silence_warnings=True)


def _wanted(fmt: str) -> tuple[bool, bool]:
    if fmt not in FORMATS:
        raise ParameterError(f"format {fmt!r}: choose one of {', '.join(FORMATS)}")
    return fmt in ("pdf", "all"), fmt in ("png", "all")


def check_format(fmt: str) -> None:
    """Refuse an unknown format, or an export without a browser, before anything runs.

    Raises
    ------
    ParameterError
        ``fmt`` is not one of :data:`FORMATS`.
    ExportError
        A PDF or PNG is asked for and no Chromium is found.
    """
    want_pdf, want_png = _wanted(fmt)
    if want_pdf or want_png:
        browser_path()
    if want_png:
        try:
            import kaleido  # noqa: F401
        except ImportError:
            raise ExportError("PNG export needs kaleido (pip install 'casekit[export]')") from None


def _fresh(target: Path, source: Path) -> bool:
    """``target`` exists and is not older than ``source`` (a reused report's export)."""
    try:
        return target.stat().st_mtime >= source.stat().st_mtime
    except OSError:
        return False


def export_results(results: Sequence, fmt: str = "html", jobs: int = 1) -> list:
    """Export the reports of a batch (its :class:`RenderResult` objects) after their HTML.

    A reused report keeps an export that is newer than its HTML. A report whose export
    fails becomes ``failed`` with the reason (its HTML stays in place).

    Parameters
    ----------
    results : sequence of RenderResult
    fmt : {"html", "pdf", "png", "all"}
    jobs : int
        PDFs printed at the same time (each by its own browser).

    Returns
    -------
    list of RenderResult
        ``results``, with failed exports marked.
    """
    want_pdf, want_png = _wanted(fmt)
    out = list(results)
    if not (want_pdf or want_png):
        return out
    errors: dict[int, list[str]] = {}

    def pdf_one(i: int) -> None:
        html = Path(out[i].html)
        if _fresh(pdf_path(html), html):
            return
        try:
            export_pdf(html)
        except (CasekitError, OSError) as err:
            errors.setdefault(i, []).append(f"PDF export failed: {err}")

    todo = [i for i, r in enumerate(out) if r.ok and r.html is not None]
    with ThreadPoolExecutor(max_workers=max(1, min(int(jobs), 4))) as pool:
        futures = [pool.submit(pdf_one, i) for i in todo] if want_pdf else []
        if want_png:  # kaleido draws in this thread while the PDFs print
            for i in todo:
                html, ipynb = Path(out[i].html), out[i].ipynb
                figs = figures_dir(html)
                if ipynb is None or (figs.is_dir() and _fresh(figs, html)):
                    continue
                try:
                    export_figures(ipynb, figs)
                except (CasekitError, OSError, ValueError) as err:
                    errors.setdefault(i, []).append(f"PNG export failed: {err}")
        for f in futures:
            f.result()
    for i, msgs in errors.items():
        out[i] = dataclasses.replace(out[i], status="failed", error="; ".join(msgs))
    return out
