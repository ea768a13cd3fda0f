"""PN532 (NFC reader IC) model: UART frame protocol and an RF side to the tag of a badge."""
