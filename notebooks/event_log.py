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
# # The event log: how the storm spread, and when it could have been seen
#
# Some cases keep the raw posts of a storm (an *event log*: one row per post,
# comment or share, with its time) in the `events/` folder of the case. This
# notebook fits a self-exciting (Hawkes) model to those events, with the
# company's response inside it, and replays what a forecaster watching the
# posts could have known at each moment of the storm.

# %% tags=["parameters"]
case: str = "synthetic-example"  # case with an event log (see `casekit cases`)
events_path: str = ""  # event log file, folder or glob; "" = the case folder's events/ folder
time_column: str = "time"  # column of the event times in the log
id_column: str = "id"  # column of the event ids (duplicates are dropped by id); "" = none
threshold: float = 2000.0  # final size (events) that matters: the forecast alerts once its lower bound passes it (0, inf)
step: str = "6h"  # time between the forecaster's look-ins (origins of the replay): "1h", "6h", "1D"
kernel: str = "exp"  # Hawkes kernel {exp, powerlaw}
e_scenario: float = 0.5  # response effect assumed when the log cannot estimate it (-inf, 1)
n_draws: int = 1000  # parameter draws behind the final-size intervals [1, inf)

# %%
from IPython.display import Markdown

import casekit as ck
from casekit import format as fmt  # escapes case text: fmt.html_text (Markdown)
from casekit.events import story

c = ck.load_case(case)
log = story.load_log(c, events_path, time=time_column, id=id_column)
response = story.response_day(c, log)
fit = story.fit_log(log, response, kernel=kernel, e_scenario=e_scenario, n_draws=n_draws)
replay = (
    ck.forecast.replay(log, threshold=threshold, step=step, kernel=kernel, context=c, n_draws=n_draws)
    if log is not None
    else None
)
Markdown(
    f"## {fmt.html_text(c.title)}\n\n"
    + ("**Synthetic example data: made up for teaching.**\n\n" if c.synthetic else "")
    + (story.log_text(log) if log is not None else story.no_log_text(c))
)

# %% [markdown]
# ## The event rate against the fitted model
#
# The bars count the events in each period; the line is the number the fitted
# Hawkes process expects in that period, given everything before it. In this
# model every event can set off further events (replies, shares), so the rate
# jumps after bursts and decays between them. The dashed line marks the
# company's response: from then on the model lets the response damp the spread.

# %%
fit.plot() if fit is not None else None

# %%
Markdown(story.fit_words(fit)) if fit is not None else None

# %% [markdown]
# ## Goodness of fit
#
# If the model is right, the waiting times between events, rescaled by the
# fitted intensity, behave like draws from an exponential distribution with
# mean 1. The QQ plot sets their quantiles against those of that distribution:
# points on the diagonal mean a good fit; points bending away show where the
# model misses (for example bursts it does not expect).

# %%
fit.plot("qq") if fit is not None else None

# %%
Markdown(
    f"Kolmogorov–Smirnov test of the rescaled gaps: statistic {fmt.number(fit.gof['ks_stat'])}, "
    f"p-value {fmt.number(fit.gof['ks_pvalue'])}."
) if fit is not None else None

# %% [markdown]
# ## The forecast at each moment of the storm
#
# A forecaster looks at the log at regular moments (the origins τ). Each time,
# the model is fitted again to the events known by then, and forecasts the
# final number of events with an interval (the shaded fan). Early on the
# interval is wide; it narrows as events accumulate. The forecast *alerts*
# the first time the lower end of the interval passes the threshold. A
# triangle at the top marks a moment when the fitted storm would never stop
# (branching ratio 1 or more).

# %%
story.fan(replay)

# %% [markdown]
# ## Detection and response on one time axis
#
# The same moments against the events per hour: when the forecast first passed
# the threshold, when the simpler spike rules (a jump in posts against the
# hours before) first fired, and when the company actually answered. The gap
# between an alert and the response is the time the company could have gained.

# %%
story.moments_plot(replay, log)

# %%
story.moments(replay)

# %%
Markdown(fmt.html_text(str(replay).split("\nSettings:")[0])) if replay is not None else None

# %% [markdown]
# ## Sources
#
# Every source declared in the case folder.

# %%
c.source_list()

# %% [markdown]
# ## About this notebook

# %%
ck.render.provenance(c)
