"""casekit.reach on the bundled cases: what the issue's "done means" promises."""

from __future__ import annotations

import dataclasses
import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import casekit as ck
import casekit.cases
from casekit import reach
from casekit.exceptions import InsufficientDataError, ParameterError


@pytest.fixture(scope="module")
def ubg():
    return ck.load_case("united-breaks-guitars")


@pytest.fixture(scope="module")
def ubg_compare(ubg):
    song2 = reach.multiwave("logistic", 3, anchors=(None, "2009-08-18", None), case=ubg)
    curves = list(reach.DEFAULT_CURVES) + [reach.multiwave("logistic", 2), song2]
    return reach.compare(ubg, curves, metric="youtube_views_song1", loss="log")


def test_ubg_ranked_fits_with_bands(ubg_compare):
    tab = ubg_compare.table
    assert len(tab) == 7
    assert tab["converged"].sum() >= 5
    assert tab["aicc"].dropna().is_monotonic_increasing
    assert tab["akaike_weight"].sum() == pytest.approx(1.0)
    assert tab["nobs"].iloc[0] >= 40
    best = ubg_compare.best
    p = best.predict(np.geomspace(1, 4500, 50))
    assert (p["lower"] <= p["yhat"]).all() and (p["yhat"] <= p["upper"]).all()
    json.dumps(ubg_compare.to_dict(), allow_nan=False)


def test_ubg_song2_wave_is_identified(ubg_compare):
    name = [c for c in ubg_compare.fits if "43" in c][0]
    res = ubg_compare.fits[name]
    # the second wave sits at the Song 2 release (day 43 after 2009-07-06). The anchor
    # only bounds t0_2 to 40..103; the data put it at day 43.5, the same optimum from
    # every random-start seed. +-1.5 days absorbs optimiser and platform noise while
    # keeping the bound (40) and the next observations (day 87) well outside.
    assert res.params["t0_2"] == pytest.approx(43.5, abs=1.5)
    assert not any("t0_2" in n for n in res.notes)  # not on a bound
    assert res.params["K_2"] > 5e5
    # and it beats every single curve on AICc
    tab = ubg_compare.table.set_index("curve")
    singles = tab.loc[list(reach.DEFAULT_CURVES), "aicc"]
    assert tab.loc[name, "aicc"] < singles.min()


def test_ubg_plot_shows_waves_and_events(ubg_compare):
    res = [f for n, f in ubg_compare.fits.items() if "43" in n][0]
    fig = res.plot(log_y=True)
    assert fig.layout.yaxis.type == "log"
    events = [tr for tr in fig.data if tr.name == "timeline events"][0]
    hover = " ".join(str(c[2]) for c in events.customdata)
    assert "Song 2" in hover
    assert len(fig.layout.shapes) >= 10
    fig.to_json()
    cmp_fig = ubg_compare.plot(log_y=True, x="t", log_x=True)
    assert cmp_fig.layout.xaxis.type == "log"


def test_wiesenhof_time_to_90_percent():
    case = ck.load_case("werder-bremen-wiesenhof")
    res = reach.fit(case, "logistic", metric="facebook_group_supporters")
    assert res.nobs >= 12
    t90 = res.time_to_share(0.9)
    # the group neared its ~20,000 supporters within the first five days
    assert 1.0 < t90["estimate"] < 6.0
    assert t90["lower"] < t90["estimate"] < t90["upper"]
    assert 15000 < res.saturation < 30000
    cmp = reach.compare(case, metric="facebook_group_supporters")
    assert cmp.table["converged"].all()


def test_range_rover_not_enough_data():
    case = ck.load_case("range-rover-colchester")
    d = reach.describe(case)
    assert d.fittable == ()
    assert "Not enough data to fit" in d.explanation
    assert "readership" in d.explanation or "outlet" in d.explanation
    assert d.table["n_all_kinds"].sum() == 9
    with pytest.raises(InsufficientDataError) as err:
        reach.fit(case)
    assert str(err.value) == d.explanation
    # rows with cumulative false are per-period counts: two of them cannot fix a curve
    with pytest.raises(InsufficientDataError, match="2 per-period counts, but the logistic"):
        reach.fit(case, metric="print_readership_daily_mail")
    with pytest.raises(InsufficientDataError):
        reach.compare(case)
    fig = d.plot()
    assert "not enough data" in fig.layout.title.text
    assert sum(len(tr.y) for tr in fig.data) == 9
    assert "<table" in d._repr_html_()


