"""`xinka-authority`: the city commerce bureau's trust-list tool (docs/operator.md).

A click group of thin commands over `authority.book`. `main(argv=None)` runs it and returns the
exit code (errors: `authority.errors`, one exit code per kind).
"""
from __future__ import annotations

import datetime
import json
import logging
import os
import re
import sys
import urllib.error
import urllib.request
from pathlib import Path

import click

from host import wire
from host.tool import ToolLogging, run
from host.wire import cbor, keys
from host.wire.claims import IAT, TRUST_LIST_LIMIT
from host.wire.cose import parse_sign1

from .book import ACTIVE, SUSPENDED, Book, now_s, read_public_key, read_public_keys
from .errors import (AuthorityError, ConfigError, ConfirmationRequired, ListExpired,
                     ListInvalid, ListNotNewer, VerifierRefused, VerifierUnreachable)

LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
_logging = ToolLogging(("authority", "host"))
DURATION = re.compile(r"^(\d+)([smhd])$")
UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}

log = logging.getLogger(__name__)


def duration(text: str) -> int:
    """'90d', '12h', '30m', '45s' -> seconds."""
    m = DURATION.match(text.strip())
    if not m:
        raise ConfigError(f"{text!r} is not a duration",
                          zh="时长格式应为 数字+单位（s/m/h/d），例如 30d",
                          en="a duration is a number and a unit (s/m/h/d), e.g. 30d")
    return int(m.group(1)) * UNITS[m.group(2)]


def when(t: int) -> str:
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).strftime(
        "%Y-%m-%d %H:%M:%SZ")


def _passphrase(confirm: bool = False) -> str:
    pw = os.environ.get("BUREAU_PASSPHRASE")
    if pw is None:
        pw = click.prompt("主管部门密钥口令 / authority key passphrase", hide_input=True,
                          confirmation_prompt=confirm)
    return pw


def _book(ctx: click.Context) -> Book:
    return Book.open(ctx.obj["dir"])


@click.group(help="信卡主管部门工具（商务局）/ Xinka authority tool for the city commerce "
                  "bureau: its key, the agencies it trusts, the trust lists it signs.\n\n"
                  "A first trust list, from nothing:\n\n"
                  "\b\n"
                  "  export BUREAU_DIR=$PWD/bureau\n"
                  "  xinka-authority init --id CN-ZJ-HZ-COMMERCE\n"
                  "  xinka-authority agency add A330100 \"杭州安心家政\" \\\n"
                  "      --key desk.pub.pem --key status.pub.pem\n"
                  "  xinka-authority publish --verifier https://v.example.cn \\\n"
                  "      --api-key $OPERATOR_KEY\n\n"
                  "Give verifiers, terminals and desks bureau/authority.pem (the trust anchor).")
@click.option("--dir", "folder", envvar="BUREAU_DIR", default=".", show_default=True,
              type=click.Path(file_okay=False),
              help="主管部门目录（密钥、机构名册、已签发列表）/ the authority's folder: key, "
                   "agency book, signed lists [env BUREAU_DIR]")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False),
              default="WARNING", show_default=True, envvar="BUREAU_LOG_LEVEL",
              help="日志级别（输出到 stderr）/ log lines to stderr from this level on")
@click.pass_context
def cli(ctx: click.Context, folder: str, log_level: str) -> None:
    ctx.ensure_object(dict)
    ctx.obj["dir"] = folder
    _logging.start(log_level)
    ctx.call_on_close(_logging.stop)


@cli.command(help="新建主管部门签名密钥（加密的 PKCS#8）/ create the authority's signing key "
                  "(encrypted PKCS#8; passphrase from BUREAU_PASSPHRASE or asked twice) and "
                  "its trust anchor authority.pem.")
@click.option("--id", "authority_id", required=True,
              help="主管部门编号（信任列表的 iss）/ the authority id (the lists' iss), e.g. "
                   "CN-ZJ-HZ-COMMERCE")
