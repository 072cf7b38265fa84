"""The ``handshake-doctor`` command: sends ``check`` and ``inspect`` to the engine's command line
(no Qt is imported for them), ``report`` to the PDF writer, and everything else to the window."""

from __future__ import annotations

import sys
from collections.abc import Sequence

HEADLESS_COMMANDS = frozenset({"check", "inspect"})


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] != ["inspect"] and _asks_for_client_list(args):
        # '--client list' prints the apps' IDs whatever else is asked (the window, report).
        from core.cli import main as cli_main

        return cli_main(["check", "--client", "list"])
    if args and args[0] in HEADLESS_COMMANDS:
        from core.cli import main as cli_main

        return cli_main(args)
    if args and args[0] == "__pac-eval":  # core.pac's child process, in the frozen app
        from core.pac import child_main

        return child_main()
    if args and args[0] == "report":
        from gui.report_cli import main as report_main

        return int(report_main(args))
    if args and args[0] in ("-h", "--help"):
        from core.usage import build_parser

        build_parser().print_help()
        return 0
    if args and args[0] == "--version":
        from importlib.metadata import version

        print(f"handshake-doctor {version('handshake-doctor')}")
        return 0
    if args and args[0] == "--self-test":
        from gui.selftest import main as selftest_main

        return int(selftest_main(args[1:]))
    from gui.app import main as gui_main

    return gui_main(args)


def _asks_for_client_list(args: Sequence[str]) -> bool:
    for here, word in enumerate(args):
        if word == "--":
            return False
        if word == "--client=list" or (
            word == "--client" and args[here + 1 : here + 2] == ["list"]
        ):
            return True
    return False


def gui_main() -> int:
    return main()


def run() -> None:
    sys.exit(main())
