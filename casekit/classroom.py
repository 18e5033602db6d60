"""The classroom: what-if scenarios, the "400 contacts" branching scenario, live sliders.

Everything the classroom notebook (``notebooks/classroom.py``) needs beyond one call per
cell lives here, so the notebook stays thin:

=============================== ===========================================================
:func:`sliders`                 live sliders (answer day, effectiveness) that redraw the
                                what-if figure in JupyterLab (an ipywidgets ``VBox``)
:func:`scenarios`               the delay x effectiveness grid of expected final reach
:func:`scenario_table`          that grid for people ("answer on day 3", "effectiveness 50 %")
:func:`timeline_table`          the case's timeline rows for people
:func:`sources_of`              the source ids a figure's data cite
:func:`source_ids`              those ids as a collapsed list under a caption
:func:`contacts`                the "400 contacts" scenario: first readers and the
                                branching ratio n* to expected readers with an interval
:func:`contacts_table`          that scenario over several n*
:func:`contacts_sliders`        a live n* slider that redraws the 400-contacts figure
=============================== ===========================================================

The figures, including the ones with plotly sliders that keep working in a rendered page
with no kernel and no network, are in :mod:`casekit.plots.classroom` and re-exported here.

The 400-contacts scenario
-------------------------
A complaint is read by ``first`` readers (400 in the teaching scenario). Each reader passes
it on to a Poisson number of new readers with mean n*, the branching ratio; they pass it
on in turn. This is the branching (cluster) structure of the Hawkes process of
:mod:`casekit.events` (:func:`casekit.events.simulate` draws each event's children the
same way), with the 400 first readers as the immigrants and time left out: the final
number of readers does not depend on the kernel. For n* < 1 the expected number of
readers is ``first / (1 - n*)``; at n* >= 1 (the branching threshold) it is unbounded.
The interval is exact: the total number of readers of a Poisson branching process started
by k readers follows the Borel-Tanner distribution (Tanner 1961; Haight & Breuer 1960),

    P(N = n) = k / n * exp(-n* n) (n* n) ** (n - k) / (n - k)!,   n >= k,

whose quantiles are summed from this formula, with no simulation and no seed (the tests
check them against simulations of :func:`casekit.events.simulate`).

Examples
--------
>>> from casekit import classroom
>>> s = classroom.contacts(0.9)
>>> s.expected, s.lower < s.expected < s.upper, s.unbounded
(4000.0, True, False)
>>> classroom.contacts(1.0).text()
'n* = 1: at or above the branching threshold, the expected number of readers is unbounded.'
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from casekit import format as fmt
from casekit.exceptions import ParameterError
from casekit.plots.classroom import (
    DEFAULT_WINDOW,
    contacts_figure,
    contacts_slider_figure,
    first_weeks,
    scenario_plot,
    what_if_figure,
    what_if_slider_figure,
)
from casekit.results import check_alpha
from casekit.tables import PeopleTable, show

__all__ = [
    "FIRST_READERS",
    "PASS_ON_GRID",
    "DEFAULT_WINDOW",
    "ContactsScenario",
    "contacts",
    "contacts_table",
    "contacts_sliders",
    "contacts_figure",
    "contacts_slider_figure",
    "scenarios",
    "scenario_table",
    "scenario_plot",
    "sliders",
    "sources_of",
    "source_ids",
    "timeline_table",
    "first_weeks",
    "what_if_figure",
    "what_if_slider_figure",
]

FIRST_READERS = 400
"""First readers of the teaching scenario (a 2012 German blog post's estimate for an
unhappy mobile customer's complaint; see the classroom notebook on its source)."""

PASS_ON_GRID = (0.0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0, 1.1)
"""Branching ratios n* of the static slider: below, near, at and above the threshold."""


def _number(x, name: str, low: float | None = None, high: float | None = None) -> float:
    if isinstance(x, (bool, np.bool_)):
        raise ParameterError(f"{name} must be a number, not {x!r}")
    try:
        v = float(x)
    except (TypeError, ValueError):
        raise ParameterError(f"{name} must be a number, not {x!r}") from None
    if not math.isfinite(v) or (low is not None and v < low) or (high is not None and v > high):
        where = f" between {low:g} and {high:g}" if high is not None else f" >= {low:g}"
        raise ParameterError(f"{name} must be a finite number{where}, not {x!r}")
    return v


def _first(first) -> int:
    v = _number(first, "first", 1)
    if v != int(v):
        raise ParameterError(f"first must be a whole number of readers, not {first!r}")
    return int(v)


# --- the 400-contacts scenario -------------------------------------------------------------


def _borel_tanner_quantiles(k: int, m: float, probs: Sequence[float]) -> list[float]:
    """Quantiles of the total progeny of a Poisson(m) branching process from k ancestors.

    The pmf is summed in chunks until the largest wanted probability is reached.
    """
    from scipy.special import gammaln

    if m == 0:
        return [float(k)] * len(probs)
    want = sorted(probs)
    out: dict[float, float] = {}
    total, start, chunk = 0.0, k, 1 << 16
    logm = math.log(m)
    while len(out) < len(want):
        n = np.arange(start, start + chunk, dtype=float)
        logp = math.log(k) - np.log(n) - m * n + (n - k) * (logm + np.log(n)) - gammaln(n - k + 1)
        cdf = total + np.cumsum(np.exp(logp))
        for p in want:
            if p not in out and cdf[-1] >= p:
                out[p] = float(n[np.searchsorted(cdf, p)])
        total, start, chunk = float(cdf[-1]), start + chunk, min(chunk * 2, 1 << 20)
        if start > 1e9:  # pragma: no cover - only for n* within 1e-7 of the threshold
            raise ParameterError(f"n* = {m} is too close to 1 for an exact interval")
    return [out[p] for p in probs]


@dataclass(frozen=True)
class ContactsScenario:
    """Readers of a complaint that ``first`` people read and each passes on to n* others.

    Attributes
    ----------
    n_star : float
        The branching ratio: new readers each reader brings, on average.
    first : int
        First readers (the immigrants of the branching process).
    expected, lower, upper : float
        Expected total readers (first readers included) and the (1 - alpha) interval of
        the total (exact Borel-Tanner quantiles); ``inf`` when n* >= 1.
    alpha : float
        1 - level of the interval.
    """

    n_star: float
    first: int
    expected: float
    lower: float
    upper: float
    alpha: float

    @property
    def unbounded(self) -> bool:
        """True at or above the branching threshold (n* >= 1)."""
        return self.n_star >= 1

    def generations(self, rounds: int = 12) -> pd.DataFrame:
        """Expected new readers in each round of passing on: ``first * n*^g``.

        >>> ContactsScenario(0.5, 400, 800.0, 0, 0, 0.05).generations(3)["readers"].tolist()
        [400.0, 200.0, 100.0]
        """
        g = np.arange(int(rounds))
        readers = self.first * np.power(self.n_star, g, dtype=float)
        return pd.DataFrame({"round": g, "readers": readers, "total": np.cumsum(readers)})

    def text(self) -> str:
        """The scenario in one sentence."""
        n = fmt.number(self.n_star)
        if self.unbounded:
            return (
                f"n* = {n}: at or above the branching threshold, the expected number of "
                "readers is unbounded."
            )
        level = fmt.percent(1 - self.alpha, 0)
        return (
            f"n* = {n}: {fmt.number(self.first)} first readers become about "
            f"{fmt.number(self.expected)} readers in all ({level} interval "
            f"{fmt.number(self.lower)}–{fmt.number(self.upper)})."
        )


def contacts(n_star: float, first: int = FIRST_READERS, *, alpha: float = 0.05) -> ContactsScenario:
    """Expected readers, with an interval, when ``first`` readers each pass a complaint on
    to ``n_star`` new readers on average (see the module notes for the model).

    Parameters
    ----------
    n_star : float
        Branching ratio, >= 0. At 1 or above the expected size is unbounded.
    first : int
        First readers (default 400).
    alpha : float
        1 - level of the interval.

    Returns
    -------
    ContactsScenario

    Examples
    --------
    >>> s = contacts(0.5)
    >>> s.expected, s.lower, s.upper
    (800.0, 725.0, 882.0)
    >>> contacts(0.0).upper
    400.0
    >>> contacts(1.2).expected
    inf
    """
    m = _number(n_star, "n_star", 0)
    k = _first(first)
    alpha = check_alpha(alpha)
    if m >= 1:
        return ContactsScenario(m, k, math.inf, math.inf, math.inf, alpha)
    lo, hi = _borel_tanner_quantiles(k, m, [alpha / 2, 1 - alpha / 2])
    return ContactsScenario(m, k, k / (1 - m), lo, hi, alpha)


def contacts_table(
    n_stars: Sequence[float] = PASS_ON_GRID, first: int = FIRST_READERS, *, alpha: float = 0.05
) -> PeopleTable:
    """The scenario for several branching ratios, for people.

    >>> contacts_table([0.5, 1.0]).frame.iloc[:, 1].tolist()
    ['800 (725–882)', 'unbounded: n* is at or above the branching threshold']
    """
    rows = []
    for m in n_stars:
        s = contacts(m, first, alpha=alpha)
        rows.append(
            {
                "n* (new readers each reader brings)": fmt.number(s.n_star),
                f"readers in all ({fmt.percent(1 - s.alpha, 0)} interval)": (
                    "unbounded: n* is at or above the branching threshold"
                    if s.unbounded
                    else f"{fmt.number(s.expected)} ({fmt.number(s.lower)}–{fmt.number(s.upper)})"
                ),
            }
        )
    t = show(pd.DataFrame(rows))
    return PeopleTable(t.frame, numeric=tuple(t.frame.columns[:1]), caption=t.caption)


def _slider(lo: float, hi: float, step: float, value: float, description: str, fmt_str: str):
    import ipywidgets as widgets

    return widgets.FloatSlider(
        value=value,
        min=lo,
        max=hi,
        step=step,
        description=description,
        readout_format=fmt_str,
        continuous_update=False,
        style={"description_width": "initial"},
        layout={"width": "420px"},
    )


def _redraw_box(controls, draw):
    """A VBox of ``controls`` and an Output that shows ``draw(*values)`` on every change."""
    import ipywidgets as widgets
    from IPython.display import display

    out = widgets.Output()

    def redraw(_change=None):
        fig = draw(*(c.value for c in controls))
        with out:
            out.clear_output(wait=True)
            display(fig)

    for c in controls:
        c.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(list(controls)), out])


