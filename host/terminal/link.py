"""The terminal's side of the check-in over any nfcpy ContactlessFrontend: raw NFC Forum Type 2
frames through `clf.exchange`, so a USB reader nfcpy supports and a `udp:` simulated badge are
driven by the same code. The exchange itself (READ ECh for the session registers, WRITE
F0h..FFh for a challenge window, FAST_READ F0h..FFh for an answer window, the strict window
checks of xinka.sram) is xinka.passthrough.PassThrough, the one the ESP32 terminal runs
(docs/protocol.md "SRAM exchange"; NT3H2111 data sheet "Pass-through mode"); this module gives
it nfcpy's exchange and turns its errors into the desk terminal's: LinkError (bilingual) and
BadgeError.
"""
import nfc
import nfc.clf

from xinka import passthrough, sram

from .errors import BadgeError, LinkError, NoBadge

FRAME_TIMEOUT = 0.05            # s, one frame
STEP_TIMEOUT = 3.0              # s, waiting for the badge between windows

# what the console shows for each sram failure, after the English detail
_ZH = {"tag_protocol": "会话寄存器读取异常", "tag_nak": "徽章拒绝写入，请重新贴卡",
       "badge_timeout": "等待徽章超时"}
_ZH_FRAME = "帧格式错误"


def nfcpy_exchange(clf):
    """exchange(frame, timeout_ms) over clf.exchange for passthrough.PassThrough; a
    nfc.clf.CommunicationError (silence, a broken frame) becomes a LinkError."""
    def exchange(frame, timeout_ms):
        try:
            return bytes(clf.exchange(bytearray(frame), timeout_ms / 1000))
        except nfc.clf.CommunicationError as err:
            raise LinkError(f"badge removed or not answering ({type(err).__name__}) / "
                            "徽章已移开或无响应，请重新贴卡") from err
    return exchange


class BadgeLink:
    """One activated Type 2 target on a ContactlessFrontend; `checkin(challenge)` returns the
    badge's response bytes (token || credential)."""

    def __init__(self, clf, tag, frame_timeout=FRAME_TIMEOUT, step_timeout=STEP_TIMEOUT):
        self.clf, self.tag = clf, tag
        self.frame_timeout, self.step_timeout = frame_timeout, step_timeout
        self.pt = passthrough.PassThrough(nfcpy_exchange(clf),
                                          frame_ms=round(frame_timeout * 1000),
                                          wait_ms=round(step_timeout * 1000))

    @property
    def uid(self):
        return bytes(self.tag.identifier).hex()

    @property
    def frames(self):
        """RF frames sent to this badge so far."""
        return self.pt.frames

    def checkin(self, challenge):
        """The badge's response to a challenge (bytes); BadgeError on an error window,
        LinkError when the exchange failed."""
        try:
            return self.pt.checkin(challenge)
        except passthrough.BadgeRefused as err:
            raise BadgeError(err.code) from err
        except sram.FrameError as err:
            raise LinkError(f"bad window ({err}) / {_ZH_FRAME}") from err
        except sram.SramError as err:
            raise LinkError(f"{err} / {_ZH.get(err.reason, _ZH_FRAME)}") from err

    def present(self):
        """True while the badge still answers (READ page 0)."""
        try:
            self.pt.x(bytes((sram.READ, 0)))
            return True
        except LinkError:
            return False


def connect(clf, terminate=lambda: False):
    """Wait for a Type 2 target (nfcpy's own anticollision and activation): a BadgeLink, or
    NoBadge when `terminate()` said stop first."""
    tag = clf.connect(rdwr={"targets": ["106A"], "on-connect": lambda t: False},
                      terminate=terminate)
    if not tag:
        raise NoBadge("no badge in the field / 未检测到徽章")
    return BadgeLink(clf, tag)
