"""How wrong is this computer's clock? Pure functions over what the probes measured.

No I/O and no clock reads: "now" comes in as an argument, so the tests move time by passing it and
the app measures the clock it actually has.

Sign convention, used everywhere in the app: an offset is **local clock minus reference clock**.
Positive: this computer's clock is *ahead* of real time (certificates look expired too early);
negative: it is *behind* (new certificates look "not yet valid"). The true local time error lies
within ``offset_s ± uncertainty_s``.

Reference sources, best first:

1. NTP (SNTP, RFC 4330), when any server answered: independent of the checked server, and bounded
   by half the round trip (typically milliseconds).
2. The checked server's HTTP ``Date:``, bounded by the danroc/htp algorithm: sent at local ``t0``,
   answered at local ``t2``, header ``⌊t1⌋`` (one-second resolution), so
   ``t0 − ⌊t1⌋ − 1 < θ < t2 − ⌊t1⌋``. We report the middle of that interval and half its width.
3. Nothing: the offset is None and ``clock-unverified`` says so. Never a guess.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

from core.http_date import parse_http_date
from core.models import (
    ClockResult,
    ClockSource,
    Finding,
    FindingId,
    FixId,
    HttpDateSample,
    Severity,
    evidence,
)
from core.observations import SntpSample

#: The contract's threshold: a clock within 2 minutes of the reference is fine. Kerberos and most
#: TLS stacks tolerate a few minutes; certificates are usually issued with an hour's backdating.
SKEW_THRESHOLD_S = 120.0

#: Resolution of the HTTP ``Date:`` header.
HTTP_DATE_RESOLUTION_S = 1.0


def measure_clock(
    local_now: datetime,
    sntp: SntpSample | None,
    http: HttpDateSample | None,
    *,
    sntp_tried: tuple[str, ...],
    network_time_disabled: bool,
    http_source: str | None = None,
    http_date_asked: bool = True,
) -> ClockResult:
    """Fold the clock probes into one :class:`ClockResult`, preferring NTP over HTTP ``Date:``.

    ``local_now`` is the local time the result speaks about (the time the chain is checked at);
    ``reference_time`` is then ``local_now − offset``. ``sntp_tried`` names the NTP servers asked
    (empty when none were); ``http_source`` names where the ``Date:`` came from (e.g. the target
    as ``host:port``), for the record; ``http_date_asked`` is False for services that are not web
    servers (mail, directories), which are never sent HTTP. ``notes`` lists what was tried and
    how it went, in words short enough for the ``clock-unverified`` evidence.
    """
    local_now = _aware(local_now)
    notes: list[str] = []
    if network_time_disabled:
        notes.append("NTP: not used (--no-network-time)")
    elif sntp is None:
        if sntp_tried:
            notes.append(f"NTP: no usable answer from {', '.join(sntp_tried)}")
        else:
            notes.append("NTP: no server to ask")

    http_bounds = _http_bounds(http)
    if http is None and not http_date_asked:
        notes.append("HTTP Date: not asked (not a web server)")
    elif http is None:
        notes.append("HTTP Date: not received")
    elif http_bounds is None:
        notes.append(f"HTTP Date: unusable header {http.date_header[:40]!r}")

    if sntp is not None:
        if http_bounds is not None:
            low, high = http_bounds
            if (
                sntp.offset_s + sntp.uncertainty_s < low
                or sntp.offset_s - sntp.uncertainty_s > high
            ):
                # NTP says local − true; the Date says local − server: the difference is the
                # server's own error, worth a note for the site owner, not a finding for us.
                server_error = sntp.offset_s - (low + high) / 2
                notes.append(
                    f"HTTP Date: the server's own clock is {describe_offset(server_error)}"
                )
        return _result(
            ClockSource.NTP, sntp.server, sntp.offset_s, sntp.uncertainty_s, local_now, notes
        )
    if http_bounds is not None:
        low, high = http_bounds
        return _result(
            ClockSource.HTTP_DATE,
            http_source or "HTTP Date",
            (low + high) / 2,
            (high - low) / 2,
            local_now,
            notes,
        )
    return ClockResult(
        reference=ClockSource.NONE,
        source=None,
        offset_s=None,
        uncertainty_s=None,
        local_time=local_now,
        reference_time=None,
        notes=tuple(notes),
    )


def _result(
    reference: ClockSource,
    source: str,
    offset_s: float,
    uncertainty_s: float,
    local_now: datetime,
    notes: list[str],
) -> ClockResult:
    return ClockResult(
        reference=reference,
        source=source,
        offset_s=offset_s,
        uncertainty_s=uncertainty_s,
        local_time=local_now,
        reference_time=local_now - timedelta(seconds=offset_s),
        notes=tuple(notes),
    )


def http_date_bounds(sample: HttpDateSample) -> tuple[float, float] | None:
    """The open interval (low, high) that must hold the offset, from one ``Date:`` sample.

    None when the header does not parse, or when the local clock ran backwards between request
    and response (it was being changed: the sample says nothing reliable).
    """
    return _http_bounds(sample)


def _http_bounds(sample: HttpDateSample | None) -> tuple[float, float] | None:
    if sample is None:
        return None
    server_second = parse_http_date(sample.date_header)
    if server_second is None:
        return None
    sent, received = _aware(sample.sent_at), _aware(sample.received_at)
    if received < sent:
        return None
    low = (sent - server_second).total_seconds() - HTTP_DATE_RESOLUTION_S
    high = (received - server_second).total_seconds()
    return low, high


def _aware(moment: datetime) -> datetime:
    """Naive datetimes are taken as UTC (the engine passes aware ones; this only guards)."""
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


# --------------------------------------------------------------------------- findings


def is_skewed(result: ClockResult) -> bool:
    """Whether the clock is off by more than 2 minutes *beyond* the measurement's uncertainty."""
    if result.offset_s is None or not math.isfinite(result.offset_s):
        return False
    return abs(result.offset_s) > SKEW_THRESHOLD_S + (result.uncertainty_s or 0.0)


