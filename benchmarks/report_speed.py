"""Time to write the PDF report for a full check (target: under 300 ms).

The report comes from a real full check (protocols, cipher suites and client profiles
enumerated) of a loopback server that still accepts TLS 1.0 and whose certificate expires soon,
so every section has content. The first export (fonts loaded, catalogue parsed) is printed apart
from the median of the warm ones. Prints numbers; asserts nothing.
"""

from __future__ import annotations

import os
import ssl
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtGui import QGuiApplication

from core.diagnose import run_check
from core.models import CheckOptions, Target
from gui.pdf import export_report
from tests.pki import DAY, NOW, Pki
from tests.tls_servers import TlsConfig, tls_server

RUNS = 15
TARGET_MS = 300.0


def main() -> None:
    app = QGuiApplication.instance() or QGuiApplication([])
    pki = Pki()
    leaf = pki.leaf(not_after=NOW + 10 * DAY)
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        root = pki.write_root(folder)
        cfg = TlsConfig(
            [leaf, pki.intermediate],
            leaf,
            min_version=ssl.TLSVersion.TLSv1,
            ciphers="DEFAULT:@SECLEVEL=0",
            server_preference=True,
        )
        with tls_server(cfg) as server:
            target = Target("localhost", 443, "127.0.0.1", server.port, "localhost")
            report = run_check(target, CheckOptions(ca_file=root, no_network_time=True, timeout=5))
        assert report.clients and report.ciphers, "expected a full report"
        started = time.perf_counter()
        pages = export_report(report, folder / "cold.pdf")
        cold = (time.perf_counter() - started) * 1000
        times = []
        for i in range(RUNS):
            started = time.perf_counter()
            export_report(report, folder / f"warm{i}.pdf")
            times.append((time.perf_counter() - started) * 1000)
        size_kb = (folder / "cold.pdf").stat().st_size / 1024
    median = statistics.median(times)
    findings = ", ".join(f.id.value for f in report.findings)
    print(f"full report ({findings}): {pages} pages, {size_kb:.0f} KiB")
    print(f"first export:  {cold:7.1f} ms")
    print(f"median export: {median:7.1f} ms over {RUNS} runs (max {max(times):.1f} ms)")
    print(f"target:        {TARGET_MS:7.1f} ms -> {'OK' if median < TARGET_MS else 'SLOW'}")
    del app


if __name__ == "__main__":
    main()