@click.pass_context
def init(ctx: click.Context, authority_id: str) -> None:
    book, key = Book.init(ctx.obj["dir"], authority_id, _passphrase(confirm=True), now_s())
    click.echo(f"authority {authority_id}: kid {book.data['kid']}")
    click.echo(f"信任锚 / trust anchor: {book.anchor_path} "
               f"（配置到核验服务、终端和发卡台 / configure it on verifiers, terminals, desks）")


@cli.group(help="机构名册 / the agencies the authority lists.")
def agency() -> None:
    pass


@agency.command("add", help="列入一个机构及其公钥 / list an agency with its public keys (PEM "
                            "files: the desk's issuing key, the verifier's status key).")
@click.argument("agency_id")
@click.argument("name")
@click.option("--key", "key_files", multiple=True, required=True, type=click.Path(dir_okay=False),
              help="机构公钥 PEM 文件（可多次；一个文件可含多个公钥）/ a PEM file of agency "
                   "public keys (repeatable; one file may hold several)")
@click.option("--valid", default="730d", show_default=True,
              help="机构条目有效期 / how long the entry is valid")
@click.pass_context
def agency_add(ctx: click.Context, agency_id: str, name: str, key_files: tuple[str, ...],
               valid: str) -> None:
    book = _book(ctx)
    pubs = [k for p in key_files for k in read_public_keys(p)]
    a = book.add_agency(agency_id, name, pubs, now_s(), duration(valid))
    for k in a["keys"]:
        click.echo(f"{agency_id}: key {k['kid']}")
    click.echo("已列入，下一次 publish 生效 / listed; in force from the next publish")


@agency.command("rotate-key", help="更换机构密钥，旧密钥在重叠期内仍有效 / replace an agency "
                                   "key: the old key stays listed for the overlap, so badges "
                                   "it signed stay green; new badges use the new key.")
@click.argument("agency_id")
@click.option("--key", "key_file", required=True, type=click.Path(dir_okay=False),
              help="新公钥 PEM / the new public key, PEM")
@click.option("--old", "old_kid", default=None,
              help="要更换的旧密钥：其公钥 PEM 文件或 kid（前缀即可；只有一个有效密钥时可省略）/ "
                   "the key to retire: its public key PEM file, or its kid (or a prefix); "
                   "optional when the agency has one live key")
@click.option("--overlap", default="30d", show_default=True,
              help="旧密钥继续有效的时长 / how long the old key stays listed")
@click.pass_context
def agency_rotate(ctx: click.Context, agency_id: str, key_file: str, old_kid: str | None,
                  overlap: str) -> None:
    book = _book(ctx)
    if old_kid is not None and os.path.isfile(old_kid):
        old_kid = keys.kid(read_public_key(old_kid)).hex()
    new, old, retire_at = book.rotate_key(agency_id, read_public_key(key_file), old_kid,
                                          now_s(), duration(overlap))
    click.echo(f"{agency_id}: key {new} listed; key {old} retires at {when(retire_at)}")
    click.echo("下一次 publish 生效；重叠期后再 publish 一次以移除旧密钥 / in force from the next "
               "publish; publish again after the overlap to drop the old key")


@agency.command("suspend", help="暂停机构：下一份列表不再列入，其徽章在各处变红 / suspend an "
                                "agency: left out of the next list, its badges turn red "
                                "everywhere once the list reaches them.")
@click.argument("agency_id")
@click.option("--reason", required=True, help="理由（记入名册）/ why (kept in the book)")
@click.pass_context
def agency_suspend(ctx: click.Context, agency_id: str, reason: str) -> None:
    book = _book(ctx)
    book.set_state(agency_id, SUSPENDED, now_s(), reason)
    click.echo(f"{agency_id}: suspended; publish to put it in force / 已暂停，publish 后生效")


