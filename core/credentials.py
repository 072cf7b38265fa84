"""Loading a client certificate and its key for servers that ask for one (mutual TLS).

The key and any password stay in memory, inside ClientCredentials, whose repr hides them; no
error message quotes the file's content.
"""

from __future__ import annotations

import contextlib
import errno
import getpass
import os
import secrets
import ssl
import sys
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

from cryptography import x509
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from core.certs import (
    MAX_PKCS12_ROUNDS,
    CertificateFileError,
    load_certificates,
    pkcs12_rounds,
    read_bounded,
)
from core.models import ClientCredentials
from core.request import RequestError, RequestProblem

_CERT, _KEY = "client_cert", "client_key"


class CredentialsError(RequestError):
    """The client certificate cannot be used: the field (client_cert, client_key or password)
    and the kind of problem, worded by the catalogue."""


def _read(path: Path, what: str) -> bytes:
    field_name = _KEY if what == "client key" else _CERT

    def problem(kind: RequestProblem, **facts: str) -> CredentialsError:
        return CredentialsError(field_name, kind, what=what, path=str(path), **facts)

    try:
        data = read_bounded(path)
    except IsADirectoryError:
        raise problem(RequestProblem.FILE_FOLDER) from None
    except FileNotFoundError:
        raise problem(RequestProblem.FILE_MISSING) from None
    except OSError as exc:
        if exc.errno == errno.EINVAL:
            raise problem(RequestProblem.FILE_SPECIAL) from None
        raise problem(RequestProblem.FILE_UNREADABLE, reason=str(exc.strerror)) from None
    if data is None:
        raise problem(RequestProblem.FILE_TOO_LARGE)
    return data


def _password(env_var: str | None, label: str) -> bytes | None:
    if env_var:
        value = os.environ.get(env_var)
        if value is None:
            raise CredentialsError("password", RequestProblem.ENV_NOT_SET, variable=env_var)
        return value.encode()
    if sys.stdin is not None and sys.stdin.isatty():
        return getpass.getpass(f"Password for {label}: ").encode() or None
    return None


