"""Executed notebooks to HTML pages that draw their figures from one shared plotly.min.js.

Every plotly figure output of a notebook becomes a ``<div>`` and a small script calling
``Plotly.newPlot``; the page loads ``../plotly.min.js`` (copied once into the reports
folder by :func:`_ensure_plotly_js`), so figures draw offline and no page carries its
own 4.8 MB copy of plotly.js. The page itself is nbconvert's lab template, extended by
``templates/casekit_report.html.j2``.

Case text is escaped where it enters an output (:mod:`casekit.format`). As a second line
of defence every page carries a Content-Security-Policy that lets only its own scripts
run: the plotly loader and the figure scripts written here carry a nonce drawn afresh
for each page, so a ``<script>``, an ``onerror=`` attribute or a ``javascript:`` link that
got into an output unescaped does not run. A notebook's own JavaScript outputs do not run
either; a report is a static document.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from casekit.render.jobs import _atomic_write

__all__ = ["PLOTLY_JS", "TEMPLATES"]

PLOTLY_JS = "plotly.min.js"
"""The one copy of plotly.js in a reports folder, shared by every page."""

TEMPLATES = Path(__file__).resolve().parent / "templates"
"""The folder of the report and index templates."""

_PLOTLY_MIME = "application/vnd.plotly.v1+json"
_REPORT_TEMPLATE = "casekit_report.html.j2"


def _ensure_plotly_js(out_dir: Path) -> Path:
    """Copy plotly.min.js from the installed plotly package into ``out_dir`` (once)."""
    import importlib.util

    spec = importlib.util.find_spec("plotly")
    src = Path(spec.origin).parent / "package_data" / PLOTLY_JS
    dst = out_dir / PLOTLY_JS
    if not dst.is_file() or dst.stat().st_size != src.stat().st_size:
        _atomic_write(dst, src.read_bytes())
    return dst


_FIGURE_TEMPLATE = """\
<div id="{id}" class="plotly-graph-div casekit-figure" style="height:{height}; width:100%;"></div>
<script type="text/javascript"{nonce}>
(function () {{
  var el = document.getElementById("{id}");
  if (!window.Plotly) {{
    el.style.height = "auto";
    el.innerHTML = '<p class="casekit-missing-plotly"><b>Figure not drawn:</b> this page needs the '
      + 'file {js} in the folder above it (it is written there by casekit render).</p>';
    return;
  }}
  Plotly.newPlot(el, {data}, {layout}, {config});
}})();
</script>"""


def _json_for_script(obj: Any) -> str:
    """JSON that cannot end the ``<script>`` element it sits in."""
    text = json.dumps(obj, separators=(",", ":"), allow_nan=False, default=str)
    return text.replace("</", "<\\/").replace("<!--", "<\\!--")


def _csp(nonce: str) -> str:
    """The page's Content-Security-Policy: only scripts carrying ``nonce`` run."""
    return f"script-src 'nonce-{nonce}'; object-src 'none'; base-uri 'none'; form-action 'none'"


def _figure_html(fig: Mapping[str, Any], fig_id: str, nonce: str | None = None) -> str:
    """The HTML of one plotly figure (a dict with ``data``, ``layout``, ``config``).

    Examples
    --------
    >>> html = _figure_html({"data": [{"name": "</script>"}]}, "f1")
    >>> html.count("</script>")
    1
    """
    layout = dict(fig.get("layout") or {})
    height = layout.get("height")
    config = {"responsive": True, "displaylogo": False, **(fig.get("config") or {})}
    return _FIGURE_TEMPLATE.format(
        id=fig_id,
        nonce=f' nonce="{nonce}"' if nonce else "",
        height=f"{int(height)}px" if height else "450px",
        js=PLOTLY_JS,
        data=_json_for_script(fig.get("data") or []),
        layout=_json_for_script(layout),
        config=_json_for_script(config),
    )


def _plotly_to_html(nb, nonce: str | None = None) -> int:
    """Give every plotly figure output an HTML form that uses the shared plotly.min.js.

    Changes ``nb`` in place; returns the number of figures. ``nonce``: the page's script
    nonce (see :func:`_csp`).
    """
    n = 0
    for cell in nb.cells:
        for out in cell.get("outputs", []):
            data = out.get("data")
            if data and _PLOTLY_MIME in data:
                n += 1
                fig = data[_PLOTLY_MIME]
                if isinstance(fig, str):
                    fig = json.loads(fig)
                out["data"] = {"text/html": _figure_html(fig, f"casekit-fig-{n}", nonce)}
    return n


_EXPORTERS: dict[bool, Any] = {}


def _exporter(show_code: bool):
    """The HTML exporter (one per process and setting: its templates compile once)."""
    if show_code in _EXPORTERS:
        return _EXPORTERS[show_code]
    import jinja2
    from nbconvert import HTMLExporter

    # A DictLoader holding only our template: a folder loader could shadow nbconvert's own
    # templates by name.
    source = (TEMPLATES / _REPORT_TEMPLATE).read_text(encoding="utf-8")
    exporter = HTMLExporter(
        exclude_input=not show_code,
        exclude_input_prompt=True,
        exclude_output_prompt=True,
        extra_loaders=[jinja2.DictLoader({_REPORT_TEMPLATE: source})],
        template_file=_REPORT_TEMPLATE,
    )
    _EXPORTERS[show_code] = exporter
    return exporter


def _prewarm(show_code: bool) -> None:
    """Import nbconvert and compile the report template (about 0.7 s the first time in a
    process); run in a thread while the first kernel works, it costs no wall time."""
    try:
        import nbformat

        _exporter(show_code).from_notebook_node(nbformat.v4.new_notebook())
    except Exception:  # only a head start: the real export reports real problems
        pass


def _to_html(nb, title: str, show_code: bool) -> str:
    """The report page of an executed notebook (``nb`` itself is left unchanged)."""
    import copy
    import secrets

    view = copy.deepcopy(nb)
    # The injected-parameters cell is provenance, not reading matter: keep it in the .ipynb.
    view.cells = [
        c for c in view.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])
    ]
    nonce = secrets.token_urlsafe(18)
    _plotly_to_html(view, nonce)
    resources = {
        "casekit_plotly_src": f"../{PLOTLY_JS}",
        "casekit_nonce": nonce,
        "casekit_csp": _csp(nonce),
        "metadata": {"name": title},
    }
    body, _ = _exporter(show_code).from_notebook_node(view, resources=resources)
    return body
