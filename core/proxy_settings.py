"""Which proxy the user's apps would take to a site, found the way they find it: ``--proxy`` or
``--no-proxy``; then the environment (``https_proxy``, ``ALL_PROXY``, ``NO_PROXY``); then the
operating system's settings (Windows and macOS as the standard library reads them, GNOME's
``org.gnome.system.proxy``, KDE's ``kioslaverc``).

The readers of the outside world are passed in (an environment mapping, a ``gsettings`` reader,
the text of ``kioslaverc``), so every rule here is a pure function with its own tests. Apps
disagree on the environment's details (shared/reference/clients-and-paths.md §10); the choices
made here follow curl, the tool a support ticket most often quotes: lowercase wins over uppercase,
``NO_PROXY`` matches a name and its subdomains, ``*`` matches everything, and IP and CIDR entries
are understood (as newer curl and Go do).
"""

from __future__ import annotations

import enum
import ipaddress
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from core.probe.tunnel import ProxyEndpoint, ProxyScheme

_DEFAULT_PORTS = {ProxyScheme.HTTP: 8080, ProxyScheme.SOCKS5: 1080, ProxyScheme.SOCKS5H: 1080}
_SCHEME_ALIASES = {"socks": ProxyScheme.SOCKS5H, "socks5": ProxyScheme.SOCKS5}


class ProxySource(enum.StrEnum):
    """The contract's ``path.proxy_source``."""

    OPTION = "option"
    ENV = "env"
    SYSTEM = "system"
    PAC = "pac"


class ProxyUrlError(ValueError):
    """A proxy setting that cannot be used: the message says what is wrong with it, ``setting``
    where it was read (``--proxy``, ``HTTPS_PROXY``, ...), for the caller to word."""

    def __init__(self, message: str, setting: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.setting = setting

    def at(self, setting: str) -> ProxyUrlError:
        return ProxyUrlError(self.message, setting)


@dataclass(frozen=True)
class ProxyChoice:
    """The proxy for one target (None: a direct connection), and where that decision came from.

    ``setting`` names the exact place (``HTTPS_PROXY``, ``--proxy``, ``GNOME proxy settings``) so
    the evidence can tell the user what to change; ``bypass`` the rule that sent the target
    direct although a proxy is set (``NO_PROXY=.corp.example``).
    """

    proxy: ProxyEndpoint | None
    source: ProxySource | None
    setting: str | None = None
    bypass: str | None = None
    #: The PAC file's address where the settings name one (source ``pac``): the proxy is its
    #: answer for this site, asked by core.pac.
    pac_url: str | None = None
    #: Why the PAC file gave no answer (it could not be read or evaluated): the apps that use it
    #: are as stuck as a proxy that does not answer.
    pac_failure: str | None = None


DIRECT = ProxyChoice(None, None)


def parse_proxy_url(text: str, *, default_scheme: ProxyScheme = ProxyScheme.HTTP) -> ProxyEndpoint:
    """``http://[user:pass@]host:port``, ``socks5://``, ``socks5h://``; a bare ``host:port`` is
    taken as ``default_scheme`` (as curl and the environment's users expect)."""
    raw = text.strip()
    if not raw:
        raise ProxyUrlError("the proxy address is empty")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in raw) or not raw.isascii():
        raise ProxyUrlError("the proxy address contains spaces or characters it cannot hold")
    if "://" not in raw:
        raw = f"{default_scheme.value}://{raw}"
    parts = urllib.parse.urlsplit(raw)
    scheme_word = parts.scheme.lower()
    scheme = _SCHEME_ALIASES.get(scheme_word)
    if scheme is None:
        try:
            scheme = ProxyScheme(scheme_word)
        except ValueError:
            if scheme_word == "https":
                raise ProxyUrlError(
                    "an https:// proxy (TLS to the proxy itself) is not supported; "
                    "use http://, socks5:// or socks5h://"
                ) from None
            raise ProxyUrlError(
                f"unknown proxy scheme {scheme_word!r}; use http://, socks5:// or socks5h://"
            ) from None
    try:
        port = parts.port
    except ValueError:
        raise ProxyUrlError("the proxy's port must be a number from 1 to 65535") from None
    host = parts.hostname
    if not host:
        raise ProxyUrlError("the proxy address has no host")
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise ProxyUrlError("a proxy address is scheme://host:port, without a path")
    if port == 0:
        raise ProxyUrlError("the proxy's port must be a number from 1 to 65535")
    user = urllib.parse.unquote(parts.username) if parts.username is not None else None
    password = urllib.parse.unquote(parts.password) if parts.password is not None else None
    return ProxyEndpoint(scheme, host.lower(), port or _DEFAULT_PORTS[scheme], user, password)


# --------------------------------------------------------------------------- NO_PROXY


