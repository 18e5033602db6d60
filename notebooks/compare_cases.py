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
# share of the final reach of the growth curve fitted to it (its saturation),
# with that saturation's interval. Then the delays and the quantified costs
# side by side. Cases differ in what was measured (views, posts, readers), so
# compare the *shapes* and the *timing*, not the absolute numbers.

# %% tags=["parameters"]
cases: list[str] = []  # case ids to compare; empty = every valid case found
horizon: int = 0  # days since going public shown on the normalised axis; 0 = every reading [0, inf)
min_points: int = 3  # a case needs this many observations of its main metric to be drawn [1, inf)

# %%
import pandas as pd

import casekit as ck
from casekit.report import views as V

catalog = ck.list_cases()
ids = cases or list(catalog.loc[catalog["valid"], "id"])
loaded = [ck.load_case(i) for i in ids]
V.table(catalog.loc[catalog["id"].isin(ids), ["id", "title", "company", "going_public", "synthetic"]],
        labels={"going_public": "went public"}, missing={"going_public": "not dated"})

# %% [markdown]
# ## Reach on one axis
#
# For each case, its main reach metric (the case's own choice, or the first a
# growth curve can be fitted to), divided by the saturation of the best growth
# curve fitted to it: every fitted curve ends at 100 %. The error bars carry the
# saturation's 95 % interval; days run on a log scale, so the first days and the
# long tail both show.

# %%
frame, fits = ck.report.by_saturation(loaded, min_points=min_points)
V.saturation_table(fits)

# %%
ck.report.saturation_plot(frame, fits, horizon=horizon)

# %%
ck.report.caption(1, "Reach as a share of each case's fitted saturation",
                  ck.report.source_ids(frame))

# %% [markdown]
# ## Delays side by side
#
# Days between key dates. A dash marks a delay the sources do not allow us to
# compute: nothing is guessed.

# %%
V.table(pd.concat(
    [ck.response.delays(c).table.assign(case=c.id) for c in loaded], ignore_index=True
).pivot(index="delay", columns="case", values="days").reset_index(),
    missing={c.id: "dates unknown" for c in loaded})

# %% [markdown]
# ## Costs side by side
#
# Quantified items per case, as the sources state them (each in its own currency
# and unit; never summed across cases).

# %%
V.table(pd.concat([c.costs.assign(case=c.id) for c in loaded], ignore_index=True)[
    ["case", "item", "category", "value", "unit", "qualifier", "kind", "source"]
], missing={"value": "not quantified"})

# %% [markdown]
# <a id="sources"></a>
#
# ## Sources
#
# Every source declared in each case's folder, case by case; the figure caption
# and the `source` columns above name the ones each number comes from.

# %%
V.sources_view(loaded)

# %% [markdown]
# ## About this report

# %%
V.provenance_view(ck.render.provenance())
