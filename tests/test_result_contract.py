"""The one result contract, checked over every result class casekit has.

Each class derived from :class:`casekit.results.Result` needs a factory below; a class
without one fails ``test_every_result_class_is_covered``, so a new analysis cannot skip
the contract.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

import casekit as ck
from casekit.exceptions import ParameterError
from casekit.reach.joint import fit_joint
from casekit.results import Result, read_csv

OLD_INTERVAL_NAMES = (
    "yhat_lower",
    "yhat_upper",
    "cost_lower",
    "cost_upper",
    "ci_lower",
    "ci_upper",
)


def _all_subclasses(cls):
    for sub in cls.__subclasses__():
        yield sub
        yield from _all_subclasses(sub)


def _write_prices(folder: Path) -> Path:
    """Two Yahoo-style price files, a stock and an index, with a +4 % move on day 0."""
    rng = np.random.default_rng(7)
    days = pd.bdate_range("2021-01-04", periods=260)
    idx = 100 * np.cumprod(1 + rng.normal(0.0003, 0.01, len(days)))
    ret = 0.0002 + 1.1 * np.r_[0, np.diff(idx) / idx[:-1]] + rng.normal(0, 0.004, len(days))
    ret[days.get_loc(pd.Timestamp("2021-10-04"))] += 0.04
    stock = 50 * np.cumprod(1 + ret)
    for name, close in (("TICK", stock), ("IDX", idx)):
        pd.DataFrame(
            {
                "Date": days.strftime("%Y-%m-%d"),
                "Open": close,
                "High": close,
                "Low": close,
                "Close": close,
                "Adj Close": close,
                "Volume": 1000,
            }
        ).to_csv(folder / f"{name}_2021_yahoo.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    case = ck.load_case("synthetic-example")
    metric = "video_views"
    fit = ck.reach.fit(case, metric=metric)
    cost = ck.response.delay_cost(fit, delays=[0, 1, 3], n_draws=200)
    prices = _write_prices(tmp_path_factory.mktemp("prices"))
    factories = {
        "ReachFit": lambda: fit,
        "JointReachFit": lambda: fit_joint(
            case, ["video_views", "forum_posts"], loss={"video_views": "log"}
        ),
        "Comparison": lambda: ck.reach.compare(
            case, curves=["logistic", "gompertz"], metric=metric
        ),
        "DescriptiveReach": lambda: ck.reach.describe(case),
        "Delays": lambda: ck.response.delays(case),
        "Detection": lambda: ck.response.detection_replay(case),
        "WaitingReach": lambda: ck.response.reach_while_waiting(fit, n_draws=200),
        "DelayCost": lambda: cost,
        "Sensitivity": lambda: ck.response.sensitivity(fit, curves=["logistic", "gompertz"]),
        "MoneyLenses": lambda: ck.response.money_lenses(case, cost),
        "Severity": lambda: ck.response.severity(case),
        "HawkesFit": lambda: ck.events.fit(
            ck.events.simulate(mu=20.0, n_star=0.5, omega=2.0, end=10.0, seed=1), end=10.0
        ),
        "Replay": lambda: ck.forecast.replay(
            ck.load_case("werder-bremen-wiesenhof"), threshold=10000
        ),
        "EventLog": lambda: ck.events.load(
            ck.events.EXAMPLE_LOG, time="time", id="id", tz="Europe/London"
        ),
        "EventStudy": lambda: ck.market.event_study(
            prices, ticker="TICK", market="IDX", event_date="2021-10-04"
        ),
    }
    return {name: make() for name, make in factories.items()}


def _result_classes() -> dict[str, type]:
    for module in ck._SUBMODULES:
        getattr(ck, module)  # import every analysis subpackage
    return {c.__name__: c for c in _all_subclasses(Result)}


def test_every_result_class_is_covered(built):
    missing = sorted(set(_result_classes()) - set(built))
    assert not missing, f"result classes without a contract factory: {missing}"


NAMES = [
    "ReachFit",
    "JointReachFit",
    "Comparison",
    "DescriptiveReach",
    "Delays",
    "Detection",
    "WaitingReach",
    "DelayCost",
    "Sensitivity",
    "MoneyLenses",
    "Severity",
    "EventStudy",
    "EventLog",
    "HawkesFit",
    "Replay",
]
NO_INTERVALS = ("Delays", "Detection", "DescriptiveReach", "MoneyLenses", "Severity", "EventLog")


@pytest.mark.parametrize("name", NAMES)
def test_vocabulary(built, name):
    r = built[name]
    assert isinstance(r, Result) and type(r).__name__ == name
    assert isinstance(r.params, (pd.Series, pd.DataFrame)) and len(r.params) > 0
    assert isinstance(r.settings, dict) and r.settings
    assert isinstance(r.table, pd.DataFrame)
    assert isinstance(r.summary, pd.DataFrame)
    text = str(r)
    assert isinstance(text, str) and len(text) > 20
    for frame in (r.table, r.summary):
        assert not set(map(str, frame.columns)) & set(OLD_INTERVAL_NAMES), frame.columns


@pytest.mark.parametrize("name", NAMES)
def test_plot_draws(built, name):
    fig = built[name].plot()
    assert isinstance(fig, go.Figure)
    assert len(fig.data) >= 1


@pytest.mark.parametrize("name", NAMES)
def test_to_dict_round_trips(built, name):
    r = built[name]
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    back = type(r).from_dict(d)
    assert type(back) is type(r)
    assert back.to_dict() == d
    assert str(back) == str(r)


@pytest.mark.parametrize("name", NAMES)
def test_repr_html_is_escaped_html(built, name):
    page = built[name]._repr_html_()
    assert page.lstrip().startswith("<")
    assert "<script" not in page.lower()
    assert "nan" not in page.replace("nanosecond", "").split(">")[-1].lower()


@pytest.mark.parametrize(
    "name",
    [n for n in NAMES if n not in NO_INTERVALS],
)
def test_conf_int_names_and_nesting(built, name):
    r = built[name]
    assert r.has_intervals
    wide, narrow = r.conf_int(0.05), r.conf_int(0.5)
    for ci in (wide, narrow):
        assert {"lower", "upper"} <= set(ci.columns)
        ok = ci[["lower", "upper"]].notna().all(axis=1)
        assert ok.any()
        assert (ci.loc[ok, "lower"] <= ci.loc[ok, "upper"] + 1e-12).all()
    ok = wide[["lower", "upper"]].notna().all(axis=1) & narrow[["lower", "upper"]].notna().all(
        axis=1
    )
    # a 50 % interval lies inside the 95 % one
    assert (
        narrow.loc[ok, "lower"] >= wide.loc[ok, "lower"] - 1e-9 * wide.loc[ok, "lower"].abs() - 1e-9
    ).all()
    assert (
        narrow.loc[ok, "upper"] <= wide.loc[ok, "upper"] + 1e-9 * wide.loc[ok, "upper"].abs() + 1e-9
    ).all()
    for bad in (0, 1, 1.5, -0.1, True, "0.05"):
        with pytest.raises(ParameterError):
            r.conf_int(bad)


@pytest.mark.parametrize("name", NO_INTERVALS)
def test_results_without_intervals_say_so(built, name):
    r = built[name]
    assert not r.has_intervals
    with pytest.raises(NotImplementedError):
        r.conf_int()


@pytest.mark.parametrize("name", NAMES)
def test_tidy_exports_carry_the_settings(built, name, tmp_path):
    r = built[name]
    csv_path, json_path = tmp_path / f"{name}.csv", tmp_path / f"{name}.json"
    text = r.to_csv(csv_path)
    assert csv_path.read_text(encoding="utf-8") == text
    assert text.startswith(f"# casekit {name}\n")
    back, settings = read_csv(csv_path)
    assert set(settings) == {str(k) for k in r.settings}
    assert list(back.columns) == [str(c) for c in r.table.columns]
    assert len(back) == len(r.table)
    d = json.loads(r.to_json(json_path))
    assert d == json.loads(json_path.read_text(encoding="utf-8"))
    assert d["settings"] == json.loads(json.dumps(r.to_dict()["settings"]))
    assert not list(tmp_path.glob(".*.tmp"))
