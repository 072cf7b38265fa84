#!/usr/bin/env python3
"""Generate ``resources/cipher_suites.json`` from the IANA cipher-suite registry.

Usage: ``python scripts/make_cipher_table.py [--csv PATH] [--out PATH]``

For every suite the registry assigns, the table holds its code, IANA name, OpenSSL name (where
OpenSSL has or had one) and a classification the analysis uses: the weaknesses that make it
broken (NULL, EXPORT, RC4, DES, 3DES, IDEA, anonymous), whether the key exchange gives forward
secrecy ((EC)DHE or TLS 1.3), the oldest protocol version that can negotiate it, and whether it
needs credentials beyond a certificate (PSK, SRP, Kerberos, password) or a static (EC)DH
certificate, which the prober does not offer by default.

OpenSSL names come from two places: the local OpenSSL (``ssl.SSLContext.get_ciphers()``, whose
``id`` low 16 bits are the code) and the static table below for names today's OpenSSL no longer
has but clients and old servers still use (``EXP-RC4-MD5``, ``DES-CBC3-SHA``, …). A handful of
codes that IANA never registered but that shipped anyway (56-bit export, pre-standard ChaCha20,
GOST) are added with the names from the drafts that defined them, marked ``registered: false``.
The output is committed, so the app never depends on the local OpenSSL at run time.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import ssl
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DEFAULT_CSV = REPO.parent / "shared" / "data" / "iana-tls-cipher-suites.csv"
DEFAULT_OUT = REPO / "resources" / "cipher_suites.json"

#: OpenSSL names missing from OpenSSL 3 (removed algorithms, static DH, SSLeay-era names),
#: from OpenSSL 1.0.2's ``ssl/s3_lib.c`` and ``ssl/tls1.h``.
LEGACY_OPENSSL_NAMES: dict[str, int] = {
    "NULL-MD5": 0x0001,
    "NULL-SHA": 0x0002,
    "EXP-RC4-MD5": 0x0003,
    "RC4-MD5": 0x0004,
    "RC4-SHA": 0x0005,
    "EXP-RC2-CBC-MD5": 0x0006,
    "IDEA-CBC-SHA": 0x0007,
    "EXP-DES-CBC-SHA": 0x0008,
    "DES-CBC-SHA": 0x0009,
    "DES-CBC3-SHA": 0x000A,
    "EXP-DH-DSS-DES-CBC-SHA": 0x000B,
    "DH-DSS-DES-CBC-SHA": 0x000C,
    "DH-DSS-DES-CBC3-SHA": 0x000D,
    "EXP-DH-RSA-DES-CBC-SHA": 0x000E,
    "DH-RSA-DES-CBC-SHA": 0x000F,
    "DH-RSA-DES-CBC3-SHA": 0x0010,
    "EXP-EDH-DSS-DES-CBC-SHA": 0x0011,
    "EDH-DSS-DES-CBC-SHA": 0x0012,
    "EDH-DSS-DES-CBC3-SHA": 0x0013,
    "EXP-EDH-RSA-DES-CBC-SHA": 0x0014,
    "EDH-RSA-DES-CBC-SHA": 0x0015,
    "EDH-RSA-DES-CBC3-SHA": 0x0016,
    "EXP-ADH-RC4-MD5": 0x0017,
    "ADH-RC4-MD5": 0x0018,
    "EXP-ADH-DES-CBC-SHA": 0x0019,
    "ADH-DES-CBC-SHA": 0x001A,
    "ADH-DES-CBC3-SHA": 0x001B,
    "DH-DSS-AES128-SHA": 0x0030,
    "DH-RSA-AES128-SHA": 0x0031,
    "DH-DSS-AES256-SHA": 0x0036,
    "DH-RSA-AES256-SHA": 0x0037,
    "DH-DSS-AES128-SHA256": 0x003E,
    "DH-RSA-AES128-SHA256": 0x003F,
    "DH-DSS-CAMELLIA128-SHA": 0x0042,
    "DH-RSA-CAMELLIA128-SHA": 0x0043,
    "EXP1024-RC4-MD5": 0x0060,
    "EXP1024-RC2-CBC-MD5": 0x0061,
    "EXP1024-DES-CBC-SHA": 0x0062,
    "EXP1024-DHE-DSS-DES-CBC-SHA": 0x0063,
    "EXP1024-RC4-SHA": 0x0064,
    "EXP1024-DHE-DSS-RC4-SHA": 0x0065,
    "DHE-DSS-RC4-SHA": 0x0066,
    "DH-DSS-AES256-SHA256": 0x0068,
    "DH-RSA-AES256-SHA256": 0x0069,
    "GOST94-GOST89-GOST89": 0x0080,
    "GOST2001-GOST89-GOST89": 0x0081,
    "GOST94-NULL-GOST94": 0x0082,
    "GOST2001-NULL-GOST94": 0x0083,
    "DH-DSS-CAMELLIA256-SHA": 0x0085,
    "DH-RSA-CAMELLIA256-SHA": 0x0086,
    "PSK-RC4-SHA": 0x008A,
    "PSK-3DES-EDE-CBC-SHA": 0x008B,
    "DHE-PSK-RC4-SHA": 0x008E,
    "DHE-PSK-3DES-EDE-CBC-SHA": 0x008F,
    "RSA-PSK-RC4-SHA": 0x0092,
    "RSA-PSK-3DES-EDE-CBC-SHA": 0x0093,
    "SEED-SHA": 0x0096,
    "DH-DSS-SEED-SHA": 0x0097,
    "DH-RSA-SEED-SHA": 0x0098,
    "DHE-DSS-SEED-SHA": 0x0099,
    "DHE-RSA-SEED-SHA": 0x009A,
    "ADH-SEED-SHA": 0x009B,
    "DH-RSA-AES128-GCM-SHA256": 0x00A0,
    "DH-RSA-AES256-GCM-SHA384": 0x00A1,
    "DH-DSS-AES128-GCM-SHA256": 0x00A4,
    "DH-DSS-AES256-GCM-SHA384": 0x00A5,
    "ECDH-ECDSA-NULL-SHA": 0xC001,
    "ECDH-ECDSA-RC4-SHA": 0xC002,
    "ECDH-ECDSA-DES-CBC3-SHA": 0xC003,
    "ECDH-ECDSA-AES128-SHA": 0xC004,
    "ECDH-ECDSA-AES256-SHA": 0xC005,
    "ECDHE-ECDSA-RC4-SHA": 0xC007,
    "ECDHE-ECDSA-DES-CBC3-SHA": 0xC008,
    "ECDH-RSA-NULL-SHA": 0xC00B,
    "ECDH-RSA-RC4-SHA": 0xC00C,
    "ECDH-RSA-DES-CBC3-SHA": 0xC00D,
    "ECDH-RSA-AES128-SHA": 0xC00E,
    "ECDH-RSA-AES256-SHA": 0xC00F,
    "ECDHE-RSA-RC4-SHA": 0xC011,
    "ECDHE-RSA-DES-CBC3-SHA": 0xC012,
    "AECDH-RC4-SHA": 0xC016,
    "AECDH-DES-CBC3-SHA": 0xC017,
    "SRP-3DES-EDE-CBC-SHA": 0xC01A,
    "SRP-RSA-3DES-EDE-CBC-SHA": 0xC01B,
    "SRP-DSS-3DES-EDE-CBC-SHA": 0xC01C,
    "ECDH-ECDSA-AES128-SHA256": 0xC025,
    "ECDH-ECDSA-AES256-SHA384": 0xC026,
    "ECDH-RSA-AES128-SHA256": 0xC029,
    "ECDH-RSA-AES256-SHA384": 0xC02A,
    "ECDH-ECDSA-AES128-GCM-SHA256": 0xC02D,
    "ECDH-ECDSA-AES256-GCM-SHA384": 0xC02E,
    "ECDH-RSA-AES128-GCM-SHA256": 0xC031,
    "ECDH-RSA-AES256-GCM-SHA384": 0xC032,
    "ECDHE-PSK-RC4-SHA": 0xC033,
    "ECDHE-PSK-3DES-EDE-CBC-SHA": 0xC034,
    "ECDH-ECDSA-CAMELLIA128-SHA256": 0xC074,
    "ECDH-ECDSA-CAMELLIA256-SHA384": 0xC075,
    "ECDH-RSA-CAMELLIA128-SHA256": 0xC078,
    "ECDH-RSA-CAMELLIA256-SHA384": 0xC079,
    "ECDHE-RSA-CHACHA20-POLY1305-OLD": 0xCC13,
    "ECDHE-ECDSA-CHACHA20-POLY1305-OLD": 0xCC14,
    "DHE-RSA-CHACHA20-POLY1305-OLD": 0xCC15,
    "GOST2012256-GOST89-GOST89": 0xFF85,
}

#: Codes that shipped in real software but were never registered, with the names of the drafts
#: that defined them (draft-ietf-tls-56-bit-ciphersuites-01, draft-agl-tls-chacha20poly1305-04,
#: draft-chudov-cryptopro-cptls-04). 0xFF85 was LibreSSL's private GOST code.
UNREGISTERED: dict[int, str] = {
    0x0060: "TLS_RSA_EXPORT1024_WITH_RC4_56_MD5",
    0x0061: "TLS_RSA_EXPORT1024_WITH_RC2_CBC_56_MD5",
    0x0062: "TLS_RSA_EXPORT1024_WITH_DES_CBC_SHA",
    0x0063: "TLS_DHE_DSS_EXPORT1024_WITH_DES_CBC_SHA",
    0x0064: "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA",
    0x0065: "TLS_DHE_DSS_EXPORT1024_WITH_RC4_56_SHA",
    0x0066: "TLS_DHE_DSS_WITH_RC4_128_SHA",
    0x0080: "TLS_GOSTR341094_WITH_28147_CNT_IMIT",
    0x0081: "TLS_GOSTR341001_WITH_28147_CNT_IMIT",
    0x0082: "TLS_GOSTR341094_WITH_NULL_GOSTR3411",
    0x0083: "TLS_GOSTR341001_WITH_NULL_GOSTR3411",
    0xCC13: "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD",
    0xCC14: "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256_OLD",
    0xCC15: "TLS_DHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD",
    0xFF85: "TLS_GOSTR341112_256_WITH_28147_CNT_IMIT_OLD",
}

#: Signalling values, not suites a server can choose.
SIGNALLING = {0x00FF, 0x5600}

_SUITE = re.compile(r"^TLS_(?P<kx>.+?)_WITH_(?P<rest>.+)$")
_CREDENTIAL_KX = ("PSK", "SRP", "KRB5", "ECCPWD")


def read_registry(path: Path) -> dict[int, tuple[str, str]]:
    """Code → (IANA name, Recommended column) for every single assigned suite."""
    suites: dict[int, tuple[str, str]] = {}
    with path.open(newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            value, name = row["Value"].strip(), row["Description"].strip()
            match = re.fullmatch(r"0x([0-9A-Fa-f]{2}),0x([0-9A-Fa-f]{2})", value)
            if not match or not name.startswith("TLS_"):
                continue  # ranges, "Unassigned", "Reserved"
            code = int(match.group(1) + match.group(2), 16)
            suites[code] = (name, row.get("Recommended", "").strip())
    return suites


def local_openssl_names() -> dict[int, str]:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    return {entry["id"] & 0xFFFF: entry["name"] for entry in context.get_ciphers()}


def classify(code: int, name: str) -> dict[str, object]:
    """Everything the analysis needs to know about one suite, derived from its IANA name."""
    match = _SUITE.match(name)
    if match is None:
        # TLS 1.3 style: TLS_<AEAD>_<HASH>, key exchange negotiated separately (always ephemeral).
        tls13 = True
        kx, cipher = "ANY", name.removeprefix("TLS_")
    else:
        tls13 = False
        kx, cipher = match.group("kx"), match.group("rest")
    weak: list[str] = []
    if kx == "NULL" or cipher.startswith("NULL") or re.fullmatch(r"SHA\d+_SHA\d+", cipher):
        weak.append("NULL")
    if "EXPORT" in kx or "_40_" in cipher or "DES40" in cipher:
        weak.append("EXPORT")
    if "RC4" in cipher:
        weak.append("RC4")
    if re.match(r"DES(40)?_CBC", cipher):
        weak.append("DES")
    if "3DES" in cipher:
        weak.append("3DES")
    if "IDEA" in cipher or "RC2" in cipher:
        weak.append("64-bit block")
    if "anon" in kx:
        weak.append("anonymous")
    forward_secrecy = tls13 or kx.startswith(("DHE", "ECDHE"))
    aead = any(part in cipher for part in ("GCM", "CCM", "CHACHA20", "POLY1305"))
    sha2_mac = cipher.endswith(("_SHA256", "_SHA384")) and not tls13
    gost12 = "KUZNYECHIK" in cipher or "MAGMA" in cipher or "GOSTR341112" in kx
    if tls13:
        min_version = "TLSv1.3"
    elif aead or sha2_mac or gost12:
        min_version = "TLSv1.2"
    elif kx.startswith("ECDH"):
        min_version = "TLSv1.0"  # RFC 4492 defines the ECC suites for TLS, not SSL 3.0
    else:
        min_version = "SSLv3"
    return {
        "kx": kx,
        "cipher": cipher,
        "tls13": tls13,
        "min_version": min_version,
        "forward_secrecy": forward_secrecy,
        "weak": weak,
        "needs_credentials": any(part in kx for part in _CREDENTIAL_KX),
        "static_dh": bool(re.match(r"(DH|ECDH)_(DSS|RSA|ECDSA)", kx)),
    }


def build(csv_path: Path) -> dict[str, object]:
    registry = read_registry(csv_path)
    openssl: dict[int, str] = {}
    local = local_openssl_names()
    for code, osname in local.items():
        openssl[code] = osname
    for osname, code in LEGACY_OPENSSL_NAMES.items():
        known = openssl.get(code)
        if known is not None and known != osname:
            sys.exit(f"conflict: {osname} and local {known} both claim 0x{code:04X}")
        openssl.setdefault(code, osname)

    entries: list[dict[str, object]] = []
    all_codes = sorted(set(registry) | set(UNREGISTERED))
    for code in all_codes:
        if code in SIGNALLING:
            continue
        if code in registry:
            name, recommended = registry[code]
            registered = True
        else:
            name, recommended, registered = UNREGISTERED[code], "", False
        if name == "TLS_NULL_WITH_NULL_NULL":
            continue  # the initial state of a connection, never a negotiable suite
        entry: dict[str, object] = {
            "code": code,
            "hex": f"0x{code:04X}",
            "name": name,
            "registered": registered,
            "recommended": recommended == "Y",
            "openssl": openssl.get(code),
        }
        entry.update(classify(code, name))
        entries.append(entry)
    missing = sorted(set(openssl) - {int(str(e["code"])) for e in entries} - SIGNALLING)
    if missing:
        sys.exit(f"OpenSSL names for codes with no registry entry: {[hex(c) for c in missing]}")
    return {
        "_source": (
            "IANA TLS Cipher Suites registry (shared/data/iana-tls-cipher-suites.csv); OpenSSL "
            f"names from {ssl.OPENSSL_VERSION} plus the OpenSSL 1.0.2 names it no longer has; "
            "unregistered codes named after the drafts that defined them"
        ),
        "_generated_by": "scripts/make_cipher_table.py",
        "suites": entries,
    }


def dump(table: dict[str, object]) -> str:
    """JSON with one suite per line: small, and a regenerated table diffs line by line."""
    lines = ["{"]
    for key, value in table.items():
        if isinstance(value, list):
            rows = ",\n".join("  " + json.dumps(item, ensure_ascii=False) for item in value)
            lines.append(f" {json.dumps(key)}: [\n{rows}\n ],")
        elif isinstance(value, dict):
            rows = ",\n".join(
                f"  {json.dumps(k)}: {json.dumps(v, ensure_ascii=False)}" for k, v in value.items()
            )
            lines.append(f" {json.dumps(key)}: {{\n{rows}\n }},")
        else:
            lines.append(f" {json.dumps(key)}: {json.dumps(value, ensure_ascii=False)},")
    lines[-1] = lines[-1].rstrip(",")
    lines.append("}")
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--csv", type=Path, default=DEFAULT_CSV)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    table = build(args.csv)
    suites = table["suites"]
    assert isinstance(suites, list)
    args.out.write_text(dump(table), encoding="utf-8")
    print(f"wrote {len(suites)} suites to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
