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
# A classroom exercise. Move the sliders (in JupyterLab) to choose when the
# company responds and how much of the further spread its answer stops, and see
# how far the story would have travelled. In the rendered HTML version the
# sliders are replaced by a grid of scenarios.
#
# To use the sliders, open this notebook in JupyterLab (with jupytext installed,
# right-click `classroom.py` → *Open With* → *Notebook*) and run all cells.

# %% tags=["parameters"]
case: str = "united-breaks-guitars"  # case to play with (see `casekit cases`)
delay: float = 3.0  # first position of the delay slider: days after going public the company answers
effectiveness: float = 0.5  # first position of the effectiveness slider: share of spread stopped
grid_delays: list[float] = [0, 1, 3, 7, 14, 30, 90]  # answer days shown in the static grid (HTML)
grid_effectiveness: list[float] = [0.25, 0.5, 0.75]  # effectiveness values in the static grid
interactive: bool = True  # live sliders; `casekit render` sets False and shows the grid

# %%
import ipywidgets as widgets
import pandas as pd
import plotly.express as px
from IPython.display import Markdown

import casekit as ck
from casekit import format as fmt  # escapes case text: fmt.html_text (Markdown), fmt.plot_text

c = ck.load_case(case)
# the case's own metric (analysis block), else the first one a curve can be fitted to; a
# case with nothing to fit stops here with ck.reach's plain explanation of why
fit = ck.reach.compare(c).best
Markdown(
    f"## {fmt.html_text(c.title)}\n\n"
    + ("**Synthetic example data: made up for teaching.**\n\n" if c.synthetic else "")
    + fmt.html_text(c.summary)
)

# %% [markdown]
# ## What actually happened
#
# The key dates and the delays between them, then the reach data with the
# growth curve fitted to it.

# %%
ck.response.delays(c)

# %%
fit.plot()

# %%
reach_sources = (", ".join(sorted(set(fit.data["source"].str.split(";").explode())))
                 if "source" in fit.data else "")
Markdown("*Sources of the reach data:* " + fmt.html_text(reach_sources) if reach_sources else "")

# %% [markdown]
# ## What if?
#
# The model: from the day the company answers, the further spread of the story
# is cut by the effectiveness of the answer (0 = the answer changes nothing,
# 1 = nothing spreads after it). The expected final reach depends on both.

# %%
(widgets.interactive(
    ck.response.what_if,
    fit=widgets.fixed(fit),
    delay=widgets.FloatSlider(value=delay, min=0, max=90, step=0.5, description="answer on day"),
    effectiveness=widgets.FloatSlider(value=effectiveness, min=0, max=1, step=0.05,
                                      description="effectiveness"),
    model=widgets.fixed("flow"), horizon=widgets.fixed(None), points=widgets.fixed(300),
)) if interactive else Markdown(
    "*In JupyterLab, sliders for the answer day and the effectiveness redraw the figure "
    "live. This page is a rendered copy, so it shows a grid of scenarios instead.*")

# %% [markdown]
# ### Scenario grid
#
# Expected final reach for each answer day (columns) and effectiveness (rows),
# with the band from the fit's uncertainty in the figure.

# %%
grid = pd.concat(
    [ck.response.delay_cost(fit, delays=grid_delays, effectiveness=e,
                            model="flow").table.assign(effectiveness=e)
     for e in grid_effectiveness],
    ignore_index=True,
)
grid = grid[grid["delay_days"].isin(grid_delays)]
grid.pivot_table(index="effectiveness", columns="delay_days", values="final_reach").round(0)

# %%
px.line(
    grid, x="delay_days", y="final_reach", color=grid["effectiveness"].astype(str),
    error_y=grid["upper"] - grid["final_reach"], error_y_minus=grid["final_reach"] - grid["lower"],
    markers=True, template=ck.plots.template(),
    labels={"delay_days": "company answers on day", "final_reach": "expected final reach",
            "color": "effectiveness"},
    title=f"{fmt.plot_text(c.title)}: what if the company had answered on day N?",
)

# %%
Markdown(f"*Figure sources:* the {fmt.html_text(fit.curve)} curve fitted above to `{fit.metric}` "
         f"({fmt.html_text(reach_sources or 'sources not recorded')}), run through the what-if model "
         "described above: the scenarios are model output, not observations. Full references "
         "under *Sources* below.")

# %% [markdown]
# ## Questions for students
#
# 1. Read the timeline. When could the company first have known that this
#    complaint was becoming public? What would it have needed to watch?
# 2. With the effectiveness fixed at 0.5, how much reach does each extra day of
#    delay cost? Is the cost of the first day the same as the cost of the tenth?
# 3. Which matters more in this case: answering a day earlier, or answering
#    better (higher effectiveness)? What does "effectiveness" stand for in
#    practice: an apology, a remedy, a change of channel?
# 4. The model assumes the reach curve would have had the same shape without a
#    response. Name one reason this could be wrong in each direction.
# 5. Which numbers in this case come from a single source? How would your answer
#    to question 2 change if they were 30 % too high?

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
