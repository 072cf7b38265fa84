"""This computer's own trust store, read the way each OS keeps it, as one result type.

Why one type: interception detection ("a root this computer trusts and Mozilla does not") and the
trust line ("Mozilla's list ✗, this computer ✓") must mean the same on Windows, macOS and Linux.
Each certificate says where it was found and what the OS lets it do: end a chain (a trust
anchor), only help build one (an intermediate), nothing for TLS, or nothing at all (distrusted).

The platform calls are thin (``_read_windows``, ``_read_macos``, ``_read_linux``); what they
return is folded by pure functions (``windows_certificates``, ``macos_certificates``,
``linux_certificates``, ``merge``) that the tests feed, on Linux, with data in exactly the shapes
the other platforms give. The Windows and macOS calls themselves run only on those platforms
(their CI runners, .github/workflows/bundles.yml).

What each reader can and cannot see is said in its docstring; packaging/README.md repeats it.
"""

from __future__ import annotations

import binascii
import enum
import functools
import hashlib
import os
import ssl
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from core.certs import CertificateFileError, read_bounded
from core.root_cache import BundleIndex, certificate_names, load_bundle

#: Every outside program this module runs gets this long (seconds); the store is then read
#: without it, and the source says why.
COMMAND_TIMEOUT = 10.0


class CertRole(enum.StrEnum):
    """What the OS lets a certificate it holds do for a TLS client."""

    #: Ends a chain: the OS trusts what it signs for TLS server authentication.
    ANCHOR = "anchor"
    #: Helps build a chain (Windows' CA store, macOS' intermediates) but anchors nothing.
    INTERMEDIATE = "intermediate"
    #: In a trust store, but trusted only for other purposes (code signing, e-mail, ...).
    NOT_FOR_TLS = "not-for-tls"
    #: Explicitly distrusted (Windows' Disallowed store, a macOS "Never Trust", a blocklist).
    DISTRUSTED = "distrusted"


#: When one certificate is found in several places with different roles, the strongest word
#: wins: a distrust anywhere beats a trust anywhere (that is how all three OSes treat it).
_ROLE_RANK = {
    CertRole.DISTRUSTED: 3,
    CertRole.ANCHOR: 2,
    CertRole.INTERMEDIATE: 1,
    CertRole.NOT_FOR_TLS: 0,
}


@dataclass(frozen=True, repr=False, eq=False)  # each generated method costs start-up time
class StoreCertificate:
    #: Raw DER of the subject name, as the verifier matches it (core/root_cache.py reads it).
    subject: bytes
    role: CertRole
    #: Where it was found: a store name, a keychain path, a file; several if found in several.
    sources: tuple[str, ...]
    #: The DER, or the bundle entry to decode it from when first asked for: a check needs one
    #: or two roots of a bundle, and decoding all of them cost a cold start about a millisecond.
    raw: bytes | tuple[BundleIndex, int]

    @functools.cached_property
    def der(self) -> bytes:
        if isinstance(self.raw, bytes):
            return self.raw
        index, number = self.raw
        return index.der(number) or b""


@dataclass(frozen=True, repr=False, eq=False)  # each generated method costs start-up time
class SourceRead:
    """One place the reader looked: how many certificates it gave, or why it gave none."""

    name: str
    count: int
    problem: str | None = None


@dataclass(frozen=True, repr=False, eq=False)  # each generated method costs start-up time
class OsStore:
    #: "windows", "macos" or "linux".
    platform: str
    certificates: tuple[StoreCertificate, ...]
    sources: tuple[SourceRead, ...]

    def with_role(self, role: CertRole) -> tuple[StoreCertificate, ...]:
        return tuple(c for c in self.certificates if c.role is role)

    @property
    def anchors(self) -> tuple[StoreCertificate, ...]:
        return self.with_role(CertRole.ANCHOR)

    def summary(self) -> str:
        """One line for the self-test and the logs: which store, how many anchors, from where."""
        counts = {role: len(self.with_role(role)) for role in CertRole}
        read = ", ".join(
            f"{s.name} ({s.count})" if s.problem is None else f"{s.name} (not read: {s.problem})"
            for s in self.sources
        )
        extra = ", ".join(
            f"{counts[role]} {role.value}"
            for role in (CertRole.INTERMEDIATE, CertRole.NOT_FOR_TLS, CertRole.DISTRUSTED)
            if counts[role]
        )
        return (
            f"{self.platform}: {counts[CertRole.ANCHOR]} trust anchors"
            + (f" ({extra})" if extra else "")
            + f" from {read or 'nowhere'}"
        )


