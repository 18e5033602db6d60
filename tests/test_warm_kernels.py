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


HEADER = """\
# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""

# Four cells, each shorter than the timeout of the test below; together longer.
SLOW = HEADER + "\n".join(
    ['# %% tags=["parameters"]', "pause: float = 1.5  # seconds each cell sleeps", "", "# %%"]
    + ["import time", ""]
    + [f"# %%\ntime.sleep(pause)\nprint('slept {i}', flush=True)\n" for i in range(4)]
)


@pytest.mark.parametrize("kernel", ["fresh", "warm"])
def test_the_timeout_bounds_the_whole_report_not_each_cell(kernel, tmp_path):
    nb = tmp_path / "slow.py"
    nb.write_text(SLOW, encoding="utf-8")
    specs = [
        R.Spec(str(nb), None, {"pause": 1.5}),
        R.Spec(str(nb), None, {"pause": 0.05}, name="slow--pause=0.05"),
    ]
    batch = R.render_batch(
        specs, out_dir=tmp_path / "out", kernel=kernel, timeout=3.5, progress=False
    )
    slow, quick = batch.results
    assert quick.status == "ok", quick.error
    assert slow.status == "failed"
    assert "ran longer than its timeout of 3.5 s" in slow.error
    assert slow.seconds < 30
    log = slow.log.read_text(encoding="utf-8")
    assert "slept 0" in log  # the log of what ran is kept
    assert "slept 3" not in log  # each cell (1.5 s) was within 3.5 s; the report was not
    assert not (tmp_path / "out" / "all_cases" / "slow.html").exists()


HISTORY = (
    HEADER
    + """
# %%
import sys
print("HISTORY", get_ipython().history_manager.hist_file)
print("MARKET", "casekit.market" in sys.modules)

# %% tags=["parameters"]
ticker: str = ""  # a report with a ticker has a market test
"""
)


def _printed(ipynb: Path, key: str) -> str:
    nb = json.loads(ipynb.read_text(encoding="utf-8"))
    for c in nb["cells"]:
        for o in c.get("outputs", []):
            for line in "".join(o.get("text", "")).splitlines():
                if line.startswith(key + " "):
                    return line[len(key) + 1 :]
    raise AssertionError(f"no {key} line in {ipynb}")


def test_warm_kernels_keep_history_in_memory_as_fresh_ones_do(tmp_path):
    nb = tmp_path / "history.py"
    nb.write_text(HISTORY, encoding="utf-8")
    for kernel in ("fresh", "warm"):
        R.render_batch([R.Spec(str(nb))], out_dir=tmp_path / kernel, kernel=kernel, progress=False)
        # nothing of a report is written to the user's ~/.ipython history
        assert _printed(tmp_path / kernel / "all_cases" / "history.ipynb", "HISTORY") == ":memory:"


def test_a_batch_gets_the_extra_imports_its_reports_need(tmp_path):
    nb = tmp_path / "history.py"
    nb.write_text(HISTORY, encoding="utf-8")
    kernels.stop_server()
    plain = R.render_batch([R.Spec(str(nb))], out_dir=tmp_path / "a", progress=False)
    market = R.render_batch(
        [R.Spec(str(nb), None, {"ticker": "ACME"})], out_dir=tmp_path / "b", progress=False
    )
    assert plain.ok and market.ok
    assert _printed(tmp_path / "a" / "all_cases" / "history.ipynb", "MARKET") == "False"
    assert _printed(tmp_path / "b" / "all_cases" / "history.ipynb", "MARKET") == "True"
    assert kernels._SERVERS[os.getpid()].extra == kernels.EXTRA_IMPORTS["market"]


def test_the_server_stops_when_no_report_needs_it(tmp_path, monkeypatch):
    # casekit's own source is part of the fingerprint; others may be editing it right now
    monkeypatch.setattr(R.jobs, "_package_fingerprint", lambda: "fixed for this test")
    spec = R.Spec(str(NB / "tiny.py"))
    assert R.render_batch([spec], out_dir=tmp_path, progress=False).ok
    kernels.stop_server()
    again = R.render_batch([spec], out_dir=tmp_path, progress=False)  # reused, not rendered
    assert [r.status for r in again.results] == ["cached"]
    assert os.getpid() not in kernels._SERVERS
    with pytest.raises(ParameterError):
        R.render_batch([R.Spec(str(NB / "tiny.py"), None, {"n": "many"})], out_dir=tmp_path)
    assert os.getpid() not in kernels._SERVERS


def test_only_this_users_processes_get_a_kernel(monkeypatch):
    import socket

    a, b = socket.socketpair(socket.AF_UNIX)
    with a, b:
        assert kernels._peer_is_us(a)
        monkeypatch.setattr(os, "getuid", lambda: os.geteuid() + 1)
        assert not kernels._peer_is_us(a)


def test_jsonschema_checks_iris_as_before_with_the_grammar_built_on_first_use():
    import subprocess
    import sys

    pytest.importorskip("rfc3987_syntax")  # jupyterlab's dependencies install it

    code = """
import sys
from casekit.render import kernels
kernels._lazy_iri_grammar()
import jsonschema, nbformat
print("built before use:", "rfc3987_syntax" in sys.modules)
fc = jsonschema.FormatChecker()
print("checks:", fc.conforms("http://example.org/caf\\u00e9", "iri"),
      fc.conforms("no scheme here ::", "iri"), fc.conforms("#frag", "iri-reference"))
print("built after use:", "rfc3987_syntax" in sys.modules)
"""
    lazy = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    plain = subprocess.run(
        [sys.executable, "-c", code.replace("kernels._lazy_iri_grammar()", "")],
        capture_output=True,
        text=True,
    )
    assert lazy.returncode == 0, lazy.stderr
    assert plain.returncode == 0, plain.stderr
    assert lazy.stdout.splitlines() == [
        "built before use: False",
        "checks: True False True",
        "built after use: True",
    ]
    assert plain.stdout.splitlines()[1] == "checks: True False True"  # the same answers
    assert plain.stdout.splitlines()[0] == "built before use: True"
