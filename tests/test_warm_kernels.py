"""Warm kernels (casekit.render.kernels): isolation, the same reports as fresh kernels,
the per-report timeout."""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import pytest

from casekit import render as R
from casekit.exceptions import ParameterError
from casekit.render import kernels

NB = Path(__file__).parent / "notebooks"


def _cells(ipynb: Path) -> list[dict]:
    """Cell types, sources, execution counts and outputs, without timing metadata."""
    nb = json.loads(ipynb.read_text(encoding="utf-8"))
    cells = []
    for c in nb["cells"]:
        outputs = []
        for o in c.get("outputs", []):
            o = {k: v for k, v in o.items() if k != "metadata"}
            outputs.append(o)
        cells.append(
            {
                "type": c["cell_type"],
                "source": c["source"],
                "count": c.get("execution_count"),
                "outputs": outputs,
                "tags": c.get("metadata", {}).get("tags", []),
            }
        )
    return cells


def normalise_html(text: str) -> str:
    """A report page without what differs between any two renders: nonces, ids, times."""
    text = re.sub(r"cell-id=[0-9a-f-]+", "cell-id=X", text)  # jupytext draws them afresh
    text = re.sub(r"nonce-[A-Za-z0-9+/=_-]+", "nonce-X", text)
    text = re.sub(r'nonce="[^"]*"', 'nonce="X"', text)
    text = re.sub(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", "UUID", text)
    text = re.sub(r"\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?(\+00:00|Z)?", "TIME", text)
    return text


def _found(ipynb: Path) -> dict:
    nb = json.loads(ipynb.read_text(encoding="utf-8"))
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            text = "".join(o.get("text", ""))
            if text.startswith("FOUND "):
                return json.loads(text[len("FOUND ") :])
    raise AssertionError(f"no FOUND line in {ipynb}")


def test_a_report_cannot_touch_the_next_one(tmp_path):
    specs = [
        R.Spec(str(NB / "isolation.py"), None, {"turn": i}, name=f"isolation--turn={i}")
        for i in range(3)
    ]
    batch = R.render_batch(specs, out_dir=tmp_path, kernel="warm", progress=False)
    assert batch.ok, batch.table()
    pristine = {"global": False, "max_rows": 60, "patched": False, "mean": 2}
    for i in range(3):
        assert _found(tmp_path / "all_cases" / f"isolation--turn={i}.ipynb") == pristine
    # the mess each report made is in its own output, not in the parent server
    srv = kernels._SERVERS[os.getpid()]
    assert srv.alive()
    children = [p for p in os.listdir("/proc") if p.isdigit() and _ppid(int(p)) == srv.proc.pid]
    assert children == [], "every report's kernel is stopped when its report is done"


def _ppid(pid: int) -> int | None:
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return int(fh.read().rsplit(")", 1)[1].split()[1])
    except OSError:
        return None


def test_warm_reports_equal_fresh_ones(tmp_path):
    specs = [
        R.Spec(str(NB / "tiny.py"), None, {"n": 4, "label": "b"}),
        R.Spec(str(NB / "tiny.py"), None, {"label": "boom"}, name="tiny--label=boom"),
    ]
    fresh = R.render_batch(specs, out_dir=tmp_path / "fresh", kernel="fresh", progress=False)
    warm = R.render_batch(specs, out_dir=tmp_path / "warm", kernel="warm", progress=False)
    assert [r.status for r in fresh.results] == ["ok", "failed"]
    assert [r.status for r in warm.results] == ["ok", "failed"]
    assert warm.results[1].error == fresh.results[1].error
    assert "ValueError: label 'boom' makes this report fail" in warm.results[1].error
    a, b = tmp_path / "fresh" / "all_cases", tmp_path / "warm" / "all_cases"
    assert _cells(a / "tiny.ipynb") == _cells(b / "tiny.ipynb")
    counts = [c["count"] for c in _cells(b / "tiny.ipynb") if c["type"] == "code"]
    assert counts == [1, 2, 3, 4, 5, 6], "the warm-up left the execution counts alone"
    assert normalise_html((a / "tiny.html").read_text(encoding="utf-8")) == normalise_html(
        (b / "tiny.html").read_text(encoding="utf-8")
    )
    assert _cells(a / "tiny--label=boom.failed.ipynb") == _cells(
        b / "tiny--label=boom.failed.ipynb"
    )
    assert not (b / "tiny--label=boom.html").exists()
    meta = json.loads((b / "tiny.ipynb").read_text(encoding="utf-8"))["metadata"]["casekit"]
    assert meta["params"] == {"n": 4, "label": "b"}


def test_a_hung_report_times_out_and_keeps_its_log(tmp_path):
    specs = [
        R.Spec(str(NB / "hang.py"), None, {}),
        R.Spec(str(NB / "tiny.py"), None, {}),
    ]
    batch = R.render_batch(specs, out_dir=tmp_path, kernel="warm", timeout=3, progress=False)
    hung, fine = batch.results
    assert fine.status == "ok"
    assert hung.status == "failed"
    assert "3 s" in hung.error and "timeout" in hung.error
    assert hung.seconds < 30
    log = hung.log.read_text(encoding="utf-8")
    assert "going to sleep" in log
    assert "timeout" in log


def test_unknown_kernel_mode_is_refused(tmp_path):
    with pytest.raises(ParameterError, match="kernel 'lukewarm': choose one of warm, fresh"):
        R.render_batch([R.Spec(str(NB / "tiny.py"))], out_dir=tmp_path, kernel="lukewarm")
    with pytest.raises(ParameterError, match="timeout"):
        R.render_batch([R.Spec(str(NB / "tiny.py"))], out_dir=tmp_path, timeout=0)
    assert not (tmp_path / "all_cases").exists()


def test_cli_timeout_and_kernel_options(tmp_path):
    from click.testing import CliRunner

    from casekit.cli import cli

    res = CliRunner().invoke(
        cli,
        ["render", "-n", str(NB / "hang.py"), "--timeout", "2", "--out", str(tmp_path)],
        catch_exceptions=False,
    )
    assert res.exit_code == 1
    assert "ran longer than its timeout of 2 s" in res.output
    res = CliRunner().invoke(
        cli,
        ["render", "-n", str(NB / "tiny.py"), "--kernel", "lukewarm", "--out", str(tmp_path)],
    )
    assert res.exit_code == 2
    assert "lukewarm" in res.output
