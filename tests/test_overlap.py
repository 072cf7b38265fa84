"""The overlap analysis (pure, over hand-made enumerations), the cipher registry and client
profiles it stands on, and one end-to-end run against a real loopback server."""

from __future__ import annotations

import importlib
import json
import ssl
import sys
from collections.abc import Mapping, Sequence
from pathlib import Path
from types import MappingProxyType, ModuleType

import pytest

from core.analyze.overlap import (
    ClientProfile,
    Mismatch,
    analyze_overlap,
    explain_alert,
    load_client_profiles,
    local_client_profile,
    simulate,
)
from core.budget import Budget
from core.catalogue import load_catalogue
from core.ciphers import (
    Strength,
    code_for_name,
    iana_name_for_openssl,
    load_registry,
    suite,
    suite_name,
)
from core.models import Finding, FindingId, FixId, Severity
from core.probe.hello import ServerEnumeration, enumerate_server
from core.wire.records import TlsVersion
from tests.evidence import assert_documented
from tests.overlap_servers import OverlapServer, ServerSpec

REPO = Path(__file__).resolve().parents[1]
SHARED = REPO.parent / "shared" / "data"

MODERN12 = (
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256",
)
MODERN13 = ("TLS_AES_128_GCM_SHA256", "TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256")


def code(name: str) -> int:
    found = code_for_name(name)
    assert found is not None, name
    return found


def enumeration(
    ciphers: Mapping[TlsVersion, Sequence[str]],
    *,
    refused: Sequence[TlsVersion] = (),
    groups: Sequence[str] = ("x25519", "secp256r1"),
    preference: bool | None = None,
) -> ServerEnumeration:
    """A server that accepts exactly ``ciphers`` (version → IANA names in its order)."""
    versions: dict[TlsVersion, bool | None] = dict.fromkeys(TlsVersion)
    for v in refused:
        versions[v] = False
    for v in ciphers:
        versions[v] = True
    return ServerEnumeration(
        versions=MappingProxyType(versions),
        ciphers=MappingProxyType({v: tuple(n) for v, n in ciphers.items()}),
        cipher_codes=MappingProxyType({v: tuple(code(n) for n in ns) for v, ns in ciphers.items()}),
        groups=tuple(groups),
        server_preference=preference,
        preference_by_version=MappingProxyType(dict.fromkeys(ciphers, preference)),
        hellos_sent=MappingProxyType({}),
        refusals=MappingProxyType({}),
    )


def everything_else_refused(
    ciphers: Mapping[TlsVersion, Sequence[str]],
    *,
    groups: Sequence[str] = ("x25519", "secp256r1"),
    preference: bool | None = None,
) -> ServerEnumeration:
    refused = [v for v in TlsVersion if v not in ciphers]
    return enumeration(ciphers, refused=refused, groups=groups, preference=preference)


def client(
    versions: Sequence[TlsVersion],
    suites: Sequence[str],
    groups: Sequence[str] = ("x25519", "secp256r1"),
    *,
    name: str = "test client",
    local: bool = False,
    current: bool = True,
) -> ClientProfile:
    return ClientProfile(
        name=name,
        versions=tuple(versions),
        suites=tuple(code(s) for s in suites),
        groups=tuple(groups),
        local=local,
        current=current,
    )


MODERN_LOCAL = client(
    (TlsVersion.TLS1_2, TlsVersion.TLS1_3), MODERN13 + MODERN12, name="this computer", local=True
)


def finding(result_findings: Sequence[Finding], fid: FindingId) -> Finding:
    assert_documented(result_findings)
    matches = [f for f in result_findings if f.id is fid]
    assert len(matches) == 1, (fid, result_findings)
    return matches[0]


# --------------------------------------------------------------------------- simulation


def test_highest_shared_version_and_server_order() -> None:
    enum = everything_else_refused(
        {TlsVersion.TLS1_2: MODERN12[::-1], TlsVersion.TLS1_3: MODERN13}, preference=True
    )
    sim = simulate(client([TlsVersion.TLS1_2], MODERN12), enum)
    assert sim.connects and sim.version == TlsVersion.TLS1_2
    assert suite_name(sim.cipher or 0) == MODERN12[-1]  # the server's favourite wins
    assert simulate(MODERN_LOCAL, enum).version == TlsVersion.TLS1_3


