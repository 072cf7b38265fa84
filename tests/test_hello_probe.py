"""The hello prober against real servers on 127.0.0.1: what it finds must be exactly what the
server was configured with, in the server's order where it has one, with accepted + 1 hellos."""

from __future__ import annotations

import itertools
import socket
import ssl
import threading
import time
from collections.abc import Callable

import pytest

from core.budget import Budget, Cancelled
from core.ciphers import code_for_name, iana_name_for_openssl
from core.probe.hello import (
    GENTLE_PACE_S,
    SAFE_SUITES_PER_HELLO,
    ProbeOutcome,
    ServerEnumeration,
    candidate_suites,
    enumerate_server,
    send_hello,
)
from core.wire.hello import build_client_hello
from core.wire.records import TlsVersion
from tests.overlap_servers import (
    OverlapServer,
    RawServer,
    ServerSpec,
    SuiteLimitProxy,
    hang_up,
    http_banner,
    silent,
)
from tests.timing import within

TLS1 = ssl.TLSVersion.TLSv1
TLS12 = ssl.TLSVersion.TLSv1_2
TLS13 = ssl.TLSVersion.TLSv1_3
#: OpenSSL 3's TLS 1.3 suites, in its default order.
OPENSSL_TLS13 = ("TLS_AES_256_GCM_SHA384", "TLS_CHACHA20_POLY1305_SHA256", "TLS_AES_128_GCM_SHA256")


def iana(openssl_names: str) -> tuple[str, ...]:
    names = [n for n in openssl_names.split(":") if n and not n.startswith("@")]
    mapped = tuple(iana_name_for_openssl(n) for n in names)
    assert None not in mapped
    return tuple(str(n) for n in mapped)


def scan(spec: ServerSpec, progress: Callable[[int, int], None] | None = None) -> ServerEnumeration:
    with OverlapServer(spec) as server:
        return enumerate_server(
            "127.0.0.1", server.port, "localhost", Budget(3.0, total=20), progress=progress
        )


def only(*accepted: TlsVersion) -> dict[TlsVersion, bool]:
    return {v: v in accepted for v in TlsVersion}


def assert_accepted_plus_one(result: ServerEnumeration) -> None:
    for version in result.accepted_versions:
        assert result.hellos_sent[version.label] == len(result.ciphers[version]) + 1, version


# --------------------------------------------------------------------------- the servers


def test_tls10_only_server() -> None:
    configured = "ECDHE-RSA-AES128-SHA:AES256-SHA:@SECLEVEL=0"
    result = scan(ServerSpec(TLS1, TLS1, configured))
    assert dict(result.versions) == only(TlsVersion.TLS1_0)
    assert set(result.ciphers[TlsVersion.TLS1_0]) == set(iana(configured))
    assert result.preference_by_version[TlsVersion.TLS1_0] is False
    assert result.refusals[TlsVersion.TLS1_2] == "answered with TLSv1.0"
    assert result.refusals[TlsVersion.TLS1_3] == "alert protocol_version"
    assert result.complete and not result.errors


def test_tls12_server_with_only_aes128_sha() -> None:
    result = scan(ServerSpec(TLS12, TLS12, "AES128-SHA"))
    assert dict(result.versions) == only(TlsVersion.TLS1_2)
    assert result.ciphers == {TlsVersion.TLS1_2: ("TLS_RSA_WITH_AES_128_CBC_SHA",)}
    assert result.hellos_sent["TLSv1.2"] == 2
    assert result.server_preference is None  # one suite: nothing to order
    assert result.groups == ()  # no ECDHE suite, no TLS 1.3: no group to see
    for version in (TlsVersion.SSL3, TlsVersion.TLS1_0, TlsVersion.TLS1_1, TlsVersion.TLS1_3):
        assert result.hellos_sent[version.label] == 1


def test_tls13_only_server() -> None:
    result = scan(ServerSpec(TLS13, TLS13, server_preference=True))
    assert dict(result.versions) == only(TlsVersion.TLS1_3)
    assert result.ciphers == {TlsVersion.TLS1_3: OPENSSL_TLS13}
    assert result.server_preference is True
    assert_accepted_plus_one(result)
    assert result.groups[:2] == ("x25519", "secp256r1")
    assert {"secp384r1", "secp521r1", "x448", "ffdhe2048"} <= set(result.groups)
    assert result.hellos_sent["groups"] == len(result.groups) + 1


def test_tls12_server_with_a_null_suite_beside_a_strong_one() -> None:
    configured = "ECDHE-RSA-AES256-GCM-SHA384:NULL-SHA256:@SECLEVEL=0"
    result = scan(ServerSpec(TLS12, TLS12, configured, server_preference=True))
    assert dict(result.versions) == only(TlsVersion.TLS1_2)
    assert result.ciphers[TlsVersion.TLS1_2] == iana(configured)
    assert result.server_preference is True


