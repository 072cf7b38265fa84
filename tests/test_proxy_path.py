"""Checks that take the user's path through a real proxy on 127.0.0.1, through the command line
as a user runs it: tinyproxy (HTTP CONNECT, Basic auth, a host filter) and microsocks (SOCKS5),
found from HTTPS_PROXY or given with --proxy; and a captive portal's probe answered by a
loopback "network". The site is a real TLS server on 127.0.0.1."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from core.cli import main
from tests.cli_args import check_args
from tests.evidence import assert_documented
from tests.http_servers import http_ok, http_raw, http_recorder
from tests.pki import Pki
from tests.ports import free_port
from tests.proxy_servers import have_microsocks, have_tinyproxy, microsocks, tinyproxy
from tests.tls_servers import LoopbackServer, TlsConfig, tls_server

needs_tinyproxy = pytest.mark.skipif(not have_tinyproxy(), reason="tinyproxy is not installed")
needs_microsocks = pytest.mark.skipif(not have_microsocks(), reason="microsocks is not installed")


@pytest.fixture(scope="module")
def site(pki: Pki) -> Iterator[int]:
    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf), lifetime=300) as server:
        yield server.port


@pytest.fixture
def dead_dns() -> Iterator[str]:
    """A DNS server address where nothing answers: the name resolves only through the proxy."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    yield f"127.0.0.1:{sock.getsockname()[1]}"
    sock.close()


def check(
    capsys: pytest.CaptureFixture[str], root_file: Path, port: int, *extra: str
) -> tuple[int, dict[str, Any]]:
    code = main(check_args(None, root_file, "--port", str(port), "--json", *extra))
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    assert out.out, out.err
    report = json.loads(out.out)
    assert_documented(report["findings"])
    return code, report


def ids(report: dict[str, Any]) -> list[str]:
    return [f["id"] for f in report["findings"]]


@needs_tinyproxy
def test_https_proxy_from_the_environment_is_the_path_taken(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
    root_file: Path,
    site: int,
    dead_dns: str,
) -> None:
    """The name resolves only through the proxy (this computer's DNS does not answer): the
    check is clean through it, says so, and says that apps ignoring the proxy fail here."""
    with tinyproxy(tmp_path) as proxy_port:
        monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{proxy_port}")
        code, report = check(capsys, root_file, site, "--dns-server", dead_dns)
        direct_code, direct = check(capsys, root_file, site, "--dns-server", dead_dns, "--no-proxy")
    assert report["verdict"] == "ok" and code == 0
    assert ids(report) == ["direct-blocked"]
    assert report["path"]["proxy"] == f"http://127.0.0.1:{proxy_port}"
    assert report["path"]["proxy_source"] == "env"
    assert report["path"]["proxy_setting"] == "HTTPS_PROXY"
    assert report["handshake"]["ok"] and len(report["certificates"]) >= 2
    assert report["handshake"]["address"] is None  # the socket's peer was the proxy, not the site
    stages = {s["stage"]: s for s in report["stages"]}
    assert stages["proxy"]["status"] == "ok"
    assert stages["proxy"]["summary"] == f"http://127.0.0.1:{proxy_port} (from HTTPS_PROXY)"
    assert "proxy" not in {s["stage"] for s in direct["stages"]}
    # --no-proxy: the same check without the proxy gives the DNS finding.
    assert direct_code == 1 and ids(direct) == ["dns-failure"]
    assert direct["path"]["proxy"] is None


@needs_tinyproxy
def test_proxy_option_and_a_full_check_through_it(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, root_file: Path, site: int
) -> None:
    with tinyproxy(tmp_path, log_level="Connect") as proxy_port:
        proxy = f"http://127.0.0.1:{proxy_port}"
        args = check_args(
            None, root_file, "--port", str(site), "--json", "--proxy", proxy, quick=False
        )
        code = main(args)
        report = json.loads(capsys.readouterr().out)
        log = (tmp_path / "tinyproxy.log").read_text(errors="replace")
    assert code == 0, ids(report)
    assert report["path"]["proxy_source"] == "option"
    assert report["protocols"]["TLSv1.3"] is True and report["protocols"]["TLSv1.0"] is False
    # The prober's hellos went through the proxy too: many CONNECTs, all to the site.
    assert log.count(f"localhost:{site}") > 5


