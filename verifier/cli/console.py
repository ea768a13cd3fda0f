"""Console and catalogue commands (`flask --app verifier …`): staff users, the message
catalogue. Registered by verifier/cli/__init__.py with the other commands."""
import click
from flask import current_app


@click.command("staff-create")
@click.argument("agency_id")
@click.argument("username")
@click.option("--name", "display_name", default=None, help="shown in the console")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="prompted for when omitted (at least 10 characters)")
@click.option("--actor", default="operator")
def staff_create(agency_id, username, display_name, password, actor):
    """Create a console user of an agency (password hashed with scrypt)."""
    from ..services import staff
    x = current_app.extensions["xinka"]
    with x.db.session() as s:
        staff.create_user(s, agency_id, username, password, x.now(), f"cli:{actor}",
                          display_name, x.config["STAFF_SCRYPT_N"])
    click.echo(f"staff user {username} created for {agency_id}")


@click.command("i18n-extract")
def i18n_extract():
    """Rewrite verifier/i18n/messages.pot from the sources and merge it into the .po files."""
    from ..i18n import tools
    missing = tools.update()
    for loc, ids in missing.items():
        click.echo(f"{loc}: {len(ids)} untranslated")
        for m in ids:
            click.echo(f"  {m}")


@click.command("i18n-compile")
@click.option("--out", "out_dir", default=None, help="default: beside each .po")
def i18n_compile(out_dir):
    """Write messages.mo for each locale: the catalogues the verifier loads (Flask-Babel)."""
    from ..i18n import tools
    for path in tools.compile_all(out_dir):
        click.echo(str(path))


@click.command("bureau-staff-create")
@click.argument("username")
@click.option("--name", "display_name", default=None, help="shown in the console")
@click.option("--password", prompt=True, hide_input=True, confirmation_prompt=True,
              help="prompted for when omitted (at least 10 characters)")
@click.option("--actor", default="operator")
def bureau_staff_create(username, display_name, password, actor):
    """Create a console user of the bureau: the bureau console (/bureau), no agency's."""
    from ..services import staff
    x = current_app.extensions["xinka"]
    with x.db.session() as s:
        staff.create_user(s, None, username, password, x.now(), f"cli:{actor}",
                          display_name, x.config["STAFF_SCRYPT_N"], role="bureau")
    click.echo(f"bureau staff user {username} created")


COMMANDS = [staff_create, bureau_staff_create, i18n_extract, i18n_compile]
