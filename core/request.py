"""What a person asks for (the command line's options or the window's form), checked.

The command line and the window fill one ``RequestSpec`` and ask ``validate`` whether it can be
checked. A problem is a ``RequestError``: the field it is about, its kind and the facts behind
it, never a sentence. The catalogue words it, for the command line (naming its options) or for
the window (naming its fields), so neither has to rewrite the other's sentences.

``validate`` is quick enough for the window's GUI thread; ``load_credentials`` (a PKCS#12
password costs a key derivation) and ``load_trust`` (the CA file, read once per check, and the
default stores) run where the check runs, before it starts.
"""

from __future__ import annotations

import enum
import os
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from core.models import DEFAULT_TIME_SERVERS, CheckOptions, ClientCredentials, Target
from core.target import TargetError, TargetProblem, parse_target, with_connect

if TYPE_CHECKING:
    from core.trust import TrustStores

DEFAULT_TIMEOUT = 10.0


class RequestProblem(enum.StrEnum):
    """Every way a request can be unusable; the catalogue's ``requests`` section words each.

    (ruff's S105 mistakes the kinds that name passwords for hard-coded passwords.)"""

    TARGET = "target"
    CONNECT = "connect"
    CONNECT_EMPTY = "connect_empty"
    NEEDS_CA_FILE = "needs_ca_file"
    CA_FILE_MISSING = "ca_file_missing"
    CA_FILE_UNUSABLE = "ca_file_unusable"
    KEY_WITHOUT_CERT = "key_without_cert"
    PASSWORD_WITHOUT_CERT = "password_without_cert"  # noqa: S105
    BAD_ENV_NAME = "bad_env_name"
    ENV_NOT_SET = "env_not_set"
    #: ``inspect --password-env``: the same fact, without the check's option before it.
    PASSWORD_ENV_NOT_SET = "password_env_not_set"  # noqa: S105
    TIME_SERVER = "time_server"
    DNS_SERVER = "dns_server"
    PROXY = "proxy"
    PROXY_SETTING = "proxy_setting"
    PORTAL_URL = "portal_url"
    UNKNOWN_CLIENT = "unknown_client"
    # The client certificate and its key (core.credentials).
    FILE_MISSING = "file_missing"
    FILE_FOLDER = "file_folder"
    FILE_SPECIAL = "file_special"
    FILE_UNREADABLE = "file_unreadable"
    FILE_TOO_LARGE = "file_too_large"
    NO_CERTIFICATE = "no_certificate"
    KEY_MISSING = "key_missing"
    KEY_NEEDS_PASSWORD = "key_needs_password"  # noqa: S105
    CERT_UNREADABLE = "cert_unreadable"
    KEY_MISMATCH = "key_mismatch"
    BUNDLE_KEY_MISMATCH = "bundle_key_mismatch"
    PKCS12_STALL = "pkcs12_stall"
    PKCS12_UNREADABLE = "pkcs12_unreadable"
    KEY_STALL = "key_stall"
    NEEDS_PASSWORD = "needs_password"  # noqa: S105
    PKCS12_INCOMPLETE = "pkcs12_incomplete"


class RequestError(ValueError):
    """A request that cannot be checked: the ``RequestSpec`` field it is about, what is wrong,
    and the facts the sentence needs. ``str()`` is the command line's sentence."""

    def __init__(self, field_name: str, kind: RequestProblem, **facts: str) -> None:
        super().__init__(field_name, kind)
        self.field = field_name
        self.kind = kind
        self.facts: Mapping[str, str] = MappingProxyType(facts)

    def words(self, audience: str = "cli") -> str:
        from core.catalogue import Audience, load_catalogue

        return load_catalogue().request_text(self.kind, self.facts, Audience(audience))

    def __str__(self) -> str:
        return self.words("cli")


