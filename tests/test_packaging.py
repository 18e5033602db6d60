"""Packaging: the wheel carries the data; environment.yml and pyproject.toml agree."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
import zipfile

import yaml
from conftest import REPO_ROOT


def test_environment_yml_installs_from_pyproject():
    env = yaml.safe_load((REPO_ROOT / "environment.yml").read_text())
    project = tomllib.loads((REPO_ROOT / "pyproject.toml").read_text())["project"]
    python = [d for d in env["dependencies"] if isinstance(d, str) and d.startswith("python")]
    assert python == ["python=" + project["requires-python"].removeprefix(">=")]
    pip = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict))
    extras = set(project["optional-dependencies"])
    order = ["test", "lab", "docs", "export", "cluster"]
    assert pip == ['-e ".[' + ",".join(sorted(extras, key=order.index)) + ']"']


def test_wheel_carries_cases_and_works_outside_the_checkout(tmp_path):
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "-q",
            "-w",
            str(tmp_path / "dist"),
            str(REPO_ROOT),
        ],
        check=True,
    )
    wheel = next((tmp_path / "dist").glob("casekit-*.whl"))
    names = zipfile.ZipFile(wheel).namelist()
    for case_id in ("united-breaks-guitars", "range-rover-colchester", "werder-bremen-wiesenhof"):
        assert f"casekit/_bundled_datasets/{case_id}/reach.csv" in names
    assert "casekit/examples/synthetic-example/case.yaml" in names
    for template in ("index.html.j2", "casekit_report.html.j2"):  # report templates
        assert f"casekit/render/templates/{template}" in names
    zipfile.ZipFile(wheel).extractall(tmp_path / "site")
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = {**os.environ, "PYTHONPATH": str(tmp_path / "site")}
    out = subprocess.run(
        [
            sys.executable,
            "-c",
            "import casekit as ck; c = ck.load_case('united-breaks-guitars');"
            "print(c.path); print(len(ck.list_cases())); print(ck.render.TEMPLATES);"
            "print(ck.render.write_index('reports'))",
        ],
        cwd=elsewhere,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert out[0].startswith(str(tmp_path / "site"))
    bundled = [d for d in (REPO_ROOT / "datasets").iterdir() if (d / "case.yaml").is_file()]
    assert int(out[1]) == len(bundled) + 1  # every case of datasets/, and the synthetic example
    assert out[2].startswith(str(tmp_path / "site"))  # the templates of the installed wheel
    assert "0 report(s)" in (elsewhere / "reports" / "index.html").read_text(encoding="utf-8")