# --------------------------------------------------------------------------- shared helpers

_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----"


def pem_certificates(data: bytes) -> tuple[list[bytes], int]:
    """The DER of every readable CERTIFICATE block in ``data``, and how many were damaged
    (skipped, not fatal: one bad entry in a keychain must not hide the others)."""
    found: list[bytes] = []
    damaged = 0
    pos = data.find(_BEGIN)
    while pos >= 0:
        start = pos + len(_BEGIN)
        end = data.find(_END, start)
        if end < 0:
            damaged += 1
            break
        try:
            der = binascii.a2b_base64(data[start:end])
            certificate_names(der)
        except (binascii.Error, ValueError):
            damaged += 1
        else:
            found.append(der)
        pos = data.find(_BEGIN, end)
    return found, damaged


def _names(der: bytes) -> tuple[bytes, bytes] | None:
    try:
        return certificate_names(der)
    except ValueError:
        return None


def _entry(der: bytes, role: CertRole, source: str) -> StoreCertificate | None:
    names = _names(der)
    if names is None:
        return None
    return StoreCertificate(subject=names[1], role=role, sources=(source,), raw=der)


def merge(entries: Iterable[StoreCertificate]) -> tuple[StoreCertificate, ...]:
    """One entry per certificate (by its DER), in first-seen order of subjects, with every
    place it was found and the strongest role any of them gave (a distrust beats a trust).
    Only certificates that share a subject are decoded to be compared."""
    by_subject: dict[bytes, list[StoreCertificate]] = {}
    for entry in entries:
        by_subject.setdefault(entry.subject, []).append(entry)
    out: list[StoreCertificate] = []
    for group in by_subject.values():
        if len(group) == 1:
            out += group
            continue
        merged: dict[bytes, StoreCertificate] = {}
        for entry in group:
            seen = merged.get(entry.der)
            if seen is None:
                merged[entry.der] = entry
                continue
            role = entry.role if _ROLE_RANK[entry.role] > _ROLE_RANK[seen.role] else seen.role
            sources = seen.sources + tuple(s for s in entry.sources if s not in seen.sources)
            merged[entry.der] = StoreCertificate(seen.subject, role, sources, seen.der)
        out += merged.values()
    return tuple(out)


# --------------------------------------------------------------------------- Windows

#: The extended key usage OID for TLS server authentication (RFC 5280, 4.2.1.12).
SERVER_AUTH_OID = "1.3.6.1.5.5.7.3.1"
#: The system store names read, and the role each gives. "Disallowed" is the "Untrusted
#: Certificates" store of certmgr.msc; the stdlib reads any system store by name
#: (CertOpenStore(CERT_STORE_PROV_SYSTEM_A, ..., name)), though its docs name only CA, ROOT, MY.
WINDOWS_STORES: Mapping[str, CertRole] = {
    "ROOT": CertRole.ANCHOR,
    "CA": CertRole.INTERMEDIATE,
    "Disallowed": CertRole.DISTRUSTED,
}
#: What the stdlib's enum_certificates merges into one list per store name, verified in
#: CPython's Modules/_ssl.c (ssl_collect_certificates): these system store locations, read-only.
WINDOWS_LOCATIONS = (
    "local machine",
    "local machine enterprise",
    "local machine group policy",
    "current user",
    "current user group policy",
    "services",
    "users",
)

WindowsTuple = tuple[bytes, "str | int", "bool | frozenset[str] | set[str]"]


