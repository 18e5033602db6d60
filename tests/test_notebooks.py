"""The bundled notebooks: thin (a style check), and every one executed through render().

Each notebook runs once, through the same ``casekit.render`` path as the command line,
with small parameters on the synthetic example case. The renders go to a folder shared
by the whole session, so test_browser.py reuses them (render's cache) instead of
starting the kernels again.
"""

from __future__ import annotations

import ast
import html
import io
import re
import tokenize
from pathlib import Path

import pytest

import casekit as ck
from casekit import render as R

NOTEBOOK_FILES = sorted(R.notebooks_dir().glob("*.py"))
CASE = "synthetic-example"

# Small, quick parameters per notebook (anything not named keeps its default).
SMALL = {
    "case_report": {"curves": ["logistic"], "horizon": 20, "delays": [0, 3]},
    "compare_cases": {"cases": [CASE], "horizon": 20},
    "classroom": {"grid_delays": [0, 3], "grid_effectiveness": [0.5]},
    "event_log": {"step": "1D", "n_draws": 200},
    "new_case": {},
}


def small_specs() -> list[R.Spec]:
    specs = []
    for path in NOTEBOOK_FILES:
        takes_case = any(p.name == "case" for p in R.notebook_params(path.stem))
        specs.append(R.Spec(path.stem, CASE if takes_case else None, SMALL.get(path.stem, {})))
    return specs


def shared_reports(tmp_path_factory) -> tuple[Path, R.BatchResult]:
    """Render every notebook (small parameters) into the session's shared folder."""
    out = tmp_path_factory.getbasetemp() / "shared-reports"
    batch = R.render_batch(small_specs(), jobs=2, out_dir=out, progress=False)
    return out, batch


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    _, batch = shared_reports(tmp_path_factory)
    return {r.notebook: r for r in batch.results}


def cells(path: Path) -> list[tuple[str, str, str]]:
    """(kind, header line, source) of each ``# %%`` cell of a jupytext percent file."""
    out, header, lines = [], None, []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.startswith("# %%"):
            if header is not None:
                out.append(
                    ("markdown" if "[markdown]" in header else "code", header, "\n".join(lines))
                )
            header, lines = line, []
        elif header is not None:
            lines.append(line)
    if header is not None:
        out.append(("markdown" if "[markdown]" in header else "code", header, "\n".join(lines)))
    return out


# --- style: thin notebooks ------------------------------------------------------------------


def test_the_four_notebooks_exist():
    assert {p.stem for p in NOTEBOOK_FILES} >= set(R.NOTEBOOKS)


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_notebook_is_thin(path):
    code = "\n\n".join(src for kind, _, src in cells(path) if kind == "code")
    tree = ast.parse(code)
    forbidden = (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Lambda)
    bad = [
        f"line {n.lineno}: {type(n).__name__}" for n in ast.walk(tree) if isinstance(n, forbidden)
    ]
    assert not bad, f"{path.name}: logic belongs in the casekit package, not here: {bad}"
    calls = {
        n.func.attr
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Attribute)
    }
    assert not calls & {"show", "to_csv", "to_excel", "write_html", "write_image"}, path.name
    names = {
        n.func.id
        for n in ast.walk(tree)
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)
    }
    assert "open" not in names and "exec" not in names and "eval" not in names, path.name


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_first_code_cell_is_typed_parameters_with_help(path):
    text = path.read_text(encoding="utf-8")
    assert re.search(r"^#\s+kernelspec:\n(#\s+.*\n)*#\s+name: python3$", text, re.MULTILINE), (
        f"{path.name}: the jupytext header needs a kernelspec (papermill needs it)"
    )
    code = [(h, src) for kind, h, src in cells(path) if kind == "code"]
    header, src = code[0]
    assert 'tags=["parameters"]' in header, f"{path.name}: first code cell is not 'parameters'"
    tree = ast.parse(src)
    comments = {
        tok.start[0]
        for tok in tokenize.generate_tokens(io.StringIO(src).readline)
        if tok.type == tokenize.COMMENT
    }
    for node in tree.body:
        assert isinstance(node, ast.AnnAssign), (
            f"{path.name} line {node.lineno}: parameters are `name: type = literal  # help`"
        )
        ast.literal_eval(node.value)  # a literal, nothing computed
        assert node.lineno in comments, f"{path.name}: {node.target.id} has no help comment"
    for p in R.notebook_params(path.stem):
        assert p.type in R._SUPPORTED_TYPES, f"{path.name}: {p.name}: {p.type}"


