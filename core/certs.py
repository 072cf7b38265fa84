"""Reading certificates from bytes and describing them for people.

Certificate files come from anywhere (a download, an email, a broken export); every loader here
either returns certificates or raises CertificateFileError with one sentence saying why.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import stat
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from types import MappingProxyType
from typing import TypeVar

from cryptography import x509
from cryptography.exceptions import InvalidSignature, UnsupportedAlgorithm
from cryptography.hazmat.primitives import hashes

try:  # where serialization.Encoding is defined; the public module also loads SSH keys (~10 ms)
    from cryptography.hazmat.primitives._serialization import Encoding as Encoding
except ImportError:  # pragma: no cover - a cryptography that moved it
    from cryptography.hazmat.primitives.serialization import Encoding as Encoding
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed448, ed25519, padding, rsa

from core.models import CertificateFileProblem, CertificateInfo, EvidenceValue

#: Larger files are not certificate bundles; refuse them before reading them whole.
MAX_CERT_FILE_BYTES = 8 * 1024 * 1024

_Ext = TypeVar("_Ext", bound=x509.ExtensionType)

#: What reading a malformed certificate's extensions raises: a duplicated extension, a name
#: constraint that is not a network, an undecodable value...
_EXTENSION_ERRORS = (
    x509.DuplicateExtension,
    x509.UnsupportedGeneralNameType,
    ValueError,
    TypeError,
)


class CertificateFileError(ValueError):
    """The file holds no usable certificate: ``problem`` says why, with its facts (the
    catalogue words them: ``str(error)`` is one sentence for the user), and ``kind`` what a
    caller can do about it: ``needs_password`` when a password may open it (the window then
    asks for one), else ``unusable``."""

    NEEDS_PASSWORD = "needs_password"  # noqa: S105 - a kind of problem, not a password
    UNUSABLE = "unusable"

    def __init__(self, problem: CertificateFileProblem, **facts: EvidenceValue) -> None:
        super().__init__(problem.value)
        self.problem = problem
        self.facts: Mapping[str, EvidenceValue] = MappingProxyType(facts)

    @property
    def kind(self) -> str:
        needs = self.problem is CertificateFileProblem.NEEDS_PASSWORD
        return self.NEEDS_PASSWORD if needs else self.UNUSABLE

    def __str__(self) -> str:
        from core.catalogue import load_catalogue  # only when the error is shown

        return load_catalogue().certificate_file_text(self.problem, self.facts)


P = CertificateFileProblem


@contextlib.contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        # One Mozilla root has a non-positive serial; cryptography warns about it on every load.
        warnings.simplefilter("ignore")
        yield


#: Most key-derivation rounds a PKCS#12 file may ask for, all its derivations together. Real
#: files use 1 to about 600,000 for each of two or three; each round costs a hash, so a file
#: asking for 2^31 (or for a thousand derivations) would keep us busy for minutes.
MAX_PKCS12_ROUNDS = 10_000_000
_MAX_DER_DEPTH = 24
#: Elements a PKCS#12 file may have: a bound on our work, and well above a bundle of a hundred
#: certificates (the walk reads the certificates inside it too).
_MAX_BER_ELEMENTS = 200_000
_OCTET_STRING, _INTEGER, _CONSTRUCTED = 0x04, 0x02, 0x20


class _Unreadable(Exception):
    """The bytes are not (exactly) a run of BER elements."""


#: A BER element: (tag, primitive content or constructed children). The tag is its first byte,
#: or the whole identifier for a high tag number, so tags only ever compare for identity.
_Element = tuple[int, "bytes | list[_Element]"]


def _ber_elements(data: bytes, depth: int, budget: list[int]) -> list[_Element]:
    """Parse a run of BER elements, definite or indefinite lengths, primitive or constructed;
    raises _Unreadable unless every byte belongs to one."""
    elements, end = _ber_run(data, 0, depth, budget, until_eoc=False)
    if end != len(data):
        raise _Unreadable
    return elements


def _ber_run(
    data: bytes, pos: int, depth: int, budget: list[int], *, until_eoc: bool
) -> tuple[list[_Element], int]:
    if depth > _MAX_DER_DEPTH:
        raise _Unreadable
    elements: list[_Element] = []
    while pos < len(data):
        if until_eoc and data[pos : pos + 2] == b"\x00\x00":
            return elements, pos + 2
        budget[0] -= 1
        if budget[0] < 0:
            raise _Unreadable
        first = data[pos]
        tag, pos = first, pos + 1
        if first & 0x1F == 0x1F:  # high tag number: base-128 digits, the last below 0x80
            begin = pos - 1
            while pos < len(data) and data[pos] & 0x80 and pos - begin < 8:
                pos += 1
            if pos >= len(data) or data[pos] & 0x80:
                raise _Unreadable
            pos += 1
            tag = (1 << 64) | int.from_bytes(data[begin:pos], "big")  # never a one-byte tag
        if pos >= len(data):
            raise _Unreadable
        size, pos = data[pos], pos + 1
        constructed = bool(first & _CONSTRUCTED)
        if size == 0x80:  # indefinite: the content runs to the matching end-of-contents
            if not constructed:
                raise _Unreadable
            children, pos = _ber_run(data, pos, depth + 1, budget, until_eoc=True)
            elements.append((tag, children))
            continue
        if size & 0x80:
            count = size & 0x7F
            if count > 8 or pos + count > len(data):
                raise _Unreadable
            size = int.from_bytes(data[pos : pos + count], "big")
            pos += count
        if pos + size > len(data):
            raise _Unreadable
        content = data[pos : pos + size]
        pos += size
        if constructed:
            elements.append((tag, _ber_elements(content, depth + 1, budget)))
        else:
            elements.append((tag, content))
    if until_eoc:
        raise _Unreadable  # no end-of-contents
    return elements, pos


def _octets(element: _Element) -> bytes:
    """The content of an OCTET STRING, primitive or cut into constructed segments."""
    _tag, content = element
    if isinstance(content, bytes):
        return content
    return b"".join(_octets(child) for child in content)


def pkcs12_rounds(data: bytes) -> int | None:
    """All the key-derivation rounds a PKCS#12 file asks for (MAC, PBE and PBKDF2 parameters,
    each an INTEGER that directly follows an OCTET STRING, the salt, in a SEQUENCE), or None
    when its structure cannot be read: definite (DER) and indefinite (BER) lengths alike.

    Read before the password is tried, because trying it costs that many rounds; and a file
    this cannot read must never reach OpenSSL, which reads more than DER and would run a
    derivation that was never counted."""
    budget = [_MAX_BER_ELEMENTS]
    try:
        top = _ber_elements(data, 0, budget)
    except (_Unreadable, RecursionError):
        return None
    if len(top) != 1 or top[0][0] != 0x30:
        return None
    total = 0

    def walk(elements: list[_Element], depth: int) -> None:
        nonlocal total
        previous = -1
        for tag, content in elements:
            if tag == _INTEGER and previous == _OCTET_STRING and isinstance(content, bytes):
                too_many = len(content) > 8  # beyond 2^63: no file needs that
                count = int.from_bytes(content, "big", signed=True) if not too_many else 0
                total += MAX_PKCS12_ROUNDS + 1 if too_many else max(0, count)
            if tag & ~_CONSTRUCTED == _OCTET_STRING:
                # What an OCTET STRING holds (a SafeContents, a key bag) may be more BER, or
                # bytes that are not (a salt, a ciphertext): only the first is walked.
                try:
                    inner = _ber_elements(_octets((tag, content)), depth + 1, budget)
                except (_Unreadable, RecursionError):
                    inner = []
                walk(inner, depth + 1)
                previous = _OCTET_STRING
                continue
            if not isinstance(content, bytes):
                walk(content, depth + 1)
            previous = tag

    try:
        walk(top, 0)
    except RecursionError:
        return None
    return total if budget[0] >= 0 else None


def load_certificates(data: bytes, *, password: bytes | None = None) -> list[x509.Certificate]:
    """PEM (any number), DER, PKCS#7 (PEM or DER) or PKCS#12; raises CertificateFileError.

    Every certificate returned has readable names, dates and serial: cryptography parses some
    fields only when asked, and a damaged one would otherwise raise deep inside the analysis.
    (Unreadable extensions are the analysis's to report: see :func:`extensions_problem`.)"""
    certs = _load_any(data, password)
    for number, cert in enumerate(certs, 1):
        problem = unreadable_field(cert)
        if problem is not None:
            raise CertificateFileError(P.DAMAGED, number=number, detail=problem)
    return certs


def unreadable_field(cert: x509.Certificate) -> str | None:
    """The first field the app relies on that cannot be parsed, as "its issuer name", or None."""
    readers: tuple[tuple[str, Callable[[], object]], ...] = (
        ("its version", lambda: cert.version),
        ("its serial number", lambda: _serial(cert)),
        ("its subject name", lambda: cert.subject),
        ("its issuer name", lambda: cert.issuer),
        ("its start date", lambda: cert.not_valid_before_utc),
        ("its end date", lambda: cert.not_valid_after_utc),
        ("its signature algorithm", lambda: cert.signature_algorithm_oid),
    )
    for what, read in readers:
        try:
            with _quiet():  # a 10,000-character name warns on every read
                read()
        except (ValueError, TypeError, x509.InvalidVersion):
            return what
    return None


def _load_any(data: bytes, password: bytes | None) -> list[x509.Certificate]:
    if not data.strip():
        raise CertificateFileError(P.EMPTY)
    if b"-----BEGIN" in data:
        return _load_pem(data)
    # Here, not at the top: they import the email package (~6 ms), and PEM needs neither.
    from cryptography.hazmat.primitives.serialization import pkcs7, pkcs12

    with _quiet():
        try:
            return [x509.load_der_x509_certificate(data)]
        except x509.InvalidVersion:
            raise CertificateFileError(P.DAMAGED, detail="its version") from None
        except ValueError:
            pass
        try:
            certs = pkcs7.load_der_pkcs7_certificates(data)
        except (
            ValueError,
            UnsupportedAlgorithm,
            x509.InvalidVersion,
        ):  # not PKCS#7, or not its signedData kind
            certs = []
    if certs:
        return list(certs)
    rounds = pkcs12_rounds(data)
    if rounds is None:  # not PKCS#12, or one this cannot read: OpenSSL must not try it
        raise CertificateFileError(P.UNKNOWN_FORMAT)
    if rounds > MAX_PKCS12_ROUNDS:
        raise CertificateFileError(P.PKCS12_STALL)
    try:
        bundle = pkcs12.load_pkcs12(data, password)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion) as exc:
        if "password" in str(exc).lower() or "mac" in str(exc).lower():
            raise CertificateFileError(P.NEEDS_PASSWORD) from None
    else:
        found = [c.certificate for c in ([bundle.cert] if bundle.cert else [])]
        found += [c.certificate for c in bundle.additional_certs]
        if found:
            return found
        raise CertificateFileError(P.PKCS12_EMPTY)
    raise CertificateFileError(P.UNKNOWN_FORMAT)


