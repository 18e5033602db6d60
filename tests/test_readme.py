"""Every Python example in the README runs, as a user would paste it."""

from __future__ import annotations

import re

import pytest
from conftest import REPO_ROOT, SHARED

README = (REPO_ROOT / "README.md").read_text(encoding="utf-8")
BLOCKS = re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_python_examples():
    assert BLOCKS and "ck.load_case" in BLOCKS[0]


@pytest.mark.parametrize("block", BLOCKS, ids=[f"block{i}" for i in range(len(BLOCKS))])
def test_readme_example_runs(block, monkeypatch, capsys):
    monkeypatch.chdir(REPO_ROOT)
    if "shared/research/prices" in block and not (SHARED / "prices").is_dir():
        # without the reference prices, run everything up to the market lines
        block = block[: block.index("study = ")]
    namespace: dict = {}
    exec(compile(block, "README.md", "exec"), namespace)  # noqa: S102
    if "study" in namespace:
        out = capsys.readouterr().out
        assert "The data" in out and "claim" in out
    if "cost" in namespace:
        assert {"lower", "upper"} <= set(namespace["cost"].table.columns)
