"""The whole check under a really wrong clock: libfaketime moves the CLI's clock, nothing is mocked.

The TLS server, its ``Date:`` header and the SNTP server run in this (true-time) process; the
CLI runs in a child whose every wall-clock read (Python, OpenSSL, cryptography's Rust) is shifted
by ``FAKETIME``. The certificate is good by the true clock and bad by the shifted one, so the only
right diagnosis is the clock, measured to within 2 s by NTP and 3 s by HTTP Date.

Monotonic time is left alone (``FAKETIME_DONT_FAKE_MONOTONIC=1``) so timeouts behave.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.pki import DAY, NOW, Pki
from tests.sntp_server import SntpServer
from tests.tls_servers import TlsConfig, tls_server

pytestmark = [pytest.mark.faketime, pytest.mark.slow]

REPO = Path(__file__).resolve().parent.parent
SECONDS_PER_DAY = 86_400
NTP_TOLERANCE_S = 2.0
HTTP_DATE_TOLERANCE_S = 3.0
_CANDIDATES = (
    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
    "/usr/lib/faketime/libfaketime.so.1",
    "/usr/local/lib/faketime/libfaketime.so.1",
)


def _libfaketime() -> str | None:
    for path in _CANDIDATES:
        if Path(path).is_file():
            return path
    try:
        listing = subprocess.run(
            ["dpkg", "-L", "libfaketime"], capture_output=True, text=True, timeout=10, check=False
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return None
    return next((line for line in listing.splitlines() if line.endswith("libfaketime.so.1")), None)


LIBFAKETIME = _libfaketime()


@pytest.fixture(scope="module")
def libfaketime() -> str:
    if LIBFAKETIME is None:
        if os.environ.get("CI"):
            pytest.fail("libfaketime is missing; .ci/run installs the Debian package 'faketime'")
        pytest.skip("libfaketime is not installed (Debian package 'faketime')")
    return LIBFAKETIME


@pytest.fixture(scope="module")
def root_pem(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return pki.write_root(tmp_path_factory.mktemp("faketime-root"))


@pytest.fixture(scope="module")
def good_server(pki: Pki) -> Iterator[int]:
    """Valid by the true clock from yesterday to the day after tomorrow: so "730 days behind"
    sees it as not yet valid and "3 days ahead" sees it as expired; only the clock explains both.
    """
    leaf = pki.leaf(("localhost",), not_before=NOW - DAY, not_after=NOW + 2 * DAY)
    with tls_server(TlsConfig(chain=[leaf, pki.intermediate], key=leaf), lifetime=300) as server:
        yield server.port


@pytest.fixture(scope="module")
def expired_server(pki: Pki) -> Iterator[int]:
    """Really expired: by the true clock it ended two days ago."""
    leaf = pki.leaf(("localhost",), not_before=NOW - 60 * DAY, not_after=NOW - 2 * DAY)
    with tls_server(TlsConfig(chain=[leaf, pki.intermediate], key=leaf), lifetime=300) as server:
        yield server.port


def run_check(
    port: int,
    root_pem: Path,
    *,
    faketime: str | None,
    lib: str | None,
    time_server: str | None,
) -> dict[str, Any]:
    """``handshake-doctor check localhost --connect 127.0.0.1:PORT … --json`` in a child process."""
    args = [
        sys.executable,
        "-m",
        "handshake_doctor",
        "check",
        "localhost",
        "--connect",
        f"127.0.0.1:{port}",
        "--ca-file",
        str(root_pem),
        "--no-default-trust",
        "--json",
        "--timeout",
        "5",
        # The full check, enumeration included, as a user runs it: every stage runs under the
        # faked clock, and none of them may blame the certificate.
    ]
    args += ["--time-server", time_server] if time_server else ["--no-network-time"]
    env = dict(os.environ)
    env.pop("LD_PRELOAD", None)
    if faketime is not None:
        assert lib is not None
        env.update(FAKETIME=faketime, LD_PRELOAD=lib, FAKETIME_DONT_FAKE_MONOTONIC="1")
    done = subprocess.run(
        args, cwd=REPO, env=env, capture_output=True, text=True, timeout=90, check=False
    )
    assert done.returncode in (0, 1), f"exit {done.returncode}\n{done.stderr[-3000:]}"
    try:
        report: dict[str, Any] = json.loads(done.stdout)
    except json.JSONDecodeError:
        pytest.fail(f"not JSON on stdout:\n{done.stdout[-2000:]}\nstderr:\n{done.stderr[-2000:]}")
    return report


def _ids(report: dict[str, Any], severity: str | None = None) -> list[str]:
    return [f["id"] for f in report["findings"] if severity is None or f["severity"] == severity]


def _skew(report: dict[str, Any]) -> dict[str, Any]:
    (finding,) = [f for f in report["findings"] if f["id"] == "clock-skew"]
    return finding  # type: ignore[no-any-return]


@pytest.mark.parametrize(
    ("faketime", "true_offset_s", "words"),
    [
        ("-730d", -730 * SECONDS_PER_DAY, "2 years behind"),
        ("+3d", 3 * SECONDS_PER_DAY, "3 days ahead"),
    ],
    ids=["730-days-behind", "3-days-ahead"],
)
@pytest.mark.parametrize("reference", ["ntp", "http-date"])
def test_a_wrong_clock_is_blamed_not_the_certificate(
    libfaketime: str,
    good_server: int,
    root_pem: Path,
    faketime: str,
    true_offset_s: int,
    words: str,
    reference: str,
) -> None:
    with SntpServer(offset_s=0.0) as sntp:  # the TRUE time, from this unfaked process
        report = run_check(
            good_server,
            root_pem,
            faketime=faketime,
            lib=libfaketime,
            time_server=sntp.address if reference == "ntp" else None,
        )
        if reference == "ntp":
            assert sntp.requests >= 1
    # The child really ran with a shifted clock.
    started = dt.datetime.fromisoformat(report["started_at"].replace("Z", "+00:00"))
    shift = (started - dt.datetime.now(dt.UTC)).total_seconds()
    assert abs(shift - true_offset_s) < 120, report["started_at"]

    clock = report["clock"]
    assert clock["reference"] == reference
    tolerance = NTP_TOLERANCE_S if reference == "ntp" else HTTP_DATE_TOLERANCE_S
    assert abs(clock["offset_s"] - true_offset_s) < tolerance, clock
    if reference == "ntp":
        assert clock["source"] == sntp.address

    assert _ids(report, "critical") == ["clock-skew"], report["findings"]
    assert "cert-expired" not in _ids(report)
    assert "cert-not-yet-valid" not in _ids(report)
    skew = _skew(report)
    assert skew["evidence"]["offset_human"] == words
    assert "set-clock" in skew["fixes"]
    assert report["verdict"] == "critical"


@pytest.mark.parametrize("reference", ["ntp", "http-date"])
def test_a_really_expired_certificate_is_blamed_not_the_clock(
    expired_server: int, root_pem: Path, reference: str
) -> None:
    with SntpServer(offset_s=0.0) as sntp:
        report = run_check(
            expired_server,
            root_pem,
            faketime=None,
            lib=None,
            time_server=sntp.address if reference == "ntp" else None,
        )
    clock = report["clock"]
    assert clock["reference"] == reference
    tolerance = NTP_TOLERANCE_S if reference == "ntp" else HTTP_DATE_TOLERANCE_S
    assert abs(clock["offset_s"]) < tolerance, clock
    assert "cert-expired" in _ids(report), report["findings"]
    assert "clock-skew" not in _ids(report)
    assert report["verdict"] in ("error", "critical")
