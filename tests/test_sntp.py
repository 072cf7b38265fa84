"""The SNTP client against a real UDP server on 127.0.0.1: offsets, delays, failures, cancel."""

from __future__ import annotations

import threading
import time

import pytest

from core.budget import Budget
from core.probe.sntp import (
    SntpFailure,
    SntpFailureReason,
    SntpSample,
    _diff,
    _to_ntp,
    best_sntp,
    format_server,
    parse_server,
    query_all,
    query_sntp,
)
from tests.sntp_server import Behaviour, SilentUdpPort, SntpServer, closed_udp_port
from tests.timing import within

DAY = 86_400.0
#: What loopback must achieve: the issue asks for 2 s end to end; the client alone does far better.
TOLERANCE_S = 0.05


def _sample(result: SntpSample | SntpFailure) -> SntpSample:
    assert isinstance(result, SntpSample), result
    return result


@pytest.mark.parametrize(
    ("local_ahead_s", "label"), [(3 * DAY, "3 days ahead"), (-730 * DAY, "730 days behind")]
)
def test_offset_is_measured_within_50_ms(local_ahead_s: float, label: str) -> None:
    # The server's clock is the reference; a local clock "ahead" means the server is behind.
    with SntpServer(offset_s=-local_ahead_s) as server:
        sample = _sample(query_sntp("127.0.0.1", server.port, Budget(step_timeout=2)))
    assert abs(sample.offset_s - local_ahead_s) < TOLERANCE_S, label
    assert 0 <= sample.delay_s < TOLERANCE_S
    assert sample.uncertainty_s == sample.delay_s / 2
    assert sample.server == f"127.0.0.1:{server.port}"
    assert sample.address == "127.0.0.1"
    assert sample.stratum == 2


def test_symmetric_delay_shows_in_delay_not_in_offset() -> None:
    with SntpServer(offset_s=120.0, delay_s=0.2) as server:
        sample = _sample(query_sntp("127.0.0.1", server.port, Budget(step_timeout=2)))
    assert 0.19 < sample.delay_s < within(0.3)
    assert abs(sample.offset_s - -120.0) < TOLERANCE_S


def test_best_of_several_picks_the_lowest_delay() -> None:
    with (
        SntpServer(offset_s=10.0, delay_s=0.3) as slow,
        SntpServer(offset_s=20.0, delay_s=0.02) as fast,
        SntpServer(offset_s=30.0, delay_s=0.15) as middling,
    ):
        servers = [slow.address, fast.address, middling.address]
        started = time.monotonic()
        best = best_sntp(servers, Budget(step_timeout=2))
        elapsed = time.monotonic() - started
    assert best is not None
    assert best.server == fast.address
    assert abs(best.offset_s - -20.0) < TOLERANCE_S
    # In parallel: the whole takes about the slowest answer, not the sum of all three.
    # (Not stretched by the test slack: the sum is what one-after-another would take.)
    assert elapsed < 0.3 + 0.15 + 0.02


def test_best_of_several_ignores_failures() -> None:
    with SilentUdpPort() as silent, SntpServer(offset_s=5.0) as good:
        servers = [f"127.0.0.1:{silent.port}", good.address, "not a server:x"]
        results = query_all(servers, Budget(step_timeout=0.5))
        best = best_sntp(servers, Budget(step_timeout=0.5))
    assert [type(r) for r in results] == [SntpFailure, SntpSample, SntpFailure]
    assert isinstance(results[0], SntpFailure)
    assert results[0].reason is SntpFailureReason.TIMEOUT
    assert isinstance(results[2], SntpFailure)
    assert results[2].reason is SntpFailureReason.BAD_ADDRESS
    assert best is not None
    assert best.server == good.address


def test_no_server_answers_gives_none() -> None:
    with SilentUdpPort() as silent:
        assert best_sntp([f"127.0.0.1:{silent.port}"], Budget(step_timeout=0.3)) is None
    assert best_sntp([], Budget(step_timeout=0.3)) is None


def test_silent_port_times_out_within_the_timeout() -> None:
    with SilentUdpPort() as silent:
        started = time.monotonic()
        result = query_sntp("127.0.0.1", silent.port, Budget(step_timeout=0.5))
        elapsed = time.monotonic() - started
    assert isinstance(result, SntpFailure)
    assert result.reason is SntpFailureReason.TIMEOUT
    assert 0.45 <= elapsed < within(0.7)


def test_closed_port_fails_fast_and_quietly() -> None:
    started = time.monotonic()
    result = query_sntp("127.0.0.1", closed_udp_port(), Budget(step_timeout=2))
    elapsed = time.monotonic() - started
    assert isinstance(result, SntpFailure)
    # Linux answers a closed loopback port with ICMP "port unreachable"; elsewhere it may not.
    assert result.reason in (SntpFailureReason.REFUSED, SntpFailureReason.TIMEOUT)
    if result.reason is SntpFailureReason.REFUSED:
        assert elapsed < within(0.5)


