#!/usr/bin/env python3
"""Generate ``resources/clients.json``: the reference clients the overlap analysis simulates.

Usage: ``python scripts/make_client_profiles.py [--sim PATH] [--out PATH]``

Source: testssl.sh ``etc/client-simulation.txt`` at 9fdf8028 (GPL-2.0; most profiles from SSL
Labs' client list), copied to ``shared/data/``. We take facts from it, not its format: for each
chosen client its versions, its cipher suites in order and its groups, read from the ClientHello
it really sent (``handshakebytes``), which is the ground truth; the OpenSSL-named cipher list of
the same profile is cross-checked against it, and every profile's list is used to check that the
OpenSSL→IANA table in ``resources/cipher_suites.json`` maps each name to the code the client sent.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from core.ciphers import iana_name_for_openssl, load_registry, suite_name  # noqa: E402
from core.wire.hello import TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV, group_name  # noqa: E402
from core.wire.parse import ClientHello, Malformed, parse_client_hello_records  # noqa: E402
from core.wire.records import TlsVersion, version_label  # noqa: E402

DEFAULT_SIM = REPO.parent / "shared" / "data" / "client-simulation.txt"
DEFAULT_OUT = REPO / "resources" / "clients.json"
SOURCE = (
    "testssl.sh etc/client-simulation.txt at 9fdf8028 (GPL-2.0; most profiles from SSL Labs' "
    "client list). Versions, suites and groups are read from each client's recorded ClientHello."
)

#: (id, name shown to people, profile name in client-simulation.txt, family). The current
#: browsers first, then the old clients that still turn up in support tickets.
CHOSEN: tuple[tuple[str, str, str, str], ...] = (
    ("chrome", "Chrome 137 (Windows 11)", "Chromium 137 (Win 11)", "Chrome"),
    ("firefox", "Firefox 137 (Windows 11)", "Firefox 137 (Win 11)", "Firefox"),
    ("safari", "Safari 26.4 (macOS, iOS)", "Safari 26.4 (macOS/iOS/iPadOS 26.4)", "Safari"),
    ("edge", "Edge 133 (Windows 11)", "Edge 133 Win 11 23H2", "Edge"),
    ("ie11-win7", "Internet Explorer 11 (Windows 7)", "IE 11 Win 7", "Internet Explorer"),
    ("android-4.4", "Android 4.4", "Android 4.4.2", "Android"),
    ("java-8", "Java 8 (8u31)", "Java 8u31", "Java"),
    ("openssl-1.0.2", "OpenSSL 1.0.2", "OpenSSL 1.0.2e", "OpenSSL"),
    # The hellos behind the apps of resources/client_facts.json (#12).
    ("safari-ios", "Safari 26.4 (iOS, iPadOS)", "Safari 26.4 (iOS+iPadOS 26.4)", "Safari"),
    ("ios-12", "Safari 12.1 (iOS 12.2)", "Safari 12.1 (iOS 12.2)", "Safari"),
    ("apple-mail", "Apple Mail 16 (macOS)", "Apple Mail (16.0)", "Apple"),
    ("ie11-win10", "Internet Explorer 11 (Windows 10)", "IE 11 Win 10", "Internet Explorer"),
    ("android-7", "Android 7.0", "Android 7.0 (native)", "Android"),
    ("android-16", "Android 16 (native)", "Android 16 (native)", "Android"),
    ("java-17", "Java 17 and 21 (OpenJDK)", "Java 17.0.3/21.0.6 (OpenJDK)", "Java"),
    ("openssl-3.0", "OpenSSL 3.0.15 (Debian)", "OpenSSL 3.0.15 (Debian)", "OpenSSL"),
    ("go-1.17", "Go 1.17", "go 1.17.8", "Go"),
)

#: SSL 2.0 cipher specs: three-byte codes, not TLS suites, so no IANA name exists.
SSL2_ONLY = {"DES-CBC-MD5", "DES-CBC3-MD5", "RC2-CBC-MD5", "RC4-64-MD5", "EXP-RC2-CBC-MD5-SSL2"}


@dataclass
class SimProfile:
    fields: dict[str, str]

    def get(self, key: str) -> str:
        return self.fields.get(key, "")


def read_simulation(path: Path) -> list[SimProfile]:
    """The bash-array file as one dict per client (``names+=`` starts a new client)."""
    profiles: list[SimProfile] = []
    pattern = re.compile(r'^\s*(\w+)\+=\((?:"(.*)"|(.*))\)\s*$')
    for line in path.read_text(encoding="utf-8").splitlines():
        match = pattern.match(line)
        if not match:
            continue
        key, value = (
            match.group(1),
            match.group(2) if match.group(2) is not None else match.group(3),
        )
        if key == "names":
            profiles.append(SimProfile({}))
        if profiles:
            profiles[-1].fields[key] = value
    return profiles


def is_grease(code: int) -> bool:
    """RFC 8701 GREASE values (0x?A?A) that clients sprinkle in to keep servers tolerant."""
    return (code & 0x0F0F) == 0x0A0A and (code >> 8) == (code & 0xFF)


def real_suites(hello: ClientHello) -> list[int]:
    skip = {TLS_EMPTY_RENEGOTIATION_INFO_SCSV, TLS_FALLBACK_SCSV}
    return [c for c in hello.cipher_suites if not is_grease(c) and c not in skip]


def hello_of(profile: SimProfile) -> ClientHello:
    raw = bytes.fromhex(profile.get("handshakebytes"))
    hello = parse_client_hello_records(raw)
    if isinstance(hello, Malformed):
        raise SystemExit(f"{profile.get('names')}: recorded ClientHello unreadable: {hello}")
    return hello


def named_suites(profile: SimProfile) -> list[str]:
    names = [n for n in profile.get("ch_ciphers").split(":") if n]
    names += [n for n in profile.get("ciphersuites").split(":") if n]
    return names


def check_openssl_table(profiles: list[SimProfile]) -> list[str]:
    """Every OpenSSL name in every profile must map to a code that profile's hello carries."""
    problems: list[str] = []
    registry = load_registry()
    for profile in profiles:
        if not profile.get("handshakebytes"):
            continue
        raw = bytes.fromhex(profile.get("handshakebytes"))
        if raw[:1] != b"\x16":
            continue  # an SSL 2.0-format hello: its cipher specs are not TLS codes
        hello = parse_client_hello_records(raw)
        if isinstance(hello, Malformed):
            problems.append(f"{profile.get('names')}: unreadable hello")
            continue
        sent = set(real_suites(hello))
        for name in named_suites(profile):
            if name in SSL2_ONLY:
                continue
            iana = iana_name_for_openssl(name)
            if iana is None:
                problems.append(f"{profile.get('names')}: no IANA name for {name}")
                continue
            if registry.by_name[iana].code not in sent:
                problems.append(f"{profile.get('names')}: {name} -> {iana} not in its hello")
    return problems


