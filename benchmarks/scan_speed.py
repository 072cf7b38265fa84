"""How fast is a full enumeration, and how many hellos does it cost?

Starts a TLS server on 127.0.0.1 in a separate process (TLS 1.2 and 1.3, its own order, 17 + 3
suites), enumerates it several times and prints the wall time of each run and the hellos sent
per version. Targets (issue 4): under 300 ms, and no more than accepted + 1 hellos per version.
For scale: sslyze takes about 1.4 s and testssl.sh about 20 s for such a server.

Usage: ``python benchmarks/scan_speed.py [--runs N]``. Prints numbers; exits 1 if a target is
missed, so ``make bench`` notices.
"""

from __future__ import annotations

import argparse
import multiprocessing
import ssl
import statistics
import sys
import time
from multiprocessing.connection import Connection
from multiprocessing.synchronize import Event
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.budget import Budget
from core.probe.hello import ServerEnumeration, enumerate_server
from core.wire.records import VERSION_LABELS
from tests.overlap_servers import OverlapServer, ServerSpec

TARGET_MS = 300.0
SUITES_TLS12 = ":".join(
    [
        "ECDHE-RSA-AES256-GCM-SHA384",
        "ECDHE-RSA-AES128-GCM-SHA256",
        "ECDHE-RSA-CHACHA20-POLY1305",
        "ECDHE-RSA-AES256-SHA384",
        "ECDHE-RSA-AES128-SHA256",
        "ECDHE-RSA-AES256-SHA",
        "ECDHE-RSA-AES128-SHA",
        "AES256-GCM-SHA384",
        "AES128-GCM-SHA256",
        "AES256-SHA256",
        "AES128-SHA256",
        "AES256-SHA",
        "AES128-SHA",
        "CAMELLIA256-SHA",
        "CAMELLIA128-SHA",
        "ARIA256-GCM-SHA384",
        "ARIA128-GCM-SHA256",
    ]
)


def serve(port_out: Connection, stop: Event) -> None:
    """The server process: a real server is not in the prober's process, nor under its GIL."""
    spec = ServerSpec(
        ssl.TLSVersion.TLSv1_2, ssl.TLSVersion.TLSv1_3, SUITES_TLS12, server_preference=True
    )
    with OverlapServer(spec, lifetime=120) as server:
        port_out.send(server.port)
        stop.wait(120)


def run_once(port: int) -> tuple[float, ServerEnumeration]:
    started = time.perf_counter()
    result = enumerate_server("127.0.0.1", port, "localhost", Budget(5.0, total=30))
    return (time.perf_counter() - started) * 1000, result


def report(result: ServerEnumeration) -> bool:
    ok = True
    print(f"{'version':<9} {'accepted':>8} {'suites':>6} {'hellos':>6}  target")
    for version in VERSION_LABELS:
        accepted = result.versions.get(version)
        suites = len(result.ciphers.get(version, ()))
        hellos = result.hellos_sent.get(version, 0)
        within = hellos <= suites + 1
        ok &= within
        print(
            f"{version:<9} {accepted!s:>8} {suites:>6} {hellos:>6}  "
            f"<= {suites + 1} {'ok' if within else 'MISSED'}"
        )
    print(f"groups: {len(result.groups)} found with {result.hellos_sent.get('groups', 0)} hellos")
    print(f"server order: {result.server_preference}; total hellos: {result.total_hellos}")
    if result.errors:
        print("errors:", "; ".join(result.errors))
        ok = False
    return ok


def main() -> int:
    parser = argparse.ArgumentParser(description="Time a full enumeration of a loopback server.")
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    stop = context.Event()
    server = context.Process(target=serve, args=(sender, stop), daemon=True)
    server.start()
    try:
        if not receiver.poll(30):
            print("the server process did not start")
            return 1
        port = int(receiver.recv())
        times: list[float] = []
        result: ServerEnumeration | None = None
        for _ in range(args.runs):
            took, result = run_once(port)
            times.append(took)
    finally:
        stop.set()
        server.join(10)
    assert result is not None
    accepted = sum(len(s) for s in result.ciphers.values())
    print(f"loopback server accepting {accepted} suites; {args.runs} runs")
    print("wall time per run (ms): " + ", ".join(f"{t:.0f}" for t in times))
    median = statistics.median(times)
    print(
        f"first (cold) {times[0]:.0f} ms, median {median:.0f} ms, best {min(times):.0f} ms; "
        f"target < {TARGET_MS:.0f} ms {'ok' if median < TARGET_MS else 'MISSED'}"
    )
    ok = report(result) and median < TARGET_MS
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
