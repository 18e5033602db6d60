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
@click.option("--data-dir", "data_dir", multiple=True, type=click.Path(file_okay=False),
              help="Another folder of cases to list (also: CASEKIT_DATA).")
def cases_cmd(data_dir: tuple[str, ...]) -> None:
    """List the cases casekit can find."""
    df = _cases.list_cases(extra_dirs=data_dir)
    if df.empty:
        click.echo("no cases found")
        return
    view = df[["id", "title", "going_public", "events", "reach_rows", "cost_rows", "sources",
               "valid"]].copy()
    view["going_public"] = view["going_public"].map(
        lambda d: "unknown" if d is None or d != d else str(d)[:10])
    view["title"] = view["title"].fillna("(invalid: run casekit validate)").str.slice(0, 48)
    click.echo(view.to_string(index=False))


@cli.command("validate")
@click.argument("paths", nargs=-1)
def validate_cmd(paths: tuple[str, ...]) -> None:
    """Check case folders (ids or paths; default: every case found).

    Exit status 0 when all are valid, 1 otherwise, with every problem listed.
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
@click.option("--dir", "directory", default=".", show_default=True,
              type=click.Path(file_okay=False), help="Folder to create the case folder in.")
def new_cmd(case_id: str, directory: str) -> None:
    """Scaffold a new, valid, empty case folder CASE_ID."""
    try:
        path = _cases.new_case(case_id, directory)
    except FileExistsError as err:
        raise click.ClickException(str(err)) from None
    click.echo(f"created {path}")
    click.echo("next: fill in case.yaml and the three CSVs (see its README.md), then run")
    click.echo(f"  casekit validate {path}")


def main() -> None:
    """Entry point of the ``casekit`` script."""
    cli(prog_name="casekit")
