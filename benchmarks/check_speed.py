"""Median in-process time of a full ``--quick`` check against a loopback server (target: under
25 ms), and of ``inspect`` on a 3-certificate chain. Prints numbers; asserts nothing."""

from __future__ import annotations

import datetime as dt
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from core.diagnose import run_check
from core.inspect import inspect_chain
from core.models import CheckOptions, Target
from core.trust import TrustStores, build_stores
from tests.pki import Pki
from tests.tls_servers import TlsConfig, tls_server

RUNS = 40


def main() -> None:
    pki = Pki()
    leaf = pki.leaf()
    with tempfile.TemporaryDirectory() as tmp:
        root = pki.write_root(Path(tmp))
        options = CheckOptions(ca_file=root, no_network_time=True, quick=True, timeout=5)
        stores = build_stores(root, no_default_trust=False)  # Mozilla + OS + custom, as a user has
        with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
            target = Target("localhost", 443, "127.0.0.1", server.port, "localhost")
            run_check(target, options, stores=stores)  # warm: roots parsed, modules loaded
            times = []
            for _ in range(RUNS):
                started = time.perf_counter()
                report = run_check(target, options, stores=stores)
                times.append((time.perf_counter() - started) * 1000)
            assert report.handshake and report.handshake.ok
        median, p90 = statistics.median(times), sorted(times)[int(RUNS * 0.9)]
        print(
            f"check --quick (loopback, TLS 1.3, 3 stores): median {median:.1f} ms, "
            f"p90 {p90:.1f} ms over {RUNS} runs (target < 25 ms)"
        )
        chain = [leaf.cert, pki.intermediate.cert, pki.root.cert]
        custom = TrustStores(mozilla=stores.mozilla, os=stores.os, custom=(pki.root.cert,))
        now = dt.datetime.now(dt.UTC)
        inspect_chain(chain, custom, host="localhost", at=now)
        times = []
        for _ in range(RUNS):
            started = time.perf_counter()
            result = inspect_chain(chain, custom, host="localhost", at=now)
            times.append((time.perf_counter() - started) * 1000)
        assert result.valid
        median = statistics.median(times)
        print(f"inspect, 3-certificate chain: median {median:.2f} ms over {RUNS} runs")


if __name__ == "__main__":
    main()