@needs_tinyproxy
def test_proxy_that_wants_credentials(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, root_file: Path, site: int
) -> None:
    with tinyproxy(tmp_path, basic_auth=("alice", "s3cret")) as proxy_port:
        code, report = check(capsys, root_file, site, "--proxy", f"http://127.0.0.1:{proxy_port}")
        good_code, good = check(
            capsys, root_file, site, "--proxy", f"http://alice:s3cret@127.0.0.1:{proxy_port}"
        )
        main(
            [
                "check",
                "localhost",
                "--port",
                str(site),
                "--ca-file",
                str(root_file),
                "--quick",
                "--no-network-time",
                "--proxy",
                f"http://alice:s3cret@127.0.0.1:{proxy_port}",
            ]
        )
        text = capsys.readouterr().out
    assert code == 1 and ids(report) == ["proxy-auth-required"]
    evidence = report["findings"][0]["evidence"]
    assert evidence["schemes"] == ["Basic"] and evidence["setting"] == "--proxy"
    assert good_code == 0 and ids(good) == []
    for output in (json.dumps(report), json.dumps(good), text):
        assert "s3cret" not in output and "alice" not in output
    assert f"through the proxy http://127.0.0.1:{proxy_port}" in text


@needs_tinyproxy
def test_proxy_that_refuses_the_site(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, root_file: Path, site: int
) -> None:
    with tinyproxy(tmp_path, refuse=[r"^localhost$"]) as proxy_port:
        code, report = check(capsys, root_file, site, "--proxy", f"http://127.0.0.1:{proxy_port}")
    assert code == 1 and ids(report) == ["proxy-refused"]
    evidence = report["findings"][0]["evidence"]
    assert evidence["detail"] == "the proxy answered HTTP/1.1 403 Filtered"
    assert "filter" in evidence["proxy_words"].lower()
    assert report["findings"][0]["fixes"][0] == "ask-network-admin"


def test_proxy_named_in_the_settings_that_does_not_answer(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    root_file: Path,
    site: int,
) -> None:
    monkeypatch.setenv("https_proxy", f"http://127.0.0.1:{free_port()}")
    started = time.monotonic()
    code, report = check(capsys, root_file, site)
    assert time.monotonic() - started < 4.0
    assert code == 1 and ids(report) == ["proxy-unreachable"]
    assert report["findings"][0]["evidence"]["setting"] == "https_proxy"


def test_proxy_that_never_answers_ends_at_the_timeout(
    capsys: pytest.CaptureFixture[str], root_file: Path, site: int
) -> None:
    from tests.tls_servers import silent

    with LoopbackServer(silent) as proxy:
        started = time.monotonic()
        code, report = check(capsys, root_file, site, "--proxy", f"http://{proxy.address}")
        took = time.monotonic() - started
    assert took < 4.0 * 1.5
    assert code == 1 and ids(report) == ["proxy-unreachable"]
    assert "did not answer within 3 s" in report["findings"][0]["evidence"]["detail"]


@needs_microsocks
def test_socks5h_proxy(capsys: pytest.CaptureFixture[str], root_file: Path, site: int) -> None:
    with microsocks() as proxy_port:
        code, report = check(
            capsys, root_file, site, "--proxy", f"socks5h://127.0.0.1:{proxy_port}"
        )
    assert code == 0 and ids(report) == []
    assert report["path"]["proxy"] == f"socks5h://127.0.0.1:{proxy_port}"