@agency.command("reinstate", help="恢复被暂停的机构 / reinstate a suspended agency.")
@click.argument("agency_id")
@click.option("--reason", default="", help="理由 / why")
@click.pass_context
def agency_reinstate(ctx: click.Context, agency_id: str, reason: str) -> None:
    book = _book(ctx)
    book.set_state(agency_id, ACTIVE, now_s(), reason)
    click.echo(f"{agency_id}: active; publish to put it in force / 已恢复，publish 后生效")


@agency.command("remove", help="从名册中删除机构（不可撤销）/ remove an agency from the book "
                               "(cannot be undone; suspend to stop it for a time).")
@click.argument("agency_id")
@click.option("--yes", is_flag=True, help="确认 / confirm")
@click.pass_context
def agency_remove(ctx: click.Context, agency_id: str, yes: bool) -> None:
    book = _book(ctx)
    book.agency(agency_id)
    if not yes:
        raise ConfirmationRequired(agency_id)
    book.remove_agency(agency_id)
    click.echo(f"{agency_id}: removed; publish to put it in force / 已删除，publish 后生效")


@agency.command("list", help="列出名册 / list the book.")
@click.pass_context
def agency_list(ctx: click.Context) -> None:
    book = _book(ctx)
    click.echo(f"authority {book.data['authority']}, last seq {book.data['seq']}")
    for agency_id, a in sorted(book.agencies.items()):
        click.echo(f"{agency_id}  {a['name']}  {a['state']}  valid to {when(a['exp'])}")
        for k in a["keys"]:
            note = "" if k["retire_at"] is None else f"  retires {when(k['retire_at'])}"
            click.echo(f"    key {k['kid']}{note}")


def _push(url: str, api_key: str, data: bytes) -> dict:
    req = urllib.request.Request(url.rstrip("/") + "/api/v1/trust-list", data=data,
                                 method="POST", headers={
                                     "Authorization": f"Bearer {api_key}",
                                     "Content-Type": "application/cwt"})
    try:
        with urllib.request.urlopen(req, timeout=30) as resp:
            return json.loads(resp.read())
    except urllib.error.HTTPError as err:
        try:
            body = json.loads(err.read())
        except ValueError:
            body = {}
        reason = body.get("reason", f"http_{err.code}")
        detail = f"{reason}: {body.get('message', err.reason)}"
        if reason == "not_newer":
            raise ListNotNewer(detail) from err
        raise VerifierRefused(detail) from err
    except (urllib.error.URLError, OSError) as err:
        raise VerifierUnreachable(f"{url}: {getattr(err, 'reason', err)}") from err


def _push_opts(f):
    f = click.option("--api-key", envvar="BUREAU_API_KEY",
                     help="核验服务的运营方 API 密钥 / the verifier's operator API key "
                          "[env BUREAU_API_KEY]")(f)
    return click.option("--verifier", "verifiers", multiple=True, envvar="BUREAU_VERIFIER",
                        help="推送到的核验服务地址（可多次）/ verifier URL to push to "
                             "(repeatable) [env BUREAU_VERIFIER]")(f)


def _need_api_key(verifiers: tuple[str, ...], api_key: str | None) -> None:
    if verifiers and not api_key:
        raise ConfigError("--api-key missing", zh="推送需要运营方 API 密钥（--api-key）",
                          en="pushing needs the verifier's operator API key (--api-key)")


def _push_all(verifiers: tuple[str, ...], api_key: str | None, data: bytes) -> None:
    _need_api_key(verifiers, api_key)
    for url in verifiers:
        r = _push(url, api_key or "", data)
        click.echo(f"pushed to {url}: seq {r.get('seq')}, {r.get('agencies')} agencies")


@cli.command(help="签发下一份信任列表（序号加一）并推送 / sign the next trust list (a higher "
                  "sequence number) from the book, save it as trust-<seq>.cwt and push it to "
                  "each --verifier.")
@click.option("--valid", default="7d", show_default=True,
              help="列表有效期：在此之前再次 publish / how long the list is valid: publish "
                   "again before it ends (a timer)")
