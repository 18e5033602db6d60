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
# company's slow answer cost. Every number below comes from the case folder and
# the `casekit` package; every figure names its sources, and every assumption is
# printed next to the result that depends on it.

# %% tags=["parameters"]
case: str = "united-breaks-guitars"  # case id (see `casekit cases`)
curves: list[str] = []  # growth curves to rank by AICc; [] = the case's choice (case.yaml analysis) or all
loss: str = ""  # ols | log | robust | robust_log; "" = the case's choice or ols
metric: str = ""  # reach metric to model; "" = the case's choice or the first fittable metric
horizon: int = 30  # days past the last observation to draw the fitted curves to
delays: list[float] = [0, 1, 2, 3, 5, 7, 14]  # response delays (days after going public) to cost
effectiveness: float = 0.5  # share of further spread a response stops (0 = none, 1 = all)
value_per_thousand: list[float] = [2.0, 5.0, 10.0]  # low, central, high value of 1,000 impressions (CPM)
prices_dir: str = ""  # folder of <TICKER>_<year>_yahoo.csv price files; "" = $CASEKIT_PRICES or none
ticker: str = ""  # the company's share ticker for the market test, e.g. UAL; "" = no market test
market_index: str = "GSPC"  # ticker of the market index in prices_dir
peers: list[str] = []  # peer tickers in prices_dir for a second benchmark; [] = market index only

# %%
import pandas as pd
from IPython.display import Markdown

import casekit as ck
from casekit import format as fmt  # fmt.html_text escapes case text for Markdown and HTML

pd.set_option("display.max_rows", 500)  # show every row: a report must not hide evidence
c = ck.load_case(case)
described = ck.reach.describe(c)
metric = metric or described.main_metric or ""
fittable = metric in described.fittable
Markdown(
    f"## {fmt.html_text(c.title)}\n\n"
    + ("**Synthetic example data: made up to show the method; not a real case.**\n\n"
       if c.synthetic else "")
    + f"*Company:* {fmt.html_text(c.company)} &nbsp;·&nbsp; *Country:* {fmt.html_text(c.country)}"
    + f" &nbsp;·&nbsp; *Reach metric modelled:* `{metric}`"
)

# %% [markdown]
# ## 1. The story and its timeline
#
# The case in brief, its key dates (each with the source that gives it), and
# every dated event.

# %%
c

# %%
timeline = c.timeline
ck.plots.timeline_plot(c)

# %%
Markdown("*Figure 1 sources:* " + fmt.html_text(", ".join(sorted(set(timeline["source"].str.split(";").explode())))))

# %%
timeline[["date", "date_precision", "actor", "kind", "description", "source", "confidence"]]

# %% [markdown]
# ## 2. Reach over time
#
# What was measured, and what a growth curve can be fitted to. The curves are
# ranked by AICc; the best one is used for the cost of the delay below.

# %%
described

# %%
comparison = (ck.reach.compare(c, curves=curves or None, metric=metric, loss=loss or None)
              if fittable else None)
fit = comparison.best if comparison is not None and comparison.fits else None
comparison if comparison is not None else Markdown(f"**No growth curve:** {fmt.html_text(described.explanation)}")

# %%
comparison.plot(horizon=horizon) if fit is not None else described.plot()

# %%
reach_sources = ", ".join(sorted(set(c.reach.loc[c.reach["metric"] == metric, "source"]
                                      .str.split(";").explode()))) or "no reach figures"
Markdown(f"*Figure 2 sources:* {fmt.html_text(reach_sources)}")

# %%
fit if fit is not None else Markdown("No fitted curve: the sections below that need one say so.")

# %% [markdown]
# ## 3. The cost of a slow response
#
# ### How long each step took
#
# From the key dates; a delay whose end points the sources do not give is not
# computed, never guessed.

# %%
response_delays = ck.response.delays(c)
response_delays

# %%
response_delays.plot()

# %%
Markdown("*Figure 3 sources:* " + fmt.html_text(", ".join(sorted(
    {s for kd in c.key_dates.values() if kd is not None for s in kd.source.split(";")}))))

# %% [markdown]
# ### When could the company have known?
#
# Documented spike-alert rules (media-monitoring vendors' defaults) replayed on
# the reach data.

# %%
ck.response.detection_replay(c)

# %% [markdown]
# ### What if the company had answered sooner?
#
# The fitted curve, damped from the day of the response by the chosen
# effectiveness: the expected final reach for each response delay.

# %%
cost = (ck.response.delay_cost(fit, delays=delays, effectiveness=effectiveness,
                                  model="flow")
        if fit is not None else None)
cost if cost is not None else Markdown("Not computed: no growth curve could be fitted.")

# %%
cost.plot() if cost is not None else None

# %%
Markdown(f"*Figure 4 sources:* the curve fitted in section 2 ({fmt.html_text(reach_sources)}); "
         "the actual delay from the key dates above.") if cost is not None else None

# %%
(ck.response.sensitivity(fit, effectiveness=effectiveness, cpm=value_per_thousand,
                         curves=comparison, case=c)
 if fit is not None else None)

# %% [markdown]
# ### Severity over time
#
# The case on the Shitstorm scale (0-6), day by day, beside the first response.

# %%
severity = ck.response.severity(c)
severity

# %%
severity.plot()

# %%
Markdown("*Figure 5 sources:* the timeline (Figure 1) and the reach figures of case.yaml's "
         "sources listed in section 5.")

# %% [markdown]
# ## 4. Market test
#
# Did the company's share price move when the story broke? A market-model event
# study needs daily prices of the company and of a market index around the date.

# %%
# the case names its ticker, index and peers (case.yaml analysis.market), the event date and
# the share count; a ticker given as a parameter replaces them
market_args = {"ticker": ticker, "market": market_index, "peers": peers} if ticker else {}
study = (ck.market.case_event_study(c, prices_dir, **market_args)
         if prices_dir and (ticker or "market" in c.analysis) else None)
Markdown(  # case text escaped; "$" too, or Markdown reads "$180 M ... $56 M" as math
    "\n\n".join(fmt.html_text(study.verdict(claim)) for _, claim in c.claims.iterrows())
    .replace("$", "&#36;") or fmt.html_text(study.verdict()).replace("$", "&#36;")
    if study is not None else
    "**No market test in this report: "
    + ("no price data was supplied" if not prices_dir else "no share ticker was given")
    + ".** To add one, put daily price files named `<TICKER>_<year>_yahoo.csv` (Yahoo "
    "Finance columns: Date, Open, High, Low, Close, Adj Close, Volume) for the company and "
    "a market index in one folder, and render again with "
    f"`casekit render {case} -p prices_dir PATH -p ticker TICKER` "
    "(optionally `-p peers DAL,LUV`), or set the environment variable "
    "`CASEKIT_PRICES=PATH` once for every report."
)

# %%
study.plot() if study is not None else None

# %%
Markdown(f"*Figure 6 sources:* daily prices from `{prices_dir}` (files "
         f"{', '.join(study.settings['files'].values())}).") if study is not None else None

# %%
study.summary if study is not None else None

# %% [markdown]
# ### The cost in money, through separate lenses
#
# Each lens rests on different assumptions, so they are shown side by side and
# never added up.

# %%
ck.response.money_lenses(c, cost, cpm=value_per_thousand, event_study=study)

# %% [markdown]
# ## 5. Sources
#
# Every source declared in the case folder; the figure captions above name the
# ones each figure uses.

# %%
c.source_list()

# %% [markdown]
# ## About this report

# %%
ck.render.provenance(c)
