"""`casekit render` and `casekit params` as a user meets them: bad parameters, a failing
report inside a parallel batch, the table, the exit status and the index."""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from casekit import render as R
from casekit.cli import cli

HEADER = """\
# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""

# Fails for one case, succeeds for another; prints its working directory.
FLAKY_NB = HEADER + textwrap.dedent("""
    # %% tags=["parameters"]
    case: str = "synthetic-example"  # case id
    fail_for: str = "synthetic-example"  # the case this notebook fails for

    # %%
    import os
    print("cwd", os.getcwd())
    if case == fail_for:
        raise ValueError("deliberate failure for " + case)
    case
    """)


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_params_lists_notebooks_and_their_parameters():
    res = run("params")
    assert res.exit_code == 0
    assert set(res.output.split()) >= set(R.NOTEBOOKS)
    res = run("params", "case_report")
    assert res.exit_code == 0
    assert "horizon: int = 30  # days past the last observation" in res.output
    assert "loss: str = ''  # ols | log | robust | robust_log" in res.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["synthetic-example", "-p", "horizn", "3"], "unknown parameter 'horizn'"),
        (["synthetic-example", "-p", "horizon", "soon"], "parameter 'horizon' must be int"),
        (["synthetic-example", "-p", "delays", "1,two"], "parameter 'delays' must be list[float]"),
        (["synthetic-example", "-p", "horizon", "3", "-p", "horizon", "4"], "given twice"),
        (["no-such-case"], "no case 'no-such-case'; known cases: synthetic-example"),
        (["../x"], "is not a case id"),
        (["--notebook", "no_such_nb", "synthetic-example"], "no notebook 'no_such_nb'"),
        (["--notebook", "compare_cases", "synthetic-example"], "takes no case"),
        (["--all", "-p", "nonsense", "1"], "unknown parameter(s) 'nonsense' for --all"),
    ],
)
def test_bad_input_fails_before_any_kernel(args, message, tmp_path):
    out = tmp_path / "reports"
    res = run("render", *args, "--out", str(out))
    assert res.exit_code == 1, res.output
    assert message in res.stderr
    assert "Traceback" not in res.output + res.stderr
    assert not out.exists()  # nothing started, nothing written


def test_unreadable_notebook_or_out_folder_is_a_message_not_a_traceback(tmp_path):
    broken = tmp_path / "broken.ipynb"
    broken.write_text('{"cells": [', encoding="utf-8")
    latin1 = tmp_path / "latin1.py"
    latin1.write_bytes(
        (HEADER + '# %% tags=["parameters"]\ncase: str = "Zürich"  # x\n').encode("latin-1")
    )
    a_file = tmp_path / "a-file"
    a_file.write_text("not a folder", encoding="utf-8")
    out = tmp_path / "reports"
    for args, message in [
        (
            ["--notebook", str(broken), "synthetic-example", "--out", str(out)],
            f"notebook {broken}: not valid JSON (line 1, column 12",
        ),
        (
            ["--notebook", str(latin1), "synthetic-example", "--out", str(out)],
            f"notebook {latin1}: not UTF-8 text",
        ),
        (
            ["synthetic-example", "--out", str(a_file / "reports")],
            f"output folder {a_file / 'reports'} cannot be created",
        ),
    ]:
        res = run("render", *args)
        assert res.exit_code == 1, res.output
        assert message in res.stderr
        assert "Traceback" not in res.output + res.stderr
    assert not out.exists()
    res = run("params", str(broken))
    assert res.exit_code == 1 and "not valid JSON" in res.stderr


def test_parameter_error_shows_valid_parameters_with_types_and_help(tmp_path):
    res = run("render", "synthetic-example", "-p", "horizn", "3", "--out", str(tmp_path))
    for p in R.notebook_params("case_report"):
        assert f"{p.name}: {p.type} = {p.default!r}  # {p.help}" in res.stderr


def test_usage_errors_exit_2(tmp_path):
    assert run("render", "--out", str(tmp_path)).exit_code == 2  # no case, no --all
    assert run("render", "--all", "synthetic-example", "--out", str(tmp_path)).exit_code == 2
    assert run("render", "synthetic-example", "--jobs", "0").exit_code == 2


@pytest.fixture(scope="module")
def failing_batch(tmp_path_factory):
    base = tmp_path_factory.mktemp("cli")
    nb = base / "flaky.py"
    nb.write_text(FLAKY_NB, encoding="utf-8")
    out = base / "reports"
    # an old report where the failing one belongs: it must not survive the failure
    stale = out / "synthetic-example" / "flaky.html"
    stale.parent.mkdir(parents=True)
    stale.write_text("stale", encoding="utf-8")
    res = run(
        "render",
        "synthetic-example",
        "united-breaks-guitars",
        "--notebook",
        str(nb),
        "--jobs",
        "2",
        "--out",
        str(out),
        "--progress",
    )
    return out, res


def test_failing_report_does_not_stop_the_other(failing_batch):
    out, res = failing_batch
    assert res.exit_code == 1
    assert (out / "united-breaks-guitars" / "flaky.html").is_file()
    assert not (out / "synthetic-example" / "flaky.html").exists()
    assert not (out / "synthetic-example" / "flaky.ipynb").exists()
    assert not [p for p in out.rglob("*") if p.name.endswith(".tmp")]


def test_batch_ends_with_a_table(failing_batch):
    out, res = failing_batch
    lines = res.stdout.splitlines()
    assert re.match(r"report\s+status\s+seconds\s+error / log", lines[0])
    failed = next(line for line in lines if line.startswith("synthetic-example/flaky"))
    log = out / "synthetic-example" / "flaky.log"
    assert "failed" in failed
    assert "ValueError: deliberate failure for synthetic-example" in failed
    assert str(log) in failed
    assert "deliberate failure" in log.read_text(encoding="utf-8")
    ok = next(line for line in lines if line.startswith("united-breaks-guitars/flaky"))
    assert re.search(r"\bok\b", ok)
    assert "2 report(s), 1 failed" in lines[-1]


def test_progress_bar_counts_done_failed_running(failing_batch):
    _, res = failing_batch
    assert "done 1  failed 1  running 0" in res.stderr
    assert "running 2" in res.stderr


def test_each_report_ran_in_its_own_working_directory(failing_batch):
    out, _ = failing_batch
    cwds = {
        re.search(r"\bcwd (\S+)", (out / c / "flaky.log").read_text(encoding="utf-8")).group(1)
        for c in ("synthetic-example", "united-breaks-guitars")
    }
    assert len(cwds) == 2
    assert str(Path.cwd()) not in cwds


def test_index_lists_every_report_with_status(failing_batch):
    out, _ = failing_batch
    page = (out / "index.html").read_text(encoding="utf-8")
    assert 'href="united-breaks-guitars/flaky.html"' in page
    assert 'href="synthetic-example/flaky.html"' not in page  # no link to a failed report
    assert 'href="synthetic-example/flaky.log"' in page
    assert page.count("<tr class=") == 2
    assert "deliberate failure" in page
    meta = json.loads((out / "synthetic-example" / "flaky.json").read_text(encoding="utf-8"))
    assert meta["status"] == "failed" and meta["params"]["case"] == "synthetic-example"


def test_rerun_reuses_the_good_report_and_retries_the_failed(failing_batch):
    out, _ = failing_batch
    nb = out.parent / "flaky.py"
    res = run(
        "render",
        "synthetic-example",
        "united-breaks-guitars",
        "--notebook",
        str(nb),
        "-p",
        "fail_for",
        "nobody",
        "--out",
        str(out),
    )
    assert res.exit_code == 0, res.output
    assert (out / "synthetic-example" / "flaky.html").is_file()
    assert not (out / "synthetic-example" / "flaky.failed.ipynb").exists()