def versions_of(profile: SimProfile, hello: ClientHello) -> list[str]:
    low = int(profile.get("lowest_protocol"), 16)
    high = int(profile.get("highest_protocol"), 16)
    versions = [v.label for v in TlsVersion if low <= v <= high]
    offered = set(hello.supported_versions)
    if high >= TlsVersion.TLS1_3 and TlsVersion.TLS1_3 not in offered:
        raise SystemExit(f"{profile.get('names')}: claims TLS 1.3 but its hello does not offer it")
    return versions


def build(sim_path: Path) -> dict[str, object]:
    profiles = read_simulation(sim_path)
    by_name = {p.get("names"): p for p in profiles}
    problems = check_openssl_table(profiles)
    if problems:
        raise SystemExit(
            "OpenSSL name table disagrees with recorded hellos:\n" + "\n".join(problems)
        )
    clients: list[dict[str, object]] = []
    for ident, display, sim_name, family in CHOSEN:
        profile = by_name.get(sim_name)
        if profile is None:
            raise SystemExit(f"{sim_name!r} is not in {sim_path}")
        hello = hello_of(profile)
        codes = real_suites(hello)
        named = {iana_name_for_openssl(n) for n in named_suites(profile)} - {None}
        sent_names = {suite_name(c) for c in codes}
        if named - sent_names:
            raise SystemExit(
                f"{sim_name}: listed but not sent: {sorted(str(n) for n in named - sent_names)}"
            )
        groups = [group_name(g) for g in hello.supported_groups if not is_grease(g)]
        clients.append(
            {
                "id": ident,
                "name": display,
                "family": family,
                "source_profile": sim_name,
                "current": profile.get("current") == "true",
                "versions": versions_of(profile, hello),
                "suites": [suite_name(c) for c in codes],
                "suite_codes": codes,
                "groups": groups,
                "hello_version": version_label(hello.legacy_version),
            }
        )
    return {
        "_source": SOURCE,
        "_generated_by": "scripts/make_client_profiles.py",
        "clients": clients,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Generate resources/clients.json")
    parser.add_argument("--sim", type=Path, default=DEFAULT_SIM)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUT)
    args = parser.parse_args(argv)
    table = build(args.sim)
    args.out.write_text(json.dumps(table, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")
    clients = table["clients"]
    assert isinstance(clients, list)
    print(f"wrote {len(clients)} client profiles to {args.out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