def windows_certificates(
    stores: Mapping[str, Sequence[WindowsTuple]],
) -> tuple[list[StoreCertificate], list[SourceRead]]:
    """Fold ``ssl.enum_certificates(name)`` results, ``{name: [(bytes, encoding, trust)]}``.

    ``encoding`` is "x509_asn" (one DER certificate), "pkcs_7_asn" (a PKCS#7 bundle) or the raw
    number of an encoding the stdlib does not name (skipped). ``trust`` is True (no usage
    restriction) or the set of extended key usage OIDs the certificate is trusted for: a root
    restricted to usages without server authentication is kept as not-for-TLS.
    """
    entries: list[StoreCertificate] = []
    reads: list[SourceRead] = []
    for name, items in stores.items():
        role = WINDOWS_STORES.get(name, CertRole.NOT_FOR_TLS)
        source = f"Windows {name} store"
        count = 0
        skipped = 0
        for blob, encoding, trust in items:
            ders: list[bytes]
            if encoding == "x509_asn":
                ders = [bytes(blob)]
            elif encoding == "pkcs_7_asn":
                ders = _pkcs7_ders(bytes(blob))
            else:
                skipped += 1
                continue
            this_role = role
            if role is CertRole.ANCHOR and not _trusted_for_tls(trust):
                this_role = CertRole.NOT_FOR_TLS
            for der in ders:
                entry = _entry(der, this_role, source)
                if entry is None:
                    skipped += 1
                    continue
                entries.append(entry)
                count += 1
        problem = f"{skipped} entries unreadable" if skipped and not count else None
        reads.append(SourceRead(source, count, problem))
    return entries, reads


def _trusted_for_tls(trust: object) -> bool:
    if trust is True:
        return True
    return isinstance(trust, (set, frozenset)) and SERVER_AUTH_OID in trust


def _pkcs7_ders(blob: bytes) -> list[bytes]:
    from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

    try:
        return [c.public_bytes(Encoding.DER) for c in pkcs7.load_der_pkcs7_certificates(blob)]
    except ValueError:
        return []


def _read_windows(
    enum_certificates: Callable[[str], Sequence[WindowsTuple]] | None = None,
) -> OsStore:
    """The machine's and the current user's ROOT, CA and Disallowed stores, through the stdlib
    (``ssl.enum_certificates``), which merges the locations in WINDOWS_LOCATIONS: roots added by
    group policy (domain or local) and by programs that write into the system stores, as most
    antivirus products do, are included. Not seen: a root Windows would fetch from Windows
    Update only when a chain first needs it (automatic root update), and a product that
    installs its root elsewhere (its own store, or only into Firefox)."""
    raw: dict[str, Sequence[WindowsTuple]] = {}
    problems: list[SourceRead] = []
    if enum_certificates is None:
        enum_certificates = getattr(ssl, "enum_certificates", None)
    for name in WINDOWS_STORES:
        if enum_certificates is None:
            problems.append(SourceRead(f"Windows {name} store", 0, "not on Windows"))
            continue
        try:
            raw[name] = enum_certificates(name)
        except OSError as exc:
            problems.append(SourceRead(f"Windows {name} store", 0, str(exc) or "cannot open"))
    entries, reads = windows_certificates(raw)
    return OsStore("windows", merge(entries), tuple(reads + problems))


# --------------------------------------------------------------------------- macOS

SYSTEM_ROOTS_KEYCHAIN = "/System/Library/Keychains/SystemRootCertificates.keychain"
SYSTEM_CA_KEYCHAIN = "/System/Library/Keychains/SystemCACertificates.keychain"
SYSTEM_KEYCHAIN = "/Library/Keychains/System.keychain"
LOGIN_KEYCHAIN = "~/Library/Keychains/login.keychain-db"
SECURITY = "/usr/bin/security"

#: kSecTrustSettingsResult values (Apple's SecTrustSettings.h).
_TRUST_ROOT, _TRUST_AS_ROOT, _DENY, _UNSPECIFIED = 1, 2, 3, 4
#: kSecPolicyAppleSSL, 1.2.840.113635.100.1.3: in an exported plist the policy is this OID's DER
#: content bytes (CFData) or its dotted string; "sslServer" is kSecTrustSettingsPolicyName.
_SSL_POLICY_OID = "1.2.840.113635.100.1.3"
_SSL_POLICY_DER = bytes.fromhex("2a864886f763640103")
_SSL_POLICY_NAMES = frozenset({"sslServer", "SSL"})


class TrustDomain(enum.StrEnum):
    """macOS trust settings domains, in the order a decision is looked for: the user's own
    settings override the administrator's, which override the system's."""

    USER = "user"
    ADMIN = "admin"
    SYSTEM = "system"


