"""The authority tool's one exception hierarchy (the pattern of provisioning/errors.py).

Every error has a stable `reason` code, its own process exit code (40-59, apart from
`provision`'s, so one script can drive both and tell the failures apart) and a message in
Chinese and English that names the problem and the fix. docs/operator.md lists them.
"""
from __future__ import annotations

from host.tool import ToolError

__all__ = ["AuthorityError", "ConfigError", "AlreadyInitialised", "NotInitialised",
           "BadPassphrase", "KeyInClear", "NotAPublicKey", "UnknownAgency", "AgencyExists",
           "KeyConflict", "ListInvalid", "ListExpired", "VerifierUnreachable",
           "VerifierRefused", "ListNotNewer", "ConfirmationRequired", "EXIT_CODES"]


class AuthorityError(ToolError):
    """Base class. `zh` / `en` say what went wrong and what to do."""

    exit_code = 40


class ConfigError(AuthorityError):
    reason, exit_code = "config_error", 41
    zh = "参数或文件有误：检查命令行参数和文件路径"
    en = "bad option or file: check the options and the file paths"


class AlreadyInitialised(AuthorityError):
    reason, exit_code = "already_initialised", 42
    zh = "该目录已有主管部门密钥，拒绝覆盖：换一个 --dir，或继续使用现有密钥"
    en = "this folder already holds an authority key; refusing to overwrite it: use another " \
         "--dir or keep using the existing key"


class NotInitialised(AuthorityError):
    reason, exit_code = "not_initialised", 43
    zh = "该目录没有主管部门状态：先运行 xinka-authority init，或用 --dir 指定正确的目录"
    en = "no authority state in this folder: run xinka-authority init first, or pass the " \
         "right --dir"


class BadPassphrase(AuthorityError):
    reason, exit_code = "bad_passphrase", 44
    zh = "主管部门密钥口令错误：请输入正确的口令"
    en = "wrong passphrase for the authority key: enter the right one"


class KeyInClear(AuthorityError):
    reason, exit_code = "key_in_clear", 45
    zh = "主管部门密钥未加密保存，拒绝使用：密钥必须以加密的 PKCS#8 保存（xinka-authority init）"
    en = "the authority key is not stored encrypted; refusing to use it: it must be an " \
         "encrypted PKCS#8 file (xinka-authority init)"


class NotAPublicKey(AuthorityError):
    reason, exit_code = "not_a_public_key", 46
    zh = "不是 P-256 公钥文件：机构只交公钥（PEM，BEGIN PUBLIC KEY），私钥不得交给主管部门"
    en = "not a P-256 public key file: an agency hands over its public key only (PEM, BEGIN " \
         "PUBLIC KEY), never a private key"


class UnknownAgency(AuthorityError):
    reason, exit_code = "unknown_agency", 47
    zh = "没有这个机构编号：用 xinka-authority agency list 查看"
    en = "no agency with this id: see xinka-authority agency list"


class AgencyExists(AuthorityError):
    reason, exit_code = "agency_exists", 48
    zh = "该机构编号已存在：换一个编号，或用 agency rotate-key 更换其密钥"
    en = "an agency with this id exists: use another id, or agency rotate-key to change its key"


class KeyConflict(AuthorityError):
    reason, exit_code = "key_conflict", 49
    zh = "密钥冲突：该公钥已列入信任列表，或要更换的旧密钥不属于该机构"
    en = "key conflict: this public key is already listed, or the key to retire is not " \
         "this agency's"


class ListInvalid(AuthorityError):
    reason, exit_code = "list_invalid", 50
    zh = "信任列表无效（格式错误或签名不对）：不要使用该文件"
    en = "the trust list is invalid (malformed or wrongly signed): do not use this file"


class ListExpired(AuthorityError):
    reason, exit_code = "list_expired", 51
    zh = "信任列表已过期或尚未生效：用 xinka-authority publish 签发新的列表"
    en = "the trust list is expired or not yet valid: sign a new one with xinka-authority publish"


class VerifierUnreachable(AuthorityError):
    reason, exit_code = "verifier_unreachable", 52
    zh = "连不上核验服务：检查网络和 --verifier 地址；已签发的列表已保存，可用 push 重新推送"
    en = "cannot reach the verifier: check the network and the --verifier URL; the signed " \
         "list is saved, push it again with xinka-authority push"


class VerifierRefused(AuthorityError):
    reason, exit_code = "verifier_refused", 53
    zh = "核验服务拒绝了该信任列表：见括号内的原因（API 密钥须为运营方密钥）"
    en = "the verifier refused the trust list: see the reason in brackets (the API key must " \
         "be an operator key)"


class ListNotNewer(AuthorityError):
    reason, exit_code = "not_newer", 54
    zh = "核验服务已有序号相同或更高的信任列表：用 xinka-authority publish 签发更高序号的列表"
    en = "the verifier holds a trust list with the same or a higher sequence number: sign a " \
         "newer one with xinka-authority publish"


class ConfirmationRequired(AuthorityError):
    reason, exit_code = "confirmation_required", 55
    zh = "这是不可逆操作，需要确认：加上 --yes"
    en = "this step cannot be undone and needs confirmation: pass --yes"


EXIT_CODES = {cls.reason: cls.exit_code for cls in (
    AuthorityError, ConfigError, AlreadyInitialised, NotInitialised, BadPassphrase, KeyInClear,
    NotAPublicKey, UnknownAgency, AgencyExists, KeyConflict, ListInvalid, ListExpired,
    VerifierUnreachable, VerifierRefused, ListNotNewer, ConfirmationRequired)}
