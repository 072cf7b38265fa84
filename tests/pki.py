"""A small PKI made by the tests, with validity relative to now.

Not trustme: its leaf certificates carry a critical subjectAltName, which the web-PKI verifier in
cryptography rightly refuses (shared/reference/stack.md), so every scenario is built here.
"""

from __future__ import annotations

import datetime as dt
import functools
import ipaddress
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

PrivateKey = ec.EllipticCurvePrivateKey | rsa.RSAPrivateKey
NOW = dt.datetime.now(dt.UTC)
DAY = dt.timedelta(days=1)

_EC_KEYS: list[ec.EllipticCurvePrivateKey] = []


def new_key(kind: str = "ec") -> PrivateKey:
    if kind == "ec":
        return ec.generate_private_key(ec.SECP256R1())
    if kind == "ec224":
        return ec.generate_private_key(ec.SECP224R1())
    if kind.startswith("rsa"):
        bits = int(kind[3:] or 2048)
        return rsa.generate_private_key(public_exponent=65537, key_size=bits)
    raise ValueError(kind)


def _name(cn: str, org: str | None = None) -> x509.Name:
    attrs = [x509.NameAttribute(NameOID.COMMON_NAME, cn)]
    if org:
        attrs.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, org))
    return x509.Name(attrs)


@dataclass
class Issued:
    cert: x509.Certificate
    key: PrivateKey

    @property
    def pem(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.PEM)

    @property
    def der(self) -> bytes:
        return self.cert.public_bytes(serialization.Encoding.DER)

    @property
    def key_pem(self) -> bytes:
        return self.key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )


def _alt_names(names: Sequence[str]) -> list[x509.GeneralName]:
    """The SAN entries for ``names``: an IP address entry for each that parses as one (as a
    server reached by address needs), a DNS name for the rest."""
    sans: list[x509.GeneralName] = []
    for name in names:
        try:
            sans.append(x509.IPAddress(ipaddress.ip_address(name)))
        except ValueError:
            sans.append(x509.DNSName(name))
    return sans


def _builder(
    subject: x509.Name,
    issuer: x509.Name,
    public_key: object,
    not_before: dt.datetime,
    not_after: dt.datetime,
) -> x509.CertificateBuilder:
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)  # type: ignore[arg-type]
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
    )


def _sign(builder: x509.CertificateBuilder, key: PrivateKey, algorithm: str) -> x509.Certificate:
    hash_alg: hashes.HashAlgorithm = {"sha256": hashes.SHA256(), "sha384": hashes.SHA384()}[
        algorithm
    ]
    return builder.sign(key, hash_alg)


def make_sha1_leaf(issuer: Issued, names: Sequence[str] = ("localhost", "127.0.0.1")) -> Issued:
    """cryptography no longer signs with SHA-1, so the openssl command does it, as old CAs did."""
    key = new_key("ec")
    sans = ",".join(
        f"IP:{n}" if n.replace(".", "").isdigit() or ":" in n else f"DNS:{n}" for n in names
    )
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "leaf.key").write_bytes(Issued(issuer.cert, key).key_pem)
        (folder / "ca.pem").write_bytes(issuer.pem)
        (folder / "ca.key").write_bytes(issuer.key_pem)
        run = functools.partial(subprocess.run, check=True, capture_output=True, cwd=folder)
        run(
            [
                "openssl",
                "req",
                "-new",
                "-key",
                "leaf.key",
                "-subj",
                f"/CN={names[0]}",
                "-addext",
                f"subjectAltName={sans}",
                "-out",
                "leaf.csr",
            ]
        )
        run(
            [
                "openssl",
                "x509",
                "-req",
                "-in",
                "leaf.csr",
                "-CA",
                "ca.pem",
                "-CAkey",
                "ca.key",
                "-sha1",
                "-days",
                "60",
                "-copy_extensions",
                "copy",
                "-out",
                "leaf.pem",
            ]
        )
        cert = x509.load_pem_x509_certificate((folder / "leaf.pem").read_bytes())
    return Issued(cert, key)


