"""Real services on 127.0.0.1 that speak a plain-text protocol before TLS, for the STARTTLS tests.

SMTP is aiosmtpd's real server (a maintained library) on its own event loop; FTP, XMPP, LDAP and
PostgreSQL are small servers that replay the exchanges real ones make (RFC 4217, RFC 6120,
RFC 4511 section 4.14, PostgreSQL's protocol docs), then hand the connection to ``ssl``. Each
counts the STARTTLS upgrades it granted, so a test can see every prober connection do its own.
Every server stops when its ``with`` block ends, and by itself after ``lifetime`` seconds.
"""

from __future__ import annotations

import asyncio
import contextlib
import getpass
import logging
import os
import shutil
import socket
import ssl
import subprocess
import tempfile
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from aiosmtpd.smtp import SMTP

from tests.pki import Issued
from tests.ports import free_port, wait_for_port
from tests.tls_servers import LoopbackServer

# aiosmtpd logs every session a probe cuts short (on purpose) with a traceback.
logging.getLogger("mail.log").setLevel(logging.CRITICAL)


@dataclass
class Counter:
    """What a service did, seen from the tests: upgrades granted, TLS handshakes finished."""

    upgrades: int = 0
    handshakes: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def upgraded(self) -> None:
        with self.lock:
            self.upgrades += 1

    def shook(self) -> None:
        with self.lock:
            self.handshakes += 1


class _CountingSmtp(SMTP):
    """aiosmtpd's SMTP, counting the STARTTLS it grants; ``refuse`` answers it with 454 (as
    Postfix does when its certificate cannot be loaded) although EHLO lists it."""

    counter: Counter
    refuse: bool = False

    async def smtp_STARTTLS(self, arg: str) -> None:
        if self.refuse:
            await self.push("454 4.7.0 TLS not available due to local problem")
            return
        self.counter.upgraded()
        await super().smtp_STARTTLS(arg)


class _Sink:
    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        return "250 OK"


@dataclass
class RunningService:
    port: int
    counter: Counter

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"


@contextlib.contextmanager
def smtp_server(
    ctx: ssl.SSLContext | None,
    *,
    refuse: bool = False,
    lifetime: float = 60.0,
    host: str = "127.0.0.1",
) -> Iterator[RunningService]:
    """aiosmtpd on ``host`` (127.0.0.1 or ::1), port 0; STARTTLS offered when ``ctx`` is
    given."""
    counter = Counter()
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: dict[str, asyncio.base_events.Server] = {}

    def factory() -> SMTP:
        server = _CountingSmtp(_Sink(), tls_context=ctx, hostname="mail.test", timeout=10)
        server.counter = counter
        server.refuse = refuse
        return server

    async def start() -> None:
        holder["server"] = await loop.create_server(factory, host, 0)
        ready.set()

    def run() -> None:
        loop.run_until_complete(start())
        loop.call_later(lifetime, loop.stop)
        loop.run_forever()

    thread = threading.Thread(target=run, daemon=True, name="smtp server")
    thread.start()
    ready.wait(10)
    port = holder["server"].sockets[0].getsockname()[1]
    try:
        yield RunningService(port, counter)
    finally:

        async def shut() -> None:
            holder["server"].close()
            await holder["server"].wait_closed()

        with contextlib.suppress(RuntimeError):
            asyncio.run_coroutine_threadsafe(shut(), loop).result(5)
        loop.call_soon_threadsafe(loop.stop)
        thread.join(5)
        loop.close()


# --------------------------------------------------------------------------- threaded servers


def _readline(conn: socket.socket, limit: int = 4096) -> bytes:
    data = b""
    while not data.endswith(b"\n") and len(data) < limit:
        chunk = conn.recv(1)
        if not chunk:
            break
        data += chunk
    return data


def _tls_then_close(conn: socket.socket, ctx: ssl.SSLContext, counter: Counter) -> None:
    """Hand the plain connection to TLS, as the real server does after its "go ahead"."""
    with ctx.wrap_socket(conn, server_side=True) as tls:
        counter.shook()
        with contextlib.suppress(OSError, ssl.SSLError):
            tls.recv(1)  # the client ends it


Dialog = Callable[[socket.socket, Counter], bool]


@contextlib.contextmanager
def dialog_server(
    dialog: Dialog, ctx: ssl.SSLContext | None, *, lifetime: float = 60.0
) -> Iterator[RunningService]:
    """A threaded server that runs ``dialog`` on each connection and, when it returns True
    (the upgrade was granted), the TLS handshake with ``ctx``."""
    counter = Counter()

    def handle(conn: socket.socket, stop: threading.Event) -> None:
        if dialog(conn, counter) and ctx is not None:
            counter.upgraded()
            _tls_then_close(conn, ctx, counter)

    with LoopbackServer(handle, lifetime=lifetime) as server:
        yield RunningService(server.port, counter)