def _applies_to_tls(constraint: Mapping[str, object]) -> bool:
    # A setting for one application, or for one host name / e-mail address, is not a trust
    # everyone's TLS gets; Chromium skips these too (net/cert/internal/trust_store_mac.cc).
    if "kSecTrustSettingsApplication" in constraint:
        return False
    if "kSecTrustSettingsPolicyString" in constraint:
        return False
    policy = constraint.get("kSecTrustSettingsPolicy")
    name = constraint.get("kSecTrustSettingsPolicyName")
    if policy is None and name is None:
        return True  # no policy: every policy
    if isinstance(policy, bytes):
        return policy == _SSL_POLICY_DER
    if isinstance(policy, str):
        return policy == _SSL_POLICY_OID
    return name in _SSL_POLICY_NAMES


def trust_decision(settings: object) -> CertRole | None:
    """What one certificate's trust settings (the ``trustSettings`` array of its entry) say
    for TLS: ANCHOR, DISTRUSTED, or None (nothing that applies; look further).

    Apple's semantics (SecTrustSettings.h, TrustSettingsSchema.h): an absent or empty array
    means "always trust" as a root; each dictionary is a usage constraint, the first that
    applies decides, and a missing kSecTrustSettingsResult means kSecTrustSettingsResultTrustRoot.
    """
    if settings is None:
        return CertRole.ANCHOR
    if not isinstance(settings, list):
        return None
    if not settings:
        return CertRole.ANCHOR
    for constraint in settings:
        if not isinstance(constraint, dict) or not _applies_to_tls(constraint):
            continue
        result = constraint.get("kSecTrustSettingsResult", _TRUST_ROOT)
        if result in (_TRUST_ROOT, _TRUST_AS_ROOT):
            return CertRole.ANCHOR
        if result == _DENY:
            return CertRole.DISTRUSTED
        # Unspecified (or a value we do not know): this one decides nothing.
    return None


def parse_trust_settings(plist: bytes) -> dict[str, object]:
    """``security trust-settings-export`` output: {SHA-1 in upper-case hex: trustSettings}.
    A damaged plist gives nothing (the keychains are still read)."""
    import plistlib
    from xml.parsers.expat import ExpatError

    try:
        data = plistlib.loads(plist)
    except (ExpatError, ValueError, TypeError, OverflowError):  # InvalidFileException: ValueError
        return {}
    trust_list = data.get("trustList") if isinstance(data, dict) else None
    if not isinstance(trust_list, dict):
        return {}
    out: dict[str, object] = {}
    for digest, entry in trust_list.items():
        if isinstance(digest, str) and isinstance(entry, dict):
            out[digest.upper()] = entry.get("trustSettings")
    return out


def macos_certificates(
    keychains: Sequence[tuple[str, bytes]],
    trust_settings: Mapping[TrustDomain, bytes | None],
) -> tuple[list[StoreCertificate], list[SourceRead]]:
    """Fold ``security find-certificate -a -p KEYCHAIN`` output, ``[(keychain, PEM)]``, with
    each domain's ``security trust-settings-export`` plist (None: that domain has none).

    A certificate with trust settings that apply to TLS gets what they say, whichever keychain
    holds it: that is how an admin-installed inspection root (System keychain, "Always Trust")
    counts and a "Never Trust" one does not. Without any: the system roots are anchors, a
    self-signed certificate elsewhere is not-for-TLS (present, not trusted), the rest are
    intermediates.
    """
    settings = {
        domain: parse_trust_settings(plist) if plist else {}
        for domain, plist in trust_settings.items()
    }
    entries: list[StoreCertificate] = []
    reads: list[SourceRead] = []
    for keychain, pem in keychains:
        ders, damaged = pem_certificates(pem)
        for der in ders:
            entry = _entry(der, _macos_role(der, keychain, settings), keychain)
            if entry is not None:
                entries.append(entry)
        problem = f"{damaged} entries unreadable" if damaged and not ders else None
        reads.append(SourceRead(keychain, len(ders), problem))
    return entries, reads


def _macos_role(
    der: bytes, keychain: str, settings: Mapping[TrustDomain, Mapping[str, object]]
) -> CertRole:
    digest = hashlib.sha1(der, usedforsecurity=False).hexdigest().upper()
    for domain in TrustDomain:
        domain_settings = settings.get(domain, {})
        if digest in domain_settings:
            decision = trust_decision(domain_settings[digest])
            if decision is not None:
                return decision
    if keychain == SYSTEM_ROOTS_KEYCHAIN:
        return CertRole.ANCHOR
    names = _names(der)
    if names is not None and names[0] == names[1]:
        return CertRole.NOT_FOR_TLS
    return CertRole.INTERMEDIATE


