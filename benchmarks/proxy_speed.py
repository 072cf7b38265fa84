"""What the proxy path costs: a full check through a real loopback proxy against the same check
straight to the server, and what the captive-portal probe and the direct-route comparison add.

    python benchmarks/proxy_speed.py [--runs 15]

Warm, in one process (the stores built once, as in the window's tenth check), medians of
``--runs`` checks of a loopback TLS 1.3 server:

1. direct            — no proxy (CheckOptions default);
2. through tinyproxy — ``--proxy http://127.0.0.1:PORT``: every connection (the handshake and
   each prober hello) is a CONNECT tunnel; the direct-route comparison runs beside it;
3. the same, with the portal probe answered by a loopback HTTP server.

Targets (issue 13): (2) at most 1.3x (1); (3) at most 10 ms over (2), the probe running in
parallel with the handshake. Exit status 1 if a target is missed; "skipped" (exit 0) without
tinyproxy.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path[:0] = [str(REPO)]
RATIO_TARGET = 1.3
PROBE_TARGET_MS = 10.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=15)
    args = parser.parse_args()

    from core.diagnose import run_check
    from core.models import CheckOptions, ProxyEndpoint, ProxyScheme, Target
    from core.trust import build_stores
    from tests.http_servers import http_ok, http_raw
    from tests.pki import Pki
    from tests.proxy_servers import have_tinyproxy, tinyproxy
    from tests.tls_servers import LoopbackServer, TlsConfig, tls_server

    if not have_tinyproxy():
        print("skipped: tinyproxy is not installed")
        return 0
    pki = Pki()
    work = Path(tempfile.mkdtemp(prefix="hd-proxy-bench-"))
    root = pki.write_root(work)
    stores = build_stores(root, no_default_trust=False)
    leaf = pki.leaf()
    with (
        tls_server(TlsConfig([leaf, pki.intermediate], leaf), lifetime=600) as site,
        tinyproxy(work) as proxy_port,
        LoopbackServer(http_raw(http_ok(b"hello", "text/plain")), lifetime=600) as probe,
    ):
        target = Target("localhost", site.port, sni="localhost")
        base = CheckOptions(ca_file=root, no_network_time=True, timeout=5.0)
        proxy = ProxyEndpoint(ProxyScheme.HTTP, "127.0.0.1", proxy_port)
        cases = {
            "direct": base,
            "through tinyproxy": CheckOptions(**{**base.__dict__, "proxy": proxy}),
            "through tinyproxy + portal probe": CheckOptions(
                **{**base.__dict__, "proxy": proxy, "portal_url": f"http://{probe.address}/"}
            ),
        }
        medians: dict[str, float] = {}
        for name, options in cases.items():
            run_check(target, options, stores=stores)  # warm-up
            times = []
            for _ in range(args.runs):
                started = time.perf_counter()
                report = run_check(target, options, stores=stores)
                times.append((time.perf_counter() - started) * 1000)
                assert report.handshake is not None and report.handshake.ok, name
            medians[name] = statistics.median(times)
            print(f"{name:34} median {medians[name]:7.1f} ms  (min {min(times):.1f})")
    ratio = medians["through tinyproxy"] / medians["direct"]
    probe_ms = medians["through tinyproxy + portal probe"] - medians["through tinyproxy"]
    load = os.getloadavg()[0]
    print(f"proxied / direct: {ratio:.2f}x (target <= {RATIO_TARGET}x)")
    print(f"portal probe adds: {probe_ms:+.1f} ms (target <= {PROBE_TARGET_MS:g} ms)")
    print(f"load average: {load:.2f}")
    return 0 if ratio <= RATIO_TARGET and probe_ms <= PROBE_TARGET_MS else 1


if __name__ == "__main__":
    sys.exit(main())