def ftp_dialog(*, offer: bool = True) -> Dialog:
    """RFC 4217: 220 greeting, FEAT lists AUTH TLS, AUTH TLS is answered 234."""

    def run(conn: socket.socket, counter: Counter) -> bool:
        conn.sendall(b"220-Welcome to the test FTP server\r\n220 Ready\r\n")
        while True:
            line = _readline(conn).strip().upper()
            if not line:
                return False
            if line == b"FEAT":
                auth = b" AUTH TLS\r\n" if offer else b""
                conn.sendall(b"211-Features:\r\n MDTM\r\n" + auth + b" UTF8\r\n211 End\r\n")
            elif line == b"AUTH TLS" and offer:
                conn.sendall(b"234 AUTH TLS successful\r\n")
                return True
            else:
                conn.sendall(b"500 Unknown command\r\n")

    return run


def xmpp_dialog(*, offer: bool = True, error: bool = False) -> Dialog:
    """RFC 6120: the stream header and features with <starttls/>, then <proceed/>."""

    def run(conn: socket.socket, counter: Counter) -> bool:
        data = b""
        while b"version='1.0'>" not in data and len(data) < 4096:
            chunk = conn.recv(1024)
            if not chunk:
                return False
            data += chunk
        header = (
            b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
            b"xmlns:stream='http://etherx.jabber.org/streams' id='t1' from='chat.test' "
            b"version='1.0'>"
        )
        if error:
            conn.sendall(
                header + b"<stream:error><host-unknown xmlns='urn:ietf:params:xml:ns:xmpp-streams'"
                b"/></stream:error></stream:stream>"
            )
            return False
        tls = b"<starttls xmlns='urn:ietf:params:xml:ns:xmpp-tls'><required/></starttls>"
        features = (
            b"<stream:features>"
            + (tls if offer else b"")
            + (
                b"<mechanisms xmlns='urn:ietf:params:xml:ns:xmpp-sasl'><mechanism>PLAIN</mechanism>"
                b"</mechanisms></stream:features>"
            )
        )
        conn.sendall(header + features)
        data = b""
        while b"/>" not in data and len(data) < 4096:
            chunk = conn.recv(1024)
            if not chunk:
                return False
            data += chunk
        if b"<starttls" in data and offer:
            conn.sendall(b"<proceed xmlns='urn:ietf:params:xml:ns:xmpp-tls'/>")
            return True
        return False

    return run


def _ldap_response(code: int, message: bytes = b"") -> bytes:
    body = bytes([0x0A, 0x01, code, 0x04, 0x00, 0x04, len(message)]) + message
    op = bytes([0x78, len(body)]) + body
    msg = bytes([0x02, 0x01, 0x01]) + op
    return bytes([0x30, len(msg)]) + msg


def ldap_dialog(*, result: int = 0, message: bytes = b"") -> Dialog:
    """RFC 4511 4.14: the StartTLS ExtendedRequest, answered with ``result`` (0: success)."""

    def run(conn: socket.socket, counter: Counter) -> bool:
        head = conn.recv(2)
        if len(head) < 2 or head[0] != 0x30:
            return False
        body = b""
        while len(body) < head[1]:
            chunk = conn.recv(head[1] - len(body))
            if not chunk:
                return False
            body += chunk
        if b"1.3.6.1.4.1.1466.20037" not in body:
            return False
        conn.sendall(_ldap_response(result, message))
        return result == 0

    return run


def postgres_dialog(*, accept: bool = True) -> Dialog:
    """PostgreSQL's SSLRequest (length 8, code 80877103) answered 'S' or 'N'."""

    def run(conn: socket.socket, counter: Counter) -> bool:
        request = b""
        while len(request) < 8:
            chunk = conn.recv(8 - len(request))
            if not chunk:
                return False
            request += chunk
        if request != bytes.fromhex("0000000804d2162f"):
            return False
        conn.sendall(b"S" if accept else b"N")
        return accept

    return run


def banner_dialog(payload: bytes, *, then_silent: float = 0.0) -> Dialog:
    """Sends ``payload`` (garbage, or nothing) and then waits: a greeting gone wrong."""

    def run(conn: socket.socket, counter: Counter) -> bool:
        if payload:
            conn.sendall(payload)
        if then_silent:
            conn.settimeout(then_silent)
            with contextlib.suppress(OSError):
                while conn.recv(1024):
                    pass
        return False

    return run


# --------------------------------------------------------------------------- Debian's dovecot

