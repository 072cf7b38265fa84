"""The desktop window's entry point: ``handshake-doctor [HOST] [options]``.

Options are parsed before any window exists; a malformed command line prints one line on stderr
and exits with status 2. With a host, the window opens and the check starts at once; a host or
option the engine refuses (a bad name, a missing CA file) is shown next to its field instead.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import NoReturn

from core.cli import PROG, add_check_options
from core.untrusted import visible

EXIT_USAGE = 2


class UsageError(Exception):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(f"{message} (see {self.prog} --help)")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog=PROG, description="Open the window; with HOST, check it at once.")
    parser.add_argument(
        "host", nargs="?", metavar="HOST[:PORT]", help="host name, host:port or an https:// URL"
    )
    add_check_options(parser, with_host=False)
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Raises UsageError with one line."""
    args = build_parser().parse_args(list(argv))
    if args.host is not None and args.host.startswith("-"):
        raise UsageError(f"unknown option {visible(args.host, limit=60)!r} (see {PROG} --help)")
    return args


def main(argv: Sequence[str]) -> int:
    try:
        args = parse_args(argv)
        from gui.request import FormError, state_from_args

        try:
            state = state_from_args(args)
        except FormError as exc:
            raise UsageError(exc.message) from None
    except UsageError as exc:
        sys.stderr.write(f"{PROG}: {visible(str(exc), limit=400)}\n")
        return EXIT_USAGE

    from PySide6.QtCore import QCoreApplication, Qt, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    existing = QApplication.instance()
    if existing is None:
        # Fractional scaling (150 %) as the desktop asks, not rounded to 100 % or 200 %.
        QGuiApplication.setHighDpiScaleFactorRoundingPolicy(
            Qt.HighDpiScaleFactorRoundingPolicy.PassThrough
        )
    QCoreApplication.setOrganizationName("Handshake Doctor")
    QCoreApplication.setApplicationName("Handshake Doctor")
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    QGuiApplication.setDesktopFileName("handshake-doctor")

    from gui.window import MainWindow, app_icon

    app.setWindowIcon(app_icon())
    window = MainWindow(initial=state)
    window.show()
    if state.host:
        QTimer.singleShot(0, window.start_check)
    return int(app.exec())
