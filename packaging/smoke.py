#!/usr/bin/env python3
"""Smoke-test a frozen build: run the bundle's executable as a user and a script would.

    python packaging/smoke.py dist/HandshakeDoctor/HandshakeDoctor      (make package-check)

Starts loopback TLS servers with the tests' own PKI (tests/pki.py, tests/tls_servers.py) and runs
the frozen binary against them: ``--version``, ``--self-test`` (which must name this platform's
own trust store and a number of roots above zero), ``check --json`` on a good and an
expired server, ``check`` as text, ``inspect``, ``report`` (PDF), and the window itself (offscreen,
and on a real X server when xvfb-run is installed). Each step prints one line; the first failure
ends the run with exit status 1 and the frozen program's output.

Needs only the runtime dependencies (cryptography) in the interpreter that runs it; finishes in
well under a minute on two cores.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Callable, Sequence
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.pki import DAY, NOW, Pki  # noqa: E402 - after the path is set
from tests.tls_servers import TlsConfig, tls_server  # noqa: E402

SHOWN_TIMEOUT = 30.0
#: The self-test's line for this computer's own trust store (gui/selftest.py, _os_store).
OS_STORE_LINE = re.compile(r"^ok +os store: (windows|macos|linux): (\d+) trust anchors", re.M)


def expected_platform() -> str:
    return {"win32": "windows", "darwin": "macos"}.get(sys.platform, "linux")


def os_verifier_line(output: str) -> str:
    """Windows and macOS: the self-test asked the OS's own verifier and it refused an unknown
    root; Linux has none to ask, and says so."""
    if expected_platform() == "linux":
        wanted = "skipped os verifier: on Linux"
    else:
        wanted = "ok      os verifier: "
    for line in output.splitlines():
        if line.startswith(wanted):
            return line.split(":", 1)[1].strip()
    raise SmokeFailure(f"--self-test printed no `{wanted.strip()}` line:\n{output[-2000:]}")


def os_store_line(output: str) -> str:
    """The self-test's os store line, checked: the platform's own store, with anchors."""
    match = OS_STORE_LINE.search(output)
    if match is None:
        raise SmokeFailure(f"--self-test printed no `os store` line:\n{output[-2000:]}")
    if match.group(1) != expected_platform():
        raise SmokeFailure(f"--self-test read the {match.group(1)} store on {sys.platform}")
    if int(match.group(2)) == 0:
        raise SmokeFailure(f"--self-test found no trust anchor: {match.group(0)}")
    return output[match.start() :].splitlines()[0].removeprefix("ok").strip()


class SmokeFailure(Exception):
    pass


def _env(**extra: str) -> dict[str, str]:
    """The user's environment without what a developer's shell may add (a venv, PYTHONPATH)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env.pop("QT_QPA_PLATFORM", None)
    env.update(extra)
    return env


def run(
    exe: Path, args: Sequence[str], *, expect: int | None = 0, timeout: float = 60, **env: str
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(exe), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env=_env(**env),
        cwd=tempfile.gettempdir(),  # not the repository: nothing may come from the source tree
        check=False,
    )
    if expect is not None and result.returncode != expect:
        raise SmokeFailure(
            f"`{exe.name} {' '.join(args)}` exited {result.returncode}, expected {expect}\n"
            f"--- stdout\n{result.stdout[-3000:]}\n--- stderr\n{result.stderr[-3000:]}"
        )
    return result


def check_args(address: str, root: Path, *extra: str) -> list[str]:
    return [
        "check",
        "localhost",
        "--connect",
        address,
        "--ca-file",
        str(root),
        "--quick",
        "--no-network-time",
        "--timeout",
        "5",
        *extra,
    ]


