"""Asking the leaf's OCSP responder whether it is revoked. Only signed answers count: an
unreachable responder or an unverifiable answer is noted as evidence, never as a finding."""

from __future__ import annotations

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509 import ocsp
from cryptography.x509.oid import ExtendedKeyUsageOID

from core.budget import Budget
from core.models import ProxyEndpoint, RevocationStatus
from core.probe.fetch import http_fetch

__all__ = ["RevocationStatus", "check_revocation"]


def _signature_ok(response: ocsp.OCSPResponse, signer: x509.Certificate) -> bool:
    key = signer.public_key()
    algorithm = response.signature_hash_algorithm
    try:
        if isinstance(key, rsa.RSAPublicKey) and algorithm is not None:
            key.verify(
                response.signature, response.tbs_response_bytes, padding.PKCS1v15(), algorithm
            )
        elif isinstance(key, ec.EllipticCurvePublicKey) and algorithm is not None:
            key.verify(response.signature, response.tbs_response_bytes, ec.ECDSA(algorithm))
        else:
            return False
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True


def _authorised_signer(
    response: ocsp.OCSPResponse, issuer: x509.Certificate
) -> x509.Certificate | None:
    """The issuer itself, or a delegated responder it issued with the OCSP-signing EKU."""
    if _signature_ok(response, issuer):
        return issuer
    for delegate in response.certificates:
        try:
            delegate.verify_directly_issued_by(issuer)
            eku = delegate.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except Exception:  # noqa: S112 - any failure means "not an authorised responder"
            continue
        if ExtendedKeyUsageOID.OCSP_SIGNING in eku and _signature_ok(response, delegate):
            return delegate
    return None


def check_revocation(
    leaf: x509.Certificate,
    issuer: x509.Certificate,
    url: str,
    budget: Budget,
    *,
    site_address: str | None = None,
    proxy: ProxyEndpoint | None = None,
) -> RevocationStatus:
    """Ask the responder; whatever it answers, the result is a status with a reason.

    The answer comes from an address a stranger wrote, so a reply that the parser cannot make
    sense of, or that makes it raise, is "not readable": it never decides anything.
    """
    request = (
        ocsp.OCSPRequestBuilder().add_certificate(leaf, issuer, hashes.SHA1()).build()  # noqa: S303 - OCSP CertID uses SHA-1 by convention
    )
    fetched = http_fetch(
        url,
        budget,
        body=request.public_bytes(serialization.Encoding.DER),
        content_type="application/ocsp-request",
        site_address=site_address,
        proxy=proxy,
    )
    shown = fetched.url
    if fetched.data is None:
        return RevocationStatus(False, False, shown, fetched.error or "no answer")
    try:
        return _interpret(fetched.data, leaf, issuer, shown)
    except Exception:  # a stranger's bytes: any surprise means "unreadable"
        return RevocationStatus(False, False, shown, "the OCSP answer is not readable")


def _interpret(
    data: bytes, leaf: x509.Certificate, issuer: x509.Certificate, url: str
) -> RevocationStatus:
    try:
        response = ocsp.load_der_ocsp_response(data)
    except ValueError:
        return RevocationStatus(False, False, url, "the OCSP answer is not readable")
    if response.response_status != ocsp.OCSPResponseStatus.SUCCESSFUL:
        return RevocationStatus(
            False, False, url, f"the OCSP responder said {response.response_status.name.lower()}"
        )
    if _authorised_signer(response, issuer) is None:
        return RevocationStatus(
            False, False, url, "the OCSP answer is not signed by the issuer; ignored"
        )
    if response.serial_number != leaf.serial_number:
        return RevocationStatus(
            False, False, url, "the OCSP answer is about another certificate; ignored"
        )
    if response.certificate_status == ocsp.OCSPCertStatus.REVOKED:
        reason = response.revocation_reason.name if response.revocation_reason else None
        return RevocationStatus(True, True, url, "revoked", response.revocation_time_utc, reason)
    if response.certificate_status == ocsp.OCSPCertStatus.GOOD:
        return RevocationStatus(True, False, url, "good")
    return RevocationStatus(True, False, url, "the responder does not know this certificate")