@pytest.mark.parametrize("case_id", list(ck.list_cases()["id"]))
def test_describe_calls_a_metric_fittable_only_at_enough_distinct_times(case_id):
    """Per metric, the distinct times of its figures against the verdict: fittable means
    a known origin, p + 2 or more distinct times and p + 3 or more figures (p: the
    simplest curve of the case's set), cumulative or per-period; and a fittable metric does
    get a ranked growth curve (per-period counts: fitted as the curve's increments)."""
    case = ck.load_case(case_id)
    d = reach.describe(case)
    p = min(reach._get_spec(c).k for c in reach.case_curves(case))
    assert (d.min_times, d.min_n) == (p + 2, p + 3)
    tab = d.table.set_index("metric")
    rows = case.reach[case.reach["kind"].isin(["observed", "reported"])]
    for m in case.metrics:
        fig = rows[rows["metric"] == m]
        k, n = fig["time"].nunique(), len(fig)
        cum = bool(case.reach.loc[case.reach["metric"] == m, "cumulative"].astype(bool).all())
        assert (tab.loc[m, "n"], tab.loc[m, "n_times"]) == (n, k)
        enough = case.origin is not None and n > 0 and k >= p + 2 and n >= p + 3
        assert bool(tab.loc[m, "fittable"]) == enough, (m, n, k, tab.loc[m, "reason"])
        if n and k < p + 2:
            assert "only" in tab.loc[m, "reason"]
        if enough:
            best = reach.compare(case, metric=m).best
            assert best.nobs == n and np.isfinite(best.aicc)
            assert best.observation == ("cumulative" if cum else "per-period")
    assert d.fittable == tuple(m for m in d.fittable if tab.loc[m, "fittable"])


def test_dominos_readings_on_two_days_are_not_called_fittable():
    case = ck.load_case("dominos-2009")
    d = reach.describe(case)
    assert d.fittable == () and d.main_metric == "youtube_views_prank_video"
    row = d.table.set_index("metric").loc["youtube_views_prank_video"]
    assert (row["n"], row["n_times"], bool(row["fittable"])) == (5, 2, False)
    assert row["reason"] == "5 figures at only 2 distinct times (14 Apr 2009, 15 Apr 2009)"
    text = d.explanation
    assert text.startswith("dominos-2009: not enough data to fit a growth curve")
    assert "cannot say when the reach grew fastest" in text
    assert "youtube_views_prank_video reached 1 M views by 15 Apr 2009" in text
    assert "4 or more distinct times" in d.settings["fittable"]
    # the fitter refuses the same series, in the same terms
    with pytest.raises(InsufficientDataError, match="2 distinct times"):
        reach.fit(case, metric="youtube_views_prank_video")
    # a case-level fit has nothing to fit and says why
    with pytest.raises(InsufficientDataError):
        ck.response.delay_cost(case, n_draws=0)


def test_case_analysis_block_sets_metric_loss_and_waves():
    case = ck.load_case("united-breaks-guitars")
    curves = reach.case_curves(case)
    assert curves[:4] == ["logistic", "gompertz", "bass", "expsat"]
    assert [c.k for c in curves[4:]] == [6, 9]  # two and three logistic waves
    cmp = reach.compare(case)
    assert cmp.metric == "youtube_views_song1" and cmp.loss == "log"
    assert cmp.best.spec.k > 3  # a multi-wave curve beats every single wave on this series


def test_normalised_puts_cases_on_one_axis_and_says_who_is_left_out():
    cases = [
        ck.load_case(i)
        for i in ("united-breaks-guitars", "werder-bremen-wiesenhof", "range-rover-colchester")
    ]
    df = reach.normalised(cases)
    assert list(df.columns) == list(reach.NORMALISED_COLUMNS)
    assert set(df["case"]) == {"united-breaks-guitars", "werder-bremen-wiesenhof"}
    assert df.groupby("case")["share"].max().eq(1.0).all() and (df["share"] > 0).all()
    assert set(df.loc[df["case"] == "united-breaks-guitars", "metric"]) == {"youtube_views_song1"}
    assert df.attrs["left_out"] == {"range-rover-colchester": "no fittable reach series"}
    ubg = cases[0].series("youtube_views_song1")
    np.testing.assert_allclose(
        df.loc[df["case"] == "united-breaks-guitars", "share"].to_numpy(),
        ubg["value"].to_numpy() / ubg["value"].max(),
    )


def test_describe_plot_uses_the_figures_it_kept(monkeypatch):
    case = ck.load_case("range-rover-colchester")
    d = reach.describe(case)
    assert len(d.figures) == 9

    def no_reload(*args, **kwargs):
        raise AssertionError("reach_describe_plot reloaded the case")

    monkeypatch.setattr(ck, "load_case", no_reload)
    assert sum(len(tr.y) for tr in d.plot().data) == 9
    assert sum(len(tr.y) for tr in ck.plots.reach_describe_plot(d, case).data) == 9