@dataclass(frozen=True)
class RequestSpec:
    """The request as typed: text fields hold what the person wrote ("" when empty); ``connect``
    and ``time_server`` are None when not given, so that a given-but-empty one can be refused."""

    host: str = ""
    port: int | None = None
    connect: str | None = None
    ca_file: str = ""
    no_default_trust: bool = False
    client_cert: str = ""
    client_key: str = ""
    #: Held in memory only: never written to QSettings, never logged (repr hides it). Empty
    #: means "none" when ``client_password_env`` is not set either.
    client_password: str = field(default="", repr=False)
    #: The command line's ``--client-cert-password-env``: read when the password is needed.
    client_password_env: str | None = None
    timeout: float = DEFAULT_TIMEOUT
    time_server: str | None = None
    no_network_time: bool = False
    quick: bool = False
    gentle: bool = False
    #: ``--dns-server``: empty asks the system's resolvers.
    dns_server: str = ""
    #: ``--proxy``: empty finds the proxy as the user's apps do (``no_proxy``: none at all).
    proxy: str = field(default="", repr=False)  # may hold a password
    no_proxy: bool = False
    #: ``--portal-url``: None is the default probe (PORTAL_URL_ENV, else Firefox's); "none"
    #: skips the probe.
    portal_url: str | None = None
    #: ``--client``: the app that showed the error, an id of ``client_ids()``; None or ""
    #: is "I don't know".
    client: str | None = None
    #: ``--starttls PROTO``: empty lets the address's scheme or well-known port decide.
    starttls: str = ""

    def with_host(self, host: str) -> RequestSpec:
        return replace(self, host=host)


def client_ids() -> tuple[str, ...]:
    """The apps ``--client`` and the window's app list can name (resources/client_facts.json)."""
    from core.analyze.clients import app_ids

    return app_ids()


_STARTTLS_PROBLEMS = frozenset({TargetProblem.UNKNOWN_STARTTLS, TargetProblem.STARTTLS_CONFLICT})


def path_of(text: str) -> Path | None:
    """A typed path ("~" expanded), or None for an empty field."""
    return Path(os.path.expanduser(text)) if text.strip() else None


def validate(spec: RequestSpec) -> tuple[Target, CheckOptions]:
    """The engine's request, without the client credentials (see ``load_credentials``).
    Raises RequestError."""
    try:
        target = parse_target(spec.host, spec.port, spec.starttls or None)
    except TargetError as exc:
        about = "starttls" if exc.kind in _STARTTLS_PROBLEMS else "host"
        raise RequestError(about, RequestProblem.TARGET, reason=str(exc)) from None
    if spec.connect is not None:
        if not spec.connect.strip():
            raise RequestError("connect", RequestProblem.CONNECT_EMPTY)
        try:
            target = with_connect(target, spec.connect)
        except TargetError as exc:
            raise RequestError("connect", RequestProblem.CONNECT, reason=str(exc)) from None
    ca_file = path_of(spec.ca_file)
    if spec.no_default_trust and ca_file is None:
        raise RequestError("ca_file", RequestProblem.NEEDS_CA_FILE)
    if ca_file is not None and not ca_file.exists():
        raise RequestError("ca_file", RequestProblem.CA_FILE_MISSING, path=str(ca_file))
    if spec.client_password_env is not None:
        env_name(spec.client_password_env, "--client-cert-password-env")
    cert, key = path_of(spec.client_cert), path_of(spec.client_key)
    if cert is None:
        if key is not None:
            raise RequestError("client_cert", RequestProblem.KEY_WITHOUT_CERT)
        if spec.client_password_env is not None:
            raise RequestError("password", RequestProblem.PASSWORD_WITHOUT_CERT)
    for name, path, what in (
        ("client_cert", cert, "client certificate"),
        ("client_key", key, "client key"),
    ):
        if path is not None and not path.exists():
            raise RequestError(name, RequestProblem.FILE_MISSING, what=what, path=str(path))
    time_servers: tuple[str, ...] = DEFAULT_TIME_SERVERS
    if spec.time_server is not None:
        from core.probe.sntp import parse_server

        try:
            parse_server(spec.time_server)
        except ValueError as exc:
            raise RequestError("time_server", RequestProblem.TIME_SERVER, reason=str(exc)) from None
        time_servers = (spec.time_server,)
    dns_server = None
    if spec.dns_server.strip():
        from core.route import DnsServerError, parse_dns_server

        try:
            dns_server = parse_dns_server(spec.dns_server)
        except DnsServerError as exc:
            raise RequestError("dns_server", RequestProblem.DNS_SERVER, reason=str(exc)) from None
    proxy = None
    if spec.proxy.strip() and not spec.no_proxy:  # "connect directly" wins over a typed proxy
        from core.proxy_settings import ProxyUrlError, parse_proxy_url

        try:
            proxy = parse_proxy_url(spec.proxy)
        except ProxyUrlError as exc:
            raise RequestError("proxy", RequestProblem.PROXY, reason=exc.message) from None
    client = (spec.client or "").strip() or None
    if client is not None and client not in client_ids():
        from core.untrusted import visible

        raise RequestError(
            "client",
            RequestProblem.UNKNOWN_CLIENT,
            client=repr(visible(client, limit=40)),
            known=", ".join(client_ids()),
        )
    options = CheckOptions(
        client=client,
        ca_file=ca_file,
        no_default_trust=spec.no_default_trust,
        timeout=spec.timeout,
        time_servers=time_servers,
        no_network_time=spec.no_network_time,
        quick=spec.quick,
        gentle=spec.gentle,
        dns_server=dns_server,
        proxy=proxy,
        no_proxy=spec.no_proxy,
        system_proxy=True,
        portal_url=_portal_url(spec.portal_url),
    )
    return target, options


