"""The configuration `provision terminal flash` puts on an ESP32-S3 check-in terminal, checked
before anything is written (docs/technician.md "Flashing a terminal").

What the terminal firmware reads from its flash (firmware/terminal/app.py, board_esp32s3.py),
under the pin map's `flash.fs_mount` (/flash):

  terminal.json   {"id", "authority": SEC1 hex of the trust anchor, "verifier": {"host",
                  "port", "token"}, "cooldown_s", "capacity", "batch"}: the id and token that
                  `flask --app verifier terminal-create` gave (docs/operator.md)
  trust.cose      the authority's signed trust list (verified here with the anchor, as the
                  terminal verifies it at boot: one that does not verify would stop its boot)
  wifi.json       {"ssid", "key"}, optional (the pin map's `wifi.config`)

The terminal's sync speaks plain HTTP (firmware/terminal/httpc.py), so the verifier URL is
http://host[:port]. The files are written into a private temporary folder for mpremote and
removed after; the token never appears on a command line or in a log line.
"""
import json
import logging
import os
import pathlib
import time
import urllib.parse

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from host import wire
from host.wire import keys
from host.wire.errors import WireError

from .errors import ConfigError

log = logging.getLogger(__name__)

DEFAULTS = {"cooldown_s": 120, "capacity": 1000, "batch": 20}


def _bad(detail, zh, en):
    return ConfigError(detail, zh=zh, en=en)


def verifier_address(url):
    """(host, port) of an http:// verifier URL; ConfigError for anything the terminal cannot
    reach with its plain-HTTP client."""
    u = urllib.parse.urlsplit(url or "")
    try:
        port = u.port or 80
    except ValueError as err:
        raise _bad(url, "核验服务地址的端口不对", "the verifier URL's port is wrong") from err
    if u.scheme != "http" or not u.hostname or u.path not in ("", "/") or u.query:
        raise _bad(url, "终端的核验服务地址须写成 http://主机[:端口]"
                   "（终端固件只讲 HTTP，不带路径）",
                   "the terminal's verifier URL must be http://host[:port] (the terminal "
                   "firmware speaks plain HTTP; no path)")
    return u.hostname, port


def read_token(path):
    try:
        token = pathlib.Path(path).read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError) as err:
        raise _bad(f"{path}: {err}", "读不了终端令牌文件", "cannot read the terminal token "
                   "file") from err
    if not token or any(c.isspace() for c in token):
        raise _bad(str(path), "终端令牌文件应只有一行令牌（flask terminal-create 的输出）",
                   "the token file must hold the one token `flask terminal-create` printed")
    return token


def anchor_key(path):
    """The authority's P-256 public key from a PEM file."""
    try:
        key = serialization.load_pem_public_key(pathlib.Path(path).read_bytes())
    except (OSError, ValueError) as err:
        raise _bad(f"{path}: {err}", "读不了根公钥（PEM）", "cannot read the authority key "
                   "(PEM)") from err
    if not isinstance(key, ec.EllipticCurvePublicKey) or key.curve.name != "secp256r1":
        raise _bad(str(path), "根公钥须是 P-256 公钥", "the authority key must be a P-256 "
                   "public key")
    return key


def read_trust_list(path, authority, now):
    try:
        data = pathlib.Path(path).read_bytes()
    except OSError as err:
        raise _bad(f"{path}: {err}", "读不了信任列表", "cannot read the trust list") from err
    try:
        trust = wire.TrustList.load(data, authority, now)
    except WireError as err:
        raise _bad(f"{path}: {err}", "信任列表不能用根公钥验证或已过期：终端开机会拒绝它；"
                   "请获取最新的信任列表并核对根公钥",
                   "the trust list does not verify with the authority key or is expired: the "
                   "terminal would refuse it at boot; get the current one and check the "
                   "authority key") from err
    return data, trust


def read_wifi(path):
    try:
        w = json.loads(pathlib.Path(path).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise _bad(f"{path}: {err}", "读不了 Wi-Fi 配置", "cannot read the Wi-Fi file") from err
    if not isinstance(w, dict) or not all(isinstance(w.get(k), str) for k in ("ssid", "key")):
        raise _bad(str(path), "Wi-Fi 配置须是 {\"ssid\": ..., \"key\": ...}",
                   "the Wi-Fi file must be {\"ssid\": ..., \"key\": ...}")
    return {"ssid": w["ssid"], "key": w["key"]}


def config_files(out_dir, board, terminal_id, verifier, token_file, authority, trust_list,
                 wifi=None, cooldown_s=None, now=None):
    """Check everything and write the configuration files into out_dir (private); returns
    [(local file, path on the terminal)] for flash.mpremote_commands(extra=...)."""
    if not terminal_id or len(terminal_id) > 64 or not terminal_id.isprintable() or \
            any(c.isspace() for c in terminal_id):
        raise _bad(repr(terminal_id), "终端编号不对（flask terminal-create 用的编号）",
                   "the terminal id is not valid (the id given to flask terminal-create)")
    host, port = verifier_address(verifier)
    token = read_token(token_file)
    anchor = anchor_key(authority)
    trust_bytes, trust = read_trust_list(trust_list, anchor, int(now or time.time()))
    cfg = dict(DEFAULTS, id=terminal_id, authority=keys.point(anchor).hex(),
               verifier={"host": host, "port": port, "token": token})
    if cooldown_s is not None:
        cfg["cooldown_s"] = cooldown_s
    root = board["flash"]["fs_mount"].rstrip("/")
    out = pathlib.Path(out_dir)
    out.mkdir(mode=0o700, parents=True, exist_ok=True)
    written = [(_write(out / "terminal.json", json.dumps(cfg).encode()), root + "/terminal.json"),
               (_write(out / "trust.cose", trust_bytes), root + "/trust.cose")]
    if wifi:
        written.append((_write(out / "wifi.json", json.dumps(read_wifi(wifi)).encode()),
                        board["wifi"]["config"]))
    log.info("terminal %s configured: verifier %s:%d, trust list %s seq %d, %d agencies",
             terminal_id, host, port, trust.iss, trust.seq, len(trust))
    return written


def _write(path, data):
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    return path