def _load_pem(data: bytes) -> list[x509.Certificate]:
    marker = b"-----BEGIN CERTIFICATE-----"
    if b"-----BEGIN PKCS7-----" in data or marker not in data:
        if b"PRIVATE KEY-----" in data and marker not in data:
            raise CertificateFileError(P.PRIVATE_KEY)
        from cryptography.hazmat.primitives.serialization import pkcs7

        try:
            with _quiet():
                return list(pkcs7.load_pem_pkcs7_certificates(data))
        except (ValueError, UnsupportedAlgorithm, x509.InvalidVersion):
            raise CertificateFileError(P.PEM_EMPTY) from None
    found: list[x509.Certificate] = []
    for block in data.split(marker)[1:]:
        end = block.find(b"-----END CERTIFICATE-----")
        if end < 0:
            raise CertificateFileError(P.CUT_OFF)
        pem = marker + block[: end + len(b"-----END CERTIFICATE-----")] + b"\n"
        try:
            with _quiet():
                found.append(x509.load_pem_x509_certificate(pem))
        except (ValueError, x509.InvalidVersion):
            raise CertificateFileError(P.DAMAGED, number=len(found) + 1) from None
    return found


def read_bounded(path: Path, limit: int = MAX_CERT_FILE_BYTES) -> bytes | None:
    """The bytes of a regular file, or None when it holds more than ``limit`` bytes.

    Only regular files: a named pipe would block forever on open, and a device such as
    /dev/zero or /dev/urandom reports a size of 0 and never ends. The size is checked while
    reading too, as the file may grow between the stat and the read. Raises OSError (with
    ``IsADirectoryError`` for a folder) for anything that is not a readable regular file.
    """
    info = path.stat()
    if stat.S_ISDIR(info.st_mode):
        raise IsADirectoryError(errno.EISDIR, "is a folder", str(path))
    if not stat.S_ISREG(info.st_mode):
        raise OSError(errno.EINVAL, "not a regular file", str(path))
    if info.st_size > limit:
        return None
    with path.open("rb") as handle:
        data = handle.read(limit + 1)
    return data if len(data) <= limit else None


