"""A client's private key and its password never leave the process: not in the JSON, the
readable report, the ticket summary, a log record, an error message, a left-over temporary
file, or the PDF. Every output is searched for the key (its base64 body, as it sits in the
user's file and as it is held in memory, and the private number itself) and for the password.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12

from core.cli import main
from core.credentials import load_client_credentials
from core.usage import options_from_args
from tests.pki import Issued, Pki
from tests.tls_servers import TlsConfig, tls_server

PASSWORD = "Tr0ub4dor&3-correct-horse"
PASSWORD_ENV = "HD_TEST_CLIENT_PASSWORD"


@dataclass
class Secrets:
    client: Issued
    pem_file: Path  # certificate + key encrypted with PASSWORD
    p12_file: Path  # PKCS#12 protected by PASSWORD
    plain_file: Path  # certificate + unencrypted key
    root_file: Path

    def needles(self) -> list[str]:
        """Strings that must never appear: the password, every base64 line of the key as
        written in each file and as re-encoded in memory, and the private number."""
        key = self.client.key
        found = {PASSWORD}
        encodings = [
            self.client.key_pem,
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.TraditionalOpenSSL,
                serialization.NoEncryption(),
            ),
            _key_block(self.pem_file.read_bytes()),
        ]
        for pem in encodings:
            for line in pem.decode().splitlines():
                if line and not line.startswith("-----") and ":" not in line and len(line) >= 24:
                    found.add(line)
        assert isinstance(key, ec.EllipticCurvePrivateKey)
        number = key.private_numbers().private_value
        found |= {str(number), format(number, "x"), format(number, "X")}
        return sorted(found)

    def assert_absent(self, *texts: str | bytes) -> None:
        for text in texts:
            haystack = text.decode("latin-1") if isinstance(text, bytes) else text
            for needle in self.needles():
                assert needle not in haystack, f"a secret leaked: {needle[:12]}…"


def _key_block(pem: bytes) -> bytes:
    start = pem.index(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
    return pem[start:]


@pytest.fixture(scope="module")
def secrets(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Secrets:
    folder = tmp_path_factory.mktemp("secrets")
    client = pki.leaf(["alice"], client=True)
    encrypted = client.key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(PASSWORD.encode()),
    )
    pem_file = folder / "alice.pem"
    pem_file.write_bytes(client.pem + pki.intermediate.pem + encrypted)
    p12_file = folder / "alice.p12"
    p12_file.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"alice",
            client.key,
            client.cert,
            [pki.intermediate.cert],
            serialization.BestAvailableEncryption(PASSWORD.encode()),
        )
    )
    plain_file = folder / "alice-plain.pem"
    plain_file.write_bytes(client.pem + client.key_pem)
    return Secrets(client, pem_file, p12_file, plain_file, pki.write_root(folder))


@pytest.fixture
def password_env(monkeypatch: pytest.MonkeyPatch) -> str:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)
    return PASSWORD_ENV


@pytest.fixture
def server(pki: Pki) -> Iterator[str]:
    """A server that asks for a client certificate from the test PKI."""
    leaf = pki.leaf()
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf, client_ca=pki.root)) as running:
        yield running.address


def _temp_leftovers() -> set[str]:
    return {name for name in os.listdir(tempfile.gettempdir()) if name.startswith("hd-client-")}


@pytest.fixture
def private_tempdir(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Path:
    """The temporary folders the check makes go here, not to the shared /tmp, where other
    test runs on the same machine make and remove theirs while this test watches."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def _check(
    capsys: pytest.CaptureFixture[str], secrets: Secrets, address: str, cert: Path, *extra: str
) -> tuple[int, str, str]:
    code = main(
        [
            "check",
            "localhost",
            "--connect",
            address,
            "--ca-file",
            str(secrets.root_file),
            "--client-cert",
            str(cert),
            "--client-cert-password-env",
            PASSWORD_ENV,
            "--no-network-time",
            "--quick",
            "--timeout",
            "3",
            *extra,
        ]
    )
    out = capsys.readouterr()
    return code, out.out, out.err


def test_the_needles_are_real(secrets: Secrets) -> None:
    """The search would be worthless if the needles were not in the user's own files."""
    needles = secrets.needles()
    assert len(needles) >= 8
    in_files = [
        n
        for n in needles
        if n.encode() in secrets.pem_file.read_bytes() + secrets.plain_file.read_bytes()
    ]
    assert len(in_files) >= 4