@pytest.mark.parametrize("path", NOTEBOOK_FILES, ids=lambda p: p.stem)
def test_notebook_opens_as_a_valid_ipynb(path):
    import jupytext
    import nbformat

    nb = jupytext.read(path)
    nbformat.validate(nb)
    assert nb.metadata["kernelspec"]["name"] == "python3"
    assert nb.cells[0].cell_type == "markdown" and nb.cells[0].source.startswith("# ")


# --- executed through render() ----------------------------------------------------------------


@pytest.mark.notebook
@pytest.mark.parametrize("name", [p.stem for p in NOTEBOOK_FILES])
def test_notebook_renders(rendered, name):
    import nbformat

    r = rendered[name]
    assert r.ok, f"{name} failed: {r.error}\n{r.log.read_text(encoding='utf-8')[-3000:]}"
    page = r.html.read_text(encoding="utf-8")
    nb = nbformat.read(r.ipynb, as_version=4)
    outputs = [o for c in nb.cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.output_type == "error"]
    n_figs = sum(R._PLOTLY_MIME in o.get("data", {}) for o in outputs)
    assert n_figs >= 1, f"{name}: no figure"
    assert page.count('class="plotly-graph-div casekit-figure"') == n_figs
    assert len(page.encode()) < 1_000_000, f"{name}: {len(page) / 1e6:.2f} MB"
    assert "import casekit" not in page  # code hidden
    # the provenance footer: versions, and for a case the hash of its data
    assert "About this" in page
    assert re.search(r"<td>casekit</td>\s*<td>" + re.escape(ck.__version__) + "</td>", page)
    assert ("<td>case data sha256</td>" in page) == (r.case is not None)
    assert not re.search(r"Traceback|Error:", page)


@pytest.mark.notebook
def test_case_report_has_every_section(rendered):
    page = rendered["case_report"].html.read_text(encoding="utf-8")
    for section in (
        "The story",
        "Reach over time",
        "cost of a slow response",
        "Market test",
        "Sources",
        "About this report",
    ):
        assert section in page, section
    # no price data given: the market section says how to supply it
    assert "prices_dir" in page and R.PRICES_ENV in page
    assert "Synthetic example data" in page


@pytest.mark.notebook
@pytest.mark.parametrize("name", ["case_report", "compare_cases", "classroom"])
def test_report_lists_every_source_of_its_case(rendered, name):
    page = rendered[name].html.read_text(encoding="utf-8")
    assert re.search(r'<h2 id="[^"]*Sources">', page), "no Sources section"
    tail = page[re.search(r'<h2 id="[^"]*Sources">', page).end() :]
    for title in ck.load_case(CASE).sources["title"]:
        assert html.escape(title, quote=False) in tail, title


@pytest.mark.notebook
def test_classroom_figures_name_their_sources(rendered):
    import nbformat

    nb = nbformat.read(rendered["classroom"].ipynb, as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    sources = ", ".join(
        sorted(set(ck.load_case(CASE).series("video_views")["source"].str.split(";").explode()))
    )
    for i, cell in enumerate(code):
        if any(R._PLOTLY_MIME in o.get("data", {}) for o in cell.outputs):
            caption = "".join(
                o.get("data", {}).get("text/markdown", "") for o in code[i + 1].outputs
            )
            assert "sources" in caption.lower() and sources in caption, (cell.source, caption)


@pytest.mark.notebook
def test_classroom_without_reach_data_says_why(tmp_path, monkeypatch):
    ck.cases.new_case("empty-case", tmp_path / "cases", company="A", country="GB", summary="S")
    monkeypatch.setenv("CASEKIT_DATA", str(tmp_path / "cases"))
    with pytest.raises(
        R.RenderError, match="InsufficientDataError: empty-case has no reach figures at all"
    ):
        R.render("empty-case", "classroom", out_dir=tmp_path / "reports")


@pytest.mark.notebook
def test_classroom_html_shows_the_static_grid_not_widgets(rendered):
    import nbformat

    r = rendered["classroom"]
    nb = nbformat.read(r.ipynb, as_version=4)
    assert nb.metadata.papermill.parameters["interactive"] is False
    mimes = {m for c in nb.cells for o in c.get("outputs", []) for m in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" not in mimes
    page = r.html.read_text(encoding="utf-8")
    assert "Questions for students" in page
    assert "Scenario grid" in page
    assert "sliders for the answer day" in page  # says why there are no sliders


@pytest.mark.notebook
def test_classroom_interactive_mode_builds_widgets(tmp_path):
    import nbformat

    r = R.render(
        CASE, "classroom", params={"interactive": True, **SMALL["classroom"]}, out_dir=tmp_path
    )
    nb = nbformat.read(r.ipynb, as_version=4)
    mimes = {m for c in nb.cells for o in c.get("outputs", []) for m in o.get("data", {})}
    assert "application/vnd.jupyter.widget-view+json" in mimes
