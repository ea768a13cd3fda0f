"""Tests of the host-side wire library, `host.wire`."""
