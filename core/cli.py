"""The headless commands: ``check`` and ``inspect``. Their options, exit statuses and usage
errors are core/usage.py's, shared with ``report`` and the window.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from collections.abc import Mapping, Sequence

from core import output, usage
from core.budget import Cancelled
from core.output import OutputError, report_output_error, require_stdout, write_output
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
    from core.certs import CertificateFileError, leaf_first, read_certificate_file
    from core.inspect import inspect_chain
    from core.render.json_out import finding_dict
    from core.trust import build_stores

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
        certs = read_certificate_file(args.file, password=password)
        stores = build_stores(args.ca_file, no_default_trust=args.no_default_trust)
    except CertificateFileError as exc:
        raise UsageError(str(exc)) from None
    report = inspect_chain(leaf_first(certs), stores, host=host, at=at)
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
        write_output(json.dumps(payload, indent=2, ensure_ascii=True) + "\n")
    else:
        status = "VALID" if report.valid else "NOT VALID"
        write_output(
            f"{status}: {visible(str(args.file))}"
            + (f" for {host}" if host else "")
            + f" at {at:%Y-%m-%d %H:%M} UTC\n"
        )
        for i, cert in enumerate(report.chain.certificates):
            subject = visible(cert.subject, limit=200)
            issuer = visible(cert.issuer, limit=200)
            write_output(f"  {i}. {subject}\n     issuer {issuer}\n")
            write_output(
                f"     valid {cert.not_before:%Y-%m-%d} to {cert.not_after:%Y-%m-%d}, {cert.key}\n"
            )
        for finding in report.findings:
            title = visible(cat.title(finding))
            detail = visible(cat.detail(finding), limit=400)
            write_output(f"  [{finding.severity.value}] {title}: {detail}\n")
    return EXIT_OK if report.valid else EXIT_PROBLEM


def main(argv: Sequence[str] | None = None) -> int:
    """Entry for ``check`` and ``inspect``; returns the exit status."""
    parser = usage.build_parser()
    with usage.quiet_library_warnings():
        return _main(parser, argv)


def _main(parser: argparse.ArgumentParser, argv: Sequence[str] | None) -> int:
    output.reset()
    try:
        args = parser.parse_args(argv)
        if args.command in ("check", "inspect"):
            require_stdout()
        if args.command == "check":
            return _run_check(args)
        if args.command == "inspect":
            return _run_inspect(args)
        raise UsageError(f"unknown command (see {PROG} --help)")
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
        return usage.internal_error(exc)
