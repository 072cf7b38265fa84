"""This computer's trust store on Windows, macOS and Linux (core/os_store.py).

On this Linux machine the Linux store is read for real. The Windows and macOS readers run here
through the same code path, fed with data the tests make in exactly the shapes those platforms
give; the platform calls themselves (``ssl.enum_certificates``, ``/usr/bin/security``) run only
on those platforms' runners (.github/workflows/bundles.yml runs the frozen --self-test there).

The shapes, and where they are documented:
- Windows: ``ssl.enum_certificates(name)`` returns ``[(bytes, encoding, trust)]``, ``encoding``
  "x509_asn" or "pkcs_7_asn" (or the raw number of another), ``trust`` True or a set of
  extended key usage OIDs (CPython Modules/_ssl.c, ``_ssl_enum_certificates_impl`` and
  ``parseKeyUsage``; https://docs.python.org/3/library/ssl.html#ssl.enum_certificates).
- macOS: ``security find-certificate -a -p KEYCHAIN`` prints every certificate as a PEM block,
  one after another (security(1)); ``security trust-settings-export [-d] FILE`` writes a plist
  ``{trustVersion: 1, trustList: {SHA-1 in upper-case hex: {issuerName, serialNumber, modDate,
  trustSettings: [usage constraints]}}}`` (Apple's TrustSettingsSchema.h in Security/OSX/
  libsecurity_keychain); the SSL policy is the OID 1.2.840.113635.100.1.3 stored as data
  (``KoZIhvdjZAED``, as mkcert writes it, golang/go#24652) with the name "sslServer", and
  kSecTrustSettingsResult is 1 TrustRoot, 2 TrustAsRoot, 3 Deny, 4 Unspecified
  (SecTrustSettings.h).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import plistlib
from collections.abc import Sequence
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from core.analyze.chain import analyze_chain
from core.os_store import (
    LOGIN_KEYCHAIN,
    SERVER_AUTH_OID,
    SYSTEM_CA_KEYCHAIN,
    SYSTEM_KEYCHAIN,
    SYSTEM_ROOTS_KEYCHAIN,
    CertRole,
    OsStore,
    StoreCertificate,
    TrustDomain,
    _read_linux,
    _read_macos,
    _read_windows,
    linux_certificates,
    macos_certificates,
    merge,
    parse_trust_settings,
    pem_certificates,
    trust_decision,
    windows_certificates,
)
from core.trust import TrustStores, roots_of
from tests.pki import NOW, Issued, Pki, make_ca, make_leaf

CODE_SIGNING_OID = "1.3.6.1.5.5.7.3.3"
SSL_POLICY = bytes.fromhex("2a864886f763640103")  # base64 KoZIhvdjZAED
BASIC_X509_POLICY = bytes.fromhex("2a864886f763640102")  # base64 KoZIhvdjZAEC


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.fixture(scope="module")
def public_root() -> Issued:
    return make_ca("Some Public Root", "Public CA Inc.")


@pytest.fixture(scope="module")
def company_root() -> Issued:
    """An inspection root an administrator installs; not in Mozilla's list."""
    return make_ca("Corp Inspection Root", "Example Corp")


def role_of(store: OsStore | Sequence[StoreCertificate], cert: Issued) -> CertRole | None:
    certs = store.certificates if isinstance(store, OsStore) else store
    found = [c.role for c in certs if c.der == cert.der]
    return found[0] if found else None


def sources_of(store: OsStore, cert: Issued) -> tuple[str, ...]:
    return next(c.sources for c in store.certificates if c.der == cert.der)


def verdict(store: OsStore, mozilla: Sequence[Issued], chain: Sequence[Issued]) -> object:
    """The chain analysis the check runs, with this OS store beside a Mozilla list."""
    stores = TrustStores(
        mozilla=tuple(c.cert for c in mozilla), os=roots_of(store.anchors), custom=None
    )
    return analyze_chain([c.cert for c in chain], "localhost", stores, NOW)


