"""The desk terminal's refusals and failures: one base class, one stable `reason` each."""

__all__ = ["TerminalError", "NoBadge", "LinkError", "BadgeError"]


class TerminalError(Exception):
    """Base of every desk terminal error; `reason` is stable (logs, journal, tests)."""

    reason = "terminal_error"

    def __init__(self, message=None):
        self.message = message or self.reason
        super().__init__(self.message)

    def __str__(self):
        return f"{self.reason}: {self.message}"


class NoBadge(TerminalError):
    """Nothing answered in the field."""
    reason = "no_badge"


class LinkError(TerminalError):
    """The RF exchange failed: badge removed, timeout, or answers that are not the protocol."""
    reason = "link"


class BadgeError(TerminalError):
    """The badge answered with an error window (docs/protocol.md "SRAM exchange")."""
    reason = "badge_error"
    CODES = {1: "bad frame", 2: "bad challenge", 3: "badge not provisioned",
             4: "no precomputed nonce (badge busy: try again)", 5: "internal error"}

    def __init__(self, code):
        self.code = code
        super().__init__(f"badge error {code}: {self.CODES.get(code, 'unknown')}")
