"""Hostile input, round 2 (issue 19): files the PKCS#12 guard could not read, terminals and
files that cannot take the output, secrets at rest, and the summary's connect port.

Every case goes through a real entry point: ``main`` or ``python -m handshake_doctor``."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from handshake_doctor.main import main
from tests.pki import Issued, Pki
from tests.tls_servers import LoopbackServer, TlsConfig, tls_server

ROOT = Path(__file__).resolve().parent.parent
CHECK = ["check", "--no-network-time", "--quick", "--timeout", "3"]


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


@pytest.fixture(scope="module")
def leaf(pki: Pki) -> Issued:
    return pki.leaf()


@pytest.fixture(scope="module")
def server(pki: Pki, leaf: Issued) -> Iterator[LoopbackServer]:
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf), lifetime=120) as running:
        yield running


def run_cli(
    args: list[str], *, env: dict[str, str] | None = None, timeout: float = 60, **kwargs: object
) -> subprocess.CompletedProcess[bytes]:
    """``python -m handshake_doctor ARGS`` as a real process, in bytes (what it wrote)."""
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "handshake_doctor", *args],
        stdin=subprocess.DEVNULL,
        capture_output="stdout" not in kwargs,
        stderr=subprocess.PIPE if "stdout" in kwargs else None,
        timeout=timeout,
        check=False,
        cwd=ROOT,
        env={**os.environ, "PYTHONWARNINGS": "", **(env or {})},
        **kwargs,
    )


# --------------------------------------------------------------------------- item 8


def test_summary_names_the_port_that_connect_dialled(
    server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*CHECK, "--summary", "localhost:443", "--connect", server.address])
    first = capsys.readouterr().out.splitlines()[0]
    assert code in (0, 1)
    assert first.endswith(f"(connected to 127.0.0.1:{server.port})"), first
