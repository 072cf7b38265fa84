"""Start-up time of the frozen app, next to a bare PySide6 window frozen the same way.

    python benchmarks/startup.py                   # needs `make package` first
    python benchmarks/startup.py --runs 15 --cold  # drop the page cache before each run (root)

"Start-up" is the wall time from starting the executable to its window being shown. The app
reports that moment itself when HANDSHAKE_DOCTOR_EXIT_AFTER_SHOW=1 is set: gui/app.py prints
``shown`` right after ``window.show()`` once the event loop has run (``QTimer.singleShot(0, ...)``);
packaging/bare_window.py does exactly the same, so the two numbers compare like for like. (The app
then builds the rest of its window, prints ``ready`` and quits; that is not timed here.) Until
gui/app.py has that hook, the moment is taken from outside instead: on an X server (Xvfb is
started if there is no DISPLAY), the time the window with the app's title is mapped.

The bare window is built by packaging/HandshakeDoctor.spec with ``--bare`` (same excludes, same
Qt trimming, onedir) into build/bench/ on first use. Runs alternate app, bare, app, bare, ... so
drift on the machine affects both. Targets (issue 7): under 0.5 s, and within 1.3x the bare window.
Exit status 1 if a target is missed, 0 with "skipped" when there is nothing to measure.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
SPEC = REPO / "packaging" / "HandshakeDoctor.spec"
APP = REPO / "dist" / "HandshakeDoctor" / "HandshakeDoctor"
BARE_DIR = REPO / "build" / "bench"
BARE = BARE_DIR / "dist" / "BareWindow" / "BareWindow"
HOOK = "HANDSHAKE_DOCTOR_EXIT_AFTER_SHOW"
TITLES = {"app": "Handshake Doctor", "bare": "Bare window"}
TARGET_SECONDS = 0.5
TARGET_RATIO = 1.3


def build_bare() -> None:
    """Freeze packaging/bare_window.py with the app's spec, unless an up-to-date build exists."""
    sources = [SPEC, REPO / "packaging" / "bare_window.py"]
    if BARE.is_file() and all(BARE.stat().st_mtime > s.stat().st_mtime for s in sources):
        return
    print("building the bare window with packaging/HandshakeDoctor.spec -- --bare ...", flush=True)
    started = time.monotonic()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "PyInstaller",
            "--noconfirm",
            "--log-level",
            "WARN",
            "--distpath",
            str(BARE_DIR / "dist"),
            "--workpath",
            str(BARE_DIR / "work"),
            str(SPEC),
            "--",
            "--bare",
        ],
        check=True,
        cwd=REPO,
    )
    print(f"built in {time.monotonic() - started:.1f} s", flush=True)


def app_has_hook() -> bool:
    return HOOK in (REPO / "gui" / "app.py").read_text(encoding="utf-8")


def drop_caches() -> None:
    subprocess.run(["sync"], check=True)
    Path("/proc/sys/vm/drop_caches").write_text("3\n")


