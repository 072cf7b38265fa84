"""The command line's shared shape: its name, its options, its exit statuses and how bad
usage is reported. The headless commands (core/cli.py) and ``report`` and the window (gui/)
all take these options, so they live here, where gui/ may import them without core.cli.

Exit status: 0 the handshake works and nothing is above warning; 1 something is error or
critical; 2 bad usage or bad input, with one clear line on stderr and never a traceback;
70 a bug in Handshake Doctor itself, also one line (the traceback with HANDSHAKE_DOCTOR_DEBUG=1).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, NoReturn

from core.models import CheckOptions, CheckReport, Severity, Target
from core.request import RequestError, RequestSpec, load_trust, validate, with_credentials
from core.untrusted import visible

if TYPE_CHECKING:
    from core.trust import TrustStores

PROG = "handshake-doctor"
EXIT_OK, EXIT_PROBLEM, EXIT_USAGE = 0, 1, 2
#: A bug in Handshake Doctor itself (sysexits' EX_SOFTWARE); beyond the contract's 0/1/2.
EXIT_INTERNAL = 70
DEBUG_ENV = "HANDSHAKE_DOCTOR_DEBUG"
MAX_TIMEOUT = 300.0


class UsageError(Exception):
    """Bad usage or bad input: printed as one line, exit status 2."""


class UsageParser(argparse.ArgumentParser):
    """A parser whose errors are one-line UsageErrors (the window's command line uses it too)."""

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
            "host",
            metavar="HOST[:PORT]",
            help="host name, host:port or a pasted URL: https://, smtp://, imaps://, ldap://, ...",
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
        "--dns-server",
        metavar="ADDR[:PORT]",
        help="ask this DNS server instead of the system's resolvers",
    )
    path = parser.add_mutually_exclusive_group()
    path.add_argument(
        "--proxy",
        metavar="URL",
        help="check through this proxy: http://[user:pass@]host:port, socks5://, socks5h:// "
        "(default: HTTPS_PROXY/ALL_PROXY/NO_PROXY, then this computer's settings)",
    )
    path.add_argument(
        "--no-proxy", action="store_true", help="connect directly, whatever the settings say"
    )
    parser.add_argument(
        "--portal-url",
        metavar="URL",
        help="plain-http probe for captive portals; 'none' skips it "
        "(default: Firefox's detectportal.firefox.com)",
    )
    parser.add_argument(
        "--client",
        metavar="ID",
        help="the app that showed the error (chrome, firefox, curl, java...); its verdict "
        "comes first. '--client list' prints the IDs",
    )
    parser.add_argument(
        "--no-network-time", action="store_true", help="use only the server's own clock signals"
    )
    parser.add_argument(
        "--quick", action="store_true", help="skip the protocol and cipher enumeration"
    )
    parser.add_argument("--gentle", action="store_true", help="one connection at a time, paced")
    parser.add_argument(
        "--starttls",
        metavar="PROTO",
        help="upgrade a plain connection first: smtp, imap, pop3, ftp, xmpp, ldap, postgres "
        "(also from URLs such as smtp://host:587 or imaps://host, and from well-known ports)",
    )


def build_parser() -> argparse.ArgumentParser:
    parser = UsageParser(
        prog=PROG,
        description="Find out why a TLS (SSL) handshake fails.",
        epilog=(
            f"Without a command, {PROG} opens its window; '{PROG} HOST [options]' opens it and "
            f"checks HOST at once. Exit status: 0 works, 1 a problem was found, 2 bad input."
        ),
    )
    sub = parser.add_subparsers(dest="command", parser_class=UsageParser)
    check = sub.add_parser(
        "check",
        help="check a server without the window",
        epilog=(
            "Many servers: --hosts FILE holds one target a line (TARGET [ADDR[:PORT]], the "
            "second word that line's connect address; '#' starts a comment); every other "
            "option applies to each line. The table comes at the end (with --json: one JSON "
            "object a line as each check ends). Exit status: the worst of the run: 0 all work, "
            "1 a problem was found, 2 bad usage or a bad line (the rest are still checked), "
            "130 interrupted."
        ),
    )
    # The target is optional here only: ``check --hosts FILE`` names its targets in FILE.
    check.add_argument(
        "host",
        nargs="?",
        metavar="HOST[:PORT]",
        help="host name, host:port or a pasted https:// URL (or --hosts FILE for many)",
    )
    add_check_options(check, with_host=False)
    from core.batch_cli import add_hosts_options

    add_hosts_options(check)
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


def spec_from_args(args: argparse.Namespace) -> RequestSpec:
    """The request as the checking commands' options give it (``args`` from add_check_options)."""
    return RequestSpec(
        host=args.host or "",
        port=args.port,
        connect=args.connect,
        ca_file=str(args.ca_file) if args.ca_file is not None else "",
        no_default_trust=bool(args.no_default_trust),
        client_cert=str(args.client_cert) if args.client_cert is not None else "",
        client_key=str(args.client_key) if args.client_key is not None else "",
        client_password_env=args.client_cert_password_env,
        timeout=float(args.timeout),
        time_server=args.time_server,
        dns_server=getattr(args, "dns_server", None) or "",
        proxy=getattr(args, "proxy", None) or "",
        no_proxy=bool(getattr(args, "no_proxy", False)),
        portal_url=getattr(args, "portal_url", None),
        client=getattr(args, "client", None),
        no_network_time=bool(args.no_network_time),
        quick=bool(args.quick),
        gentle=bool(args.gentle),
        starttls=getattr(args, "starttls", None) or "",
    )


def options_from_args(args: argparse.Namespace) -> tuple[Target, CheckOptions]:
    """The engine's request, with the client credentials loaded (a password prompt on a
    terminal if one is needed); raises UsageError with the catalogue's sentence for the command
    line."""
    spec = spec_from_args(args)
    try:
        target, options = validate(spec)
        return target, with_credentials(spec, options, prompt=True)
    except RequestError as exc:
        raise UsageError(str(exc)) from None


def trust_from_options(options: CheckOptions) -> TrustStores:
    """The trust stores for ``run_check(stores=...)``, the CA file read once; raises UsageError
    before anything else starts."""
    try:
        return load_trust(options)
    except RequestError as exc:
        raise UsageError(str(exc)) from None


def exit_status(report: CheckReport) -> int:
    works = report.handshake is not None and report.handshake.ok
    serious = any(f.severity.rank >= Severity.ERROR.rank for f in report.findings)
    return EXIT_OK if works and not serious else EXIT_PROBLEM


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


def run_command(work: Callable[[], int]) -> int:
    """One command's run (``check``, ``inspect``, ``report``), its failures turned into the
    contract's exit statuses: one line on stderr, never a traceback."""
    from core.budget import Cancelled
    from core.output import OutputError, report_output_error

    try:
        with quiet_library_warnings():
            return work()
    except (UsageError, RequestError) as exc:  # RequestError: a setting run_check read itself
        sys.stderr.write(f"{PROG}: {visible(str(exc), limit=400)}\n")
        return EXIT_USAGE
    except OutputError as exc:
        report_output_error(PROG, exc)
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
