"""The OS's own verdict on a chain, where the OS has a verifier a library can ask.

Why beside our own analysis: Windows' CryptoAPI and macOS' Security framework apply rules no
store file shows (Windows' automatic root update, Apple's distrust and constraint lists, the
admin's policies), and they are what browsers other than Firefox, and most apps, ask. Their
answer is the truest "does this computer's software accept it"; our analysis says why.

truststore (PyPI, maintained by the Python packaging community) wraps both; it is imported
only when a check asks, and only on Windows and macOS. Its per-platform function
``_verify_peercerts_impl(ssl_context, cert_chain, server_hostname)`` is not public API yet
(the project's unreleased ``truststore.hazmat.verify_cert_chain`` wraps the same call); if a
release moves it, the verdict is None ("not asked"), never a wrong answer.

On Linux there is no separate OS verifier: programs verify with OpenSSL (or GnuTLS, NSS) and
the system store, which is exactly the "this computer" column; truststore's Linux function does
nothing, so it is not asked there and the verdict is None.
"""

from __future__ import annotations

import ssl
import sys
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass

#: (ssl_context, cert_chain as DER, server_hostname) -> None, raising on refusal.
Verify = Callable[[ssl.SSLContext, list[bytes], "str | None"], None]

VERIFIERS = {
    "win32": "Windows (CertGetCertificateChain)",
    "darwin": "macOS (SecTrustEvaluateWithError)",
}


@dataclass(frozen=True, repr=False, eq=False)
class OsVerdict:
    #: Which OS verifier answered, for people: "Windows (CertGetCertificateChain)".
    verifier: str
    #: True: the OS accepts the chain for this host; False: it refuses it; None: no answer in
    #: time (the OS may fetch certificates or revocation data itself).
    trusted: bool | None
    #: The OS's own words when it refuses, or why there was no answer.
    detail: str | None = None


def platform_verify() -> tuple[str, Verify] | None:
    """This OS's verifier through truststore, or None (Linux, or truststore missing or moved)."""
    name = VERIFIERS.get(sys.platform)
    if name is None:
        return None
    # A plain str: mypy would otherwise judge the Windows and macOS branches unreachable here.
    platform: str = sys.platform
    try:
        if platform == "win32":
            import truststore._windows as module  # type: ignore[import-not-found,unused-ignore]
        else:
            import truststore._macos as module  # type: ignore[import-not-found,unused-ignore,no-redef]
        verify: Verify = module._verify_peercerts_impl
    except (ImportError, AttributeError, OSError):  # not installed, or moved; OSError: no library
        return None
    return name, verify


def ask_os(
    chain: Sequence[bytes],
    host: str | None,
    *,
    timeout: float,
    verifier: tuple[str, Verify] | None = None,
) -> OsVerdict | None:
    """The OS's verdict on ``chain`` (DER, leaf first, as the server sent it) for ``host``;
    None where there is no OS verifier to ask. Bounded by ``timeout``: the OS may go to the
    network itself (AIA, revocation), and a check must not wait on it without a bound; a late
    answer is dropped with the thread that waits for it."""
    found = verifier or platform_verify()
    if found is None or not chain:
        return None
    name, verify = found
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # check_hostname on, CERT_REQUIRED
    answer: list[OsVerdict] = []

    def run() -> None:
        try:
            verify(context, list(chain), host)
        except ssl.SSLCertVerificationError as exc:
            answer.append(OsVerdict(name, False, _words(exc)))
        except (ssl.SSLError, OSError, ValueError) as exc:
            answer.append(OsVerdict(name, None, f"the OS verifier failed: {_words(exc)}"))
        else:
            answer.append(OsVerdict(name, True))

    worker = threading.Thread(target=run, name="os-verifier", daemon=True)
    worker.start()
    worker.join(timeout)
    if answer:
        return answer[0]
    return OsVerdict(name, None, f"no answer within {timeout:g} s")


def _words(exc: BaseException) -> str:
    text = getattr(exc, "verify_message", None) or str(exc) or type(exc).__name__
    return text[:300]
