"""Versions for the About box and bug reports: the app, Python, OpenSSL, Qt, cryptography and
the date of the certifi root bundle (the Mozilla trust list this build carries)."""

from __future__ import annotations

import platform
import re
import ssl


def app_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("handshake-doctor")
    except PackageNotFoundError:
        return "development copy"


def certifi_date() -> str:
    """certifi's version is the bundle's date (2026.10.19 → 2026-10-19)."""
    try:
        import certifi
    except ImportError:
        return "not installed"
    match = re.match(r"^(\d{4})\.(\d{1,2})\.(\d{1,2})", certifi.__version__)
    if not match:
        return certifi.__version__
    year, month, day = (int(g) for g in match.groups())
    return f"{year:04d}-{month:02d}-{day:02d}"


def versions() -> list[tuple[str, str]]:
    from PySide6 import __version__ as pyside_version
    from PySide6.QtCore import qVersion

    try:
        import cryptography

        crypto = cryptography.__version__
    except ImportError:
        crypto = "not installed"
    return [
        ("Handshake Doctor", app_version()),
        ("Python", f"{platform.python_version()} ({platform.python_implementation()})"),
        ("OpenSSL", ssl.OPENSSL_VERSION),
        ("Qt", f"{qVersion()} (PySide6 {pyside_version})"),
        ("cryptography", crypto),
        ("Mozilla root list (certifi)", certifi_date()),
        ("System", f"{platform.system()} {platform.release()}"),
    ]


def versions_text() -> str:
    return "\n".join(f"{name}: {value}" for name, value in versions())
