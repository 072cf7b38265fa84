"""A check as a user runs it: one fresh process per check, against a loopback TLS 1.3 server.

    python benchmarks/cold_start.py [--runs 7]

benchmarks/check_speed.py times a check after a warm-up in one process; nobody runs the app that
way. Here every run is a new process: ``handshake-doctor check ... --json --quick`` (its JSON's
``duration_ms`` and the whole process), the full check (with the enumeration), and the window
started with the host until its first verdict (HANDSHAKE_DOCTOR_EXIT_AFTER_VERDICT=1). Beside
them: curl fetching the same page, sslyze's equivalent scan where installed (env SSLYZE, else
/tmp/sslyze-venv/bin/sslyze), and the floors that no Python process gets under (the interpreter
alone; the interpreter with ssl and cryptography.x509). The warm in-process numbers are printed
last, for comparison. Prints numbers and the targets of issue 15; asserts nothing, and is not
part of ``make test``.

Runs alternate the commands, so drift on the shared machine affects them all alike. The root
cache lives in a private folder (HANDSHAKE_DOCTOR_CACHE_DIR); the first, untimed run fills it,
as a user's first check ever does. The app's modules are byte-compiled first, as an installed
app's are (with PYTHONDONTWRITEBYTECODE set, every run would otherwise compile them again).
``--app-dir`` times another checkout of the app (``git archive COMMIT | tar -x -C DIR``), run
as ``python -m handshake_doctor`` from there, for before/after numbers.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from tests.pki import Pki  # noqa: E402 - after the path is set
from tests.tls_servers import LoopbackServer, TlsConfig, tls_server  # noqa: E402

EXIT_AFTER_VERDICT = "HANDSHAKE_DOCTOR_EXIT_AFTER_VERDICT"
TARGET_QUICK_MS = 15.0
TARGET_CURL_RATIO = 1.5
TARGET_SSLYZE_RATIO = 0.2
TARGET_WINDOW_RATIO = 1.5
#: sslyze's scan commands that cover what the full check covers.
SSLYZE_SCANS = (
    "--certinfo",
    "--sslv3",
    "--tlsv1",
    "--tlsv1_1",
    "--tlsv1_2",
    "--tlsv1_3",
    "--elliptic_curves",
)
#: sslyze's JSON names for each scan's result, with our protocol names.
SSLYZE_SUITES = {
    "ssl_3_0_cipher_suites": "SSLv3",
    "tls_1_0_cipher_suites": "TLSv1.0",
    "tls_1_1_cipher_suites": "TLSv1.1",
    "tls_1_2_cipher_suites": "TLSv1.2",
    "tls_1_3_cipher_suites": "TLSv1.3",
}


def loadavg() -> str:
    try:
        return Path("/proc/loadavg").read_text().strip()
    except OSError:
        return "unknown"


def app_command(app_dir: Path | None) -> list[str]:
    """The installed console script if there is one (what a user runs), else the module."""
    if app_dir is not None:
        return [sys.executable, "-m", "handshake_doctor"]
    script = Path(sys.executable).with_name("handshake-doctor")
    if script.is_file():
        return [str(script)]
    return [sys.executable, "-m", "handshake_doctor"]


def sslyze_command() -> str | None:
    # The suggested separate venv; a fixed path that is only ever read, never written.
    found = os.environ.get("SSLYZE") or "/tmp/sslyze-venv/bin/sslyze"  # noqa: S108
    if os.path.isfile(found) and os.access(found, os.X_OK):
        return found
    return shutil.which("sslyze") if not os.environ.get("SSLYZE") else None


def timed(
    argv: list[str], env: dict[str, str], *, wait_for: str | None = None, cwd: Path | None = None
) -> tuple[float, str]:
    """(seconds from spawn to exit, or to the first stdout line starting with ``wait_for``;
    stdout up to then)."""
    started = time.perf_counter()
    with subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True, cwd=cwd
    ) as proc:
        assert proc.stdout is not None
        if wait_for is None:
            out, err = proc.communicate(timeout=120)
            took = time.perf_counter() - started
        else:
            out, took = "", -1.0
            for line in proc.stdout:
                out += line
                if line.startswith(wait_for):
                    took = time.perf_counter() - started
                    break
            proc.wait(30)
            err = proc.stderr.read() if proc.stderr else ""
            if took < 0:
                raise RuntimeError(
                    f"{argv[0]} exited {proc.returncode} with no {wait_for!r}:\n{err}"
                )
    if wait_for is None and proc.returncode not in (0, 1):
        raise RuntimeError(f"{' '.join(argv)} exited {proc.returncode}:\n{err[-2000:]}")
    return took, out


@contextlib.contextmanager
def server() -> Iterator[tuple[LoopbackServer, Path]]:
    pki = Pki()
    leaf = pki.leaf()
    with tempfile.TemporaryDirectory() as tmp:
        root = pki.write_root(Path(tmp))
        with tls_server(TlsConfig([leaf, pki.intermediate], leaf), lifetime=900) as srv:
            yield srv, root


def med(values: list[float]) -> float:
    return statistics.median(values)


def line(name: str, values: list[float], unit: str = "ms", scale: float = 1000.0) -> str:
    shown = [v * scale for v in values]
    return (
        f"  {name:<44} median {med(shown):8.1f} {unit}   min {min(shown):8.1f}   "
        f"max {max(shown):8.1f}   (n={len(shown)})"
    )


def verdict(ok: bool) -> str:
    return "met" if ok else "MISSED"


def accepted_suites_ours(payload: dict[str, object]) -> dict[str, set[str]]:
    ciphers = payload.get("ciphers") or {}
    assert isinstance(ciphers, dict)
    return {k: set(v) for k, v in ciphers.items() if v}


def accepted_suites_sslyze(path: Path) -> dict[str, set[str]]:
    data = json.loads(path.read_text())
    result = data["server_scan_results"][0]["scan_result"]
    found: dict[str, set[str]] = {}
    for key, name in SSLYZE_SUITES.items():
        attempt = result.get(key) or {}
        suites = (attempt.get("result") or {}).get("accepted_cipher_suites") or []
        names = {s["cipher_suite"]["name"] for s in suites}
        if names:
            found[name] = names
    return found


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=7, help="fresh processes of each (default 7)")
    parser.add_argument("--no-window", action="store_true", help="skip the window runs")
    parser.add_argument("--app-dir", type=Path, help="time the app in this checkout instead")
    args = parser.parse_args(argv)
    runs = args.runs
    app_dir: Path | None = args.app_dir.resolve() if args.app_dir else None
    source = app_dir or REPO
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", "core", "gui", "handshake_doctor"],
        cwd=source,
        check=True,
    )
    if app_dir is not None and EXIT_AFTER_VERDICT not in (app_dir / "gui" / "app.py").read_text():
        print(f"{app_dir} has no {EXIT_AFTER_VERDICT} hook: the window is not timed")
        args.no_window = True
    print(f"app: {source}")
    print(f"machine load before: {loadavg()}  ({os.cpu_count()} cores)")
    sslyze = sslyze_command()
    curl = shutil.which("curl")

    with server() as (srv, root), tempfile.TemporaryDirectory() as scratch:
        env = dict(os.environ)
        env["HANDSHAKE_DOCTOR_CACHE_DIR"] = str(Path(scratch) / "cache")
        env["XDG_CONFIG_HOME"] = str(Path(scratch) / "config")
        env.setdefault("QT_QPA_PLATFORM", "offscreen")
        env.pop(EXIT_AFTER_VERDICT, None)
        host_args = ["localhost", "--connect", f"127.0.0.1:{srv.port}", "--ca-file", str(root)]
        app = app_command(app_dir)
        check = [*app, "check", *host_args, "--json", "--no-network-time"]
        quick = [*check, "--quick"]
        window = [*app, *host_args, "--no-network-time", "--quick"]
        window_env = {**env, EXIT_AFTER_VERDICT: "1"}
        py = sys.executable

        commands: dict[str, Callable[[], tuple[float, str]]] = {
            "python -c pass": lambda: timed([py, "-c", "pass"], env),
            "python + ssl + cryptography.x509": lambda: timed(
                [py, "-c", "import ssl, cryptography.x509"], env
            ),
            "check --quick (process)": lambda: timed(quick, env, cwd=app_dir),
            "check, full (process)": lambda: timed(check, env, cwd=app_dir),
        }
        if curl:
            commands["curl"] = lambda: timed(
                [
                    curl,
                    "-s",
                    "-o",
                    os.devnull,
                    "--cacert",
                    str(root),
                    "--resolve",
                    f"localhost:{srv.port}:127.0.0.1",
                    f"https://localhost:{srv.port}/",
                ],
                env,
            )
        if not args.no_window:
            commands["window to first verdict (--quick)"] = lambda: timed(
                window, window_env, wait_for="verdict", cwd=app_dir
            )
            commands["PySide6 QApplication floor"] = lambda: timed(
                [
                    py,
                    "-c",
                    "from PySide6.QtWidgets import QApplication, QWidget; "
                    "a = QApplication([]); w = QWidget(); w.show(); a.processEvents()",
                ],
                env,
            )
        sslyze_json = Path(scratch) / "sslyze.json"
        if sslyze:
            commands["sslyze scan"] = lambda: timed(
                [
                    sslyze,
                    *SSLYZE_SCANS,
                    "--quiet",
                    f"--json_out={sslyze_json}",
                    f"localhost:{srv.port}{{127.0.0.1}}",
                ],
                env,
            )

        # Untimed: fills the page cache and the root cache, as a user's first check ever does.
        first_ever, _ = timed(quick, env, cwd=app_dir)
        times: dict[str, list[float]] = {name: [] for name in commands}
        durations: dict[str, list[float]] = {"quick": [], "full": []}
        outputs: dict[str, str] = {}
        for run in commands.values():
            run()  # one warm-up each
        for _ in range(runs):
            for name, run in commands.items():
                took, out = run()
                times[name].append(took)
                outputs[name] = out
                if name.startswith("check --quick"):
                    durations["quick"].append(json.loads(out)["duration_ms"] / 1000)
                elif name.startswith("check, full"):
                    durations["full"].append(json.loads(out)["duration_ms"] / 1000)

        print(f"fresh processes, loopback TLS 1.3 server, {runs} runs each, medians:")
        print(f"  first check ever (empty root cache)            {first_ever * 1000:8.1f} ms")
        for name, values in times.items():
            print(line(name, values))
        print(line("check --quick: JSON duration_ms", durations["quick"]))
        print(line("check, full: JSON duration_ms", durations["full"]))

        quick_ms = med(durations["quick"]) * 1000
        print("targets (issue 15):")
        print(
            f"  quick duration_ms {quick_ms:.1f} ms (target <= {TARGET_QUICK_MS:.0f}): "
            f"{verdict(quick_ms <= TARGET_QUICK_MS)}"
        )
        if curl:
            ratio = med(times["check --quick (process)"]) / med(times["curl"])
            floor = med(times["python -c pass"]) / med(times["curl"])
            floor_x509 = med(times["python + ssl + cryptography.x509"]) / med(times["curl"])
            print(
                f"  quick process / curl {ratio:.2f}x (target <= {TARGET_CURL_RATIO}x): "
                f"{verdict(ratio <= TARGET_CURL_RATIO)}; floors: bare python {floor:.2f}x, "
                f"python+ssl+cryptography.x509 {floor_x509:.2f}x"
            )
        else:
            print("  quick process / curl: skipped (no curl)")
        if sslyze:
            ratio = med(times["check, full (process)"]) / med(times["sslyze scan"])
            ours = accepted_suites_ours(json.loads(outputs["check, full (process)"]))
            theirs = accepted_suites_sslyze(sslyze_json)
            same = (
                "same accepted suites" if ours == theirs else f"SUITES DIFFER: {ours} vs {theirs}"
            )
            print(
                f"  full process / sslyze {ratio:.2f}x (target <= {TARGET_SSLYZE_RATIO}x): "
                f"{verdict(ratio <= TARGET_SSLYZE_RATIO)}; {same}"
            )
        else:
            print("  full process / sslyze: skipped (no sslyze; set SSLYZE=/path/to/sslyze)")
        if not args.no_window:
            ratio = med(times["window to first verdict (--quick)"]) / med(
                times["check --quick (process)"]
            )
            floor = med(times["PySide6 QApplication floor"]) / med(times["check --quick (process)"])
            print(
                f"  window to first verdict / CLI quick process {ratio:.2f}x "
                f"(target <= {TARGET_WINDOW_RATIO}x): {verdict(ratio <= TARGET_WINDOW_RATIO)}; "
                f"floor (a bare PySide6 window, no check) {floor:.2f}x"
            )

        if app_dir is None:
            print("warm, in one process (benchmarks/check_speed.py measures the same, longer):")
            warm(srv.port, root)
    print(f"machine load after: {loadavg()}")
    return 0


def warm(port: int, root: Path) -> None:
    from core.diagnose import run_check
    from core.models import CheckOptions, Target
    from core.trust import build_stores

    options = CheckOptions(ca_file=root, no_network_time=True, quick=True, timeout=5)
    stores = build_stores(root, no_default_trust=False)
    target = Target("localhost", 443, "127.0.0.1", port, "localhost")
    run_check(target, options, stores=stores)
    took = []
    for _ in range(20):
        started = time.perf_counter()
        run_check(target, options, stores=stores)
        took.append(time.perf_counter() - started)
    print(line("check --quick, warm (in process, 20 runs)", took))


if __name__ == "__main__":
    sys.exit(main())