def test_client_order_when_the_server_has_none() -> None:
    enum = everything_else_refused({TlsVersion.TLS1_2: MODERN12}, preference=False)
    sim = simulate(client([TlsVersion.TLS1_2], MODERN12[::-1]), enum)
    assert suite_name(sim.cipher or 0) == MODERN12[-1]  # the client's first that the server has


def test_no_fallback_to_a_lower_version_for_suites() -> None:
    """Servers pick the version first; a suite shared only at TLS 1.0 does not save a client
    that shares TLS 1.2 with no suite in common."""
    enum = everything_else_refused(
        {
            TlsVersion.TLS1_0: ["TLS_RSA_WITH_AES_128_CBC_SHA"],
            TlsVersion.TLS1_2: ["TLS_RSA_WITH_AES_256_GCM_SHA384"],
        }
    )
    sim = simulate(
        client([TlsVersion.TLS1_0, TlsVersion.TLS1_2], ["TLS_RSA_WITH_AES_128_CBC_SHA"]), enum
    )
    assert sim.mismatch is Mismatch.CIPHER and sim.version == TlsVersion.TLS1_2


def test_groups_must_meet() -> None:
    enum = everything_else_refused({TlsVersion.TLS1_3: MODERN13}, groups=["x448"])
    assert simulate(MODERN_LOCAL, enum).mismatch is Mismatch.GROUP
    ecdhe_only = everything_else_refused(
        {
            TlsVersion.TLS1_2: [
                "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
                "TLS_RSA_WITH_AES_128_CBC_SHA",
            ]
        },
        groups=["secp521r1"],
    )
    sim = simulate(
        client(
            [TlsVersion.TLS1_2],
            ["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", "TLS_RSA_WITH_AES_128_CBC_SHA"],
        ),
        ecdhe_only,
    )
    assert suite_name(sim.cipher or 0) == "TLS_RSA_WITH_AES_128_CBC_SHA"


def test_unmeasured_server_gives_no_clients_and_no_findings() -> None:
    result = analyze_overlap(enumeration({}), MODERN_LOCAL, load_client_profiles())
    assert result.clients == ()
    assert result.findings == ()
    assert set(result.protocols.values()) == {None}


# --------------------------------------------------------------------------- findings


def test_no_shared_protocol_with_an_old_server() -> None:
    enum = everything_else_refused({TlsVersion.TLS1_0: ["TLS_RSA_WITH_AES_128_CBC_SHA"]})
    result = analyze_overlap(enum, MODERN_LOCAL, load_client_profiles())
    found = finding(result.findings, FindingId.NO_SHARED_PROTOCOL)
    assert found.severity is Severity.ERROR
    ev = found.evidence
    assert ev["server_versions"] == ("TLS 1.0",)
    assert ev["client_versions"] == ("TLS 1.2", "TLS 1.3")
    connecting = ev["clients_that_connect"]
    assert isinstance(connecting, tuple)
    assert "Internet Explorer 11 (Windows 7)" in connecting
    assert "Chrome 137 (Windows 11)" not in connecting
    assert found.fixes == (FixId.ENABLE_MODERN_TLS, FixId.CONTACT_SITE_OWNER)
    assert finding(result.findings, FindingId.LEGACY_PROTOCOL).evidence["versions"] == ("TLS 1.0",)
    assert result.clients[0].name == "this computer" and not result.clients[0].connects


def test_no_shared_protocol_with_an_old_client() -> None:
    old_local = client(
        [TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2], MODERN12, local=True
    )
    enum = everything_else_refused({TlsVersion.TLS1_3: MODERN13})
    result = analyze_overlap(enum, old_local, load_client_profiles())
    found = finding(result.findings, FindingId.NO_SHARED_PROTOCOL)
    assert found.fixes == (FixId.UPDATE_CLIENT, FixId.TRY_ANOTHER_BROWSER)


def test_no_shared_cipher_with_a_server_of_old_suites() -> None:
    old = ["TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"]
    enum = everything_else_refused({TlsVersion.TLS1_2: old})
    result = analyze_overlap(enum, MODERN_LOCAL, load_client_profiles())
    found = finding(result.findings, FindingId.NO_SHARED_CIPHER)
    ev = found.evidence
    assert ev["protocol"] == "TLS 1.2"
    assert ev["server_ciphers"] == tuple(old)
    assert ev["client_ciphers"] == MODERN12
    assert found.fixes[0] is FixId.ENABLE_MODERN_CIPHERS
    weak = finding(result.findings, FindingId.WEAK_CIPHER)
    assert weak.evidence["ciphers"] == tuple(old)
    assert weak.severity is Severity.WARNING
    connecting = {c.name for c in result.clients if c.connects}
    assert "Java 8 (8u31)" in connecting and "Chrome 137 (Windows 11)" not in connecting


