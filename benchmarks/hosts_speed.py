"""Wall time of ``check --hosts`` on a 50-host list against loopback servers of mixed kinds
(good, expired, wrong name, self-signed, refused, not TLS, expires soon, reset, two stuck ones
that cost a whole ``--timeout`` each), at ``--parallel`` 1, 4 and 8, as a user runs it: one
fresh process each. Also the most servers the run had busy at once. Prints numbers; asserts
nothing.

    python benchmarks/hosts_speed.py [--full] [--timeout SECONDS]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.batch_servers import MIXED, STUCK, WRONG_NAME_VIA, fleet  # noqa: E402
from tests.pki import Pki  # noqa: E402
from tests.tls_servers import ConcurrencyGauge  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--full", action="store_true", help="the full check, not --quick")
    parser.add_argument("--timeout", type=float, default=2.0, help="each check's --timeout")
    args = parser.parse_args()
    kinds = [STUCK, *MIXED * 3, STUCK, *MIXED * 3]
    kinds[-1] = WRONG_NAME_VIA
    pki = Pki()
    with tempfile.TemporaryDirectory() as tmp:
        root = pki.write_root(Path(tmp))
        listing = Path(tmp) / "hosts.txt"
        mode = "full" if args.full else "--quick"
        print(f"{len(kinds)} hosts, {mode}, --timeout {args.timeout:g}")
        for parallel in (1, 4, 8):
            gauge = ConcurrencyGauge()
            with fleet(pki, kinds, gauge=gauge) as hosts:
                listing.write_text("".join(f"{h.line}\n" for h in hosts))
                command = [
                    sys.executable,
                    "-m",
                    "handshake_doctor",
                    "check",
                    "--hosts",
                    str(listing),
                    "--parallel",
                    str(parallel),
                    "--json",
                    "--ca-file",
                    str(root),
                    "--no-network-time",
                    "--timeout",
                    str(args.timeout),
                    *([] if args.full else ["--quick"]),
                ]
                started = time.perf_counter()
                done = subprocess.run(command, capture_output=True, text=True, cwd=ROOT)
                wall = time.perf_counter() - started
            durations = [json.loads(line)["duration_ms"] for line in done.stdout.splitlines()]
            slowest = max(durations, default=0.0) / 1000
            total = sum(durations) / 1000
            print(
                f"--parallel {parallel}: {wall:.2f} s wall (exit {done.returncode}); "
                f"{len(durations)} checks, slowest {slowest:.2f} s, sum of checks {total:.2f} s; "
                f"at most {gauge.max_servers} servers busy at once"
            )


if __name__ == "__main__":
    main()