def clock_findings(result: ClockResult, explains_failure: bool) -> tuple[Finding, ...]:
    """``clock-skew`` (critical when it explains a failure, else warning), ``clock-unverified``
    (info) when there was no reference, or nothing when the clock is fine.

    ``explains_failure`` only raises the severity: a clock within the threshold yields no finding
    even if asked, so the attribution can rely on "no clock-skew finding ⇒ blame the certificate".
    """
    if result.reference is ClockSource.NONE or result.offset_s is None:
        return (
            Finding(
                FindingId.CLOCK_UNVERIFIED,
                Severity.INFO,
                evidence(tried=result.notes),
            ),
        )
    if not is_skewed(result):
        return ()
    offset = result.offset_s
    uncertainty = result.uncertainty_s or 0.0
    return (
        Finding(
            FindingId.CLOCK_SKEW,
            Severity.CRITICAL if explains_failure else Severity.WARNING,
            evidence(
                local_time=_iso(result.local_time),
                reference_time=_iso(result.reference_time),
                offset_s=round(offset, 3),
                offset_human=describe_offset(offset),
                uncertainty_s=round(uncertainty, 3),
                source=_describe_source(result),
                # What the wrong clock makes look wrong (causes.py fills it in), so the key
                # is there for every clock-skew finding, empty when nothing does.
                symptoms=(),
            ),
            fixes=(FixId.SET_CLOCK,),
        ),
    )


def _iso(moment: datetime | None) -> str | None:
    return None if moment is None else _aware(moment).isoformat(timespec="seconds")


def _describe_source(result: ClockResult) -> str:
    kind = {ClockSource.NTP: "NTP", ClockSource.HTTP_DATE: "HTTP Date"}.get(result.reference, "")
    if result.source and result.source != kind:
        return f"{result.source} ({kind})"
    return kind


# --------------------------------------------------------------------------- words


def _plural(count: int, unit: str) -> str:
    return f"{count} {unit}" if count == 1 else f"{count} {unit}s"


def _pair(big: int, big_unit: str, small: int, small_unit: str) -> str:
    if small == 0:
        return _plural(big, big_unit)
    return f"{_plural(big, big_unit)} {_plural(small, small_unit)}"


_MINUTE = 60.0
_HOUR = 3600.0
_DAY = 86_400.0
_MONTH = 365.25 * _DAY / 12


def describe_offset(seconds: float) -> str:
    """An offset in words a person reads at a glance: "2 years behind", "3 days 4 hours ahead".

    Two units at most, rounded to the smaller; positive offsets are "ahead", negative "behind"
    (the sign convention of this module). Total: NaN or infinity give "by an unknown amount".
    """
    if not math.isfinite(seconds):
        return "off by an unknown amount"
    if seconds == 0:
        return "exactly right"
    direction = "ahead" if seconds > 0 else "behind"
    size = abs(seconds)
    if round(size) == 0:
        return f"less than a second {direction}"
    return f"{_magnitude(size)} {direction}"


def _magnitude(size: float) -> str:
    whole_seconds = round(size)
    if whole_seconds < 60:
        return _plural(whole_seconds, "second")
    minutes, secs = divmod(whole_seconds, 60)
    if minutes < 60:
        return _pair(minutes, "minute", secs, "second")
    hours, mins = divmod(round(size / _MINUTE), 60)
    if hours < 24:
        return _pair(hours, "hour", mins, "minute")
    days, hrs = divmod(round(size / _HOUR), 24)
    if days < 30:
        return _pair(days, "day", hrs, "hour")
    whole_days = round(size / _DAY)
    if whole_days < 365:
        return _plural(whole_days, "day")
    years, months = divmod(round(size / _MONTH), 12)
    return _pair(years, "year", months, "month")
