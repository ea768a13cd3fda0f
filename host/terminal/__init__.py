"""The desk check-in terminal: a console program on nfcpy (USB readers and `udp:` simulated
badges alike) that challenges a badge, decides offline from cached lists, journals every
check-in in SQLite and uploads the journal to the verifier in the background.

Layers: link (Type 2 frames over clf.exchange, SRAM windows) -> checks (signatures, binding,
status, cool-down) -> journal (SQLite) -> sync (HTTP, back-off) -> cli (console).
"""
