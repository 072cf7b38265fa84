"""The command line: ``check``, ``inspect`` and the options every checking command shares.

Exit status: 0 the handshake works and nothing is above warning; 1 something is error or
critical; 2 bad usage or bad input, with one clear line on stderr and never a traceback;
70 a bug in Handshake Doctor itself, also one line (the traceback with HANDSHAKE_DOCTOR_DEBUG=1).
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import json
import math
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import NoReturn

from core.budget import Cancelled
from core.models import DEFAULT_TIME_SERVERS, CheckOptions, CheckReport, Severity, Target
from core.target import TargetError, parse_target, with_connect
from core.untrusted import visible

PROG = "handshake-doctor"
EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
#: A bug in Handshake Doctor itself (sysexits' EX_SOFTWARE); beyond the contract's 0/1/2.
EXIT_INTERNAL = 70
DEBUG_ENV = "HANDSHAKE_DOCTOR_DEBUG"
MAX_TIMEOUT = 300.0


class UsageError(Exception):
    """Bad usage or bad input: printed as one line, exit status 2."""


class _Parser(argparse.ArgumentParser):
    _given: tuple[str, ...] = ()

    def parse_known_args(  # type: ignore[override]
        self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None
    ) -> tuple[argparse.Namespace, list[str]]:
        self._given = tuple(sys.argv[1:] if args is None else args)
        return super().parse_known_args(args, namespace)

    def error(self, message: str) -> NoReturn:
        if message.startswith(("the following arguments are required", "unrecognized arguments")):
            stray = self._stray_dash()
            if stray is not None:
                raise UsageError(
                    f"{visible(stray, limit=60)!r} is not an option, and not a host name either: "
                    f"a host name cannot start with a dash (see {self.prog} --help)"
                )
        raise UsageError(f"{message} (see {self.prog} --help)")

    def _stray_dash(self) -> str | None:
        """The first word that looks like an option but is none of ours: ``-example.com``."""
        for word in self._given:
            if word == "--":
                return None
            name = word.split("=", 1)[0]
            if (
                word.startswith("-")
                and not word.startswith("--")
                and name not in self._option_string_actions
                and not word[1:].replace(".", "", 1).isdigit()
            ):
                return word
        return None


def _timeout(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--timeout must be a number of seconds, not {text!r}"
        ) from None
    if not math.isfinite(value) or not 0.1 <= value <= MAX_TIMEOUT:
        raise argparse.ArgumentTypeError(
            f"--timeout must be between 0.1 and {MAX_TIMEOUT:g} seconds"
        )
    return value


def _port(text: str) -> int:
    if not text.isdigit() or not 1 <= int(text) <= 65535:
        raise argparse.ArgumentTypeError(f"--port must be a number from 1 to 65535, not {text!r}")
    return int(text)


def add_check_options(parser: argparse.ArgumentParser, *, with_host: bool = True) -> None:
    if with_host:
        parser.add_argument(
            "host", metavar="HOST[:PORT]", help="host name, host:port or a pasted https:// URL"
        )
    parser.add_argument("--port", type=_port, help="TCP port (default 443)")
    parser.add_argument(
        "--connect",
        metavar="ADDR[:PORT]",
        help="connect here, but use HOST for SNI and name checks",
    )
    parser.add_argument(
        "--ca-file", type=Path, metavar="PEM", help="extra trust anchors (a company's private CA)"
    )
    parser.add_argument("--no-default-trust", action="store_true", help="trust only --ca-file")
    parser.add_argument(
        "--client-cert", type=Path, metavar="FILE", help="client certificate (PEM or PKCS#12)"
    )
    parser.add_argument(
        "--client-key", type=Path, metavar="FILE", help="client key, if not in --client-cert"
    )
    parser.add_argument(
        "--client-cert-password-env", metavar="VAR", help="read the key/PKCS#12 password from VAR"
    )
    parser.add_argument(
        "--timeout",
        type=_timeout,
        default=10.0,
        metavar="SECONDS",
        help="bound on each network step",
    )
    parser.add_argument(
        "--time-server", metavar="HOST[:PORT]", help="NTP server for the clock reference"
    )
    parser.add_argument(
        "--no-network-time", action="store_true", help="use only the server's own clock signals"
    )
    parser.add_argument(
        "--quick", action="store_true", help="skip the protocol and cipher enumeration"
    )
    parser.add_argument("--gentle", action="store_true", help="one connection at a time, paced")
    parser.add_argument(
        "--dns-server",
        metavar="ADDR[:PORT]",
        help="ask this DNS server instead of the system's resolvers",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=PROG,
        description="Find out why a TLS (SSL) handshake fails.",
        epilog=(
            f"Without a command, {PROG} opens its window; '{PROG} HOST [options]' opens it and "
            f"checks HOST at once. Exit status: 0 works, 1 a problem was found, 2 bad input."
        ),
    )
    sub = parser.add_subparsers(dest="command", parser_class=_Parser)
    check = sub.add_parser("check", help="check a server without the window")
    add_check_options(check)
    out = check.add_mutually_exclusive_group()
    out.add_argument("--json", action="store_true", help="print the report as JSON")
    out.add_argument("--summary", action="store_true", help="print the short ticket summary")
    check.add_argument("--no-color", action="store_true", help="no colour even on a terminal")
    report = sub.add_parser("report", help="check a server and write the PDF report")
    add_check_options(report)
    report.add_argument("-o", "--output", type=Path, required=True, metavar="FILE.pdf")
    report.add_argument(
        "--redact", action="store_true", help="hide internal host names and private addresses"
    )
    inspect = sub.add_parser("inspect", help="validate a certificate chain from a file, offline")
    inspect.add_argument("file", type=Path, metavar="FILE")
    inspect.add_argument("--host", help="the name the certificate should be valid for")
    inspect.add_argument("--at", help="validate at this time (ISO 8601) instead of now")
    inspect.add_argument("--ca-file", type=Path, metavar="PEM")
    inspect.add_argument("--no-default-trust", action="store_true")
    inspect.add_argument(
        "--password-env", metavar="VAR", help="password of a PKCS#12 file, from VAR"
    )
    inspect.add_argument("--json", action="store_true")
    return parser


def options_from_args(args: argparse.Namespace) -> tuple[Target, CheckOptions]:
    """Turn parsed options into the engine's request; raises UsageError with one sentence."""
    # Imported here, not at the top: the window imports this module for its options, and
    # cryptography's import would otherwise delay the window's first paint.
    from core.certs import CertificateFileError, read_certificate_file
    from core.credentials import CredentialsError, load_client_credentials

    try:
        target = parse_target(args.host, args.port)
        target = with_connect(target, args.connect)
    except TargetError as exc:
        raise UsageError(str(exc)) from None
    if args.no_default_trust and args.ca_file is None:
        raise UsageError("--no-default-trust needs --ca-file: otherwise nothing would be trusted.")
    if args.ca_file is not None:
        try:
            read_certificate_file(args.ca_file)
        except CertificateFileError as exc:
            raise UsageError(f"--ca-file: {exc}") from None
    credentials = None
    if args.client_cert_password_env is not None:
        _env_name(args.client_cert_password_env, "--client-cert-password-env")
    if args.client_cert is not None:
        try:
            credentials = load_client_credentials(
                args.client_cert, args.client_key, password_env=args.client_cert_password_env
            )
        except CredentialsError as exc:
            raise UsageError(f"--client-cert: {exc}") from None
    elif args.client_key is not None:
        raise UsageError("--client-key needs --client-cert.")
    elif args.client_cert_password_env is not None:
        raise UsageError("--client-cert-password-env needs --client-cert.")
    time_servers: tuple[str, ...] = DEFAULT_TIME_SERVERS
    if args.time_server is not None:
        from core.probe.sntp import parse_server

        try:
            parse_server(args.time_server)
        except ValueError as exc:
            raise UsageError(f"--time-server: {exc}") from None
        time_servers = (args.time_server,)
    dns_server = None
    if getattr(args, "dns_server", None) is not None:
        from core.route import DnsServerError, parse_dns_server

        try:
            dns_server = parse_dns_server(args.dns_server)
        except DnsServerError as exc:
            raise UsageError(str(exc)) from None
    options = CheckOptions(
        ca_file=args.ca_file,
        no_default_trust=args.no_default_trust,
        client_credentials=credentials,
        timeout=args.timeout,
        time_servers=time_servers,
        no_network_time=args.no_network_time,
        quick=args.quick,
        gentle=args.gentle,
        dns_server=dns_server,
    )
    return target, options


