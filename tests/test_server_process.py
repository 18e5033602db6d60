"""A fork server forked from the rendering process (casekit.render.server_process): the
reports it gives are the reports a new-interpreter server gives, kept apart just as well;
it is used only where it is safe, and goes away with the process that started it."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from casekit import render as R
from casekit.render import server_process
from tests.test_warm_kernels import NB, _cells, _found, normalise_html

pytestmark = pytest.mark.skipif(not sys.platform.startswith("linux"), reason="fork server")

# A process set up as `casekit render` sets itself up: it allows a forked server, then
# renders the specs given as JSON; prints what kind of server it used.
RENDERER = """
import json, os, sys
from casekit import render as R
from casekit.render import kernels, server_process

specs = [R.Spec(**s) for s in json.loads(sys.argv[1])]
with server_process.fork_start_allowed():
    batch = R.render_batch(specs, out_dir=sys.argv[2], kernel="warm", progress=False)
srv = kernels._SERVERS[os.getpid()]
with open(f"/proc/{srv.proc.pid}/cmdline", "rb") as fh:
    server_cmdline = fh.read().split(b"\\0")
with open("/proc/self/cmdline", "rb") as fh:
    own_cmdline = fh.read().split(b"\\0")
print(json.dumps({
    "statuses": [r.status for r in batch.results],
    "forked": server_cmdline == own_cmdline,
    "kind": type(srv.proc).__name__,
}))
"""


def _render_in_new_process(specs: list[dict], out: Path) -> dict:
    proc = subprocess.run(
        [sys.executable, "-c", RENDERER, json.dumps(specs), str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_a_server_forked_from_the_renderer_keeps_each_report_apart(tmp_path):
    specs = [
        {
            "notebook": str(NB / "isolation.py"),
            "params": {"turn": i},
            "name": f"isolation--turn={i}",
        }
        for i in range(3)
    ]
    seen = _render_in_new_process(specs, tmp_path)
    assert seen["forked"] and seen["kind"] == "_Forked"
    assert seen["statuses"] == ["ok"] * 3
    pristine = {"global": False, "max_rows": 60, "patched": False, "mean": 2}
    for i in range(3):
        assert _found(tmp_path / "all_cases" / f"isolation--turn={i}.ipynb") == pristine


def test_reports_from_a_forked_server_equal_fresh_ones(tmp_path):
    specs = [
        {"notebook": str(NB / "tiny.py"), "params": {"n": 4, "label": "b"}},
        {"notebook": str(NB / "tiny.py"), "params": {"label": "boom"}, "name": "tiny--label=boom"},
    ]
    seen = _render_in_new_process(specs, tmp_path / "forked")
    assert seen["forked"]
    assert seen["statuses"] == ["ok", "failed"]
    fresh = R.render_batch(
        [R.Spec(**s) for s in specs], out_dir=tmp_path / "fresh", kernel="fresh", progress=False
    )
    assert [r.status for r in fresh.results] == ["ok", "failed"]
    a, b = tmp_path / "fresh" / "all_cases", tmp_path / "forked" / "all_cases"
    # the figure's output shows the kernel imported plotly with the reports' renderer
    assert _cells(a / "tiny.ipynb") == _cells(b / "tiny.ipynb")
    assert any(
        "application/vnd.plotly.v1+json" in o.get("data", {})
        for c in _cells(b / "tiny.ipynb")
        for o in c["outputs"]
    )
    assert normalise_html((a / "tiny.html").read_text(encoding="utf-8")) == normalise_html(
        (b / "tiny.html").read_text(encoding="utf-8")
    )
    assert _cells(a / "tiny--label=boom.failed.ipynb") == _cells(
        b / "tiny--label=boom.failed.ipynb"
    )


def _gone(pid: int) -> bool:
    """No such process, or only its exit status is left (a zombie nobody reaped yet)."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] in ("Z", "X")
    except OSError:
        return True


def test_a_forked_server_goes_away_with_the_process_that_started_it():
    code = (
        "import os, time\n"
        "from casekit.render import kernels, server_process\n"
        "with server_process.fork_start_allowed():\n"
        "    kernels.prestart()\n"
        "assert kernels.wait_ready(120)\n"
        "print(kernels._SERVERS[os.getpid()].proc.pid, flush=True)\n"
        "time.sleep(600)\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        server = int(proc.stdout.readline())
        assert not _gone(server)
        with open(f"/proc/{server}/cmdline", "rb") as fh:
            assert b"casekit.render.kernels" not in fh.read(), "a fork, not a new interpreter"
        os.kill(proc.pid, signal.SIGKILL)  # no atexit handler runs: only the lifeline ends
        proc.wait()
        deadline = time.monotonic() + 10
        while not _gone(server) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert _gone(server)
    finally:
        proc.kill()
        proc.wait()
        proc.stdout.close()


def test_a_server_is_forked_only_where_that_is_safe(monkeypatch):
    monkeypatch.setattr(server_process, "_allowed", False)
    for name in server_process.IMPORTED_WITH_ENVIRONMENT:
        monkeypatch.delitem(sys.modules, name, raising=False)
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    assert not server_process.fork_allowed(), "not outside fork_start_allowed()"
    monkeypatch.setattr(server_process, "_allowed", True)
    assert server_process.fork_allowed() == sys.platform.startswith("linux")
    monkeypatch.setattr(threading, "active_count", lambda: 2)
    assert not server_process.fork_allowed(), "a second thread: no fork"
    monkeypatch.setattr(threading, "active_count", lambda: 1)
    monkeypatch.setitem(sys.modules, "plotly", sys)  # imported under this environment
    assert not server_process.fork_allowed()


def test_casekit_render_starts_its_server_as_a_fork_of_itself(tmp_path):
    # the kernel's parent is the fork server; the command's own command line is the server's
    nb = tmp_path / "whose.py"
    nb.write_text(
        "# %%\nimport os\n"
        "with open(f'/proc/{os.getppid()}/cmdline', 'rb') as fh:\n"
        "    print('SERVER', fh.read().split(b'\\0'))\n",
        encoding="utf-8",
    )
    proc = subprocess.run(
        [sys.executable, "-m", "casekit", "render", "-n", str(nb), "--out", str(tmp_path / "o")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    out = json.loads((tmp_path / "o" / "all_cases" / "whose.ipynb").read_text(encoding="utf-8"))
    printed = "".join(o.get("text", "") for c in out["cells"] for o in c.get("outputs", []))
    assert "SERVER" in printed
    assert "casekit.render.kernels" not in printed
    assert "'render'" in printed and "'-n'" in printed
