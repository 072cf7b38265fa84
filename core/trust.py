"""The trust stores a chain is judged against: Mozilla's (certifi), this machine's, and a
company CA given with ``--ca-file``.

Keeping them apart is the point: a root the OS trusts but Mozilla does not is what TLS
interception looks like, and a chain only the OS accepts explains "works in the browser, fails in
Python/curl".
"""

from __future__ import annotations

import functools
import importlib.util
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TYPE_CHECKING

from core.certs import CertificateFileError, read_certificate_file
from core.root_cache import BundleIndex, certificate_names, load_bundle, tbs_names

if TYPE_CHECKING:
    from cryptography import x509

    from core.os_store import StoreCertificate

MOZILLA = "mozilla"
OS = "os"
CUSTOM = "custom"


def _der(cert: x509.Certificate) -> bytes:
    from core.certs import Encoding

    return cert.public_bytes(Encoding.DER)


def issuer_der(cert: x509.Certificate) -> bytes | None:
    """The raw DER of the certificate's issuer name, as the verifier compares it."""
    try:
        return tbs_names(cert.tbs_certificate_bytes)[0]
    except ValueError:
        return None


class Roots:
    """One store's roots. A root is parsed only when a verification asks for its subject, so a
    check pays for the one or two roots its chain needs, not for the few hundred in a store.

    Made from a bundle's index, roots are found by the raw DER of their subject, as the
    verifier matches names, and decoded from the bundle's own bytes when first asked for; one
    whose subject is not what the index says, or that is damaged, is left out, as if the store
    did not hold it. Made from parsed certificates (``--ca-file``, the tests), they are found by
    cryptography's Name equality, as before."""

    def __init__(
        self, subjects: Sequence[bytes], der_of: Callable[[int], bytes | None] | None = None
    ) -> None:
        self._subjects = tuple(subjects)
        self._der_of = der_of
        self._parsed: dict[int, x509.Certificate | None] = {}
        self._ders: dict[int, bytes | None] = {}
        self._lock = threading.Lock()
        self._by_name: dict[x509.Name, list[int]] | None = None
        self._by_der: dict[bytes, list[int]] = {}
        for number, subject in enumerate(self._subjects):
            self._by_der.setdefault(subject, []).append(number)

    @classmethod
    def from_index(cls, index: BundleIndex) -> Roots:
        return cls(index.subjects, index.der)

    @classmethod
    def from_certificates(cls, certs: Iterable[x509.Certificate]) -> Roots:
        certs = tuple(certs)
        roots = cls([_subject_der(c) for c in certs])
        roots._ders = {n: _der(c) for n, c in enumerate(certs)}
        roots._parsed = {n: c for n, c in enumerate(certs)}  # noqa: C416 - typed as optional
        roots._by_name = {}
        for number, cert in enumerate(certs):
            roots._by_name.setdefault(cert.subject, []).append(number)
        return roots

    def __len__(self) -> int:
        return len(self._subjects)

    @property
    def parsed_count(self) -> int:
        """How many roots have been parsed so far: the cost a check has paid."""
        return len(self._parsed)

    def __bool__(self) -> bool:
        return bool(self._subjects)

    def __contains__(self, cert: object) -> bool:
        from cryptography import x509

        if not isinstance(cert, x509.Certificate):
            return False
        der = _der(cert)
        numbers = self._by_der.get(_subject_der(cert), [])
        return any(self._der(n) == der and self._get(n) is not None for n in numbers)

    def __iter__(self) -> Iterator[x509.Certificate]:
        """Every readable root: this parses them all (the self-test counts them)."""
        for number in range(len(self._subjects)):
            cert = self._get(number)
            if cert is not None:
                yield cert

    def _der(self, number: int) -> bytes | None:
        if number not in self._ders:
            assert self._der_of is not None
            der = self._der_of(number)
            if der is not None and _subject_or_empty(der) != self._subjects[number]:
                der = None  # the index and the bundle disagree: not a root of this store
            self._ders[number] = der
        return self._ders[number]

    def _get(self, number: int) -> x509.Certificate | None:
        if number in self._parsed:
            return self._parsed[number]
        with self._lock:
            if number not in self._parsed:
                der = self._der(number)
                self._parsed[number] = _parse_root(der) if der is not None else None
            return self._parsed[number]

    def named(self, cert: x509.Certificate) -> list[x509.Certificate]:
        """The roots whose subject is the certificate's issuer name: its possible issuers."""
        if self._by_name is not None:
            numbers = self._by_name.get(cert.issuer, [])
        else:
            key = issuer_der(cert)
            numbers = self._by_der.get(key, []) if key is not None else []
        found = [self._get(n) for n in numbers]
        return [c for c in found if c is not None]