def _run_security(args: Sequence[str]) -> tuple[bytes | None, str | None]:
    import subprocess

    try:
        done = subprocess.run(
            [SECURITY, *args], capture_output=True, timeout=COMMAND_TIMEOUT, check=False
        )
    except subprocess.TimeoutExpired:
        return None, f"`security {args[0]}` took longer than {COMMAND_TIMEOUT:.0f} s"
    except OSError as exc:
        return None, f"`security` cannot be run: {exc.strerror or exc}"
    if done.returncode != 0:
        said = done.stderr.decode("utf-8", "replace").strip().splitlines()
        return None, said[-1][:200] if said else f"exit status {done.returncode}"
    return done.stdout, None


SecurityRunner = Callable[[Sequence[str]], tuple[bytes | None, str | None]]


def _export_trust_settings(run: SecurityRunner, flags: Sequence[str]) -> bytes | None:
    import tempfile

    with tempfile.TemporaryDirectory(prefix="hsd-trust-") as folder:
        out = Path(folder) / "trust.plist"
        _stdout, problem = run(["trust-settings-export", *flags, str(out)])
        if problem is not None:
            return None  # "No Trust Settings were found": the domain has none
        try:
            return read_bounded(out)
        except (CertificateFileError, OSError):
            return None


def _read_macos(
    run: SecurityRunner = _run_security,
    exists: Callable[[str], bool] = os.path.exists,
) -> OsStore:
    """The system roots, Apple's intermediates, the System keychain (where an administrator or
    an MDM profile installs a company or inspection root) and the login keychain, each through
    ``security find-certificate -a -p``, and the user's and the administrator's trust settings
    through ``security trust-settings-export [-d]``. Not seen: Apple's own distrust and
    constraint lists applied inside trustd (valid.apple.com), which only the OS verifier knows,
    and keychains other than these (a smart card, a custom keychain in the search list)."""
    keychains: list[tuple[str, bytes]] = []
    problems: list[SourceRead] = []
    for keychain in (SYSTEM_ROOTS_KEYCHAIN, SYSTEM_CA_KEYCHAIN, SYSTEM_KEYCHAIN, LOGIN_KEYCHAIN):
        path = os.path.expanduser(keychain)
        if not exists(path):
            problems.append(SourceRead(keychain, 0, "no such keychain"))
            continue
        pem, problem = run(["find-certificate", "-a", "-p", path])
        if pem is None:
            problems.append(SourceRead(keychain, 0, problem))
            continue
        keychains.append((path, pem))
    trust = {
        TrustDomain.USER: _export_trust_settings(run, []),
        TrustDomain.ADMIN: _export_trust_settings(run, ["-d"]),
    }
    entries, reads = macos_certificates(keychains, trust)
    return OsStore("macos", merge(entries), tuple(reads + problems))


# --------------------------------------------------------------------------- Linux

#: The bundle OpenSSL reads where the distribution keeps one (Debian/Ubuntu, Fedora/RHEL,
#: openSUSE, Fedora's extracted copy, Alpine/Arch), in the order tried.
LINUX_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
)
#: Where an administrator drops a company root for the distribution's tools to add to the
#: bundle: Debian/Ubuntu (update-ca-certificates), Fedora/RHEL (update-ca-trust, p11-kit),
#: openSUSE (update-ca-certificates, p11-kit), Arch (trust extract-compat, p11-kit). A root here
#: counts even before the bundle is regenerated: the admin's intent is plain, and on the p11-kit
#: systems NSS and GnuTLS programs already trust it.
LINUX_ANCHOR_FOLDERS = (
    "/usr/local/share/ca-certificates",
    "/etc/pki/ca-trust/source/anchors",
    "/etc/pki/trust/anchors",
    "/etc/ca-certificates/trust-source/anchors",
)
#: Where p11-kit systems keep distrusted certificates (older releases: "blacklist").
LINUX_BLOCKLIST_FOLDERS = (
    "/etc/pki/ca-trust/source/blocklist",
    "/etc/pki/ca-trust/source/blacklist",
    "/etc/pki/trust/blacklist",
    "/etc/ca-certificates/trust-source/blocklist",
)
#: No more files than this are read of one folder (a bound on our work; /etc/ssl/certs, read
#: when no bundle file exists, holds a few hundred).
MAX_FOLDER_FILES = 4096


