# ---
# jupyter:
#   jupytext:
#     formats: py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # Case report
#
# How one customer's complaint went public, how far it spread, and what the
# company's slow answer cost. The summary below gives the headline numbers; the
# sections after it hold the detail, and every assumption sits next to the result
# that depends on it (under "Settings and assumptions").

# %% tags=["parameters"]
case: str = "united-breaks-guitars"  # case id (see `casekit cases`)
curves: list[str] = []  # growth curves to rank by AICc; [] = the case's choice (case.yaml analysis) or all {logistic, gompertz, richards, bass, expsat}
loss: str = ""  # ols | log | robust | robust_log; "" = the case's choice or ols {"", ols, log, robust, robust_log}
metric: str = ""  # reach metric to model; "" = the case's choice or the first fittable metric
horizon: int = 30  # days past the last observation to draw the fitted curves to [0, inf)
delays: list[float] = [0, 1, 2, 3, 5, 7, 14]  # response delays (days after going public) to cost [0, inf)
effectiveness: float = 0.5  # e where the data cannot estimate it: share of further spread a response stops (0 = none, 1 = all), a stated scenario (the intervention model takes up to 0.99) [0, 0.99]
value_per_thousand: list[float] = [2.0, 5.0, 10.0]  # low, central, high value of 1,000 impressions (CPM) [0, inf)
prices_dir: str = ""  # folder of <TICKER>_<year>_yahoo.csv price files; "" = $CASEKIT_PRICES or none
ticker: str = ""  # the company's share ticker for the market test, e.g. UAL; "" = no market test
market_index: str = "GSPC"  # ticker of the market index in prices_dir
peers: list[str] = []  # peer tickers in prices_dir for a second benchmark; [] = market index only

# %%
from IPython.display import Markdown

import casekit as ck
from casekit import format as fmt  # fmt.html_text escapes case text for Markdown and HTML
from casekit.report import views as V

c = ck.load_case(case)
described = ck.reach.describe(c)
metric = metric or described.main_metric or ""
fittable = metric in described.fittable
comparison = (ck.reach.compare(c, curves=curves or None, metric=metric, loss=loss or None)
              if fittable else None)
fit = comparison.best if comparison is not None and comparison.fits else None
no_fit = (described.explanation if comparison is None
          else "no growth curve converged on these data")
response_delays = ck.response.delays(c)
# the intervention model: the response inside the curve; e estimated where the readings
# straddle the response, else the stated `effectiveness` (the result says which)
cost = (ck.response.delay_cost(fit, delays=delays, scenario_effectiveness=effectiveness)
        if fit is not None else None)
# the case names its ticker, index and peers (case.yaml analysis.market), the event date and
# the share count; a ticker given as a parameter replaces them
market_args = {"ticker": ticker, "market": market_index, "peers": peers} if ticker else {}
study = (ck.market.case_event_study(c, prices_dir, **market_args)
         if prices_dir and (ticker or "market" in c.analysis) else None)
window = V.market_window(c, study)  # one CAR window for the text, the figure and the money lens
market = V.market_view(study, c, window) if study is not None else V.market_hint(case, prices_dir, ticker)
lenses = ck.response.money_lenses(c, cost, cpm=value_per_thousand, event_study=study,
                                  market_window=window if study is not None else None)
Markdown(
    f"## {fmt.html_text(c.title)}\n\n"
    + ("**Synthetic example data: made up to show the method; not a real case.**\n\n"
       if c.synthetic else "")
    + f"*Company:* {fmt.html_text(c.company)} &nbsp;·&nbsp; *Country:* {fmt.html_text(c.country)}"
    + (f" &nbsp;·&nbsp; *Reach metric modelled:* {fmt.html_text(metric)}" if fit is not None else "")
)

# %%
ck.report.summary(c, fit=fit, delays=response_delays, cost=cost, study=study, window=window,
                  lenses=lenses, verdict=str(market) if study is not None else None,
                  why_no_fit=no_fit, why_no_market=V.why_no_market(prices_dir, ticker))

# %% [markdown]
# <a id="story"></a>
#
# ## 1. The story and its timeline
#
# The case in brief, its key dates (each with the source that gives it), and
# every dated event.

# %%
Markdown(fmt.html_text(c.summary))

# %%
ck.plots.timeline_plot(c)

# %%
V.caption(1, "Every dated event of the case, by actor and kind", V.source_ids(c.timeline))

# %%
V.timeline_view(c)

# %% [markdown]
# <a id="reach"></a>
#
# ## 2. Reach over time
#
# What was measured, and what a growth curve can be fitted to.

# %%
Markdown("Terms used here:\n\n- " + "\n- ".join(
    ck.report.explain(t) for t in ("AICc", "loss", "log scale", "confidence band")))

# %%
V.reach_data_view(described)

