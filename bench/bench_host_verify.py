"""Host verification speed: our tap-token verification against the crypto bound and two peers.

    .venv/bin/python bench/bench_host_verify.py [--tokens N] [--rounds R]

Builds N tap tokens (status, consent and checkin mixed) from N/5 badges of 20 agencies, with
their credentials and a trust list, then measures in interleaved rounds (best of R):

  bare      the crypto bound: per token, r||s -> DER (cryptography's encode_dss_signature) and
            public_key.verify(der, Sig_structure, ECDSA(SHA256)); key object and
            Sig_structure bytes prepared in advance.
  ours      verify_tap(token, credential_bytes, trust_list, now, cache=CredentialCache): the
            token fully (strict decode, Sig_structure, signature, claims, Tap result) and the
            credential from the cache (a verifier sees the same credential all month), re-checked
            against the trust list and the time on every call.
  uncached  verify_tap(token, credential_bytes, trust_list, now): the credential verified from
            its bytes every time too (two signatures); public-key objects still come from the
            library's key cache. Compared with twice the bare bound.
  cwt       python-cwt, COSE API: COSE.new().decode(token, COSEKey) (signature check only;
            key objects prepared in advance).
  pycose    pycose: CoseMessage.decode(token); msg.key = EC2Key; msg.verify_signature()
            (on a subset, as it is slow; key objects prepared in advance).
"""
import argparse
import gc
import importlib.metadata
import os
import pathlib
import platform
import sys
import time

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))

import cwt  # noqa: E402
from cose.keys import EC2Key  # noqa: E402
from cose.keys.curves import P256  # noqa: E402
from cose.messages import CoseMessage  # noqa: E402
from cryptography.hazmat.primitives import hashes  # noqa: E402
from cryptography.hazmat.primitives.asymmetric import ec  # noqa: E402
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature  # noqa: E402

from host.wire import cose, keys  # noqa: E402
from host.wire.credential import CredentialCache, issue, ueid_from_mac  # noqa: E402
from host.wire.sample import T2026, T2028, secret  # noqa: E402
from host.wire.tap import build_tap, verify_tap  # noqa: E402
from host.wire.trust import Agency, TrustList, build_trust_list  # noqa: E402

NOW = 1798800000


