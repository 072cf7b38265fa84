"""Offline validation of a certificate chain read from a file: the same chain analysis a live
check uses, without a network. Also the path the x509-limbo conformance test goes through."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from core.analyze.chain import ChainAnalysis, analyze_chain, validity_findings
from core.causes import _with_fixes
from core.certs import CertificateFileError, leaf_first, read_certificate_file
from core.models import (
    CertificateFileProblem,
    Finding,
    Severity,
    Verdict,
    verdict_of,
)
from core.trust import TrustStores, build_stores


@dataclass(frozen=True)
class InspectReport:
    """A chain read from a file and judged offline for ``host`` at ``at``: what ``inspect``
    prints and the window's file view shows. No network step ran, so there is no handshake,
    protocol list or clock reference, and none is pretended."""

    at: dt.datetime
    host: str | None
    chain: ChainAnalysis
    findings: tuple[Finding, ...]

    @property
    def verdict(self) -> Verdict:
        """The same ``verdict`` as ``check``'s, so scripts read both the same way."""
        return verdict_of(self.findings)

    @property
    def cause(self) -> Finding | None:
        """The finding to name first, chosen as ``CheckReport.cause`` chooses it (the most
        severe; ties go to the earlier one), so a file and a server are headlined alike."""
        return max(self.findings, key=lambda f: f.severity.rank, default=None)

    @property
    def valid(self) -> bool:
        """Valid for a web-PKI client: the verifier accepts the chain and no check objects."""
        return self.chain.valid and not any(
            f.severity.rank >= Severity.ERROR.rank for f in self.findings
        )


def inspect_chain(
    certs: Sequence[x509.Certificate],
    stores: TrustStores,
    *,
    host: str | None,
    at: dt.datetime,
    max_depth: int | None = None,
) -> InspectReport:
    """``certs[0]`` is the leaf; the rest are treated as the intermediates a server would send."""
    chain = analyze_chain(list(certs), host, stores, at, max_depth=max_depth)
    findings = validity_findings(chain.path.certs, chain.path.anchor, at) + list(chain.findings)
    if not chain.valid and not any(f.severity.rank >= Severity.ERROR.rank for f in findings):
        from core.models import FindingId, evidence

        findings.append(
            Finding(FindingId.CHAIN_INVALID, Severity.ERROR, evidence(reason=chain.verifier_error))
        )
    ordered = sorted((_with_fixes(f) for f in findings), key=lambda f: -f.severity.rank)
    return InspectReport(at, host, chain, tuple(ordered))


def inspect_file(
    path: Path,
    *,
    host: str | None,
    at: dt.datetime,
    password: bytes | None = None,
    ca_file: Path | None = None,
    no_default_trust: bool = False,
) -> InspectReport:
    """The chain in a PEM, DER, PKCS#7 or PKCS#12 file, validated for ``host`` at ``at``: the
    one entry the command line and the window share. Raises CertificateFileError for a file
    that cannot be read or a CA file that cannot be used, and for a certificate so damaged that
    the chain cannot be judged (never a traceback)."""
    certs = read_certificate_file(path, password=password)
    stores = build_stores(ca_file, no_default_trust=no_default_trust)
    try:
        return inspect_chain(leaf_first(certs), stores, host=host, at=at)
    except Exception as exc:
        problem = CertificateFileProblem.DAMAGED_CHAIN
        raise CertificateFileError(problem, name=path.name, error=type(exc).__name__) from exc