@click.option("--seq", type=int, default=None,
              help="指定序号（须大于上一次）/ an explicit sequence number (above the last)")
@click.option("--out", type=click.Path(dir_okay=False), default=None,
              help="另存一份 / also write the list here")
@_push_opts
@click.pass_context
def publish(ctx: click.Context, valid: str, seq: int | None, out: str | None,
            verifiers: tuple[str, ...], api_key: str | None) -> None:
    book = _book(ctx)
    valid_s = duration(valid)
    _need_api_key(verifiers, api_key)                # refused before anything is signed
    key = book.signing_key(_passphrase())
    signed = book.publish(key, now_s(), valid_s, seq)
    if out:
        Path(out).write_bytes(signed.data)
    click.echo(f"trust list seq {signed.seq}: {len(signed.trust)} agencies, valid to "
               f"{when(signed.trust.exp)} -> {signed.path}")
    for kid in signed.dropped_keys:
        click.echo(f"  key {kid} retired: no longer listed")
    for agency_id, kid, retire_at in signed.retiring:
        click.echo(f"  {agency_id} key {kid} retires at {when(retire_at)}: publish again "
                   f"after that to drop it")
    _push_all(verifiers, api_key, signed.data)


@cli.command(help="把已签发的列表推送到核验服务 / push a signed trust list file to verifiers.")
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
@_push_opts
def push(path: str, verifiers: tuple[str, ...], api_key: str | None) -> None:
    if not verifiers:
        raise ConfigError("--verifier missing", zh="需要 --verifier", en="--verifier is needed")
    _push_all(verifiers, api_key, Path(path).read_bytes())


@cli.command(help="解码并检查任一信任列表文件 / decode and check any trust list file: the "
                  "signature against the trust anchor, the validity window, every entry.")
@click.argument("path", type=click.Path(dir_okay=False, exists=True))
@click.option("--anchor", type=click.Path(dir_okay=False), default=None,
              help="信任锚（主管部门公钥 PEM；默认 --dir 中的 authority.pem）/ the trust anchor "
                   "(authority public key PEM; default: authority.pem in --dir)")
@click.pass_context
def show(ctx: click.Context, path: str, anchor: str | None) -> None:
    anchor_path = Path(anchor) if anchor else Path(ctx.obj["dir"]) / "authority.pem"
    if not anchor_path.exists():
        raise ConfigError(f"{anchor_path} not found", zh="需要信任锚：用 --anchor 指定主管部门公钥",
                          en="a trust anchor is needed: pass the authority public key as --anchor")
    anchor_key = read_public_key(anchor_path)
    data = Path(path).read_bytes()
    now = now_s()
    expired = None
    try:
        trust = wire.TrustList.load(data, anchor_key, now)
    except (wire.Expired, wire.NotYetValid) as err:
        expired = err                                    # still show what it says
        iat = cbor.decode(parse_sign1(data, TRUST_LIST_LIMIT).payload_bytes,
                          TRUST_LIST_LIMIT)[IAT]
        trust = wire.TrustList.load(data, anchor_key, iat)
    except wire.WireError as err:
        raise ListInvalid(f"{err.reason}: {err.message}") from err
    click.echo(f"trust list {trust.iss} seq {trust.seq}, signed by {keys.kid(anchor_key).hex()}"
               f" (signature ok)")
    click.echo(f"issued {when(trust.iat)}, valid to {when(trust.exp)}")
    for a in trust.agencies:
        state = "ok"
        try:
            a.check_time(now)
        except wire.WireError as err:
            state = err.reason
        click.echo(f"  {a.id}  {a.name}  {when(a.nbf)} .. {when(a.exp)}  {state}")
        for k in a.kids:
            click.echo(f"      key {k.hex()}")
    if expired is not None:
        raise ListExpired(f"{expired.reason}: {expired.message}")


def main(argv: list[str] | None = None) -> int:
    return run(cli, argv, "xinka-authority", AuthorityError, _logging, log)


if __name__ == "__main__":
    sys.exit(main())
