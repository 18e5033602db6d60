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
# # What if the company had answered after N days?
#
# A classroom exercise. Move the sliders to choose when the company responds
# and how much of the further spread its answer stops, and see how far the
# story would have travelled. Then play with a second scenario: a complaint
# read by 400 people, and how many of them pass it on.
#
# The sliders work in two places. In this rendered page they move over a grid
# of scenarios computed in advance (no Python needed). In JupyterLab (with
# jupytext installed, right-click `classroom.py` → *Open With* → *Notebook*,
# then run all cells) they recompute the figure for any value.

# %% tags=["parameters"]
case: str = "united-breaks-guitars"  # case to play with (see `casekit cases`)
delay: float = 3.0  # first position of the answer-day slider: days after going public [0, inf)
effectiveness: float = 0.5  # first position of the effectiveness slider: share of spread stopped (up to 0.99: e = 1 would stop the readings the curve passes through) [0, 0.99]
grid_delays: list[float] = [0, 1, 2, 3, 5, 7, 14, 30]  # answer days of the precomputed sliders (HTML) [0, inf)
grid_effectiveness: list[float] = [0.25, 0.5, 0.75, 0.9]  # effectiveness values of the precomputed sliders [0, 0.99]
window: int = 60  # days after going public that the reach figures show (the first weeks) [1, inf)
model: str = "intervention"  # what-if model: intervention (the answer slows the spread inside the fitted curve); flow, rate: accounting variants {intervention, flow, rate}
n_draws: int = 200  # parameter draws for the intervals of the final reach [0, inf)
first_readers: int = 400  # first readers of the "400 contacts" scenario [1, inf)
pass_on: float = 0.5  # first position of the n* slider: new readers each reader brings [0, inf)
pass_on_grid: list[float] = [0, 0.25, 0.5, 0.75, 0.9, 0.95, 0.99, 1.0, 1.1]  # n* values of the precomputed slider [0, inf)
interactive: bool = True  # live sliders (JupyterLab); `casekit render` sets False: precomputed sliders

# %%
from IPython.display import Markdown

import casekit as ck
from casekit import classroom
from casekit import format as fmt  # escapes case text: fmt.html_text (Markdown), fmt.plot_text

c = ck.load_case(case)
# the case's own metric (analysis block), else the first one a curve can be fitted to; a
# case with nothing to fit stops here with ck.reach's plain explanation of why
fit = ck.reach.compare(c).best
reach_ids = classroom.sources_of(fit.data)  # the source ids of the reach data
reach_list = classroom.source_ids(reach_ids, "source ids of the reach data")
Markdown(
    f"## {fmt.html_text(c.title)}\n\n"
    + ("**Synthetic example data: made up for teaching.**\n\n" if c.synthetic else "")
    + fmt.html_text(c.summary)
)

# %% [markdown]
# ## What actually happened
#
# The timeline of the case (one row per actor; hover over a point to read the
# event), the same events as a table, the delays between the key dates, and the
# reach data with the growth curve fitted to them.

# %%
ck.plots.timeline_plot(c)

# %%
Markdown(
    f"*Sources of this section:* the case's timeline, {len(c.timeline)} dated events from "
    f"{len(classroom.sources_of(c.timeline))} sources (each event's sources are in the table "
    f"below), and the reach data, from {len(reach_ids)} sources. Full references under "
    "[Sources](#Sources)." + reach_list
)

# %%
classroom.timeline_table(c)

# %%
ck.response.delays(c)

# %%
classroom.first_weeks(fit, days=window)

# %%
Markdown(f"*Figure sources:* the reach data of the case ({len(fit.data)} observations from "
         f"{len(reach_ids)} sources, references under [Sources](#Sources)) and the "
         f"{fmt.html_text(fit.curve)} curve fitted to all of them; the figure shows the first "
         f"{window} days after going public, where the story is told." + reach_list)

# %% [markdown]
# ## What if?
#
# The model: from the day the company answers, the story spreads more slowly, by
# the effectiveness of the answer (0 = the answer changes nothing, 1 = nothing
# spreads after it), while the public's attention fades. The growth curve is
# refitted with the real answer inside it, so that it still passes through what
# was observed; then only the day of the answer moves. Answering on the real day
# gives the fitted curve back. The expected final reach depends on the day and the
# effectiveness; the legend gives it with its 95 % interval from the fit's
# uncertainty.

