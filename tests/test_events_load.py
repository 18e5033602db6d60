"""casekit.events.load: formats, globs and folders, bad files, duplicates, counts, provenance."""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest

import casekit as ck
from casekit import events
from casekit.events import EventLog, EventLogError
from casekit.exceptions import ParameterError

TIMES = [
    "2024-03-04T10:00:00Z",
    "2024-03-04T23:30:00Z",
    "2024-03-05T00:15:00Z",
    "2024-03-05T09:00:00+01:00",
    "2024-03-07T12:00:00Z",
]


def _frame(times=TIMES) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "id": [f"e{i}" for i in range(len(times))],
            "time": times,
            "author": [f"u{i % 2}" for i in range(len(times))],
            "parent": [""] + ["e0"] * (len(times) - 1),
        }
    )


def _csv(path, df=None):
    (df if df is not None else _frame()).to_csv(path, index=False)
    return path


def _parquet(path, times_sql: str):
    con = duckdb.connect()
    con.execute(f"COPY ({times_sql}) TO '{path}' (FORMAT parquet)")
    return path


def test_csv_counts_match_pandas(tmp_path):
    log = events.load(_csv(tmp_path / "a.csv"), time="time", id="id", tz="UTC")
    assert isinstance(log, EventLog)
    assert (log.n_rows, log.n_events, log.n_duplicates) == (5, 5, 0)
    t = pd.to_datetime(pd.Series(TIMES), utc=True, format="ISO8601").dt.tz_localize(None)
    for period in ("1D", "1h", "6h"):
        got = log.counts(period)
        want = t.dt.floor(period).value_counts().sort_index()
        full = want.reindex(pd.date_range(want.index[0], want.index[-1], freq=period), fill_value=0)
        assert got["time"].tolist() == list(full.index)
        assert got["count"].tolist() == full.tolist()
        assert got["cumulative"].tolist() == full.cumsum().tolist()
        assert (got["time_end"] - got["time"]).eq(pd.Timedelta(period)).all()


def test_local_days_follow_tz(tmp_path):
    # 23:30 UTC on 4 March is already 5 March in Berlin
    log = events.load(_csv(tmp_path / "a.csv"), time="time", tz="Europe/Berlin")
    c = log.counts("1D")
    assert c["time"].tolist()[:2] == [pd.Timestamp("2024-03-04"), pd.Timestamp("2024-03-05")]
    assert c["count"].tolist()[:2] == [1, 3]


def test_jsonl_and_parquet_and_epoch(tmp_path):
    p = tmp_path / "a.jsonl"
    p.write_text("\n".join(json.dumps(r) for r in _frame().to_dict("records")) + "\n")
    a = events.load(p, time="time", id="id", author="author", tz="UTC")
    assert a.format == "jsonl" and a.n_events == 5
    q = _parquet(
        tmp_path / "b.parquet",
        "SELECT TIMESTAMPTZ '2024-03-04 10:00:00+00' + to_minutes(range * 90) AS ts, "
        "range AS id FROM range(100)",
    )
    b = events.load(q, time="ts", id="id")
    assert b.format == "parquet" and b.n_events == 100 and b.tz == "UTC"
    assert int(b.counts("1D")["count"].sum()) == 100
    assert b.times()[0] == pytest.approx(10 / 24)
    epoch = tmp_path / "c.csv"
    pd.DataFrame({"ts": [1709546400, 1709550000]}).to_csv(epoch, index=False)
    c = events.load(epoch, time="ts", unit="s")
    assert c.first == pd.Timestamp("2024-03-04 10:00")
    with pytest.raises(EventLogError, match="holds numbers; pass unit="):
        events.load(_epoch_parquet(tmp_path), time="ts")


def _epoch_parquet(tmp_path):
    return _parquet(tmp_path / "n.parquet", "SELECT 1709546400 + range AS ts FROM range(3)")


def test_glob_and_folder(tmp_path):
    df = _frame()
    (tmp_path / "sub").mkdir()
    _csv(tmp_path / "part1.csv", df.iloc[:2])
    _csv(tmp_path / "sub" / "part2.csv", df.iloc[2:])
    (tmp_path / "notes.txt").write_text("not a log")
    folder = events.load(tmp_path, time="time", id="id", tz="UTC")
    assert folder.n_events == 5 and len(folder.files) == 2
    glob = events.load(str(tmp_path / "part*.csv"), time="time", tz="UTC")
    assert glob.n_events == 2


