"""Loading a client certificate with a password typed into the window.

``core.credentials.load_client_credentials`` takes the password from an environment variable or
prompts on the terminal; neither suits a window (a prompt would hang a worker thread when the app
was started from a shell). This loader takes the password directly and otherwise gives the same
ClientCredentials and the same kind of one-sentence errors. It runs in the check's worker thread:
a PKCS#12 password costs a key derivation.
"""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from core.certs import MAX_CERT_FILE_BYTES
from core.credentials import CredentialsError
from core.models import ClientCredentials
from gui.request import ClientCertSpec


def _read(path_text: str, what: str, size_limit: int = MAX_CERT_FILE_BYTES) -> bytes:
    from pathlib import Path

    path = Path(path_text)
    try:
        if path.is_dir():
            raise CredentialsError(f"The {what} {path} is a folder, not a file.")
        if path.stat().st_size > size_limit:
            raise CredentialsError(f"The {what} {path} is far too large to be a certificate file.")
        return path.read_bytes()
    except FileNotFoundError:
        raise CredentialsError(f"There is no {what} file {path}.") from None
    except OSError as exc:
        raise CredentialsError(f"The {what} {path} cannot be read: {exc.strerror}.") from None


def _key_pem(key: object) -> bytes:
    return key.private_bytes(  # type: ignore[attr-defined, no-any-return]
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


def load_credentials(spec: ClientCertSpec) -> ClientCredentials:
    """Raises CredentialsError with one sentence; never quotes the files' content."""
    password = spec.password.encode() if spec.password else None
    data = _read(str(spec.cert), "client certificate")
    if b"-----BEGIN" not in data:
        try:
            key, cert, extra = pkcs12.load_key_and_certificates(data, password)
        except (ValueError, TypeError):
            raise CredentialsError(
                f"{spec.cert} cannot be opened as PKCS#12: the password is wrong or missing, "
                "or the file is not a certificate with its key."
            ) from None
        if key is None or cert is None:
            raise CredentialsError(f"{spec.cert} does not hold both a certificate and its key.")
        chain = [cert, *extra]
        cert_pem = b"".join(c.public_bytes(serialization.Encoding.PEM) for c in chain)
        return ClientCredentials(cert_pem, _key_pem(key), source=str(spec.cert))
    if b"-----BEGIN CERTIFICATE-----" not in data:
        raise CredentialsError(f"{spec.cert} holds no certificate.")
    key_data = _read(str(spec.key), "client key") if spec.key else data
    if b"PRIVATE KEY-----" not in key_data:
        raise CredentialsError(
            "The client certificate needs its private key: choose the key file, "
            "or use a PEM file that holds both."
        )
    start = key_data.index(b"-----BEGIN")
    blocks = [b for b in key_data[start:].split(b"-----BEGIN") if b"PRIVATE KEY-----" in b]
    try:
        key = serialization.load_pem_private_key(
            b"-----BEGIN" + blocks[0], password if b"ENCRYPTED" in key_data else None
        )
    except (ValueError, TypeError):
        raise CredentialsError(
            "The client key cannot be opened: the password is wrong or missing, "
            "or the key is damaged."
        ) from None
    cert_pem = b"".join(
        b"-----BEGIN"
        + block.split(b"-----END CERTIFICATE-----")[0]
        + b"-----END CERTIFICATE-----\n"
        for block in data.split(b"-----BEGIN")
        if block.startswith(b" CERTIFICATE-----")
    )
    return ClientCredentials(cert_pem, _key_pem(key), source=str(spec.cert))