# %%
classroom.sliders(
    fit, delay, effectiveness, model=model, window=window, max_delay=max(grid_delays), n_draws=n_draws
) if interactive else classroom.what_if_slider_figure(
    fit, grid_delays, grid_effectiveness, delay=delay, start_effectiveness=effectiveness,
    model=model, window=window, n_draws=n_draws,
)

# %%
Markdown(
    ("" if interactive else
     "*In JupyterLab, sliders for the answer day and the effectiveness recompute the figure "
     "for any value. This page is a rendered copy: its sliders move over a grid of "
     "scenarios computed in advance.*\n\n")
    + f"*Figure sources:* the {fmt.html_text(fit.curve)} curve fitted above to `{fit.metric}` "
    f"({len(reach_ids)} sources), run through the what-if model described above ({model}): "
    "the scenarios are model output, not observations. Full references under "
    "[Sources](#Sources)." + reach_list
)

# %% [markdown]
# ### Scenario grid
#
# Expected final reach for each answer day (rows) and effectiveness (columns),
# with its 95 % interval from the fit's uncertainty.

# %%
grid = classroom.scenarios(fit, grid_delays, grid_effectiveness, model=model, n_draws=n_draws)
classroom.scenario_table(grid)

# %%
classroom.scenario_plot(
    grid, title=f"{fmt.plot_text(c.title)}: what if the company had answered on day N?"
)

# %%
Markdown(f"*Figure sources:* the {fmt.html_text(fit.curve)} curve fitted above to `{fit.metric}` "
         f"({len(reach_ids)} sources), run through the what-if model described above: the "
         "scenarios are model output, not observations. Full references under "
         "[Sources](#Sources)." + reach_list)

# %% [markdown]
# ## 400 contacts: who cares?
#
# A 2012 German blog post estimated that the complaint of an unhappy mobile-phone
# customer would reach about 400 readers ("400 contacts: who cares?").
# **Source not found:** this project's research notes (`methods.md` and the case
# folders) hold no record of the post, its author or its address, so it cannot
# be cited here. Treat 400 as an illustrative number until the reference is added.
#
# Suppose each of the first readers passes the complaint on to **n*** new readers
# on average, and each of those does the same. n* is the *branching ratio*. Below
# 1 the story dies out, and the expected number of readers in all is
# first readers / (1 − n*): 400 readers become 800 at n* = 0.5, 4,000 at 0.9 and
# 40,000 at 0.99. At n* = 1, the *branching threshold*, and above it, the expected
# number is unbounded: the story can keep spreading without limit.
#
# The model is the branching structure of the self-exciting (Hawkes) model of
# `casekit.events`: each reader's new readers are a Poisson number with mean n*,
# as in `ck.events.simulate`. The interval is exact: the total number of readers
# of such a process follows the Borel–Tanner distribution, whose quantiles are
# computed directly (no simulation, no random seed).

# %%
classroom.contacts_sliders(pass_on, first_readers) if interactive else classroom.contacts_slider_figure(
    pass_on_grid, first_readers, n_star=pass_on
)

# %%
Markdown(
    "*Figure sources:* model output, not observations: a branching process started by "
    f"{first_readers} first readers (the 400 of an uncited 2012 blog post, see above), with "
    "exact Borel–Tanner intervals. The figure uses none of this case's data: its reach data "
    "(sources listed below) feed only the figures above." + reach_list
)

# %%
classroom.contacts_table(pass_on_grid, first_readers)

# %% [markdown]
# ## Questions for students
#
# 1. Read the timeline. When could the company first have known that this
#    complaint was becoming public? What would it have needed to watch?
# 2. With the effectiveness fixed at 50 %, how much reach does each extra day of
#    delay cost? Is the cost of the first day the same as the cost of the tenth?
# 3. Which matters more in this case: answering a day earlier, or answering
#    better (higher effectiveness)? What does "effectiveness" stand for in
#    practice: an apology, a remedy, a change of channel?
# 4. The model assumes the reach curve would have had the same shape without a
#    response. Name one reason this could be wrong in each direction.
# 5. Which numbers in this case come from a single source? How would your answer
#    to question 2 change if they were 30 % too high?
# 6. "400 contacts: who cares?" Move the n* slider from 0.5 to 0.99. How many
#    readers do the 400 become? Why does the number change so little between 0
#    and 0.5 and so much between 0.9 and 1? What could a company do to lower n*?

# %% [markdown]
# ## Sources
#
# Every source declared in the case folder; the figure captions above name the
# ones each figure uses.

# %%
c.source_list()

# %% [markdown]
# ## About this notebook

# %%
ck.render.provenance(c)
