"""The report's pure parts, without Qt or a network: the HTML document, redaction and the
environment facts. Reports are built by hand, so every field can hold what a hostile server
might put there."""

from __future__ import annotations

import dataclasses
import datetime as dt
from types import MappingProxyType

import pytest

from core.catalogue import OsName, load_catalogue
from core.environment import collect_environment
from core.models import (
    CertificateInfo,
    CheckOptions,
    CheckReport,
    ClientCredentials,
    ClientResult,
    ClockResult,
    ClockSource,
    Direction,
    FindingId,
    FixId,
    HandshakeObservation,
    HandshakeStep,
    HandshakeStepKind,
    Severity,
    StageId,
    StageOutcome,
    StageResult,
    StageStatus,
    Target,
    TrustResult,
    evidence,
    stage_facts,
)
from core.models import Finding as F
from core.redact import PEM_WITHHELD, Redactor, address_kind, is_internal_name, redact_report
from core.render.report_html import LADDER_URL, ImageSlot, build_report_html
from core.wire.records import TlsVersion

T0 = dt.datetime(2026, 3, 1, 12, 0, 0, tzinfo=dt.UTC)
EVIL = '<b>bold</b> <img src=x> </table> "\x1b[31mred\u202e'
KEY_BODY = "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgSECRETKEYMATERIAL"


def cert(subject: str = "CN=www.example.com", *, pem: str = "", **kw: object) -> CertificateInfo:
    fields: dict[str, object] = {
        "subject": subject,
        "issuer": "CN=Example CA,O=Example",
        "not_before": T0 - dt.timedelta(days=30),
        "not_after": T0 + dt.timedelta(days=60),
        "san": ("www.example.com",),
        "sha256": "ab" * 32,
        "sha1": "cd" * 20,
        "serial": "01",
        "key": "EC P-256",
        "key_bits": 256,
        "signature_algorithm": "ecdsa-with-SHA256",
        "sent_by_server": True,
        "is_ca": False,
        "self_issued": False,
        "pem": pem or "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    }
    fields.update(kw)
    return CertificateInfo(**fields)  # type: ignore[arg-type]


def make_report(
    *,
    host: str = "www.example.com",
    connect: str | None = None,
    certificates: tuple[CertificateInfo, ...] = (),
    findings: tuple[F, ...] = (),
    options: CheckOptions | None = None,
    quick: bool = False,
) -> CheckReport:
    steps = (
        HandshakeStep(HandshakeStepKind.CLIENT_HELLO, Direction.CLIENT, 0.1, "client_hello"),
        HandshakeStep(HandshakeStepKind.SERVER_HELLO, Direction.SERVER, 1.2, "server_hello"),
    )
    return CheckReport(
        target=Target(host, 443, connect, 8443 if connect else None, host),
        options=options or CheckOptions(no_network_time=True, quick=quick),
        started_at=T0,
        duration_ms=42.0,
        handshake=HandshakeObservation(
            address=connect or "93.184.216.34",
            ok=True,
            protocol=TlsVersion.TLS1_3,
            cipher="TLS_AES_128_GCM_SHA256",
            group="x25519",
            steps=steps,
        ),
        certificates=certificates or (cert(),),
        trust=TrustResult(True, True, None),
        protocols=MappingProxyType(
            {TlsVersion.TLS1_2: True, TlsVersion.TLS1_3: True, TlsVersion.TLS1_0: False}
        ),
        ciphers=MappingProxyType({} if quick else {TlsVersion.TLS1_3: ("TLS_AES_128_GCM_SHA256",)}),
        groups=("x25519",),
        server_preference=None if quick else True,
        clients=()
        if quick
        else (
            ClientResult(
                "Chrome 137 (Windows 11)", True, TlsVersion.TLS1_3, "TLS_AES_128_GCM_SHA256"
            ),
        ),
        clock=ClockResult(ClockSource.NTP, "pool.ntp.org", 0.2, 0.01, T0, T0),
        findings=findings,
        stages=(
            StageResult(
                StageId.CONNECT,
                StageStatus.OK,
                1.0,
                StageOutcome.CONNECTED,
                stage_facts(address=host, port=443),
            ),
        ),
    )


# --------------------------------------------------------------------------- the document


def test_strangers_markup_is_escaped_everywhere() -> None:
    finding = F(
        FindingId.CERT_EXPIRED,
        Severity.ERROR,
        evidence(subject=EVIL, not_after_date="1 March 2026", days_ago=3, position="leaf"),
        (FixId.RENEW_CERTIFICATE,),
    )
    report = make_report(
        certificates=(cert(f"CN={EVIL}", san=(EVIL,), issuer=EVIL, pem=EVIL),),
        findings=(finding,),
    )
    html = build_report_html(report).html
    assert "<b>bold" not in html and "<img src=x" not in html
    assert html.count("</table>") == html.count("<table")  # no stray table end from the server
    assert "&lt;b&gt;bold&lt;/b&gt; &lt;img src=x&gt; &lt;/table&gt;" in html
    assert "\x1b" not in html and "\\x1b[31mred" in html
    assert "\u202e" not in html and "\\u202e" in html


def test_page_one_comes_first_and_the_details_on_new_pages() -> None:
    finding = F(FindingId.CLOCK_SKEW, Severity.ERROR, evidence(offset_human="2 years ahead"))
    html = build_report_html(make_report(findings=(finding,))).html
    cat = load_catalogue()
    banner = html.index(cat.headline(finding).replace("'", "&#x27;"))
    assert banner < html.index("Who should act") < html.index("What to do first")
    assert html.index("What to do first") < html.index('<h2 style="page-break-before: always;">')
    assert html.count("page-break-before: always") == 2  # findings, appendix


def test_fix_steps_for_the_chosen_os_and_server_variants() -> None:
    cat = load_catalogue()
    finding = F(FindingId.CERT_EXPIRED, Severity.ERROR, evidence(days_ago=3))
    report = make_report(findings=(finding,))
    for os_name in OsName:
        html = build_report_html(report, os_name=os_name).html
        for fix in cat.ordered_fixes(report.findings):
            for step in fix.steps_for(os_name):
                assert step.replace("'", "&#x27;").replace('"', "&quot;") in html
        assert "<h4>On nginx</h4>" in html and "<h4>On IIS</h4>" in html


def test_quick_check_says_not_tested() -> None:
    html = build_report_html(make_report(quick=True)).html
    assert "Not tested:</b> this was a quick check" in html
    assert "<h3>Client profiles</h3><p>Not tested.</p>" in html


def test_ladder_slot_and_its_place() -> None:
    report = make_report()
    with_image = build_report_html(report, ladder=ImageSlot(LADDER_URL, 600, 300)).html
    assert f'<img src="{LADDER_URL}" width="600" height="300" />' in with_image
    without = build_report_html(report).html
    assert "<img" not in without and "Handshake picture not available" in without


def test_options_show_facts_never_paths_or_keys() -> None:
    credentials = ClientCredentials(
        certificate_pem=b"-----BEGIN CERTIFICATE-----\nCERTBODY\n-----END CERTIFICATE-----\n",
        key_pem=f"-----BEGIN PRIVATE KEY-----\n{KEY_BODY}\n-----END PRIVATE KEY-----\n".encode(),
        source="/home/alice/secret/client.p12",
    )
    from pathlib import Path

    options = CheckOptions(
        ca_file=Path("/home/alice/corp-root.pem"),
        client_credentials=credentials,
        no_network_time=True,
    )
    html = build_report_html(make_report(options=options)).html
    for secret in (KEY_BODY, "PRIVATE KEY", "alice", "corp-root.pem", "client.p12", "CERTBODY"):
        assert secret not in html
    assert "given (its key is never shown)" in html


def test_local_and_utc_time() -> None:
    zone = dt.timezone(dt.timedelta(hours=-5), "EST")
    html = build_report_html(make_report(), local_tz=zone).html
    assert "2026-03-01 12:00:00 UTC" in html
    assert "2026-03-01 07:00:00 (EST, UTC-05:00) local time" in html


def test_environment_names_proxy_variables_never_their_values() -> None:
    env = collect_environment(
        qt_version="6.12.0",
        environ={"https_proxy": "http://alice:s3cret@proxy.corp:8080", "NO_PROXY": ""},
    )
    assert env.proxy_variables_set == ("https_proxy",)
    rows = dict(env.rows())
    assert rows["Proxy variables"] == "https_proxy"
    assert rows["Qt"] == "6.12.0"
    assert "s3cret" not in repr(env) and "proxy.corp" not in repr(env)
    html = build_report_html(make_report(), environment=env).html
    assert "s3cret" not in html and "https_proxy" in html
    assert collect_environment(environ={}).proxy_variables_set == ()


# --------------------------------------------------------------------------- redaction


@pytest.mark.parametrize(
    ("name", "internal"),
    [
        ("intranet", True),
        ("wiki.corp", True),
        ("*.dev.example.corp", True),
        ("printer.lan", True),
        ("nas.local.", True),
        ("db.internal", True),
        ("router.home", True),
        ("box.home.arpa", True),
        ("www.example.com", False),
        ("corp.example.com", False),
        ("10.0.0.1", False),  # an address, not a name
    ],
)
def test_internal_names(name: str, internal: bool) -> None:
    assert is_internal_name(name) is internal


@pytest.mark.parametrize(
    ("address", "kind"),
    [
        ("10.1.2.3", "private"),
        ("172.16.0.9", "private"),
        ("192.168.1.1", "private"),
        ("100.64.0.1", "private"),
        ("fd00::5", "private"),
        ("127.0.0.1", "loopback"),
        ("::1", "loopback"),
        ("169.254.10.1", "link-local"),
        ("fe80::1%eth0", "link-local"),
        ("::ffff:10.0.0.1", "private"),
        ("8.8.8.8", None),
        ("2606:4700::1111", None),
        ("not an address", None),
    ],
)
def test_address_kinds(address: str, kind: str | None) -> None:
    assert address_kind(address) == kind


def test_placeholders_are_stable_and_free_text_is_covered() -> None:
    redactor = Redactor()
    redactor.learn("intranet")
    text = (
        "intranet at 10.1.2.3 and INTRANET again via wiki.corp:443, [fe80::1%eth0]:443; "
        "public www.example.com 8.8.8.8 at 12:30:00 with TLSv1.3"
    )
    assert redactor.text(text) == (
        "host-1 at private-address-1 and host-1 again via host-2:443, "
        "[link-local-address-1]:443; public www.example.com 8.8.8.8 at 12:30:00 with TLSv1.3"
    )
    assert redactor.text("10.1.2.3 wiki.corp") == "private-address-1 host-2"
    # Single-label words are replaced only once seen where a host name belongs.
    assert redactor.text("mail server") == "mail server"


def test_redact_report_covers_every_field() -> None:
    leaf = cert(
        "CN=wiki.corp",
        san=("wiki.corp", "10.20.30.40"),
        pem="-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n",
    )
    public = cert("CN=Example CA,O=Example", san=(), is_ca=True)
    finding = F(
        FindingId.HOSTNAME_MISMATCH,
        Severity.ERROR,
        evidence(host="wiki", names=["wiki.corp", "10.20.30.40"]),
    )
    report = make_report(
        host="wiki", connect="192.168.7.7", certificates=(leaf, public), findings=(finding,)
    )
    redacted, redactor = redact_report(report)
    assert redacted.target.host == "host-1" and redacted.target.sni == "host-1"
    assert redacted.target.connect_address == "private-address-1"
    assert redacted.handshake is not None and redacted.handshake.address == "private-address-1"
    assert redacted.certificates[0].subject == "CN=host-2"
    assert redacted.certificates[0].san == ("host-2", "private-address-2")
    assert redacted.certificates[0].pem == PEM_WITHHELD
    assert redacted.certificates[1] == public  # nothing internal: kept whole, PEM included
    assert redacted.findings[0].evidence["names"] == ("host-2", "private-address-2")
    assert redacted.findings[0].evidence["host"] == "host-1"
    assert redacted.stages[0].facts["address"] == "host-1"
    assert set(redactor.replaced) == {"wiki", "192.168.7.7", "wiki.corp", "10.20.30.40"}
    html = build_report_html(redacted, redacted=True).html
    for secret in ("wiki", "192.168", "10.20.30.40"):
        assert secret not in html
    assert "Redacted" in html
    # The original is untouched.
    assert report.target.host == "wiki"


def test_pem_naming_an_internal_host_in_its_der_is_withheld() -> None:
    """Names hidden from the parsed fields (an AIA or CRL URL) still sit in the DER as ASCII."""
    import base64

    der = b"\x30\x82\x01\x00\x86\x1bhttp://pki.internal/ca.crt\x00"
    pem = (
        "-----BEGIN CERTIFICATE-----\n"
        + base64.b64encode(der).decode()
        + "\n-----END CERTIFICATE-----\n"
    )
    redacted, _ = redact_report(make_report(certificates=(cert(pem=pem),)))
    assert redacted.certificates[0].pem == PEM_WITHHELD
    assert redacted.certificates[0].subject == "CN=www.example.com"


def test_redaction_keeps_client_credentials_out_of_reach() -> None:
    credentials = ClientCredentials(b"cert", b"KEY", "source")
    report = make_report(options=CheckOptions(client_credentials=credentials))
    redacted, _ = redact_report(report)
    assert dataclasses.replace(redacted.options) == redacted.options
    assert redacted.options.client_credentials is credentials  # not copied, never rendered