def finding_ids(analysis: object) -> list[str]:
    return [str(f.id) for f in analysis.findings]  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- Windows


def windows_tuples(pki: Pki, public_root: Issued, company_root: Issued) -> dict[str, list]:
    code_signing_root = make_ca("Code Signing Only Root")
    revoked_root = make_ca("Revoked Root")
    p7 = pkcs7.serialize_certificates([pki.intermediate.cert], Encoding.DER)
    return {
        "ROOT": [
            (public_root.der, "x509_asn", True),
            # Added by group policy or an antivirus product: in the same ROOT collection.
            (company_root.der, "x509_asn", frozenset({SERVER_AUTH_OID, "1.3.6.1.5.5.7.3.2"})),
            (code_signing_root.der, "x509_asn", frozenset({CODE_SIGNING_OID})),
            (revoked_root.der, "x509_asn", True),
            (b"\x30\x03\x02\x01\x00", "x509_asn", True),  # damaged: skipped, not fatal
            (b"whatever", 65536, True),  # an encoding the stdlib does not name
        ],
        "CA": [(p7, "pkcs_7_asn", True)],
        "Disallowed": [(revoked_root.der, "x509_asn", True)],
    }


def test_windows_stores_give_anchors_intermediates_and_distrust(
    pki: Pki, public_root: Issued, company_root: Issued
) -> None:
    raw = windows_tuples(pki, public_root, company_root)
    entries, reads = windows_certificates(raw)
    store = OsStore("windows", merge(entries), tuple(reads))
    assert role_of(store, public_root) is CertRole.ANCHOR
    assert role_of(store, company_root) is CertRole.ANCHOR  # server auth among its usages
    code_signing = next(c for c in store.certificates if b"Code Signing" in c.der)
    assert code_signing.role is CertRole.NOT_FOR_TLS
    # The CA store's certificates help build chains but are never trust anchors.
    assert role_of(store, pki.intermediate) is CertRole.INTERMEDIATE
    revoked = next(c for c in store.certificates if b"Revoked Root" in c.der)
    assert revoked.role is CertRole.DISTRUSTED
    assert revoked.sources == ("Windows ROOT store", "Windows Disallowed store")
    assert {r.name: r.count for r in reads} == {
        "Windows ROOT store": 4,
        "Windows CA store": 1,
        "Windows Disallowed store": 1,
    }
    assert len(store.anchors) == 2
    assert store.summary().startswith("windows: 2 trust anchors (1 intermediate, ")


def test_windows_reader_runs_the_same_path_as_on_windows(
    pki: Pki, public_root: Issued, company_root: Issued
) -> None:
    raw = windows_tuples(pki, public_root, company_root)
    asked: list[str] = []

    def enum_certificates(name: str) -> list:
        asked.append(name)
        if name == "Disallowed":
            raise OSError("[WinError 2] The system cannot find the file specified")
        return raw[name]

    store = _read_windows(enum_certificates)
    assert asked == ["ROOT", "CA", "Disallowed"]
    assert store.platform == "windows"
    assert role_of(store, company_root) is CertRole.ANCHOR
    disallowed = [s for s in store.sources if s.name == "Windows Disallowed store"]
    assert disallowed[0].problem is not None and "WinError 2" in disallowed[0].problem


def test_windows_inspection_root_is_interception_and_os_trust(
    pki: Pki, public_root: Issued, company_root: Issued
) -> None:
    entries, reads = windows_certificates(windows_tuples(pki, public_root, company_root))
    store = OsStore("windows", merge(entries), tuple(reads))
    intermediate = make_ca("Corp Inspection Intermediate", "Example Corp", issuer=company_root)
    leaf = make_leaf(intermediate)
    analysis = verdict(store, [public_root], [leaf, intermediate])
    assert finding_ids(analysis) == ["interception-suspected"]
    trust = analysis.trust  # type: ignore[attr-defined]
    assert (trust.mozilla, trust.os) == (False, True)


