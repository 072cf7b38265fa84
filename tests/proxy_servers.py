"""Real proxies from Debian on 127.0.0.1 for the path tests: tinyproxy (HTTP CONNECT, with Basic
auth and a host filter when asked) and microsocks (SOCKS5, with a user and password when asked).

Each runs as a child process started by a context manager that waits until the port answers and
kills the process on exit, so nothing outlives its test.
"""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import time
from collections.abc import Iterator, Sequence
from pathlib import Path

from tests.ports import free_port, wait_for_port

TINYPROXY = shutil.which("tinyproxy") or "/usr/bin/tinyproxy"
MICROSOCKS = shutil.which("microsocks") or "/usr/bin/microsocks"


def have_tinyproxy() -> bool:
    return Path(TINYPROXY).exists()


def have_microsocks() -> bool:
    return Path(MICROSOCKS).exists()


@contextlib.contextmanager
def _child(argv: Sequence[str], port: int, seconds: float = 10.0) -> Iterator[int]:
    process = subprocess.Popen(
        list(argv), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        wait_for_port(port, process, seconds)
        yield port
    finally:
        process.kill()
        process.wait(10)


@contextlib.contextmanager
def tinyproxy(
    workdir: Path,
    *,
    basic_auth: tuple[str, str] | None = None,
    refuse: Sequence[str] = (),
    log_level: str = "Critical",
    port: int | None = None,
) -> Iterator[int]:
    """Yields the port of a tinyproxy on 127.0.0.1. ``refuse`` holds host-name patterns its
    filter answers with 403; ``basic_auth`` makes it answer 407 without those credentials."""
    port = port or free_port()
    lines = [
        f"Port {port}",
        "Listen 127.0.0.1",
        "Timeout 15",
        "MaxClients 20",
        "Allow 127.0.0.1",
        f"LogLevel {log_level}",
        f'LogFile "{workdir / "tinyproxy.log"}"',
        f'PidFile "{workdir / "tinyproxy.pid"}"',
        "DisableViaHeader Yes",
    ]
    if basic_auth:
        lines.append(f"BasicAuth {basic_auth[0]} {basic_auth[1]}")
    if refuse:
        patterns = workdir / "filter"
        patterns.write_text("".join(f"{p}\n" for p in refuse))
        lines += [f'Filter "{patterns}"', "FilterDefaultDeny No", "FilterExtended On"]
    config = workdir / "tinyproxy.conf"
    config.write_text("\n".join(lines) + "\n")
    with _child([TINYPROXY, "-d", "-c", str(config)], port) as ready:
        yield ready


@contextlib.contextmanager
def microsocks(credentials: tuple[str, str] | None = None) -> Iterator[int]:
    """Yields the port of a SOCKS5 proxy (microsocks) on 127.0.0.1."""
    port = free_port()
    argv = [MICROSOCKS, "-i", "127.0.0.1", "-p", str(port)]
    if credentials:
        argv += ["-u", credentials[0], "-P", credentials[1]]
    with _child(argv, port) as ready:
        yield ready


def mitmdump_path() -> str | None:
    """mitmproxy's mitmdump: from MITMDUMP (make test sets it to its own venv), else on PATH."""
    import os

    path = os.environ.get("MITMDUMP") or shutil.which("mitmdump")
    return path if path and Path(path).exists() else None


@contextlib.contextmanager
def mitmdump(confdir: Path) -> Iterator[tuple[int, Path]]:
    """An intercepting proxy on 127.0.0.1 (the "managed machine" case): yields its port and its
    CA certificate, which the test hands to the check as --ca-file. It does not verify the
    upstream site (--ssl-insecure): the test's site has the test's own PKI."""
    binary = mitmdump_path()
    if binary is None:
        raise RuntimeError("mitmdump is not installed")
    port = free_port()
    argv = [
        binary,
        "--listen-host",
        "127.0.0.1",
        "-p",
        str(port),
        "--set",
        f"confdir={confdir}",
        "--ssl-insecure",
        "-q",
    ]
    with _child(argv, port, seconds=30.0) as ready:
        ca = confdir / "mitmproxy-ca-cert.pem"
        deadline = time.monotonic() + 10
        while not ca.exists() and time.monotonic() < deadline:
            time.sleep(0.05)
        yield ready, ca