def _env_name(name: str, option: str) -> str:
    """The name of an environment variable: letters, digits and underscores."""
    if not name or not all(ch.isascii() and (ch.isalnum() or ch == "_") for ch in name):
        raise UsageError(
            f"{option} takes the name of an environment variable (such as CERT_PASSWORD), "
            f"not {visible(name, limit=40)!r}."
        )
    return name


def exit_status(report: CheckReport) -> int:
    works = report.handshake is not None and report.handshake.ok
    serious = any(f.severity.rank >= Severity.ERROR.rank for f in report.findings)
    return EXIT_OK if works and not serious else EXIT_PROBLEM


def _run_check(args: argparse.Namespace) -> int:
    from core.diagnose import CheckError, run_check
    from core.render.json_out import to_json
    from core.render.summary import ticket_summary
    from core.render.text import render_text

    target, options = options_from_args(args)
    try:
        report = run_check(target, options)
    except CheckError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        sys.stdout.write(to_json(report) + "\n")
    elif args.summary:
        sys.stdout.write(ticket_summary(report))
    else:
        colour = sys.stdout.isatty() and not args.no_color
        sys.stdout.write(render_text(report, colour=colour))
    return exit_status(report)


def _parse_time(text: str | None) -> dt.datetime:
    if not text:
        return dt.datetime.now(dt.UTC)
    try:
        moment = dt.datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        raise UsageError(
            f"--at must be a time like 2026-03-01T12:00:00Z, not {visible(text)!r}"
        ) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)