def test_bad_timestamp_names_file_and_row(tmp_path):
    _csv(tmp_path / "good.csv")
    bad = _frame(TIMES[:3] + ["yesterday", TIMES[4]])
    _csv(tmp_path / "bad.csv", bad)
    with pytest.raises(EventLogError) as err:
        events.load(tmp_path, time="time", tz="UTC")
    msg = str(err.value)
    assert msg.startswith("bad.csv, row 4: cannot read yesterday in column 'time'")
    assert "bad_rows='drop'" in msg
    log = events.load(tmp_path, time="time", tz="UTC", bad_rows="drop")
    assert (log.n_rows, log.n_bad_rows, log.n_events) == (10, 1, 9)


def test_bad_timestamp_in_parquet_text_column(tmp_path):
    p = _parquet(
        tmp_path / "t.parquet",
        "SELECT CASE WHEN range = 6 THEN '2024-13-45' ELSE '2024-03-04 10:00:00Z' END AS time "
        "FROM range(10)",
    )
    with pytest.raises(EventLogError, match=r"^t.parquet, row 7: cannot read 2024-13-45"):
        events.load(p)


def test_empty_time_value(tmp_path):
    _csv(tmp_path / "e.csv", _frame(TIMES[:2] + [""] + TIMES[3:]))
    with pytest.raises(EventLogError, match=r"e.csv, row 3: column 'time' is empty"):
        events.load(tmp_path / "e.csv", tz="UTC")


def test_missing_column_lists_columns(tmp_path):
    _csv(tmp_path / "a.csv")
    with pytest.raises(EventLogError) as err:
        events.load(tmp_path / "a.csv", time="created_at", author="user", tz="UTC")
    msg = str(err.value)
    assert "a.csv: no column 'created_at', 'user'" in msg
    assert "the file has 'id', 'time', 'author', 'parent'" in msg


def test_naive_times_need_a_zone(tmp_path):
    naive = _frame(["2024-03-04 10:00", "2024-03-05 11:00"])
    _csv(tmp_path / "n.csv", naive)
    with pytest.raises(ParameterError) as err:
        events.load(tmp_path / "n.csv")
    assert "n.csv, row 1" in str(err.value) and "has no time zone" in str(err.value)
    assert "tz=" in str(err.value)
    # naive times are read in the case's zone (London is UTC+1 in June)
    case = ck.load_case("synthetic-example")
    summer = _frame(["2024-06-01 00:30", "2024-06-01 23:30"])
    _csv(tmp_path / "s.csv", summer)
    log = events.load(tmp_path / "s.csv", case=case)
    assert log.tz == "Europe/London" and log.counts("1D")["count"].tolist() == [2]
    assert log.times(origin="2024-06-01")[0] == pytest.approx(0.5 / 24)
    p = _parquet(tmp_path / "n.parquet", "SELECT TIMESTAMP '2024-03-04 10:00' AS time")
    with pytest.raises(ParameterError, match="n.parquet, row 1: .* has no time zone"):
        events.load(p)
    with pytest.raises(ParameterError, match="unknown time zone"):
        events.load(p, tz="Mars/Olympus")


def test_empty_logs(tmp_path):
    (tmp_path / "empty").mkdir()
    with pytest.raises(EventLogError, match="no event-log files found"):
        events.load(tmp_path / "empty")
    (tmp_path / "zero.csv").write_bytes(b"")
    with pytest.raises(EventLogError, match=r"zero.csv: the file is empty \(0 bytes\)"):
        events.load(tmp_path / "zero.csv")
    (tmp_path / "header.csv").write_text("time,id\n")
    with pytest.raises(EventLogError, match="header.csv: the log has no rows"):
        events.load(tmp_path / "header.csv", tz="UTC")
    with pytest.raises(EventLogError, match="no such file"):
        events.load(tmp_path / "nope.csv")


def test_unreadable_and_corrupt_files(tmp_path):
    good = _parquet(tmp_path / "good.parquet", "SELECT TIMESTAMPTZ '2024-03-04 10:00+00' AS time")
    bad = tmp_path / "corrupt.parquet"
    bad.write_bytes(good.read_bytes()[:-20] + b"garbage!")
    with pytest.raises(EventLogError) as err:
        events.load(tmp_path)
    assert str(err.value).startswith("corrupt.parquet: cannot read it as parquet")
    assert "Traceback" not in str(err.value)
    j = tmp_path / "broken.jsonl"
    j.write_text('{"time": "2024-03-04T10:00Z"}\n{"time": \n')
    with pytest.raises(EventLogError, match="broken.jsonl: cannot read it as jsonl"):
        events.load(j)
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    _csv(mixed / "a.csv")
    (mixed / "b.parquet").write_bytes(good.read_bytes())
    with pytest.raises(EventLogError, match="several formats"):
        events.load(mixed)


