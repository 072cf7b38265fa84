"""The evidence a finding carries is what the catalogue documents for it, exactly.

The catalogue's ``evidence_keys`` are what templates may use and what scripts reading
``check --json`` can rely on. Tests that make findings (the engine end to end, the chain
analysis, ``causes.decide`` directly) pass each one through here, so the documentation is
pinned to the engine's real output instead of to a copy of it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from core.catalogue import load_catalogue
from core.models import Finding, FindingId


def documented_keys(fid: FindingId | str) -> set[str]:
    return set(load_catalogue().finding(FindingId(fid)).evidence_keys)


def assert_documented(findings: Iterable[Finding | Mapping[str, Any]]) -> None:
    """Each finding (a Finding, or a finding of the JSON report) has exactly the documented
    evidence keys: none missing, none undocumented."""
    for finding in findings:
        if isinstance(finding, Finding):
            fid, keys = finding.id.value, set(finding.evidence)
        else:
            fid, keys = finding["id"], set(finding["evidence"])
        documented = documented_keys(fid)
        assert keys == documented, (
            f"{fid}: undocumented {sorted(keys - documented)}, missing {sorted(documented - keys)}"
        )
