"""A connected socket read and written under one deadline, for the small text protocols around a
check: an HTTP fetch of a certificate or an OCSP answer, a proxy's CONNECT, a SOCKS greeting.

Each of those talks to a stranger (a certificate's address, a proxy), so every wait is bounded by
the deadline and looks at the cancel flag in short slices, and every buffer has a cap. Failures
are one exception with a kind, which the caller turns into its own observation.
"""

from __future__ import annotations

import enum
import select
import socket
import ssl
import time

from core.budget import Budget, Cancelled, wait_slice

_READ_CHUNK = 16 * 1024


class StreamProblem(enum.StrEnum):
    TIMED_OUT = "timed-out"
    CLOSED = "closed"  # the peer ended the stream before what was needed arrived
    FAILED = "failed"  # the socket itself failed (reset, TLS error)
    TOO_LONG = "too-long"  # more than the cap before the expected end


class StreamError(Exception):
    def __init__(self, problem: StreamProblem, detail: str) -> None:
        super().__init__(detail)
        self.problem = problem
        self.detail = detail


class BoundedStream:
    """Reads and writes in slices until ``deadline`` (a ``time.monotonic()`` value)."""

    def __init__(self, sock: socket.socket, budget: Budget, deadline: float) -> None:
        self.sock: socket.socket = sock
        self._budget = budget
        self.deadline = deadline
        self.buffer = b""
        self._eof = False
        sock.setblocking(False)

    def close(self) -> None:
        self.sock.close()  # a TLS wrapper closes the socket under it too

    def _wait(self, *, write: bool) -> None:
        if self._budget.cancelled:
            raise Cancelled
        if time.monotonic() >= self.deadline:
            raise StreamError(StreamProblem.TIMED_OUT, "timed out")
        want = ([], [self.sock]) if write else ([self.sock], [])
        select.select(want[0], want[1], [], wait_slice(self.deadline))

    def start_tls(self, server_hostname: str) -> None:
        """Wrap in TLS without verification: used only where what is carried is verified on its
        own (a certificate against the trust stores, an OCSP answer by its signature)."""
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE  # the content is verified, see above
        tls = context.wrap_socket(
            self.sock, server_hostname=server_hostname, do_handshake_on_connect=False
        )
        self.sock = tls
        while True:
            try:
                tls.do_handshake()
                return
            except ssl.SSLWantReadError:
                self._wait(write=False)
            except ssl.SSLWantWriteError:
                self._wait(write=True)
            except (ssl.SSLError, OSError) as exc:
                raise StreamError(StreamProblem.FAILED, f"TLS failed ({exc})") from None

    def send_all(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                sent = self.sock.send(view)
            except (BlockingIOError, ssl.SSLWantWriteError, ssl.SSLWantReadError):
                self._wait(write=True)
                continue
            except OSError as exc:
                raise StreamError(StreamProblem.FAILED, exc.strerror or str(exc)) from None
            view = view[sent:]

    def fill(self) -> bool:
        """Read more into the buffer; False at the end of the stream."""
        if self._eof:
            return False
        while True:
            try:
                chunk = self.sock.recv(_READ_CHUNK)
            except (BlockingIOError, ssl.SSLWantReadError):
                self._wait(write=False)
                continue
            except ssl.SSLWantWriteError:
                self._wait(write=True)
                continue
            except ssl.SSLZeroReturnError:
                chunk = b""
            except OSError as exc:
                raise StreamError(StreamProblem.FAILED, exc.strerror or str(exc)) from None
            if not chunk:
                self._eof = True
                return False
            self.buffer += chunk
            return True

    def read_until(self, marker: bytes, limit: int) -> bytes:
        """Everything before ``marker`` (which is consumed), at most ``limit`` bytes of it."""
        while marker not in self.buffer:
            if len(self.buffer) > limit:
                raise StreamError(StreamProblem.TOO_LONG, f"more than {limit} bytes")
            if not self.fill():
                raise StreamError(StreamProblem.CLOSED, "the answer ended early")
        head, _, self.buffer = self.buffer.partition(marker)
        if len(head) > limit:
            raise StreamError(StreamProblem.TOO_LONG, f"more than {limit} bytes")
        return head

    def read_exact(self, count: int) -> bytes:
        while len(self.buffer) < count:
            if not self.fill():
                raise StreamError(StreamProblem.CLOSED, "the answer ended early")
        data, self.buffer = self.buffer[:count], self.buffer[count:]
        return data

    def read_to_end(self, cap: int) -> bytes:
        """Everything up to the end of the stream; more than ``cap`` bytes is an error."""
        while len(self.buffer) <= cap and self.fill():
            pass
        if len(self.buffer) > cap:
            raise StreamError(StreamProblem.TOO_LONG, f"more than {cap} bytes")
        data, self.buffer = self.buffer, b""
        return data

    def read_available(self, cap: int, wait_s: float) -> bytes:
        """What arrives within ``wait_s`` (and the deadline), up to ``cap`` bytes: for reading a
        refusal's body, which nobody promises to end."""
        until = min(self.deadline, time.monotonic() + wait_s)
        saved, self.deadline = self.deadline, until
        try:
            while len(self.buffer) < cap and self.fill():
                pass
        except StreamError:
            pass
        finally:
            self.deadline = saved
        data, self.buffer = self.buffer[:cap], self.buffer[cap:]
        return data