def contacts_sliders(n_star: float = 0.5, first: int = FIRST_READERS):
    """A live n* slider over the 400-contacts figure, for JupyterLab.

    Returns an ipywidgets ``VBox``: the slider and an ``Output`` that redraws
    :func:`casekit.plots.classroom.contacts_figure` whenever the slider moves.
    """
    m = _number(n_star, "n_star", 0, 1.2)
    k = _first(first)
    s = _slider(0.0, 1.2, 0.01, m, "new readers per reader (n*)", ".2f")
    return _redraw_box([s], lambda v: contacts_figure(v, k))


# --- the what-if scenarios of a fit --------------------------------------------------------


def sliders(
    fit,
    delay: float = 3.0,
    effectiveness: float = 0.5,
    *,
    model: str = "intervention",
    window: float = DEFAULT_WINDOW,
    max_delay: float = 30.0,
    n_draws: int = 200,
):
    """Live sliders for the answer day and the effectiveness, for JupyterLab.

    Returns an ipywidgets ``VBox``: the two sliders and an ``Output`` that redraws
    :func:`casekit.plots.classroom.what_if_figure` (the curve from
    :func:`casekit.response.what_if`, the final reach from
    :func:`casekit.response.delay_cost`) whenever a slider moves. In the intervention
    model (default) each new effectiveness refits the curve once (about 0.1 s; the refit
    is kept on the fit), and the slider stops at 95 %.
    """
    d = _number(delay, "delay", 0, max(max_delay, 0))
    # e = 1 stops all spread, so no intervention curve passes through the later readings
    top = 0.95 if model == "intervention" else 1.0
    e = _number(effectiveness, "effectiveness", 0, top)
    ds = _slider(0.0, float(max_delay), 0.5, d, "company answers on day", ".1f")
    es = _slider(0.0, top, 0.05, e, "effectiveness of the answer", ".0%")
    return _redraw_box(
        [ds, es],
        lambda dv, ev: what_if_figure(fit, dv, ev, model=model, window=window, n_draws=n_draws),
    )