@pytest.mark.parametrize("kind", ["pem", "p12"])
@pytest.mark.parametrize("output", ["--json", "--summary", "--no-color"])
def test_no_secret_in_any_output_of_a_check(
    capsys: pytest.CaptureFixture[str],
    caplog: pytest.LogCaptureFixture,
    secrets: Secrets,
    server: str,
    password_env: str,
    kind: str,
    output: str,
    private_tempdir: Path,
) -> None:
    before = _temp_leftovers()
    assert before == set()
    cert = secrets.pem_file if kind == "pem" else secrets.p12_file
    with caplog.at_level(logging.DEBUG):
        code, out, err = _check(capsys, secrets, server, cert, output)
    assert code == 0, err
    if output == "--json":
        report = json.loads(out)
        assert report["handshake"]["ok"] and "client-cert-required" not in str(report)
    secrets.assert_absent(out, err, caplog.text)
    assert _temp_leftovers() == before, "the key's temporary folder must be removed"


def test_no_secret_in_a_failed_check_or_an_internal_error(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    secrets: Secrets,
    server: str,
    password_env: str,
) -> None:
    """An internal error keeps a traceback for the details view: it must not carry the key."""

    def broken(*args: object, **kwargs: object) -> None:
        raise RuntimeError("injected fault while the credentials are loaded")

    monkeypatch.setattr("core.diagnose.analyze_chain", broken)
    _, out, err = _check(capsys, secrets, server, secrets.pem_file, "--json")
    report = json.loads(out)
    assert "internal-error" in [f["id"] for f in report["findings"]]
    secrets.assert_absent(out, err)


@pytest.mark.parametrize("kind", ["pem", "p12"])
def test_a_wrong_password_is_not_repeated(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    secrets: Secrets,
    kind: str,
) -> None:
    wrong = "hunter2-wrong-password"
    monkeypatch.setenv(PASSWORD_ENV, wrong)
    cert = secrets.pem_file if kind == "pem" else secrets.p12_file
    code, out, err = _check(capsys, secrets, "127.0.0.1:9", cert)
    assert code == 2 and out == ""
    assert "password" in err and wrong not in err
    secrets.assert_absent(err)


def test_options_and_credentials_hide_the_key(secrets: Secrets, password_env: str) -> None:
    import argparse

    creds = load_client_credentials(secrets.p12_file, password_env=password_env)
    assert b"PRIVATE KEY" in creds.key_pem
    args = argparse.Namespace(
        host="localhost",
        port=None,
        connect="127.0.0.1",
        ca_file=None,
        no_default_trust=False,
        client_cert=secrets.pem_file,
        client_key=None,
        client_cert_password_env=password_env,
        timeout=3.0,
        time_server=None,
        no_network_time=True,
        quick=True,
        gentle=False,
    )
    _, options = options_from_args(args)
    for text in (repr(creds), str(creds), repr(options), str(options)):
        secrets.assert_absent(text)
        assert "PRIVATE" not in text


def test_no_secret_in_the_pdf_report(secrets: Secrets, server: str, tmp_path: Path) -> None:
    """The PDF is made by a real ``report`` process (Qt prints it): its bytes and its text,
    as pdftotext reads it, hold no secret."""
    out_file = tmp_path / "report.pdf"
    env = dict(os.environ, **{PASSWORD_ENV: PASSWORD, "QT_QPA_PLATFORM": "offscreen"})
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "handshake_doctor",
            "report",
            "localhost",
            "--connect",
            server,
            "--ca-file",
            str(secrets.root_file),
            "--client-cert",
            str(secrets.pem_file),
            "--client-cert-password-env",
            PASSWORD_ENV,
            "--no-network-time",
            "--quick",
            "--timeout",
            "3",
            "-o",
            str(out_file),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
        cwd=Path(__file__).resolve().parent.parent,
    )
    assert result.returncode == 0, result.stderr
    pdf = out_file.read_bytes()
    secrets.assert_absent(pdf, result.stdout, result.stderr)
    text = _pdf_text(out_file)
    assert "localhost" in text
    secrets.assert_absent(text)


def _pdf_text(path: Path) -> str:
    try:
        result = subprocess.run(
            ["pdftotext", "-layout", str(path), "-"],
            capture_output=True,
            text=True,
            timeout=60,
            check=True,
        )
    except FileNotFoundError:
        pytest.skip("pdftotext (poppler-utils) is not installed")
    return result.stdout
