# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %%
import os
import signal
import time

# %% tags=["parameters"]
turn: int = 0  # which report of the batch this is
killer: int = 2  # the turn that kills its worker


# %%
# A warm kernel's parent is the worker's fork server, whose parent is the Dask worker:
# this report kills the worker that renders it (the test of a worker dying mid-report).
def parent_of(pid: int) -> int:
    with open(f"/proc/{pid}/stat") as fh:
        return int(fh.read().rsplit(")", 1)[1].split()[1])


time.sleep(0.5)
if turn == killer:
    os.kill(parent_of(os.getppid()), signal.SIGKILL)
    time.sleep(60)
print(f"turn {turn} done")
