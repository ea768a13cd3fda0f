"""What the terminal shows and sounds, as data (the board plays it; tests read it).

VERDICTS[reason] = (colour, pattern, zh, en). A pattern is (frequency Hz, ms on, ms off) steps
for the buzzer; the colour drives the display's background / the ring LED. Green is given only
after the check-in is on flash (app.py); red never journals anything.
"""
GREEN_BEEP = ((2700, 120, 0),)
AMBER_BEEP = ((2200, 120, 80), (2200, 120, 0))
RED_BEEP = ((700, 400, 100), (700, 400, 0))
ERROR_BEEP = ((400, 150, 100), (400, 150, 100), (400, 150, 0))

VERDICTS = {
    "ok": ("green", GREEN_BEEP, "签到成功", "checked in"),
    "ok_status_unknown": ("amber", AMBER_BEEP, "签到成功(状态待核)",
                          "checked in, status not cached"),
    "duplicate": ("amber", AMBER_BEEP, "已签到", "already checked in"),
    "revoked": ("red", RED_BEEP, "证件已吊销", "badge revoked"),
    "suspended": ("red", RED_BEEP, "证件已暂停", "badge suspended"),
    "replayed": ("red", RED_BEEP, "重放的应答", "replayed response"),
    "wrong_terminal": ("red", RED_BEEP, "非本终端的应答", "answer for another terminal"),
    "bad_signature": ("red", RED_BEEP, "签名无效", "bad signature"),
    "unknown_key": ("red", RED_BEEP, "未知密钥", "unknown key"),
    "untrusted_issuer": ("red", RED_BEEP, "机构不受信任", "agency not trusted"),
    "expired": ("red", RED_BEEP, "证件已过期", "credential expired"),
    "not_yet_valid": ("red", RED_BEEP, "证件未生效", "credential not yet valid"),
    "wrong_purpose": ("red", RED_BEEP, "不是签到令牌", "not a check-in token"),
    "malformed": ("red", RED_BEEP, "应答格式错误", "malformed answer"),
    "oversized": ("red", RED_BEEP, "应答过长", "answer too long"),
    "wrong_alg": ("red", RED_BEEP, "算法错误", "wrong algorithm"),
    "badge_refused": ("red", ERROR_BEEP, "工牌拒绝了请求", "badge refused the challenge"),
    "journal_full": ("red", ERROR_BEEP, "记录已满,请联网同步", "journal full: connect to sync"),
    "flash_error": ("red", ERROR_BEEP, "存储故障", "storage fault"),
    "tag_lost": ("amber", ERROR_BEEP, "请重新贴卡", "badge moved away: tap again"),
    "reader_fault": ("amber", ERROR_BEEP, "读卡器故障,重试中", "reader fault, retrying"),
    "no_time": ("red", ERROR_BEEP, "时间未知,请联网", "time unknown: connect once"),
    "busy": ("amber", ERROR_BEEP, "终端忙,请重新贴卡", "terminal busy: tap again"),
}


def verdict(reason):
    return VERDICTS.get(reason) or ("red", RED_BEEP, "拒绝", reason)