DOVECOT = shutil.which("dovecot") or shutil.which("dovecot", path="/usr/sbin:/sbin")


@dataclass
class Dovecot:
    imap_port: int
    pop3_port: int
    log: Path


@contextlib.contextmanager
def dovecot(
    workdir: Path, chain: Sequence[Issued], key: Issued, *, tls: bool = True
) -> Iterator[Dovecot]:
    """Debian's dovecot (imapd, pop3d) as a child process on two loopback ports, from a
    configuration this function writes, with the test's certificate: no system service, no
    system files. ``tls=False`` is a server with ``ssl = no``, which offers no STARTTLS."""
    if DOVECOT is None:
        raise RuntimeError("dovecot is not installed (scripts/system-deps.sh installs it)")
    imap_port, pop3_port = free_port(), free_port()
    (workdir / "cert.pem").write_bytes(b"".join(c.pem for c in chain))
    (workdir / "key.pem").write_bytes(key.key_pem)
    (workdir / "key.pem").chmod(0o600)
    users = ""
    if os.geteuid() != 0:  # dovecot runs its helpers as these users; as root it has its own
        me = getpass.getuser()
        users = f"default_internal_user = {me}\ndefault_login_user = {me}\n"
    config = f"""base_dir = {workdir}/run
state_dir = {workdir}/state
log_path = {workdir}/dovecot.log
protocols = imap pop3
listen = 127.0.0.1
ssl = {"yes" if tls else "no"}
ssl_cert = <{workdir}/cert.pem
ssl_key = <{workdir}/key.pem
ssl_min_protocol = TLSv1.2
auth_mechanisms = plain
{users}passdb {{
  driver = static
  args = password=test
}}
userdb {{
  driver = static
  args = uid=nobody gid=nogroup home={workdir}/home
}}
mail_location = maildir:{workdir}/home/Maildir
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {imap_port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
service pop3-login {{
  inet_listener pop3 {{
    address = 127.0.0.1
    port = {pop3_port}
  }}
  inet_listener pop3s {{
    port = 0
  }}
}}
"""
    path = workdir / "dovecot.conf"
    path.write_text(config)
    process = subprocess.Popen(
        [DOVECOT, "-F", "-c", str(path)],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        for port in (imap_port, pop3_port):
            wait_for_port(port, process)
        yield Dovecot(imap_port, pop3_port, workdir / "dovecot.log")
    finally:
        process.terminate()  # the master stops its helpers on SIGTERM
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)


# --------------------------------------------------------------------------- Debian's PostgreSQL


def postgres_bin() -> Path | None:
    """Debian's newest PostgreSQL server (``/usr/lib/postgresql/N/bin``), or None."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    return found[-1].parent if found else None


@contextlib.contextmanager
def postgresql(chain: Sequence[Issued], key: Issued, *, tls: bool = True) -> Iterator[int]:
    """A real PostgreSQL with ``ssl = on`` (or off) on a loopback port: ``initdb`` into a fresh
    folder (about a second), then the server as a child process. PostgreSQL refuses to run as
    root, so as root both run as ``nobody``. Yields the port."""
    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL is not installed (scripts/system-deps.sh installs it)")
    as_root = os.geteuid() == 0
    user = "nobody" if as_root else None
    workdir = Path(tempfile.mkdtemp(prefix="hd-pg-"))
    try:
        (workdir / "cert.pem").write_bytes(b"".join(c.pem for c in chain))
        (workdir / "key.pem").write_bytes(key.key_pem)
        (workdir / "key.pem").chmod(0o600)
        if as_root:
            for path in (workdir, workdir / "cert.pem", workdir / "key.pem"):
                shutil.chown(path, "nobody")
        subprocess.run(
            [
                str(bindir / "initdb"),
                "-D",
                str(workdir / "data"),
                "-A",
                "trust",
                "-U",
                "test",
                "--no-sync",
                "-E",
                "UTF8",
            ],
            user=user,
            cwd=workdir,
            check=True,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
        port = free_port()
        settings = {
            "listen_addresses": "127.0.0.1",
            "port": str(port),
            "unix_socket_directories": str(workdir),
            "ssl": "on" if tls else "off",
            "ssl_cert_file": str(workdir / "cert.pem"),
            "ssl_key_file": str(workdir / "key.pem"),
            "fsync": "off",
        }
        argv = [str(bindir / "postgres"), "-D", str(workdir / "data")]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        process = subprocess.Popen(
            argv,
            user=user,
            cwd=workdir,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_for_port(port, process, 20)
            yield port
        finally:
            process.terminate()  # "smart shutdown"; the check's connections are gone by now
            try:
                process.wait(15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