def scenarios(
    fit,
    delays: Sequence[float],
    effectiveness: Sequence[float],
    *,
    model: str = "intervention",
    n_draws: int = 200,
    seed: int = 0,
) -> pd.DataFrame:
    """Expected final reach for each answer day and effectiveness.

    One :func:`casekit.response.delay_cost` call per effectiveness; returns its table's
    ``delay_days, final_reach, lower, upper`` for exactly the asked delays, with a column
    ``effectiveness``.
    """
    from casekit import response

    if not len(delays) or not len(effectiveness):
        raise ParameterError("delays and effectiveness need at least one value each")
    want = [float(d) for d in delays]
    parts = []
    for e in effectiveness:
        dc = response.delay_cost(
            fit, delays=want, effectiveness=e, model=model, n_draws=n_draws, seed=seed
        )
        t = dc.table
        t = t[t["delay_days"].isin(want)].drop_duplicates("delay_days")
        parts.append(t[["delay_days", "final_reach", "lower", "upper"]].assign(effectiveness=e))
    return pd.concat(parts, ignore_index=True)


def scenario_table(grid: pd.DataFrame) -> PeopleTable:
    """The grid of :func:`scenarios` for people: one row per answer day, one column per
    effectiveness, each cell the final reach with its interval (``6.3 M (4.7–8.5 M)``).

    >>> g = pd.DataFrame({"delay_days": [0.0, 3.0], "final_reach": [6.07e6, 6.3e6],
    ...                   "lower": [4.4e6, 4.7e6], "upper": [8.3e6, 8.5e6],
    ...                   "effectiveness": [0.5, 0.5]})
    >>> scenario_table(g).frame.to_dict("records")[1]
    {'company answers': 'on day 3', 'effectiveness 50 %': '6.3 M (4.7–8.5 M)'}
    """
    rows: dict[float, dict[str, str]] = {}
    for r in grid.sort_values(["delay_days", "effectiveness"]).itertuples():
        day = "never" if math.isinf(r.delay_days) else f"on day {fmt.number(r.delay_days)}"
        row = rows.setdefault(r.delay_days, {"company answers": day})
        row[f"effectiveness {fmt.percent(r.effectiveness, 0)}"] = fmt.interval(
            r.final_reach, r.lower, r.upper
        )
    frame = pd.DataFrame(list(rows.values()), dtype=object)
    return PeopleTable(
        frame,
        numeric=tuple(frame.columns[1:]),
        caption="Expected final reach (95 % interval from the fit's uncertainty)",
    )


