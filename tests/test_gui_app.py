"""The window's command line and the form's request: bad options exit 2 before any window,
good ones fill the form the way the CLI would fill CheckOptions."""

from __future__ import annotations

from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette

from core.credentials import CredentialsError
from core.models import DEFAULT_TIME_SERVERS, Severity
from gui.about import certifi_date, versions_text
from gui.app import main, parse_args
from gui.request import ClientCertSpec, FormError, FormState, build_request, state_from_args
from gui.theme import is_dark, tone
from gui.worker import load_credentials
from tests.pki import Pki, write_chain


@pytest.mark.parametrize(
    ("argv", "words"),
    [
        (["localhost", "--port", "abc"], "--port"),
        (["localhost", "--timeout", "0"], "--timeout"),
        (["localhost", "--frobnicate"], "unrecognized"),
        (
            [
                "localhost",
                "--client-cert",
                "x.p12",
                "--client-cert-password-env",
                "HD_TEST_UNSET_VAR",
            ],
            "HD_TEST_UNSET_VAR",
        ),
    ],
)
def test_bad_options_exit_2_with_one_line(
    argv: list[str], words: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert err.startswith("handshake-doctor: ")
    assert words in err
    assert err.count("\n") == 1


def test_options_fill_the_form(tmp_path: Path) -> None:
    args = parse_args(
        [
            "https://localhost:8443/path",
            "--connect",
            "127.0.0.1:9443",
            "--ca-file",
            str(tmp_path / "root.pem"),
            "--timeout",
            "3",
            "--no-network-time",
            "--quick",
            "--gentle",
            "--client-cert",
            "me.p12",
            "--client-cert-password-env",
            "HD_PASSWORD",
        ]
    )
    state = state_from_args(args, {"HD_PASSWORD": "s3cret"})
    assert state.host == "https://localhost:8443/path"
    assert state.connect == "127.0.0.1:9443"
    assert state.timeout == 3.0
    assert state.no_network_time and state.quick and state.gentle
    assert state.client_password == "s3cret"
    assert "s3cret" not in repr(state)


def test_no_host_opens_an_empty_window() -> None:
    assert parse_args([]).host is None


def test_build_request_maps_the_form(tmp_path: Path) -> None:
    ca = tmp_path / "root.pem"
    ca.write_text("x")
    request = build_request(
        FormState(
            host="https://localhost:8443/x", connect="127.0.0.1", ca_file=str(ca), timeout=2.5
        )
    )
    assert request.target.host == "localhost"
    assert request.target.port == 8443
    assert request.target.connect_address == "127.0.0.1"
    assert request.target.dial_port == 8443
    assert request.options.ca_file == ca
    assert request.options.timeout == 2.5
    assert request.options.time_servers == DEFAULT_TIME_SERVERS
    custom = build_request(FormState(host="localhost", time_server="127.0.0.1:1123"))
    assert custom.options.time_servers == ("127.0.0.1:1123",)


@pytest.mark.parametrize(
    ("state", "field"),
    [
        (FormState(host=""), "host"),
        (FormState(host="a b"), "host"),
        (FormState(host="localhost", connect="[::1"), "connect"),
        (FormState(host="localhost", ca_file="/nonexistent/ca.pem"), "ca_file"),
        (FormState(host="localhost", no_default_trust=True), "ca_file"),
        (FormState(host="localhost", client_key="/nonexistent/key.pem"), "client_cert"),
        (FormState(host="localhost", time_server="[bad"), "time_server"),
    ],
)
def test_form_errors_name_their_field(state: FormState, field: str) -> None:
    with pytest.raises(FormError) as caught:
        build_request(state)
    assert caught.value.field == field
    assert caught.value.message.endswith(".")


def test_client_credentials_from_pem_pair(tmp_path: Path) -> None:
    pki = Pki()
    client = pki.leaf(("client",), client=True)
    cert, key = write_chain(tmp_path, "client", [client], client)
    creds = load_credentials(ClientCertSpec(cert, key))
    assert b"BEGIN CERTIFICATE" in creds.certificate_pem
    assert b"PRIVATE KEY" in creds.key_pem
    assert "PRIVATE" not in repr(creds)
    with pytest.raises(CredentialsError, match="private key"):
        load_credentials(ClientCertSpec(cert, None))


def test_wrong_pkcs12_password_is_one_sentence(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    pki = Pki()
    client = pki.leaf(("client",), client=True)
    blob = pkcs12.serialize_key_and_certificates(
        b"me", client.key, client.cert, None, BestAvailableEncryption(b"right")
    )
    path = tmp_path / "me.p12"
    path.write_bytes(blob)
    assert load_credentials(ClientCertSpec(path, None, "right")).certificate_pem
    with pytest.raises(CredentialsError, match="password"):
        load_credentials(ClientCertSpec(path, None, "wrong"))


def test_about_names_every_component(qapp: object) -> None:
    text = versions_text()
    for name in ("Handshake Doctor", "Python", "OpenSSL", "Qt", "cryptography", "certifi"):
        assert name in text
    assert certifi_date()[:2] == "20"


def test_tones_follow_light_and_dark_palettes(qapp: object) -> None:
    light = QPalette(QColor("#f0f0f0"))
    dark = QPalette(QColor("#202124"))
    assert not is_dark(light) and is_dark(dark)
    for severity in (None, *Severity):
        fg_light, fg_dark = tone(severity, light), tone(severity, dark)
        # Text on its banner stays readable: far apart in lightness, in both themes.
        assert abs(fg_light.foreground.lightness() - fg_light.background.lightness()) > 90
        assert abs(fg_dark.foreground.lightness() - fg_dark.background.lightness()) > 90
