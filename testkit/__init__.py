"""Helpers shared by the tests, the benchmarks and the tools — never by the product.

A throw-away PostgreSQL cluster (pg), the verifier app set up with a sample world (verifier),
the real verifier over HTTP (real_verifier, verifier_server), a provisioning desk (desk),
Chromium for page tests (browser), reading simulated badges with nfcpy (tags) and loading
device-only firmware modules into CPython (device). docs/architecture.md: nothing in host/,
verifier/, provisioning/, hardware/ or firmware/ imports this package.
"""
