"""The bundled seed cases: valid, sourced, honest about what they do not know."""

from __future__ import annotations

import pandas as pd
import pytest
from conftest import SEED_CASES

import casekit as ck

NEW_CASES = ("dominos-2009", "nestle-kitkat-2010", "amazon-germany-2013")


@pytest.fixture(scope="module", params=SEED_CASES + NEW_CASES)
def case(request):
    return ck.load_case(request.param)


def test_bundled_case_is_valid_and_real(case):
    assert ck.validate(case.path) == []
    assert case.synthetic is False


def test_every_row_cites_a_declared_source(case):
    declared = set(case.sources["id"])
    for table in (case.timeline, case.reach, case.costs, case.claims, case.indicators):
        for ids in table["source"]:
            assert set(i.strip() for i in ids.split(";")) <= declared
    for kd in case.key_dates.values():
        if kd is not None:
            assert set(kd.source.split(";")) <= declared


def test_every_source_is_cited_somewhere(case):
    cited = set()
    for table in (case.timeline, case.reach, case.costs, case.claims, case.indicators):
        for ids in table["source"]:
            cited |= {i.strip() for i in ids.split(";")}
    cited |= {i for kd in case.key_dates.values() if kd for i in kd.source.split(";")}
    assert set(case.sources["id"]) <= cited


def test_figures_carry_quotes_or_derivations(case):
    for table in (case.reach, case.costs[case.costs["value"].notna()], case.indicators):
        derived = table["kind"] == "derived"
        assert table.loc[derived, "method"].str.len().gt(0).all()
        assert table.loc[~derived, "quote"].str.len().gt(0).all()


def test_ubg_keeps_conflicting_same_day_counts():
    views = ck.load_case("united-breaks-guitars").series("youtube_views_song1")
    july8 = views[views["time"].dt.strftime("%Y-%m-%d") == "2009-07-08"]
    assert july8["source"].nunique() >= 2
    assert july8["value"].max() / july8["value"].min() > 3  # 138,000 vs 502,000: both kept


def test_ubg_key_facts():
    case = ck.load_case("united-breaks-guitars")
    assert case.key_date("incident") == pd.Timestamp("2008-03-31")
    assert case.key_date("going_public") == pd.Timestamp("2009-07-06")
    assert case.key_date("resolution") is None
    assert len(case.series("youtube_views_song1")) >= 40
    claims = case.costs[case.costs["category"] == "claimed_loss"]
    assert (claims["value"] == 180e6).any() and (claims["kind"] == "claim").all()


def test_range_rover_has_no_article_level_series():
    case = ck.load_case("range-rover-colchester")
    assert case.key_date("incident") is None
    assert all(len(case.series(m)) < 4 for m in case.metrics)


def test_wiesenhof_group_growth_is_time_stamped():
    views = ck.load_case("werder-bremen-wiesenhof").series("facebook_group_supporters")
    assert len(views) >= 10
    assert (views["time_precision"] == "hour").any()


def test_claims_carry_quotes_and_match_the_claim_rows_of_costs(case):
    claims = case.claims
    assert claims["quote"].str.len().gt(0).all() and claims["by"].str.len().gt(0).all()
    costs = case.costs[case.costs["kind"] == "claim"]
    for c in claims.itertuples():
        first_source = c.source.split(";")[0]
        rows = costs[costs["source"].str.split(";").map(lambda ids, s=first_source: s in ids)]
        # a claimed number is the same figure that costs.csv records (there as a positive
        # value with the direction in the item; here a fall or a loss is negative)
        if not pd.isna(c.value_change):
            loss = rows[(rows["category"] == "claimed_loss") & (rows["unit"] == c.currency)]
            assert (loss["value"] == -c.value_change).any(), c.id
        if not pd.isna(c.price_change_pct):
            move = rows[(rows["category"] == "market_move") & (rows["unit"] == "percent")]
            assert (move["value"] == abs(c.price_change_pct)).any(), c.id


def test_ubg_claims_the_market_verdict_tests():
    claims = ck.load_case("united-breaks-guitars").claims.set_index("id")
    assert {"times-share-fall", "daily-mail-share-fall"} <= set(claims.index)
    times = claims.loc["times-share-fall"]
    assert times["by"] == "The Times (London)" and times["date"] == pd.Timestamp("2009-07-22")
    assert times["price_change_pct"] == -10 and times["value_change"] == -180e6
    assert times["currency"] == "USD" and times["window"] == (0, 3)
    assert "plunged by 10 per cent, costing shareholders $180 million" in times["quote"]
    timeline_quotes = set(ck.load_case("united-breaks-guitars").timeline["quote"].dropna())
    assert times["quote"] in timeline_quotes
    assert claims.loc["daily-mail-share-fall", "quote"] in timeline_quotes
    assert claims.loc["daily-mail-share-fall", "source"].startswith("daily-mail-2009-07-23")


def test_exactly_one_bundled_case_is_the_classroom_case():
    flagged = [c for c in SEED_CASES if ck.load_case(c).analysis.get("classroom")]
    assert flagged == ["united-breaks-guitars"]
    assert "classroom" not in ck.load_case("synthetic-example").analysis


def test_company_responses_carry_their_kinds():
    kinds = {c: ck.load_case(c).context.responses["kind"].tolist() for c in SEED_CASES + NEW_CASES}
    assert kinds["united-breaks-guitars"][:3] == ["statement", "apology", "offer"]
    assert kinds["werder-bremen-wiesenhof"] == ["statement"]
    assert kinds["range-rover-colchester"] == ["statement", "offer"]
    assert kinds["dominos-2009"] == ["statement", "statement", "apology"]
    assert kinds["amazon-germany-2013"] == ["statement", "statement", "concession", "concession"]
    assert {"concession", "statement", "apology", "resolution"} <= set(kinds["nestle-kitkat-2010"])


def test_format_todo_lists_only_what_the_format_cannot_express():
    for c in NEW_CASES:
        todo = ck.load_case(c).path / "FORMAT_TODO.md"
        if todo.exists():
            assert "for a later" not in todo.read_text(encoding="utf-8")
