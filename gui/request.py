"""What the form holds, and how it becomes the engine's request.

The form's values are kept in one plain dataclass so the command line, the window and the tests
fill it the same way. Turning it into a Target and CheckOptions is quick and runs on the GUI
thread; loading a client certificate (a PKCS#12 password costs a key derivation) happens later,
in the worker. Every problem is a ``FormError`` naming the field it belongs to, so the window can
show the sentence next to that field instead of in a dialog.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field, replace
from pathlib import Path

from core.models import DEFAULT_TIME_SERVERS, CheckOptions, Target
from core.target import TargetError, parse_target, with_connect

#: The form's time-server field left empty means the engine's default servers.
DEFAULT_TIME_SERVER = ""
DEFAULT_TIMEOUT = 10.0


class FormError(ValueError):
    """One sentence for the user, and the form field it is about."""

    def __init__(self, field_name: str, message: str) -> None:
        super().__init__(message)
        self.field = field_name
        self.message = message


@dataclass(frozen=True)
class FormState:
    host: str = ""
    port: int | None = None
    connect: str = ""
    ca_file: str = ""
    no_default_trust: bool = False
    client_cert: str = ""
    client_key: str = ""
    #: Held in memory only: never written to QSettings, never logged (repr hides it).
    client_password: str = field(default="", repr=False)
    timeout: float = DEFAULT_TIMEOUT
    time_server: str = DEFAULT_TIME_SERVER
    no_network_time: bool = False
    quick: bool = False
    gentle: bool = False
    #: ``--dns-server``: empty asks the system's resolvers.
    dns_server: str = ""

    def with_host(self, host: str) -> FormState:
        return replace(self, host=host)


@dataclass(frozen=True)
class ClientCertSpec:
    """Where to load the client certificate from, once the worker runs."""

    cert: Path
    key: Path | None
    password: str = field(default="", repr=False)


@dataclass(frozen=True)
class Request:
    target: Target
    options: CheckOptions
    client_cert: ClientCertSpec | None = None


def _path(text: str) -> Path | None:
    text = text.strip()
    return Path(os.path.expanduser(text)) if text else None


def build_request(state: FormState) -> Request:
    """Raises FormError with the field ("host", "port", "connect", "ca_file", "client_cert",
    "client_key", "time_server", "dns_server") and one sentence."""
    try:
        target = parse_target(state.host, state.port)
    except TargetError as exc:
        raise FormError("host", str(exc)) from None
    try:
        target = with_connect(target, state.connect.strip() or None)
    except TargetError as exc:
        raise FormError("connect", str(exc).replace("--connect", "The connect address")) from None
    ca_file = _path(state.ca_file)
    if ca_file is not None and not ca_file.is_file():
        raise FormError("ca_file", f"There is no file {ca_file}.")
    if state.no_default_trust and ca_file is None:
        raise FormError(
            "ca_file", "“Trust only this file” needs a CA file: otherwise nothing would be trusted."
        )
    cert = _path(state.client_cert)
    key = _path(state.client_key)
    spec: ClientCertSpec | None = None
    if cert is not None:
        if not cert.is_file():
            raise FormError("client_cert", f"There is no file {cert}.")
        if key is not None and not key.is_file():
            raise FormError("client_key", f"There is no file {key}.")
        spec = ClientCertSpec(cert, key, state.client_password)
    elif key is not None:
        raise FormError("client_cert", "A client key needs its client certificate.")
    time_servers: tuple[str, ...] = DEFAULT_TIME_SERVERS
    server = state.time_server.strip()
    if server:
        from core.probe.sntp import parse_server

        try:
            parse_server(server)
        except ValueError as exc:
            raise FormError("time_server", f"The time server is not valid: {exc}.") from None
        time_servers = (server,)
    dns_server = None
    if state.dns_server.strip():
        from core.route import DnsServerError, parse_dns_server

        try:
            dns_server = parse_dns_server(state.dns_server)
        except DnsServerError as exc:
            message = str(exc).replace("--dns-server takes", "The DNS server must be")
            raise FormError(
                "dns_server", message.replace("--dns-server: ", "The DNS server: ")
            ) from None
    options = CheckOptions(
        ca_file=ca_file,
        no_default_trust=state.no_default_trust,
        timeout=state.timeout,
        time_servers=time_servers,
        no_network_time=state.no_network_time,
        quick=state.quick,
        gentle=state.gentle,
        dns_server=dns_server,
    )
    return Request(target, options, spec)


def state_from_args(args: argparse.Namespace, environ: dict[str, str] | None = None) -> FormState:
    """The form as ``handshake-doctor HOST [options]`` fills it. Raises FormError("password")
    when the password variable named on the command line is not set."""
    env = os.environ if environ is None else environ
    password = ""
    if getattr(args, "client_cert_password_env", None):
        value = env.get(args.client_cert_password_env)
        if value is None:
            raise FormError(
                "password", f"The environment variable {args.client_cert_password_env} is not set."
            )
        password = value
    return FormState(
        host=args.host or "",
        port=args.port,
        connect=args.connect or "",
        ca_file=str(args.ca_file) if args.ca_file else "",
        no_default_trust=bool(args.no_default_trust),
        client_cert=str(args.client_cert) if args.client_cert else "",
        client_key=str(args.client_key) if args.client_key else "",
        client_password=password,
        timeout=float(args.timeout),
        time_server=args.time_server or DEFAULT_TIME_SERVER,
        no_network_time=bool(args.no_network_time),
        quick=bool(args.quick),
        gentle=bool(args.gentle),
        dns_server=getattr(args, "dns_server", None) or "",
    )
