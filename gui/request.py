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

from core.models import CheckOptions, Target
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
