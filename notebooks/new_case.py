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
# # Your own case: validate, fit, cost
#
# A guided template for a researcher's own case folder. Work through it top to
# bottom; each step says what to fix if it fails.
#
# **Step 0: make the folder.** In a terminal:
#
# ```bash
# casekit new acme-broken-kettle --dir ~/my-cases     # writes a valid, empty case folder
# ```
#
# Fill in `case.yaml`, `timeline.csv`, `reach.csv` and `costs.csv` (the format is in
# `datasets/README.md`; every figure needs a source). Then either set `case` below to
# the folder's path while you work in JupyterLab, or tell casekit where your cases
# live and use the id, which also lets `casekit render` make a report of it:
#
# ```bash
# export CASEKIT_DATA=~/my-cases
# casekit render acme-broken-kettle --notebook new_case
# ```

# %% tags=["parameters"]
case: str = "synthetic-example"  # your case: its id (folder in CASEKIT_DATA) or, in JupyterLab, its path
curve: str = "logistic"  # growth curve to fit {logistic, gompertz, richards, bass, expsat}
metric: str = ""  # reach metric to fit; "" = the first fittable one, else the one with most figures
effectiveness: float = 0.5  # e where the data cannot estimate it: share of further spread a response stops, a stated scenario [0, 1]

# %%
from IPython.display import Markdown

import casekit as ck
from casekit import format as fmt  # fmt.html_text escapes case text for Markdown

# %% [markdown]
# ## Step 1: validate
#
# Every problem is listed with its file, line, column, what is wrong and what
# would be right. An empty list means the folder is valid.

# %%
problems = ck.validate(case)
Markdown(
    "**The folder is valid.**" if not problems else
    f"**{len(problems)} problem(s) to fix before going on:**\n\n"
    + "\n".join(f"- {fmt.html_text(p)}" for p in problems)
)

# %%
c = ck.load_case(case)
described = ck.reach.describe(c)
metric = metric or described.main_metric or ""
c

# %% [markdown]
# ## Step 2: look at the reach data
#
# Before fitting anything, check the points: do the sources agree, is the
# series cumulative, are the dates right?

# %%
described.plot()

# %% [markdown]
# ## Step 3: fit a growth curve
#
# A curve needs at least as many observations of one metric as it has
# parameters; with fewer, casekit says so instead of guessing.

# %%
described

# %%
fit = ck.reach.fit(c, curve, metric=metric) if metric in described.fittable else None
fit if fit is not None else Markdown(
    f"**`{metric}` cannot be fitted:** {fmt.html_text(described.explanation)}\n\n"
    "Add more dated, cumulative observations of one metric to `reach.csv` (each with its "
    "source), or pick another metric with `-p metric NAME`.")

# %%
fit.plot() if fit is not None else None

# %%
ck.reach.compare(c, metric=metric) if fit is not None else None

# %% [markdown]
# ## Step 4: the cost of the delay
#
# How long the company took, and what an earlier answer might have saved.

# %%
ck.response.delays(c)

# %%
# the response inside the curve; e estimated where the readings straddle the response, else
# the stated `effectiveness` (the result's first line says which)
cost = ck.response.delay_cost(fit, scenario_effectiveness=effectiveness) if fit is not None else None
cost if cost is not None else Markdown("No delay cost without a fitted curve (step 3).")

# %%
cost.plot() if cost is not None else None

# %%
ck.response.money_lenses(c, cost)

# %% [markdown]
# ## Next steps
#
# * Render a full report: `casekit render <your-case-id>` (with `CASEKIT_DATA` set).
# * Add your case to the comparison: `casekit render --notebook compare_cases`.
#
# ## About this notebook

# %%
ck.render.provenance(c)