def no_proxy_rule(no_proxy: str, host: str, port: int) -> str | None:
    """The ``NO_PROXY`` entry that sends ``host:port`` direct, or None."""
    name = host.lower().rstrip(".").strip("[]")
    try:
        ip = ipaddress.ip_address(name)
    except ValueError:
        ip = None
    for entry in (e.strip() for e in no_proxy.split(",")):
        if not entry:
            continue
        if entry == "*":
            return entry
        pattern, entry_port = _split_port(entry.lower())
        if entry_port is not None and entry_port != port:
            continue
        if ip is not None:
            try:
                if ip in ipaddress.ip_network(pattern.strip("[]"), strict=False):
                    return entry
            except ValueError:
                pass
            continue
        domain = pattern.lstrip("*").lstrip(".").rstrip(".")
        if domain and (name == domain or name.endswith("." + domain)):
            return entry
    return None


def _split_port(entry: str) -> tuple[str, int | None]:
    if entry.startswith("["):  # [::1]:443
        host, _, rest = entry[1:].partition("]")
        return host, int(rest[1:]) if rest.startswith(":") and rest[1:].isdigit() else None
    if entry.count(":") == 1:
        host, _, port = entry.partition(":")
        if port.isdigit():
            return host, int(port)
    return entry, None


# --------------------------------------------------------------------------- the environment


def _first(env: Mapping[str, str], *names: str) -> tuple[str, str] | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return name, value
    return None


def from_environment(env: Mapping[str, str], host: str, port: int) -> ProxyChoice | None:
    """The environment's proxy for an https target; None when the environment sets none."""
    found = _first(env, "https_proxy", "HTTPS_PROXY", "all_proxy", "ALL_PROXY")
    if found is None:
        return None
    name, value = found
    bypass = _first(env, "no_proxy", "NO_PROXY")
    if bypass is not None:
        rule = no_proxy_rule(bypass[1], host, port)
        if rule is not None:
            return ProxyChoice(None, ProxySource.ENV, name, f"{bypass[0]}={rule}")
    try:
        proxy = parse_proxy_url(value)
    except ProxyUrlError as exc:
        raise exc.at(name) from None
    return ProxyChoice(proxy, ProxySource.ENV, name)


# --------------------------------------------------------------------------- desktop settings

#: ``gsettings get SCHEMA KEY`` without the process: returns the printed value or None.
GSettingsReader = Callable[[str, str], str | None]


def _gvariant_text(value: str | None) -> str:
    """``'proxy.corp'`` → ``proxy.corp``; ``uint32 8080`` → ``8080``."""
    if value is None:
        return ""
    text = value.strip()
    for prefix in ("uint32 ", "int32 "):
        text = text.removeprefix(prefix)
    return text.strip("'\"")


def _gvariant_list(value: str | None) -> list[str]:
    text = (value or "").strip().removeprefix("@as ")
    if not (text.startswith("[") and text.endswith("]")):
        return []
    return [item.strip().strip("'\"") for item in text[1:-1].split(",") if item.strip()]


def from_gnome(read: GSettingsReader, host: str, port: int) -> ProxyChoice | None:
    """GNOME's manual proxy (what Firefox and GNOME apps on Linux use); None when unset.

    An automatic (PAC) setting is reported as found but not evaluated: its address is in
    ``setting`` so the evidence can say so rather than pretend the path is direct.
    """
    mode = _gvariant_text(read("org.gnome.system.proxy", "mode"))
    if mode == "auto":
        pac = _gvariant_text(read("org.gnome.system.proxy", "autoconfig-url"))
        return ProxyChoice(
            None,
            ProxySource.PAC,
            f"GNOME proxy settings (PAC {pac or 'WPAD'})",
            pac_url=pac or None,
        )
    if mode != "manual":
        return None
    ignore = _gvariant_list(read("org.gnome.system.proxy", "ignore-hosts"))
    rule = no_proxy_rule(",".join(ignore), host, port)
    if rule is not None:
        return ProxyChoice(None, ProxySource.SYSTEM, "GNOME proxy settings", f"ignore-hosts {rule}")
    for schema, scheme in (
        ("org.gnome.system.proxy.https", ProxyScheme.HTTP),
        ("org.gnome.system.proxy.socks", ProxyScheme.SOCKS5),
    ):
        proxy_host = _gvariant_text(read(schema, "host"))
        proxy_port = _gvariant_text(read(schema, "port"))
        if proxy_host and proxy_port.isdigit() and int(proxy_port) > 0:
            proxy = ProxyEndpoint(scheme, proxy_host.lower(), int(proxy_port))
            return ProxyChoice(proxy, ProxySource.SYSTEM, "GNOME proxy settings")
    return None