def test_main_metric_prefers_the_fittable_then_the_richest_then_none(tmp_path):
    assert (
        reach.describe(ck.load_case("united-breaks-guitars")).main_metric == "youtube_views_song1"
    )
    rr = reach.describe(ck.load_case("range-rover-colchester"))
    assert rr.fittable == () and rr.main_metric in ck.load_case("range-rover-colchester").metrics
    assert (
        rr.main_metric
        == rr.table.sort_values("n_all_kinds", ascending=False, kind="stable")["metric"].iloc[0]
    )
    empty = ck.load_case(
        ck.new_case("empty-case", tmp_path, company="A", country="GB", summary="S")
    )
    assert reach.describe(empty).main_metric is None


# -- a case loaded from a folder: the fit carries that folder's facts ---------------------


def _edited_copy(tmp_path: Path) -> Path:
    """The bundled synthetic example, copied outside the catalog, going public a day
    earlier (2024-03-03) and answered a day later (2024-03-09)."""
    src = Path(ck.__file__).resolve().parent / "examples" / "synthetic-example"
    folder = tmp_path / "synthetic-example"
    shutil.copytree(src, folder)
    text = (folder / "case.yaml").read_text(encoding="utf-8")
    for old, new in (
        ("going_public: {date: 2024-03-04", "going_public: {date: 2024-03-03"),
        ("first_response: {date: 2024-03-08", "first_response: {date: 2024-03-09"),
    ):
        assert old in text
        text = text.replace(old, new)
    (folder / "case.yaml").write_text(text, encoding="utf-8")
    return folder


def test_a_fit_of_a_copied_case_carries_the_copy_path_and_dates(tmp_path, monkeypatch):
    bundled = ck.load_case("synthetic-example")
    bundled_fit = reach.fit(bundled, metric="video_views")
    folder = _edited_copy(tmp_path)
    case = ck.load_case(folder)

    def no_reload(*args, **kwargs):
        raise AssertionError("casekit.reach loaded a case from disk")

    monkeypatch.setattr(ck, "load_case", no_reload)
    monkeypatch.setattr(casekit.cases, "load_case", no_reload)
    fit = reach.fit(case, metric="video_views")
    ctx = fit.context
    assert ctx.path == str(folder) != str(bundled.path)
    assert fit.case_id == ctx.id == "synthetic-example"
    assert fit.origin == ctx.origin == pd.Timestamp("2024-03-03")
    assert ctx.key_date("first_response") == pd.Timestamp("2024-03-09")
    assert bundled_fit.context.key_date("first_response") == pd.Timestamp("2024-03-08")
    assert list(ctx.responses["date"]) == list(case.context.responses["date"])
    # the same figures, one day later on the copy's axis
    assert fit.params["t0"] == pytest.approx(bundled_fit.params["t0"] + 1, abs=1e-6)
    assert fit.data["t"].to_numpy() == pytest.approx(bundled_fit.data["t"].to_numpy() + 1)
    assert fit.settings["origin"] == pd.Timestamp("2024-03-03")
    assert "3 Mar 2024" in str(fit)
    # to_dict keeps the context
    back = reach.ReachFit.from_dict(json.loads(json.dumps(fit.to_dict(), allow_nan=False)))
    assert back.context.path == str(folder)
    assert back.context.key_date("first_response") == pd.Timestamp("2024-03-09")
    pd.testing.assert_frame_equal(back.context.responses, ctx.responses)
    # compare, multiwave anchors and describe work from the same Case object
    cmp = reach.compare(case, ["logistic", "gompertz"], metric="video_views")
    assert {f.context.path for f in cmp.fits.values()} == {str(folder)}
    cmp_back = reach.Comparison.from_dict(json.loads(json.dumps(cmp.to_dict())))
    assert cmp_back.fits["logistic"].context.path == str(folder)
    spec = reach.multiwave("logistic", 2, anchors=(None, "coverage"), case=case)
    assert spec.definition["anchors"] == [None, 3.0]  # coverage 2024-03-06, origin 03-03
    assert reach.case_curves(case) == list(reach.DEFAULT_CURVES)
    d = reach.describe(case)
    assert d.fittable == ("video_views", "forum_posts") and d.plot().data


def test_a_fit_of_plain_data_has_no_context():
    s = ck.load_case("synthetic-example").series("video_views")
    fit = reach.fit(s)
    assert fit.context is None and fit.case_id is None and fit.settings["case"] is None
    back = reach.ReachFit.from_dict(json.loads(json.dumps(fit.to_dict())))
    assert back.context is None


def test_a_description_without_figures_asks_for_the_case():
    d = reach.describe(ck.load_case("range-rover-colchester"))
    bare = dataclasses.replace(d, reach_figures=None)
    with pytest.raises(ParameterError, match="pass the case"):
        bare.plot()
