"""The headless commands: ``check`` and ``inspect``. Their options, exit statuses and usage
errors are core/usage.py's, shared with ``report`` and the window.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from collections.abc import Mapping, Sequence

from core import output, usage
from core.output import require_stdout, write_output
from core.request import RequestError, RequestProblem, env_name
from core.target import TargetError, parse_target
from core.untrusted import visible
from core.usage import EXIT_INTERNAL, EXIT_OK, EXIT_PROBLEM, EXIT_USAGE, PROG, UsageError

__all__ = [
    "EXIT_INTERNAL",
    "EXIT_OK",
    "EXIT_PROBLEM",
    "EXIT_USAGE",
    "PROG",
    "UsageError",
    "main",
]


def _run_check(args: argparse.Namespace) -> int:
    from core import batch_cli

    if args.hosts is not None:
        return batch_cli.run_hosts(args)
    batch_cli.refuse_without_hosts(args)
    if args.host is None:
        raise UsageError(
            "the following arguments are required: HOST[:PORT] (or --hosts FILE for many; "
            f"see {PROG} check --help)"
        )
    from core.diagnose import run_check

    target, options = usage.options_from_args(args)
    report = run_check(target, options, stores=usage.trust_from_options(options))
    # Each renderer imported where it is used: a fresh process pays only for its own.
    if args.json:
        from core.render.json_out import to_json

        write_output(to_json(report) + "\n")
    elif args.summary:
        from core.render.summary import ticket_summary

        write_output(ticket_summary(report))
    else:
        from core.render.text import render_text

        colour = sys.stdout.isatty() and not args.no_color
        write_output(render_text(report, colour=colour))
    return usage.exit_status(report)


def _asks_for_client_list(words: Sequence[str]) -> bool:
    """``check --client list`` (no host needed): the IDs instead of a check."""
    if not words or words[0] != "check":
        return False
    for here, word in enumerate(words):
        if word == "--":
            return False
        if word == "--client=list" or (
            word == "--client" and words[here + 1 : here + 2] == ["list"]
        ):
            return True
    return False


def _list_clients() -> int:
    """``--client list``: the IDs, one a line, with the app's name (scripts take the first
    word)."""
    from core.analyze.clients import load_apps

    for app in load_apps():
        mark = "" if app.current else " (old)"
        write_output(f"{app.id:<16} {app.name}{mark}\n")
    return EXIT_OK


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


def _inspect_password(args: argparse.Namespace, environ: Mapping[str, str]) -> bytes | None:
    """``inspect``'s PKCS#12 password from ``--password-env``; raises RequestError."""
    if args.no_default_trust and args.ca_file is None:
        raise RequestError("ca_file", RequestProblem.NEEDS_CA_FILE)
    if args.password_env is None:
        return None
    value = environ.get(env_name(args.password_env, "--password-env"))
    if value is None:
        raise RequestError(
            "password", RequestProblem.PASSWORD_ENV_NOT_SET, variable=args.password_env
        )
    return value.encode()


def _run_inspect(args: argparse.Namespace) -> int:
    import os

    from core.catalogue import load_catalogue
    from core.certs import CertificateFileError
    from core.inspect import inspect_file
    from core.render.json_out import inspect_json
    from core.render.text import render_inspect_text

    try:
        password = _inspect_password(args, os.environ)
    except RequestError as exc:
        raise UsageError(str(exc)) from None
    at = _parse_time(args.at)
    host = None
    if args.host is not None:
        try:
            host = parse_target(args.host).host_ascii
        except TargetError as exc:
            raise UsageError(f"--host: {exc}") from None
    try:
        report = inspect_file(
            args.file,
            host=host,
            at=at,
            password=password,
            ca_file=args.ca_file,
            no_default_trust=args.no_default_trust,
        )
    except CertificateFileError as exc:
        raise UsageError(str(exc)) from None
    cat = load_catalogue()
    if args.json:
        write_output(inspect_json(report, cat, str(args.file)) + "\n")
    else:
        write_output(render_inspect_text(report, str(args.file), cat))
    return EXIT_OK if report.valid else EXIT_PROBLEM


def main(argv: Sequence[str] | None = None) -> int:
    """Entry for ``check`` and ``inspect``; returns the exit status."""
    parser = usage.build_parser()
    return usage.run_command(lambda: _main(parser, argv))


def _main(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    output.reset()
    words = list(sys.argv[1:] if argv is None else argv)
    if _asks_for_client_list(words):
        require_stdout()
        return _list_clients()
    args = parser.parse_args(argv)
    if args.command in ("check", "inspect"):
        require_stdout()
    if args.command == "check":
        return _run_check(args)
    if args.command == "inspect":
        return _run_inspect(args)
    raise UsageError(f"unknown command (see {PROG} --help)")