def test_windows_root_for_code_signing_only_does_not_anchor_tls() -> None:
    root = make_ca("Code Signing Only Root 2")
    leaf = make_leaf(root)
    entries, reads = windows_certificates(
        {"ROOT": [(root.der, "x509_asn", frozenset({CODE_SIGNING_OID}))]}
    )
    store = OsStore("windows", merge(entries), tuple(reads))
    analysis = verdict(store, [], [leaf])
    assert not analysis.valid  # type: ignore[attr-defined]
    assert analysis.trust.os is False  # type: ignore[attr-defined]


# --------------------------------------------------------------------------- macOS


def keychain_pem(*certs: Issued) -> bytes:
    """What `security find-certificate -a -p` prints: the PEM blocks one after another."""
    return b"".join(c.pem for c in certs)


def sha1_key(cert: Issued) -> str:
    return hashlib.sha1(cert.der, usedforsecurity=False).hexdigest().upper()


def trust_plist(entries: Sequence[tuple[Issued, list[dict[str, object]] | None]]) -> bytes:
    """`security trust-settings-export` output, in the shape TrustSettingsSchema.h describes
    (an entry without trustSettings is "wide open": trusted as a root for every policy)."""
    trust_list: dict[str, dict[str, object]] = {}
    for cert, settings in entries:
        entry: dict[str, object] = {
            "issuerName": cert.cert.issuer.public_bytes(),
            "serialNumber": cert.cert.serial_number.to_bytes(20, "big").lstrip(b"\0"),
            "modDate": dt.datetime(2026, 11, 30, 9, 15, 0),
        }
        if settings is not None:
            entry["trustSettings"] = settings
        trust_list[sha1_key(cert)] = entry
    return plistlib.dumps({"trustList": trust_list, "trustVersion": 1}, fmt=plistlib.FMT_XML)


#: What `security add-trusted-cert -d -r trustRoot -p ssl` (and mkcert) write for a root.
ALWAYS_TRUST_SSL = [
    {
        "kSecTrustSettingsPolicy": SSL_POLICY,
        "kSecTrustSettingsPolicyName": "sslServer",
        "kSecTrustSettingsResult": 1,
    },
    {
        "kSecTrustSettingsPolicy": BASIC_X509_POLICY,
        "kSecTrustSettingsPolicyName": "basicX509",
        "kSecTrustSettingsResult": 1,
    },
]
#: Keychain Access' "Never Trust": Deny for the policies.
NEVER_TRUST = [{"kSecTrustSettingsResult": 3}]


def test_trust_decision_follows_apples_rules() -> None:
    assert trust_decision(None) is CertRole.ANCHOR  # no constraints: trusted as root
    assert trust_decision([]) is CertRole.ANCHOR
    assert trust_decision([{}]) is CertRole.ANCHOR  # no result: TrustRoot is assumed
    assert trust_decision(ALWAYS_TRUST_SSL) is CertRole.ANCHOR
    assert trust_decision(NEVER_TRUST) is CertRole.DISTRUSTED
    ssl_policy_as_string = [
        {"kSecTrustSettingsPolicy": "1.2.840.113635.100.1.3", "kSecTrustSettingsResult": 2}
    ]
    assert trust_decision(ssl_policy_as_string) is CertRole.ANCHOR
    only_smime = [{"kSecTrustSettingsPolicyName": "SMIME", "kSecTrustSettingsResult": 1}]
    assert trust_decision(only_smime) is None
    one_host = [
        {
            "kSecTrustSettingsPolicy": SSL_POLICY,
            "kSecTrustSettingsPolicyString": "intranet.example",
            "kSecTrustSettingsResult": 1,
        }
    ]
    assert trust_decision(one_host) is None  # trusted for one host name: not a general anchor
    one_app = [{"kSecTrustSettingsApplication": b"\x00app", "kSecTrustSettingsResult": 1}]
    assert trust_decision(one_app) is None
    # Unspecified decides nothing; the next constraint that applies does.
    assert trust_decision([{"kSecTrustSettingsResult": 4}, *NEVER_TRUST]) is CertRole.DISTRUSTED
    assert trust_decision("garbage") is None


