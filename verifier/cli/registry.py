"""Registry, list and ledger commands (`flask --app verifier …`): schema, trust and status
lists, agencies, API keys, terminals, badge lifecycle, the audit chain."""
import json
import sys

import click
from flask import current_app


from ..migrate import upgrade
from ..services import (audit, bans, city_figures, complaints, disclosures, grades, links,
                        national, registry, status as status_service)
from .common import actor_name as _actor, xinka as _x


@click.command("db-upgrade")
@click.option("--revision", default="head")
def db_upgrade(revision):
    """Apply the Alembic migrations to DATABASE_URL."""
    upgrade(current_app.config["DATABASE_URL"], revision)
    click.echo(f"database at {revision}")


@click.command("trust-import")
@click.argument("path", type=click.File("rb"))
@click.option("--actor", default="operator")
def trust_import(path, actor):
    """Import an authority-signed trust list (refused unless newer and validly signed)."""
    x = _x()
    with x.db.session() as s:
        t = x.store.import_trust_list(s, path.read(), x.now(), _actor(actor))
    click.echo(f"trust list seq {t.seq}: {len(t)} agencies")


@click.command("status-import")
@click.argument("path", type=click.File("rb"))
@click.option("--actor", default="operator")
def status_import(path, actor):
    """Import a signed status list token (refused unless newer and validly signed)."""
    x = _x()
    with x.db.session() as s:
        x.store.refresh(s, x.now(), force=True)
        lst = x.store.import_status_list(s, path.read(), x.now(), _actor(actor))
    click.echo(f"status list {lst.uri} seq {lst.seq}")


@click.command("status-publish")
@click.argument("agency_id")
def status_publish(agency_id):
    """Sign and store the agency's next status list (needs its key in STATUS_KEY_DIR)."""
    x = _x()
    with x.db.session() as s:
        x.store.refresh(s, x.now(), force=True)
        token = status_service.publish(s, x.store, agency_id, x.signing_key(agency_id),
                                       x.config["STATUS_BASE_URL"], x.now(),
                                       x.config["STATUS_TTL_S"], x.config["STATUS_VALIDITY_S"])
    click.echo(f"published {len(token)} bytes for {agency_id}")


@click.command("agency-create")
@click.argument("agency_id")
@click.argument("name")
@click.option("--actor", default="operator")
def agency_create(agency_id, name, actor):
    x = _x()
    with x.db.session() as s:
        registry.create_agency(s, agency_id, name, x.now(), _actor(actor))
    click.echo(f"agency {agency_id} created")


@click.command("apikey-create")
@click.option("--agency", "agency_id", default=None, help="omit for an operator key")
@click.option("--bureau", is_flag=True, help="the bureau's key: the ban list and the person "
              "registry, no agency's data / 商务局密钥")
@click.option("--label", default="")
@click.option("--actor", default="operator")
def apikey_create(agency_id, bureau, label, actor):
    """Create an API key; it is printed once and stored hashed."""
    x = _x()
    with x.db.session() as s:
        secret = registry.create_api_key(s, agency_id, label, x.now(), _actor(actor),
                                         role="bureau" if bureau else None)
    click.echo(secret)


@click.command("terminal-create")
@click.argument("agency_id")
@click.argument("terminal_id")
@click.option("--label", default="")
@click.option("--actor", default="operator")
def terminal_create(agency_id, terminal_id, label, actor):
    """Register a terminal; its bearer token is printed once and stored hashed."""
    x = _x()
    with x.db.session() as s:
        secret = registry.create_terminal(s, agency_id, terminal_id, label, x.now(),
                                          _actor(actor))
    click.echo(secret)


def _badge_command(action):
    @click.command(f"badge-{action}")
    @click.argument("agency_id")
    @click.argument("badge_id", type=int)
    @click.option("--reason", required=True)
    @click.option("--actor", required=True)
    def command(agency_id, badge_id, reason, actor):
        x = _x()
        with x.db.session() as s:
            b = registry.transition(s, agency_id, badge_id, action, x.now(), _actor(actor),
                                    reason)
            x.store.refresh(s, x.now(), force=True)
            x.republish(s, agency_id)
        click.echo(f"badge {badge_id}: {b.state}")
    command.__doc__ = f"{action.capitalize()} a badge (with reason and actor); republishes " \
                      "the agency's status list when its key is configured."
    return command


@click.command("audit-verify")
def audit_verify():
    """Check the audit log's hash chain; exit 1 if it was altered."""
    x = _x()
    with x.db.session() as s:
        ok, n, bad = audit.verify_chain(s)
    if ok:
        click.echo(f"audit chain ok: {n} entries")
    else:
        click.echo(f"audit chain BROKEN at entry {bad} / 审计日志被篡改", err=True)
        sys.exit(1)


