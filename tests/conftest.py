from __future__ import annotations

import shutil
from pathlib import Path

import pytest

import casekit as ck

REPO_ROOT = Path(__file__).resolve().parents[1]
SYNTHETIC = Path(ck.__file__).resolve().parent / "examples" / "synthetic-example"
SEED_CASES = ("united-breaks-guitars", "range-rover-colchester", "werder-bremen-wiesenhof")
SHARED = REPO_ROOT.parent / "shared" / "research"


@pytest.fixture
def case_dir(tmp_path) -> Path:
    """A writable copy of the synthetic example case, named to match its id."""
    target = tmp_path / "synthetic-example"
    shutil.copytree(SYNTHETIC, target)
    return target


@pytest.fixture(scope="session")
def prices_dir() -> Path:
    """The reference 2009 price files in ../shared (read there, never copied into the repo)."""
    path = SHARED / "prices"
    if not (path / "UAL_2009_yahoo.csv").is_file():
        pytest.fail(f"reference price data not found at {path}: the repository expects "
                    "../shared/research/prices beside it (CI provides it)")
    return path
