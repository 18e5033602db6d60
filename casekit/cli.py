"""The ``casekit`` command line.

Every error caused by bad data or bad parameters is printed as a message
(file, row, column, what is wrong, what would be right) with exit status 1;
usage mistakes exit with status 2. No traceback reaches the user for those.
"""

from __future__ import annotations

import sys

import click

from casekit import cases as _cases
from casekit.exceptions import CasekitError


class _Group(click.Group):
    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except CasekitError as err:
            click.secho(f"error: {err}", fg="red", err=True)
            ctx.exit(1)


@click.group(cls=_Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="casekit")
def cli() -> None:
    """Analyse recorded case studies of customer complaints that went public."""


@cli.command("cases")
@click.option(
    "--data-dir",
    "data_dir",
    multiple=True,
    type=click.Path(file_okay=False),
    help="Another folder of cases to list (also: CASEKIT_DATA).",
)
def cases_cmd(data_dir: tuple[str, ...]) -> None:
    """List the cases casekit can find."""
    df = _cases.list_cases(extra_dirs=data_dir)
    if df.empty:
        click.echo("no cases found")
        return
    view = df[
        ["id", "title", "going_public", "events", "reach_rows", "cost_rows", "sources", "valid"]
    ].copy()
    view["going_public"] = view["going_public"].map(
        lambda d: "unknown" if d is None or d != d else str(d)[:10]
    )
    view["title"] = view["title"].fillna("(invalid: run casekit validate)").str.slice(0, 48)
    click.echo(view.to_string(index=False))


@cli.command("validate")
@click.argument("paths", nargs=-1)
def validate_cmd(paths: tuple[str, ...]) -> None:
    """Check case folders (ids or paths; default: every case found).

    A name such as my-case is the folder ./my-case when it holds a case.yaml, else a case
    id. Exit status 0 when all are valid, 1 otherwise, with every problem listed.
    """
    targets = list(paths) or list(_cases.list_cases()["path"])
    bad = 0
    for ref in targets:
        problems = _cases.validate(ref)
        if problems:
            bad += 1
            click.secho(f"{ref}: {len(problems)} problem(s)", fg="red", err=True)
            for p in problems:
                click.echo(f"  - {p}", err=True)
        else:
            click.echo(f"{ref}: valid")
    if bad:
        sys.exit(1)


@cli.command("new")
@click.argument("case_id")
@click.option(
    "--dir",
    "directory",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Folder to create the case folder in.",
)
def new_cmd(case_id: str, directory: str) -> None:
    """Scaffold a new, valid, empty case folder CASE_ID."""
    try:
        path = _cases.new_case(case_id, directory)
    except FileExistsError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"created {path}")
    click.echo("next: fill in case.yaml and the three CSVs (see its README.md), then run")
    click.echo(f"  casekit validate {path}")


@cli.command("params")
@click.argument("notebook", required=False)
def params_cmd(notebook: str | None) -> None:
    """List a notebook's parameters (name, type, default, help); no NOTEBOOK: list notebooks."""
    from casekit import render as _render

    if notebook is None:
        for name in _render.list_notebooks():
            click.echo(name)
        return
    click.echo(f"{notebook} parameters (use: casekit render ... -p NAME VALUE):")
    click.echo(_render.describe_params(notebook))