def test_damaged_trust_settings_give_nothing() -> None:
    assert parse_trust_settings(b"<plist><dict><key>trustList</key>") == {}
    assert parse_trust_settings(plistlib.dumps(["not", "a", "dict"])) == {}
    assert parse_trust_settings(b"") == {}


def mac_fixture(
    pki: Pki, public_root: Issued, company_root: Issued
) -> tuple[list[tuple[str, bytes]], dict[TrustDomain, bytes | None], dict[str, Issued]]:
    distrusted_public = make_ca("Distrusted Public Root", "Public CA Inc.")
    leftover = make_ca("Leftover Dev Root", "Someone")  # in a keychain, never trusted
    user_root = make_ca("User Added Root", "Home Lab")
    keychains = [
        (SYSTEM_ROOTS_KEYCHAIN, keychain_pem(public_root, distrusted_public)),
        (SYSTEM_CA_KEYCHAIN, keychain_pem(pki.intermediate)),
        (SYSTEM_KEYCHAIN, keychain_pem(company_root, leftover)),
        ("/Users/me/Library/Keychains/login.keychain-db", keychain_pem(user_root)),
    ]
    trust = {
        TrustDomain.USER: trust_plist([(user_root, []), (distrusted_public, NEVER_TRUST)]),
        TrustDomain.ADMIN: trust_plist([(company_root, ALWAYS_TRUST_SSL)]),
    }
    named = {"distrusted": distrusted_public, "leftover": leftover, "user": user_root}
    return keychains, trust, named


def mac_store(
    keychains: list[tuple[str, bytes]], trust: dict[TrustDomain, bytes | None]
) -> OsStore:
    """The store a Mac with these keychains and trust settings has, read as on a Mac."""
    entries, reads = macos_certificates(keychains, trust)
    return OsStore("macos", merge(entries), tuple(reads))


def test_macos_keychains_with_trust_settings(
    pki: Pki, public_root: Issued, company_root: Issued
) -> None:
    keychains, trust, named = mac_fixture(pki, public_root, company_root)
    store = mac_store(keychains, trust)
    assert role_of(store, public_root) is CertRole.ANCHOR  # a system root, no settings
    assert role_of(store, company_root) is CertRole.ANCHOR  # admin "Always Trust"
    assert role_of(store, named["user"]) is CertRole.ANCHOR  # the user's own trust
    assert role_of(store, named["distrusted"]) is CertRole.DISTRUSTED  # "Never Trust" wins
    assert role_of(store, named["leftover"]) is CertRole.NOT_FOR_TLS
    assert role_of(store, pki.intermediate) is CertRole.INTERMEDIATE
    assert sources_of(store, company_root) == (SYSTEM_KEYCHAIN,)
    assert [r.count for r in store.sources] == [2, 1, 2, 1]


def test_macos_admin_inspection_root_counts_and_a_distrusted_one_does_not(
    pki: Pki, public_root: Issued, company_root: Issued
) -> None:
    keychains, trust, named = mac_fixture(pki, public_root, company_root)
    store = mac_store(keychains, trust)
    inspection_leaf = make_leaf(company_root)
    analysis = verdict(store, [public_root, named["distrusted"]], [inspection_leaf])
    assert finding_ids(analysis) == ["interception-suspected"]
    assert analysis.trust.os is True  # type: ignore[attr-defined]
    # The same root without the admin's trust setting is only present, not trusted.
    untrusting = mac_store(keychains, {TrustDomain.USER: trust[TrustDomain.USER]})
    analysis = verdict(untrusting, [public_root], [inspection_leaf])
    assert analysis.trust.os is False  # type: ignore[attr-defined]
    # A system root the user marked "Never Trust" anchors nothing on this Mac.
    distrusted_leaf = make_leaf(named["distrusted"])
    analysis = verdict(store, [named["distrusted"]], [distrusted_leaf])
    trust_result = analysis.trust  # type: ignore[attr-defined]
    assert (trust_result.mozilla, trust_result.os) == (True, False)