def _pem_key(key: object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_client_credentials(
    cert_path: Path,
    key_path: Path | None = None,
    *,
    password_env: str | None = None,
    password: bytes | None = None,
) -> ClientCredentials:
    """The certificate (PEM or PKCS#12) and its key; raises CredentialsError.

    The password is ``password`` when given (the window passes what was typed), else the
    variable ``password_env``, else a prompt on a terminal, and only asked for when needed."""
    data = _read(cert_path, "client certificate")
    ask: Callable[[str | None, str], bytes | None] = _password
    if password is not None:
        given = password or None

        def ask(_env: str | None, _label: str) -> bytes | None:
            return given

    if b"-----BEGIN" not in data:
        return _from_pkcs12(data, cert_path, password_env, ask)
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise CredentialsError(_CERT, RequestProblem.NO_CERTIFICATE, path=str(cert_path))
    key_data = _read(key_path, "client key") if key_path else data
    if b"PRIVATE KEY-----" not in key_data:
        raise CredentialsError(_KEY, RequestProblem.KEY_MISSING)
    secret = None
    start = key_data.index(b"-----BEGIN")
    blocks = [b for b in key_data[start:].split(b"-----BEGIN") if b"PRIVATE KEY-----" in b]
    if b"ENCRYPTED" in key_data:
        _refuse_stalling_key(blocks[0], key_path or cert_path)
        secret = ask(password_env, str(key_path or cert_path))
    try:
        key = serialization.load_pem_private_key(b"-----BEGIN" + blocks[0], secret)
    except (ValueError, TypeError, UnsupportedAlgorithm):
        raise CredentialsError(_KEY, RequestProblem.KEY_NEEDS_PASSWORD) from None
    cert_pem = b"".join(
        b"-----BEGIN"
        + block.split(b"-----END CERTIFICATE-----")[0]
        + b"-----END CERTIFICATE-----\n"
        for block in data.split(b"-----BEGIN")
        if block.startswith(b" CERTIFICATE-----")
    )
    try:
        chain = load_certificates(cert_pem)
    except CertificateFileError as exc:
        raise CredentialsError(
            _CERT, RequestProblem.CERT_UNREADABLE, path=str(cert_path), reason=str(exc)
        ) from None
    return _pair(chain, key, cert_path, key_path or cert_path)


def _refuse_stalling_key(block: bytes, path: Path) -> None:
    """An encrypted PKCS#8 key names its own PBKDF2 rounds, like a PKCS#12 file: count them
    before the password is tried (a key asking for 2^31 would stall the check for minutes)."""
    import base64
    import binascii

    if not block.startswith(b" ENCRYPTED PRIVATE KEY-----"):
        return  # the traditional "Proc-Type: 4,ENCRYPTED" form derives its key in one round
    body = block.split(b"-----", 1)[1].split(b"-----END", 1)[0]
    try:
        der = base64.b64decode(b"".join(body.split()), validate=True)
    except (binascii.Error, ValueError):
        return  # not base64: loading it fails without any derivation
    rounds = pkcs12_rounds(der)
    if rounds is None or rounds > MAX_PKCS12_ROUNDS:
        raise CredentialsError(_KEY, RequestProblem.KEY_STALL, path=str(path))


def _public(key: object) -> bytes | None:
    try:
        return key.public_bytes(  # type: ignore[attr-defined, no-any-return]
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    except (AttributeError, ValueError, TypeError, UnsupportedAlgorithm):
        return None


def _pair(
    chain: list[x509.Certificate], key: object, path: Path, key_path: Path
) -> ClientCredentials:
    """The certificate that belongs to ``key`` first, then the rest; refuses a key that
    belongs to none of them (the server would be blamed for our mistake)."""
    own = _public(key.public_key())  # type: ignore[attr-defined]
    for index, cert in enumerate(chain):
        try:
            theirs = _public(cert.public_key())
        except (ValueError, TypeError, UnsupportedAlgorithm):
            continue
        if own is not None and theirs == own:
            ordered = [cert, *chain[:index], *chain[index + 1 :]]
            cert_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in ordered)
            return ClientCredentials(cert_pem, _pem_key(key), source=str(path))
    if key_path == path:
        raise CredentialsError(_CERT, RequestProblem.BUNDLE_KEY_MISMATCH, path=str(path))
    raise CredentialsError(
        _KEY, RequestProblem.KEY_MISMATCH, path=str(path), key_path=str(key_path)
    )


def _from_pkcs12(
    data: bytes,
    path: Path,
    password_env: str | None,
    ask: Callable[[str | None, str], bytes | None],
) -> ClientCredentials:
    rounds = pkcs12_rounds(data)
    if rounds is None:  # OpenSSL reads more than we can count: it must not try this file
        raise CredentialsError(_CERT, RequestProblem.PKCS12_UNREADABLE, path=str(path))
    if rounds > MAX_PKCS12_ROUNDS:
        raise CredentialsError(_CERT, RequestProblem.PKCS12_STALL, path=str(path))
    secret = ask(password_env, str(path))
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, secret)
    except (ValueError, TypeError, UnsupportedAlgorithm, x509.InvalidVersion):
        raise CredentialsError(_CERT, RequestProblem.NEEDS_PASSWORD, path=str(path)) from None
    if key is None or cert is None:
        raise CredentialsError(_CERT, RequestProblem.PKCS12_INCOMPLETE, path=str(path))
    return _pair([cert, *extra], key, path, path)


# --------------------------------------------------------------------------- into OpenSSL


def load_into_context(ctx: ssl.SSLContext, creds: ClientCredentials) -> None:
    """``ctx.load_cert_chain`` for a pair held in memory. ssl reads only files, and the
    decrypted key must never be in one that a crash (a SIGKILL in the middle) leaves behind:
    on Linux the files are anonymous memory (memfd) that have no name on any disk; elsewhere
    the key goes to disk encrypted under a one-time password that only this process holds,
    and is removed as soon as OpenSSL has read it."""
    if _memfd_available():
        with _memory_file(creds.certificate_pem) as cert, _memory_file(creds.key_pem) as key:
            ctx.load_cert_chain(cert, key)
        return
    password = secrets.token_urlsafe(32).encode()
    with tempfile.TemporaryDirectory(prefix="hd-client-") as folder:
        cert_path = os.path.join(folder, "cert.pem")
        key_path = os.path.join(folder, "key.pem")
        _write_private(cert_path, creds.certificate_pem)
        _write_private(key_path, _encrypted_pem(creds.key_pem, password))
        ctx.load_cert_chain(cert_path, key_path, password=password)


def _memfd_available() -> bool:
    return hasattr(os, "memfd_create") and os.path.isdir("/proc/self/fd")


@contextlib.contextmanager
def _memory_file(data: bytes) -> Iterator[str]:
    """A path to ``data`` in anonymous memory, valid while the context lasts."""
    fd = os.memfd_create("hd-client", os.MFD_CLOEXEC)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        yield f"/proc/self/fd/{fd}"
    finally:
        os.close(fd)


def _write_private(path: str, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def _encrypted_pem(key_pem: bytes, password: bytes) -> bytes:
    key = serialization.load_pem_private_key(key_pem, None)
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(password),
    )
