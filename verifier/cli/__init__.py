"""`flask --app verifier <command>`: thin commands over the services, one module per area."""
import functools

import click
from flask.cli import with_appcontext

from host import wire

from ..services.errors import ServiceError
from . import console, ledger, registry

COMMANDS = registry.COMMANDS + console.COMMANDS + ledger.COMMANDS


def init_app(app):
    for c in COMMANDS:
        if not getattr(c, "_xinka_wrapped", False):
            c.callback = with_appcontext(_friendly(c.callback))
            c._xinka_wrapped = True
        app.cli.add_command(c)


def _friendly(fn):
    """Service and wire refusals become one-line errors (exit 1), not tracebacks."""
    @functools.wraps(fn)
    def wrapper(*a, **kw):
        try:
            return fn(*a, **kw)
        except (ServiceError, wire.WireError) as err:
            raise click.ClickException(f"{getattr(err, 'reason', 'error')}: {err}") from err
    return wrapper