def _subject_der(cert: x509.Certificate) -> bytes:
    try:
        return tbs_names(cert.tbs_certificate_bytes)[1]
    except ValueError:
        return b""


def _subject_or_empty(der: bytes) -> bytes:
    try:
        return certificate_names(der)[1]
    except ValueError:
        return b""


def _parse_root(der: bytes) -> x509.Certificate | None:
    import warnings

    from cryptography import x509

    from core.certs import unreadable_field

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # one Mozilla root has a non-positive serial
            cert = x509.load_der_x509_certificate(der)
    except (ValueError, x509.InvalidVersion):
        return None
    return cert if unreadable_field(cert) is None else None


@dataclass(frozen=True)
class TrustStores:
    """Roots per store; None means the store is not in use for this check. Plain tuples of
    certificates are taken too (the tests build stores that way)."""

    mozilla: Roots | None
    os: Roots | None
    custom: Roots | None

    def __post_init__(self) -> None:
        for field in fields(self):
            value: object = getattr(self, field.name)
            if value is not None and not isinstance(value, Roots):
                assert isinstance(value, Iterable)
                object.__setattr__(self, field.name, Roots.from_certificates(value))

    def in_use(self) -> dict[str, Roots]:
        stores = {MOZILLA: self.mozilla, OS: self.os, CUSTOM: self.custom}
        return {name: roots for name, roots in stores.items() if roots is not None}

    def roots_for(self, certs: Iterable[x509.Certificate]) -> list[x509.Certificate]:
        """The roots that could anchor a path through ``certs``: those named as an issuer by
        one of them, and any of them a store holds itself. Only these are parsed; a verifier
        given just these builds the same paths as one given every root."""
        seen: dict[bytes, x509.Certificate] = {}
        certs = list(certs)
        for roots in self.in_use().values():
            for cert in certs:
                for root in roots.named(cert):
                    seen.setdefault(_der(root), root)
                if cert in roots:
                    seen.setdefault(_der(cert), cert)
        return list(seen.values())

    def any_root(self) -> list[x509.Certificate]:
        """One readable root of the stores in use (none if they are empty)."""
        for roots in self.in_use().values():
            for root in roots:
                return [root]
        return []

    def all_roots(self) -> list[x509.Certificate]:
        seen: dict[bytes, x509.Certificate] = {}
        for roots in self.in_use().values():
            for root in roots:
                seen.setdefault(_der(root), root)
        return list(seen.values())


def certifi_bundle() -> Path:
    """certifi's cacert.pem, found without importing certifi (certifi.where() is just this
    path, and the frozen app bundles the file at the same place)."""
    spec = importlib.util.find_spec("certifi")
    if spec is None or spec.origin is None:
        raise CertificateFileError("certifi, the Mozilla root bundle, is not installed.")
    bundle = Path(spec.origin).with_name("cacert.pem")
    if bundle.is_file():
        return bundle
    import certifi  # a packaging that keeps the file elsewhere: certifi knows where

    return Path(certifi.where())


@functools.cache
def mozilla_roots() -> Roots:
    return Roots.from_index(load_bundle(certifi_bundle()))


@functools.cache
def os_roots() -> Roots:
    """This machine's trust anchors for TLS, as core/os_store.py reads them on each OS (its
    intermediates and distrusted certificates are not anchors). Read on first use only."""
    from core.os_store import os_store

    return roots_of(os_store().anchors)


def roots_of(certs: Sequence[StoreCertificate]) -> Roots:
    """Roots made from certificates as an OS store gives them: found by raw subject name and
    parsed only when a chain names them, like a bundle's."""
    certs = tuple(certs)
    return Roots([c.subject for c in certs], lambda number: certs[number].der)


def build_stores(
    ca_file: Path | None, *, no_default_trust: bool, extra: Sequence[x509.Certificate] = ()
) -> TrustStores:
    """Raises CertificateFileError when ``--ca-file`` cannot be used."""
    custom: Roots | None = None
    if ca_file is not None or extra:
        custom = Roots.from_certificates(
            [*(read_certificate_file(ca_file) if ca_file else []), *extra]
        )
    if no_default_trust:
        return TrustStores(mozilla=None, os=None, custom=custom or Roots.from_certificates(()))
    return TrustStores(mozilla=mozilla_roots(), os=os_roots(), custom=custom)


def warm_up() -> None:
    """Index the default stores now (from the cache when it is current), so that the first
    check does not wait for it; the window calls this in the background at start."""
    mozilla_roots()
    os_roots()
