"""Sphinx configuration for the casekit documentation.

Build: ``python -m sphinx -b html docs docs/_build/html`` (tests/test_docs.py builds with
``-W --keep-going``, so every warning fails the test suite).
"""

from __future__ import annotations

import importlib
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))  # document the source tree, installed or not

with open(ROOT / "pyproject.toml", "rb") as f:
    _project = tomllib.load(f)["project"]

project = "casekit"
author = "casekit developers"
copyright = "2026, casekit developers"
release = version = _project["version"]

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.intersphinx",
    "sphinx.ext.viewcode",
    "numpydoc",
    "myst_parser",
]

source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
exclude_patterns = ["_build", "report.png"]

# API pages of parts written in parallel (casekit.events, casekit.forecast) are built only
# once their package imports and declares its public API (``__all__``); until then they are
# left out rather than failing the build. tests/test_docs.py applies the same rule.
OPTIONAL_API = {"api/events": "casekit.events", "api/forecast": "casekit.forecast"}


def public_api_ready(module: str) -> bool:
    """True when ``module`` imports and lists its public names in ``__all__``."""
    try:
        return hasattr(importlib.import_module(module), "__all__")
    except ImportError:
        return False


for _page, _module in OPTIONAL_API.items():
    if not public_api_ready(_module):
        exclude_patterns.append(_page + ".rst")

# autodoc: each public module documents exactly its ``__all__``, in source order.
autodoc_default_options = {"members": True, "member-order": "bysource"}
autodoc_typehints = "none"  # the numpydoc Parameters sections carry the types
autodoc_class_signature = "mixed"

# numpydoc: no autosummary tables of class members (they would need stub pages).
numpydoc_show_class_members = False
numpydoc_class_members_toctree = False
numpydoc_validation_checks: set[str] = set()

myst_enable_extensions = ["colon_fence"]
myst_heading_anchors = 3

intersphinx_mapping: dict[str, tuple[str, str | None]] = {}  # offline: no inventories

html_theme = "furo"
html_title = f"casekit {release}"
html_static_path: list[str] = []


def _drop_excluded_pages(app, docname, source):
    """Remove optional API pages that were excluded above from the API toctree."""
    if docname != "api/index":
        return
    dropped = {page.split("/", 1)[1] for page in OPTIONAL_API if page + ".rst" in exclude_patterns}
    lines = source[0].splitlines()
    source[0] = "\n".join(line for line in lines if line.strip() not in dropped) + "\n"


def setup(app):
    from pygments.lexers.special import TextLexer

    # datasets/README.md shows CSV rows in ```csv fences; Pygments has no CSV lexer.
    app.add_lexer("csv", TextLexer)
    app.connect("source-read", _drop_excluded_pages)
