"""The command line of a ``check`` against a test server on loopback, written once."""

from __future__ import annotations

from pathlib import Path


def check_args(
    address: str | None,
    root_file: Path | None,
    *extra: str,
    host: str = "localhost",
    quick: bool = True,
    timeout: float = 3.0,
) -> list[str]:
    """``check HOST --connect ADDRESS --ca-file ROOT [--quick] --no-network-time --timeout T``,
    then ``extra`` (an output mode, more options). Network time is off: no test asks a public
    time server. ``address`` None leaves the name to be resolved (``--port`` in ``extra``)."""
    args = ["check", host]
    if address is not None:
        args += ["--connect", address]
    if root_file is not None:
        args += ["--ca-file", str(root_file)]
    if quick:
        args.append("--quick")
    return [*args, "--no-network-time", "--timeout", f"{timeout:g}", *extra]