def read_certificate_file(path: Path, *, password: bytes | None = None) -> list[x509.Certificate]:
    try:
        data = read_bounded(path)
        if data is None:
            size = max(path.stat().st_size, MAX_CERT_FILE_BYTES + 1)
            raise CertificateFileError(P.TOO_LARGE, path=str(path), megabytes=round(size / 1e6))
    except IsADirectoryError:
        raise CertificateFileError(P.FOLDER, path=str(path)) from None
    except FileNotFoundError:
        raise CertificateFileError(P.MISSING, path=str(path)) from None
    except PermissionError:
        raise CertificateFileError(P.FORBIDDEN, path=str(path)) from None
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            raise CertificateFileError(P.SPECIAL, path=str(path)) from None
        raise CertificateFileError(P.UNREADABLE, path=str(path), reason=exc.strerror) from None
    return load_certificates(data, password=password)


# --------------------------------------------------------------------------- extensions


def extension_value(cert: x509.Certificate, kind: type[_Ext]) -> _Ext | None:
    """The certificate's extension of this kind, or None when it is absent or unreadable
    (:func:`extensions_problem` says why a certificate's extensions cannot be read)."""
    try:
        return cert.extensions.get_extension_for_class(kind).value
    except (x509.ExtensionNotFound, *_EXTENSION_ERRORS):
        return None


