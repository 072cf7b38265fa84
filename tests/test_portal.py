"""Captive portals seen through the plain-HTTP probe: a real loopback "network" answers the probe
as the open internet would, or as a hotel's portal does (a redirect to its sign-in page, HTTP 511,
a sign-in form, a different page)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from core.analyze.portal import (
    PortalVerdict,
    ProbeExpectation,
    default_probe_url,
    expectation_for,
    judge_portal,
    known_probes,
)
from core.budget import Budget
from core.models import HttpProbeAnswer
from core.probe.fetch import http_probe
from tests.http_servers import http_drip, http_ok, http_raw
from tests.tls_servers import LoopbackServer

FIREFOX_BODY = (
    '<meta http-equiv="refresh" content="0;url=https://support.mozilla.org/kb/captive-portal"/>\n'
)


def _probe(answer: bytes, path: str = "/canonical.html") -> HttpProbeAnswer:
    with LoopbackServer(http_raw(answer)) as server:
        return http_probe(f"http://{server.address}{path}", Budget(2.0))


def _as_firefox(url: str) -> ProbeExpectation:
    firefox = known_probes()["firefox"]
    return ProbeExpectation("firefox", url, firefox.status, firefox.body)


def test_the_open_internet_answers_the_firefox_probe_as_expected() -> None:
    answer = _probe(http_ok(FIREFOX_BODY.encode(), "text/html"))
    assert answer.status == 200 and answer.failure is None
    assert judge_portal(answer, _as_firefox(answer.url)).verdict is PortalVerdict.NONE


def test_portal_redirect_names_the_sign_in_page() -> None:
    answer = _probe(
        b"HTTP/1.1 302 Found\r\nLocation: http://portal.hotel.test/login?x=<b>\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    result = judge_portal(answer, _as_firefox(answer.url))
    assert result.verdict is PortalVerdict.PORTAL
    assert result.portal_url == "http://portal.hotel.test/login?x=<b>"  # kept as data, unfetched
    assert result.sign == "HTTP 302 redirect"


def test_portal_that_answers_with_its_own_page() -> None:
    page = b"<html><form action=/login><input type=password name=p></form></html>"
    answer = _probe(http_ok(page, "text/html"))
    assert judge_portal(answer, _as_firefox(answer.url)).sign == "a different page"
    # With a probe of the user's own choosing, the form alone gives it away.
    assert judge_portal(answer, None).sign == "a sign-in page"
    plain = _probe(http_ok(b"hello", "text/plain"))
    assert judge_portal(plain, None).verdict is PortalVerdict.NONE


def test_http_511_is_a_portal_whatever_the_probe() -> None:
    answer = _probe(b"HTTP/1.1 511 Network Authentication Required\r\nContent-Length: 0\r\n\r\n")
    assert judge_portal(answer, None).verdict is PortalVerdict.PORTAL


def test_android_style_probe_expects_an_empty_204() -> None:
    android = known_probes()["android"]
    answer = _probe(b"HTTP/1.1 204 No Content\r\n\r\n", "/generate_204")
    expected = ProbeExpectation("android", answer.url, android.status, android.body)
    assert judge_portal(answer, expected).verdict is PortalVerdict.NONE
    answer = _probe(http_ok(b"ok"), "/generate_204")
    assert judge_portal(answer, expected).sign == "HTTP 200 where 204 was expected"


def test_no_answer_concludes_nothing_and_ends_at_the_timeout() -> None:
    import time

    with LoopbackServer(http_drip(1.0)) as server:
        started = time.monotonic()
        answer = http_probe(f"http://{server.address}/", Budget(1.0))
        took = time.monotonic() - started
    assert took < 2.0
    result = judge_portal(answer, None)
    assert result.verdict is PortalVerdict.UNKNOWN
    assert result.sign == "no complete answer within 1 s"


@pytest.mark.parametrize("url", ["ftp://probe.test/", "http://a b/", "not a url"])
def test_bad_probe_urls_are_an_answer_not_a_crash(url: str) -> None:
    answer = http_probe(url, Budget(1.0))
    assert answer.status is None and answer.failure


def test_probe_data_has_sources_and_a_default() -> None:
    probes = known_probes()
    assert expectation_for(default_probe_url()) is probes["firefox"]
    assert {"firefox", "android", "apple", "windows"} <= set(probes)
    for probe in probes.values():
        assert probe.url.startswith("http://")
    raw = json.loads(Path("resources/portal_probes.json").read_text(encoding="utf-8"))
    for entry in raw["probes"].values():
        assert entry["source"] and entry["date"] and isinstance(entry["verified"], bool)
