# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %%
import time

# %% tags=["parameters"]
seconds: float = 600.0  # how long the report sleeps

# %%

print("going to sleep", flush=True)
time.sleep(seconds)
