"""Offline validation of a certificate chain read from a file: the same chain analysis a live
check uses, without a network. Also the path the x509-limbo conformance test goes through."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass

from cryptography import x509

from core.analyze.chain import ChainAnalysis, analyze_chain, validity_findings
from core.causes import _with_fixes
from core.models import Finding, Severity, Verdict, verdict_of
from core.trust import TrustStores


@dataclass(frozen=True)
class InspectReport:
    at: dt.datetime
    host: str | None
    chain: ChainAnalysis
    findings: tuple[Finding, ...]

    @property
    def verdict(self) -> Verdict:
        """The same ``verdict`` as ``check``'s, so scripts read both the same way."""
        return verdict_of(self.findings)

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