@click.command("id-numbers-seal")
@click.option("--actor", default="operator")
def id_numbers_seal(actor):
    """Seal the ID numbers kept in clear before migration 0009 (ID_SEAL_KEYS) and link the
    valid ones to their person file (PERSON_HASH_KEYS); run once after upgrading."""
    x = _x()
    with x.db.session() as s:
        linked, unlinked = registry.seal_clear_numbers(s, x.sealer, x.hasher, x.now(),
                                                       _actor(actor), x.config["TIMEZONE"])
    click.echo(f"{linked + unlinked} ID number(s) sealed: {linked} linked to a person file, "
               f"{unlinked} not valid (sealed, no file: correct them in the console)")


@click.command("ban-sweep")
def ban_sweep():
    """Record the bans that started or ended (revoking a starting ban's badges and
    republishing those agencies' status lists); run it from cron, e.g. every 10 minutes."""
    x = _x()
    with x.db.session() as s:
        change = bans.sweep(s, x.now(), "system:ban-sweep")
        for agency_id in sorted(change.agencies):
            x.republish(s, agency_id)
    click.echo(f"{len(change.revoked)} badge(s) revoked; status lists of "
               f"{', '.join(sorted(change.agencies)) or 'no agency'} republished")


@click.command("complaints-sweep")
def complaints_sweep():
    """Escalate to the bureau every complaint still open at its deadline (7 working days);
    run it from cron, e.g. every 10 minutes (it also happens whenever complaints are read)."""
    x = _x()
    with x.db.session() as s:
        n = complaints.escalate_overdue(s, x.now())
    click.echo(f"{n} complaint(s) escalated to the bureau")


@click.command("credit-recompute")
def credit_recompute():
    """Apply the credit rules to every active worker (run it daily, e.g. from the
    xinka-credit timer): the first run of a quarter writes each worker's quarterly grade, a
    new rule version writes a grade for everyone, otherwise only changes are written."""
    x = _x()
    with x.db.session() as s:
        counts = grades.recompute_all(s, x.now(), x.grading)
    click.echo(f"rules {x.grading.rules.version}: " +
               ", ".join(f"{n} {what}" for what, n in counts.items()))


@click.command("disclosures-purge")
def disclosures_purge():
    """Delete the disclosure log's rows older than DISCLOSURE_RETENTION_DAYS, keeping their
    anonymised counts, and the worker pages' expired codes, sessions and guesses (nightly,
    from the xinka-credit timer; docs/operator.md "Retention")."""
    x = _x()
    days = int(x.config["DISCLOSURE_RETENTION_DAYS"])
    with x.db.session() as s:
        n = disclosures.purge(s, x.now(), days * 86400)
        gone = links.purge(s, x.now())
    click.echo(f"{n} disclosure(s) older than {days} days purged; {gone} expired link "
               "code(s), worker session(s) and guess(es) deleted")


@click.command("city-refresh")
def city_refresh():
    """Count the bureau console's figures again and store them (every 5 minutes, from
    xinka-city.timer; the pages read them while younger than CITY_FIGURES_MAX_AGE_S)."""
    x = _x()
    with x.db.session() as s:
        f = city_figures.refresh(s, x.now(), x.config["TIMEZONE"], x.config["PERIOD_START_DAY"])
    t = f["export"]["totals"]
    click.echo(f"city figures counted: {t['agencies']} agencies, {t['active_workers']} active "
               "workers")


@click.command("national-export")
@click.option("--format", "fmt", type=click.Choice(["json", "csv"]), default="json",
              show_default=True)
@click.option("--out", type=click.Path(dir_okay=False, writable=True), default="-",
              help="file to write (default: standard output)")
def national_export(fmt, out):
    """Write the national export (docs/national-export.md): counts and hashes, no personal
    data; the same document as GET /api/v1/bureau/export."""
    x = _x()
    with x.db.session() as s:
        data = national.export(s, x.now(), x.config["TIMEZONE"], x.config["PERIOD_START_DAY"])
    text = national.to_csv(data) if fmt == "csv" else \
        json.dumps(data, ensure_ascii=False, indent=1) + "\n"
    if out == "-":
        click.echo(text, nl=False)
        return
    with open(out, "w", encoding="utf-8", newline="") as f:
        f.write(text)
    click.echo(f"{len(data['agencies'])} agencies, period {data['period']}: {out}", err=True)


COMMANDS = [db_upgrade, trust_import, status_import, status_publish, agency_create,
            apikey_create, terminal_create, audit_verify, ban_sweep, complaints_sweep,
            credit_recompute, disclosures_purge, city_refresh, national_export,
            id_numbers_seal] + \
    [_badge_command(a) for a in ("activate", "suspend", "lose", "reinstate", "revoke")]
