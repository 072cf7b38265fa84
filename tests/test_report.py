"""The PDF report, end to end: real loopback servers, the real check, Qt printing the PDF, and
poppler's ``pdftotext`` reading it back as a support agent's PDF viewer would."""

from __future__ import annotations

import base64
import logging
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from core.catalogue import load_catalogue
from core.cli import main as cli_main
from core.diagnose import run_check
from core.models import CheckOptions, CheckReport, Target
from core.untrusted import visible
from tests.cli_args import check_args
from tests.pki import DAY, NOW, Issued, Pki, PrivateKey, make_ca, make_leaf
from tests.ports import closed_port
from tests.tls_servers import TlsConfig, tls10_only_server, tls_server

pytestmark = pytest.mark.skipif(
    shutil.which("pdftotext") is None, reason="pdftotext (poppler-utils) is not installed"
)

EVIL_CN = "<b>bold</b> <img src=x> </table> \x1b[31mred"


def pdf_text(
    path: Path, first: int | None = None, last: int | None = None, *, layout: bool = False
) -> str:
    """The PDF's text. ``layout`` keeps lines as printed (plain mode joins a line ending in
    "-" to the next, which mangles PEM armour)."""
    args = ["pdftotext", "-enc", "UTF-8"] + (["-layout"] if layout else [])
    if first is not None:
        args += ["-f", str(first), "-l", str(last or first)]
    result = subprocess.run([*args, str(path), "-"], capture_output=True, check=True, timeout=60)
    return result.stdout.decode("utf-8")


def flat(text: str) -> str:
    """Words in order, whatever the line breaks: wrapped titles still match."""
    return " ".join(text.split())


def page_count(path: Path) -> int:
    info = subprocess.run(
        ["pdfinfo", str(path)], capture_output=True, text=True, check=True, timeout=60
    )
    match = re.search(r"^Pages:\s+(\d+)", info.stdout, re.MULTILINE)
    assert match, info.stdout
    return int(match.group(1))


def check(address: str, root_file: Path, *, host: str = "localhost", **kw: Any) -> CheckReport:
    ip, port = address.rsplit(":", 1)
    options = CheckOptions(ca_file=root_file, no_network_time=True, timeout=3, **kw)
    return run_check(Target(host, 443, ip, int(port), host), options)


def served(cfg: TlsConfig, root_file: Path, **kw: Any) -> CheckReport:
    with tls_server(cfg) as server:
        return check(server.address, root_file, **kw)


# --------------------------------------------------------------------------- the five situations


def wrong_clock(folder: Path) -> CheckReport:
    """This computer's clock two years ahead of the world: the server's Date header and its
    certificates all live two years before the local clock (which makes the leaf look expired
    here). The engine names the clock as the cause, with the expiry as its evidence."""
    skew = 730 * DAY
    root = make_ca(not_before=NOW - skew - 60 * DAY)
    intermediate = make_ca("Old Intermediate", issuer=root, not_before=NOW - skew - 30 * DAY)
    leaf = make_leaf(intermediate, not_before=NOW - skew - DAY, not_after=NOW - skew + 90 * DAY)
    root_file = folder / "root.pem"
    root_file.write_bytes(root.pem)
    cfg = TlsConfig([leaf, intermediate], leaf, date_offset=-skew.total_seconds())
    return served(cfg, root_file)


@pytest.fixture(scope="module")
def reports(
    pki: Pki, root_file: Path, tmp_path_factory: pytest.TempPathFactory
) -> dict[str, CheckReport]:
    leaf = pki.leaf()
    expired = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 3 * DAY)
    return {
        "good": served(TlsConfig([leaf, pki.intermediate], leaf), root_file),
        "expired": served(TlsConfig([expired, pki.intermediate], expired), root_file),
        "wrong-clock": wrong_clock(tmp_path_factory.mktemp("clock")),
        "refused": check(f"127.0.0.1:{closed_port()}", root_file),
        "mismatch": served(tls10_only_server(pki), root_file),
    }


@pytest.fixture(scope="module")
def pdfs(
    reports: dict[str, CheckReport], tmp_path_factory: pytest.TempPathFactory, qapp: Any
) -> dict[str, tuple[Path, int]]:
    from gui.pdf import export_report

    folder = tmp_path_factory.mktemp("pdf")
    out = {}
    for name, report in reports.items():
        path = folder / f"{name}.pdf"
        out[name] = (path, export_report(report, path))
    return out