def extensions_problem(cert: x509.Certificate) -> str | None:
    """Why the certificate's extensions cannot be read (a duplicated extension, a malformed
    value), or None when they can."""
    try:
        cert.extensions  # noqa: B018 - parsing them is the check
    except _EXTENSION_ERRORS as exc:
        return str(exc) or type(exc).__name__
    return None


# --------------------------------------------------------------------------- describing


def name_text(name: x509.Name) -> str:
    try:
        return name.rfc4514_string()
    except ValueError:
        return "(unreadable name)"


def common_name(cert: x509.Certificate) -> str:
    try:
        attrs = cert.subject.get_attributes_for_oid(x509.NameOID.COMMON_NAME)
    except ValueError:
        return name_text(cert.subject)
    if attrs:
        value = attrs[0].value
        return value if isinstance(value, str) else value.decode("latin-1")
    return name_text(cert.subject)


def san_names(cert: x509.Certificate) -> tuple[str, ...]:
    ext = extension_value(cert, x509.SubjectAlternativeName)
    if ext is None:
        return ()
    names: list[str] = [str(v) for v in ext.get_values_for_type(x509.DNSName)]
    names += [str(v) for v in ext.get_values_for_type(x509.IPAddress)]
    return tuple(names)


def key_description(cert: x509.Certificate) -> tuple[str, int]:
    """(human text, bits) such as ("RSA 2048", 2048) or ("EC P-256", 256)."""
    try:
        key = cert.public_key()
    except (ValueError, TypeError, UnsupportedAlgorithm):  # e.g. a curve nobody knows
        return ("unknown key", 0)
    if isinstance(key, rsa.RSAPublicKey):
        return (f"RSA {key.key_size}", key.key_size)
    if isinstance(key, ec.EllipticCurvePublicKey):
        curve = {"secp256r1": "P-256", "secp384r1": "P-384", "secp521r1": "P-521"}.get(
            key.curve.name, key.curve.name
        )
        return (f"EC {curve}", key.curve.key_size)
    if isinstance(key, dsa.DSAPublicKey):
        return (f"DSA {key.key_size}", key.key_size)
    if isinstance(key, ed25519.Ed25519PublicKey):
        return ("Ed25519", 256)
    if isinstance(key, ed448.Ed448PublicKey):
        return ("Ed448", 456)
    return (type(key).__name__, 0)


