"""Executed notebooks to HTML pages that draw their figures from one shared plotly.min.js.

Every plotly figure output of a notebook becomes a ``<div>`` and a small script calling
``Plotly.newPlot``; the page loads ``../plotly.min.js`` (copied once into the reports
folder by :func:`_ensure_plotly_js`), so figures draw offline and no page carries its
own 4.8 MB copy of plotly.js. The page itself is nbconvert's lab template, extended by
``templates/casekit_report.html.j2``.
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
<script type="text/javascript">
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


def _figure_html(fig: Mapping[str, Any], fig_id: str) -> str:
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
        height=f"{int(height)}px" if height else "450px",
        js=PLOTLY_JS,
        data=_json_for_script(fig.get("data") or []),
        layout=_json_for_script(layout),
        config=_json_for_script(config),
    )


def _plotly_to_html(nb) -> int:
    """Give every plotly figure output an HTML form that uses the shared plotly.min.js.

    Changes ``nb`` in place; returns the number of figures.
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
                out["data"] = {"text/html": _figure_html(fig, f"casekit-fig-{n}")}
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

    view = copy.deepcopy(nb)
    # The injected-parameters cell is provenance, not reading matter: keep it in the .ipynb.
    view.cells = [
        c for c in view.cells if "injected-parameters" not in c.get("metadata", {}).get("tags", [])
    ]
    _plotly_to_html(view)
    body, _ = _exporter(show_code).from_notebook_node(
        view, resources={"casekit_plotly_src": f"../{PLOTLY_JS}", "metadata": {"name": title}}
    )
    return body
