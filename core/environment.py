"""The facts about this computer that a support agent asks for first (shared/reference/
diagnosis.md §4): the OS, the TLS libraries and their versions, the trust bundle's date, and
whether a proxy is configured.

Proxy variables are reported by *name only*: their values often hold a user name and password
(``http://alice:secret@proxy:8080``). No host name, user name or path of this computer is
collected. Qt's version is passed in by the GUI side, because core never imports Qt.
"""

from __future__ import annotations

import contextlib
import os
import platform
import ssl
import sys
from collections.abc import Mapping
from dataclasses import dataclass
from importlib import metadata

__all__ = ["PROXY_VARIABLES", "Environment", "app_version", "collect_environment"]

#: The variables that route traffic through a proxy, in the spellings tools read.
PROXY_VARIABLES = (
    "HTTPS_PROXY",
    "https_proxy",
    "HTTP_PROXY",
    "http_proxy",
    "ALL_PROXY",
    "all_proxy",
    "NO_PROXY",
    "no_proxy",
)

#: Shown when a version cannot be told (a package missing, or run from a source checkout).
NOT_INSTALLED = "not installed"


@dataclass(frozen=True)
class Environment:
    app_version: str
    os: str
    python: str
    openssl: str
    cryptography: str
    cryptography_openssl: str
    certifi: str
    qt: str | None
    #: The names of the proxy variables that are set (values are never read out).
    proxy_variables_set: tuple[str, ...]

    def rows(self) -> tuple[tuple[str, str], ...]:
        """(label, value) pairs in the order a support agent reads them."""
        proxies = ", ".join(self.proxy_variables_set) if self.proxy_variables_set else "none set"
        return (
            ("Handshake Doctor", self.app_version),
            ("Operating system", self.os),
            ("Python", self.python),
            ("OpenSSL (Python's ssl)", self.openssl),
            ("cryptography", f"{self.cryptography} ({self.cryptography_openssl})"),
            ("certifi (Mozilla trust bundle date)", self.certifi),
            ("Qt", self.qt or "not loaded"),
            ("Proxy variables", proxies),
        )


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return NOT_INSTALLED


def app_version() -> str:
    """The installed version of handshake-doctor, or a plain note when run from a checkout."""
    found = _version("handshake-doctor")
    return found if found != NOT_INSTALLED else "unknown (not installed; run from source)"


def _os_name() -> str:
    if sys.platform == "win32":
        release, build, _csd, _ptype = platform.win32_ver()
        return f"Windows {release} (build {build})"
    if sys.platform == "darwin":
        release, _info, machine = platform.mac_ver()
        return f"macOS {release} ({machine})"
    pretty = ""
    with contextlib.suppress(OSError):
        pretty = platform.freedesktop_os_release().get("PRETTY_NAME", "")
    kernel = f"{platform.system()} {platform.release()} ({platform.machine()})"
    return f"{pretty}, {kernel}" if pretty else kernel


def _cryptography_openssl() -> str:
    try:
        from cryptography.hazmat.backends.openssl import backend

        return str(backend.openssl_version_text())
    except Exception:  # a report is still useful without this one line
        return "OpenSSL version unknown"


def collect_environment(
    *, qt_version: str | None = None, environ: Mapping[str, str] | None = None
) -> Environment:
    """Read the facts once. ``environ`` defaults to ``os.environ`` (tests pass their own)."""
    env = os.environ if environ is None else environ
    return Environment(
        app_version=app_version(),
        os=_os_name(),
        python=f"{platform.python_implementation()} {platform.python_version()}",
        openssl=ssl.OPENSSL_VERSION,
        cryptography=_version("cryptography"),
        cryptography_openssl=_cryptography_openssl(),
        certifi=_version("certifi"),
        qt=qt_version,
        proxy_variables_set=_proxies_set(env),
    )


def _proxies_set(env: Mapping[str, str]) -> tuple[str, ...]:
    # Windows folds variable names to upper case: report each variable once.
    seen: dict[str, str] = {}
    for name in PROXY_VARIABLES:
        if env.get(name) and name.lower() not in seen:
            seen[name.lower()] = name
    return tuple(seen.values())
