"""The verifier service: `create_app(test_config=None)` (Flask application factory).

Nothing happens at import time; the database is touched only by requests and commands, and
the schema only by `flask --app verifier db-upgrade` (Alembic)."""
import os

from flask import Flask

from . import config


def create_app(test_config=None):
    app = Flask(__name__, instance_relative_config=True)
    config.load(app.config, test_config)
    if not app.config["DATABASE_URL"]:
        os.makedirs(app.instance_path, exist_ok=True)
        app.config["DATABASE_URL"] = "sqlite:///" + os.path.join(app.instance_path,
                                                                 "xinka.sqlite")
    app.config["MAX_CONTENT_LENGTH"] = max(app.config["CHECKIN_MAX_BYTES"],
                                           app.config["VERIFY_MAX_BYTES"], 16 * 1024 * 1024)
    app.json.sort_keys = False
    app.json.ensure_ascii = False

    from . import cli
    from .extension import Xinka
    from .views import init_app as init_views
    Xinka().init_app(app)
    init_views(app)
    cli.init_app(app)
    return app
