"""The desktop window's entry point: ``handshake-doctor [HOST] [options]``.

Options are parsed before any window exists; a malformed command line prints one line on stderr
and exits with status 2. With a host, the window opens and the check starts at once; a host or
option the engine refuses (a bad name, a missing CA file) is shown next to its field instead.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.request import RequestSpec

#: The name of packaging/org.handshakedoctor.HandshakeDoctor.desktop without ".desktop" (the
#: app ID): Wayland compositors and the desktops find the window's icon and name through it.
DESKTOP_FILE_NAME = "org.handshakedoctor.HandshakeDoctor"
#: With this set to 1, the app prints ``shown`` once the window is shown and the event loop has
#: run (packaging/bare_window.py does the same), then ``ready`` once the rest of the window is
#: built, and quits: benchmarks/startup.py times ``shown``; packaging/smoke.py wants both.
EXIT_AFTER_SHOW = "HANDSHAKE_DOCTOR_EXIT_AFTER_SHOW"
#: With this set to 1 and a host given, the app prints ``verdict VALUE`` once the first check's
#: report is shown (``verdict none (HOW)`` if the check ended without one), and quits:
#: benchmarks/cold_start.py times the window from start to its first verdict.
EXIT_AFTER_VERDICT = "HANDSHAKE_DOCTOR_EXIT_AFTER_VERDICT"


def build_parser() -> argparse.ArgumentParser:
    from core.usage import PROG, UsageParser, add_check_options

    parser = UsageParser(prog=PROG, description="Open the window; with HOST, check it at once.")
    parser.add_argument(
        "host", nargs="?", metavar="HOST[:PORT]", help="host name, host:port or an https:// URL"
    )
    add_check_options(parser, with_host=False)
    return parser


def parse_args(argv: Sequence[str]) -> argparse.Namespace:
    """Raises core.usage.UsageError with one line."""
    from core.usage import PROG, UsageError

    args = build_parser().parse_args(list(argv))
    if args.host is not None and args.host.startswith("-"):
        from core.untrusted import visible

        raise UsageError(f"unknown option {visible(args.host, limit=60)!r} (see {PROG} --help)")
    return args


def form_from_argv(argv: Sequence[str]) -> RequestSpec | None:
    """The form as the command line fills it; None without arguments (a double-click), which
    needs neither the parser nor the engine's modules. Raises UsageError with one line."""
    if not argv:
        return None
    args = parse_args(argv)
    from core.request import RequestError
    from core.usage import UsageError
    from gui.request import form_words, state_from_args

    try:
        return state_from_args(args)
    except RequestError as exc:
        raise UsageError(form_words(exc)) from None


def main(argv: Sequence[str]) -> int:
    state = None
    if argv:  # a double-click has no arguments: it needs neither the parser nor the engine
        from core.untrusted import visible
        from core.usage import EXIT_USAGE, PROG, UsageError

        try:
            state = form_from_argv(argv)
        except UsageError as exc:
            sys.stderr.write(f"{PROG}: {visible(str(exc), limit=400)}\n")
            return EXIT_USAGE

    from gui.worker import warm_up_engine

    checking = state is not None and bool(state.host)
    if checking:
        # A check is asked for: the engine's imports and the trust stores load beside Qt's
        # start-up and the first paint, and the check itself starts before the panes exist.
        warm_up_engine()

    from PySide6.QtCore import QCoreApplication, QTimer
    from PySide6.QtGui import QGuiApplication
    from PySide6.QtWidgets import QApplication

    # Fractional scaling (150 %) as the desktop asks is Qt 6's default (PassThrough rounding):
    # nothing to set, and nothing here touches the Qt namespace before the first paint.
    QCoreApplication.setOrganizationName("Handshake Doctor")
    QCoreApplication.setApplicationName("Handshake Doctor")
    existing = QApplication.instance()
    app = existing if isinstance(existing, QApplication) else QApplication(sys.argv[:1])
    QGuiApplication.setDesktopFileName(DESKTOP_FILE_NAME)

    from gui.window import MainWindow

    # The form, the menus and an empty results area first; the panes, the catalogue and the
    # engine's modules once that has been painted (MainWindow's ``deferred``).
    window = MainWindow(initial=state, deferred=True)
    window.show()
    if os.environ.get(EXIT_AFTER_SHOW) == "1":

        def done() -> None:
            print("shown", flush=True)
            # Quit once the rest is built too, so a smoke test also proves the panes load.
            window.when_ready(finished)

        def finished() -> None:
            print("ready", flush=True)
            app.quit()

        QTimer.singleShot(0, done)
    if not checking:
        # Nothing to check yet: the first frame and the panes come first, then the engine
        # warms up while the user types, so that the first check is as fast as the tenth.
        window.when_ready(warm_up_engine)
    else:
        if os.environ.get(EXIT_AFTER_VERDICT) == "1":

            def verdict(report: object) -> None:
                print(f"verdict {getattr(report, 'verdict', None)}", flush=True)
                app.quit()

            def ended(how: str) -> None:
                if how != "report":
                    print(f"verdict none ({how})", flush=True)
                    app.quit()

            window.reportShown.connect(verdict)
            window.checkEnded.connect(ended)
        window.check_when_built()
    return int(app.exec())