def test_duplicates_counted_and_dropped(tmp_path):
    df = _frame()
    dup = pd.concat([df, df.iloc[[1, 3]]], ignore_index=True)
    _csv(tmp_path / "d.csv", dup)
    by_id = events.load(tmp_path / "d.csv", id="id", tz="UTC")
    assert (by_id.n_rows, by_id.n_duplicates, by_id.n_events) == (7, 2, 5)
    assert "2 duplicates (same id) dropped" in str(by_id)
    kept = events.load(tmp_path / "d.csv", id="id", tz="UTC", drop_duplicates=False)
    assert (kept.n_duplicates, kept.n_events) == (2, 7)
    assert len(kept.times()) == 7 and len(by_id.times()) == 5
    by_key = events.load(tmp_path / "d.csv", author="author", parent="parent", tz="UTC")
    assert (by_key.n_duplicates, by_key.n_events) == (2, 5)
    # same time but another author is not a duplicate
    df2 = df.copy()
    df2.loc[1, "time"] = df2.loc[0, "time"]
    _csv(tmp_path / "e.csv", df2)
    assert events.load(tmp_path / "e.csv", author="author", tz="UTC").n_duplicates == 0
    unchecked = events.load(tmp_path / "d.csv", tz="UTC")
    assert unchecked.n_events == 7 and "not checked" in unchecked.settings["duplicates"]


def test_provenance_hash_stable_and_byte_sensitive(tmp_path):
    p = _csv(tmp_path / "a.csv")
    h1 = events.load(p, tz="UTC").content_hash
    assert events.load(p, tz="UTC").content_hash == h1
    copy = tmp_path / "copy"
    copy.mkdir()
    (copy / "renamed.csv").write_bytes(p.read_bytes())
    assert events.load(copy / "renamed.csv", tz="UTC").content_hash == h1
    data = bytearray(p.read_bytes())
    i = data.index(b"e3")
    data[i + 1] = ord("4")  # e3 -> e4: one byte, the times unchanged
    p.write_bytes(bytes(data))
    h2 = events.load(p, tz="UTC").content_hash
    assert h2 != h1 and h2.startswith("sha256:")


def test_reach_rows_and_provenance():
    case = ck.load_case("synthetic-example")
    log = events.load(events.EXAMPLE_LOG, id="id", author="author", parent="parent", case=case)
    rows = log.to_reach("posts_log", "1D")
    assert set(ck.cases.REACH_COLUMNS) == set(rows.columns)
    assert rows["kind"].eq("derived").all() and rows["method"].str.len().gt(0).all()
    assert rows["value"].is_monotonic_increasing and rows["value"].iloc[-1] == log.n_events
    per_day = log.to_reach("posts_log", "1D", cumulative=False)
    assert per_day["value"].sum() == log.n_events and per_day["time_precision"].eq("day").all()
    reach, prov = log.attach(case, "posts_log")
    assert len(reach) == len(case.reach) + len(rows)
    assert reach["time"].is_monotonic_increasing
    assert prov["id"] == rows["source"].iloc[0] == log.source_id
    assert prov["files"] == list(log.files) and prov["n_rows"] == log.n_rows
    assert prov["content_hash"] == log.content_hash and "read_csv(" in prov["query"]
    with pytest.raises(ParameterError, match="already has metric"):
        log.attach(case, "forum_posts")


def test_result_contract(tmp_path):
    log = events.load(events.EXAMPLE_LOG, id="id", tz="Europe/London")
    assert log.params["n_events"] == log.n_events
    assert log.table.equals(log.daily) and len(log.summary) == 7
    assert "Settings:" in str(log) and "content hash" in log.settings
    fig = log.plot("6h")
    assert len(fig.data) == 2 and sum(fig.data[0].y) == log.n_events
    d = log.to_dict()
    json.dumps(d)
    back = EventLog.from_dict(d)
    assert back.to_dict() == d
    assert back.counts("1h").equals(log.counts("1h"))  # re-queries the files
    assert np.array_equal(back.times(), log.times())
    assert "<table" in log._repr_html_()


def test_rebuilt_log_without_files(tmp_path):
    p = _csv(tmp_path / "a.csv")
    d = events.load(p, tz="UTC").to_dict()
    p.unlink()
    back = EventLog.from_dict(d)
    assert back.counts("1D")["count"].sum() == 5  # stored
    with pytest.raises(EventLogError, match="missing"):
        back.counts("1h")


def test_bad_arguments(tmp_path):
    p = _csv(tmp_path / "a.csv")
    with pytest.raises(ParameterError, match="period"):
        events.load(p, tz="UTC").counts("1M")
    with pytest.raises(ParameterError, match="unit"):
        events.load(p, unit="days")
    with pytest.raises(ParameterError, match="format"):
        events.load(p, format="xlsx")
    with pytest.raises(ParameterError, match="bad_rows"):
        events.load(p, bad_rows="ignore")
