"""Clock analysis: which reference wins, the HTTP Date bound, the thresholds, the words."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.analyze.clock import (
    SKEW_THRESHOLD_S,
    clock_findings,
    describe_offset,
    http_date_bounds,
    is_skewed,
    measure_clock,
)
from core.models import (
    ClockResult,
    ClockSource,
    FindingId,
    FixId,
    HttpDateSample,
    Severity,
)
from core.probe.sntp import SntpSample

NOW = datetime(2026, 3, 1, 12, 0, 0, tzinfo=UTC)
DAY = 86_400.0


def ntp(offset_s: float, delay_s: float = 0.02, server: str = "ntp.test:123") -> SntpSample:
    return SntpSample(
        server=server,
        address="192.0.2.1",
        port=123,
        offset_s=offset_s,
        delay_s=delay_s,
        stratum=2,
        reference_id="192.0.2.2",
        received_at=NOW,
    )


def http(server_time: datetime, sent: datetime, received: datetime) -> HttpDateSample:
    header = server_time.strftime("%a, %d %b %Y %H:%M:%S GMT")
    return HttpDateSample(date_header=header, sent_at=sent, received_at=received)


def measure(
    sntp: SntpSample | None,
    sample: HttpDateSample | None,
    *,
    disabled: bool = False,
    tried: tuple[str, ...] = ("ntp.test:123",),
) -> ClockResult:
    return measure_clock(
        NOW, sntp, sample, sntp_tried=tried, network_time_disabled=disabled, http_source="x:443"
    )


# --------------------------------------------------------------------------- source preference


def test_ntp_is_preferred_when_it_answered() -> None:
    sample = http(NOW - timedelta(days=1), NOW, NOW + timedelta(seconds=0.2))
    result = measure(ntp(-730 * DAY, delay_s=0.04), sample)
    assert result.reference is ClockSource.NTP
    assert result.source == "ntp.test:123"
    assert result.offset_s == -730 * DAY
    assert result.uncertainty_s == pytest.approx(0.02)
    assert result.local_time == NOW
    assert result.reference_time == NOW + timedelta(days=730)
    # The Date header disagreeing with NTP is the server's problem, noted but not a finding.
    assert any("server's own clock" in note for note in result.notes)


def test_http_date_is_the_fallback() -> None:
    # Local clock 3 days ahead: the server's Date says 3 days earlier than our stamps.
    server = NOW - timedelta(days=3)
    sample = http(server, NOW - timedelta(seconds=0.1), NOW + timedelta(seconds=0.1))
    result = measure(None, sample)
    assert result.reference is ClockSource.HTTP_DATE
    assert result.source == "x:443"
    assert result.offset_s is not None
    assert result.uncertainty_s is not None
    assert abs(result.offset_s - 3 * DAY) <= result.uncertainty_s
    assert result.reference_time is not None
    assert "NTP: no usable answer from ntp.test:123" in result.notes


def test_no_reference_means_no_guess() -> None:
    result = measure(None, None, disabled=True)
    assert result.reference is ClockSource.NONE
    assert result.source is None
    assert result.offset_s is None
    assert result.uncertainty_s is None
    assert result.reference_time is None
    assert result.local_time == NOW
    assert result.notes == ("NTP: not used (--no-network-time)", "HTTP Date: not received")


def test_an_unparseable_date_header_is_no_reference() -> None:
    sample = HttpDateSample("soon", NOW, NOW)
    result = measure(None, sample, tried=())
    assert result.reference is ClockSource.NONE
    assert result.notes == ("NTP: no server to ask", "HTTP Date: unusable header 'soon'")


def test_a_clock_that_ran_backwards_during_the_request_gives_no_http_bound() -> None:
    sample = http(NOW, NOW, NOW - timedelta(seconds=5))
    assert http_date_bounds(sample) is None
    assert measure(None, sample).reference is ClockSource.NONE


def test_naive_times_are_taken_as_utc() -> None:
    naive = NOW.replace(tzinfo=None)
    sample = HttpDateSample(http(NOW, NOW, NOW).date_header, naive, naive)
    result = measure_clock(naive, None, sample, sntp_tried=(), network_time_disabled=True)
    assert result.reference is ClockSource.HTTP_DATE
    assert result.local_time == NOW


# --------------------------------------------------------------------------- the HTTP Date bound


def test_http_bound_is_the_htp_interval() -> None:
    # t0 = 10.3 s past a minute, t2 = 10.9 s; the header says second 8 (the server is ~2 s behind).
    t0 = NOW + timedelta(seconds=10.3)
    t2 = NOW + timedelta(seconds=10.9)
    sample = http(NOW + timedelta(seconds=8), t0, t2)
    low, high = http_date_bounds(sample) or (0.0, 0.0)
    assert low == pytest.approx(10.3 - 8 - 1)  # t0 − ⌊t1⌋ − 1
    assert high == pytest.approx(10.9 - 8)  # t2 − ⌊t1⌋
    result = measure(None, sample)
    assert result.offset_s == pytest.approx((1.3 + 2.9) / 2)
    assert result.uncertainty_s == pytest.approx((2.9 - 1.3) / 2)  # (RTT + 1 s) / 2


@given(
    true_offset=st.floats(-1000 * DAY, 1000 * DAY),
    send_fraction=st.floats(0, 0.999),
    rtt=st.floats(0.0001, 3.0),
    server_at=st.floats(0, 1),
)
def test_http_bound_always_holds_the_truth(
    true_offset: float, send_fraction: float, rtt: float, server_at: float
) -> None:
    """Whenever the server stamps its Date at any moment during the round trip, the truth lies in
    the reported interval, and the reported uncertainty is (RTT + 1 s) / 2."""
    t0 = NOW + timedelta(seconds=send_fraction)  # local
    t2 = t0 + timedelta(seconds=rtt)
    t1_local = t0 + timedelta(seconds=rtt * server_at)
    t1_server = t1_local - timedelta(seconds=true_offset)  # the server's (true) clock
    floored = t1_server.replace(microsecond=0)
    sample = HttpDateSample(floored.strftime("%a, %d %b %Y %H:%M:%S GMT"), t0, t2)
    result = measure(None, sample)
    assert result.offset_s is not None
    assert result.uncertainty_s is not None
    # timedelta keeps microseconds only: allow that much rounding.
    assert abs(result.offset_s - true_offset) <= result.uncertainty_s + 2e-6
    assert result.uncertainty_s == pytest.approx((rtt + 1) / 2, abs=2e-6)


# --------------------------------------------------------------------------- thresholds


def clock(offset: float | None, uncertainty: float | None = 0.0) -> ClockResult:
    source = ClockSource.NONE if offset is None else ClockSource.NTP
    ref = None if offset is None or offset != offset else NOW - timedelta(seconds=offset)
    return ClockResult(source, "ntp.test:123", offset, uncertainty, NOW, ref)


@pytest.mark.parametrize(
    ("offset", "uncertainty", "skewed"),
    [
        (0.0, 0.01, False),
        (119.0, 0.01, False),
        (120.0, 0.0, False),  # "more than 2 minutes"
        (120.5, 0.0, True),
        (-121.0, 0.5, True),
        (121.0, 1.5, False),  # within the threshold once the uncertainty is allowed for
        (-121.0, 1.5, False),
        (122.0, 1.5, True),
        (float("nan"), 0.0, False),
        (-730 * DAY, 0.02, True),
    ],
)
def test_skew_threshold_allows_for_uncertainty(
    offset: float, uncertainty: float, skewed: bool
) -> None:
    result = clock(offset, uncertainty)
    assert is_skewed(result) is skewed
    ids = [f.id for f in clock_findings(result, explains_failure=False)]
    assert ids == ([FindingId.CLOCK_SKEW] if skewed else [])
    assert SKEW_THRESHOLD_S == 120


@pytest.mark.parametrize(("explains", "severity"), [(False, Severity.WARNING),
                                                    (True, Severity.CRITICAL)])  # fmt: skip
def test_skew_finding_severity_and_evidence(explains: bool, severity: Severity) -> None:
    result = measure(ntp(-730 * DAY, delay_s=0.04), None)
    (finding,) = clock_findings(result, explains_failure=explains)
    assert finding.id is FindingId.CLOCK_SKEW
    assert finding.severity is severity
    assert finding.fixes == (FixId.SET_CLOCK,)
    assert dict(finding.evidence) == {
        "local_time": "2026-03-01T12:00:00+00:00",
        "reference_time": "2028-02-29T12:00:00+00:00",
        "offset_s": -730 * DAY,
        "offset_human": "2 years behind",
        "uncertainty_s": 0.02,
        "source": "ntp.test:123 (NTP)",
        "symptoms": (),  # causes.py names what the clock explains
    }


def test_http_date_skew_names_its_source() -> None:
    sample = http(NOW - timedelta(days=3), NOW, NOW + timedelta(seconds=0.1))
    (finding,) = clock_findings(measure(None, sample), explains_failure=True)
    assert finding.evidence["source"] == "x:443 (HTTP Date)"
    assert finding.evidence["offset_human"] == "3 days ahead"


def test_within_threshold_no_finding_even_if_asked_to_explain() -> None:
    """The attribution relies on this: no clock-skew finding means the clock is not the cause."""
    assert clock_findings(clock(60.0, 0.01), explains_failure=True) == ()


def test_unverified_when_no_reference() -> None:
    result = measure(None, None, tried=("pool.ntp.org:123",))
    (finding,) = clock_findings(result, explains_failure=True)
    assert finding.id is FindingId.CLOCK_UNVERIFIED
    assert finding.severity is Severity.INFO
    assert finding.fixes == ()
    assert finding.evidence["tried"] == (
        "NTP: no usable answer from pool.ntp.org:123",
        "HTTP Date: not received",
    )


def test_evidence_keys_are_the_catalogues() -> None:
    from core.catalogue import load_catalogue

    cat = load_catalogue()
    skew = clock_findings(clock(-3 * DAY, 0.01), explains_failure=True)[0]
    unverified = clock_findings(clock(None, None), explains_failure=False)[0]
    for finding in (skew, unverified):
        assert set(finding.evidence) == set(cat.finding(finding.id).evidence_keys)
        assert "unknown" not in cat.detail(finding)


# --------------------------------------------------------------------------- words


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (-730 * DAY, "2 years behind"),
        (-730 * DAY + 2.0, "2 years behind"),
        (3 * DAY, "3 days ahead"),
        (3 * DAY - 0.4, "3 days ahead"),
        (3 * DAY + 4 * 3600, "3 days 4 hours ahead"),
        (1.0, "1 second ahead"),
        (-45.0, "45 seconds behind"),
        (125.0, "2 minutes 5 seconds ahead"),
        (3599.7, "1 hour ahead"),
        (-5400.0, "1 hour 30 minutes behind"),
        (DAY - 1, "1 day ahead"),
        (45 * DAY, "45 days ahead"),
        (364.8 * DAY, "1 year ahead"),
        (-500 * DAY, "1 year 4 months behind"),
        (-10 * 365.25 * DAY, "10 years behind"),
        (0.3, "less than a second ahead"),
        (-0.3, "less than a second behind"),
        (0.0, "exactly right"),
        (float("nan"), "off by an unknown amount"),
        (float("-inf"), "off by an unknown amount"),
    ],
)
def test_describe_offset(seconds: float, words: str) -> None:
    assert describe_offset(seconds) == words


@given(st.floats(allow_nan=True, allow_infinity=True))
def test_describe_offset_is_total(seconds: float) -> None:
    words = describe_offset(seconds)
    assert words
    if 0.5 < seconds < float("inf"):
        assert words.endswith("ahead")
    if float("-inf") < seconds < -0.5:
        assert words.endswith("behind")
