"""Console program: `python -m host.terminal --device udp:127.0.0.1:PORT --verifier URL
--token xt_... --terminal-id T-A330100-01 --agency A330100 --authority-key KEY`.

A thin click command over DeskTerminal; `main(argv=None, device=None)` lets a test hand in a
ContactlessFrontend it opened itself. Works with every reader nfcpy opens (`usb`,
`usb:054c:06c1`, `tty:USB0:pn532`, ...) and with `udp:` simulated badges.
"""
import logging
import os
import pathlib
import sys
import threading
import time

import click
import nfc

from host import wire
from host.tool import ToolLogging
from xinka import linkcode

from .desk import Clock, DeskTerminal, render, render_error, render_link, status_line
from .errors import NoBadge, TerminalError
from .http import Client, Offline
from .journal import Journal
from .lists import Lists
from .sync import Syncer

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_logging = ToolLogging(("host",))  # the terminal's modules and the wire library
log = logging.getLogger(__name__)


@click.command(context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--device", default="usb", show_default=True, help="nfcpy device path")
@click.option("--verifier", "verifier_url", required=True, help="verifier base URL")
@click.option("--token", required=True, help="terminal token (xt_...)")
@click.option("--terminal-id", required=True)
@click.option("--agency", "agency_id", required=True)
@click.option("--authority-key", required=True,
              help="authority public key: COSE_Key hex or PEM, text or file")
@click.option("--data", "data_dir", default="./terminal-data", show_default=True,
              type=click.Path(file_okay=False), help="journal and cached lists")
@click.option("--trust", "trust_file", type=click.Path(exists=True, dir_okay=False),
              help="a trust list file to start with (before the first sync)")
@click.option("--taps", default=0, show_default=True, help="stop after N taps (0: run on)")
@click.option("--cooldown-s", default=120, show_default=True)
@click.option("--unknown-policy", type=click.Choice(["accept", "refuse"]), default="accept",
              show_default=True, help="what an unreadable status list means")
@click.option("--now", "start_time", type=int, default=None,
              help="simulations: terminal clock starts here (Unix s)")
@click.option("--hold-s", default=0.0, help="after a tap, wait this long for the badge to "
              "leave before the next (0: until it leaves)")
@click.option("--sync-wait-s", default=0.0, help="on exit, keep syncing this long")
@click.option("--sync-only", is_flag=True, help="no reader: upload the journal and refresh "
              "the lists until nothing is pending (or --sync-wait-s passed), then exit")
@click.option("--batch", default=100, show_default=True, help="check-ins per upload")
@click.option("--no-colour", is_flag=True)
@click.option("--no-qr", is_flag=True, help="after a check-in, the link code without its QR code")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False),
              default="INFO", show_default=True, envvar="XINKA_TERMINAL_LOG_LEVEL",
              help="log lines (check-ins, uploads, sync failures) to stderr from this level on")
@click.pass_context
def command(ctx, device, verifier_url, token, terminal_id, agency_id, authority_key, data_dir,
            trust_file, taps, cooldown_s, unknown_policy, start_time, hold_s, sync_wait_s,
            sync_only, batch, no_colour, no_qr, log_level):
    """Desk check-in terminal / 前台打卡终端."""
    _logging.start(log_level)
    log.info("terminal %s (agency %s) starting: verifier %s, data %s, device %s, cool-down "
             "%d s, unknown status: %s%s", terminal_id, agency_id, verifier_url, data_dir,
             "none (sync only)" if sync_only else device, cooldown_s, unknown_policy,
             f", clock starts at {start_time}" if start_time is not None else "")
    out = ctx.obj["out"]
    colour = not no_colour and out.isatty()
    clock = Clock(start_time)
    pathlib.Path(data_dir).mkdir(parents=True, exist_ok=True)
    journal = Journal(str(pathlib.Path(data_dir) / "journal.sqlite"))
    lists = Lists(data_dir, load_authority_key(authority_key), clock)
    if trust_file:
        with open(trust_file, "rb") as f:
            lists.load_trust(f.read())
    client = Client(verifier_url, token)
    syncer = Syncer(journal, client, lists, [agency_id], clock, batch=batch)
    desk = DeskTerminal(terminal_id, agency_id, journal, lists, clock, cooldown_s,
                        unknown_policy, on_journal=syncer.kick)
    syncer.start()
    if sync_only:
        try:
            _drain(journal, syncer, sync_wait_s or 60.0, lists_too=True)
            print(status_line(journal, syncer, lists, clock), file=out, flush=True)
            return 0 if not journal.counts().get("pending") else 1
        finally:
            syncer.stop()
            journal.close()
    link_key = linkcode.link_key(token)
    clf = ctx.obj["device"] or nfc.ContactlessFrontend(device)
    stop = threading.Event()
    done = 0
    try:
        print(f"terminal {terminal_id} ({agency_id}) on {device}: tap a badge / 请贴卡", file=out)
        print(status_line(journal, syncer, lists, clock), file=out, flush=True)
        while not taps or done < taps:
            try:
                v, badge = desk.tap(clf, stop.is_set)
            except NoBadge:
                break
            except TerminalError as err:
                log.info("tap not completed: %s", err)
                print(render_error(err, colour), file=out, flush=True)
                continue
            done += 1
            print(render(v, colour) + ("\a" if colour else ""), file=out, flush=True)
            shown = render_link(v, verifier_url, link_key, qr=not no_qr)
            if shown:
                print(shown, file=out, flush=True)
            print(status_line(journal, syncer, lists, clock), file=out, flush=True)
            if not taps or done < taps:
                _wait_gone(badge, hold_s)
        if sync_wait_s:
            _drain(journal, syncer, sync_wait_s)
        print(status_line(journal, syncer, lists, clock), file=out, flush=True)
    finally:
        stop.set()
        syncer.stop()
        if ctx.obj["device"] is None:
            clf.close()
        journal.close()
    return 0


def _wait_gone(badge, hold_s):
    end = time.monotonic() + hold_s if hold_s else None
    while badge.present():
        if end is not None and time.monotonic() > end:
            return
        time.sleep(0.1)


def _drain(journal, syncer, seconds, lists_too=False):
    end = time.monotonic() + seconds
    syncer.kick()
    while time.monotonic() < end and (journal.counts().get("pending", 0) or
                                      (lists_too and syncer.last_sync is None)):
        time.sleep(0.1)


def load_authority_key(value):
    """The authority public key: COSE_Key hex or PEM, as text or in a file."""
    from cryptography.hazmat.primitives.serialization import load_pem_public_key
    if os.path.isfile(value):
        with open(value, encoding="ascii") as f:
            value = f.read()
    value = value.strip()
    try:
        if "BEGIN" in value:
            return wire.keys.public_key_of(load_pem_public_key(value.encode()))
        return wire.decode_cose_key(wire.decode(bytes.fromhex(value), 1024))[0]
    except (ValueError, wire.WireError) as err:
        raise click.BadParameter(f"authority key: {err} / 根公钥无效") from err


def main(argv=None, device=None, out=None):
    """Exit code; `device`: an open ContactlessFrontend to use instead of --device."""
    try:
        return command.main(args=argv, standalone_mode=False,
                            obj={"device": device, "out": out or sys.stdout}) or 0
    except click.ClickException as err:
        err.show()
        return err.exit_code
    except (Offline, TerminalError) as err:
        print(err, file=sys.stderr)
        return 1
    finally:
        _logging.stop()
