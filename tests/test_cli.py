"""The command line: catalog, validation, scaffolding; messages instead of tracebacks."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from casekit.cli import cli


def run(*args):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cases_lists_bundled_cases():
    result = run("cases")
    assert result.exit_code == 0
    for case_id in (
        "synthetic-example",
        "united-breaks-guitars",
        "range-rover-colchester",
        "werder-bremen-wiesenhof",
    ):
        assert case_id in result.output


def test_validate_all_bundled_cases_is_clean():
    result = run("validate")
    assert result.exit_code == 0, result.output
    assert result.output.count(": valid") >= 4


def test_validate_reports_every_problem_and_exits_1(case_dir):
    (case_dir / "timeline.csv").write_text(
        (case_dir / "timeline.csv").read_text().replace("2024-02-09,day", "soon,day")
    )
    (case_dir / "costs.csv").unlink()
    result = CliRunner().invoke(cli, ["validate", str(case_dir)])
    assert result.exit_code == 1
    assert "2 problem(s)" in result.output
    assert "timeline.csv, line 4, column 'date': cannot read 'soon' as a date" in result.output
    assert "costs.csv: file is missing" in result.output
    assert "Traceback" not in result.output


def test_validate_unknown_case_is_a_message():
    result = CliRunner().invoke(cli, ["validate", "no-such-case"])
    assert result.exit_code == 1
    assert "no case 'no-such-case'; known cases:" in result.output


def test_new_scaffolds_a_valid_case(tmp_path):
    result = run("new", "acme-kettle", "--dir", str(tmp_path))
    assert result.exit_code == 0
    yaml_path = tmp_path / "acme-kettle" / "case.yaml"
    assert yaml_path.is_file()
    unfilled = CliRunner().invoke(cli, ["validate", str(tmp_path / "acme-kettle")])
    assert unfilled.exit_code == 1 and "3 problem(s)" in unfilled.output
    yaml_path.write_text(
        yaml_path.read_text()
        .replace('"TODO: the company the complaint was about"', "Acme Ltd")
        .replace('country: "TODO"', "country: GB")
        .replace("  TODO: one paragraph", "  A kettle broke; one paragraph")
    )
    assert run("validate", str(tmp_path / "acme-kettle")).exit_code == 0
    again = CliRunner().invoke(cli, ["new", "acme-kettle", "--dir", str(tmp_path)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_new_rejects_bad_id(tmp_path):
    result = CliRunner().invoke(cli, ["new", "../up", "--dir", str(tmp_path)])
    assert result.exit_code == 1
    assert "error: '../up' is not a valid case id" in result.output
    assert "Traceback" not in result.output


def test_python_dash_m_works_and_bad_data_gives_no_traceback(case_dir):
    (case_dir / "case.yaml").write_text("id: [unclosed\n")
    proc = subprocess.run(
        [sys.executable, "-m", "casekit", "validate", str(case_dir)], capture_output=True, text=True
    )
    assert proc.returncode == 1
    assert "case.yaml, line 2: cannot read YAML" in proc.stderr
    assert "Traceback" not in proc.stderr + proc.stdout
