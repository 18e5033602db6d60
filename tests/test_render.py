"""casekit.render: parameter checking, HTML post-processing, caching, atomic output.

Kernel runs here use tiny fixture notebooks (no heavy imports, about 1 s each); the
bundled notebooks are executed in test_notebooks.py.
"""

from __future__ import annotations

import json
import re
import shutil
import textwrap
from pathlib import Path

import pytest

import casekit as ck
from casekit import render as R
from casekit.exceptions import ParameterError

HEADER = """\
# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""

FIGURE_NB = HEADER + textwrap.dedent("""
    # %% [markdown]
    # # A tiny report

    # %% tags=["parameters"]
    case: str = "synthetic-example"  # case id
    n: int = 3  # number of points
    label: str = "</script><b>x</b>"  # a label that must not break the page

    # %%
    import os
    from IPython.display import display
    print("cwd", os.getcwd())

    # %%
    # what plotly's default renderer emits under papermill (without importing plotly: fast)
    display({"application/vnd.plotly.v1+json": {
        "data": [{"type": "scatter", "x": list(range(n)), "y": list(range(n)), "name": label}],
        "layout": {"title": {"text": "tiny"}}}}, raw=True)
    """)


def write_nb(folder: Path, name: str, text: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(text, encoding="utf-8")
    return path


# --- parameters ------------------------------------------------------------------------


def test_every_bundled_notebook_declares_typed_parameters():
    assert set(R.list_notebooks()) >= set(R.NOTEBOOKS)
    for nb in R.NOTEBOOKS:
        params = R.notebook_params(nb)
        assert params, nb
        for p in params:
            assert p.type in R._SUPPORTED_TYPES, (nb, p)
            assert p.help, (nb, p)
            # the default itself passes the type check
            assert R.coerce_params(nb, {p.name: p.default})[p.name] == p.default


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("horizon", "30", 30),
        ("horizon", "1_000", 1000),
        ("effectiveness", "0.25", 0.25),
        ("effectiveness", "0", 0.0),
        ("delays", "0,1, 7", [0.0, 1.0, 7.0]),
        ("delays", "[0, 0.5]", [0.0, 0.5]),
        ("peers", "DAL, LUV", ["DAL", "LUV"]),
        ("curves", "logistic,bass", ["logistic", "bass"]),
        ("metric", "video_views", "video_views"),
    ],
)
def test_cli_strings_are_coerced_to_declared_types(name, text, expected):
    out = R.coerce_params("case_report", {name: text})
    assert out[name] == expected
    assert type(out[name]) is type(expected)


def test_python_values_are_accepted_and_checked():
    out = R.coerce_params("case_report", {"horizon": 5, "effectiveness": 0})
    assert out["effectiveness"] == 0.0 and isinstance(out["effectiveness"], float)
    assert R.coerce_params("classroom", {"interactive": "false"})["interactive"] is False
    with pytest.raises(ParameterError, match="'horizon' must be int"):
        R.coerce_params("case_report", {"horizon": 2.5})
    with pytest.raises(ParameterError, match="'horizon' must be int"):
        R.coerce_params("case_report", {"horizon": True})
    with pytest.raises(ParameterError, match="'case' must be str"):
        R.coerce_params("case_report", {"case": 3})
    with pytest.raises(ParameterError, match="'interactive' must be bool"):
        R.coerce_params("classroom", {"interactive": "maybe"})
    with pytest.raises(ParameterError, match="'effectiveness' must be float"):
        R.coerce_params("case_report", {"effectiveness": "nan"})


def test_parameter_error_lists_every_valid_parameter_with_type_and_help():
    with pytest.raises(ParameterError) as err:
        R.coerce_params("case_report", {"horizn": "3", "delays": "a,b"})
    msg = str(err.value)
    assert "unknown parameter 'horizn'" in msg
    assert "'delays' must be list[float]" in msg
    for p in R.notebook_params("case_report"):
        assert f"{p.name}: {p.type} = {p.default!r}  # {p.help}" in msg


@pytest.mark.parametrize("case", ["../x", "/etc", "nope-not-a-case", "Synthetic-Example", ""])
def test_bad_case_is_rejected_before_any_kernel(case, tmp_path):
    with pytest.raises(ParameterError):
        R.render(case, out_dir=tmp_path)
    assert not list(tmp_path.rglob("*.html"))


def test_unknown_notebook_and_case_for_a_caseless_notebook(tmp_path):
    with pytest.raises(ParameterError, match="bundled notebooks"):
        R.render("synthetic-example", "no_such_notebook", out_dir=tmp_path)
    with pytest.raises(ParameterError, match="takes no case"):
        R.render("synthetic-example", "compare_cases", out_dir=tmp_path)
    with pytest.raises(ParameterError, match="no case 'nope'"):
        R.render(
            notebook="compare_cases", params={"cases": "synthetic-example,nope"}, out_dir=tmp_path
        )


def test_prices_env_fills_prices_dir_and_paths_become_absolute(tmp_path, monkeypatch):
    monkeypatch.setenv(R.PRICES_ENV, str(tmp_path))
    job = R._prepare(R.Spec("case_report", "synthetic-example"), tmp_path, False)
    assert job.params["prices_dir"] == str(tmp_path.resolve())
    monkeypatch.delenv(R.PRICES_ENV)
    monkeypatch.chdir(tmp_path)
    (tmp_path / "p").mkdir()
    job = R._prepare(
        R.Spec("case_report", "synthetic-example", {"prices_dir": "p"}), tmp_path, False
    )
    assert job.params["prices_dir"] == str(tmp_path.resolve() / "p")
    with pytest.raises(ParameterError, match="'prices_dir': 'nowhere' is not a folder"):
        R._prepare(
            R.Spec("case_report", "synthetic-example", {"prices_dir": "nowhere"}), tmp_path, False
        )
    monkeypatch.setenv(R.PRICES_ENV, str(tmp_path / "gone"))
    with pytest.raises(ParameterError, match=f"from {R.PRICES_ENV}"):
        R._prepare(R.Spec("case_report", "synthetic-example"), tmp_path, False)


def test_classroom_renders_static_unless_asked():
    job = R._prepare(R.Spec("classroom", "synthetic-example"), Path("reports"), False)
    assert job.params["interactive"] is False


def test_bundled_specs_cover_every_case_plus_comparison_and_classroom(monkeypatch):
    monkeypatch.delenv(R.PRICES_ENV, raising=False)
    specs = R.bundled_specs({"horizon": 30})
    ids = set(ck.list_cases().query("valid")["id"])
    assert {s.case for s in specs if s.notebook == "case_report"} == ids
    assert [s.notebook for s in specs].count("compare_cases") == 1
    assert [s.notebook for s in specs].count("classroom") == 1
    with_logs = {c for c in ids if (Path(ck.load_case(c).path) / "events").is_dir()}
    assert with_logs and {s.case for s in specs if s.notebook == "event_log"} == with_logs
    assert all(
        s.params == {"horizon": 30} for s in specs if s.notebook in ("case_report", "compare_cases")
    )


def test_classroom_reports_follow_the_cases_own_flag(monkeypatch, tmp_path):
    monkeypatch.delenv(R.PRICES_ENV, raising=False)
    ids = list(ck.list_cases().query("valid")["id"])
    flagged = [c for c in ids if ck.load_case(c).analysis.get("classroom")]
    assert len(flagged) == 1  # a bundled case marks itself in its case.yaml
    assert [s.case for s in R.bundled_specs() if s.notebook == "classroom"] == flagged

    # a case of one's own marked `classroom: true` gets a classroom report as well
    cases = tmp_path / "cases"
    dst = cases / "my-classroom-case"
    shutil.copytree(Path(ck.load_case("synthetic-example").path), dst)
    yml = dst / "case.yaml"
    text = yml.read_text(encoding="utf-8").replace("id: synthetic-example", "id: my-classroom-case")
    assert "\nanalysis:" not in text
    yml.write_text(text + "analysis:\n  classroom: true\n", encoding="utf-8")
    assert ck.validate(dst) == []
    monkeypatch.setenv("CASEKIT_DATA", str(cases))
    classroom = [s for s in R.bundled_specs({"grid_delays": [0, 3]}) if s.notebook == "classroom"]
    assert [s.case for s in classroom] == [*flagged, "my-classroom-case"]
    assert all(s.params == {"grid_delays": [0, 3]} for s in classroom)

    # no case marked: no classroom report (nothing is picked in the case's place)
    real = ck.cases.load_case

    def unmarked(ref, **kwargs):
        case = real(ref, **kwargs)
        analysis = {k: v for k, v in case.analysis.items() if k != "classroom"}
        return type("Unmarked", (), {"id": case.id, "analysis": analysis, "path": case.path})()

    monkeypatch.setattr(ck.cases, "load_case", unmarked)
    specs = R.bundled_specs()
    assert [s.notebook for s in specs].count("classroom") == 0
    assert [s.notebook for s in specs].count("compare_cases") == 1


def test_render_code_names_no_case_ticker_or_claim():
    """Defaults that belong to a case live in its case.yaml, not in casekit.render."""
    root = Path(R.__file__).parent
    text = "\n".join(
        p.read_text(encoding="utf-8") for p in sorted(root.rglob("*")) if p.suffix in (".py", ".j2")
    )
    for case_id in ck.list_cases().query("valid")["id"]:
        case = ck.load_case(case_id)
        if case.synthetic:  # the fictional example is what doctests run on
            continue
        assert case_id not in text
        market = case.analysis.get("market") or {}
        for ticker in [market.get("ticker"), market.get("index"), *market.get("peers", ())]:
            if ticker:
                assert not re.search(rf"\b{re.escape(ticker)}\b", text), ticker
    assert "180" not in text


def test_progress_bar_only_on_a_terminal_unless_asked(capsys, monkeypatch):
    import threading

    threads = threading.active_count()

    def run_bar(enabled):
        bar = R.batch._Progress(2, enabled)
        bar.update(running=2)
        bar.finish_one(True)
        bar.finish_one(False)
        bar.close()
        return capsys.readouterr().err

    assert run_bar(None) == ""  # stderr is not a terminal here
    assert run_bar(False) == ""
    err = run_bar(True)
    assert "running 2" in err and "2/2" in err
    assert "done 1  failed 1  running 0" in err

    import io
    import sys

    class Terminal(io.StringIO):
        def isatty(self):
            return True

    term = Terminal()
    monkeypatch.setattr(sys, "stderr", term)
    bar = R.batch._Progress(1, None)
    bar.finish_one(True)
    bar.close()
    assert "done 1  failed 0  running 0" in term.getvalue()
    assert R.batch._Progress(0, True).enabled is False  # nothing to count
    # no monitor thread: parallel batches must still be able to fork their workers
    assert threading.active_count() == threads


def test_package_fingerprint_covers_subpackages_and_templates(tmp_path, monkeypatch):
    import casekit

    pkg = tmp_path / "casekit"
    files = {
        "__init__.py": "",
        "render/__init__.py": "",
        "render/templates/index.html.j2": "a",
        "reach/curves.py": "x = 1",
        "_bundled_notebooks/n.py": "nb",
        "data.csv": "1",
    }
    for name, text in files.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_text(text, encoding="utf-8")
    monkeypatch.setattr(casekit, "__file__", str(pkg / "__init__.py"))
    base = R.jobs._package_fingerprint()
    assert R.jobs._package_fingerprint() == base
    for name, changes in [
        ("reach/curves.py", True),
        ("render/templates/index.html.j2", True),
        ("_bundled_notebooks/n.py", False),
        ("data.csv", False),
    ]:
        before = R.jobs._package_fingerprint()
        (pkg / name).write_text(files[name] + " edited", encoding="utf-8")
        assert (R.jobs._package_fingerprint() != before) is changes, name


def test_a_batch_validates_each_case_and_hashes_the_code_once(tmp_path, monkeypatch):
    calls = {"validate": 0, "package": 0}
    validate, package = ck.cases.validate, R.jobs._package_fingerprint

    def counting_validate(*a, **k):
        calls["validate"] += 1
        return validate(*a, **k)

    def counting_package():
        calls["package"] += 1
        return package()

    monkeypatch.setattr(ck.cases, "validate", counting_validate)
    monkeypatch.setattr(R.jobs, "_package_fingerprint", counting_package)
    specs = [R.Spec("case_report", "synthetic-example", {"horizon": h}, f"r{h}") for h in (1, 2, 3)]
    jobs = R.batch._checked(specs, tmp_path, False)
    assert calls == {"validate": 1, "package": 1}
    assert len({j.key for j in jobs}) == 3  # each report its own fingerprint
    # between batches the case may change: the next batch checks it again
    R.batch._checked(specs[:1], tmp_path, False)
    assert calls == {"validate": 2, "package": 2}
    assert R.jobs._MEMO is None


def test_index_escapes_what_the_sidecars_say(tmp_path):
    folder = tmp_path / "synthetic-example"
    folder.mkdir()
    (folder / "x.json").write_text(
        json.dumps(
            {
                "notebook": "x",
                "key": "k",
                "case": "<i>case</i>",
                "status": "failed",
                "params": {"label": "</code><script>alert(1)</script>"},
                "error": "ValueError: <b>bad</b> & worse",
                "seconds": 1.5,
            }
        ),
        encoding="utf-8",
    )
    (folder / "x.log").write_text("log", encoding="utf-8")
    page = R.write_index(tmp_path).read_text(encoding="utf-8")
    assert "<script>" not in page and "<b>bad</b>" not in page and "<i>case</i>" not in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "failed: ValueError: &lt;b&gt;bad&lt;/b&gt; &amp; worse" in page
    assert re.search(r'<tr class="failed"><td>x</td><td>&lt;i&gt;case&lt;/i&gt;</td>', page)
    assert '<a href="synthetic-example/x.log">log</a>' in page
    assert "1 report(s)" in page and 'href="synthetic-example/x.html"' not in page


# --- HTML post-processing --------------------------------------------------------------


def test_figure_html_escapes_script_breakers():
    out = R._figure_html(
        {"data": [{"name": "</script><script>alert(1)</script>"}], "layout": {"height": 300}}, "f1"
    )
    assert out.count("</script>") == 1
    assert 'style="height:300px' in out
    assert "Plotly.newPlot" in out


def test_plotly_outputs_become_html_divs():
    import nbformat

    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("fig")
    cell.outputs = [
        nbformat.v4.new_output("display_data", data={R._PLOTLY_MIME: {"data": [], "layout": {}}})
    ]
    nb.cells.append(cell)
    assert R._plotly_to_html(nb) == 1
    assert "casekit-fig-1" in nb.cells[0].outputs[0]["data"]["text/html"]


# --- end to end on a tiny notebook ---------------------------------------------------------


@pytest.fixture(scope="module")
def tiny(tmp_path_factory):
    base = tmp_path_factory.mktemp("render")
    nb = write_nb(base, "tiny", FIGURE_NB)
    out = base / "reports"
    first = R.render("synthetic-example", nb, params={"n": "4"}, out_dir=out)
    return base, nb, out, first


def test_render_writes_report_files(tiny):
    _, _, out, r = tiny
    assert r.status == "ok"
    assert r.html == out / "synthetic-example" / "tiny.html"
    assert r.ipynb.is_file() and r.log.is_file()
    assert (out / "plotly.min.js").stat().st_size > 1_000_000
    leftovers = [p.name for p in out.rglob("*") if p.name.startswith(".") or p.suffix == ".tmp"]
    assert leftovers == []


def test_html_draws_figures_from_the_shared_script(tiny):
    _, _, _, r = tiny
    page = r.html.read_text(encoding="utf-8")
    assert len(re.findall(r'<script[^>]* src="\.\./plotly\.min\.js"', page)) == 1
    assert 'class="plotly-graph-div casekit-figure"' in page
    assert "Plotly.newPlot" in page
    assert len(page) < 1_000_000  # plotly.js is not inlined
    assert "cdnjs" not in page and "require.min.js" not in page  # nothing from the network
    # no script, style sheet or other resource loaded from the network (links to sources,
    # <a href="http...">, are fine: they load nothing)
    assert not re.search(r"""\bsrc\s*=\s*["']?(https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"""<link\b[^>]*\bhref\s*=\s*["']?(https?:)?//""", page, re.IGNORECASE)
    assert not re.search(r"""@import\s+(url\()?["']?(https?:)?//""", page, re.IGNORECASE)
    assert "import plotly" not in page  # code hidden by default
    assert "<\\/script><b>x<\\/b>" in page


def test_ipynb_records_parameters_and_provenance(tiny):
    import nbformat

    _, _, _, r = tiny
    nb = nbformat.read(r.ipynb, as_version=4)
    assert nb.metadata.papermill.parameters == {"case": "synthetic-example", "n": 4}
    assert nb.metadata.casekit["params"] == {"case": "synthetic-example", "n": 4}
    assert nb.metadata.casekit["version"] == ck.__version__
    tags = [c.metadata.get("tags", []) for c in nb.cells]
    assert ["injected-parameters"] in tags


def test_kernel_runs_in_its_own_working_directory(tiny):
    _, _, _, r = tiny
    log = r.log.read_text(encoding="utf-8")
    cwd = re.search(r"\bcwd (\S+)", log).group(1)
    assert Path(cwd) != Path.cwd() and not Path(cwd).exists()  # a temp dir, removed after


def test_unchanged_inputs_reuse_the_report_and_changes_render_again(tiny, tmp_path, monkeypatch):
    _, nb, out, _ = tiny
    # casekit's own source is part of the fingerprint; others may be editing it right now
    monkeypatch.setattr(R.jobs, "_package_fingerprint", lambda: "fixed for this test")
    R.render("synthetic-example", nb, params={"n": 4}, out_dir=out)
    again = R.render("synthetic-example", nb, params={"n": 4}, out_dir=out)
    assert again.status == "cached"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert (
        len(re.findall(r'<tr class="cached"><td><a href="synthetic-example/tiny.html">', index))
        == 1
    )
    assert (
        R.render("synthetic-example", nb, params={"n": 4}, out_dir=out, force=True).status == "ok"
    )
    assert R.render("synthetic-example", nb, params={"n": 5}, out_dir=out).status == "ok"

    # case data: a copy of the synthetic case under CASEKIT_DATA, then edited
    cases = tmp_path / "cases"
    src = Path(ck.load_case("synthetic-example").path)
    dst = cases / "copy-of-example"
    shutil.copytree(src, dst)
    yml = dst / "case.yaml"
    yml.write_text(
        yml.read_text(encoding="utf-8").replace("id: synthetic-example", "id: copy-of-example"),
        encoding="utf-8",
    )
    monkeypatch.setenv("CASEKIT_DATA", str(cases))
    assert R.render("copy-of-example", nb, out_dir=out).status == "ok"
    assert R.render("copy-of-example", nb, out_dir=out).status == "cached"
    yml.write_text(
        yml.read_text(encoding="utf-8").replace("summary:", "summary: Edited."), encoding="utf-8"
    )
    assert ck.validate(dst) == []
    assert R.render("copy-of-example", nb, out_dir=out).status == "ok"

    # the notebook itself
    nb.write_text(nb.read_text(encoding="utf-8") + "\n# %%\nprint('more')\n", encoding="utf-8")
    assert R.render("copy-of-example", nb, out_dir=out).status == "ok"


def test_failure_raises_with_log_and_leaves_no_report(tmp_path):
    nb = write_nb(
        tmp_path,
        "boom",
        HEADER
        + textwrap.dedent("""
        # %% tags=["parameters"]
        case: str = "synthetic-example"  # case id

        # %%
        raise RuntimeError("the data for " + case + " is odd")
        """),
    )
    out = tmp_path / "reports"
    stem = out / "synthetic-example" / "boom"
    stem.parent.mkdir(parents=True)
    stem.with_suffix(".html").write_text("an old report", encoding="utf-8")
    with pytest.raises(R.RenderError, match="RuntimeError: the data for synthetic-example"):
        R.render("synthetic-example", nb, out_dir=out)
    assert not stem.with_suffix(".html").exists()
    assert not stem.with_suffix(".ipynb").exists()
    assert "RuntimeError" in stem.with_suffix(".log").read_text(encoding="utf-8")
    assert stem.with_suffix(".failed.ipynb").is_file()
    meta = json.loads(stem.with_suffix(".json").read_text(encoding="utf-8"))
    assert meta["status"] == "failed"
    index = (out / "index.html").read_text(encoding="utf-8")
    assert len(re.findall(r'<tr class="failed"><td>boom</td>', index)) == 1
    assert 'href="synthetic-example/boom.html"' not in index


def test_provenance_lists_versions_and_data_hash():
    t = R.provenance(ck.load_case("synthetic-example")).set_index("item")["value"]
    assert t["casekit"] == ck.__version__
    assert len(t["case data sha256"]) == 16
    assert "plotly" in t.index


def test_bundled_specs_add_the_market_test_when_prices_are_available(monkeypatch, tmp_path):
    monkeypatch.setenv(R.PRICES_ENV, str(tmp_path))
    specs = {s.case: s for s in R.bundled_specs() if s.notebook == "case_report"}
    # the ticker comes from the case's own analysis.market block in case.yaml
    assert specs["united-breaks-guitars"].params == {
        "ticker": "UAL",
        "market_index": "GSPC",
        "peers": ["DAL", "LUV", "JBLU", "ALK", "AAL", "SKYW"],
    }
    assert specs["synthetic-example"].params == {}


def test_a_dot_in_the_notebook_name_does_not_collide(tiny, monkeypatch):
    # casekit's own source is part of the fingerprint; others may be editing it right now
    monkeypatch.setattr(R.jobs, "_package_fingerprint", lambda: "fixed for this test")
    base, _, out, _ = tiny
    folder = out / "synthetic-example"
    tiny_files = [folder / f"tiny{suffix}" for suffix in (".html", ".ipynb", ".json", ".log")]
    before = [p.read_bytes() for p in tiny_files]
    nb = write_nb(base, "tiny.v2", FIGURE_NB.replace('"tiny"', '"tiny v2"'))
    r = R.render("synthetic-example", nb, params={"n": 2}, out_dir=out)
    assert r.status == "ok" and r.notebook == "tiny.v2"
    assert r.html == folder / "tiny.v2.html" and r.ipynb == folder / "tiny.v2.ipynb"
    assert r.log == folder / "tiny.v2.log" and (folder / "tiny.v2.json").is_file()
    assert "tiny v2" in r.html.read_text(encoding="utf-8")
    assert [p.read_bytes() for p in tiny_files] == before  # tiny.py's report untouched
    index = (out / "index.html").read_text(encoding="utf-8")
    # each link is named by its notebook's first heading, the file name beneath it
    v2 = '<a href="synthetic-example/tiny.v2.html">A tiny report</a><br><small>tiny.v2</small>'
    assert v2 in index
    assert '<a href="synthetic-example/tiny.html">A tiny report</a><br><small>tiny</small>' in index
    assert R.render("synthetic-example", nb, params={"n": 2}, out_dir=out).status == "cached"


def test_sequential_batch_survives_an_error_outside_the_notebook(tmp_path, monkeypatch):
    nb = write_nb(tmp_path, "tiny", FIGURE_NB)
    real = R.run._sidecar_text

    def broken_for_one_case(job, result, *args, **kwargs):
        if job.case == "synthetic-example":
            raise OSError(28, "No space left on device")
        return real(job, result, *args, **kwargs)

    monkeypatch.setattr(R.run, "_sidecar_text", broken_for_one_case)
    out = tmp_path / "reports"
    batch = R.render_batch(
        [R.Spec(str(nb), "synthetic-example"), R.Spec(str(nb), "united-breaks-guitars")],
        jobs=1,
        out_dir=out,
        progress=False,
    )
    bad, good = batch.results
    assert not batch.ok and batch.failed == [bad]
    assert bad.status == "failed" and "No space left on device" in bad.error
    assert good.status == "ok" and good.html.is_file()
    table = batch.table()
    assert re.search(
        r"^synthetic-example/tiny\s+failed\s.*No space left on device", table, re.MULTILINE
    )
    assert "2 report(s), 1 failed" in table
    index = (out / "index.html").read_text(encoding="utf-8")
    assert batch.index == out / "index.html"
    assert '<a href="united-breaks-guitars/tiny.html">A tiny report</a>' in index
