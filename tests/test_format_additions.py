"""The case-format additions of issue #9: per-period ``period``, UTC offsets, ``less_than``,
``indicators.csv``, kinds of company responses, and :meth:`Case.with_reach`.

Each addition is read into the case, and each way of getting it wrong is reported with its
file, row, column, what is wrong and what would be right.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest

import casekit as ck
from casekit.cases.times import _parse_datetime
from casekit.exceptions import CaseValidationError, ParameterError

REACH_HEADER = (
    "time,time_precision,time_end,metric,value,unit,cumulative,qualifier,kind,method,"
    "source,quote,confidence,note"
)
INDICATORS_HEADER = (
    "time,time_precision,time_end,indicator,subject,value,unit,scale,qualifier,kind,method,"
    "source,quote,confidence,note"
)


def problems_of(path):
    return [str(p) for p in ck.validate(path)]


def add_period_column(case_dir, rows: list[str]):
    """reach.csv gains a ``period`` column (empty on its rows) and ``rows`` (written with it)."""
    path = case_dir / "reach.csv"
    lines = path.read_text(encoding="utf-8").splitlines()
    assert lines[0] == REACH_HEADER
    out = [REACH_HEADER.replace("cumulative,", "cumulative,period,")]
    for line in lines[1:]:
        f = line.split(",")
        out.append(",".join(f[:7] + [""] + f[7:]))
    path.write_text("\n".join(out + rows) + "\n", encoding="utf-8")


def per_period_row(time="2024-03-05", precision="day", period="1D", cumulative="false", value="40"):
    return (
        f"{time},{precision},,daily_mentions,{value},mentions,{cumulative},{period},exact,"
        "observed,,synthetic-counter,mentions that day,high,"
    )


def write_indicators(case_dir, rows: list[str]):
    (case_dir / "indicators.csv").write_text(
        "\n".join([INDICATORS_HEADER, *rows]) + "\n", encoding="utf-8"
    )


def indicator_row(value="-2.8", scale="-100..100", time="2024-03-05", **kw):
    f = {
        "time": time,
        "time_precision": "day",
        "time_end": "",
        "indicator": "brand_quality",
        "subject": "Kettle Co",
        "value": value,
        "unit": "BrandIndex points",
        "scale": scale,
        "qualifier": "exact",
        "kind": "reported",
        "method": "",
        "source": "synthetic-counter",
        "quote": "quality score -2.8",
        "confidence": "high",
        "note": "",
    }
    f.update(kw)
    return ",".join(f.values())


# -- period -------------------------------------------------------------------------------


def test_per_period_rows_get_period_days(case_dir):
    add_period_column(
        case_dir,
        [
            per_period_row("2024-03-05", period="1D", value="40"),
            per_period_row("2024-03-06T12:00", "hour", period="12h", value="30"),
            per_period_row("2024-03-08", period="1W", value="99"),
            per_period_row("2024-03-09", period="", value="7"),
        ],
    )
    case = ck.load_case(case_dir)
    s = case.series("daily_mentions")
    assert s["period_days"].iloc[:3].tolist() == [1.0, 0.5, 7.0]
    assert math.isnan(s["period_days"].iloc[3])  # not stated: left to the analysis
    assert case.reach.loc[case.reach["cumulative"], "period_days"].isna().all()
    assert case.series("video_views")["period_days"].isna().all()
    assert {"period", "period_days"} <= set(case.reach.columns)


def test_folder_without_period_column_still_loads(case_dir):
    case = ck.load_case(case_dir)
    assert case.reach["period_days"].isna().all() and case.reach["period"].eq("").all()


@pytest.mark.parametrize(
    ("period", "cumulative", "message"),
    [
        ("0D", "false", "period '0D' is zero; a count covers a positive span of time"),
        ("-1D", "false", "period '-1D' is negative; a count covers a positive span of time"),
        ("1 day", "false", "unknown unit 'day' in period '1 day'"),
        ("3", "false", "period '3' has no unit"),
        ("1.D", "false", "cannot read '1.D' as a period"),
        ("1D", "true", "period '1D' on a running total (cumulative true)"),
    ],
)
def test_bad_period_names_row_column_and_what_is_right(case_dir, period, cumulative, message):
    add_period_column(case_dir, [per_period_row(period=period, cumulative=cumulative)])
    (problem,) = ck.validate(case_dir)
    assert (problem.file, problem.row, problem.column) == ("reach.csv", 51, "period")
    assert problem.message == message
    if cumulative == "true":
        assert "an empty period for a running total" in problem.expected
    else:
        assert problem.expected.startswith("a positive number and a unit: min, h, D")


# -- UTC offsets ------------------------------------------------------------------------------


def test_offset_times_are_converted_to_the_case_zone(case_dir):
    # Europe/London is on GMT in early March 2024: 10:09+07:00 is 03:09 local.
    text = (case_dir / "reach.csv").read_text(encoding="utf-8")
    text = text.replace("2024-03-04T10:09,hour", "2024-03-04T10:09+07:00,hour", 1)
    text = text.replace("2024-03-04T16:02,hour", "2024-03-04T16:02Z,hour", 1)
    (case_dir / "reach.csv").write_text(text, encoding="utf-8")
    timeline = (case_dir / "timeline.csv").read_text(encoding="utf-8")
    timeline = timeline.replace(
        "2024-03-08,day,,company", "2024-03-08T09:30+01:00,hour,,company", 1
    )
    (case_dir / "timeline.csv").write_text(timeline, encoding="utf-8")
    case = ck.load_case(case_dir)
    times = case.series("video_views")["time"]
    assert pd.Timestamp("2024-03-04 03:09") in set(times)
    assert pd.Timestamp("2024-03-04 16:02") in set(times)
    assert times.dt.tz is None
    resp = case.context.responses
    assert pd.Timestamp("2024-03-08 08:30") in set(resp["date"])


def test_offset_in_summer_time_and_in_key_dates(case_dir):
    yaml = (case_dir / "case.yaml").read_text(encoding="utf-8")
    assert "date: 2024-03-08" in yaml
    # a clock time is finer than the key date's day precision, which is allowed
    yaml = yaml.replace("date: 2024-03-08", "date: 2024-03-08T12:00+00:00", 1)
    (case_dir / "case.yaml").write_text(yaml, encoding="utf-8")
    assert ck.load_case(case_dir).key_date("first_response") == pd.Timestamp("2024-03-08 12:00")
    # BST: 13:54+01:00 is 13:54 in London; 13:54Z is 14:54
    assert _parse_datetime("2010-04-09T13:54+01:00", "Europe/London")[0].hour == 13
    assert _parse_datetime("2010-04-09T13:54Z", "Europe/London")[0].hour == 14
    assert _parse_datetime("2010-04-09T13:54+0100", "Europe/London")[0].hour == 13


@pytest.mark.parametrize(
    ("value", "message", "expected"),
    [
        (
            "2024-03-05+01:00",
            "'2024-03-05+01:00' has a UTC offset but no clock time",
            "an offset only after a clock time (2013-02-13T22:45+01:00), or the date alone",
        ),
        (
            "2024-03-05T10:00+24:00",
            "'2024-03-05T10:00+24:00' has a UTC offset beyond ±23:59",
            "a UTC offset such as +01:00, -07:00 or Z, after a clock time",
        ),
        (
            "2024-03-05T10:00 PDT",
            "cannot read 'PDT' in '2024-03-05T10:00 PDT' as a UTC offset",
            "a UTC offset such as +01:00, -07:00 or Z, after a clock time",
        ),
    ],
)
def test_bad_offsets_are_named(case_dir, value, message, expected):
    path = case_dir / "costs.csv"
    text = path.read_text(encoding="utf-8")
    lines = text.splitlines()
    f = lines[1].split(",")
    f[4], f[5] = value, "hour"
    lines[1] = ",".join(f)
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    (problem,) = ck.validate(case_dir)
    assert (problem.file, problem.row, problem.column) == ("costs.csv", 2, "date")
    assert (problem.message, problem.expected) == (message, expected)


# -- less_than ----------------------------------------------------------------------------


def test_less_than_qualifier(case_dir):
    text = (case_dir / "reach.csv").read_text(encoding="utf-8")
    (case_dir / "reach.csv").write_text(
        text.replace(",true,exact,observed,", ",true,less_than,observed,", 1), encoding="utf-8"
    )
    case = ck.load_case(case_dir)
    assert "less_than" in ck.cases.QUALIFIERS
    assert (case.reach["qualifier"] == "less_than").sum() == 1
    text = (case_dir / "reach.csv").read_text(encoding="utf-8")
    (case_dir / "reach.csv").write_text(
        text.replace(",less_than,", ",fewer_than,", 1), encoding="utf-8"
    )
    (problem,) = ck.validate(case_dir)
    assert problem.column == "qualifier" and problem.expected.endswith("up_to | less_than")


# -- indicators.csv -----------------------------------------------------------------------


def test_indicators_absent_is_an_empty_table(case_dir):
    ind = ck.load_case(case_dir).indicators
    assert ind.empty and ind.columns.tolist() == list(ck.cases.INDICATOR_FRAME_COLUMNS)
    assert ind["value"].dtype == float


def test_indicators_read_with_negative_values(case_dir):
    write_indicators(
        case_dir,
        [
            indicator_row("5", time="2024-03-04"),
            indicator_row("-2.8"),
            indicator_row("65", scale="0..100", indicator="share_less_likely"),
            indicator_row("0.3", scale="share", indicator="share_negative"),
            indicator_row("12", scale="", unit="minutes", indicator="viewing_time"),
        ],
    )
    case = ck.load_case(case_dir)
    ind = case.indicators
    assert ind["value"].tolist() == [5.0, -2.8, 65.0, 0.3, 12.0]
    assert ind.loc[1, "scale_min"] == -100 and ind.loc[3, "scale_max"] == 1
    assert np.isnan(ind.loc[4, "scale_min"])
    assert ind.loc[0, "time"] == pd.Timestamp("2024-03-04")
    assert case.to_dict()["n_indicators"] == 5
    ind.loc[0, "value"] = 99  # a copy: the case does not change
    assert case.indicators.loc[0, "value"] == 5


def test_indicator_problems_all_at_once(case_dir):
    write_indicators(
        case_dir,
        [
            indicator_row("150"),
            indicator_row("+3"),
            indicator_row("1", scale="100..-100"),
            indicator_row("1", indicator="Brand Quality"),
            indicator_row("1", source="nobody"),
            indicator_row("1", quote=""),
            indicator_row("1", qualifier="roughly"),
            indicator_row("1", time="2024-13-01"),
        ],
    )
    got = [(p.row, p.column, p.message) for p in ck.validate(case_dir)]
    assert got == [
        (2, "value", "value 150 is outside its scale -100..100"),
        (3, "value", "'+3' is not a number"),
        (4, "scale", "cannot read '100..-100' as a scale"),
        (5, "indicator", "indicator 'Brand Quality' is not snake_case"),
        (6, "source", "unknown source id 'nobody'"),
        (7, "quote", "the source's words for this figure are missing"),
        (8, "qualifier", "unknown qualifier 'roughly'"),
        (9, "time", "'2024-13-01' is not a date in the calendar (no such day or time)"),
    ]
    assert all(p.file == "indicators.csv" and p.expected for p in ck.validate(case_dir))


def test_indicators_file_is_checked_like_the_others(case_dir):
    (case_dir / "indicators.csv").write_text("time,indicator\n", encoding="utf-8")
    problems = ck.validate(case_dir)
    assert {p.column for p in problems} >= {"time_precision", "value", "unit", "source"}
    assert all(p.file == "indicators.csv" and p.row == 1 for p in problems)
    (case_dir / "indicators.csv").unlink()
    (case_dir / "indicators.csv").mkdir()
    (problem,) = ck.validate(case_dir)
    assert problem.message == "is a folder, not a file"


def test_editing_indicators_invalidates_the_cache(case_dir):
    assert ck.load_case(case_dir).indicators.empty
    write_indicators(case_dir, [indicator_row("-2.8")])
    assert len(ck.load_case(case_dir).indicators) == 1


# -- kinds of company responses ------------------------------------------------------------


def test_response_kinds_are_all_in_the_context(case_dir):
    path = case_dir / "timeline.csv"
    text = path.read_text(encoding="utf-8")
    text = text.replace("2024-03-08,day,,company,response", "2024-03-08,day,,company,apology", 1)
    text += (
        "2024-03-07,day,,company,statement,The company says it is looking into it,"
        "synthetic-timeline,,high,\n"
        "2024-03-12,day,,company,concession,The company changes its kettle supplier,"
        "synthetic-timeline,,high,\n"
    )
    path.write_text(text, encoding="utf-8")
    resp = ck.load_case(case_dir).context.responses
    assert resp["kind"].tolist() == ["statement", "apology", "offer", "concession"]
    assert set(ck.cases.RESPONSE_KINDS) >= {"statement", "apology", "concession", "resolution"}
    assert set(ck.cases.RESPONSE_KINDS) <= set(ck.cases.EVENT_KINDS)


def test_response_kind_needs_the_company(case_dir):
    path = case_dir / "timeline.csv"
    text = path.read_text(encoding="utf-8")
    path.write_text(text.replace(",media,coverage,", ",media,apology,", 1), encoding="utf-8")
    (problem,) = ck.validate(case_dir)
    assert (problem.file, problem.row, problem.column) == ("timeline.csv", 8, "kind")
    assert problem.message == (
        "kind 'apology' names a kind of company response, but the actor is 'media'"
    )
    assert problem.expected.startswith("actor 'company'")


# -- Case.with_reach ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def attached():
    case = ck.load_case("synthetic-example")
    log = ck.events.load(ck.events.EXAMPLE_LOG, time="time", id="id", tz="Europe/London")
    rows, prov = log.attach(case, metric="posts_log")
    return case, log, rows, prov


def test_with_reach_adds_event_log_rows_and_their_source(attached):
    case, log, rows, prov = attached
    bigger = case.with_reach(rows, prov)
    assert len(bigger.reach) == len(rows)  # attach gives the case's rows too: not added twice
    assert "posts_log" in bigger.metrics and "posts_log" not in case.metrics
    s = bigger.series("posts_log", kinds=["derived"])
    assert s["value"].iloc[-1] == log.n_events and s["value"].is_monotonic_increasing
    assert bigger.cite(prov["id"])["publisher"].tolist() == ["casekit.events.load"]
    assert len(bigger.sources) == len(case.sources) + 1
    assert bigger.id == case.id and bigger.context.responses.equals(case.context.responses)


def test_with_reach_per_period_rows_and_period_days(attached):
    case, log, _rows, prov = attached
    daily = log.to_reach("posts_daily", "1D", cumulative=False)
    daily["period_days"] = 1.0
    s = case.with_reach(daily, prov).series("posts_daily", kinds=["derived"])
    assert s["period_days"].eq(1.0).all() and s["value"].sum() == log.n_events


def test_with_reach_validates_every_row(attached):
    case, log, _rows, prov = attached
    daily = log.to_reach("posts_daily", "1D", cumulative=False)
    daily.loc[1, "value"] = -3
    daily.loc[2, "source"] = "not-declared"
    daily.loc[3, "qualifier"] = "roughly"
    daily["period"] = ""
    daily.loc[4, "period"] = "0D"
    with pytest.raises(CaseValidationError) as err:
        case.with_reach(daily, prov)
    got = [(p.file, p.row, p.column) for p in err.value.problems]
    assert got == [
        ("rows", 2, "value"),
        ("rows", 3, "source"),
        ("rows", 4, "qualifier"),
        ("rows", 5, "period"),
    ]


def test_with_reach_source_checks(attached):
    case, log, _rows, prov = attached
    rows = log.to_reach("posts_log", "1D")
    with pytest.raises(CaseValidationError) as err:
        case.with_reach(rows, "no-such-source")
    assert [p.column for p in err.value.problems][0] == "id"
    with pytest.raises(CaseValidationError) as err:
        case.with_reach(rows, {"id": prov["id"], "title": "", "publisher": "x"})
    assert any(p.column == "title" for p in err.value.problems)
    with pytest.raises(CaseValidationError) as err:
        case.with_reach(rows, {"id": "synthetic-counter", "title": "Other", "publisher": "x"})
    assert "declared already" in err.value.problems[0].message
    with pytest.raises(ParameterError):
        case.with_reach("not rows", prov)
    # a source the case declares may be named by id
    named = case.with_reach(rows.assign(source="synthetic-counter"), "synthetic-counter")
    assert len(named.sources) == len(case.sources)


def test_with_reach_catches_a_falling_counter_across_rows(attached):
    case = attached[0]
    last = case.series("video_views").iloc[-1]
    row = {
        "time": last["time"] + pd.Timedelta(hours=1),
        "time_precision": "hour",
        "metric": "video_views",
        "value": last["value"] - 1,
        "unit": "views",
        "cumulative": True,
        "qualifier": "exact",
        "kind": "observed",
        "source": last["source"],
        "quote": "a lower reading",
        "confidence": "high",
    }
    with pytest.raises(CaseValidationError) as err:
        case.with_reach([row], last["source"])
    (problem,) = err.value.problems
    assert problem.column == "value" and "falls from" in problem.message


# -- the bundled cases use the additions ------------------------------------------------------


def test_new_cases_use_the_additions():
    kitkat = ck.load_case("nestle-kitkat-2010")
    r = kitkat.reach.set_index("metric")
    assert r.loc["youtube_views_original_upload", "qualifier"] == "less_than"
    assert r.loc["facebook_complaints_nestle_page", "period_days"] == 1.0
    assert "apology" in set(kitkat.context.responses["kind"])
    dominos = ck.load_case("dominos-2009")
    q = dominos.indicators.query("indicator == 'yougov_brandindex_quality'")
    assert q["value"].tolist() == [5.0, -2.8]
    assert (
        q["quote"]
        .eq("the separately measured quality perception score dropped from 5 to a -2.8")
        .all()
    )
    amazon = ck.load_case("amazon-germany-2013")
    assert amazon.key_date("going_public") == pd.Timestamp("2013-02-13 22:45")
    assert amazon.context.responses["kind"].tolist() == [
        "statement",
        "statement",
        "concession",
        "concession",
    ]
    assert (amazon.indicators["value"] < 0).any()
