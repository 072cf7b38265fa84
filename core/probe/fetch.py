"""Small HTTP fetches for certificate plumbing: the issuer named by a leaf's AIA address, and
OCSP answers. Bounded in time and size: the addresses come from a stranger's certificate."""

from __future__ import annotations

import urllib.error
import urllib.request
from dataclasses import dataclass

from cryptography import x509

from core.budget import Budget
from core.certs import CertificateFileError, load_certificates

MAX_FETCH_BYTES = 256 * 1024


@dataclass(frozen=True)
class FetchResult:
    url: str
    data: bytes | None
    error: str | None


def http_fetch(
    url: str, budget: Budget, *, body: bytes | None = None, content_type: str | None = None
) -> FetchResult:
    if not url.lower().startswith(("http://", "https://")):
        return FetchResult(url, None, "only http and https addresses are fetched")
    timeout = max(0.1, min(budget.step_timeout, budget.remaining()))
    request = urllib.request.Request(url, data=body, method="POST" if body else "GET")  # noqa: S310 - scheme checked above
    request.add_header("User-Agent", "HandshakeDoctor")
    if content_type:
        request.add_header("Content-Type", content_type)
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:  # noqa: S310 - scheme checked above
            data = response.read(MAX_FETCH_BYTES + 1)
    except urllib.error.HTTPError as exc:
        exc.close()
        return FetchResult(url, None, f"the server answered HTTP {exc.code}")
    except (urllib.error.URLError, OSError, ValueError) as exc:
        reason = getattr(exc, "reason", exc)
        return FetchResult(url, None, f"unreachable ({reason})")
    if len(data) > MAX_FETCH_BYTES:
        return FetchResult(url, None, f"the answer is larger than {MAX_FETCH_BYTES // 1024} KB")
    return FetchResult(url, data, None)


def fetch_issuers(url: str, budget: Budget) -> tuple[list[x509.Certificate], str]:
    """Certificates found at a caIssuers address, and a status word for the evidence."""
    result = http_fetch(url, budget)
    if result.data is None:
        return [], f"fetch failed: {result.error}"
    try:
        return load_certificates(result.data), "fetched"
    except CertificateFileError as exc:
        return [], f"fetch failed: {exc}"
