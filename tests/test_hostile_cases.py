"""Hostile and broken case folders (issue #12): each gives its exact problem, fast, and the
command line prints it with exit status 1 and no traceback.

Every entry of :data:`MATRIX` breaks a copy of the synthetic example in one way and lists
every problem :func:`casekit.validate` must report, in order.
"""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import sys
import time

import pytest
from click.testing import CliRunner
from conftest import SYNTHETIC

import casekit as ck
from casekit.cases.analysis_block import BUILTIN_CURVES, _known_curves
from casekit.cases.folder import CASE_KEYS
from casekit.cli import cli

ALLOWED_KEYS = ", ".join(CASE_KEYS)
NOT_A_NUMBER = "(expected digits only, no thousands separators, e.g. 1566576)"
RANGE = "(expected a date from 1900 to one year from today)"


def edit(case_dir, name, old, new):
    path = case_dir / name
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def set_reach_value(case_dir, value):
    """Line 6 of reach.csv gets ``value`` as its value."""
    lines = (case_dir / "reach.csv").read_text(encoding="utf-8").splitlines()
    fields = lines[5].split(",")
    fields[4] = value
    lines[5] = ",".join(fields)
    (case_dir / "reach.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


ALIAS_BOMB = (
    'customer: &a ["lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol", "lol"]\n'
    + "".join(
        f"{k}: &{k} [{', '.join([f'*{j}'] * 9)}]\n"
        for j, k in zip("abcdefgh", "bcdefghi", strict=True)
    )
    + "title2: *i"
)


def _bomb(d):
    edit(d, "case.yaml", "customer: A fictional customer", ALIAS_BOMB)


def _bomb_in_a_note(d):
    # the anchor is defined on an unused key and referenced from a source note
    text = (d / "case.yaml").read_text(encoding="utf-8")
    text = text.replace('note: "synthetic; written by hand for tests"', "note: *lots", 1).replace(
        "key_dates:", 'lots: &lots ["x", "x"]\nkey_dates:', 1
    )
    (d / "case.yaml").write_text(text, encoding="utf-8")


def _recursive_alias(d):
    edit(d, "case.yaml", "customer: A fictional customer", "customer: &r [*r]")


def _deep_nesting(d):
    n = 100_000  # libyaml builds nested values recursively in C: this crashed Python
    edit(d, "case.yaml", "customer: A fictional customer", "customer: " + "[" * n + "]" * n)


def _symlink_outside(d):
    secret = d.parent / "secret.txt"
    secret.write_text("TOP-SECRET-FIRST-LINE,x\n", encoding="utf-8")
    (d / "reach.csv").unlink()
    os.symlink(secret, d / "reach.csv")


def _symlink_to_system_file(d):
    (d / "timeline.csv").unlink()
    os.symlink("/etc/passwd", d / "timeline.csv")


def _dangling_link(d):
    (d / "costs.csv").unlink()
    os.symlink(d / "no-such-file.csv", d / "costs.csv")


def _fifo(d):
    (d / "reach.csv").unlink()
    os.mkfifo(d / "reach.csv")


def _fifo_behind_a_link_inside(d):
    os.mkfifo(d / "pipe")
    (d / "costs.csv").unlink()
    os.symlink(d / "pipe", d / "costs.csv")


def _device(d):
    (d / "timeline.csv").unlink()
    try:
        os.mknod(d / "timeline.csv", stat.S_IFCHR | 0o600, os.makedev(1, 3))  # /dev/null
    except (PermissionError, OSError):
        pytest.skip("cannot create a device node here (needs CAP_MKNOD)")


def _folder_for_a_file(d):
    (d / "costs.csv").unlink()
    (d / "costs.csv").mkdir()


def _nul_at(name, text, head):
    """The offset of the NUL byte put after ``head`` in the first ``text`` of file ``name``."""
    return (SYNTHETIC / name).read_bytes().index(text.encode()) + len(head.encode())


NUL_EXPECTED = (
    "(expected the file saved as UTF-8 text (not UTF-16, not a spreadsheet or other binary file))"
)
NUL_CSV = _nul_at("timeline.csv", "The customer asks", "The customer")
NUL_YAML = _nul_at("case.yaml", "A fictional customer", "A fictional")


def _nul_in_csv(d):
    edit(d, "timeline.csv", "The customer asks", "The customer\x00 asks")


def _nul_in_yaml(d):
    edit(d, "case.yaml", "A fictional customer", "A fictional\x00 customer")


MATRIX = {
    # --- 2. anchors and aliases ------------------------------------------------------------
    "alias bomb": (
        _bomb,
        [
            "case.yaml, line 6: an anchor (&a): YAML anchors and aliases are not allowed "
            "(expected every value written out in full (casekit reads plain data only))"
        ],
    ),
    "alias bomb in a source note": (
        _bomb_in_a_note,
        [
            "case.yaml, line 18: an anchor (&lots): YAML anchors and aliases are not allowed "
            "(expected every value written out in full (casekit reads plain data only))"
        ],
    ),
    "recursive alias": (
        _recursive_alias,
        [
            "case.yaml, line 6: an anchor (&r): YAML anchors and aliases are not allowed "
            "(expected every value written out in full (casekit reads plain data only))"
        ],
    ),
    "nesting 100,000 deep": (
        _deep_nesting,
        [
            "case.yaml, line 6: mappings and lists nested more than 32 deep "
            "(expected the case format, which nests four levels at most)"
        ],
    ),
    # --- 3. files that are not plain files inside the folder -------------------------------
    "symlink outside the folder": (
        _symlink_outside,
        [
            "reach.csv: is a symbolic link that leads outside the case folder; it was not read "
            "(expected the file itself, or a link to a file inside the case folder)"
        ],
    ),
    "symlink to a system file": (
        _symlink_to_system_file,
        [
            "timeline.csv: is a symbolic link that leads outside the case folder; it was not "
            "read (expected the file itself, or a link to a file inside the case folder)"
        ],
    ),
    "dangling link": (
        _dangling_link,
        [
            "costs.csv: is a symbolic link to nothing (a dangling link) "
            "(expected a file named costs.csv, or a link to one inside the case folder)"
        ],
    ),
    "FIFO": (
        _fifo,
        [
            "reach.csv: is a named pipe (FIFO), not a file; it was not read "
            "(expected a file named reach.csv)"
        ],
    ),
    "FIFO behind a link inside the folder": (
        _fifo_behind_a_link_inside,
        [
            "costs.csv: is a named pipe (FIFO), not a file; it was not read "
            "(expected a file named costs.csv)"
        ],
    ),
    "device": (
        _device,
        [
            "timeline.csv: is a device, not a file; it was not read "
            "(expected a file named timeline.csv)"
        ],
    ),
    "folder where a file belongs": (
        _folder_for_a_file,
        ["costs.csv: is a folder, not a file (expected a file named costs.csv)"],
    ),
    # --- 8. YAML's own date parser ------------------------------------------------------------
    "30 February in a key date": (
        lambda d: edit(
            d, "case.yaml", "incident: {date: 2024-02-01", "incident: {date: 2008-02-30"
        ),
        [
            "case.yaml, line 19, column 'key_dates.incident.date': '2008-02-30' is not a date "
            "in the calendar (no such day or time) (expected a real date, e.g. 2008-02-29 but "
            "not 2008-02-30)"
        ],
    ),
    # --- 9. wrongly accepted -------------------------------------------------------------------
    "misspelt top-level key": (
        lambda d: edit(d, "case.yaml", "synthetic: true", "synthetc: true"),
        [
            "case.yaml, line 11, column 'synthetc': unknown key; did you mean 'synthetic'? "
            f"(expected one of: {ALLOWED_KEYS})"
        ],
    ),
    "unknown key-date field": (
        lambda d: edit(
            d,
            "case.yaml",
            "confidence: high}\n  first_complaint",
            "confidence: high, checked: yes}\n  first_complaint",
        ),
        [
            "case.yaml, line 19, column 'key_dates.incident.checked': unknown key-date field "
            "(expected one of: date, precision, date_end, source, confidence, note)"
        ],
    ),
    "unknown time zone": (
        lambda d: edit(d, "case.yaml", "timezone: Europe/London", "timezone: Mars/Olympus_Mons"),
        [
            "case.yaml, line 10, column 'timezone': unknown time zone 'Mars/Olympus_Mons' "
            "(expected an IANA time zone name such as Europe/London, America/Chicago or UTC)"
        ],
    ),
    "time zone in the wrong case": (
        lambda d: edit(d, "case.yaml", "timezone: Europe/London", "timezone: europe/london"),
        [
            "case.yaml, line 10, column 'timezone': time zone 'europe/london' is not spelt as "
            "in the IANA database (expected 'Europe/London')"
        ],
    ),
    "unknown country": (
        lambda d: edit(d, "case.yaml", "country: GB", "country: Narnia"),
        [
            "case.yaml, line 7, column 'country': unknown country 'Narnia' "
            "(expected an ISO 3166-1 alpha-2 code such as US, GB or DE)"
        ],
    ),
    "country name instead of its code": (
        lambda d: edit(d, "case.yaml", "country: GB", "country: United Kingdom"),
        [
            "case.yaml, line 7, column 'country': 'United Kingdom' is a country name, not its "
            "ISO 3166-1 alpha-2 code (expected 'GB')"
        ],
    ),
    "UK for GB": (
        lambda d: edit(d, "case.yaml", "country: GB", "country: UK"),
        ["case.yaml, line 7, column 'country': 'UK' is not an ISO 3166-1 code (expected 'GB')"],
    ),
    "fullwidth digits": (
        lambda d: set_reach_value(d, "１２３４５"),
        [f"reach.csv, line 6, column 'value': '１２３４５' is not a number {NOT_A_NUMBER}"],
    ),
    "Arabic-Indic digits": (
        lambda d: set_reach_value(d, "١٢٣٤٥"),
        [f"reach.csv, line 6, column 'value': '١٢٣٤٥' is not a number {NOT_A_NUMBER}"],
    ),
    "underscore in a number": (
        lambda d: set_reach_value(d, "131_000"),
        [f"reach.csv, line 6, column 'value': '131_000' is not a number {NOT_A_NUMBER}"],
    ),
    "exponent": (
        lambda d: set_reach_value(d, "1e5"),
        [f"reach.csv, line 6, column 'value': '1e5' is not a number {NOT_A_NUMBER}"],
    ),
    "underscore in a cost": (
        lambda d: edit(d, "costs.csv", ",remedy_requested,40,", ",remedy_requested,4_0,"),
        [
            "costs.csv, line 2, column 'value': '4_0' is not a number (expected a plain number "
            "(no currency signs or separators), or empty if the source gives none)"
        ],
    ),
    "fullwidth digits in a date": (
        lambda d: edit(d, "timeline.csv", "2024-02-02,day", "２０２４-02-02,day"),
        [
            "timeline.csv, line 3, column 'date': cannot read '２０２４-02-02' as a date "
            "(expected ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
        ],
    ),
    "NUL byte in a CSV": (
        _nul_in_csv,
        [
            f"timeline.csv, line 3: byte {NUL_CSV} is a NUL byte; a text file has none "
            f"{NUL_EXPECTED}"
        ],
    ),
    "NUL byte in case.yaml": (
        _nul_in_yaml,
        [f"case.yaml, line 6: byte {NUL_YAML} is a NUL byte; a text file has none {NUL_EXPECTED}"],
    ),
    "going public in 2300": (
        lambda d: edit(
            d, "case.yaml", "going_public: {date: 2024-03-04", "going_public: {date: 2300-03-04"
        ),
        None,  # the message names today's date: checked in test_far_future_date below
    ),
    "incident in year 1": (
        lambda d: edit(
            d, "case.yaml", "incident: {date: 2024-02-01", "incident: {date: 0001-02-01"
        ),
        [
            f"case.yaml, line 19, column 'key_dates.incident.date': '0001-02-01' is before 1900 "
            f"{RANGE}"
        ],
    ),
    "reach reading before 1900": (
        lambda d: edit(d, "reach.csv", "2024-03-04T16:02,hour", "1899-03-04T16:02,hour"),
        [f"reach.csv, line 3, column 'time': '1899-03-04T16:02' is before 1900 {RANGE}"],
    ),
    "unknown curve": (
        lambda d: edit(
            d, "case.yaml", "key_dates:", "analysis:\n  curves: [logistic, sigmoid]\nkey_dates:"
        ),
        None,  # the known curves depend on what is registered: test_unknown_curve below
    ),
    # --- 11. messages --------------------------------------------------------------------------
    "analysis.metric with a header-only reach.csv": (
        lambda d: (
            edit(d, "case.yaml", "key_dates:", "analysis:\n  metric: video_views\nkey_dates:"),
            (d / "reach.csv").write_text(
                (d / "reach.csv").read_text(encoding="utf-8").splitlines()[0] + "\n",
                encoding="utf-8",
            ),
        ),
        [
            "case.yaml, column 'analysis.metric': metric 'video_views' has no rows in "
            "reach.csv (expected rows of it in reach.csv, which has none yet (or no "
            "analysis.metric))"
        ],
    ),
}

# Inputs that once hung, exhausted memory or crashed: also run through a real subprocess.
DANGEROUS = {
    "alias bomb",
    "recursive alias",
    "nesting 100,000 deep",
    "FIFO",
    "symlink to a system file",
}


def _problems(path):
    return [str(p) for p in ck.validate(path)]


def _cli(path):
    return CliRunner().invoke(cli, ["validate", str(path)])


@pytest.mark.parametrize("name", [n for n, (_, want) in MATRIX.items() if want is not None])
def test_hostile_case_gives_its_exact_problems(name, case_dir):
    if name in ("FIFO", "FIFO behind a link inside the folder") and not hasattr(os, "mkfifo"):
        pytest.skip("no FIFOs on this platform")
    if "link" in name and sys.platform == "win32":
        pytest.skip("symbolic links need privileges on Windows")
    mutate, want = MATRIX[name]
    mutate(case_dir)
    t = time.perf_counter()
    assert _problems(case_dir) == want
    assert time.perf_counter() - t < 1.0  # an alias bomb once ran past 90 s
    result = _cli(case_dir)
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output and not isinstance(result.exception, Exception)
    assert f"{case_dir}: {len(want)} problem(s)" in result.output
    for line in want:
        assert f"  - {line}" in result.output
    assert "TOP-SECRET" not in result.output and "root:" not in result.output


@pytest.mark.parametrize("name", sorted(DANGEROUS))
def test_dangerous_case_in_a_real_process(name, case_dir):
    mutate, want = MATRIX[name]
    mutate(case_dir)
    proc = subprocess.run(
        [sys.executable, "-m", "casekit", "validate", str(case_dir)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert proc.returncode == 1, proc.stderr
    assert "Traceback" not in proc.stdout + proc.stderr
    assert f"  - {want[0]}" in proc.stderr


def test_far_future_date(case_dir):
    MATRIX["going public in 2300"][0](case_dir)
    (problem,) = ck.validate(case_dir)
    assert (problem.file, problem.row, problem.column) == (
        "case.yaml",
        21,
        "key_dates.going_public.date",
    )
    assert problem.message.startswith("'2300-03-04' is more than a year from today (after ")
    assert problem.expected == "a date from 1900 to one year from today"
    assert _cli(case_dir).exit_code == 1


def test_next_month_is_still_a_date(case_dir):
    import datetime

    soon = (datetime.date.today() + datetime.timedelta(days=40)).isoformat()
    edit(case_dir, "case.yaml", "resolution: {date: 2024-03-15", f"resolution: {{date: {soon}")
    assert ck.validate(case_dir) == []


def test_unknown_curve(case_dir):
    MATRIX["unknown curve"][0](case_dir)
    known = ", ".join(_known_curves())
    assert _problems(case_dir) == [
        "case.yaml, line 19, column 'analysis.curves': unknown curve 'sigmoid' "
        f"(expected curves from: {known})"
    ]
    assert set(BUILTIN_CURVES) <= set(_known_curves())
    assert _cli(case_dir).exit_code == 1


def test_builtin_curve_names_match_the_registry():
    code = "from casekit.reach.curves import CURVES; print(' '.join(CURVES))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert tuple(out.stdout.split()) == BUILTIN_CURVES


def test_a_link_inside_the_folder_is_followed(case_dir):
    (case_dir / "data").mkdir()
    shutil.move(case_dir / "reach.csv", case_dir / "data" / "reach.csv")
    os.symlink(case_dir / "data" / "reach.csv", case_dir / "reach.csv")
    assert ck.validate(case_dir) == []


def test_yaml_numbers_are_plain_decimals(case_dir):
    # YAML 1.1 reads 131_000, 0x10 and 1:30 as numbers; here they stay text
    edit(
        case_dir,
        "case.yaml",
        "key_dates:",
        "claims:\n  - {id: c, claim: x, by: y, source: synthetic-press, quote: q,\n"
        "     confidence: high, value_change: 131_000, price_change_pct: 0x10,\n"
        "     window: [0, 1:30]}\nkey_dates:",
    )
    assert _problems(case_dir) == [
        "case.yaml, line 20, column 'claims[0].price_change_pct': '0x10' is not a number "
        "(expected a number in percent; a fall is negative, e.g. -5)",
        "case.yaml, line 20, column 'claims[0].value_change': '131_000' is not a number "
        "(expected a number; a loss is negative, e.g. -2500000)",
        "case.yaml, line 21, column 'claims[0].window': [0, '1:30'] is not a window of trading "
        "days (expected [t1, t2]: the first and last trading day the claim is about, e.g. [0, 3])",
    ]


# --- 11. a folder name without ./ ---------------------------------------------------------------


def test_a_folder_name_wins_over_a_case_id(case_dir, monkeypatch):
    # "synthetic-example" is also a bundled case id; the folder right here is meant
    edit(case_dir, "case.yaml", "country: GB", "country: Narnia")
    monkeypatch.chdir(case_dir.parent)
    assert [p.column for p in ck.validate("synthetic-example")] == ["country"]
    result = _cli("synthetic-example")
    assert result.exit_code == 1 and "unknown country 'Narnia'" in result.output


def test_a_folder_name_is_read_as_a_folder(tmp_path, monkeypatch):
    ck.new_case("my-case", tmp_path)
    monkeypatch.chdir(tmp_path)
    result = _cli("my-case")
    assert "no case 'my-case'" not in result.output
    assert "my-case: 3 problem(s)" in result.output  # the scaffold's placeholders
    assert "Traceback" not in result.output and result.exit_code == 1


def test_a_name_without_a_folder_is_still_a_case_id(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    (tmp_path / "my-case").mkdir()  # no case.yaml: not a case folder
    result = _cli("my-case")
    assert result.exit_code == 1 and "no case 'my-case'; known cases:" in result.output
