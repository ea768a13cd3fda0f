"""The terminal's local checks of a check-in response (docs/protocol.md "Terminal checks"),
in order; the first that fails decides:

1. shape: exactly token || credential (`malformed`);
2. signatures: credential by an agency key of the trust list, token by the credential's badge
   key, purpose checkin, credential and agency valid at the terminal's time (wire reasons);
3. binding: the token's aud is this terminal (`wrong_terminal`), its nonce and time are the
   challenge just sent (`replayed`: a recorded response or one to an earlier challenge);
4. agency: the badge belongs to this terminal's agency (`wrong_agency`);
5. status from the cached compact list: revoked / suspended are refused; when the status
   cannot be read (no list, bad signature, corrupt chunk, list past exp) the policy decides:
   `accept` (default) journals the check-in as `status_unknown`, shown yellow, and the verifier
   has the last word at upload; `refuse` shows red;
6. duplicate: the same badge accepted within the cool-down window is shown as already
   checked in and not journaled for upload (`duplicate`).
"""
from dataclasses import dataclass

from host import wire

GREEN, YELLOW, RED = "green", "yellow", "red"
MESSAGES = {
    "accepted": "check-in accepted / 打卡成功",
    "status_unknown": "accepted, status unknown (checked at upload) / 已打卡，状态待核验",
    "duplicate": "already checked in / 已打过卡",
    "revoked": "badge revoked / 徽章已吊销",
    "suspended": "badge suspended / 徽章已暂停",
    "replayed": "replayed or stale response / 重放的应答",
    "wrong_terminal": "response for another terminal / 应答属于其他终端",
    "wrong_agency": "badge of another agency / 非本机构徽章",
    "status_refused": "status unknown, refused by policy / 状态未知，按策略拒绝",
}


@dataclass
class Verdict:
    code: str
    colour: str
    message: str
    tap: object = None          # the verified wire.Tap when the signatures held
    status_note: str = ""
    list_seq: int | None = None
    list_age_s: int | None = None

    @property
    def accepted(self):
        return self.code in ("accepted", "status_unknown")


def _v(code, colour, tap=None, detail="", **kw):
    msg = MESSAGES.get(code, code)
    return Verdict(code, colour, msg + (f" ({detail})" if detail else ""), tap, **kw)


def check(response, challenge, ctx):
    """Verdict for `response` (bytes) to `challenge` = (terminal id, time, nonce).
    ctx: trust (TrustList or None), agency_id, status(cred, now), recent(kid, since),
    cooldown_s, unknown_policy."""
    terminal_id, t, nonce = challenge
    if ctx.trust is None:
        return _v("no_trust_list", RED, detail="no trust list cached / 无信任列表")
    try:
        token, cred = wire.split_sequence(response)
        tap = wire.verify_tap(token, cred, ctx.trust, t, purposes="checkin")
    except wire.WireError as err:
        return _v(err.reason, RED, detail=err.message)
    if tap.terminal_id != terminal_id:
        return _v("wrong_terminal", RED, tap, f"aud {tap.terminal_id!r}")
    if tap.nonce != nonce or tap.terminal_time != t:
        return _v("replayed", RED, tap, "nonce or time is not this challenge's")
    if ctx.agency_id and tap.credential.iss != ctx.agency_id:
        return _v("wrong_agency", RED, tap, tap.credential.iss)
    status, seq, age, note = ctx.status(tap.credential, t)
    kw = dict(status_note=note, list_seq=seq, list_age_s=age)
    if status in ("revoked", "suspended"):
        return _v(status, RED, tap, f"list seq {seq}", **kw)
    if status is None and ctx.unknown_policy == "refuse":
        return _v("status_refused", RED, tap, note, **kw)
    last = ctx.recent(tap.badge_kid, t - ctx.cooldown_s) if ctx.cooldown_s > 0 else None
    if last is not None:
        return _v("duplicate", YELLOW, tap, f"{t - last} s ago", **kw)
    if status is None:
        return _v("status_unknown", YELLOW, tap, note, **kw)
    return _v("accepted", GREEN, tap, **kw)