EXPECTED = {
    "good": ("ok", set()),
    "expired": ("error", {"cert-expired"}),
    "wrong-clock": ("critical", {"clock-skew"}),
    "refused": ("error", {"connect-refused"}),
    "mismatch": ("error", {"no-shared-protocol"}),
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_report_names_target_verdict_findings_and_fixes(
    name: str, reports: dict[str, CheckReport], pdfs: dict[str, tuple[Path, int]]
) -> None:
    report = reports[name]
    path, pages = pdfs[name]
    verdict, must_have = EXPECTED[name]
    assert report.verdict.value == verdict
    assert must_have <= {f.id.value for f in report.findings}
    cat = load_catalogue()
    text = flat(pdf_text(path))
    assert pages == page_count(path)
    assert "localhost:443" in text
    assert f"Verdict: {verdict.upper()}" in text
    for finding in report.findings:
        assert flat(cat.title(finding)) in text, cat.title(finding)
    for fix in cat.ordered_fixes(report.findings):
        assert flat(fix.title) in text, fix.title
    # Every section is there, and the appendix last.
    for section in (
        "Findings",
        "What to do",
        "The handshake",
        "Certificate chain",
        "Protocols, cipher suites and client profiles",
        "Clock",
        "Environment",
        "Appendix: certificates as the server sent them (PEM)",
    ):
        assert section in text, section
    assert "ﬁ" not in text, "ligatures make 'certificate' unsearchable"


CAUSES = {
    "good": None,
    "expired": "cert-expired",
    "wrong-clock": "clock-skew",
    "refused": "connect-refused",
    "mismatch": "no-shared-protocol",
}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_page_one_tells_the_cause(
    name: str, reports: dict[str, CheckReport], pdfs: dict[str, tuple[Path, int]]
) -> None:
    """A support agent finds the cause, who acts and what to do first without turning a page."""
    report = reports[name]
    cat = load_catalogue()
    page_one = flat(pdf_text(pdfs[name][0], 1))
    assert "localhost:443" in page_one
    assert "Checked at" in page_one and " UTC" in page_one and "local time" in page_one
    cause = report.cause
    assert (cause.id.value if cause else None) == CAUSES[name]
    if cause is None:
        assert "The TLS connection works and nothing needs fixing." in page_one
        return
    assert flat(visible(cat.headline(cause))) in page_one
    assert "Who should act" in page_one
    assert flat(cat.actor_label(cat.finding(cause.id).who_acts)) in page_one
    assert f"What to do first: {flat(cat.ordered_fixes(report.findings)[0].title)}" in page_one
    for finding in report.findings:
        assert flat(cat.title(finding)) in page_one  # the "at a glance" table


def test_every_page_has_the_running_header(pdfs: dict[str, tuple[Path, int]]) -> None:
    path, pages = pdfs["expired"]
    assert pages >= 2
    for page in range(1, pages + 1):
        text = flat(pdf_text(path, page))
        assert "Handshake Doctor report · localhost:443" in text
        assert f"Page {page} of {pages}" in text


def test_page_counts_stay_reasonable(pdfs: dict[str, tuple[Path, int]]) -> None:
    counts = {name: pages for name, (_, pages) in pdfs.items()}
    assert all(2 <= n <= 12 for n in counts.values()), counts
    # No certificate: no appendix page, no chain tables.
    assert counts["refused"] < counts["expired"]


def test_refused_connection_says_no_certificate(pdfs: dict[str, tuple[Path, int]]) -> None:
    text = flat(pdf_text(pdfs["refused"][0]))
    assert "No certificate was received" in text
    assert "The server sent no certificate." in text
    assert "-----BEGIN CERTIFICATE-----" not in text


def test_appendix_holds_each_sent_certificate(
    reports: dict[str, CheckReport], pdfs: dict[str, tuple[Path, int]]
) -> None:
    from cryptography import x509

    text = pdf_text(pdfs["good"][0], layout=True)
    sent = [c for c in reports["good"].certificates if c.sent_by_server]
    blocks = re.findall(r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", text, re.S)
    assert len(blocks) == len(sent) == 2
    # Copied out of the PDF, each PEM loads and is the certificate the server sent.
    for block, cert in zip(blocks, sent, strict=True):
        pem = "\n".join(line.strip() for line in block.splitlines()) + "\n"
        loaded = x509.load_pem_x509_certificate(pem.encode())
        assert loaded.fingerprint(hashes.SHA256()).hex() == cert.sha256


def test_quick_check_says_not_tested(pki: Pki, root_file: Path, tmp_path: Path, qapp: Any) -> None:
    from gui.pdf import export_report

    leaf = pki.leaf()
    report = served(TlsConfig([leaf, pki.intermediate], leaf), root_file, quick=True)
    path = tmp_path / "quick.pdf"
    export_report(report, path)
    text = flat(pdf_text(path))
    assert "Not tested: this was a quick check (--quick)" in text
    assert "Client profiles Not tested." in text


# --------------------------------------------------------------------------- strangers' markup


def _expired_leaf(pki: Pki, cn: str) -> Issued:
    return make_leaf(pki.intermediate, cn=cn, not_before=NOW - 100 * DAY, not_after=NOW - 3 * DAY)


def _headings(text: str) -> list[str]:
    wanted = re.compile(
        r"^(Findings|What to do|The handshake|Certificate chain|Clock|Environment)$"
    )
    return [line for line in text.splitlines() if wanted.match(line.strip())]


def test_markup_in_a_certificate_shows_as_text_and_changes_no_layout(
    pki: Pki, root_file: Path, tmp_path: Path, qapp: Any
) -> None:
    from gui.pdf import export_report

    plain_cn = "b" * len(EVIL_CN)
    outcomes = {}
    for label, cn in (("evil", EVIL_CN), ("plain", plain_cn)):
        leaf = _expired_leaf(pki, cn)
        report = served(TlsConfig([leaf, pki.intermediate], leaf), root_file)
        path = tmp_path / f"{label}.pdf"
        pages = export_report(report, path)
        images = subprocess.run(
            ["pdfimages", "-list", str(path)], capture_output=True, text=True, check=True
        ).stdout.splitlines()[2:]
        outcomes[label] = (report, path, pages, pdf_text(path), len(images))
    report, path, pages, text, images = outcomes["evil"]
    _, _, plain_pages, plain_text, plain_images = outcomes["plain"]
    flat_text = flat(text)
    # The raw common name (in the finding's evidence and explanation) ...
    assert flat(visible(EVIL_CN)) in flat_text
    assert "<b>bold</b> <img src=x> </table> \\x1b[31mred" in flat_text
    # ... and the subject as the engine writes it, in the chain and the appendix.
    assert flat(visible(report.certificates[0].subject)) in flat_text
    assert "\x1b" not in text
    # Same pages, same sections, same pictures (the ladder) as with a plain name.
    assert pages == plain_pages
    assert _headings(text) == _headings(plain_text)
    assert images == plain_images


# --------------------------------------------------------------------------- the command line


def test_report_command_writes_the_pdf(
    pki: Pki,
    root_file: Path,
    tmp_path: Path,
    qapp: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gui.report_cli import main

    leaf = pki.leaf(not_before=NOW - 100 * DAY, not_after=NOW - 3 * DAY)
    out = tmp_path / "ticket.pdf"
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        args = check_args(server.address, root_file, "-o", str(out), quick=False)
        code = main(["report", *args[1:]])
    captured = capsys.readouterr()
    assert code == 1, captured.err  # like check: a problem was found
    assert out.exists() and "verdict error" in captured.out
    assert "The certificate has expired" in flat(pdf_text(out, 1))


def test_report_onto_a_full_disk_says_it_was_not_written(
    pki: Pki,
    root_file: Path,
    tmp_path: Path,
    qapp: Any,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from gui.report_cli import main

    leaf = pki.leaf()
    out = tmp_path / "report.pdf"
    out.symlink_to("/dev/full")
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        code = main(["report", *check_args(server.address, root_file, "-o", str(out))[1:]])
    captured = capsys.readouterr()
    assert code == 2
    assert captured.out == ""
    assert captured.err == (f"handshake-doctor: cannot write {out}: no space left on device\n")


def test_report_command_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    from gui.report_cli import main

    assert main(["report", "localhost", "-o", str(tmp_path / "missing" / "x.pdf")]) == 2
    assert "does not exist" in capsys.readouterr().err
    assert main(["report", "localhost", "-o", str(tmp_path / "x.txt")]) == 2
    assert ".pdf" in capsys.readouterr().err
    assert main(["report", "localhost"]) == 2  # -o is required
    assert "Traceback" not in capsys.readouterr().err


def test_letter_paper_in_the_united_states(
    reports: dict[str, CheckReport], tmp_path: Path, qapp: Any
) -> None:
    from PySide6.QtCore import QLocale
    from PySide6.QtGui import QPageSize

    from gui.pdf import page_size_for_locale, render_document

    assert page_size_for_locale(QLocale("en_US")) == QPageSize.PageSizeId.Letter
    assert page_size_for_locale(QLocale("fr_CA")) == QPageSize.PageSizeId.Letter
    assert page_size_for_locale(QLocale("es_MX")) == QPageSize.PageSizeId.Letter
    assert page_size_for_locale(QLocale("de_DE")) == QPageSize.PageSizeId.A4
    assert page_size_for_locale(QLocale("en_GB")) == QPageSize.PageSizeId.A4
    assert page_size_for_locale(QLocale.c()) == QPageSize.PageSizeId.A4
    sizes = {}
    for paper in (QPageSize.PageSizeId.Letter, QPageSize.PageSizeId.A4):
        path = tmp_path / f"{paper.name}.pdf"
        render_document(reports["expired"], path, page_size=paper)
        info = subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True)
        sizes[paper.name] = re.search(r"Page size:\s+(.*)", info.stdout).group(1)  # type: ignore[union-attr]
    assert sizes["Letter"].startswith("612 x 792")
    assert "(A4)" in sizes["A4"] and "(letter)" in sizes["Letter"]


# --------------------------------------------------------------------------- redaction


def test_redacted_report_hides_internal_names_and_addresses(
    pki: Pki, root_file: Path, tmp_path: Path, qapp: Any
) -> None:
    from gui.pdf import export_report

    leaf = make_leaf(pki.intermediate, ["wiki.corp", "10.20.30.40"])
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf)) as server:
        report = check(server.address, root_file, host="wiki.corp")
    assert report.verdict.value == "ok"
    path = tmp_path / "redacted.pdf"
    export_report(report, path, redact=True)
    text = pdf_text(path, layout=True)
    for secret in ("wiki.corp", "wiki", "127.0.0.1", "10.20.30.40"):
        assert secret not in text, secret
    flat_text = flat(text)
    assert "Handshake Doctor report · host-1:443" in flat_text
    assert "loopback-address-1" in flat_text and "private-address-1" in flat_text
    assert "Redacted copy" in flat_text
    # The leaf names wiki.corp in its DER: its PEM is withheld; the intermediate's is not.
    assert "withheld by --redact" in flat_text
    assert text.count("-----BEGIN CERTIFICATE-----") == 1
    # Without --redact, the same report names everything.
    clear = tmp_path / "clear.pdf"
    export_report(report, clear)
    assert "wiki.corp" in pdf_text(clear)


# --------------------------------------------------------------------------- the client key


def _key_fragments(key: PrivateKey) -> list[str]:
    """Pieces of the key's secret as they could show: base64 at each of the three byte
    alignments, and hex. Only the private scalar counts: a PKCS#8 body also holds the curve's
    AlgorithmIdentifier and the public point, which every certificate on that curve shows too,
    so windows over the whole body matched the certificate's PEM now and then."""
    if isinstance(key, ec.EllipticCurvePrivateKey):
        secrets = [key.private_numbers().private_value]
    else:
        numbers = key.private_numbers()
        secrets = [numbers.d, numbers.p, numbers.q]
    fragments: list[str] = []
    for value in secrets:
        raw = value.to_bytes((value.bit_length() + 7) // 8, "big")
        for shift in range(3):
            text = base64.b64encode(raw[shift:]).decode()[:-4]  # the last group may be padded
            fragments += [text[i : i + 24] for i in range(0, len(text) - 23, 4)]
        for text in (raw.hex(), raw.hex().upper()):
            fragments += [text[i : i + 24] for i in range(0, len(text) - 23, 8)]
    body = "".join(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
        .decode()
        .splitlines()[1:-1]
    )
    assert any(fragment in body for fragment in fragments)  # they do find the key itself
    return fragments


def test_client_key_never_appears(
    pki: Pki,
    root_file: Path,
    tmp_path: Path,
    qapp: Any,
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
) -> None:
    from gui.report_cli import main as report_main

    caplog.set_level(logging.DEBUG)
    leaf = pki.leaf()
    client = pki.leaf(["alice"], client=True)
    cert_file = tmp_path / "client.pem"
    cert_file.write_bytes(client.pem + pki.intermediate.pem + client.key_pem)
    fragments = _key_fragments(client.key)
    out = tmp_path / "mtls.pdf"
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf, client_ca=pki.root)) as server:
        common = [
            "localhost",
            "--connect",
            server.address,
            "--ca-file",
            str(root_file),
            "--client-cert",
            str(cert_file),
            "--no-network-time",
            "--timeout",
            "3",
        ]
        assert report_main(["report", *common, "-o", str(out)]) == 0
        assert cli_main(["check", *common, "--json"]) == 0
        assert cli_main(["check", *common, "--summary"]) == 0
        assert cli_main(["check", *common]) == 0
    captured = capsys.readouterr()
    pdf = pdf_text(out)
    assert "Client certificate given (its key is never shown)" in flat(pdf)
    assert '"schema": 1' in captured.out and "Handshake Doctor check of" in captured.out
    outputs = {
        "pdf text": pdf,
        "pdf bytes": out.read_bytes().decode("latin-1"),
        "stdout (json, summary, text)": captured.out,
        "stderr": captured.err,
        "log": caplog.text,
    }
    for where, output in outputs.items():
        assert "PRIVATE KEY" not in output, where
        for fragment in fragments:
            assert fragment not in output, where