@pytest.mark.parametrize(
    ("args", "env", "words"),
    [
        (["--proxy", "ftp://p:21"], {}, "--proxy: unknown proxy scheme 'ftp'"),
        (["--proxy", "http://p:99999"], {}, "--proxy: the proxy's port must be a number"),
        (["--proxy", "http://p:1", "--no-proxy"], {}, "not allowed with argument"),
        ([], {"HTTPS_PROXY": "gopher://x:70"}, "the proxy set in HTTPS_PROXY cannot be used"),
        (["--portal-url", "https://probe.test/"], {}, "--portal-url: the probe must be a plain"),
        (["--portal-url", "ftp://probe.test/"], {}, "--portal-url: only http and https"),
    ],
)
def test_bad_proxy_settings_are_one_clear_line(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    args: list[str],
    env: dict[str, str],
    words: str,
) -> None:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    code = main(["check", "localhost", "--quick", "--no-network-time", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert words in err and "Traceback" not in err and len(err.strip().splitlines()) == 1


# --------------------------------------------------------------------------- captive portals


def test_captive_portal_explains_the_wrong_certificate(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    """A hotel's portal answers the probe with a redirect to its sign-in page, and port 443
    with its own certificate: the wrong name is the portal's symptom, not the cause."""
    portal_cert = pki.leaf(names=["portal.hotel.test"])
    redirect = b"HTTP/1.1 302 Found\r\nLocation: http://portal.hotel.test/login\r\n\r\n"
    with (
        LoopbackServer(http_raw(redirect)) as probe,
        tls_server(TlsConfig([portal_cert, pki.intermediate], portal_cert)) as portal,
    ):
        code, report = check(
            capsys, root_file, portal.port, "--portal-url", f"http://{probe.address}/canonical.html"
        )
    assert code == 1 and ids(report) == ["captive-portal"]
    evidence = report["findings"][0]["evidence"]
    assert evidence["symptoms"] == ["hostname-mismatch"]
    assert evidence["portal_url"] == "http://portal.hotel.test/login"
    assert report["findings"][0]["fixes"][0] == "sign-in-to-network"
    assert report["path"]["portal"]["verdict"] == "portal"


def test_open_network_probe_leaves_the_findings_as_they_are(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    wrong = pki.leaf(names=["other.test"])
    requests: list[bytes] = []
    with (
        LoopbackServer(http_recorder(requests, http_ok(b"hello", "text/plain"))) as probe,
        tls_server(TlsConfig([wrong, pki.intermediate], wrong)) as server,
    ):
        code, report = check(
            capsys, root_file, server.port, "--portal-url", f"http://{probe.address}/ping"
        )
    assert code == 1
    assert len(requests) == 1 and requests[0].startswith(b"GET /ping HTTP/1.1")
    assert ids(report) == ["hostname-mismatch"]
    assert report["path"]["portal"]["verdict"] == "none"


# --------------------------------------------------------------------------- an intercepting proxy


def _mitmdump_or_skip() -> None:
    import os

    from tests.proxy_servers import mitmdump_path

    if mitmdump_path() is None:
        if os.environ.get("CI"):
            pytest.fail("mitmdump is missing on CI: make test installs it (.venv-mitmproxy)")
        pytest.skip("mitmdump is not installed (make test installs it)")


def test_inspecting_proxy_on_a_managed_machine_is_interception(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, site: int
) -> None:
    """A company's inspecting proxy, whose root the machine trusts (given as --ca-file): the
    chain validates, and the check names the interception and the product."""
    _mitmdump_or_skip()
    from tests.proxy_servers import mitmdump

    with mitmdump(tmp_path / "mitm") as (port, ca):
        _, report = check(capsys, ca, site, "--proxy", f"http://127.0.0.1:{port}")
    assert "interception-suspected" in ids(report), ids(report)
    finding = next(f for f in report["findings"] if f["id"] == "interception-suspected")
    assert finding["evidence"]["product"] == "mitmproxy"
    assert report["path"]["proxy"] == f"http://127.0.0.1:{port}"
    assert report["certificates"][-1]["subject"].endswith("CN=mitmproxy")


@needs_tinyproxy
def test_aia_fetch_takes_the_proxy_too(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, tmp_path: Path
) -> None:
    """A leaf-only server whose missing intermediate is at its AIA address: the fetch goes
    through the proxy like the check (absolute-form GET), and repairs the chain."""
    requests: list[bytes] = []
    with (
        LoopbackServer(http_recorder(requests, http_ok(pki.intermediate.der))) as aia,
        tinyproxy(tmp_path, log_level="Info") as proxy_port,
    ):
        leaf = pki.leaf(aia_issuer_url=f"http://{aia.address}/inter.der")
        with tls_server(TlsConfig([leaf], leaf)) as server:
            # --connect names the server's address (loopback), which lets a loopback AIA
            # address be fetched; the proxy is still the path.
            _, report = check(
                capsys,
                root_file,
                server.port,
                "--connect",
                server.address,
                "--proxy",
                f"http://127.0.0.1:{proxy_port}",
            )
        log = (tmp_path / "tinyproxy.log").read_text(errors="replace")
    assert ids(report) == ["incomplete-chain"]
    assert report["findings"][0]["evidence"]["aia_repairs"] == "yes"
    assert f"GET http://{aia.address}/inter.der" in log
    assert len(requests) == 1


def test_a_check_through_a_silent_proxy_is_cancelled_at_once(root_file: Path) -> None:
    """Cancel holds through the proxy too: the tunnel waits in the budget's short slices."""
    import threading

    from core.budget import Budget, Cancelled
    from core.diagnose import run_check
    from core.models import CheckOptions, ProxyEndpoint, ProxyScheme, Target
    from tests.tls_servers import silent

    with LoopbackServer(silent) as proxy:
        options = CheckOptions(
            ca_file=root_file,
            no_network_time=True,
            quick=True,
            timeout=10.0,
            proxy=ProxyEndpoint(ProxyScheme.HTTP, "127.0.0.1", proxy.port),
        )
        budget = Budget(10.0)
        threading.Timer(0.3, budget.cancel).start()
        started = time.monotonic()
        with pytest.raises(Cancelled):
            run_check(Target("localhost", 443, sni="localhost"), options, budget=budget)
        took = time.monotonic() - started
    assert took < 1.5, f"cancel took {took:.2f} s"