def window_shows(exe: Path, env: dict[str, str], wrapper: Sequence[str] = ()) -> str:
    """Start the window with HANDSHAKE_DOCTOR_EXIT_AFTER_SHOW=1. If gui/app.py honours it, the app
    prints ``shown`` (the first frame: the form), then ``ready`` (the panes, the catalogue and
    the icon, built after that frame), and exits 0; if not (yet), it must at least still be
    running after a few seconds, which proves the window came up without crashing.
    QT_DEBUG_PLUGINS=1 makes Qt say when a plugin it tried cannot load (a library trimmed away
    too eagerly): that fails too."""
    env = {**env, "HANDSHAKE_DOCTOR_EXIT_AFTER_SHOW": "1", "QT_DEBUG_PLUGINS": "1"}
    started = time.monotonic()
    with subprocess.Popen(
        [*wrapper, str(exe)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
        cwd=tempfile.gettempdir(),
        start_new_session=True,  # its own process group: xvfb-run, Xvfb and the app stop together
    ) as proc:
        try:
            out, err = proc.communicate(timeout=SHOWN_TIMEOUT if _has_hook() else 5)
            detail = f"shown and ready, exited after {time.monotonic() - started:.2f} s"
        except subprocess.TimeoutExpired:
            if hasattr(os, "killpg"):
                os.killpg(proc.pid, signal.SIGTERM)
            else:  # Windows: no process groups here; the app has no children to leave behind
                proc.kill()
            out, err = proc.communicate(timeout=10)
            if _has_hook():
                said = " then ".join(out.split()) or "nothing"
                raise SmokeFailure(
                    f"the window did not report `shown` then `ready` within {SHOWN_TIMEOUT} s "
                    f"(it said {said})\n{err[-2000:]}"
                ) from None
            detail = "up for 5 s without crashing (gui/app.py has no exit hook yet)"
        else:
            if proc.returncode != 0 or not {"shown", "ready"} <= set(out.split()):
                raise SmokeFailure(
                    f"the window exited {proc.returncode}\n"
                    f"--- stdout\n{out[-2000:]}\n--- stderr\n{err[-3000:]}"
                )
    broken = sorted({line.strip() for line in err.splitlines() if "annot load" in line})
    if broken:
        raise SmokeFailure("Qt could not load a bundled plugin:\n" + "\n".join(broken))
    loaded = sorted(set(re.findall(r'plugins/([\w-]+/[\w.-]+)" loaded library', err)))
    return f"{detail}; plugins loaded: {', '.join(loaded) or 'none reported'}"


def _has_hook() -> bool:
    return "HANDSHAKE_DOCTOR_EXIT_AFTER_SHOW" in (REPO / "gui" / "app.py").read_text("utf-8")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Smoke-test the frozen Handshake Doctor.")
    parser.add_argument("executable", type=Path)
    args = parser.parse_args(argv)
    exe: Path = args.executable.resolve()
    if not exe.is_file():
        print(f"smoke: {exe} does not exist; run make package first", file=sys.stderr)
        return 1
    version = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]["version"]
    pki = Pki()
    good_leaf = pki.leaf()
    expired_leaf = pki.leaf(not_before=NOW - 400 * DAY, not_after=NOW - 10 * DAY)

    with tempfile.TemporaryDirectory(prefix="hsd-smoke-") as tmp:
        folder = Path(tmp)
        root = pki.write_root(folder)
        chain_file = folder / "chain.pem"
        chain_file.write_bytes(good_leaf.pem + pki.intermediate.pem)

        def version_step() -> str:
            out = run(exe, ["--version"]).stdout.strip()
            if out != f"handshake-doctor {version}":
                raise SmokeFailure(f"--version printed {out!r}, expected version {version}")
            return out

        def self_test() -> str:
            # No QT_QPA_PLATFORM and no DISPLAY: the self-test must manage on its own.
            env = {"DISPLAY": "", "WAYLAND_DISPLAY": ""}
            result = run(exe, ["--self-test"], timeout=120, **env)
            store = os_store_line(result.stdout)
            verifier = os_verifier_line(result.stdout)
            return f"{result.stdout.strip().splitlines()[-1]}; {store}; os verifier: {verifier}"

        def check_good() -> str:
            with tls_server(TlsConfig([good_leaf, pki.intermediate], good_leaf)) as server:
                out = run(exe, check_args(server.address, root, "--json")).stdout
            report = json.loads(out)
            if report["verdict"] != "ok" or not report["handshake"]["ok"]:
                raise SmokeFailure(f"good server judged {report['verdict']}: {report['findings']}")
            if report["trust"].get("custom") is not True:
                raise SmokeFailure(f"--ca-file root not used: trust = {report['trust']}")
            return f"verdict ok, {report['handshake']['protocol']}"

        def check_expired() -> str:
            with tls_server(TlsConfig([expired_leaf, pki.intermediate], expired_leaf)) as server:
                result = run(exe, check_args(server.address, root, "--json"), expect=1)
            ids = [f["id"] for f in json.loads(result.stdout)["findings"]]
            if "cert-expired" not in ids:
                raise SmokeFailure(f"expired certificate not named: findings {ids}")
            return f"exit 1, findings {ids}"

        def check_text() -> str:
            with tls_server(TlsConfig([expired_leaf, pki.intermediate], expired_leaf)) as server:
                out = run(exe, check_args(server.address, root, "--no-color"), expect=1).stdout
            # The words come from the catalogue in the bundle: the report must not be just IDs.
            if "expired" not in out.lower() or len(out) < 200:
                raise SmokeFailure(f"text report lacks the catalogue's words:\n{out[:1500]}")
            return f"{len(out.splitlines())} lines of text"

        def inspect() -> str:
            result = run(
                exe,
                [
                    "inspect",
                    str(chain_file),
                    "--host",
                    "localhost",
                    "--ca-file",
                    str(root),
                    "--json",
                ],
            )
            json.loads(result.stdout)
            return "chain file valid"

        def report_pdf() -> str:
            if not (REPO / "gui" / "report_cli.py").is_file():
                return "skipped: gui/report_cli.py not written yet"
            pdf = folder / "report.pdf"
            with tls_server(TlsConfig([good_leaf, pki.intermediate], good_leaf)) as server:
                args = check_args(server.address, root, "-o", str(pdf))
                args[0] = "report"
                run(exe, args, timeout=120, DISPLAY="", WAYLAND_DISPLAY="")
            data = pdf.read_bytes() if pdf.is_file() else b""
            if not data.startswith(b"%PDF-"):
                raise SmokeFailure("`report -o report.pdf` wrote no PDF")
            return f"{len(data) // 1024} KiB PDF"

        def window_offscreen() -> str:
            return window_shows(exe, _env(QT_QPA_PLATFORM="offscreen"))

        def pac_eval() -> str:
            # The PAC file's child process is the frozen app itself (core.pac): it must find
            # pypac and dukpy's JavaScript engine inside the bundle.
            request = json.dumps(
                {
                    "pac": 'function FindProxyForURL(u, h) { return "PROXY 127.0.0.1:3128"; }',
                    "url": "https://a.example/",
                    "host": "a.example",
                }
            )
            result = subprocess.run(
                [str(exe), "__pac-eval"],
                input=request,
                capture_output=True,
                text=True,
                timeout=60,
                env=_env(),
                cwd=tempfile.gettempdir(),
                check=False,
            )
            answer = json.loads(result.stdout or "{}")
            if answer.get("result") != "PROXY 127.0.0.1:3128":
                raise SmokeFailure(f"the PAC child answered {result.stdout!r} {result.stderr!r}")
            return answer["result"]

        def window_x11() -> str:
            if not shutil.which("xvfb-run"):
                return "skipped: xvfb-run is not installed"
            env = _env(QT_QPA_PLATFORM="xcb")
            env.pop("DISPLAY", None)
            return window_shows(exe, env, ["xvfb-run", "-a", "-s", "-screen 0 1280x900x24"])

        steps: list[tuple[str, Callable[[], str]]] = [
            ("version", version_step),
            ("self-test", self_test),
            ("check good", check_good),
            ("check expired", check_expired),
            ("check text", check_text),
            ("inspect", inspect),
            ("report pdf", report_pdf),
            ("pac eval", pac_eval),
            ("window offscreen", window_offscreen),
            ("window x11", window_x11),
        ]
        started = time.monotonic()
        for name, step in steps:
            t0 = time.monotonic()
            try:
                detail = step()
            except (SmokeFailure, subprocess.TimeoutExpired, json.JSONDecodeError) as exc:
                print(f"FAILED  {name}: {exc}", flush=True)
                print(f"smoke: the frozen app failed `{name}`", file=sys.stderr)
                return 1
            print(f"ok      {name}: {detail} ({time.monotonic() - t0:.1f} s)", flush=True)
    print(f"smoke: all passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
