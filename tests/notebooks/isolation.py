# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %%
import json
import statistics

import pandas as pd

# %% tags=["parameters"]
turn: int = 0  # which report of the batch this is

# %%
# What this kernel found before running anything of its own: every report must find the
# same, whatever the reports before it did.
found = {
    "global": "LEFT_BY_EARLIER_REPORT" in globals(),
    "max_rows": pd.get_option("display.max_rows"),
    "patched": getattr(statistics, "casekit_patched", False),
    "mean": statistics.mean([1, 2, 3]),
}
print("FOUND " + json.dumps(found, sort_keys=True))

# %%
# Now leave a mess behind.
LEFT_BY_EARLIER_REPORT = turn
pd.set_option("display.max_rows", 7)
statistics.casekit_patched = True
statistics.mean = lambda values: 42
