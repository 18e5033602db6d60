"""Parameter grids (casekit.render.grid and `casekit render --grid`): the cross product,
the report names, the checks before any kernel starts, --yes."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from casekit.cli import cli
from casekit.exceptions import ParameterError
from casekit.render import grid as G

NB = Path(__file__).parent / "notebooks"
TINY = str(NB / "tiny.py")


def run(*args: str):
    return CliRunner().invoke(cli, list(args), catch_exceptions=False)


def test_cross_product_in_order_with_declared_types():
    combos = G.expand_grid(TINY, {"n": "1,2", "label": ["a", "b", "c"]})
    assert combos[:4] == [
        {"n": 1, "label": "a"},
        {"n": 1, "label": "b"},
        {"n": 1, "label": "c"},
        {"n": 2, "label": "a"},
    ]
    assert len(combos) == 6


def test_list_parameters_take_alternatives_separated_by_semicolons():
    grid = G.parse_grid(["delays=0,1,3;0,7", "effectiveness=0.2,0.5,0.8"], "case_report")
    combos = G.expand_grid("case_report", grid)
    assert len(combos) == 6
    assert combos[0] == {"delays": [0.0, 1.0, 3.0], "effectiveness": 0.2}
    assert G.grid_name("case_report", combos[1]) == "case_report--delays=0,1,3--effectiveness=0.5"


def test_names_are_readable_safe_and_unique():
    assert G.grid_name(TINY, {"scale": 0.25, "label": "x y/z"}) == "tiny--scale=0.25--label=x_y_z"
    long = [G.grid_name(TINY, {"label": "a" * 300 + str(i)}) for i in range(3)]
    assert len(set(long)) == 3
    assert all(len(n.encode()) <= 200 for n in long)


@pytest.mark.parametrize(
    ("grid", "message"),
    [
        ({"nope": "1,2"}, "unknown parameter 'nope'"),
        ({"n": "1,two"}, "parameter 'n' must be int"),
        ({"scale": "0.5,1.5"}, "0 to 1"),
        ({"n": "1,1"}, "repeats a value"),
        ({"label": ""}, "no values"),
    ],
)
def test_bad_grids_are_refused_with_the_reason(grid, message):
    with pytest.raises(ParameterError, match=message.replace("(", r"\(")):
        G.expand_grid(TINY, grid)


def test_case_cannot_be_a_grid_and_ranges_come_from_the_help():
    with pytest.raises(ParameterError, match="'case' cannot be a grid"):
        G.expand_grid("case_report", {"case": "a,b"})
    with pytest.raises(ParameterError, match="0 to 0.99"):
        G.expand_grid("case_report", {"effectiveness": "0.5,1.2"})


def test_more_than_the_limit_needs_yes():
    many = {"n": [str(i) for i in range(G.GRID_LIMIT + 1)]}
    with pytest.raises(ParameterError, match="add --yes"):
        G.grid_specs(TINY, [None], many)
    specs = G.grid_specs(TINY, [None], many, yes=True)
    assert len(specs) == G.GRID_LIMIT + 1
    assert len({s.name for s in specs}) == len(specs)


def test_cli_grid_renders_the_product_named_and_grouped(tmp_path):
    out = tmp_path / "reports"
    res = run(
        "render",
        "-n",
        TINY,
        "--grid",
        "n=2,3",
        "--grid",
        "label=a,b",
        "--out",
        str(out),
        "--no-progress",
    )
    assert res.exit_code == 0, res.output
    folder = out / "all_cases"
    names = sorted(p.name for p in folder.glob("*.html"))
    assert names == [
        "tiny--n=2--label=a.html",
        "tiny--n=2--label=b.html",
        "tiny--n=3--label=a.html",
        "tiny--n=3--label=b.html",
    ]
    nb = json.loads((folder / "tiny--n=3--label=b.ipynb").read_text(encoding="utf-8"))
    assert "label=b n=3 scale=1.0" in json.dumps(nb["cells"])
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "grid of 4" in page
    assert len(re.findall(r'href="all_cases/tiny--n=\d--label=\w\.html"', page)) == 4
    assert "n=2, label=a" in page


def test_cli_bad_grid_fails_before_any_kernel(tmp_path):
    out = tmp_path / "reports"
    res = run("render", "-n", TINY, "--grid", "scale=0.5,2", "--out", str(out))
    assert res.exit_code == 1
    assert "0 to 1" in res.output
    assert not out.exists()
    res = run(
        "render", "-n", TINY, "--grid", "n=" + ",".join(map(str, range(1001))), "--out", str(out)
    )
    assert res.exit_code == 1
    assert "--yes" in res.output
    assert not out.exists()
