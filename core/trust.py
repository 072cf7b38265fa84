"""The trust stores a chain is judged against: Mozilla's (certifi), this machine's, and a
company CA given with ``--ca-file``.

Keeping them apart is the point: a root the OS trusts but Mozilla does not is what TLS
interception looks like, and a chain only the OS accepts explains "works in the browser, fails in
Python/curl".
"""

from __future__ import annotations

import functools
import os
import ssl
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import certifi
from cryptography import x509

from core.certs import CertificateFileError, load_certificates, read_certificate_file

MOZILLA = "mozilla"
OS = "os"
CUSTOM = "custom"

_LINUX_BUNDLES = (
    "/etc/ssl/certs/ca-certificates.crt",
    "/etc/pki/tls/certs/ca-bundle.crt",
    "/etc/ssl/ca-bundle.pem",
    "/etc/pki/ca-trust/extracted/pem/tls-ca-bundle.pem",
    "/etc/ssl/cert.pem",
)


@dataclass(frozen=True)
class TrustStores:
    """Roots per store; None means the store is not in use for this check."""

    mozilla: tuple[x509.Certificate, ...] | None
    os: tuple[x509.Certificate, ...] | None
    custom: tuple[x509.Certificate, ...] | None

    def in_use(self) -> dict[str, tuple[x509.Certificate, ...]]:
        stores = {MOZILLA: self.mozilla, OS: self.os, CUSTOM: self.custom}
        return {name: roots for name, roots in stores.items() if roots is not None}

    def all_roots(self) -> list[x509.Certificate]:
        seen: dict[bytes, x509.Certificate] = {}
        for roots in self.in_use().values():
            for root in roots:
                seen.setdefault(root.fingerprint(_SHA256), root)
        return list(seen.values())


from cryptography.hazmat.primitives import hashes  # noqa: E402 - kept next to its one use

_SHA256 = hashes.SHA256()


@functools.cache
def mozilla_roots() -> tuple[x509.Certificate, ...]:
    return tuple(load_certificates(Path(certifi.where()).read_bytes()))


@functools.cache
def os_roots() -> tuple[x509.Certificate, ...]:
    """This machine's trust store. On Linux that is what OpenSSL would use (it honours
    ``SSL_CERT_FILE`` / ``SSL_CERT_DIR``); on Windows the ROOT store; on macOS the system
    keychains."""
    if sys.platform == "win32":
        return _windows_roots()
    if sys.platform == "darwin":
        return _macos_roots()
    return _openssl_roots()


def _openssl_roots() -> tuple[x509.Certificate, ...]:
    paths = ssl.get_default_verify_paths()
    candidates: list[str] = []
    if paths.cafile:
        candidates.append(paths.cafile)
    env_file = os.environ.get(paths.openssl_cafile_env)
    if env_file:
        candidates.insert(0, env_file)
    if not env_file:
        candidates += [p for p in _LINUX_BUNDLES if p not in candidates]
    for candidate in candidates:
        try:
            return tuple(read_certificate_file(Path(candidate)))
        except CertificateFileError:
            continue
    capath = os.environ.get(paths.openssl_capath_env) or paths.capath
    if capath and os.path.isdir(capath):
        found: list[x509.Certificate] = []
        for entry in sorted(os.listdir(capath)):
            try:
                found += read_certificate_file(Path(capath) / entry)
            except CertificateFileError:
                continue
        return tuple(found)
    return ()


def _windows_roots() -> tuple[x509.Certificate, ...]:
    found: list[x509.Certificate] = []
    for store in ("ROOT", "CA"):
        for der, encoding, _trust in ssl.enum_certificates(store):  # type: ignore[attr-defined]
            if encoding == "x509_asn":
                try:
                    found += load_certificates(der)
                except CertificateFileError:
                    continue
    return tuple(found)


def _macos_roots() -> tuple[x509.Certificate, ...]:
    keychains = (
        "/System/Library/Keychains/SystemRootCertificates.keychain",
        "/Library/Keychains/System.keychain",
    )
    found: list[x509.Certificate] = []
    for keychain in keychains:
        try:
            pem = subprocess.run(
                ["/usr/bin/security", "find-certificate", "-a", "-p", keychain],
                capture_output=True,
                timeout=10,
                check=False,
            ).stdout
            found += load_certificates(pem)
        except (OSError, subprocess.TimeoutExpired, CertificateFileError):
            continue
    return tuple(found)


def build_stores(
    ca_file: Path | None, *, no_default_trust: bool, extra: Sequence[x509.Certificate] = ()
) -> TrustStores:
    """Raises CertificateFileError when ``--ca-file`` cannot be used."""
    custom: tuple[x509.Certificate, ...] | None = None
    if ca_file is not None or extra:
        custom = tuple(read_certificate_file(ca_file) if ca_file else []) + tuple(extra)
    if no_default_trust:
        return TrustStores(mozilla=None, os=None, custom=custom or ())
    return TrustStores(mozilla=mozilla_roots(), os=os_roots(), custom=custom)