@cli.command("render")
@click.argument("cases", nargs=-1)
@click.option(
    "--all",
    "all_",
    is_flag=True,
    help="Every case's report, plus compare_cases, and classroom for each case "
    "marked `classroom: true` in its case.yaml.",
)
@click.option(
    "--notebook",
    "-n",
    default=None,
    metavar="NAME",
    help="Notebook name (default case_report; `casekit params` lists them) or a "
    "path to a notebook file.",
)
@click.option(
    "-p",
    "--param",
    "params",
    nargs=2,
    multiple=True,
    metavar="KEY VALUE",
    help="A notebook parameter; repeatable. Lists: -p delays 0,1,7.",
)
@click.option(
    "--jobs",
    "-j",
    default=1,
    show_default=True,
    type=click.IntRange(min=1),
    help="Reports rendered in parallel, each in its own process.",
)
@click.option(
    "--out",
    "out_dir",
    default="reports",
    show_default=True,
    type=click.Path(file_okay=False),
    help="Output folder.",
)
@click.option("--show-code", is_flag=True, help="Show the code cells in the HTML.")
@click.option("--force", is_flag=True, help="Render even reports whose inputs are unchanged.")
@click.option(
    "--progress/--no-progress",
    default=None,
    help="Progress bar on stderr (default: on a terminal only).",
)
@click.option(
    "--grid",
    "grid",
    multiple=True,
    metavar="NAME=V1,V2",
    help="Render every combination of these values, each report named by them; repeatable. "
    'List parameters separate alternatives with ";": --grid "delays=0,1,3;0,7".',
)
@click.option("--yes", is_flag=True, help="Render a grid of more than 1,000 reports.")
@click.option(
    "--kernel",
    type=click.Choice(["warm", "fresh"]),
    default="warm",
    show_default=True,
    help="warm: each report gets a kernel forked with the imports done; fresh: a new kernel.",
)
@click.option(
    "--timeout",
    type=click.FloatRange(min=0, min_open=True),
    default=None,
    metavar="SECONDS",
    help="Stop a report that runs longer, all its cells together (it fails; its log is kept).",
)
@click.option(
    "--scheduler",
    default=None,
    envvar="CASEKIT_SCHEDULER",
    metavar="tcp://HOST:PORT",
    help="Render on this Dask scheduler's workers (also: CASEKIT_SCHEDULER).",
)
@click.option(
    "--format",
    "format_",
    type=click.Choice(["html", "pdf", "png", "all"]),
    default="html",
    show_default=True,
    help="Besides each HTML report: its PDF (printed by Chromium), a PNG of each figure "
    "(<notebook>_figures/, for slides), or all.",
)
def render_cmd(
    cases: tuple[str, ...],
    all_: bool,
    notebook: str | None,
    params: tuple[tuple[str, str], ...],
    jobs: int,
    out_dir: str,
    show_code: bool,
    force: bool,
    progress: bool | None,
    grid: tuple[str, ...],
    yes: bool,
    kernel: str,
    timeout: float | None,
    scheduler: str | None,
    format_: str,
) -> None:
    """Render notebooks for CASE ... (or --all) into HTML reports under --out.

    Writes OUT/<case>/<notebook>.html and .ipynb, a log per report, OUT/index.html
    and one shared OUT/plotly.min.js (reports open offline). Parameters are checked
    before any kernel starts. Reports whose notebook, case data, parameters and
    casekit code are unchanged are reused unless --force. The market section of
    case_report reads price files from -p prices_dir PATH or $CASEKIT_PRICES.

    Exit status 1 if any report failed (the table says which, with its log).
    """
    from casekit import render as _render
    from casekit.exceptions import ParameterError

    given: dict[str, str] = {}
    for key, value in params:
        if key in given:
            raise ParameterError(
                f"parameter {key!r} given twice (-p {key} {given[key]!r}, -p {key} {value!r})"
            )
        given[key] = value
    if all_ and cases:
        raise click.UsageError("give case ids or --all, not both")
    if grid and all_ and notebook is None:
        raise click.UsageError("--grid needs one notebook: name the cases (or --all) and -n")
    if all_ and notebook is None:
        names = set()
        for nb in ("case_report", "compare_cases", "classroom"):
            names |= {p.name for p in _render.notebook_params(nb)}
        unknown = sorted(set(given) - names)
        if unknown:
            raise ParameterError(
                f"unknown parameter(s) {', '.join(map(repr, unknown))} for --all; valid "
                f"parameters:\n"
                + "\n".join(
                    f"{nb}:\n{_render.describe_params(nb)}"
                    for nb in ("case_report", "compare_cases", "classroom")
                )
            )
        specs = _render.bundled_specs(given)
    else:
        nb = notebook or "case_report"
        takes_case = any(p.name == "case" for p in _render.notebook_params(nb))
        if all_:
            if not takes_case:
                raise click.UsageError(f"notebook {nb!r} takes no case; drop --all")
            from casekit import cases as _cases

            listed = _cases.list_cases()
            targets = [c for c, ok in zip(listed["id"], listed["valid"], strict=True) if ok]
        else:
            targets = list(cases)
        if takes_case and not targets:
            raise click.UsageError(
                f"name the case(s) to render with {nb!r}, or use --all (`casekit cases` lists them)"
            )
        if not takes_case and targets:
            raise ParameterError(
                f"notebook {nb!r} takes no case; valid parameters:\n" + _render.describe_params(nb)
            )
        if grid:
            from casekit.render.grid import grid_specs, parse_grid

            specs = grid_specs(
                nb,
                targets if takes_case else [None],
                parse_grid(grid, nb),
                _render.coerce_params(nb, given),
                yes=yes,
            )
        else:
            specs = (
                [_render.Spec(nb, c, given) for c in targets]
                if takes_case
                else [_render.Spec(nb, None, given)]
            )
    # this process has run only casekit's code: its fork server may be a fork of it,
    # with the imports done here already (casekit.render.server_process)
    from casekit.render.server_process import fork_start_allowed

    try:
        with fork_start_allowed():
            batch = _render.render_batch(
                specs,
                jobs=jobs,
                out_dir=out_dir,
                show_code=show_code,
                force=force,
                progress=progress,
                kernel=kernel,
                timeout=timeout,
                scheduler=scheduler or None,
                format=format_,
            )
    except OSError as err:  # e.g. the disk filled up outside any one report
        raise _render.RenderError(
            f"render stopped: {err.strerror or err}"
            + (f" ({err.filename})" if err.filename else "")
            + f"; reports already in {out_dir} are as they were"
        ) from None
    click.echo(batch.table())
    if not batch.ok:
        sys.exit(1)


def main() -> None:
    """Entry point of the ``casekit`` script."""
    cli(prog_name="casekit")