def from_kde(kioslaverc: str, host: str, port: int) -> ProxyChoice | None:
    """KDE's ``[Proxy Settings]``: ProxyType 1 is manual, 2 a PAC script (found, not evaluated)."""
    section: dict[str, str] = {}
    current = None
    for line in kioslaverc.splitlines():
        stripped = line.strip()
        if stripped.startswith("[") and stripped.endswith("]"):
            current = stripped[1:-1]
            continue
        if current == "Proxy Settings" and "=" in stripped:
            key, _, value = stripped.partition("=")
            section[key.strip()] = value.strip()
    kind = section.get("ProxyType", "0")
    if kind == "2":
        script = section.get("Proxy Config Script", "")
        return ProxyChoice(
            None,
            ProxySource.PAC,
            f"KDE proxy settings (PAC {script or '?'})",
            pac_url=script or None,
        )
    if kind != "1":
        return None
    rule = no_proxy_rule(section.get("NoProxyFor", ""), host, port)
    if rule is not None and section.get("ReversedException", "false").lower() != "true":
        return ProxyChoice(None, ProxySource.SYSTEM, "KDE proxy settings", f"NoProxyFor {rule}")
    value = section.get("httpsProxy", "").replace(" ", ":")
    if value:
        try:
            proxy = parse_proxy_url(value)
        except ProxyUrlError as exc:
            raise exc.at("KDE proxy settings") from None
        return ProxyChoice(proxy, ProxySource.SYSTEM, "KDE proxy settings")
    return None


def from_platform(
    proxies: Mapping[str, str], bypassed: bool, platform_name: str
) -> ProxyChoice | None:
    """Windows' or macOS' static settings as ``urllib.request.getproxies()`` reads them there
    (``proxies``), with ``bypassed`` from ``urllib.request.proxy_bypass(host)``."""
    value = proxies.get("https") or proxies.get("socks")
    if not value:
        return None
    where = f"{platform_name} proxy settings"
    if bypassed:
        return ProxyChoice(None, ProxySource.SYSTEM, where, "the bypass list")
    default = ProxyScheme.HTTP if proxies.get("https") else ProxyScheme.SOCKS5
    try:
        proxy = parse_proxy_url(value, default_scheme=default)
    except ProxyUrlError as exc:
        raise exc.at(where) from None
    return ProxyChoice(proxy, ProxySource.SYSTEM, where)


def choose_proxy(
    host: str,
    port: int,
    *,
    option: str | None = None,
    no_proxy: bool = False,
    env: Mapping[str, str] | None = None,
    system: Sequence[Callable[[], ProxyChoice | None]] = (),
) -> ProxyChoice:
    """The first source that decides, in the order the user's apps look: the option, the
    environment, then each system reader. Raises :class:`ProxyUrlError` for a setting that is
    present and unusable: checking direct instead would check a path the user's apps do not take.
    """
    if no_proxy:
        return ProxyChoice(None, ProxySource.OPTION, "--no-proxy")
    if option is not None:
        try:
            return ProxyChoice(parse_proxy_url(option), ProxySource.OPTION, "--proxy")
        except ProxyUrlError as exc:
            raise exc.at("--proxy") from None
    if env is not None:
        found = from_environment(env, host, port)
        if found is not None:
            return found
    for reader in system:
        found = reader()
        if found is not None:
            return found
    return DIRECT


# --------------------------------------------------------------------------- reading this computer


def _gsettings_reader(timeout_s: float = 1.0) -> GSettingsReader | None:
    import shutil
    import subprocess

    binary = shutil.which("gsettings")
    if binary is None:
        return None

    def read(schema: str, key: str) -> str | None:
        try:
            done = subprocess.run(
                [binary, "get", schema, key],
                capture_output=True,
                text=True,
                timeout=timeout_s,
                check=False,
            )
        except (OSError, subprocess.SubprocessError):
            return None
        return done.stdout.strip() if done.returncode == 0 else None

    return read


def system_readers(
    host: str, port: int, env: Mapping[str, str]
) -> list[Callable[[], ProxyChoice | None]]:
    """This computer's own settings, in the order its apps consult them."""
    import sys
    import urllib.request
    from pathlib import Path

    readers: list[Callable[[], ProxyChoice | None]] = []
    if sys.platform in ("win32", "darwin"):
        name = "Windows" if sys.platform == "win32" else "macOS"
        readers.append(
            lambda: from_platform(
                urllib.request.getproxies(), bool(urllib.request.proxy_bypass(host)), name
            )
        )
        return readers
    desktop = env.get("XDG_CURRENT_DESKTOP", "").upper()
    if "KDE" in desktop:
        config = Path(env.get("XDG_CONFIG_HOME") or Path.home() / ".config") / "kioslaverc"

        def kde() -> ProxyChoice | None:
            try:
                text = config.read_text(encoding="utf-8", errors="replace")
            except OSError:
                return None
            return from_kde(text, host, port)

        readers.append(kde)
    elif desktop:
        gsettings = _gsettings_reader()
        if gsettings is not None:
            readers.append(lambda: from_gnome(gsettings, host, port))
    return readers