# --------------------------------------------------------------------------- looks


BANNER_FILL = {"ok": "#e6f4ea", "error": "#fce8e6", "critical": "#a50e0e"}


@pytest.mark.parametrize("name", list(EXPECTED))
def test_verdict_banner_is_painted_in_its_colour(
    name: str, pdfs: dict[str, tuple[Path, int]], tmp_path: Path, qapp: Any
) -> None:
    """Text can be in the PDF and still unreadable (white on white): look at page one's pixels.
    The verdict's fill must cover a banner-sized area."""
    from PySide6.QtGui import QColor, QImage

    prefix = tmp_path / "page"
    subprocess.run(
        ["pdftoppm", "-r", "30", "-png", "-f", "1", "-l", "1", str(pdfs[name][0]), str(prefix)],
        check=True,
        timeout=60,
    )
    image = QImage(str(next(tmp_path.glob("page*.png"))))
    want = QColor(BANNER_FILL[EXPECTED[name][0]])
    close = 0
    for y in range(image.height() // 3):  # the banner sits in the top third
        for x in range(image.width()):
            pixel = image.pixelColor(x, y)
            if (
                abs(pixel.red() - want.red()) <= 6
                and abs(pixel.green() - want.green()) <= 6
                and abs(pixel.blue() - want.blue()) <= 6
            ):
                close += 1
    assert close > 2000, f"banner fill {want.name()} covers only {close} pixels"


def test_table_rows_are_never_cut_across_pages(
    reports: dict[str, CheckReport], tmp_path: Path, qapp: Any
) -> None:
    """Qt alone breaks a row's cells line by line at a page's foot; every row of a long table
    must instead sit whole on one page (under the repeated header row)."""
    import dataclasses

    from core.models import ClientMismatch, ClientResult, evidence
    from gui.pdf import export_report

    clients = tuple(
        ClientResult(
            f"Client {i} with a long name that wraps over lines ROWSTART{i}",
            False,
            None,
            None,
            ClientMismatch.PROTOCOL,
            evidence(
                server_versions=f"versions of client {i} long enough to wrap ROWEND{i}",
                client_versions="TLS 1.3",
            ),
        )
        for i in range(120)
    )
    report = dataclasses.replace(reports["good"], clients=clients)
    path = tmp_path / "long.pdf"
    pages = export_report(report, path)
    seen = set()
    for page in range(1, pages + 1):
        text = pdf_text(path, page)
        starts = set(re.findall(r"ROWSTART(\d+)", text))
        ends = set(re.findall(r"ROWEND(\d+)", text))
        assert starts == ends, f"page {page}: rows cut: {sorted(starts ^ ends)}"
        if starts:
            assert "Cipher suite or reason" in text  # the header row repeats
        seen |= starts
    assert len(seen) == 120
