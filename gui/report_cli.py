"""``handshake-doctor report HOST[:PORT] -o FILE.pdf [--redact] [check options]``: run the check
without a window and write the PDF report.

Same options, same messages and same exit status as ``check`` (0 works, 1 a problem was found,
2 bad usage or a file that cannot be written). Qt is needed only to print: a QGuiApplication is
made on the offscreen platform when there is no display, so this runs on servers and in CI.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Sequence
from pathlib import Path

from core.output import write_output
from core.usage import (
    PROG,
    UsageError,
    build_parser,
    exit_status,
    options_from_args,
    run_command,
    trust_from_options,
)

__all__ = ["main"]


def _has_display() -> bool:
    if sys.platform in ("win32", "darwin"):
        return True
    return bool(os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY"))


def _ensure_app() -> None:
    from PySide6.QtGui import QGuiApplication

    if QGuiApplication.instance() is not None:
        return
    if not _has_display() and not os.environ.get("QT_QPA_PLATFORM"):
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
    # Kept alive for the rest of the process: Qt wants one application object, made once.
    global _APP
    _APP = QGuiApplication([PROG])


_APP: object = None


def _check_output(path: Path) -> Path:
    if path.is_dir():
        raise UsageError(f"-o {path}: that is a folder; give a file name such as report.pdf")
    parent = path.parent if str(path.parent) else Path()
    if not parent.is_dir():
        raise UsageError(f"-o {path}: the folder {parent} does not exist")
    if path.suffix.lower() != ".pdf":
        raise UsageError(f"-o {path}: the report is a PDF; give a name ending in .pdf")
    return path


def _run(argv: list[str]) -> int:
    from core.diagnose import run_check
    from core.request import RequestError

    args = build_parser().parse_args(argv)
    if args.command != "report":
        raise UsageError(f"unknown command (see {PROG} --help)")
    output = _check_output(args.output)
    target, options = options_from_args(args)
    stores = trust_from_options(options)
    _ensure_app()
    try:
        report = run_check(target, options, stores=stores)
    except RequestError as exc:  # a setting run_check read itself (the proxy's)
        raise UsageError(str(exc)) from None

    from gui.pdf import ExportError, export_report

    try:
        pages = export_report(report, output, redact=args.redact)
    except ExportError as exc:
        raise UsageError(str(exc)) from None
    plural = "s" if pages != 1 else ""
    write_output(f"{output}: {pages} page{plural}, verdict {report.verdict.value}\n")
    return exit_status(report)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry for ``report``: ``argv`` with or without the leading ``report``."""
    args = list(sys.argv[1:] if argv is None else argv)
    if not args or args[0] != "report":
        args = ["report", *args]
    return run_command(lambda: _run(args))
