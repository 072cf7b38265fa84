"""Standard output as the commands write it: in whatever encoding it has, and with a failed
write reported as the user's environment (a full disk, a closed descriptor), never as a bug.

One place for ``check``, ``inspect`` and ``report``, so that each degrades the same way: a
character the encoding lacks becomes a plain replacement or a visible escape, a reader that went
away (``| head -1``) ends the output silently, any other failed write raises OutputError.
"""

from __future__ import annotations

import contextlib
import sys


class OutputError(Exception):
    """Standard output does not take what we write (a full disk, a closed descriptor): the
    user's environment, not a bug of ours, so one line and exit status 2."""


#: Our own typography, for an output encoding that lacks it (ASCII, cp1252 lacks ✓ and ✗);
#: what is still missing after this, strangers' text above all, becomes a visible escape.
_PLAIN = str.maketrans(
    {"—": "-", "–": "-", "“": '"', "”": '"', "‘": "'", "’": "'", "…": "...", "✓": "+", "✗": "x"}
)

_output_gone = False


def reset() -> None:
    """A new command in the same process (tests, the window's report) writes again."""
    global _output_gone
    _output_gone = False


def require_stdout() -> None:
    """Refuse before the work starts, not after it, when there is no standard output at all."""
    if sys.stdout is None:  # started with standard output closed (``>&-``)
        raise OutputError("standard output is closed")


def write_output(text: str) -> None:
    """Write ``text`` to standard output now (flushed, while an error can still be reported)."""
    global _output_gone
    stream = sys.stdout
    if stream is None:
        raise OutputError("standard output is closed")
    if _output_gone:
        return
    encoding = getattr(stream, "encoding", None) or "utf-8"
    try:
        text.encode(encoding)
    except UnicodeEncodeError:
        text = text.translate(_PLAIN).encode(encoding, "backslashreplace").decode(encoding)
    except LookupError:  # an encoding name Python does not know: leave it to the stream
        pass
    try:
        stream.write(text)
        stream.flush()
    except BrokenPipeError:
        _output_gone = True
        _silence_stdout()
    except OSError as exc:
        reason = (exc.strerror or type(exc).__name__).lower()
        raise OutputError(reason) from None


def write_file(path: str, text: str) -> None:
    """Write ``text`` to the file ``path`` (``-``: standard output), whole or not at all said to
    be written: a full disk, a folder or a missing directory raise OutputError with the reason,
    the same one line that a failed standard output gives."""
    if path == "-":
        write_output(text)
        return
    try:
        with open(path, "w", encoding="utf-8", newline="") as out:
            out.write(text)
    except OSError as exc:
        from core.untrusted import visible

        reason = (exc.strerror or type(exc).__name__).lower()
        raise OutputError(f"{visible(path, limit=200)}: {reason}") from None


def report_output_error(prog: str, exc: OutputError) -> None:
    if sys.stderr is not None:
        with contextlib.suppress(OSError):
            sys.stderr.write(f"{prog}: cannot write the output: {exc}\n")


def _silence_stdout() -> None:
    """Point the standard output's descriptor at the null device, so that the interpreter's
    last flush of what is still buffered does not report the broken pipe on its own."""
    import os

    with contextlib.suppress(OSError, ValueError, AttributeError):
        fd = os.open(os.devnull, os.O_WRONLY)
        os.dup2(fd, sys.stdout.fileno())
        os.close(fd)