def test_no_shared_cipher_that_is_the_clients_fault() -> None:
    dated_local = client([TlsVersion.TLS1_2], ["TLS_RSA_WITH_AES_128_CBC_SHA"], local=True)
    enum = everything_else_refused({TlsVersion.TLS1_2: MODERN12})
    result = analyze_overlap(enum, dated_local, load_client_profiles())
    found = finding(result.findings, FindingId.NO_SHARED_CIPHER)
    assert found.fixes == (FixId.UPDATE_CLIENT, FixId.TRY_ANOTHER_BROWSER)


def test_no_forward_secrecy_names_sound_static_rsa_suites_only() -> None:
    enum = everything_else_refused(
        {
            TlsVersion.TLS1_2: [
                "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
                "TLS_RSA_WITH_AES_128_CBC_SHA",
                "TLS_RSA_WITH_NULL_SHA256",
            ]
        }
    )
    result = analyze_overlap(enum, MODERN_LOCAL, load_client_profiles())
    nofs = finding(result.findings, FindingId.NO_FORWARD_SECRECY)
    assert nofs.evidence["ciphers"] == ("TLS_RSA_WITH_AES_128_CBC_SHA",)
    assert finding(result.findings, FindingId.WEAK_CIPHER).evidence["ciphers"] == (
        "TLS_RSA_WITH_NULL_SHA256",
    )
    assert not any(f.id is FindingId.NO_SHARED_CIPHER for f in result.findings)


def test_a_modern_server_has_no_findings() -> None:
    enum = everything_else_refused(
        {TlsVersion.TLS1_2: MODERN12, TlsVersion.TLS1_3: MODERN13}, preference=True
    )
    result = analyze_overlap(enum, MODERN_LOCAL, load_client_profiles())
    assert result.findings == ()
    assert result.server_preference is True
    by_name = {c.name: c for c in result.clients}
    assert by_name["Firefox 137 (Windows 11)"].protocol == TlsVersion.TLS1_3
    assert not by_name["Internet Explorer 11 (Windows 7)"].connects  # no ECDHE-RSA-GCM in IE 11/7


def test_evidence_keys_are_the_catalogues() -> None:
    catalogue = load_catalogue()
    scenarios = [
        everything_else_refused({TlsVersion.TLS1_0: ["TLS_RSA_WITH_RC4_128_SHA"]}),
        everything_else_refused(
            {TlsVersion.TLS1_2: ["TLS_RSA_WITH_RC4_128_SHA", "TLS_RSA_WITH_AES_128_CBC_SHA"]}
        ),
    ]
    seen: set[FindingId] = set()
    for enum in scenarios:
        for item in analyze_overlap(enum, MODERN_LOCAL, load_client_profiles()).findings:
            assert set(item.evidence) == set(catalogue.finding(item.id).evidence_keys), item.id
            seen.add(item.id)
    assert seen == {
        FindingId.NO_SHARED_PROTOCOL,
        FindingId.NO_SHARED_CIPHER,
        FindingId.LEGACY_PROTOCOL,
        FindingId.WEAK_CIPHER,
        FindingId.NO_FORWARD_SECRECY,
    }


def test_explain_alert() -> None:
    old_server = everything_else_refused({TlsVersion.TLS1_0: ["TLS_RSA_WITH_AES_128_CBC_SHA"]})
    old_suites = everything_else_refused({TlsVersion.TLS1_2: ["TLS_RSA_WITH_RC4_128_SHA"]})
    fine = everything_else_refused({TlsVersion.TLS1_3: MODERN13})
    assert (
        explain_alert("protocol_version", old_server, MODERN_LOCAL) is FindingId.NO_SHARED_PROTOCOL
    )
    assert (
        explain_alert("handshake_failure", old_server, MODERN_LOCAL) is FindingId.NO_SHARED_PROTOCOL
    )
    assert explain_alert(None, old_server, MODERN_LOCAL) is FindingId.NO_SHARED_PROTOCOL
    assert (
        explain_alert("handshake_failure", old_suites, MODERN_LOCAL) is FindingId.NO_SHARED_CIPHER
    )
    assert (
        explain_alert("insufficient_security", old_suites, MODERN_LOCAL)
        is FindingId.NO_SHARED_CIPHER
    )
    assert explain_alert("protocol_version", old_suites, MODERN_LOCAL) is None
    assert explain_alert("handshake_failure", fine, MODERN_LOCAL) is None
    assert explain_alert("bad_certificate", old_server, MODERN_LOCAL) is None


