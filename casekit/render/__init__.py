"""Render notebooks into HTML reports: one code path for the CLI, the API and the tests.

A report is a notebook from ``notebooks/`` (jupytext percent scripts) executed
by papermill with checked parameters, saved as ``<out>/<case>/<notebook>.ipynb``
and converted to ``<out>/<case>/<notebook>.html`` (code hidden unless
``show_code``). Every report page loads one shared ``<out>/plotly.min.js``, so
figures draw offline and no page carries its own 4.8 MB copy of plotly.js.

* :func:`notebook_params` reads a notebook's parameters (name, type, default,
  help) from its ``parameters`` cell without starting a kernel.
* :func:`render` renders one report; :func:`render_batch` renders many, in
  parallel processes, and never lets one failure stop the others.
* ``<out>/index.html`` lists every report in the folder.

Files are written under a temporary name and then renamed, so a finished
report's name never holds a half-written file. A report is reused when its
notebook, its case data, its parameters and the casekit code are unchanged
(a ``<notebook>.json`` sidecar holds the fingerprint); ``force=True`` renders
anyway.

The parts, in the order a report passes through them: ``params`` (notebooks and
their parameters), ``jobs`` (specs, checks, fingerprints, the reuse cache), ``run``
(one report in a kernel), ``html`` (the page and its figures, with ``templates/``),
``batch`` (one, many, all; progress) and ``index`` (the index page, provenance).

Examples
--------
>>> from casekit import render
>>> [p.name for p in render.notebook_params("case_report")][:2]
['case', 'curves']
>>> render.coerce_params("case_report", {"horizon": "30"})["horizon"]
30
"""

# The `name as name` imports are private helpers the tests use, importable from here as
# before the split. To replace one in a test, patch the module that calls it
# (``casekit.render.run._write_sidecar``, ``casekit.render.jobs._package_fingerprint``).
from casekit.render.batch import BatchResult, RenderError, bundled_specs, render, render_batch
from casekit.render.html import _PLOTLY_MIME as _PLOTLY_MIME
from casekit.render.html import PLOTLY_JS, TEMPLATES
from casekit.render.html import _figure_html as _figure_html
from casekit.render.html import _plotly_to_html as _plotly_to_html
from casekit.render.index import provenance, write_index
from casekit.render.jobs import CROSS_CASE_DIR, RenderResult, Spec
from casekit.render.jobs import _prepare as _prepare
from casekit.render.params import _SUPPORTED_TYPES as _SUPPORTED_TYPES
from casekit.render.params import (
    NOTEBOOKS,
    PRICES_ENV,
    Param,
    coerce_params,
    describe_params,
    list_notebooks,
    notebook_params,
    notebook_path,
    notebooks_dir,
)
from casekit.render.run import CELL_TIMEOUT

__all__ = [
    "CELL_TIMEOUT",
    "CROSS_CASE_DIR",
    "NOTEBOOKS",
    "PLOTLY_JS",
    "PRICES_ENV",
    "TEMPLATES",
    "BatchResult",
    "Param",
    "RenderError",
    "RenderResult",
    "Spec",
    "bundled_specs",
    "coerce_params",
    "describe_params",
    "list_notebooks",
    "notebook_params",
    "notebook_path",
    "notebooks_dir",
    "provenance",
    "render",
    "render_batch",
    "write_index",
]
