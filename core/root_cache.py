"""The roots of a bundle file (certifi's cacert.pem, the OS's ca-certificates.crt) as raw DER,
indexed by raw subject name, and kept in a cache file between runs.

A check needs one or two roots out of a few hundred; parsing every one of them (and checking its
fields) before the first handshake cost a cold start about 40 ms. Here a bundle is only split into
DER blobs and each one's subject is read with a few lines of DER walking; the trust store parses
a root when a verification asks for its subject (core/trust.py).

The cache is never trusted blindly: it is keyed by the bundle's path, size, modification time
and SHA-256, and carries a digest of its own contents. A cache that does not match, or that is
damaged in any way, is rebuilt from the bundle; a cache that cannot be written is simply not
written. Neither is ever an error. And it holds no certificate, only where each one lies in
the bundle and its subject: a root is always decoded from the bundle's own bytes, and checked
against its subject when used, so even a cache forged to match cannot add a trust anchor.
"""

from __future__ import annotations

import binascii
import contextlib
import hashlib
import json
import os
import sys
from dataclasses import dataclass
from pathlib import Path

from core.certs import CertificateFileError, read_bounded
from core.models import CertificateFileProblem

#: Set to a folder to keep the cache there (the benchmark and the tests use a private one).
CACHE_ENV = "HANDSHAKE_DOCTOR_CACHE_DIR"
MAGIC = b"handshake-doctor roots v2\n"
_BEGIN = b"-----BEGIN CERTIFICATE-----"
_END = b"-----END CERTIFICATE-----"


@dataclass(frozen=True)
class BundleIndex:
    """A bundle's certificates in file order: each one's subject (raw DER) and where its base64
    lies in ``data``, the bundle's bytes. (A bundle in another format than PEM, which is rare,
    keeps its DER in ``ders`` and is not cached.)"""

    data: bytes
    subjects: tuple[bytes, ...]
    spans: tuple[tuple[int, int], ...] = ()
    ders: tuple[bytes, ...] = ()

    def __len__(self) -> int:
        return len(self.subjects)

    def der(self, number: int) -> bytes | None:
        """The certificate's DER, decoded from the bundle now; None if it does not decode."""
        if self.ders:
            return self.ders[number]
        start, end = self.spans[number]
        try:
            return binascii.a2b_base64(self.data[start:end])
        except binascii.Error:
            return None


# --------------------------------------------------------------------------- DER walking


def _tlv(data: bytes, pos: int) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``pos``; ValueError if it
    does not fit in ``data``."""
    if pos + 2 > len(data):
        raise ValueError("truncated")
    tag, size = data[pos], data[pos + 1]
    pos += 2
    if size & 0x80:
        count = size & 0x7F
        if count == 0 or count > 4 or pos + count > len(data):
            raise ValueError("bad length")
        size = int.from_bytes(data[pos : pos + count], "big")
        pos += count
    if pos + size > len(data):
        raise ValueError("truncated")
    return tag, pos, pos + size


def tbs_names(tbs: bytes) -> tuple[bytes, bytes]:
    """(issuer, subject) of a TBSCertificate, each as the raw DER of the Name (tag included),
    which is what path building compares. ValueError when the structure is not that."""
    tag, pos, end = _tlv(tbs, 0)
    if tag != 0x30:
        raise ValueError("not a sequence")
    tag, _start, stop = _tlv(tbs, pos)
    if tag == 0xA0:  # [0] version
        pos = stop
    names: list[bytes] = []
    for expected in (0x02, 0x30, 0x30, 0x30, 0x30):  # serial, signature, issuer, validity, subject
        tag, _start, stop = _tlv(tbs, pos)
        if tag != expected or stop > end:
            raise ValueError("unexpected field")
        names.append(tbs[pos:stop])
        pos = stop
    return names[2], names[4]


def certificate_names(der: bytes) -> tuple[bytes, bytes]:
    """(issuer, subject) raw DER of a DER certificate; ValueError when it is not one."""
    tag, pos, end = _tlv(der, 0)
    if tag != 0x30 or end != len(der):
        raise ValueError("not a certificate")
    _tag, _start, stop = _tlv(der, pos)
    return tbs_names(der[pos:stop])


# --------------------------------------------------------------------------- bundles


def index_bundle_bytes(data: bytes) -> BundleIndex:
    """Raises CertificateFileError as core.certs.load_certificates would for a damaged file."""
    if _BEGIN in data and b"-----BEGIN PKCS7-----" not in data:
        spans: list[tuple[int, int]] = []
        subjects: list[bytes] = []
        pos = data.find(_BEGIN)
        while pos >= 0:
            start = pos + len(_BEGIN)
            end = data.find(_END, start)
            if end < 0:
                raise CertificateFileError(CertificateFileProblem.CUT_OFF)
            try:
                subjects.append(certificate_names(binascii.a2b_base64(data[start:end]))[1])
            except (binascii.Error, ValueError):
                raise CertificateFileError(
                    CertificateFileProblem.DAMAGED, number=len(spans) + 1
                ) from None
            spans.append((start, end))
            pos = data.find(_BEGIN, end)
        return BundleIndex(data, tuple(subjects), spans=tuple(spans))
    # DER, PKCS#7: rare for a bundle; the full loader knows them all
    from cryptography.hazmat.primitives.serialization import Encoding

    from core.certs import load_certificates

    ders = tuple(c.public_bytes(Encoding.DER) for c in load_certificates(data))
    return BundleIndex(data, tuple(certificate_names(der)[1] for der in ders), ders=ders)


def _read(path: Path) -> bytes:
    try:
        data = read_bounded(path)
    except OSError as exc:
        raise CertificateFileError(
            CertificateFileProblem.UNREADABLE, path=str(path), reason=exc.strerror or str(exc)
        ) from None
    if data is None:
        raise CertificateFileError(CertificateFileProblem.BUNDLE_TOO_LARGE, path=str(path))
    return data


def cache_dir() -> Path:
    """``$HANDSHAKE_DOCTOR_CACHE_DIR``, else the platform's cache folder (XDG on Linux)."""
    override = os.environ.get(CACHE_ENV)
    if override:
        return Path(override)
    home = os.path.expanduser("~")
    if sys.platform == "win32":
        base = os.environ.get("LOCALAPPDATA") or os.path.join(home, "AppData", "Local")
        return Path(base) / "HandshakeDoctor" / "Cache"
    if sys.platform == "darwin":
        return Path(home) / "Library" / "Caches" / "HandshakeDoctor"
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(home, ".cache")
    return Path(base) / "handshake-doctor"