# %%
(V.comparison_view(comparison) if fit is not None else
 Markdown(f"**No growth curve:** {fmt.html_text(no_fit)}. The final reach, the what-if "
          "curve and the impressions lens below need one and are left out."))

# %%
comparison.plot(horizon=horizon, log_x=None) if fit is not None else described.plot()

# %%
V.caption(2, "Observed reach and the fitted growth curves with the best curve's 95 % "
          "confidence band (time on a log scale when the readings crowd the first days)",
          V.source_ids(c.reach[c.reach["metric"] == metric]))

# %%
V.fit_view(fit) if fit is not None else None

# %% [markdown]
# <a id="response"></a>
#
# ## 3. The cost of a slow response
#
# <a id="delays"></a>
#
# ### 3.1 How long each step took
#
# From the key dates; a delay whose end points the sources do not give is not
# computed, never guessed.

# %%
V.delays_view(response_delays)

# %%
response_delays.plot()

# %%
V.caption(3, "The delays between the key dates", sorted(
    {s for kd in c.key_dates.values() if kd is not None for s in kd.source.split(";")}))

# %% [markdown]
# <a id="detection"></a>
#
# ### 3.2 When could the company have known?
#
# Documented spike-alert rules (media-monitoring vendors' defaults) replayed on
# the reach data.

# %%
V.detection_line(ck.response.detection_replay(c))

# %% [markdown]
# <a id="what-if"></a>
#
# ### 3.3 What if the company had answered sooner?
#
# The growth curve with the company's response inside it: from the day of the
# response the story spreads (1 − e) times as fast, and attention to it fades.
# The curve is refitted so that it passes through what was observed, then only
# the day of the response is moved: the expected final reach for each response
# delay. At the actual delay it is the fitted curve. The effectiveness e is
# estimated where readings lie on both sides of the response; otherwise it is the
# stated `effectiveness` parameter. The line below says which.

# %%
Markdown(ck.report.explain("effectiveness") + "\n\n- " + ck.report.explain("CPM"))

# %%
Markdown(f"**Effectiveness of the response:** e = {fmt.html_text(cost.effectiveness_text)}."
         ) if cost is not None else None

# %%
V.cost_view(cost) if cost is not None else Markdown("Not computed: it needs the growth curve of section 2.")

# %%
cost.plot() if cost is not None else None

# %%
V.caption(4, "Expected final reach for each response delay, with the actual delay marked "
          "(the curve of section 2)", V.source_ids(c.reach[c.reach["metric"] == metric])
          ) if cost is not None else None

# %%
sens = (ck.response.sensitivity(fit, effectiveness=effectiveness, cpm=value_per_thousand,
                                curves=comparison, case=c)
        if fit is not None else None)
sens.plot() if sens is not None else None

# %%
V.caption(5, "Sensitivity of the money cost of the delay: each bar moves one assumption from "
          "its low to its high setting", 0) if sens is not None else None

# %%
V.sensitivity_view(sens) if sens is not None else None

# %% [markdown]
# <a id="severity"></a>
#
# ### 3.4 Severity over time

# %%
Markdown(ck.report.explain("Shitstorm scale"))

# %%
severity = ck.response.severity(c)
V.result_view(severity)

# %%
severity.plot()

# %%
V.caption(6, "Severity day by day beside the first response, from the timeline (Figure 1) "
          "and the reach figures", V.source_ids(c.timeline, c.reach))

# %% [markdown]
# <a id="market"></a>
#
# ## 4. Market test
#
# Did the company's share price move when the story broke? A market-model event
# study needs daily prices of the company and of a market index around the date.

# %%
Markdown(ck.report.explain("event study") + "\n\n- " + ck.report.explain("CAR"))

# %%
market

# %%
ck.plots.event_study_plot(study, window=window) if study is not None else None

# %%
V.caption(7, f"Daily abnormal returns and the CAR over trading days {window[0]}..{window[1]} "
          f"({len(study.settings['files'])} daily price files)", 0) if study is not None else None

# %% [markdown]
# <a id="money"></a>
#
# ### 4.1 The cost in money, and what settling would have cost
#
# Each lens rests on different assumptions, so they are shown side by side and
# never added up; the first rows are the remedy the customer asked for.

# %%
Markdown(ck.report.explain("money lens"))

# %%
V.money_view(lenses, c)

# %% [markdown]
# <a id="sources"></a>
#
# ## 5. Sources
#
# Every source declared in the case folder, and every row of its costs.csv with
# the sources each comes from (click to open).

# %%
V.costs_view(c)

# %%
V.sources_view(c)

# %% [markdown]
# <a id="glossary"></a>
#
# ## Glossary

# %%
ck.report.glossary()

# %% [markdown]
# <a id="references"></a>
#
# ## References

# %%
ck.report.references()

# %% [markdown]
# <a id="about"></a>
#
# ## About this report

# %%
V.provenance_view(ck.render.provenance(c))