def test_unresolvable_name_is_a_quiet_failure() -> None:
    started = time.monotonic()
    result = query_sntp("no-such-host.invalid", 123, Budget(step_timeout=1))
    assert isinstance(result, SntpFailure)
    assert result.reason in (SntpFailureReason.DNS_FAILURE, SntpFailureReason.TIMEOUT)
    assert time.monotonic() - started < within(1.3)


@pytest.mark.parametrize(
    ("behaviour", "reason", "words"),
    [
        (Behaviour.WRONG_MODE, SntpFailureReason.INVALID_REPLY, "mode 3"),
        (Behaviour.KISS_OF_DEATH, SntpFailureReason.INVALID_REPLY, "RATE"),
        (Behaviour.UNSYNCHRONIZED, SntpFailureReason.UNSYNCHRONIZED, "stratum 16"),
        (Behaviour.ZERO_TRANSMIT, SntpFailureReason.INVALID_REPLY, "zero"),
        (Behaviour.BAD_ORIGIN, SntpFailureReason.INVALID_REPLY, "origin"),
        (Behaviour.SHORT, SntpFailureReason.INVALID_REPLY, "short"),
    ],
)
def test_invalid_and_spoofed_replies_are_rejected(
    behaviour: Behaviour, reason: SntpFailureReason, words: str
) -> None:
    with SntpServer(offset_s=-1000.0, behaviour=behaviour) as server:
        result = query_sntp("127.0.0.1", server.port, Budget(step_timeout=0.4))
        assert server.requests == 1
    assert isinstance(result, SntpFailure), result
    assert result.reason is reason
    assert words in result.detail


def test_a_spoofed_reply_does_not_hide_the_real_one() -> None:
    """An off-path forger cannot end the query: a reply with the wrong origin is just ignored."""
    with SntpServer(offset_s=-50.0, behaviour=Behaviour.SPOOF_THEN_GOOD) as server:
        sample = _sample(query_sntp("127.0.0.1", server.port, Budget(step_timeout=2)))
    assert abs(sample.offset_s - 50.0) < TOLERANCE_S


def test_cancel_stops_a_query_within_200_ms() -> None:
    budget = Budget(step_timeout=10)
    with SilentUdpPort() as silent:
        cancelled_at: list[float] = []

        def cancel() -> None:
            cancelled_at.append(time.monotonic())
            budget.cancel()

        timer = threading.Timer(0.3, cancel)
        timer.start()
        try:
            result = query_sntp("127.0.0.1", silent.port, budget)
            returned_at = time.monotonic()
        finally:
            timer.cancel()
            timer.join()
    assert isinstance(result, SntpFailure)
    assert result.reason is SntpFailureReason.CANCELLED
    assert returned_at - cancelled_at[0] < within(0.2)


def test_cancelled_before_start_sends_nothing() -> None:
    budget = Budget(step_timeout=1)
    budget.cancel()
    with SntpServer() as server:
        result = query_sntp("127.0.0.1", server.port, budget)
        assert server.requests == 0
    assert isinstance(result, SntpFailure)
    assert result.reason is SntpFailureReason.CANCELLED


def test_the_overall_deadline_caps_the_step_timeout() -> None:
    budget = Budget(step_timeout=10, total=0.3)
    with SilentUdpPort() as silent:
        started = time.monotonic()
        result = query_sntp("127.0.0.1", silent.port, budget)
    assert isinstance(result, SntpFailure)
    assert time.monotonic() - started < within(0.5)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("pool.ntp.org", ("pool.ntp.org", 123)),
        ("127.0.0.1:1234", ("127.0.0.1", 1234)),
        ("[::1]:5000", ("::1", 5000)),
        ("[2001:db8::1]", ("2001:db8::1", 123)),
        ("2001:db8::1", ("2001:db8::1", 123)),
        (" time.example:123 ", ("time.example", 123)),
    ],
)
def test_parse_server(text: str, expected: tuple[str, int]) -> None:
    assert parse_server(text) == expected


@pytest.mark.parametrize(
    "text", ["", ":123", "host:", "host:0", "host:65536", "host:12a", "[::1", "[::1]x", "[ab]:1",
             "a b:1", "host:١٢٣"],
)  # fmt: skip
def test_parse_server_rejects(text: str) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - the message varies by what is wrong
        parse_server(text)


def test_format_server_brackets_ipv6() -> None:
    assert format_server("::1", 123) == "[::1]:123"
    assert format_server("ntp.example", 123) == "ntp.example:123"


def test_timestamp_arithmetic_survives_the_2036_era_rollover() -> None:
    before = _to_ntp(2_085_978_495.5)  # 2036-02-07 06:28:15.5 UTC, the last second of era 0
    after = _to_ntp(2_085_978_497.25)  # 1.75 s later, in era 1: the seconds field wrapped
    assert after < before
    assert _diff(after, before) / 2**32 == pytest.approx(1.75, abs=1e-6)
    assert _diff(before, after) / 2**32 == pytest.approx(-1.75, abs=1e-6)