def leaf_first(certs: Sequence[object]) -> list[object]:
    """Files list chains in either order; the leaf is the one certificate that is not a CA."""
    from core.certs import is_ca

    items = list(certs)
    if items and is_ca(items[0]) and any(not is_ca(c) for c in items):  # type: ignore[arg-type]
        leaf = next(c for c in items if not is_ca(c))  # type: ignore[arg-type]
        items.remove(leaf)
        items.insert(0, leaf)
    return items


def _run_inspect(args: argparse.Namespace) -> int:
    import os

    from core.catalogue import load_catalogue
    from core.certs import CertificateFileError, read_certificate_file
    from core.inspect import inspect_chain
    from core.render.json_out import finding_dict
    from core.trust import build_stores

    if args.no_default_trust and args.ca_file is None:
        raise UsageError("--no-default-trust needs --ca-file: otherwise nothing would be trusted.")
    password = None
    if args.password_env is not None:
        value = os.environ.get(_env_name(args.password_env, "--password-env"))
        if value is None:
            raise UsageError(f"The environment variable {args.password_env} is not set.")
        password = value.encode()
    at = _parse_time(args.at)
    host = None
    if args.host is not None:
        try:
            host = parse_target(args.host).host_ascii
        except TargetError as exc:
            raise UsageError(f"--host: {exc}") from None
    try:
        certs = read_certificate_file(args.file, password=password)
        stores = build_stores(args.ca_file, no_default_trust=args.no_default_trust)
    except CertificateFileError as exc:
        raise UsageError(str(exc)) from None
    report = inspect_chain(leaf_first(certs), stores, host=host, at=at)  # type: ignore[arg-type]
    cat = load_catalogue()
    if args.json:
        payload = {
            "file": str(args.file),
            "host": host,
            "at": at.isoformat(),
            "valid": report.valid,
            "trust": {
                "mozilla": report.chain.trust.mozilla,
                "os": report.chain.trust.os,
                "custom": report.chain.trust.custom,
            },
            "certificates": [
                {
                    "subject": c.subject,
                    "issuer": c.issuer,
                    "not_before": c.not_before.isoformat(),
                    "not_after": c.not_after.isoformat(),
                    "san": list(c.san),
                    "sha256": c.sha256,
                    "key": c.key,
                    "signature_algorithm": c.signature_algorithm,
                }
                for c in report.chain.certificates
            ],
            "findings": [finding_dict(f, cat) for f in report.findings],
        }
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=True) + "\n")
    else:
        status = "VALID" if report.valid else "NOT VALID"
        sys.stdout.write(
            f"{status}: {visible(str(args.file))}"
            + (f" for {host}" if host else "")
            + f" at {at:%Y-%m-%d %H:%M} UTC\n"
        )
        for i, cert in enumerate(report.chain.certificates):
            subject = visible(cert.subject, limit=200)
            issuer = visible(cert.issuer, limit=200)
            sys.stdout.write(f"  {i}. {subject}\n     issuer {issuer}\n")
            sys.stdout.write(
                f"     valid {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d}, {cert.key}\n"
            )
        for finding in report.findings:
            title = visible(cat.title(finding))
            detail = visible(cat.detail(finding), limit=400)
            sys.stdout.write(f"  [{finding.severity.value}] {title}: {detail}\n")
    return EXIT_OK if report.valid else EXIT_PROBLEM


