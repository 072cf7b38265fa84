"""Real DNS servers on loopback for the path tests: Debian's dnsmasq with records the test
writes, a never-answering UDP socket, and an upstream that answers SERVFAIL to everything.

Every server stops by itself: dnsmasq is killed in the fixture's finalizer, the Python ones are
threads that end when their socket closes.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import dns.exception
import dns.message
import dns.query
import dns.rcode

#: Names the dnsmasq fixture answers, and how.
GOOD = "good.test"  # A 127.0.0.1 only
DUAL = "dual.test"  # A 127.0.0.1 and AAAA ::1
SINKHOLE = "sink.test"  # 0.0.0.0 and :: (a DNS filter's "nowhere")
LOOPBACK_PUBLIC = "tracker.example.net"  # 127.0.0.1 for a name that belongs on the internet
NXDOMAIN = "nx.test"
SERVFAIL = "fail.test"


def free_udp_port() -> int:
    """A port free for both UDP and TCP on 127.0.0.1: dnsmasq listens on both."""
    while True:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as udp:
            udp.bind(("127.0.0.1", 0))
            port = int(udp.getsockname()[1])
            with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as tcp:
                try:
                    tcp.bind(("127.0.0.1", port))
                except OSError:
                    continue
                return port


@contextmanager
def silent_udp() -> Iterator[int]:
    """A UDP port that receives and never answers: a DNS server that is not there."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    try:
        yield int(sock.getsockname()[1])
    finally:
        sock.close()


@contextmanager
def servfail_upstream() -> Iterator[int]:
    """An upstream that answers SERVFAIL to every question, as a broken recursive server does."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(0.1)
    stop = threading.Event()

    def serve() -> None:
        while not stop.is_set():
            try:
                data, peer = sock.recvfrom(4096)
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                query = dns.message.from_wire(data)
            except dns.exception.DNSException:
                continue  # not a DNS question: a real server would drop it too
            reply = dns.message.make_response(query)
            reply.set_rcode(dns.rcode.SERVFAIL)
            sock.sendto(reply.to_wire(), peer)

    thread = threading.Thread(target=serve, name="servfail upstream", daemon=True)
    thread.start()
    try:
        yield int(sock.getsockname()[1])
    finally:
        stop.set()
        thread.join(2)
        sock.close()


@dataclass(frozen=True)
class Dnsmasq:
    port: int

    @property
    def server(self) -> str:
        return f"127.0.0.1:{self.port}"


def dnsmasq_path() -> str | None:
    # Debian installs it in /usr/sbin, which is not on a normal user's PATH.
    return shutil.which("dnsmasq") or shutil.which("dnsmasq", path="/usr/sbin:/sbin")


def on_ci() -> bool:
    """On CI the tests that need dnsmasq or namespaces must run: a missing tool fails them."""
    return os.environ.get("CI", "").lower() in ("1", "true", "yes")


def dnsmasq_missing() -> str | None:
    """Why the dnsmasq tests cannot run here, or None. ``make test`` installs it as root."""
    if dnsmasq_path() is None and not on_ci():
        return "dnsmasq is not installed (scripts/system-deps.sh installs it for make test)"
    return None


@contextmanager
def run_dnsmasq(extra: Sequence[str] = (), *, port: int | None = None) -> Iterator[Dnsmasq]:
    """dnsmasq on a loopback port with only the records written here: no upstream, no hosts
    file, no resolv.conf, in the foreground so that killing it ends it."""
    with servfail_upstream() as upstream:
        # Another process on this shared machine may take the port between the look and
        # dnsmasq's bind: try again on a fresh one.
        for attempt in range(5):
            chosen = port or free_udp_port()
            proc = subprocess.Popen(
                _dnsmasq_args(chosen, upstream, extra),
                stdout=subprocess.DEVNULL,
                stderr=subprocess.PIPE,
            )
            try:
                _wait_ready(proc, chosen)
            except _PortTaken:
                proc.wait(5)
                _close(proc)
                if port is not None or attempt == 4:
                    raise
                continue
            except BaseException:
                _stop(proc)
                raise
            try:
                yield Dnsmasq(chosen)
            finally:
                _stop(proc)
            return


class _PortTaken(RuntimeError):
    pass


def _dnsmasq_args(port: int, upstream: int, extra: Sequence[str]) -> list[str]:
    return [
        dnsmasq_path() or "dnsmasq",
        "--keep-in-foreground",
        "--no-resolv",
        "--no-hosts",
        "--conf-file=/dev/null",
        "--pid-file=",
        f"--port={port}",
        "--listen-address=127.0.0.1",
        "--bind-interfaces",
        "--local=/test/",
        "--local=/example.net/",
        f"--host-record={GOOD},127.0.0.1",
        f"--host-record={DUAL},127.0.0.1,::1",
        f"--host-record={LOOPBACK_PUBLIC},127.0.0.1",
        f"--address=/{SINKHOLE}/0.0.0.0",
        f"--address=/{SINKHOLE}/::",
        f"--address=/{NXDOMAIN}/",
        f"--server=/{SERVFAIL}/127.0.0.1#{upstream}",
        *extra,
    ]


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.kill()
    proc.wait(5)
    _close(proc)


def _close(proc: subprocess.Popen[bytes]) -> None:
    if proc.stderr is not None:
        proc.stderr.close()


def _wait_ready(proc: subprocess.Popen[bytes], port: int) -> None:
    deadline = time.monotonic() + 10
    query = dns.message.make_query(GOOD, "A")
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            err = proc.stderr.read().decode(errors="replace") if proc.stderr else ""
            kind = _PortTaken if "Address already in use" in err else RuntimeError
            raise kind(f"dnsmasq exited at start: {err.strip()}")
        try:
            dns.query.udp(query, "127.0.0.1", port=port, timeout=0.2)
            return
        except (dns.exception.Timeout, OSError):
            time.sleep(0.05)
    raise RuntimeError("dnsmasq did not answer within 10 s")