def signature_name(cert: x509.Certificate) -> str:
    try:
        algorithm = cert.signature_hash_algorithm
    except Exception:
        algorithm = None
    oid_name = getattr(cert.signature_algorithm_oid, "_name", None) or str(
        cert.signature_algorithm_oid.dotted_string
    )
    if algorithm is None:
        return str(oid_name)
    return str(oid_name)


def signature_hash(cert: x509.Certificate) -> str | None:
    try:
        algorithm = cert.signature_hash_algorithm
    except Exception:
        return None
    return algorithm.name if algorithm is not None else None


def is_ca(cert: x509.Certificate) -> bool:
    constraints = extension_value(cert, x509.BasicConstraints)
    return bool(constraints is not None and constraints.ca)


def leaf_first(certs: Sequence[x509.Certificate]) -> list[x509.Certificate]:
    """Files list chains in either order; the leaf is the one certificate that is not a CA."""
    items = list(certs)
    if items and is_ca(items[0]) and any(not is_ca(c) for c in items):
        leaf = next(c for c in items if not is_ca(c))
        items.remove(leaf)
        items.insert(0, leaf)
    return items


def is_self_issued(cert: x509.Certificate) -> bool:
    return cert.subject == cert.issuer


def signed_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    """Does ``issuer``'s key verify ``cert``'s signature (and do the names link)?

    Checked by hand rather than with ``verify_directly_issued_by``, which refuses SHA-1 and MD5
    signatures: those chains must still be built, so that the weak signature can be named.
    """
    if cert.issuer != issuer.subject:
        return False
    try:
        key = issuer.public_key()
        algorithm = cert.signature_hash_algorithm
        params = cert.signature_algorithm_parameters
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            pad = params if isinstance(params, padding.PSS) else padding.PKCS1v15()
            key.verify(cert.signature, cert.tbs_certificate_bytes, pad, algorithm)
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(cert.signature, cert.tbs_certificate_bytes, ec.ECDSA(algorithm))
        elif isinstance(key, dsa.DSAPublicKey) and algorithm is not None:
            key.verify(cert.signature, cert.tbs_certificate_bytes, algorithm)
        elif isinstance(key, ed25519.Ed25519PublicKey | ed448.Ed448PublicKey):
            key.verify(cert.signature, cert.tbs_certificate_bytes)
        else:
            return False
    except (InvalidSignature, UnsupportedAlgorithm, ValueError, TypeError):
        return False
    return True


def _serial(cert: x509.Certificate) -> int:
    with _quiet():  # a non-positive serial (one Mozilla root has one) warns on every read
        return cert.serial_number


def describe(
    cert: x509.Certificate, *, sent_by_server: bool, trusted_by: Sequence[str] = ()
) -> CertificateInfo:
    der = cert.public_bytes(Encoding.DER)
    key_text, bits = key_description(cert)
    return CertificateInfo(
        subject=name_text(cert.subject),
        issuer=name_text(cert.issuer),
        not_before=cert.not_valid_before_utc,
        not_after=cert.not_valid_after_utc,
        san=san_names(cert),
        sha256=hashlib.sha256(der).hexdigest(),
        sha1=cert.fingerprint(hashes.SHA1()).hex(),  # noqa: S303 - a fingerprint to compare, not security
        serial=format(_serial(cert), "x"),
        key=key_text,
        key_bits=bits,
        signature_algorithm=signature_name(cert),
        sent_by_server=sent_by_server,
        is_ca=is_ca(cert),
        self_issued=is_self_issued(cert),
        pem=cert.public_bytes(Encoding.PEM).decode("ascii"),
        trusted_by=tuple(trusted_by),
    )