def source_ids(ids: Sequence[str], what: str = "source ids") -> str:
    """Markdown: a collapsed list of source ids (escaped), to follow a figure caption.

    >>> print(source_ids(["a", "b"]))
    <BLANKLINE>
    <details><summary>the 2 source ids</summary>
    <BLANKLINE>
    a, b
    <BLANKLINE>
    </details>
    """
    text = fmt.html_text(", ".join(ids)) if ids else "none recorded"
    return f"\n<details><summary>the {len(ids)} {what}</summary>\n\n{text}\n\n</details>"


def sources_of(frame: pd.DataFrame) -> list[str]:
    """The source ids of a frame's ``source`` column (``a;b`` lists split), sorted.

    >>> sources_of(pd.DataFrame({"source": ["b;a", "a"]}))
    ['a', 'b']
    """
    if "source" not in frame:
        return []
    return sorted(set(frame["source"].dropna().astype(str).str.split(";").explode()))


def timeline_table(case) -> PeopleTable:
    """The case's timeline for people: date at its precision, who, what, the description
    and the source ids of each event."""
    cols = ["date", "date_end", "date_precision", "actor", "kind", "description", "source"]
    t = case.timeline
    t = t[[c for c in cols if c in t.columns]]
    if "source" in t:
        t = t.assign(source=t["source"].astype(str).str.replace(";", ", "))
    return show(
        t,
        labels={"actor": "who", "kind": "what", "source": "sources"},
        missing={"description": "not recorded", "source": "not recorded"},
    )