def main(argv: Sequence[str] | None = None) -> int:
    """Entry for ``check`` and ``inspect``; returns the exit status."""
    parser = build_parser()
    with quiet_library_warnings():
        return _main(parser, argv)


@contextlib.contextmanager
def quiet_library_warnings() -> Iterator[None]:
    """cryptography warns about what strangers' certificates hold (a 10,000-character name, a
    negative serial): the report says what matters, and the terminal stays clean. With
    HANDSHAKE_DOCTOR_DEBUG=1 the warnings show."""
    import os
    import warnings

    with warnings.catch_warnings():
        if not os.environ.get(DEBUG_ENV):
            warnings.simplefilter("ignore", UserWarning)
        yield


def _main(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    try:
        args = parser.parse_args(argv)
        if args.command == "check":
            return _run_check(args)
        if args.command == "inspect":
            return _run_inspect(args)
        raise UsageError(f"unknown command (see {PROG} --help)")
    except UsageError as exc:
        sys.stderr.write(f"{PROG}: {visible(str(exc), limit=400)}\n")
        return EXIT_USAGE
    except Cancelled:
        sys.stderr.write(f"{PROG}: cancelled\n")
        return EXIT_PROBLEM
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted\n")
        return 130
    except Exception as exc:  # a bug of ours: one line, not a traceback, unless asked for
        return internal_error(exc)


def internal_error(exc: BaseException) -> int:
    """Report a bug in Handshake Doctor itself as one line (the traceback with
    HANDSHAKE_DOCTOR_DEBUG=1) and return EXIT_INTERNAL."""
    import os
    import traceback

    if os.environ.get(DEBUG_ENV):
        traceback.print_exception(exc, file=sys.stderr)
    where = traceback.extract_tb(exc.__traceback__)[-1:] if exc.__traceback__ else []
    place = f" in {Path(where[0].filename).name}:{where[0].lineno}" if where else ""
    sys.stderr.write(
        f"{PROG}: internal error ({type(exc).__name__}{place}: "
        f"{visible(str(exc), limit=160)}); this is a bug in Handshake Doctor, please report "
        f"it (set {DEBUG_ENV}=1 for the details)\n"
    )
    return EXIT_INTERNAL
