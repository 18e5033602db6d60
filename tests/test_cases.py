"""The loader and validator: one clear message per malformed input, nothing executed."""

from __future__ import annotations

import dataclasses
import os

import pandas as pd
import pytest

import casekit as ck
from casekit.cases import KEY_DATES, MAX_FILE_BYTES


def problems_of(path):
    return [str(p) for p in ck.validate(path)]


def replace_line(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text, f"fixture text not found: {old!r}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


# --- a valid case loads, immutably ---------------------------------------------------------


def test_synthetic_case_loads_with_tidy_tables(case_dir):
    case = ck.load_case(case_dir)
    assert case.id == "synthetic-example" and case.synthetic
    assert set(case.key_dates) == set(KEY_DATES)
    assert case.origin == pd.Timestamp("2024-03-04")
    assert case.key_date("first_response") == pd.Timestamp("2024-03-08")
    views = case.series("video_views")
    assert views["time"].is_monotonic_increasing
    assert views["t"].iloc[0] == pytest.approx(10 / 24 + 9 / 1440)  # 2024-03-04T10:09
    assert set(views["source"]) == {"synthetic-counter", "synthetic-press"}
    assert case.series("video_views", kinds=("observed",))["source"].eq("synthetic-counter").all()
    assert case.metrics[0] == "video_views"
    assert pd.api.types.is_float_dtype(case.reach["value"])
    assert case.cite("synthetic-press;synthetic-counter")["id"].tolist() == [
        "synthetic-counter",
        "synthetic-press",
    ]


def test_case_is_immutable(case_dir):
    case = ck.load_case(case_dir)
    with pytest.raises(dataclasses.FrozenInstanceError):
        case.title = "x"
    with pytest.raises(TypeError):
        case.key_dates["incident"] = None
    table = case.reach
    table.loc[0, "value"] = -1.0
    assert case.reach.loc[0, "value"] != -1.0


def test_unknown_metric_names_the_known_ones(case_dir):
    with pytest.raises(KeyError, match="video_views"):
        ck.load_case(case_dir).series("tiktok_views")


def test_to_dict_is_json_ready(case_dir):
    import json

    d = json.loads(json.dumps(ck.load_case(case_dir).to_dict()))
    assert d["key_dates"]["going_public"]["date"].startswith("2024-03-04")
    assert d["n_reach"] == 49


def test_load_by_id_from_any_directory(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert ck.load_case("united-breaks-guitars").company == "United Airlines"


def test_extra_data_dir_via_environment(case_dir, tmp_path, monkeypatch):
    other = tmp_path / "mine"
    other.mkdir()
    (case_dir).rename(other / "my-own-case")
    replace_line(other / "my-own-case" / "case.yaml", "id: synthetic-example", "id: my-own-case")
    monkeypatch.setenv("CASEKIT_DATA", str(other))
    assert "my-own-case" in set(ck.list_cases()["id"])
    assert ck.load_case("my-own-case").id == "my-own-case"


def test_list_cases_includes_seed_cases_and_synthetic():
    cat = ck.list_cases()
    assert {
        "synthetic-example",
        "united-breaks-guitars",
        "range-rover-colchester",
        "werder-bremen-wiesenhof",
    } <= set(cat["id"])
    assert cat.loc[cat["id"] == "synthetic-example", "synthetic"].item() is True
    assert cat["valid"].all()


def test_list_cases_shows_invalid_folder_instead_of_crashing(case_dir, tmp_path):
    (case_dir / "reach.csv").write_text("", encoding="utf-8")
    cat = ck.list_cases(extra_dirs=[tmp_path])
    row = cat[cat["path"] == str(case_dir)]
    # the bundled synthetic example has the same id and wins; list the copy by path instead
    if row.empty:
        renamed = tmp_path / "broken-copy"
        case_dir.rename(renamed)
        replace_line(renamed / "case.yaml", "id: synthetic-example", "id: broken-copy")
        cat = ck.list_cases(extra_dirs=[tmp_path])
        row = cat[cat["id"] == "broken-copy"]
    assert row["valid"].item() is False and row["problems"].item() >= 1


# --- malformed input: one clear message each --------------------------------------------------


def test_missing_file(case_dir):
    (case_dir / "costs.csv").unlink()
    assert problems_of(case_dir) == [
        f"costs.csv: file is missing (expected a costs.csv in {case_dir} "
        "(see datasets/README.md, or run `casekit new`))"
    ]


def test_missing_column(case_dir):
    replace_line(case_dir / "timeline.csv", "date,date_precision,", "when,date_precision,")
    msgs = problems_of(case_dir)
    assert any("timeline.csv, line 1, column 'date': required column is missing" in m for m in msgs)
    assert any("column 'when': unknown column" in m for m in msgs)


def test_unparseable_date(case_dir):
    replace_line(case_dir / "timeline.csv", "2024-02-09,day", "9th Feb 2024,day")
    assert problems_of(case_dir) == [
        "timeline.csv, line 4, column 'date': cannot read '9th Feb 2024' as a date "
        "(expected ISO 8601: YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDTHH:MM)"
    ]


def test_precision_finer_than_the_date(case_dir):
    replace_line(case_dir / "timeline.csv", "2024-02-09,day", "2024-02,day")
    assert problems_of(case_dir) == [
        "timeline.csv, line 4, column 'date_precision': precision 'day' but '2024-02' gives "
        "only a month (expected precision 'month', or a more exact date)"
    ]


def test_month_precision_is_allowed(case_dir):
    replace_line(case_dir / "timeline.csv", "2024-02-09,day", "2024-02,month")
    assert problems_of(case_dir) == []


def test_range_needs_an_end(case_dir):
    replace_line(case_dir / "timeline.csv", "2024-02-09,day,", "2024-02-09,range,")
    assert problems_of(case_dir) == [
        "timeline.csv, line 4, column 'date_end': a range needs an end date (expected an ISO date)"
    ]


@pytest.mark.parametrize(
    "value, message",
    [
        ("-5", "negative count -5 (expected a count of zero or more)"),
        ("1,200", "'1,200' is not a number"),
        ("lots", "'lots' is not a number"),
        ("nan", "'nan' is not a number"),
    ],
)
def test_bad_counts(case_dir, value, message):
    text = (case_dir / "reach.csv").read_text(encoding="utf-8").splitlines()
    fields = text[5].split(",")
    fields[4] = f'"{value}"' if "," in value else value
    text[5] = ",".join(fields)
    (case_dir / "reach.csv").write_text("\n".join(text) + "\n", encoding="utf-8")
    msgs = problems_of(case_dir)
    assert len(msgs) == 1
    assert msgs[0].startswith("reach.csv, line 6, column 'value': ")
    assert message in msgs[0]


def test_cumulative_series_that_falls(case_dir):
    lines = (case_dir / "reach.csv").read_text(encoding="utf-8").splitlines()
    fields = lines[10].split(",")
    fields[4] = "5"
    lines[10] = ",".join(fields)
    (case_dir / "reach.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")
    msgs = problems_of(case_dir)
    assert len(msgs) == 1
    assert msgs[0].startswith(
        "reach.csv, line 11, column 'value': cumulative video_views from "
        "synthetic-counter falls from "
    )
    assert "(line 10) to 5" in msgs[0]


def test_falling_figures_from_different_sources_are_kept(case_dir):
    # the press source is 8 % above the counter: a conflict, not an error
    case = ck.load_case(case_dir)
    day1 = case.series("video_views")
    assert day1["source"].nunique() == 2


def test_unknown_source_id(case_dir):
    replace_line(
        case_dir / "costs.csv",
        ",synthetic-press,cost the company",
        ",daily-rumour,cost the company",
    )
    assert problems_of(case_dir) == [
        "costs.csv, line 5, column 'source': unknown source id 'daily-rumour' "
        "(expected an id declared under `sources:` in case.yaml)"
    ]


def test_duplicate_source_id(case_dir):
    replace_line(case_dir / "case.yaml", "  - id: synthetic-press", "  - id: synthetic-counter")
    msgs = problems_of(case_dir)
    assert (
        "case.yaml, column 'sources[2].id': duplicate source id 'synthetic-counter' "
        "(expected each source declared once)" in msgs
    )


def test_duplicate_yaml_key(case_dir):
    replace_line(case_dir / "case.yaml", "currency: GBP", "currency: GBP\ncurrency: EUR")
    msgs = problems_of(case_dir)
    assert len(msgs) == 1 and "duplicate key 'currency'" in msgs[0]


def test_case_id_must_match_folder(case_dir):
    replace_line(case_dir / "case.yaml", "id: synthetic-example", "id: ../../etc")
    msgs = problems_of(case_dir)
    assert msgs == [
        "case.yaml, column 'id': '../../etc' is not a valid case id "
        "(expected lower-case words joined by '-', e.g. acme-broken-kettle)"
    ]


@pytest.mark.parametrize("ref", ["../united-breaks-guitars", "..", "united/../../x", "Bad Id"])
def test_case_reference_that_leaves_its_folder(ref, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ck.CaseNotFoundError):
        ck.load_case(ref)


def test_yaml_that_builds_python_objects_is_refused_and_not_run(case_dir, tmp_path):
    marker = tmp_path / "pwned"
    replace_line(
        case_dir / "case.yaml",
        "title:",
        f"evil: !!python/object/apply:os.system ['touch {marker}']\ntitle:",
    )
    msgs = problems_of(case_dir)
    assert not marker.exists()
    assert len(msgs) == 1
    assert "would build a Python object" in msgs[0] and msgs[0].startswith("case.yaml, line ")


@pytest.mark.parametrize("name", ["case.yaml", "timeline.csv", "reach.csv", "costs.csv"])
def test_empty_file(case_dir, name):
    (case_dir / name).write_text("  \n", encoding="utf-8")
    assert f"{name}: file is empty" in problems_of(case_dir)[0]


def test_header_only_csv_is_valid(case_dir):
    (case_dir / "costs.csv").write_text(
        (case_dir / "costs.csv").read_text(encoding="utf-8").splitlines()[0] + "\n"
    )
    assert ck.load_case(case_dir).costs.empty


def test_utf8_bom_is_tolerated(case_dir):
    # Excel's "CSV UTF-8" starts files with a byte-order mark; without handling it the first
    # column would be called "\ufefftime" and every row would look broken.
    path = case_dir / "reach.csv"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    assert len(ck.load_case(case_dir).reach) == 49


def test_invalid_utf8(case_dir):
    path = case_dir / "timeline.csv"
    raw = path.read_bytes().replace(b"kettle stops", b"kettle \xe9stops")
    path.write_bytes(raw)
    offset = raw.index(b"\xe9")
    assert problems_of(case_dir) == [
        f"timeline.csv, line 2: byte {offset} is not valid UTF-8 (expected the file saved as UTF-8)"
    ]


def test_very_large_file_is_refused_before_reading(case_dir):
    path = case_dir / "reach.csv"
    with open(path, "ab") as fh:
        fh.truncate(MAX_FILE_BYTES + 1)
    msgs = problems_of(case_dir)
    assert msgs == [
        "reach.csv: file is 5.2 MB, over the 5 MB limit "
        "(expected a hand-curated case file (is this the right file?))"
    ]


def test_ragged_row(case_dir):
    with open(case_dir / "timeline.csv", "a", encoding="utf-8") as fh:
        fh.write("2024-03-20,day,,company,other,too few fields\n")
    msgs = problems_of(case_dir)
    assert msgs == [
        "timeline.csv, line 12: row has 6 fields, header has 10 "
        "(expected one field per column (quote fields that contain commas))"
    ]


def test_unknown_vocabulary(case_dir):
    replace_line(case_dir / "timeline.csv", ",company,refusal,", ",the-company,refusal,")
    replace_line(case_dir / "reach.csv", ",views,true,exact,observed", ",views,yes,exact,seen")
    msgs = problems_of(case_dir)
    assert any("column 'actor': unknown actor 'the-company'" in m for m in msgs)
    assert any("column 'cumulative': 'yes' is not true/false" in m for m in msgs)
    assert any("column 'kind': unknown kind 'seen'" in m for m in msgs)


def test_derived_rows_need_a_method(case_dir):
    replace_line(
        case_dir / "costs.csv",
        "exact,reported,,synthetic-timeline,a replacement",
        "exact,derived,,synthetic-timeline,a replacement",
    )
    assert problems_of(case_dir) == [
        "costs.csv, line 2, column 'method': a derived figure must say how it was derived "
        "(expected the computation, e.g. 'close price x shares outstanding')"
    ]


def test_all_problems_reported_in_one_pass(case_dir):
    replace_line(case_dir / "timeline.csv", "2024-02-09,day", "Feb 9,day")
    replace_line(
        case_dir / "costs.csv", ",synthetic-press,cost the company", ",nobody,cost the company"
    )
    (case_dir / "case.yaml").write_text(
        (case_dir / "case.yaml").read_text(encoding="utf-8").replace("company: Example", "x: y\n#"),
        encoding="utf-8",
    )
    with pytest.raises(ck.CaseValidationError) as info:
        ck.load_case(case_dir)
    files = {p.file for p in info.value.problems}
    assert files == {"case.yaml", "timeline.csv", "costs.csv"}
    assert "3 problem(s)" not in str(info.value) or len(info.value.problems) == 3
    assert str(case_dir) in str(info.value)


def test_unknown_key_date_and_missing_key_date(case_dir):
    replace_line(case_dir / "case.yaml", "  resolution:", "  settled:")
    msgs = problems_of(case_dir)
    assert (
        "case.yaml, column 'key_dates.resolution': key date is missing (expected a mapping, "
        "or null when the sources do not say)" in msgs
    )
    assert any("key_dates.settled': unknown key date" in m for m in msgs)


def test_unknown_key_dates_stay_unknown(case_dir):
    replace_line(
        case_dir / "case.yaml",
        "  resolution: {date: 2024-03-15, precision: day, source: synthetic-timeline, "
        "confidence: high}",
        "  resolution: null",
    )
    case = ck.load_case(case_dir)
    assert case.key_date("resolution") is None and case.key_dates["resolution"] is None


# --- scaffolding --------------------------------------------------------------------------------


def fill_scaffold(path):
    """Fill in the placeholders `casekit new` leaves in case.yaml."""
    replace_line(path / "case.yaml", '"TODO: the company the complaint was about"', "Acme Ltd")
    replace_line(path / "case.yaml", 'country: "TODO"', "country: GB")
    replace_line(path / "case.yaml", "  TODO: one paragraph", "  A kettle broke; one paragraph")


def test_new_case_fails_validation_until_filled_and_refuses_to_overwrite(tmp_path):
    path = ck.new_case("acme-kettle", tmp_path)
    fill_in = "not filled in: still the placeholder of `casekit new`"
    assert problems_of(path) == [
        f"case.yaml, line 5, column 'company': {fill_in} "
        "(expected the company the complaint was about)",
        f"case.yaml, line 7, column 'country': {fill_in} (expected the ISO 3166-1 alpha-2 "
        "code of the company's market in the story, e.g. US, GB)",
        f"case.yaml, line 13, column 'summary': {fill_in} (expected one paragraph in your own "
        "words: what happened, who complained, how it went public)",
    ]
    fill_scaffold(path)
    assert ck.validate(path) == []
    assert (path / "README.md").read_text().count("casekit validate") == 1
    with pytest.raises(FileExistsError):
        ck.new_case("acme-kettle", tmp_path)
    with pytest.raises(ck.CaseNotFoundError, match="not a valid case id"):
        ck.new_case("../escape", tmp_path)
    assert not (tmp_path.parent / "escape").exists()


def test_path_is_a_directory_check(tmp_path):
    with pytest.raises(ck.CaseNotFoundError, match="no such case folder"):
        ck.load_case(os.fspath(tmp_path / "nope") + "/")


def test_analysis_block_is_validated_and_frozen(case_dir):
    replace_line(
        case_dir / "case.yaml",
        "key_dates:",
        "analysis:\n  metric: video_views\n  loss: log\n"
        "  waves: [[null, 2024-03-10]]\n  market: {ticker: KTL, peers: [AAA]}\n"
        "key_dates:",
    )
    case = ck.load_case(case_dir)
    assert case.analysis["loss"] == "log" and case.analysis["market"]["peers"] == ("AAA",)
    assert case.analysis["waves"] == ((None, "2024-03-10"),)
    with pytest.raises(TypeError):
        case.analysis["loss"] = "ols"
    assert case.to_dict()["analysis"]["market"] == {"ticker": "KTL", "peers": ["AAA"]}


def test_analysis_block_errors(case_dir):
    replace_line(
        case_dir / "case.yaml",
        "key_dates:",
        "analysis:\n  metric: tiktok_views\n  loss: squared\n  colour: red\nkey_dates:",
    )
    msgs = problems_of(case_dir)
    assert (
        "case.yaml, column 'analysis.loss': unknown loss 'squared' "
        "(expected ols | log | robust | robust_log)" in msgs
    )
    assert (
        "case.yaml, column 'analysis.colour': unknown analysis key "
        "(expected metric, loss, curves, waves, market, classroom)" in msgs
    )
    assert any(
        "analysis.metric': metric 'tiktok_views' has no rows in reach.csv" in m for m in msgs
    )


def test_source_list_shows_every_source_in_full():
    case = ck.load_case("united-breaks-guitars")
    text = str(case.source_list())
    assert len(text.splitlines()) == len(case.sources) > 50
    assert (
        "1. [carroll-account] United Breaks Guitars (songwriting story). Dave Carroll. "
        "https://davecarrollmusic.com/songwriting/united-breaks-guitars" in text
    )
    assert ", nan." not in text and "(nan)" not in text and " nan " not in text
    html = case.source_list()._repr_html_()
    assert html.count("<li>") == len(case.sources)


def test_unchanged_folder_is_not_read_twice_but_a_changed_one_is(case_dir):
    first = ck.load_case(case_dir)
    assert ck.load_case(case_dir) is first
    replace_line(case_dir / "case.yaml", "currency: GBP", "currency: EUR")
    assert ck.load_case(case_dir).currency == "EUR"


def test_analysis_classroom_flag_is_validated(case_dir):
    replace_line(
        case_dir / "case.yaml", "key_dates:", "analysis:\n  classroom: yes please\nkey_dates:"
    )
    assert problems_of(case_dir) == [
        "case.yaml, column 'analysis.classroom': 'yes please' is not true/false "
        "(expected true for the case the classroom notebook teaches with, else false)"
    ]
    replace_line(case_dir / "case.yaml", "classroom: yes please", "classroom: true")
    case = ck.load_case(case_dir)
    assert case.analysis["classroom"] is True
    assert case.to_dict()["analysis"] == {"classroom": True}
    assert "classroom" not in ck.load_case("synthetic-example").analysis


@pytest.mark.parametrize(
    "event_date, stored", [("going_public", "going_public"), ("2024-03-05", "2024-03-05")]
)
def test_market_event_date_is_a_key_date_or_a_day(case_dir, event_date, stored):
    replace_line(
        case_dir / "case.yaml",
        "key_dates:",
        f"analysis:\n  market: {{ticker: KTL, event_date: {event_date}}}\nkey_dates:",
    )
    assert ck.load_case(case_dir).analysis["market"]["event_date"] == stored


def test_market_event_date_errors(case_dir):
    replace_line(
        case_dir / "case.yaml",
        "key_dates:",
        "analysis:\n  market: {ticker: KTL, event_date: 2024-03}\nkey_dates:",
    )
    assert problems_of(case_dir) == [
        "case.yaml, column 'analysis.market.event_date': '2024-03' is neither a key date nor a "
        "day (expected incident | first_complaint | going_public | first_response | resolution, "
        "or an ISO date such as 2024-03-04)"
    ]


# --- claims -------------------------------------------------------------------------------------

CLAIM = """claims:
  - id: press-share-fall
    claim: The video cost the kettle maker 5 % of its share value.
    by: Simulated Press
    date: 2024-03-09
    source: synthetic-press
    quote: "shares slid 5 per cent, wiping 2.5 million off the company's value"
    confidence: medium
    price_change_pct: -5
    value_change: -2500000
    window: [0, 2]
"""


def add_claims(case_dir, text):
    replace_line(case_dir / "case.yaml", "sources:\n", text + "sources:\n")


def test_claims_table(case_dir):
    add_claims(
        case_dir,
        CLAIM + "  - id: forum-boycott\n    claim: A forum called for a boycott.\n"
        "    by: a forum user\n    source: synthetic-counter;synthetic-timeline\n"
        "    quote: boycott them\n    confidence: low\n    currency: EUR\n",
    )
    case = ck.load_case(case_dir)
    claims = case.claims
    assert (
        claims.columns.tolist()
        == list(ck.cases.CLAIM_COLUMNS)
        == [
            "id",
            "claim",
            "by",
            "date",
            "date_precision",
            "source",
            "quote",
            "confidence",
            "price_change_pct",
            "value_change",
            "currency",
            "window",
            "note",
            "line",
        ]
    )
    first, second = claims.to_dict("records")
    assert first["id"] == "press-share-fall" and first["by"] == "Simulated Press"
    assert first["date"] == pd.Timestamp("2024-03-09") and first["date_precision"] == "day"
    assert first["price_change_pct"] == -5.0 and first["value_change"] == -2.5e6
    assert first["currency"] == "GBP"  # the case's currency when the claim gives none
    assert first["window"] == (0, 2) and first["line"] == 25
    assert pd.isna(second["date"]) and pd.isna(second["price_change_pct"])
    assert second["window"] is None and second["currency"] == "EUR"
    assert second["source"] == "synthetic-counter;synthetic-timeline"
    claims.loc[0, "quote"] = "changed"
    assert case.claims.loc[0, "quote"] != "changed"
    d = case.to_dict()["claims"]
    assert d[0]["window"] == [0, 2] and d[0]["date"].startswith("2024-03-09")
    assert d[1]["price_change_pct"] is None and "line" not in d[1]
    import json

    assert json.loads(json.dumps(d)) == d


def test_no_claims_is_an_empty_table_with_the_columns(case_dir):
    claims = ck.load_case(case_dir).claims
    assert claims.empty and claims.columns.tolist() == list(ck.cases.CLAIM_COLUMNS)
    assert ck.load_case(case_dir).to_dict()["claims"] == []


def test_claim_errors_name_file_line_and_column(case_dir):
    bad = (
        CLAIM.replace('    quote: "shares slid', '    quoted: "shares slid')
        .replace("source: synthetic-press", "source: synthetic-press;daily-rumour")
        .replace("confidence: medium", "confidence: sure")
        .replace("window: [0, 2]", "window: [2, 0]")
        .replace("value_change: -2500000", "value_change: lots")
        .replace("date: 2024-03-09", "date: March 2024")
    )
    add_claims(
        case_dir,
        bad + "  - id: Press Fall\n    claim: x\n    by: y\n"
        "    source: synthetic-press\n    quote: z\n    confidence: low\n"
        "    currency: pounds\n"
        "  - id: press-share-fall\n    claim: again\n    by: y\n"
        "    source: synthetic-press\n    quote: z\n    confidence: low\n  - just text\n",
    )
    assert problems_of(case_dir) == [
        "case.yaml, line 25, column 'claims[0].quote': missing or empty "
        "(expected the source's words for the claim)",
        "case.yaml, line 30, column 'claims[0].quoted': unknown claim field (expected id, "
        "claim, by, date, source, quote, confidence, price_change_pct, value_change, currency, "
        "window, note)",
        "case.yaml, line 29, column 'claims[0].source': unknown source id 'daily-rumour' "
        "(expected an id declared under `sources:` (several separated by ';'))",
        "case.yaml, line 31, column 'claims[0].confidence': unknown confidence 'sure' "
        "(expected high | medium | low | unverified (that the claim was made as recorded))",
        "case.yaml, line 28, column 'claims[0].date': cannot read 'March 2024' as a date "
        "(expected the ISO date it was claimed: YYYY, YYYY-MM or YYYY-MM-DD)",
        "case.yaml, line 33, column 'claims[0].value_change': 'lots' is not a number "
        "(expected a number; a loss is negative, e.g. -2500000)",
        "case.yaml, line 34, column 'claims[0].window': [2, 0] is not a window of trading "
        "days (expected [t1, t2]: the first and last trading day the claim is about, "
        "e.g. [0, 3])",
        "case.yaml, line 35, column 'claims[1].id': 'Press Fall' is not a valid claim id "
        "(expected lower-case words joined by '-', e.g. press-share-fall)",
        "case.yaml, line 41, column 'claims[1].currency': 'pounds' is not a currency code "
        "(expected an ISO 4217 code such as USD (default: the case's currency))",
        "case.yaml, line 42, column 'claims[2].id': duplicate claim id 'press-share-fall' "
        "(expected each claim id once)",
        "case.yaml, line 24, column 'claims[3]': not a mapping "
        "(expected id, claim, by, source, quote, confidence ...)",
    ]


def test_claims_must_be_a_list(case_dir):
    add_claims(case_dir, "claims: {id: x}\n")
    assert problems_of(case_dir) == [
        "case.yaml, line 24, column 'claims': not a list (expected a list of mappings: id, "
        "claim, by, source, quote, confidence ...)"
    ]


# --- a case's own dates travel with it ---------------------------------------------------------


def test_context_carries_the_dates_of_an_edited_copy(tmp_path):
    import shutil

    bundled = ck.load_case("united-breaks-guitars")
    copy = tmp_path / "united-breaks-guitars"
    shutil.copytree(bundled.path, copy)
    replace_line(
        copy / "case.yaml",
        "first_response:  {date: 2009-07-07, date_end: 2009-07-08, precision: range,",
        "first_response:  {date: 2009-07-20, precision: day,",
    )
    edited = ck.load_case(copy)
    assert edited.path == copy.resolve() and edited.context.path == str(copy.resolve())
    assert edited.context.key_dates["first_response"].date == pd.Timestamp("2009-07-20")
    assert edited.context.key_date("first_response") == pd.Timestamp("2009-07-20")
    assert edited.context.key_dates["first_response"].precision == "day"
    # the bundled case keeps its own date
    assert bundled.context.key_date("first_response") == pd.Timestamp("2009-07-07")
    assert ck.load_case("united-breaks-guitars").context.key_date("first_response") == pd.Timestamp(
        "2009-07-07"
    )