def make_ca(
    cn: str = "Handshake Doctor Test Root",
    org: str | None = "Test PKI",
    *,
    issuer: Issued | None = None,
    key_kind: str = "ec",
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    signature: str = "sha256",
) -> Issued:
    """A root (issuer None) or an intermediate CA."""
    key = new_key(key_kind)
    subject = _name(cn, org)
    builder = _builder(
        subject,
        issuer.cert.subject if issuer else subject,
        key.public_key(),
        not_before or NOW - 30 * DAY,
        not_after or NOW + 3650 * DAY,
    )
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
    builder = builder.add_extension(
        x509.KeyUsage(
            digital_signature=True,
            content_commitment=False,
            key_encipherment=False,
            data_encipherment=False,
            key_agreement=False,
            key_cert_sign=True,
            crl_sign=True,
            encipher_only=False,
            decipher_only=False,
        ),
        critical=True,
    )
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    )
    signer = issuer.key if issuer else key
    signer_pub = issuer.cert.public_key() if issuer else key.public_key()
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(signer_pub),  # type: ignore[arg-type]
        critical=False,
    )
    return Issued(_sign(builder, signer, signature), key)


def make_leaf(
    issuer: Issued,
    names: Sequence[str] = ("localhost", "127.0.0.1"),
    *,
    cn: str | None = None,
    key_kind: str = "ec",
    not_before: dt.datetime | None = None,
    not_after: dt.datetime | None = None,
    signature: str = "sha256",
    aia_issuer_url: str | None = None,
    ocsp_url: str | None = None,
    client: bool = False,
) -> Issued:
    key = new_key(key_kind)
    subject = _name(cn if cn is not None else (names[0] if names else "leaf"))
    builder = _builder(
        subject,
        issuer.cert.subject,
        key.public_key(),
        not_before or NOW - DAY,
        not_after or NOW + 90 * DAY,
    )
    sans = _alt_names(names)
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    builder = builder.add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    )
    builder = builder.add_extension(
        x509.ExtendedKeyUsage(
            [ExtendedKeyUsageOID.CLIENT_AUTH if client else ExtendedKeyUsageOID.SERVER_AUTH]
        ),
        critical=False,
    )
    builder = builder.add_extension(
        x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
    )
    builder = builder.add_extension(
        x509.AuthorityKeyIdentifier.from_issuer_public_key(
            issuer.cert.public_key()  # type: ignore[arg-type]
        ),
        critical=False,
    )
    access: list[x509.AccessDescription] = []
    if aia_issuer_url:
        access.append(
            x509.AccessDescription(
                AuthorityInformationAccessOID.CA_ISSUERS,
                x509.UniformResourceIdentifier(aia_issuer_url),
            )
        )
    if ocsp_url:
        access.append(
            x509.AccessDescription(
                AuthorityInformationAccessOID.OCSP, x509.UniformResourceIdentifier(ocsp_url)
            )
        )
    if access:
        builder = builder.add_extension(x509.AuthorityInformationAccess(access), critical=False)
    return Issued(_sign(builder, issuer.key, signature), key)


def make_self_signed(
    names: Sequence[str] = ("localhost", "127.0.0.1"),
    *,
    cn: str | None = None,
    key_kind: str = "ec",
) -> Issued:
    """A self-signed server certificate, as a freshly installed appliance would present."""
    key = new_key(key_kind)
    subject = _name(cn or names[0])
    builder = _builder(subject, subject, key.public_key(), NOW - DAY, NOW + 365 * DAY)
    sans = _alt_names(names)
    builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    builder = builder.add_extension(
        x509.BasicConstraints(ca=False, path_length=None), critical=True
    )
    return Issued(_sign(builder, key, "sha256"), key)


@dataclass
class Pki:
    """A root, an intermediate and helpers to write them where a test wants files."""

    root: Issued = field(default_factory=make_ca)
    intermediate: Issued = field(init=False)

    def __post_init__(self) -> None:
        self.intermediate = make_ca("Handshake Doctor Test Intermediate", issuer=self.root)

    def leaf(self, names: Sequence[str] = ("localhost", "127.0.0.1"), **kw: object) -> Issued:
        return make_leaf(self.intermediate, names, **kw)  # type: ignore[arg-type]

    def write_root(self, directory: Path) -> Path:
        path = directory / "root.pem"
        path.write_bytes(self.root.pem)
        return path


def write_chain(
    directory: Path, name: str, certs: Sequence[Issued], key: Issued
) -> tuple[Path, Path]:
    chain = directory / f"{name}.chain.pem"
    chain.write_bytes(b"".join(c.pem for c in certs))
    key_path = directory / f"{name}.key.pem"
    key_path.write_bytes(key.key_pem)
    return chain, key_path