# --------------------------------------------------------------------------- client profiles


def test_local_profile_reads_the_ssl_context() -> None:
    context = ssl.create_default_context()
    context.maximum_version = ssl.TLSVersion.TLSv1_2
    profile = local_client_profile(context)
    assert profile.local
    assert profile.versions == (TlsVersion.TLS1_2,)
    assert profile.suites == tuple(c["id"] & 0xFFFF for c in context.get_ciphers())
    default = local_client_profile()
    assert TlsVersion.TLS1_2 in default.versions
    assert all(suite(c) is not None for c in default.suites)


def test_reference_profiles() -> None:
    profiles = load_client_profiles()
    families = [p.family for p in profiles]
    assert families[:8] == [
        "Chrome",
        "Firefox",
        "Safari",
        "Edge",
        "Internet Explorer",
        "Android",
        "Java",
        "OpenSSL",
    ]
    # The hellos behind the apps a user can name (resources/client_facts.json).
    assert {"safari-ios", "ios-12", "java-17", "openssl-3.0", "go-1.17"} <= {p.id for p in profiles}
    for profile in profiles:
        assert profile.versions and profile.suites and profile.groups
        assert all(suite(c) is not None for c in profile.suites), profile.name
        assert list(profile.versions) == sorted(profile.versions)
    browsers = profiles[:4]
    assert all(
        TlsVersion.TLS1_3 in p.versions and TlsVersion.TLS1_0 not in p.versions for p in browsers
    )
    ie11 = profiles[4]
    assert ie11.versions == (TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_2)
    assert suite_name(ie11.suites[0]) == "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA384"
    assert ie11.suites_for(TlsVersion.TLS1_0)  # the SHA-1 CBC suites
    assert not any(getattr(suite(c), "tls13", True) for c in ie11.suites_for(TlsVersion.TLS1_2))


# --------------------------------------------------------------------------- cipher registry


@pytest.mark.parametrize(
    ("openssl", "expected"),
    [
        ("EXP-RC4-MD5", "TLS_RSA_EXPORT_WITH_RC4_40_MD5"),
        ("DES-CBC3-SHA", "TLS_RSA_WITH_3DES_EDE_CBC_SHA"),
        ("EDH-RSA-DES-CBC3-SHA", "TLS_DHE_RSA_WITH_3DES_EDE_CBC_SHA"),
        ("ECDHE-RSA-AES128-GCM-SHA256", "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"),
        ("AES128-SHA", "TLS_RSA_WITH_AES_128_CBC_SHA"),
        ("ADH-AES256-SHA", "TLS_DH_anon_WITH_AES_256_CBC_SHA"),
        ("TLS_AES_128_GCM_SHA256", "TLS_AES_128_GCM_SHA256"),
        ("EXP1024-RC4-SHA", "TLS_RSA_EXPORT1024_WITH_RC4_56_SHA"),
        ("ECDHE-RSA-CHACHA20-POLY1305-OLD", "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256_OLD"),
        ("DES-CBC3-MD5", None),  # an SSL 2.0 cipher spec, not a TLS suite
        ("NOT-A-CIPHER", None),
    ],
)
def test_openssl_names(openssl: str, expected: str | None) -> None:
    assert iana_name_for_openssl(openssl) == expected


def test_every_local_openssl_cipher_has_an_iana_name() -> None:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.set_ciphers("ALL:COMPLEMENTOFALL:@SECLEVEL=0")
    for entry in context.get_ciphers():
        name = iana_name_for_openssl(entry["name"])
        assert name == suite_name(entry["id"] & 0xFFFF), entry["name"]


