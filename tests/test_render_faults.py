"""casekit.render under faults (issue #12): a temp folder on another filesystem, a full
disk at every write, a failed re-render, interrupts and what a killed run leaves behind,
and hostile parameter values. The CLI answers each with a message, never a traceback."""

from __future__ import annotations

import errno
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from casekit import render as R
from casekit.cli import cli
from casekit.exceptions import ParameterError
from casekit.render import cleanup

REPO = Path(__file__).resolve().parents[1]

HEADER = """\
# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---
"""

# Fails when n == 99; with a marker, writes the kernel's pid there and sleeps.
NB = HEADER + textwrap.dedent("""
    # %% tags=["parameters"]
    case: str = "synthetic-example"  # case id
    n: int = 3  # 99 fails
    marker: str = ""  # file that receives the kernel's pid once it runs
    seconds: float = 0.0  # how long to sleep after writing the marker

    # %%
    import os, pathlib, time
    if marker:
        pathlib.Path(marker).write_text(str(os.getpid()))
        time.sleep(seconds)
    if n == 99:
        raise ValueError("n is 99")
    print("n", n)
    """)


@pytest.fixture
def private_tmp(tmp_path, monkeypatch):
    """A temp folder of this test's own (tempfile's and child processes')."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setenv("TMPDIR", str(folder))
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


@pytest.fixture
def nb(tmp_path, monkeypatch):
    # casekit's own source is part of the fingerprint; others may be editing it right now
    monkeypatch.setattr(R.jobs, "_package_fingerprint", lambda: "fixed for this test")
    path = tmp_path / "faulty.py"
    path.write_text(NB, encoding="utf-8")
    return path


def run_cli(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def files(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def assert_no_leftovers(out: Path, tmp: Path) -> None:
    partial = [p.name for p in out.rglob("*") if p.name.endswith(".tmp")]
    assert partial == []
    assert [p.name for p in tmp.iterdir()] == []  # no casekit-* folder, no connection file
    for ipynb in out.glob("*/*.ipynb"):
        if not ipynb.name.endswith(".failed.ipynb"):
            assert ipynb.with_name(ipynb.name[: -len(".ipynb")] + ".html").is_file()


# --- 4. the temp folder on another filesystem --------------------------------------------


def test_render_works_when_the_temp_folder_is_on_another_filesystem(tmp_path, nb, monkeypatch):
    shm = Path("/dev/shm")
    if not shm.is_dir() or shm.stat().st_dev == tmp_path.stat().st_dev:
        pytest.skip("no second filesystem (/dev/shm) to put the temp folder on")
    tmp = Path(tempfile.mkdtemp(dir=shm, prefix="casekit-test-"))
    try:
        monkeypatch.setenv("TMPDIR", str(tmp))
        monkeypatch.setattr(tempfile, "tempdir", str(tmp))
        out = tmp_path / "reports"
        r = R.render("synthetic-example", nb, out_dir=out)
        assert r.status == "ok" and r.html.is_file() and r.ipynb.is_file()
        log = r.log.read_text(encoding="utf-8")
        assert f"working directory: {tmp}/casekit-{os.getpid()}-" in log
        assert_no_leftovers(out, tmp)
        # and from the command line
        res = run_cli("render", "synthetic-example", "-n", str(nb), "--out", str(out), "--force")
        assert res.exit_code == 0, res.output
        assert_no_leftovers(out, tmp)
    finally:
        import shutil

        shutil.rmtree(tmp, ignore_errors=True)


# --- 5. a full disk -----------------------------------------------------------------------


def disk_full_for(monkeypatch, pattern: str) -> list[str]:
    """Make writes through os.fdopen to files whose name matches ``pattern`` write half
    their data and then fail with ENOSPC, as a full disk does. Returns the names hit."""
    real = os.fdopen
    hit: list[str] = []

    class Full:
        def __init__(self, fh, name):
            self.fh, self.name = fh, name

        def write(self, data):
            self.fh.write(data[: len(data) // 2])
            self.fh.flush()
            hit.append(self.name)
            raise OSError(errno.ENOSPC, "No space left on device", self.name)

        def __enter__(self):
            return self

        def __exit__(self, *exc):
            self.fh.close()

    def fdopen(fd, *args, **kwargs):
        name = os.readlink(f"/proc/self/fd/{fd}") if isinstance(fd, int) else ""
        fh = real(fd, *args, **kwargs)
        return Full(fh, name) if re.search(pattern, os.path.basename(name)) else fh

    monkeypatch.setattr(os, "fdopen", fdopen)
    return hit


@pytest.mark.parametrize(
    "pattern",
    [r"^\.faulty\.ipynb\.", r"^\.faulty\.html\.", r"^\.faulty\.log\.", r"^\.faulty\.json\."],
    ids=["ipynb", "html", "log", "sidecar"],
)
def test_a_full_disk_keeps_the_last_report_and_leaves_nothing_half_written(
    pattern, tmp_path, nb, private_tmp, monkeypatch
):
    out = tmp_path / "reports"
    assert R.render("synthetic-example", nb, out_dir=out).status == "ok"
    folder = out / "synthetic-example"
    before = files(folder)
    hit = disk_full_for(monkeypatch, pattern)
    res = run_cli("render", "synthetic-example", "-n", str(nb), "--out", str(out), "--force")
    assert hit, "the simulated full disk was never reached"
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    assert re.search(r"synthetic-example/faulty\s+failed\s.*the disk is full", res.stdout)
    after = files(folder)
    for name in ("faulty.html", "faulty.ipynb"):
        assert after[name] == before[name]  # the last good report, byte for byte
    assert_no_leftovers(out, private_tmp)


def test_a_full_disk_never_leaves_a_truncated_failed_notebook(
    tmp_path, nb, private_tmp, monkeypatch
):
    out = tmp_path / "reports"
    hit = disk_full_for(monkeypatch, r"^\.faulty\.failed\.ipynb\.")
    with pytest.raises(R.RenderError, match="ValueError: n is 99"):
        R.render("synthetic-example", nb, params={"n": 99}, out_dir=out)
    assert hit
    folder = out / "synthetic-example"
    assert not (folder / "faulty.failed.ipynb").exists()  # whole or not at all
    log = (folder / "faulty.log").read_text(encoding="utf-8")
    assert "the notebook as far as it ran could not be saved" in log
    assert_no_leftovers(out, private_tmp)


def test_a_full_disk_at_the_index_is_a_message(tmp_path, nb, private_tmp, monkeypatch):
    out = tmp_path / "reports"
    assert R.render("synthetic-example", nb, out_dir=out).status == "ok"
    index_before = (out / "index.html").read_bytes()
    disk_full_for(monkeypatch, r"^\.index\.html\.")
    res = run_cli("render", "synthetic-example", "-n", str(nb), "--out", str(out), "--force")
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    assert "index.html not written: the disk is full" in res.stdout
    assert (out / "index.html").read_bytes() == index_before
    with pytest.raises(R.RenderError, match="could not be written: the disk is full"):
        R.render("synthetic-example", nb, out_dir=out, force=True)
    batch = R.render_batch([R.Spec(str(nb), "synthetic-example")], out_dir=out, progress=False)
    assert batch.results[0].ok and not batch.ok and batch.index is None
    assert_no_leftovers(out, private_tmp)


def test_a_full_disk_before_any_report_is_a_message(tmp_path, nb, private_tmp, monkeypatch):
    out = tmp_path / "fresh"
    disk_full_for(monkeypatch, r"^\.plotly\.min\.js\.")
    res = run_cli("render", "synthetic-example", "-n", str(nb), "--out", str(out))
    assert res.exit_code == 1
    assert "Traceback" not in res.output
    assert "is full (No space left on device)" in res.stderr
    assert not (out / "plotly.min.js").exists()
    assert_no_leftovers(out, private_tmp)


# --- 6. a failed re-render keeps the last good report, marked stale --------------------------


def test_a_failed_rerender_keeps_the_last_good_report_marked_stale(tmp_path, nb, private_tmp):
    out = tmp_path / "reports"
    folder = out / "synthetic-example"
    good = R.render("synthetic-example", nb, params={"n": 5}, out_dir=out)
    before = files(folder)
    rendered_at = json.loads((folder / "faulty.json").read_text(encoding="utf-8"))["rendered_at"]
    for _ in range(2):  # a second failure still keeps it
        with pytest.raises(R.RenderError, match="ValueError: n is 99"):
            R.render("synthetic-example", nb, params={"n": 99}, out_dir=out)
        assert good.html.read_bytes() == before["faulty.html"]
        assert good.ipynb.read_bytes() == before["faulty.ipynb"]
        assert (folder / "faulty.failed.ipynb").is_file()
        meta = json.loads((folder / "faulty.json").read_text(encoding="utf-8"))
        assert meta["status"] == "failed" and meta["error"] == "ValueError: n is 99 (cell 3)"
        assert meta["last_good"]["rendered_at"] == rendered_at
        assert meta["last_good"]["params"]["n"] == 5
        page = (out / "index.html").read_text(encoding="utf-8")
        row = re.search(r'<tr class="stale">.*?</tr>', page, re.DOTALL).group(0)
        assert '<a href="synthetic-example/faulty.html">faulty</a>' in row
        assert "stale: the last render failed (ValueError: n is 99 (cell 3))" in row
        assert "n=5" in row and rendered_at[:16].replace("T", " ") in row
        assert "faulty.log" in row
    # a failure does not count as up to date: the same request renders again
    assert R.render("synthetic-example", nb, params={"n": 5}, out_dir=out).status == "ok"
    meta = json.loads((folder / "faulty.json").read_text(encoding="utf-8"))
    assert meta["status"] == "ok" and "last_good" not in meta
    assert not (folder / "faulty.failed.ipynb").exists()
    page = (out / "index.html").read_text(encoding="utf-8")
    assert 'class="stale"' not in page and '<tr class="ok">' in page
    assert_no_leftovers(out, private_tmp)


# --- 7. interrupts and what a killed run leaves -------------------------------------------


def start_render(tmp_path: Path, nb: Path, private_tmp: Path, *cases: str, jobs: int = 1):
    marker = tmp_path / "kernel.pid"
    env = {**os.environ, "TMPDIR": str(private_tmp), "PYTHONPATH": str(REPO)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "casekit", "render", *cases, "-n", str(nb)]
        + ["--out", str(tmp_path / "reports"), "--jobs", str(jobs)]
        + ["-p", "marker", str(marker), "-p", "seconds", "120"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 90
    while not (marker.is_file() and marker.read_text()):
        assert proc.poll() is None, proc.communicate()
        assert time.monotonic() < deadline, "the kernel never started"
        time.sleep(0.1)
    time.sleep(0.3)
    return proc, int(marker.read_text())


def wait_gone(pid: int, timeout: float = 20) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not cleanup._pid_alive(pid):
            return True
        time.sleep(0.1)
    return False


@pytest.mark.parametrize(
    ("sig", "jobs"),
    [(signal.SIGTERM, 1), (signal.SIGINT, 1), (signal.SIGTERM, 2), (signal.SIGINT, 2)],
    ids=["sigterm", "sigint", "sigterm-parallel", "sigint-parallel"],
)
def test_an_interrupt_removes_every_temporary(sig, jobs, tmp_path, nb, private_tmp):
    cases = ("synthetic-example", "united-breaks-guitars")[:jobs]
    proc, kernel = start_render(tmp_path, nb, private_tmp, *cases, jobs=jobs)
    assert any(p.name.startswith("casekit-") for p in private_tmp.iterdir())
    proc.send_signal(sig)
    _, stderr = proc.communicate(timeout=60)
    assert proc.returncode != 0
    assert "Traceback" not in stderr
    assert wait_gone(kernel), "the kernel outlived the interrupted render"
    assert [p.name for p in private_tmp.iterdir()] == []
    assert not [p for p in (tmp_path / "reports").rglob("*") if p.name.endswith(".tmp")]


def test_a_killed_runs_leftovers_are_swept_by_the_next_run(tmp_path, nb, private_tmp):
    proc, kernel = start_render(tmp_path, nb, private_tmp, "synthetic-example")
    proc.kill()
    proc.communicate(timeout=30)
    assert wait_gone(kernel), "the kernel of a killed render should exit with its parent"
    left = [p for p in private_tmp.iterdir() if p.name.startswith(f"casekit-{proc.pid}-")]
    assert len(left) == 1 and (left[0] / "kernel.json").exists()
    # a partial file beside a report, as a kill during a write leaves it
    folder = tmp_path / "reports" / "synthetic-example"
    folder.mkdir(parents=True, exist_ok=True)
    partial = folder / f".faulty.html.{proc.pid}.abcd1234.tmp"
    partial.write_text("half a page", encoding="utf-8")
    # another live process's folder and a fresh one of a dead process stay
    live = private_tmp / f"casekit-{os.getppid()}-other-run-x1"
    live.mkdir()
    old = time.time() - 2 * cleanup.STALE_AFTER
    for p in (left[0], partial, live):
        os.utime(p, (old, old))
    fresh = private_tmp / f"casekit-{proc.pid}-fresh-x2"
    fresh.mkdir()

    r = R.render("synthetic-example", nb, out_dir=tmp_path / "reports")
    assert r.status == "ok"
    assert not left[0].exists() and not partial.exists()
    assert live.is_dir() and fresh.is_dir()


def test_a_sweep_never_touches_other_files(tmp_path):
    old = time.time() - 2 * cleanup.STALE_AFTER
    keep = [tmp_path / "casekit-notapid-x", tmp_path / "other-999999999-x", tmp_path / "a.tmp"]
    for p in keep:
        p.mkdir() if p.suffix != ".tmp" else p.write_text("x")
        os.utime(p, (old, old))
    assert cleanup.sweep_temp(tmp_path) == [] and cleanup.sweep_partials(tmp_path) == []
    assert all(p.exists() for p in keep)


# --- 8, 9, 11. hostile parameter values and a notebook that is not one ----------------------


@pytest.mark.parametrize("depth", [50, 3_000, 100_000])
def test_deeply_nested_list_parameter_is_a_parameter_error(depth):
    text = "[" * depth + "1" + "]" * depth
    with pytest.raises(ParameterError, match=r"'delays' must be list\[float\] \(a flat list"):
        R.coerce_params("case_report", {"delays": text})
    nested: list = [1.0]
    for _ in range(depth):
        nested = [nested]
    with pytest.raises(ParameterError, match=r"'delays' must be list\[float\]") as err:
        R.coerce_params("case_report", {"delays": nested})
    assert len(str(err.value).splitlines()[0]) < 300


@pytest.mark.parametrize(
    "value",
    [
        "[NaN, 1]",
        "[1, Infinity]",
        "[-Infinity]",
        "nan,3",
        "0,inf",
        "[1e999]",
        [float("nan")],
        [1.0, float("inf")],
    ],
)
def test_float_lists_reject_nan_and_infinity_with_the_allowed_range(value):
    with pytest.raises(ParameterError) as err:
        R.coerce_params("case_report", {"delays": value})
    msg = str(err.value)
    assert "'delays' must be list[float] of finite numbers" in msg
    assert "not NaN or infinity" in msg and "1.798e+308" in msg


def test_float_parameters_reject_nan_and_infinity_given_as_python_values(tmp_path):
    path = tmp_path / "floats.py"
    path.write_text(
        HEADER + '\n# %% tags=["parameters"]\nx: float = 1.0  # a number\n', encoding="utf-8"
    )
    for value in (float("nan"), float("inf"), "nan", "-inf"):
        with pytest.raises(ParameterError, match="'x' must be float of finite numbers"):
            R.coerce_params(path, {"x": value})
    assert R.coerce_params(path, {"x": "2.5"}) == {"x": 2.5}


def test_cli_deep_nesting_and_nan_are_messages(tmp_path):
    out = tmp_path / "reports"
    for value in ("[" * 100_000 + "]" * 100_000, "[NaN]"):
        res = run_cli("render", "synthetic-example", "-p", "delays", value, "--out", str(out))
        assert res.exit_code == 1
        assert "Traceback" not in res.output and "RecursionError" not in res.output
        assert "error: notebook 'case_report': parameter 'delays' must be list[float]" in res.stderr
        assert len(res.stderr) < 5_000
    assert not out.exists()


def test_a_file_that_is_not_a_notebook_names_the_notebooks(tmp_path, monkeypatch):
    text = tmp_path / "some.txt"
    text.write_text("hello\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    for ref in ("some.txt", "./some.txt", str(text)):
        res = run_cli("render", "synthetic-example", "-n", ref, "--out", str(tmp_path / "r"))
        assert res.exit_code == 1, res.output
        assert "Traceback" not in res.output
        assert "valid parameters:" not in res.stderr
        assert "is not a notebook" in res.stderr
        assert "case_report, compare_cases, classroom" in res.stderr
        res = run_cli("params", ref)
        assert res.exit_code == 1 and "is not a notebook" in res.stderr
    # a .py with no parameters cell: says so instead of an empty list
    plain = tmp_path / "plain.py"
    plain.write_text("print('hi')\n", encoding="utf-8")
    res = run_cli("render", "synthetic-example", "-n", str(plain), "--out", str(tmp_path / "r"))
    assert res.exit_code == 1
    assert "takes no case" in res.stderr
    assert "(none: the notebook has no cell tagged 'parameters'" in res.stderr
