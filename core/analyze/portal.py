"""Is a captive portal answering in the site's place? Judged from one plain-HTTP probe, the way
browsers and phones notice a hotel or airport Wi-Fi that wants a sign-in first.

A known probe (``resources/portal_probes.json``) has a known answer: anything else — a redirect,
another status, another body — is the network speaking. A probe of the user's own choosing has no
known body, so only the unmistakable signs count: a redirect, HTTP 511 (RFC 6585, "Network
Authentication Required"), or a page with a password form.
"""

from __future__ import annotations

import enum
import json
from dataclasses import dataclass
from functools import cache
from importlib import resources

from core.models import HttpProbeAnswer

_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class PortalVerdict(enum.StrEnum):
    NONE = "none"  # the probe got its expected answer: no portal in the way
    PORTAL = "portal"
    UNKNOWN = "unknown"  # the probe got no answer: nothing to conclude from it


@dataclass(frozen=True)
class ProbeExpectation:
    id: str
    url: str
    status: int
    body: str


@dataclass(frozen=True)
class PortalResult:
    verdict: PortalVerdict
    probe_url: str
    portal_url: str | None = None  # where the portal sends the user (its redirect), if it says
    sign: str | None = None  # what gave it away, as a fact for the evidence


@cache
def known_probes() -> dict[str, ProbeExpectation]:
    data = json.loads(
        resources.files("resources").joinpath("portal_probes.json").read_text(encoding="utf-8")
    )
    return {
        key: ProbeExpectation(key, p["url"], int(p["expect_status"]), p["expect_body"])
        for key, p in data["probes"].items()
    }


@cache
def default_probe_url() -> str:
    data = json.loads(
        resources.files("resources").joinpath("portal_probes.json").read_text(encoding="utf-8")
    )
    return str(data["probes"][data["default"]]["url"])


def expectation_for(url: str) -> ProbeExpectation | None:
    return next((p for p in known_probes().values() if p.url == url), None)


def _looks_like_sign_in(body: bytes) -> bool:
    text = body[:65536].decode("utf-8", errors="replace").lower()
    return "<form" in text and any(w in text for w in ("password", "login", "log in", "sign in"))


def judge_portal(answer: HttpProbeAnswer, expected: ProbeExpectation | None) -> PortalResult:
    """What the probe's answer says about the network between this computer and the internet."""
    if answer.status is None:
        return PortalResult(PortalVerdict.UNKNOWN, answer.url, sign=answer.failure)
    if answer.status in _REDIRECTS:
        return PortalResult(
            PortalVerdict.PORTAL,
            answer.url,
            portal_url=answer.location or None,
            sign=f"HTTP {answer.status} redirect",
        )
    if answer.status == 511:
        return PortalResult(PortalVerdict.PORTAL, answer.url, sign="HTTP 511")
    if expected is not None:
        if answer.status != expected.status:
            return PortalResult(
                PortalVerdict.PORTAL,
                answer.url,
                sign=f"HTTP {answer.status} where {expected.status} was expected",
            )
        body = answer.body.decode("utf-8", errors="replace").strip()
        if body != expected.body.strip():
            return PortalResult(PortalVerdict.PORTAL, answer.url, sign="a different page")
        return PortalResult(PortalVerdict.NONE, answer.url)
    if answer.status == 200 and _looks_like_sign_in(answer.body):
        return PortalResult(PortalVerdict.PORTAL, answer.url, sign="a sign-in page")
    return PortalResult(PortalVerdict.NONE, answer.url)
