"""Real daemons from Debian behind STARTTLS: IMAP and POP3 from dovecot (imapd, pop3d), and
PostgreSQL, each started by the tests from a configuration they write, on loopback ports, with
the tests' certificates, and stopped when its test ends."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from core.cli import main
from tests.evidence import assert_documented
from tests.pki import DAY, NOW, Pki
from tests.service_servers import dovecot, postgresql

MAIL = "mail.example"


def check(capsys: pytest.CaptureFixture[str], url: str, root: Path, *extra: str) -> dict[str, Any]:
    args = ["check", url, "--connect", "127.0.0.1", "--ca-file", str(root), "--json"]
    args += ["--portal-url", "none", "--no-network-time", "--timeout", "3", *extra]
    main(args)
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    report: dict[str, Any] = json.loads(out.out)
    assert_documented(report["findings"])
    return report


def ids(report: dict[str, Any]) -> list[str]:
    return sorted(f["id"] for f in report["findings"] if f["id"] != "clock-unverified")


def test_dovecot_imap_and_pop3_through_starttls(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf([MAIL])
    with dovecot(tmp_path, [leaf, pki.intermediate], leaf) as server:
        imap = check(capsys, f"imap://{MAIL}:{server.imap_port}", root_file)
        pop3 = check(capsys, f"pop3://{MAIL}:{server.pop3_port}", root_file)
    for report, protocol in ((imap, "imap"), (pop3, "pop3")):
        assert ids(report) == [], report["findings"]
        assert report["verdict"] == "ok"
        assert report["path"]["starttls"] == protocol
        assert report["handshake"]["ok"]
        assert report["certificates"][0]["subject"] == f"CN={MAIL}"
        # dovecot's ssl_min_protocol = TLSv1.2, seen through each probe's own STARTTLS.
        assert report["protocols"]["TLSv1.2"] is True and report["protocols"]["TLSv1.3"] is True
        assert report["protocols"]["TLSv1.1"] is False
    assert "Dovecot" in imap["service"]["starttls"]["banner"]
    assert "STARTTLS" in imap["service"]["starttls"]["capabilities"]
    assert "STLS" in pop3["service"]["starttls"]["capabilities"]


def test_dovecot_with_an_expired_certificate(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf([MAIL], not_before=NOW - 100 * DAY, not_after=NOW - 3 * DAY)
    with dovecot(tmp_path, [leaf, pki.intermediate], leaf) as server:
        report = check(capsys, f"imap://{MAIL}:{server.imap_port}", root_file, "--quick")
    assert ids(report) == ["cert-expired"]


def test_dovecot_without_tls_offers_no_starttls(
    capsys: pytest.CaptureFixture[str], tmp_path: Path, pki: Pki, root_file: Path
) -> None:
    leaf = pki.leaf([MAIL])
    with dovecot(tmp_path, [leaf, pki.intermediate], leaf, tls=False) as server:
        imap = check(capsys, f"imap://{MAIL}:{server.imap_port}", root_file)
        pop3 = check(capsys, f"pop3://{MAIL}:{server.pop3_port}", root_file)
    assert ids(imap) == ["starttls-unsupported"]
    assert imap["findings"][0]["evidence"]["try_instead"] == f"imaps://{MAIL}:993"
    assert ids(pop3) == ["starttls-unsupported"]
    assert imap["findings"][0]["fixes"][0] == "configure-mail-client"


def test_real_postgresql_with_ssl_on(
    capsys: pytest.CaptureFixture[str], pki: Pki, root_file: Path
) -> None:
    """Debian's PostgreSQL with ``ssl = on``: the SSLRequest, then the handshake and the chain;
    with ``ssl = off`` it answers 'N', which is starttls-unsupported."""
    leaf = pki.leaf(["db.example"])
    with postgresql([leaf, pki.intermediate], leaf) as port:
        report = check(capsys, f"postgres://db.example:{port}", root_file)
    assert ids(report) == [], report["findings"]
    assert report["path"]["starttls"] == "postgres"
    assert report["certificates"][0]["subject"] == "CN=db.example"
    assert report["protocols"]["TLSv1.3"] is True
    with postgresql([leaf, pki.intermediate], leaf, tls=False) as port:
        off = check(capsys, f"db.example:{port}", root_file, "--starttls", "postgres", "--quick")
    assert ids(off) == ["starttls-unsupported"]
    assert off["findings"][0]["evidence"]["reply"] == "N"
