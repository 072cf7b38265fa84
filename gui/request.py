"""The form's request, checked on the GUI thread, and its problems in the window's words.

The form fills a ``core.request.RequestSpec``, the same the command line fills, and
``core.request.validate`` checks it: quick, so it runs on the GUI thread. Loading a client
certificate (a PKCS#12 password costs a key derivation) and reading the CA file happen later, in
the worker. Every problem is a ``RequestError`` naming the form field it belongs to, so the
window shows the catalogue's sentence for the window next to that field instead of in a dialog.
"""

from __future__ import annotations

import argparse
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace

from core.models import CheckOptions, ServiceSource, Target
from core.request import RequestError, RequestProblem, RequestSpec, validate
from core.usage import spec_from_args


@dataclass(frozen=True)
class Request:
    spec: RequestSpec
    target: Target
    #: Without the client credentials: the worker loads them from ``spec``.
    options: CheckOptions


def build_request(spec: RequestSpec) -> Request:
    """Raises RequestError with the field ("host", "connect", "ca_file", "client_cert",
    "client_key", "password", "time_server")."""
    target, options = validate(spec)
    return Request(spec, target, options)


def _bracketed(host: str) -> str:
    """An IPv6 literal in brackets, as it is written before a port."""
    return f"[{host}]" if ":" in host else host


def connect_text(target: Target, *, with_port: bool = False) -> str:
    """Where the check opened its connection, for people: the connect address, and its port
    when that differs from the target's (``[::1]:8443``) or ``with_port``; "" when the check
    resolved the host itself."""
    if target.connect_address is None:
        return ""
    address = _bracketed(target.connect_address)
    port = target.dial_port
    return f"{address}:{port}" if with_port or port != target.port else address


@dataclass(frozen=True)
class TargetFields:
    """A target as the form's fields hold it: what checks the same server again."""

    #: The address field: host and port, behind the service's scheme when the check spoke
    #: one because of a scheme or ``--starttls`` (a well-known port names its own again).
    host: str
    #: The Options' "Connect to" field ("" to resolve the host).
    connect: str


def target_fields(target: Target) -> TargetFields:
    """The form's fields for ``target``, so that the form builds the same Target again."""
    where = f"{_bracketed(target.host)}:{target.port}"
    named = target.service is not None and target.service_source in (
        ServiceSource.SCHEME,
        ServiceSource.OPTION,
    )
    host = f"{target.service}://{where}" if named else where
    return TargetFields(host, connect_text(target, with_port=True))


def form_words(error: RequestError) -> str:
    """The sentence the window shows under the error's field."""
    return error.words("window")


def state_from_args(
    args: argparse.Namespace, environ: Mapping[str, str] | None = None
) -> RequestSpec:
    """The form as ``handshake-doctor HOST [options]`` fills it: the password variable is read
    now, since the form holds the password itself. Raises RequestError("password") when that
    variable is not set."""
    env = os.environ if environ is None else environ
    password = ""
    if args.client_cert_password_env:
        value = env.get(args.client_cert_password_env)
        if value is None:
            raise RequestError(
                "password", RequestProblem.ENV_NOT_SET, variable=args.client_cert_password_env
            )
        password = value
    spec = spec_from_args(args)
    return replace(
        spec,
        connect=spec.connect or None,
        time_server=spec.time_server or None,
        client_password=password,
        client_password_env=None,
    )
