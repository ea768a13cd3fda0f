"""Irreversible hardening of a badge's ESP32-C3 through espefuse (eFuses can only go 0 -> 1).

Without it, anything in flash (the badge key included: stock MicroPython has no flash
encryption) can be read over USB with `esptool read-flash`. The steps:

  DIS_USB_JTAG             USB-JTAG debugging off
  DIS_PAD_JTAG             JTAG on the MTxx pins off
  DIS_DIRECT_BOOT          legacy SPI direct boot off
  ENABLE_SECURITY_DOWNLOAD secure download mode: the ROM loader refuses flash and memory
                           reads (burned last: afterwards espefuse itself cannot read eFuses)

Procedure (house style for irreversible steps): read the eFuses; "nothing to do" if all are
burned; list what will change; refuse unless the typed confirmation word is given; burn the
JTAG/boot fuses, read back; burn secure download mode last; read back (espefuse summary in
virtual mode, `esptool get-security-info` on a real chip, which still answers in secure
download mode). Tests run against espefuse's own virtual eFuse controller (--virt).
"""
import json
import logging
import shutil
import subprocess
import sys
from dataclasses import dataclass

from .errors import ConfirmationRequired, ToolFailed

log = logging.getLogger(__name__)

CONFIRM_WORD = "BURN"
FUSES = {
    "esp32c3": [("DIS_USB_JTAG", "USB JTAG 调试关闭 / USB-JTAG debugging off"),
                ("DIS_PAD_JTAG", "引脚 JTAG 关闭 / JTAG on pins off"),
                ("DIS_DIRECT_BOOT", "SPI 直接启动关闭 / legacy SPI direct boot off"),
                ("ENABLE_SECURITY_DOWNLOAD",
                 "安全下载模式：USB 不能再读出闪存 / secure download mode: flash can no longer "
                 "be read over USB")],
}
LAST = "ENABLE_SECURITY_DOWNLOAD"


def _tool(name):
    return shutil.which(name, path=str(__import__("pathlib").Path(sys.executable).parent)) \
        or shutil.which(name) or name


@dataclass
class Target:
    chip: str = "esp32c3"
    port: str = None
    virt_file: str = None       # espefuse --virt --path-efuse-file <file>

    def espefuse(self, *args):
        cmd = [_tool("espefuse"), "--chip", self.chip]
        cmd += ["--virt", "--path-efuse-file", self.virt_file] if self.virt_file else \
            ["--port", self.port]
        return cmd + list(args)

    def security_info(self):
        return [_tool("esptool"), "--chip", self.chip, "--port", self.port, "get-security-info"]


def _run(cmd, capture=True):
    log.debug("running %s", " ".join(cmd))
    p = subprocess.run(cmd, capture_output=capture, text=True)
    if p.returncode != 0:
        log.error("harden: tool_failed: %s exited %d", cmd[0], p.returncode)
        raise ToolFailed(f"{' '.join(cmd)} -> {p.returncode}\n{(p.stderr or '')[-800:]}")
    return p.stdout


def read_fuses(target):
    """{fuse name: bool} for the hardening fuses."""
    out = _run(target.espefuse("summary", "--format", "json"))
    try:
        data = json.loads(out[out.index("{"):])
    except ValueError as err:
        raise ToolFailed("espefuse summary is not JSON") from err
    return {name: bool(data[name]["value"]) for name, _ in FUSES[target.chip]}


def plan(target, current):
    """(list of (fuse, description) to burn, list of commands), lock fuse last."""
    todo = [(n, d) for n, d in FUSES[target.chip] if not current.get(n)]
    first = [n for n, _ in todo if n != LAST]
    cmds = []
    if first:
        cmds.append(target.espefuse("--do-not-confirm", "burn-efuse",
                                    *[x for n in first for x in (n, "1")]))
    if any(n == LAST for n, _ in todo):
        cmds.append(target.espefuse("--do-not-confirm", "burn-efuse", LAST, "1"))
    return todo, cmds


def harden(target, confirm=None, dry_run=False, out=print):
    """Run the procedure; returns the fuses burned. ConfirmationRequired without the word."""
    current = read_fuses(target)
    todo, cmds = plan(target, current)
    if not todo:
        out("无需操作：所有加固熔丝均已烧写 / "
            "nothing to do: every hardening eFuse is already burned")
        return []
    out("将烧写以下熔丝（不可逆）/ these eFuses will be burned (irreversible):")
    for n, d in todo:
        out(f"  {n:<26} 0 -> 1   {d}")
    out("命令 / commands:")
    for c in cmds:
        out("  " + " ".join(c))
    if dry_run:
        out("演练模式，未烧写任何熔丝 / dry run: nothing was burned")
        return []
    if confirm != CONFIRM_WORD:
        raise ConfirmationRequired(f"pass --confirm {CONFIRM_WORD}")
    for c in cmds:
        log.warning("burning eFuses (irreversible): %s", ", ".join(
            n for n, _ in todo if n in c))
        _run(c)
        if LAST not in c:
            got = read_fuses(target)
            bad = [n for n in c if n in got and not got[n]]
            if bad:
                raise ToolFailed(f"read-back: {bad} still 0")
    if target.virt_file:
        got = read_fuses(target)
        bad = [n for n, _ in todo if not got[n]]
        if bad:
            raise ToolFailed(f"read-back: {bad} still 0")
    else:
        info = _run(target.security_info())
        if "Secure Download" not in info and "secure download" not in info.lower():
            raise ToolFailed("read-back: get-security-info does not report secure download")
    log.info("eFuses burned and read back: %s", ", ".join(n for n, _ in todo))
    out("已烧写并回读确认 / burned and read back: " + ", ".join(n for n, _ in todo))
    return [n for n, _ in todo]