def build(n_tokens):
    authority = secret("bench authority")
    agency_keys = {f"A33{a:04d}": secret(f"bench agency {a}") for a in range(20)}
    agencies = [Agency(aid, f"家政公司{aid}", [k], T2026, T2028) for aid, k in agency_keys.items()]
    trust = build_trust_list(authority, "CN-ZJ-HZ-COMMERCE", agencies, 1, NOW - 86400, T2028)
    tl = TrustList.load(trust, authority, NOW)
    ids = list(agency_keys)
    items = []          # (token, credential bytes, badge private key)
    n_badges = max(1, n_tokens // 5)
    for b in range(n_badges):
        aid = ids[b % len(ids)]
        key = secret(f"bench badge {b}")
        cred = issue(agency_keys[aid], aid, f"W-{b:07d}", key.public_key(),
                     ueid_from_mac(b.to_bytes(6, "big")), b, f"https://v.example.cn/sl/{aid}",
                     T2026, T2026, T2028)
        for c in range(1, 6):
            if len(items) == n_tokens:
                break
            if c % 5 in (1, 3):
                tok = build_tap(key, "checkin", c, terminal_id=f"T-{aid}-01",
                                terminal_time=NOW - c, nonce=os.urandom(16))
            elif c % 5 == 4:
                tok = build_tap(key, "consent", c, scope=15)
            else:
                tok = build_tap(key, "status", c)
            items.append((tok, cred, key))
    return tl, items


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--tokens", type=int, default=2000)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--pycose", type=int, default=200, help="tokens per pycose round")
    args = ap.parse_args(argv)

    tl, items = build(args.tokens)
    algo = ec.ECDSA(hashes.SHA256())
    bare_in = []
    for tok, _cred, key in items:
        msg = cose.parse_sign1(tok, 256)
        bare_in.append((msg.signature, msg.sig_structure(), key.public_key()))
    bare2_in = bare_in + [
        (m.signature, m.sig_structure(), tl.agency_key(m.kid)[1])
        for m in (cose.parse_sign1(cred, 512) for _, cred, _ in items)]
    cwt_cose = cwt.COSE.new()
    cwt_keys = {}
    pycose_keys = {}
    for _, _, key in items:
        k = keys.kid(key)
        if k not in cwt_keys:
            pt = keys.point(key)
            cwt_keys[k] = cwt.COSEKey.new({1: 2, 2: k, -1: 1, -2: pt[1:33], -3: pt[33:], 3: -7})
            pycose_keys[k] = EC2Key(crv=P256, x=pt[1:33], y=pt[33:])
    cwt_in = [(tok, cwt_keys[keys.kid(key)]) for tok, _, key in items]
    pycose_in = [(tok, pycose_keys[keys.kid(key)]) for tok, _, key in items[:args.pycose]]
    ours_in = [(tok, cred) for tok, cred, _ in items]
    cache = CredentialCache()
    for tok, cred in ours_in:
        verify_tap(tok, cred, tl, NOW, cache=cache)          # warm: one verify per credential

    def bare():
        for sig, tbs, pub in bare_in:
            pub.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                            int.from_bytes(sig[32:], "big")), tbs, algo)
        return len(bare_in)

    def bare2():
        bare_in_all = bare2_in
        for sig, tbs, pub in bare_in_all:
            pub.verify(encode_dss_signature(int.from_bytes(sig[:32], "big"),
                                            int.from_bytes(sig[32:], "big")), tbs, algo)
        return len(bare_in)       # per token: its signature and its credential's

    def ours():
        for tok, cred in ours_in:
            verify_tap(tok, cred, tl, NOW, cache=cache)
        return len(ours_in)

    def uncached():
        for tok, cred in ours_in:
            verify_tap(tok, cred, tl, NOW)
        return len(ours_in)

    def with_cwt():
        for tok, key in cwt_in:
            cwt_cose.decode(tok, key)
        return len(cwt_in)

    def with_pycose():
        for tok, key in pycose_in:
            msg = CoseMessage.decode(tok)
            msg.key = key
            if not msg.verify_signature():
                raise AssertionError("pycose refused a valid token")
        return len(pycose_in)

    runs = {"bare": bare, "ours": ours, "uncached": uncached, "bare2": bare2, "cwt": with_cwt,
            "pycose": with_pycose}
    best = dict.fromkeys(runs, 0.0)
    for _ in range(args.rounds):
        for name, fn in runs.items():
            gc.collect()
            gc.disable()
            t0 = time.perf_counter()
            n = fn()
            dt = time.perf_counter() - t0
            gc.enable()
            best[name] = max(best[name], n / dt)

    versions = ", ".join(f"{p} {importlib.metadata.version(p)}"
                         for p in ("cryptography", "cbor2", "cwt", "cose"))
    print(f"python {platform.python_version()}, {versions}")
    print(f"{len(items)} tokens (status/consent/checkin) from {len(cwt_keys)} badges of 20 "
          f"agencies; best of {args.rounds} interleaved rounds")
    labels = {
        "bare": "bare cryptography (DER + verify), per token",
        "ours": "ours: verify_tap, credential from cache",
        "uncached": "ours: verify_tap, credential verified too",
        "bare2": "bare cryptography, token + credential",
        "cwt": "python-cwt COSE.decode",
        "pycose": f"pycose verify_signature ({len(pycose_in)} tokens)",
    }
    for name, label in labels.items():
        print(f"  {label:48s} {best[name]:10.0f} /s  {1e6 / best[name]:8.1f} us")
    ratios = {
        "ours_over_bare": best["ours"] / best["bare"],
        "uncached_over_bare2": best["uncached"] / best["bare2"],
        "ours_over_cwt": best["ours"] / best["cwt"],
        "ours_over_pycose": best["ours"] / best["pycose"],
    }
    for name, r in ratios.items():
        print(f"  {name:48s} {r:10.3f}")
    print(f"RESULT ours_over_bare={ratios['ours_over_bare']:.3f} "
          f"ours_over_cwt={ratios['ours_over_cwt']:.3f} "
          f"ours_over_pycose={ratios['ours_over_pycose']:.3f}")
    return 0 if ratios["ours_over_bare"] >= 0.85 else 1


if __name__ == "__main__":
    sys.exit(main())