def linux_certificates(
    bundle: tuple[str, BundleIndex] | None,
    folders: Sequence[tuple[str, CertRole, Sequence[tuple[str, bytes]]]],
) -> tuple[list[StoreCertificate], list[SourceRead]]:
    """Fold the OpenSSL bundle (its path and index) and the anchor and blocklist folders,
    ``[(folder, role, [(file, bytes)])]``: PEM files of any number of certificates, or one DER."""
    entries: list[StoreCertificate] = []
    reads: list[SourceRead] = []
    if bundle is not None:
        path, index = bundle
        for number, subject in enumerate(index.subjects):
            entries.append(StoreCertificate(subject, CertRole.ANCHOR, (path,), (index, number)))
        reads.append(SourceRead(path, len(index.subjects)))
    for folder, role, files in folders:
        count = 0
        for name, data in files:
            ders = pem_certificates(data)[0] if _BEGIN in data else [data]
            for der in ders:
                entry = _entry(der, role, f"{folder}/{name}")
                if entry is not None:
                    entries.append(entry)
                    count += 1
        reads.append(SourceRead(folder, count))
    return entries, reads


def _folder_files(folder: str) -> list[tuple[str, bytes]]:
    try:
        names = sorted(os.listdir(folder))[:MAX_FOLDER_FILES]
    except OSError:
        return []
    files: list[tuple[str, bytes]] = []
    for name in names:
        path = Path(folder) / name
        if not path.is_file():
            continue
        try:
            data = read_bounded(path)
        except (CertificateFileError, OSError):
            continue
        if data:
            files.append((name, data))
    return files


def _read_linux(
    anchor_folders: Sequence[str] = LINUX_ANCHOR_FOLDERS,
    blocklist_folders: Sequence[str] = LINUX_BLOCKLIST_FOLDERS,
) -> OsStore:
    """What OpenSSL uses (it honours ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``), plus the
    distribution's anchor and blocklist folders. When ``SSL_CERT_FILE`` or ``SSL_CERT_DIR`` is
    set, only that is read: whoever set it said where this computer's store is. Not seen: a
    program's own store (Firefox's NSS database, Java's cacerts) and p11-kit modules other than
    these files."""
    paths = ssl.get_default_verify_paths()
    env_file = os.environ.get(paths.openssl_cafile_env)
    env_dir = os.environ.get(paths.openssl_capath_env)
    candidates: list[str] = [env_file] if env_file else []
    if not env_file:
        if paths.cafile:
            candidates.append(paths.cafile)
        candidates += [p for p in LINUX_BUNDLES if p not in candidates]
    bundle: tuple[str, BundleIndex] | None = None
    for candidate in candidates:
        try:
            bundle = (candidate, load_bundle(Path(candidate)))
            break
        except CertificateFileError:
            continue
    folders: list[tuple[str, CertRole, Sequence[tuple[str, bytes]]]] = []
    if bundle is None:
        capath = env_dir or paths.capath
        if capath and os.path.isdir(capath):
            folders.append((capath, CertRole.ANCHOR, _folder_files(capath)))
    if not (env_file or env_dir):
        for folder in anchor_folders:
            if os.path.isdir(folder):
                folders.append((folder, CertRole.ANCHOR, _folder_files(folder)))
        for folder in blocklist_folders:
            if os.path.isdir(folder):
                folders.append((folder, CertRole.DISTRUSTED, _folder_files(folder)))
    entries, reads = linux_certificates(bundle, folders)
    if bundle is None and not folders:
        reads.append(SourceRead("OpenSSL's default bundle", 0, "none found"))
    return OsStore("linux", merge(entries), tuple(reads))


# --------------------------------------------------------------------------- the one function


def read_os_store() -> OsStore:
    """This computer's trust store, read now (call ``os_store()`` for the cached one)."""
    if sys.platform == "win32":
        return _read_windows()
    if sys.platform == "darwin":
        return _read_macos()
    return _read_linux()


@functools.cache
def os_store() -> OsStore:
    """The store as read once per process: it is read on first use, never at import (a check
    started with --no-default-trust, or `inspect --ca-file`, never pays for it)."""
    return read_os_store()
