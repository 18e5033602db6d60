"""The bundled seed cases: valid, sourced, honest about what they do not know."""

from __future__ import annotations

import pandas as pd
import pytest

import casekit as ck
from conftest import SEED_CASES


@pytest.fixture(scope="module", params=SEED_CASES)
def case(request):
    return ck.load_case(request.param)


def test_seed_case_is_valid_and_real(case):
    assert ck.validate(case.path) == []
    assert case.synthetic is False


def test_every_row_cites_a_declared_source(case):
    declared = set(case.sources["id"])
    for table in (case.timeline, case.reach, case.costs):
        for ids in table["source"]:
            assert set(i.strip() for i in ids.split(";")) <= declared
    for kd in case.key_dates.values():
        if kd is not None:
            assert set(kd.source.split(";")) <= declared


def test_every_source_is_cited_somewhere(case):
    cited = set()
    for table in (case.timeline, case.reach, case.costs):
        for ids in table["source"]:
            cited |= {i.strip() for i in ids.split(";")}
    cited |= {i for kd in case.key_dates.values() if kd for i in kd.source.split(";")}
    assert set(case.sources["id"]) <= cited


def test_figures_carry_quotes_or_derivations(case):
    for table in (case.reach, case.costs[case.costs["value"].notna()]):
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
