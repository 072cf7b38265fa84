"""Loopback ports for the tests: a free one to give a daemon the tests start (tinyproxy,
dovecot, PostgreSQL, ...) and a wait until it listens there, and a closed one for the tests of
a refused connection."""

from __future__ import annotations

import contextlib
import socket
import subprocess
import time


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now, for a daemon to be told to use."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
    return port


def closed_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on: a connection there is refused."""
    return free_port()


def wait_for_port(port: int, process: subprocess.Popen[bytes], seconds: float = 10.0) -> None:
    """Returns once ``process`` accepts on 127.0.0.1:``port``; raises if it exits first or
    does not listen within ``seconds``, so a test never runs against a daemon that is not up."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"{process.args!r} exited at start ({process.returncode})")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.2):
            return
        time.sleep(0.05)
    raise RuntimeError(f"nothing listened on {port} within {seconds} s")