def time_with_hook(exe: Path, env: dict[str, str], timeout: float = 30.0) -> float:
    """Seconds from spawning ``exe`` until it prints ``shown``."""
    env = {**env, HOOK: "1"}
    started = time.perf_counter()
    with subprocess.Popen(
        [str(exe)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=env
    ) as proc:
        assert proc.stdout is not None
        for line in proc.stdout:
            if line.strip() == "shown":
                took = time.perf_counter() - started
                break
        else:
            raise RuntimeError(f"{exe.name} exited {proc.wait()} without printing 'shown'")
        proc.wait(timeout)
    return took


def time_until_mapped(exe: Path, env: dict[str, str], title: str, timeout: float = 30.0) -> float:
    """Seconds from spawning ``exe`` until X reports a viewable window named ``title``."""
    started = time.perf_counter()
    with (
        tempfile.TemporaryFile() as errors,
        subprocess.Popen([str(exe)], stdout=subprocess.DEVNULL, stderr=errors, env=env) as proc,
    ):
        try:
            while time.perf_counter() - started < timeout:
                info = subprocess.run(
                    ["xwininfo", "-name", title], capture_output=True, text=True, env=env
                ).stdout
                if "IsViewable" in info:
                    return time.perf_counter() - started
                if proc.poll() is not None:
                    errors.seek(0)
                    tail = errors.read().decode(errors="replace")[-1500:]
                    raise RuntimeError(
                        f"{exe.name} exited {proc.returncode} before showing:\n{tail}"
                    )
                time.sleep(0.002)
            raise RuntimeError(f"no window named {title!r} within {timeout} s")
        finally:
            proc.terminate()
            proc.wait(10)


@contextlib.contextmanager
def x_display(env: dict[str, str]) -> Iterator[dict[str, str]]:
    """The caller's X display, or a private Xvfb for the duration."""
    if env.get("DISPLAY"):
        yield env
        return
    if not shutil.which("Xvfb"):
        raise RuntimeError("no DISPLAY and no Xvfb to measure the window from outside")
    read_end, write_end = os.pipe()
    # -displayfd: Xvfb picks a free display number and writes it to the pipe once it accepts
    # connections, so there is neither a race nor a clash with another X server.
    with subprocess.Popen(
        [
            "Xvfb",
            "-displayfd",
            str(write_end),
            "-screen",
            "0",
            "1280x900x24",
            "-nolisten",
            "tcp",
            "-noreset",
        ],
        stderr=subprocess.DEVNULL,
        pass_fds=(write_end,),
    ) as xvfb:
        os.close(write_end)
        try:
            with os.fdopen(read_end) as pipe:
                number = pipe.readline().strip()
            if not number:
                raise RuntimeError("Xvfb did not start")
            yield {**env, "DISPLAY": f":{number}"}
        finally:
            xvfb.terminate()
            xvfb.wait(10)


def summarize(name: str, times: list[float]) -> str:
    return (
        f"{name:<22} median {statistics.median(times):.3f} s   "
        f"min {min(times):.3f}   max {max(times):.3f}   (n={len(times)})"
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10, help="measured runs of each (default 10)")
    parser.add_argument("--app", type=Path, default=APP, help="the frozen app's executable")
    parser.add_argument("--cold", action="store_true", help="drop the page cache before each run")
    parser.add_argument(
        "--method",
        choices=("auto", "hook", "x11"),
        default="auto",
        help=f"hook: the app prints 'shown' ({HOOK}=1); x11: watch for the mapped window",
    )
    args = parser.parse_args(argv)

    if not args.app.is_file():
        print(f"skipped: no frozen app at {args.app}; run `make package` first")
        return 0
    try:
        import PyInstaller  # noqa: F401 - only checking it is there
    except ImportError:
        print("skipped: PyInstaller is not installed here; run `make package` first")
        return 0
    build_bare()

    method = args.method
    if method == "auto":
        method = "hook" if app_has_hook() else "x11"
    env = dict(os.environ)
    env.setdefault("QT_QPA_PLATFORM", "offscreen" if method == "hook" else "xcb")
    if method == "x11":
        env["QT_QPA_PLATFORM"] = "xcb"

    with contextlib.ExitStack() as stack:
        if method == "x11":
            env = stack.enter_context(x_display(env))
        exes = {"app": args.app, "bare": BARE}

        def once(which: str) -> float:
            if args.cold:
                drop_caches()
            if method == "hook":
                return time_with_hook(exes[which], env)
            return time_until_mapped(exes[which], env, TITLES[which])

        with tempfile.TemporaryDirectory() as home:
            # A fresh settings folder: no saved window geometry or history changes the work done.
            env["XDG_CONFIG_HOME"] = home
            for which in exes:  # warm-up: load the files into the page cache once
                once(which)
            times: dict[str, list[float]] = {"app": [], "bare": []}
            for _ in range(args.runs):
                for which in exes:
                    times[which].append(once(which))

    app_median = statistics.median(times["app"])
    bare_median = statistics.median(times["bare"])
    ratio = app_median / bare_median
    cache = "cold (page cache dropped)" if args.cold else "warm"
    print(f"start-up to window shown, {cache}, platform {env['QT_QPA_PLATFORM']}, method {method}")
    print(summarize("Handshake Doctor", times["app"]))
    print(summarize("bare PySide6 window", times["bare"]))
    ok_time = app_median < TARGET_SECONDS
    ok_ratio = ratio <= TARGET_RATIO
    print(
        f"ratio {ratio:.2f}x (target <= {TARGET_RATIO}x: {'ok' if ok_ratio else 'MISSED'}); "
        f"median {app_median:.3f} s (target < {TARGET_SECONDS} s: {'ok' if ok_time else 'MISSED'})"
    )
    return 0 if ok_time and ok_ratio else 1


if __name__ == "__main__":
    sys.exit(main())