#: Where an administrator (or a test) sets the default portal probe, where the public one is
#: blocked or must not be asked; ``none`` turns the probe off by default.
PORTAL_URL_ENV = "HANDSHAKE_DOCTOR_PORTAL_URL"


def _portal_url(given: str | None) -> str | None:
    text = given if given is not None else os.environ.get(PORTAL_URL_ENV)
    if text is None:
        from core.analyze.portal import default_probe_url

        return default_probe_url()
    text = text.strip()
    if text.lower() in ("", "none", "off"):
        return None
    from core.cert_urls import FetchUrl, describe_url_problem, parse_fetch_url

    parsed = parse_fetch_url(text)
    if not isinstance(parsed, FetchUrl):
        raise RequestError(
            "portal_url", RequestProblem.PORTAL_URL, reason=describe_url_problem(parsed)
        )
    if parsed.scheme != "http":
        raise RequestError(
            "portal_url",
            RequestProblem.PORTAL_URL,
            reason="the probe must be a plain http:// address: a portal cannot answer https",
        )
    return text


def load_credentials(spec: RequestSpec, *, prompt: bool) -> ClientCredentials | None:
    """The client certificate and key the request names, or None. The password is the
    variable ``client_password_env`` when named, else the one typed; with ``prompt`` (the
    command line) an untyped one is asked for on a terminal, and only when needed. The window
    never prompts: its empty Password field means "no password". Raises RequestError
    (``core.credentials.CredentialsError``)."""
    cert = path_of(spec.client_cert)
    if cert is None:
        return None
    from core.credentials import load_client_credentials

    key = path_of(spec.client_key)
    if spec.client_password_env is not None or (prompt and not spec.client_password):
        return load_client_credentials(cert, key, password_env=spec.client_password_env)
    return load_client_credentials(cert, key, password=spec.client_password.encode())


def with_credentials(spec: RequestSpec, options: CheckOptions, *, prompt: bool) -> CheckOptions:
    credentials = load_credentials(spec, prompt=prompt)
    return options if credentials is None else replace(options, client_credentials=credentials)


def load_trust(options: CheckOptions) -> TrustStores:
    """The check's trust stores, with the CA file read here, once, for the whole check (pass
    them to ``run_check(stores=...)``). Raises RequestError for an unusable CA file."""
    from core.certs import CertificateFileError
    from core.trust import build_stores

    try:
        return build_stores(options.ca_file, no_default_trust=options.no_default_trust)
    except CertificateFileError as exc:
        raise RequestError("ca_file", RequestProblem.CA_FILE_UNUSABLE, reason=str(exc)) from None


def env_name(name: str, option: str) -> str:
    """The name of an environment variable: letters, digits and underscores."""
    if not name or not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in name):
        from core.untrusted import visible

        shown = repr(visible(name, limit=40))
        raise RequestError("password", RequestProblem.BAD_ENV_NAME, option=option, name=shown)
    return name
