"""What the probes saw, as the analysis and ``causes`` read it.

The probes (core/probe/) make these and the analysis (core/analyze/, core/causes.py) reads them;
keeping them here lets the analysis import nothing from the probes, so it can be tested, and
reasoned about, without sockets. (Most observations live in core/models.py; these are the ones
that were born inside a probe.)
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from core.wire.records import TlsVersion

#: Alerts by which a server says "I wanted a (different) client certificate".
CLIENT_CERT_ALERTS = frozenset(
    {
        "certificate_required",
        "handshake_failure",
        "bad_certificate",
        "unknown_ca",
        "access_denied",
        "certificate_unknown",
        "unsupported_certificate",
    }
)


@dataclass(frozen=True)
class SntpSample:
    """One good answer. ``offset_s`` is local minus reference (positive: local clock ahead)."""

    server: str
    address: str
    port: int
    offset_s: float
    delay_s: float
    stratum: int
    reference_id: str
    #: Local wall-clock time when the reply arrived (T4), for the record.
    received_at: datetime

    @property
    def uncertainty_s(self) -> float:
        """The true offset lies within ``offset_s ± delay/2`` whatever the path asymmetry."""
        return self.delay_s / 2


@dataclass(frozen=True)
class ServerEnumeration:
    """What the server accepts. ``None`` anywhere means not tested or could not tell.

    ``ciphers`` holds IANA names per accepted version, in the server's order where it imposes
    one (``preference_by_version[v]`` is True), else strongest first.
    """

    versions: Mapping[TlsVersion, bool | None]
    ciphers: Mapping[TlsVersion, tuple[str, ...]]
    cipher_codes: Mapping[TlsVersion, tuple[int, ...]]
    groups: tuple[str, ...]
    #: True if the server imposes its own suite order in any version it accepts.
    server_preference: bool | None
    preference_by_version: Mapping[TlsVersion, bool | None]
    #: Hellos sent per version label, and for the group enumeration under "groups" (a count
    #: for the record: labels, so that the group pass has a key of its own).
    hellos_sent: Mapping[str, int]
    #: For each version not accepted: how the server said no (``alert protocol_version``, …).
    refusals: Mapping[TlsVersion, str]
    errors: tuple[str, ...] = ()
    #: False when a deadline, timeout or odd answer left something untested.
    complete: bool = True
    duration_ms: float = 0.0

    @property
    def accepted_versions(self) -> tuple[TlsVersion, ...]:
        return tuple(v for v in TlsVersion if self.versions.get(v))

    @property
    def total_hellos(self) -> int:
        return sum(self.hellos_sent.values())