def test_server_with_its_own_order() -> None:
    configured = "AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA256:AES256-GCM-SHA384"
    result = scan(ServerSpec(TLS12, TLS13, configured, server_preference=True))
    assert dict(result.versions) == only(TlsVersion.TLS1_2, TlsVersion.TLS1_3)
    assert result.ciphers[TlsVersion.TLS1_2] == iana(configured)
    assert result.ciphers[TlsVersion.TLS1_3] == OPENSSL_TLS13
    assert result.server_preference is True
    assert dict(result.preference_by_version) == {TlsVersion.TLS1_2: True, TlsVersion.TLS1_3: True}
    # Three or more suites: the reversed hellos show the order without extra probes.
    assert_accepted_plus_one(result)


def test_server_that_follows_the_client() -> None:
    configured = "AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA256:AES256-GCM-SHA384"
    result = scan(ServerSpec(TLS12, TLS12, configured, server_preference=False))
    assert result.server_preference is False
    # No server order: listed strongest first, the order the prober offers them in.
    pool = candidate_suites(TlsVersion.TLS1_2)
    expected = tuple(sorted(iana(configured), key=lambda name: pool.index(code_of(name))))
    assert result.ciphers[TlsVersion.TLS1_2] == expected
    assert_accepted_plus_one(result)


def code_of(name: str) -> int:
    code = code_for_name(name)
    assert code is not None
    return code


@pytest.mark.parametrize(
    ("configured", "preference", "hellos"),
    [
        # The server's favourite is not the prober's first: the first answer shows its order.
        ("AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256", True, 3),
        # The server's favourite is also the prober's first: one more hello, reversed, tells.
        ("ECDHE-RSA-AES128-GCM-SHA256:AES256-SHA", True, 4),
        ("AES256-SHA:ECDHE-RSA-AES128-GCM-SHA256", False, 4),
    ],
)
def test_two_suites_and_the_order(configured: str, preference: bool, hellos: int) -> None:
    result = scan(ServerSpec(TLS12, TLS12, configured, server_preference=preference))
    assert result.server_preference is preference
    assert result.hellos_sent["TLSv1.2"] == hellos
    if preference:
        assert result.ciphers[TlsVersion.TLS1_2] == iana(configured)
    else:
        assert result.ciphers[TlsVersion.TLS1_2] == tuple(reversed(iana(configured)))


def test_groups_from_hello_retry_requests() -> None:
    result = scan(ServerSpec(TLS13, TLS13, group="secp384r1"))
    assert result.groups == ("secp384r1",)
    # No key share for P-384 in the cipher probes: they were answered by HelloRetryRequests.
    assert result.ciphers[TlsVersion.TLS1_3]
    assert result.hellos_sent["groups"] == 2


def test_groups_from_the_server_key_exchange_without_tls13() -> None:
    configured = "ECDHE-RSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384"
    result = scan(ServerSpec(TLS12, TLS12, configured, group="secp384r1"))
    assert result.groups == ("secp384r1",)


# --------------------------------------------------------------------------- long hellos


def test_windows_when_the_server_hangs_up_on_long_hellos() -> None:
    configured = "ECDHE-RSA-AES128-GCM-SHA256:NULL-SHA256:AES128-SHA:@SECLEVEL=0"
    pool = candidate_suites(TlsVersion.TLS1_2)
    assert len(pool) > SAFE_SUITES_PER_HELLO
    # The NULL suite sits in the second window, so both windows contribute.
    assert pool.index(0x003B) >= SAFE_SUITES_PER_HELLO > pool.index(0x002F)
    with (
        OverlapServer(ServerSpec(TLS12, TLS12, configured, server_preference=True)) as backend,
        SuiteLimitProxy(backend.port, SAFE_SUITES_PER_HELLO + 8) as proxy,
    ):
        result = enumerate_server("127.0.0.1", proxy.port, "localhost", Budget(3.0, total=20))
    assert dict(result.versions) == only(TlsVersion.TLS1_2)
    assert result.ciphers[TlsVersion.TLS1_2] == iana(configured)
    assert result.server_preference is True
    too_long = [n for n in proxy.suite_counts if n > SAFE_SUITES_PER_HELLO + 8]
    assert len(too_long) == 1  # only the first TLS 1.2 hello offered everything
    assert result.complete, result.errors


def test_windows_when_the_server_ignores_long_hellos() -> None:
    configured = "ECDHE-RSA-AES128-GCM-SHA256:AES128-SHA"
    with (
        OverlapServer(ServerSpec(TLS12, TLS12, configured, server_preference=True)) as backend,
        SuiteLimitProxy(backend.port, SAFE_SUITES_PER_HELLO + 8, hang=True) as proxy,
    ):
        result = enumerate_server("127.0.0.1", proxy.port, "localhost", Budget(0.5, total=20))
    assert dict(result.versions) == only(TlsVersion.TLS1_2)
    assert result.ciphers[TlsVersion.TLS1_2] == iana(configured)
    assert result.complete, result.errors


