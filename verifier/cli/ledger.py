"""Attendance ledger commands (`flask --app verifier …`): the monthly partitions on
PostgreSQL and the rollup's counters (services/partitions.py, services/rollup.py)."""
import click

from ..services import partitions, rollup
from .common import xinka as _x


@click.command("attendance-partitions")
@click.option("--ahead", default=3, show_default=True, type=click.IntRange(0, 36),
              help="periods after the current one to create")
def attendance_partitions(ahead):
    """Create the attendance partitions of the current period and the next AHEAD, and of
    every period found in the default partition (its rows moved); idempotent (daily, from
    xinka-attendance-partitions.timer). SQLite: nothing to do."""
    x = _x()
    with x.db.session() as s:
        if not partitions.partitioned(s):
            click.echo("attendance is not partitioned here (SQLite): nothing to do")
            return
        want = partitions.periods_ahead(x.now(), x.config["TIMEZONE"],
                                        x.config["PERIOD_START_DAY"], ahead)
        result = partitions.ensure(s, want)
        months = partitions.months(s)
    if not result.created:
        click.echo(f"nothing to do: {want[0]}..{want[-1]} have their partitions "
                   f"({len(months)} in all, {months[0]}..{months[-1]})")
        return
    for p in result.created:
        moved = result.moved.get(p)
        click.echo(f"{partitions.name(p)} created" +
                   (f", {moved} row(s) moved out of {partitions.DEFAULT}" if moved else ""))


@click.command("attendance-rollup")
@click.option("--rebuild", is_flag=True, help="count the counters again from the raw rows")
def attendance_rollup(rebuild):
    """Check the rollup's counters (check-ins per agency and month, active workers per agency)
    against a count of the raw rows, exit 1 on a difference; --rebuild counts them again
    (holding off writers meanwhile)."""
    x = _x()
    with x.db.session() as s:
        if rebuild:
            periods, agencies = rollup.rebuild(s)
            click.echo(f"rollup counted again: {periods} (agency, period) rows, "
                       f"{agencies} agencies")
            return
        stored, counted = rollup.stored(s), rollup.live(s)
    wrong = sorted({k for k in stored[0].keys() | counted[0].keys()
                    if stored[0].get(k) != counted[0].get(k)})
    wrong_w = sorted({a for a in stored[1].keys() | counted[1].keys()
                      if stored[1].get(a) != counted[1].get(a)})
    if wrong or wrong_w:
        for a, p in wrong[:20]:
            click.echo(f"{a} {p}: stored {stored[0].get((a, p))}, counted "
                       f"{counted[0].get((a, p))}", err=True)
        for a in wrong_w[:20]:
            click.echo(f"{a}: {stored[1].get(a)} active stored, {counted[1].get(a)} counted",
                       err=True)
        raise click.ClickException(f"rollup differs from the raw rows: {len(wrong)} "
                                   f"(agency, period) and {len(wrong_w)} agency counts; "
                                   "flask attendance-rollup --rebuild counts them again")
    click.echo(f"rollup agrees with the raw rows: {len(stored[0])} (agency, period) rows, "
               f"{len(stored[1])} agencies")


COMMANDS = [attendance_partitions, attendance_rollup]
