# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # A tiny report
#
# Used by the tests of warm kernels, grids and the cluster: a table, a figure, a print.

# %%
import pandas as pd
import plotly.graph_objects as go
from IPython.display import display

# %% tags=["parameters"]
n: int = 3  # rows of the table
scale: float = 1.0  # share of the values kept (0 = none, 1 = all)
label: str = "a"  # a word printed in the report

# %%

df = pd.DataFrame({"x": range(n), "y": [scale * i**2 for i in range(n)]})
print(f"label={label} n={n} scale={scale}")
display(df)

# %%
fig = go.Figure(go.Scatter(x=df["x"], y=df["y"], name=label))
fig.update_layout(title=f"{label}: {n} points")
fig.show()

# %%
if label == "boom":
    raise ValueError(f"label {label!r} makes this report fail")
print(df["y"].sum())
