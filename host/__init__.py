"""Host-side code: the wire format library (`host.wire`), NFC access and the desk terminal."""