def cache_file_for(bundle: Path) -> Path:
    name = hashlib.sha256(os.fsencode(os.path.abspath(bundle))).hexdigest()[:24]
    return cache_dir() / f"roots-{name}.bin"


def _key(bundle: Path, data: bytes) -> dict[str, object]:
    info = bundle.stat()
    return {
        "path": os.path.abspath(bundle),
        "size": info.st_size,
        "mtime_ns": info.st_mtime_ns,
        "sha256": hashlib.sha256(data).hexdigest(),
    }


def _payload(index: BundleIndex) -> bytes:
    parts: list[bytes] = []
    for subject, (start, end) in zip(index.subjects, index.spans, strict=True):
        parts += [
            len(subject).to_bytes(4, "big"),
            subject,
            start.to_bytes(4, "big"),
            end.to_bytes(4, "big"),
        ]
    return b"".join(parts)


def _parse_payload(payload: bytes, count: int, data: bytes) -> BundleIndex:
    subjects: list[bytes] = []
    spans: list[tuple[int, int]] = []
    pos = 0
    while pos < len(payload):
        size = int.from_bytes(payload[pos : pos + 4], "big")
        if pos + 4 + size + 8 > len(payload):
            raise ValueError("truncated cache")
        subjects.append(payload[pos + 4 : pos + 4 + size])
        pos += 4 + size
        start = int.from_bytes(payload[pos : pos + 4], "big")
        end = int.from_bytes(payload[pos + 4 : pos + 8], "big")
        pos += 8
        if not 0 <= start < end <= len(data):
            raise ValueError("span outside the bundle")
        spans.append((start, end))
    if len(subjects) != count:
        raise ValueError("wrong count")
    return BundleIndex(data, tuple(subjects), spans=tuple(spans))


def read_cache(path: Path, key: dict[str, object], data: bytes) -> BundleIndex | None:
    """The cached index if the file is whole and was made from this very bundle (``data``),
    else None."""
    try:
        raw = path.read_bytes()
        if not raw.startswith(MAGIC):
            return None
        header_end = raw.index(b"\n", len(MAGIC))
        header = json.loads(raw[len(MAGIC) : header_end])
        payload = raw[header_end + 1 :]
        if not isinstance(header, dict) or header.get("bundle") != key:
            return None
        if header.get("payload_sha256") != hashlib.sha256(payload).hexdigest():
            return None
        count = header.get("count")
        if not isinstance(count, int):
            return None
        return _parse_payload(payload, count, data)
    except (OSError, ValueError, TypeError):  # missing, unreadable, damaged: rebuild
        return None


def write_cache(path: Path, key: dict[str, object], index: BundleIndex) -> None:
    """Best effort and atomic: a reader sees the old file or the whole new one."""
    import tempfile  # only when writing, which a current cache never needs

    payload = _payload(index)
    header = {
        "bundle": key,
        "count": len(index),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".roots-", suffix=".tmp")
        try:
            with os.fdopen(fd, "wb") as out:
                out.write(MAGIC + json.dumps(header, sort_keys=True).encode() + b"\n" + payload)
            os.replace(tmp, path)
        except OSError:
            with contextlib.suppress(OSError):
                os.unlink(tmp)


def load_bundle(bundle: Path) -> BundleIndex:
    """The bundle's index, from the cache when it matches the file, else built and cached.
    Raises CertificateFileError when the bundle itself cannot be used."""
    data = _read(bundle)
    try:
        key = _key(bundle, data)
    except OSError as exc:
        raise CertificateFileError(
            CertificateFileProblem.UNREADABLE, path=str(bundle), reason=exc.strerror or str(exc)
        ) from None
    cache = cache_file_for(bundle)
    cached = read_cache(cache, key, data)
    if cached is not None:
        return cached
    index = index_bundle_bytes(data)
    if not len(index):
        raise CertificateFileError(CertificateFileProblem.BUNDLE_EMPTY, path=str(bundle))
    if index.spans:
        write_cache(cache, key, index)
    return index