# --------------------------------------------------------------------------- bad servers


def test_silent_server_is_not_tested_not_refused() -> None:
    started = time.monotonic()
    with RawServer(silent) as server:
        result = enumerate_server("127.0.0.1", server.port, None, Budget(0.3, total=5))
    assert time.monotonic() - started < within(2.5)
    assert set(result.versions.values()) == {None}
    assert not result.complete
    assert any("timeout" in e for e in result.errors)


def test_plain_http_on_the_port() -> None:
    with RawServer(http_banner) as server:
        result = enumerate_server("127.0.0.1", server.port, None, Budget(1.0, total=5))
    assert set(result.versions.values()) == {None}
    assert any("not a TLS record" in e for e in result.errors)


def test_a_server_that_hangs_up_on_everything_is_unknown() -> None:
    with RawServer(hang_up) as server:
        result = enumerate_server("127.0.0.1", server.port, None, Budget(1.0, total=5))
    assert set(result.versions.values()) == {None}
    assert result.refusals[TlsVersion.TLS1_2].startswith("closed")


def test_nothing_listening() -> None:
    with socket.socket() as placeholder:
        placeholder.bind(("127.0.0.1", 0))
        port = placeholder.getsockname()[1]
    result = enumerate_server("127.0.0.1", port, None, Budget(1.0, total=5))
    assert set(result.versions.values()) == {None}
    assert any("connect" in e for e in result.errors)


def test_one_probe() -> None:
    with OverlapServer(ServerSpec(TLS12, TLS12, "AES128-SHA")) as server:
        budget = Budget(2.0)
        accepted = send_hello(
            "127.0.0.1", server.port, build_client_hello(TlsVersion.TLS1_2, [0x002F]), budget
        )
        refused = send_hello(
            "127.0.0.1", server.port, build_client_hello(TlsVersion.TLS1_2, [0xC02F]), budget
        )
    assert accepted.outcome is ProbeOutcome.SERVER_HELLO and accepted.cipher_suite == 0x002F
    assert refused.outcome is ProbeOutcome.ALERT and refused.alert == "handshake_failure"
    assert accepted.duration_ms < within(2.0) * 1000


# --------------------------------------------------------------------------- progress, cancel, pace


def test_progress_counts_every_hello() -> None:
    seen: list[tuple[int, int]] = []
    lock = threading.Lock()

    def progress(done: int, total: int) -> None:
        with lock:
            seen.append((done, total))

    result = scan(ServerSpec(TLS12, TLS13), progress=progress)
    dones = [d for d, _ in seen]
    totals = [t for _, t in seen]
    assert dones == sorted(dones) and totals == sorted(totals)
    assert all(d <= t for d, t in seen)
    assert seen[-1] == (result.total_hellos, result.total_hellos)


def test_cancel_stops_the_scan() -> None:
    budget = Budget(3.0, total=20)
    calls = 0

    def progress(done: int, total: int) -> None:
        nonlocal calls
        calls += 1
        if done >= 2:
            budget.cancel()

    before = threading.active_count()
    with OverlapServer(ServerSpec(TLS12, TLS13)) as server:
        started = time.monotonic()
        with pytest.raises(Cancelled):
            enumerate_server("127.0.0.1", server.port, None, budget, progress=progress)
        assert time.monotonic() - started < within(1.5)
    assert threading.active_count() <= before


def test_cancel_interrupts_a_slow_server() -> None:
    budget = Budget(10.0, total=20)
    timer = threading.Timer(0.3, budget.cancel)
    with RawServer(silent) as server:
        started = time.monotonic()
        timer.start()
        with pytest.raises(Cancelled):
            enumerate_server("127.0.0.1", server.port, None, budget)
        timer.join()
    assert time.monotonic() - started < within(1.0)


def test_deadline_returns_what_is_known() -> None:
    with RawServer(silent) as server:
        started = time.monotonic()
        result = enumerate_server("127.0.0.1", server.port, None, Budget(10.0, total=0.5))
    assert time.monotonic() - started < within(2.0)
    assert not result.complete


def test_gentle_is_one_paced_connection_at_a_time() -> None:
    with OverlapServer(ServerSpec(TLS12, TLS12, "AES128-SHA")) as server:
        result = enumerate_server(
            "127.0.0.1", server.port, None, Budget(3.0, total=20), gentle=True
        )
        times = list(server.accepted_at)
    assert result.ciphers == {TlsVersion.TLS1_2: ("TLS_RSA_WITH_AES_128_CBC_SHA",)}
    assert len(times) == result.total_hellos
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= GENTLE_PACE_S * 0.9


def test_a_name_that_does_not_resolve() -> None:
    # RFC 2606 reserves .invalid: it never resolves, and the lookup is bounded by the budget.
    result = enumerate_server("no-such-host.invalid", 443, None, Budget(1.0, total=5))
    assert not result.complete
    assert set(result.versions.values()) == {None}
    assert result.total_hellos == 0
