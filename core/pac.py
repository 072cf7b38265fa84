"""A proxy auto-config (PAC) file's answer for one site, as the user's browser would get it.

The PAC file is JavaScript written by whoever runs the network (or, on a hostile network, by a
stranger), evaluated with pypac, a maintained PAC library (QuickJS-compatible dukpy inside).
JavaScript cannot be interrupted from another thread, so a PAC file that loops forever would hold
the check for good: it is evaluated in a child process of our own, which is killed at the step's
timeout. The child is this same program (``handshake-doctor __pac-eval`` when frozen,
``python -m core.pac`` otherwise), so the bundle needs nothing more.
"""

from __future__ import annotations

import json
import subprocess
import sys
from dataclasses import dataclass

from core.models import ProxyEndpoint, ProxyScheme

#: A PAC file is a few KB of JavaScript; past this it is not one.
MAX_PAC_BYTES = 256 * 1024
#: The hidden command of the frozen app that evaluates one PAC file (see handshake_doctor.main).
PAC_COMMAND = "__pac-eval"


class PacError(Exception):
    """The PAC file gave no answer: the message says why (timed out, a JavaScript error, ...)."""


@dataclass(frozen=True)
class PacAnswer:
    """The first usable entry of ``FindProxyForURL``'s answer; ``proxy`` None means DIRECT."""

    proxy: ProxyEndpoint | None
    raw: str  # the whole answer, e.g. "PROXY proxy.corp:3128; DIRECT"


def parse_pac_result(raw: str) -> PacAnswer:
    """``PROXY h:p; SOCKS5 h:p; DIRECT``: the first entry this check can take."""
    for entry in (part.strip() for part in raw.split(";")):
        if not entry:
            continue
        kind, _, where = entry.partition(" ")
        kind = kind.upper()
        if kind == "DIRECT":
            return PacAnswer(None, raw)
        scheme = {
            "PROXY": ProxyScheme.HTTP,
            "HTTP": ProxyScheme.HTTP,
            "SOCKS": ProxyScheme.SOCKS5,
            "SOCKS5": ProxyScheme.SOCKS5,
        }.get(kind)
        host, _, port = where.strip().rpartition(":")
        if scheme is None or not host or not port.isdigit() or not 0 < int(port) < 65536:
            continue  # HTTPS proxies, SOCKS4, garbage: not a path we can take
        return PacAnswer(ProxyEndpoint(scheme, host.strip("[]").lower(), int(port)), raw)
    raise PacError(f"the PAC file answered {raw[:120]!r}, which names no usable proxy")


def _child_argv() -> list[str]:
    if getattr(sys, "frozen", False):
        return [sys.executable, PAC_COMMAND]
    return [sys.executable, "-m", "core.pac"]


def evaluate(pac_text: str, url: str, host: str, timeout_s: float) -> PacAnswer:
    """``FindProxyForURL(url, host)`` of ``pac_text``, in a child killed after ``timeout_s``."""
    if len(pac_text) > MAX_PAC_BYTES:
        raise PacError(f"the PAC file is larger than {MAX_PAC_BYTES // 1024} KB")
    request = json.dumps({"pac": pac_text, "url": url, "host": host})
    try:
        done = subprocess.run(
            _child_argv(),
            input=request,
            capture_output=True,
            text=True,
            timeout=timeout_s,
            check=False,
        )
    except subprocess.TimeoutExpired:
        raise PacError(f"the PAC file gave no answer within {timeout_s:g} s") from None
    except OSError as exc:
        raise PacError(f"the PAC file could not be evaluated ({exc.strerror or exc})") from None
    try:
        answer = json.loads(done.stdout or "{}")
    except ValueError:
        answer = {}
    if "error" in answer:
        raise PacError(f"the PAC file failed: {str(answer['error'])[:200]}")
    if "result" not in answer:
        raise PacError("the PAC file could not be evaluated")
    return parse_pac_result(str(answer["result"]))


def child_main() -> int:
    """The child: one request as JSON on stdin, one answer as JSON on stdout."""
    request = json.loads(sys.stdin.read())
    try:
        from pypac.parser import PACFile  # type: ignore[import-untyped]

        result = PACFile(request["pac"]).find_proxy_for_url(request["url"], request["host"])
    except Exception as exc:  # the PAC file's own error, reported to the parent as data
        sys.stdout.write(json.dumps({"error": f"{type(exc).__name__}: {exc}"}))
        return 0
    sys.stdout.write(json.dumps({"result": str(result)}))
    return 0


if __name__ == "__main__":
    sys.exit(child_main())
