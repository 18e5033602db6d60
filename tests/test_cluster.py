"""Rendering on a real Dask cluster: a `dask scheduler` and two `dask worker` processes on
127.0.0.1, started here and torn down at the end."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

pytest.importorskip("distributed")

from casekit import render as R  # noqa: E402
from casekit.cli import cli  # noqa: E402
from casekit.render import cluster as C  # noqa: E402
from tests.test_warm_kernels import _cells, normalise_html  # noqa: E402

NB = Path(__file__).parent / "notebooks"
TINY = str(NB / "tiny.py")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _dask() -> list[str]:
    exe = shutil.which("dask", path=os.path.dirname(sys.executable)) or shutil.which("dask")
    return [exe] if exe else [sys.executable, "-m", "distributed.cli.dask_spec"]


@pytest.fixture(scope="module")
def scheduler(tmp_path_factory):
    logs = tmp_path_factory.mktemp("dask")
    port = _free_port()
    address = f"tcp://127.0.0.1:{port}"
    env = {**os.environ, "DASK_DISTRIBUTED__WORKER__DAEMON": "False"}
    procs = []

    def start(args, name):
        fh = open(logs / f"{name}.log", "w")  # noqa: SIM115 - closed with the process
        procs.append(
            (
                subprocess.Popen(
                    _dask() + args,
                    stdout=fh,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                ),
                fh,
            )
        )

    start(["scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"], "scheduler")
    for i in range(2):
        start(
            [
                "worker",
                address,
                "--host",
                "127.0.0.1",
                "--nthreads",
                "1",
                "--nworkers",
                "1",
                "--no-dashboard",
                "--name",
                f"w{i}",
                # w0 starts as the README starts workers: its kernels warm when it starts;
                # w1 warms them when the first batch reaches it
                *(["--preload", "casekit.render.cluster"] if i == 0 else []),
            ],
            f"worker{i}",
        )
    try:
        from distributed import Client

        deadline = time.monotonic() + 60
        while True:
            try:
                with Client(address, timeout=5, set_as_default=False) as client:
                    client.wait_for_workers(2, timeout=max(1, deadline - time.monotonic()))
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.5)
        yield address
    finally:
        for proc, _fh in reversed(procs):
            with contextlib.suppress(ProcessLookupError):
                os.killpg(proc.pid, signal.SIGTERM)
        for proc, fh in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
            fh.close()


def test_a_preloaded_worker_joins_the_cluster_with_its_kernels_warm(scheduler):
    from distributed import Client

    def warm_state():  # defined here: the worker gets it by value, not from this module
        """Whether this worker's fork server takes requests now, and whether the worker has
        imported what a report needs (papermill, nbconvert)."""
        import os
        import sys

        from casekit.render import kernels

        srv = kernels._SERVERS.get(os.getpid())
        return srv is not None and srv.ready(0.0), {"papermill", "nbconvert"} <= set(sys.modules)

    with Client(scheduler, timeout=10, set_as_default=False) as client:
        by_name = {info["name"]: addr for addr, info in client.scheduler_info()["workers"].items()}
        state = client.run(warm_state, workers=[by_name["w0"]])
    # registered means warm: no batch has reached it, yet its server takes requests
    assert state[by_name["w0"]] == (True, True)


def test_cluster_reports_equal_local_ones(scheduler, tmp_path, monkeypatch):
    # The reuse check below needs keys that only these inputs change: the real key also
    # hashes all of casekit's code, which other work on this checkout may be editing.
    from casekit.render import jobs

    def key(path, case, params, show_code):
        text = Path(path).read_bytes() + json.dumps(params, sort_keys=True).encode()
        return hashlib.sha256(text).hexdigest()

    monkeypatch.setattr(jobs, "_fingerprint", key)
    specs = [R.Spec(TINY, None, {"n": n}, name=f"tiny--n={n}") for n in (2, 3, 4)] + [
        R.Spec(TINY, None, {"label": "boom"}, name="tiny--label=boom")
    ]
    local = R.render_batch(specs, out_dir=tmp_path / "local", progress=False)
    remote = R.render_batch(specs, out_dir=tmp_path / "remote", scheduler=scheduler, progress=False)
    assert [r.status for r in remote.results] == [r.status for r in local.results]
    assert [r.status for r in remote.results] == ["ok", "ok", "ok", "failed"]
    assert remote.results[3].error == local.results[3].error
    a, b = tmp_path / "local" / "all_cases", tmp_path / "remote" / "all_cases"
    for n in (2, 3, 4):
        assert _cells(a / f"tiny--n={n}.ipynb") == _cells(b / f"tiny--n={n}.ipynb")
        assert normalise_html((a / f"tiny--n={n}.html").read_text("utf-8")) == normalise_html(
            (b / f"tiny--n={n}.html").read_text("utf-8")
        )
        meta = json.loads((b / f"tiny--n={n}.json").read_text("utf-8"))
        assert meta["status"] == "ok"
    assert (b / "tiny--label=boom.log").is_file()
    assert (b / "tiny--label=boom.failed.ipynb").is_file()
    # reused like a local report: unchanged inputs, nothing sent
    again = R.render_batch(
        specs[:3], out_dir=tmp_path / "remote", scheduler=scheduler, progress=False
    )
    assert [r.status for r in again.results] == ["cached"] * 3


def test_unreachable_scheduler_is_reported_within_10_s(tmp_path):
    address = f"tcp://127.0.0.1:{_free_port()}"
    start = time.monotonic()
    res = CliRunner().invoke(
        cli,
        ["render", "-n", TINY, "--scheduler", address, "--out", str(tmp_path)],
        catch_exceptions=False,
    )
    assert time.monotonic() - start < 10
    assert res.exit_code == 1
    assert f"cannot reach the Dask scheduler at {address}" in res.output
    assert not (tmp_path / "all_cases").exists()


class _FakeClient:
    def __init__(self, versions):
        self.versions = versions

    def wait_for_workers(self, n, timeout):
        return None

    def run(self, fn):
        return self.versions


def test_other_versions_on_a_worker_stop_the_batch_before_any_report():
    here = C._versions()
    other = {**here, "python": "3.99"}
    with pytest.raises(C.ClusterError, match=r"tcp://b:1: python 3\.99 \(here 3\.11\)"):
        C.check_workers(_FakeClient({"tcp://a:1": here, "tcp://b:1": other}))
    assert C.check_workers(_FakeClient({"tcp://a:1": here})) == 1


def test_a_killed_worker_retries_once_then_fails_the_rest_finish(scheduler, tmp_path):
    # turn 2 kills the worker that renders it, each time it runs
    res = CliRunner().invoke(
        cli,
        [
            "render",
            "-n",
            str(NB / "kill_worker.py"),
            "--grid",
            "turn=1,2,3",
            "--scheduler",
            scheduler,
            "--out",
            str(tmp_path),
            "--no-progress",
        ],
        catch_exceptions=False,
    )
    assert res.exit_code == 1, res.output
    lines = {ln.split()[0]: ln for ln in res.output.splitlines() if ln.startswith("all_cases/")}
    assert len(lines) == 3, res.output
    assert " ok " in lines["all_cases/kill_worker--turn=1"]
    assert " ok " in lines["all_cases/kill_worker--turn=3"]
    died = lines["all_cases/kill_worker--turn=2"]
    assert " failed " in died and "died" in died and "retried" in died
    assert (tmp_path / "all_cases" / "kill_worker--turn=3.html").is_file()
    assert not (tmp_path / "all_cases" / "kill_worker--turn=2.html").exists()
