"""What every command module needs: the app's Xinka extension and the audit actor name."""
from flask import current_app


def xinka():
    return current_app.extensions["xinka"]


def actor_name(actor):
    return f"cli:{actor}"