@pytest.mark.parametrize(
    ("name", "strength", "weaknesses", "fs"),
    [
        ("TLS_AES_256_GCM_SHA384", Strength.STRONG, (), True),
        ("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256", Strength.STRONG, (), True),
        ("TLS_RSA_WITH_AES_128_GCM_SHA256", Strength.NO_FORWARD_SECRECY, (), False),
        ("TLS_RSA_WITH_3DES_EDE_CBC_SHA", Strength.WEAK, ("3DES",), False),
        ("TLS_RSA_WITH_NULL_SHA256", Strength.INSECURE, ("NULL",), False),
        ("TLS_RSA_EXPORT_WITH_DES40_CBC_SHA", Strength.INSECURE, ("EXPORT", "DES"), False),
        ("TLS_DH_anon_WITH_AES_128_CBC_SHA", Strength.INSECURE, ("anonymous",), False),
        ("TLS_ECDHE_RSA_WITH_RC4_128_SHA", Strength.INSECURE, ("RC4",), True),
        ("TLS_SHA256_SHA256", Strength.INSECURE, ("NULL",), True),
    ],
)
def test_classification(
    name: str, strength: Strength, weaknesses: tuple[str, ...], fs: bool
) -> None:
    entry = load_registry().by_name[name]
    assert entry.strength is strength
    assert entry.weaknesses == weaknesses
    assert entry.forward_secrecy is fs


def test_version_ranges() -> None:
    registry = load_registry().by_name
    assert registry["TLS_AES_128_GCM_SHA256"].usable_with(TlsVersion.TLS1_3)
    assert not registry["TLS_AES_128_GCM_SHA256"].usable_with(TlsVersion.TLS1_2)
    gcm = registry["TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"]
    assert gcm.usable_with(TlsVersion.TLS1_2) and not gcm.usable_with(TlsVersion.TLS1_1)
    cbc = registry["TLS_RSA_WITH_AES_128_CBC_SHA"]
    assert cbc.usable_with(TlsVersion.SSL3) and not cbc.usable_with(TlsVersion.TLS1_3)
    assert not registry["TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"].usable_with(TlsVersion.SSL3)


def test_unknown_codes_still_have_a_name() -> None:
    assert suite_name(0xFAFA) == "0xFAFA"
    assert suite(0xFAFA) is None


# --------------------------------------------------------------------------- generated files


def _script(name: str) -> ModuleType:
    sys.path.insert(0, str(REPO / "scripts"))
    try:
        return importlib.import_module(name)
    finally:
        sys.path.pop(0)


@pytest.mark.skipif(not (SHARED / "iana-tls-cipher-suites.csv").exists(), reason="no shared data")
def test_cipher_table_is_what_the_script_makes() -> None:
    """The committed table matches the IANA CSV (OpenSSL names and the source line depend on
    the local OpenSSL, so they are left out of the comparison)."""
    module = _script("make_cipher_table")
    built = module.build(SHARED / "iana-tls-cipher-suites.csv")
    committed = json.loads((REPO / "resources" / "cipher_suites.json").read_text())

    def strip(rows: list[dict[str, object]]) -> list[dict[str, object]]:
        return [{k: v for k, v in row.items() if k != "openssl"} for row in rows]

    assert strip(built["suites"]) == strip(committed["suites"])


@pytest.mark.skipif(not (SHARED / "client-simulation.txt").exists(), reason="no shared data")
def test_client_profiles_are_what_the_script_makes() -> None:
    module = _script("make_client_profiles")
    built = module.build(SHARED / "client-simulation.txt")
    committed = json.loads((REPO / "resources" / "clients.json").read_text())
    assert built == committed


# --------------------------------------------------------------------------- end to end


def test_tls10_only_server_end_to_end() -> None:
    spec = ServerSpec(
        ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1, "ECDHE-RSA-AES128-SHA:AES256-SHA:@SECLEVEL=0"
    )
    with OverlapServer(spec) as server:
        enum = enumerate_server("127.0.0.1", server.port, "localhost", Budget(3.0, total=20))
    result = analyze_overlap(enum, local_client_profile(), load_client_profiles())
    ids = [f.id for f in result.findings]
    assert ids == [
        FindingId.NO_SHARED_PROTOCOL,
        FindingId.LEGACY_PROTOCOL,
        FindingId.NO_FORWARD_SECRECY,
    ]
    by_name = {c.name: c for c in result.clients}
    ie11 = by_name["Internet Explorer 11 (Windows 7)"]
    assert ie11.connects and ie11.protocol == TlsVersion.TLS1_0
    assert ie11.cipher == "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"
    assert explain_alert("protocol_version", enum, local_client_profile()) is (
        FindingId.NO_SHARED_PROTOCOL
    )