def test_macos_reader_runs_the_same_path_as_on_a_mac(
    pki: Pki,
    public_root: Issued,
    company_root: Issued,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    keychains, trust, _named = mac_fixture(pki, public_root, company_root)
    home = tmp_path / "home"
    login = str(home / "Library/Keychains/login.keychain-db")
    by_path = dict(keychains[:3])
    by_path[login] = keychains[3][1]
    calls: list[list[str]] = []

    def security(args: Sequence[str]) -> tuple[bytes | None, str | None]:
        calls.append(list(args))
        if args[0] == "find-certificate":
            assert args[1:3] == ["-a", "-p"]
            return by_path[args[3]], None
        if args[0] == "trust-settings-export":
            domain = TrustDomain.ADMIN if "-d" in args else TrustDomain.USER
            Path(args[-1]).write_bytes(trust[domain] or b"")
            return b"", None
        raise AssertionError(args)

    monkeypatch.setenv("HOME", str(home))  # where ~/Library/Keychains/login.keychain-db is
    store = _read_macos(security, exists=lambda path: path in by_path)
    assert store.platform == "macos"
    assert [c[0] for c in calls] == ["find-certificate"] * 4 + ["trust-settings-export"] * 2
    assert role_of(store, company_root) is CertRole.ANCHOR
    assert len(store.anchors) == 3
    assert LOGIN_KEYCHAIN.startswith("~/")


def test_macos_without_trust_settings_or_security_tool(
    pki: Pki, public_root: Issued, company_root: Issued
) -> None:
    def no_settings(args: Sequence[str]) -> tuple[bytes | None, str | None]:
        if args[0] == "trust-settings-export":
            said = "SecTrustSettingsCreateExternalRepresentation: No Trust Settings were found."
            return None, said
        return keychain_pem(public_root, company_root), None

    store = _read_macos(no_settings, exists=lambda path: path == SYSTEM_ROOTS_KEYCHAIN)
    assert len(store.anchors) == 2
    assert {s.name: s.problem for s in store.sources}[SYSTEM_KEYCHAIN] == "no such keychain"

    def broken(args: Sequence[str]) -> tuple[bytes | None, str | None]:
        return None, "`security` cannot be run: No such file or directory"

    store = _read_macos(broken, exists=lambda path: True)
    assert store.certificates == ()
    assert all(s.problem for s in store.sources)
    assert "not read: `security` cannot be run" in store.summary()


def test_pem_output_with_a_damaged_block_keeps_the_others(public_root: Issued) -> None:
    broken = b"-----BEGIN CERTIFICATE-----\nnot base64 at all!\n-----END CERTIFICATE-----\n"
    ders, damaged = pem_certificates(public_root.pem + broken + public_root.pem[:40])
    assert ders == [public_root.der]
    assert damaged == 2


# --------------------------------------------------------------------------- Linux


def test_linux_anchor_and_blocklist_folders(
    pki: Pki, public_root: Issued, company_root: Issued
) -> None:
    blocked = make_ca("Blocked Root")
    folders = [
        ("/usr/local/share/ca-certificates", CertRole.ANCHOR, [("corp.crt", company_root.pem)]),
        ("/etc/pki/ca-trust/source/anchors", CertRole.ANCHOR, [("lab.der", pki.root.der)]),
        ("/etc/pki/ca-trust/source/blocklist", CertRole.DISTRUSTED, [("bad.pem", blocked.pem)]),
    ]
    entries, reads = linux_certificates(None, folders)
    store = OsStore("linux", merge(entries), tuple(reads))
    assert role_of(store, company_root) is CertRole.ANCHOR
    assert sources_of(store, company_root) == ("/usr/local/share/ca-certificates/corp.crt",)
    assert role_of(store, pki.root) is CertRole.ANCHOR  # DER files are read too
    assert role_of(store, blocked) is CertRole.DISTRUSTED


def test_linux_store_for_real(
    pki: Pki, company_root: Issued, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The real OpenSSL bundle of this machine, plus anchor and blocklist folders the test
    makes (the real ones are root's, and the suite does not write there)."""
    monkeypatch.delenv("SSL_CERT_FILE", raising=False)
    monkeypatch.delenv("SSL_CERT_DIR", raising=False)
    anchors = tmp_path / "anchors"
    anchors.mkdir()
    (anchors / "corp.crt").write_bytes(company_root.pem)
    (anchors / "notes.txt").write_bytes(b"not a certificate")
    blocklist = tmp_path / "blocklist"
    blocklist.mkdir()
    (blocklist / "lab.pem").write_bytes(pki.root.pem)
    (anchors / "lab.pem").write_bytes(pki.root.pem)  # in both: the blocklist wins
    store = _read_linux([str(anchors)], [str(blocklist)])
    assert store.platform == "linux"
    bundle = store.sources[0]
    assert bundle.problem is None and bundle.count > 50  # this machine's ca-certificates
    assert role_of(store, company_root) is CertRole.ANCHOR
    assert role_of(store, pki.root) is CertRole.DISTRUSTED
    assert {s.name: s.count for s in store.sources}[str(anchors)] == 2
    leaf = make_leaf(company_root)
    analysis = verdict(store, [], [leaf])
    assert analysis.trust.os is True  # type: ignore[attr-defined]


def test_linux_ssl_cert_file_is_the_whole_store(
    company_root: Issued, public_root: Issued, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(public_root.pem)
    anchors = tmp_path / "anchors"
    anchors.mkdir()
    (anchors / "corp.crt").write_bytes(company_root.pem)
    monkeypatch.setenv("SSL_CERT_FILE", str(bundle))
    store = _read_linux([str(anchors)], [])
    assert [c.der for c in store.anchors] == [public_root.der]
    assert [s.name for s in store.sources] == [str(bundle)]
    assert store.summary() == f"linux: 1 trust anchors from {bundle} (1)"


# --------------------------------------------------------------------------- end to end


def test_check_of_a_real_server_behind_an_admin_trusted_root(
    pki: Pki, public_root: Issued, company_root: Issued
) -> None:
    """A whole check against a TLS server on 127.0.0.1 whose chain ends at the admin-trusted
    inspection root of the macOS-shaped store: the check names the interception, and the
    trust line reads "Mozilla's list ✗, this computer ✓"."""
    from core.diagnose import run_check
    from core.models import CheckOptions, FindingId
    from core.target import parse_target, with_connect
    from tests.tls_servers import TlsConfig, tls_server

    keychains, trust, _named = mac_fixture(pki, public_root, company_root)
    store = mac_store(keychains, trust)
    stores = TrustStores(mozilla=(public_root.cert,), os=roots_of(store.anchors), custom=None)
    intermediate = make_ca("Corp Inspection Intermediate", "Example Corp", issuer=company_root)
    leaf = make_leaf(intermediate)
    with tls_server(TlsConfig([leaf, intermediate], leaf)) as server:
        target = with_connect(parse_target("localhost", server.port), server.address)
        options = CheckOptions(no_network_time=True, quick=True, timeout=3)
        report = run_check(target, options, stores=stores)
    assert [f.id for f in report.findings] == [FindingId.INTERCEPTION_SUSPECTED]
    assert (report.trust.mozilla, report.trust.os) == (False, True)
