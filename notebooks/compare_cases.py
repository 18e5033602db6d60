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
# # Comparing the cases
#
# Every case on one normalised axis: days since the story went public, and the
# share of the final recorded reach. Then the delays and the quantified costs
# side by side. Cases differ in what was measured (views, posts, readers), so
# compare the *shapes* and the *timing*, not the absolute numbers.

# %% tags=["parameters"]
cases: list[str] = []  # case ids to compare; empty = every valid case found
horizon: int = 60  # days since going public shown on the normalised axis
min_points: int = 3  # a case needs this many observations of its main metric to be drawn

# %%
import pandas as pd
from IPython.display import Markdown, display

import casekit as ck
from casekit import format as fmt  # fmt.html_text escapes case text for Markdown

pd.set_option("display.max_rows", 500)  # show every row of the side-by-side tables
catalog = ck.list_cases()
ids = cases or list(catalog.loc[catalog["valid"], "id"])
loaded = [ck.load_case(i) for i in ids]
catalog.loc[catalog["id"].isin(ids), ["id", "title", "company", "going_public", "synthetic"]]

# %% [markdown]
# ## Reach on one axis
#
# For each case, its main reach metric (the case's own choice, or the first a
# growth curve can be fitted to; see the table), divided by the largest value
# recorded for it, against days since going public.

# %%
described = {c.id: ck.reach.describe(c) for c in loaded}
pd.DataFrame(
    [(i, ", ".join(d.fittable) or "none", d.explanation) for i, d in described.items()],
    columns=["case", "fittable metrics", "what the data allow"],
)

# %%
reach = ck.reach.normalised(loaded, min_points=min_points)
ck.plots.normalised_plot(reach, horizon=horizon)

# %%
Markdown(
    "*Figure sources:* "
    + fmt.html_text("; ".join(f"{c}: {', '.join(sorted(set(g['source'].str.split(';').explode())))}"
                              for c, g in reach.groupby("case")))
    + "\n\nNot drawn: "
    + fmt.html_text("; ".join(f"{c} ({why})" for c, why in reach.attrs["left_out"].items()) or "none")
)

# %% [markdown]
# ## Delays side by side
#
# Days between key dates. Empty cells are delays the sources do not allow us to
# compute: nothing is guessed.

# %%
pd.concat(
    [ck.response.delays(c).table.assign(case=c.id) for c in loaded], ignore_index=True
).pivot(index="delay", columns="case", values="days")

# %% [markdown]
# ## Costs side by side
#
# Quantified items per case, as the sources state them (each in its own currency
# and unit; never summed across cases).

# %%
pd.concat([c.costs.assign(case=c.id) for c in loaded], ignore_index=True)[
    ["case", "item", "category", "value", "unit", "qualifier", "kind", "source"]
]

# %% [markdown]
# ## Sources
#
# Every source declared in each case's folder, case by case; the figure caption
# and the `source` columns above name the ones each number comes from.

# %%
for c in loaded:
    display(Markdown(f"### {fmt.html_text(c.title)}"), c.source_list())

# %% [markdown]
# ## About this report

# %%
ck.render.provenance()
