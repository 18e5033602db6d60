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
import plotly.express as px
from IPython.display import Markdown

import casekit as ck

catalog = ck.list_cases()
ids = cases or list(catalog.loc[catalog["valid"], "id"])
loaded = [ck.load_case(i) for i in ids]
catalog.loc[catalog["id"].isin(ids), ["id", "title", "company", "going_public", "synthetic"]]

# %% [markdown]
# ## Reach on one axis
#
# For each case, the first reach metric a growth curve can be fitted to (see the
# table), divided by the largest value recorded for it, against days since going
# public.

# %%
described = {c.id: ck.reach.describe(c) for c in loaded}
pd.DataFrame(
    [(i, ", ".join(d.fittable) or "none", d.explanation) for i, d in described.items()],
    columns=["case", "fittable metrics", "what the data allow"],
)

# %%
curves_by_case = {c.id: c.series(described[c.id].fittable[0]).assign(
    case=c.id, metric=described[c.id].fittable[0]) for c in loaded if described[c.id].fittable}
reach = pd.concat(
    [*curves_by_case.values(), pd.DataFrame(columns=["case", "metric", "t", "value", "source"])],
    ignore_index=True,
)
reach["share of final reach"] = reach["value"] / reach.groupby("case")["value"].transform("max")
drawn = reach[reach.groupby("case")["value"].transform("size") >= min_points]
fig = px.line(
    drawn[drawn["t"].between(-7, horizon)].sort_values(["case", "t"]),
    x="t", y="share of final reach", color="case", markers=True,
    hover_data=["metric", "value", "source"],
    labels={"t": "days since going public"},
    title="Share of final recorded reach, by days since going public",
    template=ck.plots.template(),
)
fig

# %%
Markdown(
    "*Figure sources:* "
    + "; ".join(f"{c}: {', '.join(sorted(set(g['source'].str.split(';').explode())))}"
                for c, g in drawn.groupby("case"))
    + f"\n\nNot drawn (no fittable metric, or fewer than {min_points} observations): "
    + (", ".join(sorted(set(ids) - set(drawn["case"]))) or "none")
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
# ## About this report

# %%
ck.render.provenance()
