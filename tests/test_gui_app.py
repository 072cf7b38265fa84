"""The window's command line and the form's request: bad options exit 2 before any window,
good ones fill the form the way the CLI would fill CheckOptions."""

from __future__ import annotations

import configparser
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from PySide6.QtGui import QColor, QPalette

from core.credentials import CredentialsError
from core.models import DEFAULT_TIME_SERVERS, ClientCredentials, Severity
from core.request import RequestError, RequestProblem, RequestSpec
from core.request import load_credentials as core_load_credentials
from gui.about import certifi_date, versions_text
from gui.app import DESKTOP_FILE_NAME, EXIT_AFTER_SHOW, form_from_argv, main, parse_args
from gui.request import build_request, form_words, state_from_args
from gui.theme import is_dark, tone
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
        RequestSpec(
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
    custom = build_request(RequestSpec(host="localhost", time_server="127.0.0.1:1123"))
    assert custom.options.time_servers == ("127.0.0.1:1123",)


@pytest.mark.parametrize(
    ("state", "field"),
    [
        (RequestSpec(host=""), "host"),
        (RequestSpec(host="a b"), "host"),
        (RequestSpec(host="localhost", connect="[::1"), "connect"),
        (RequestSpec(host="localhost", ca_file="/nonexistent/ca.pem"), "ca_file"),
        (RequestSpec(host="localhost", no_default_trust=True), "ca_file"),
        (RequestSpec(host="localhost", client_key="/nonexistent/key.pem"), "client_cert"),
        (RequestSpec(host="localhost", time_server="[bad"), "time_server"),
    ],
)
def test_form_errors_name_their_field(state: RequestSpec, field: str) -> None:
    with pytest.raises(RequestError) as caught:
        build_request(state)
    assert caught.value.field == field
    assert form_words(caught.value).endswith(".")


def load_credentials(cert: Path, key: Path | None = None, password: str = "") -> ClientCredentials:
    """As the window's worker loads them: the typed password, never a prompt."""
    spec = RequestSpec(client_cert=str(cert), client_key=str(key or ""), client_password=password)
    credentials = core_load_credentials(spec, prompt=False)
    assert credentials is not None
    return credentials


def test_client_credentials_from_pem_pair(tmp_path: Path) -> None:
    pki = Pki()
    client = pki.leaf(("client",), client=True)
    cert, key = write_chain(tmp_path, "client", [client], client)
    creds = load_credentials(cert, key)
    assert b"BEGIN CERTIFICATE" in creds.certificate_pem
    assert b"PRIVATE KEY" in creds.key_pem
    assert "PRIVATE" not in repr(creds)
    with pytest.raises(CredentialsError, match="private key"):
        load_credentials(cert)


def test_wrong_pkcs12_password_is_one_sentence(tmp_path: Path) -> None:
    from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

    pki = Pki()
    client = pki.leaf(("client",), client=True)
    blob = pkcs12.serialize_key_and_certificates(
        b"me", client.key, client.cert, None, BestAvailableEncryption(b"right")
    )
    path = tmp_path / "me.p12"
    path.write_bytes(blob)
    assert load_credentials(path, password="right").certificate_pem
    with pytest.raises(CredentialsError, match="password"):
        load_credentials(path, password="wrong")


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


# --------------------------------------------------------------------------- starting up

ROOT = Path(__file__).resolve().parent.parent


def _python(code: str, tmp_path: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """``code`` in a fresh interpreter (nothing imported yet), offscreen, with its own settings."""
    return subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
        env={
            **os.environ,
            "PYTHONPATH": str(ROOT),
            "QT_QPA_PLATFORM": "offscreen",
            "XDG_CONFIG_HOME": str(tmp_path),
            **env,
        },
        check=False,
    )


FIRST_FRAME = textwrap.dedent(
    """
    import json, sys
    import PySide6.QtCore as QtCore
    from PySide6.QtWidgets import QApplication
    app = QApplication([])
    eager = "Qt" in QtCore.__dict__  # bindings that make the Qt namespace at once: nothing to save
    from gui.app import form_from_argv
    from gui.window import MainWindow
    window = MainWindow(initial=form_from_argv([]), deferred=True)
    window.show()
    first = {
        "engine": sorted(m for m in sys.modules if m.split(".")[0] in ("core", "cryptography")),
        "qt_namespace": not eager and "Qt" in QtCore.__dict__,
        "ready": window.is_ready,
        "panes": hasattr(window, "tabs"),
    }
    window.when_ready(app.quit)
    app.exec()
    tabs = [window.tabs.tabText(i) for i in range(window.tabs.count())]
    print(json.dumps({**first, "tabs": tabs, "icon": not app.windowIcon().isNull()}))
    """
)


def test_the_first_frame_needs_neither_the_engine_nor_the_qt_namespace(tmp_path: Path) -> None:
    """What the app paints first (the form, the menus, an empty results area) imports no engine
    module and never makes PySide6 create its Qt namespace (~13 ms of enums); the panes, the
    catalogue and the icon come once the window has been painted."""
    result = _python(FIRST_FRAME, tmp_path)
    assert result.returncode == 0, result.stderr[-2000:]
    seen = json.loads(result.stdout.strip().splitlines()[-1])
    assert seen["engine"] == []
    assert seen["qt_namespace"] is False
    assert seen["ready"] is False and seen["panes"] is False
    assert seen["tabs"][0] == "Summary" and len(seen["tabs"]) == 6
    assert seen["icon"] is True


def test_exit_after_show_hook_says_shown_then_ready(tmp_path: Path) -> None:
    """packaging/smoke.py and benchmarks/startup.py switch to this hook when they find its name
    in gui/app.py; the bare window of packaging/bare_window.py prints the same ``shown``."""
    code = "import sys; from gui.app import main; sys.exit(main([]))"
    result = _python(code, tmp_path, **{EXIT_AFTER_SHOW: "1"})
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split() == ["shown", "ready"]
    assert EXIT_AFTER_SHOW in (ROOT / "benchmarks" / "startup.py").read_text(encoding="utf-8")
    assert EXIT_AFTER_SHOW in (ROOT / "packaging" / "smoke.py").read_text(encoding="utf-8")


def test_no_arguments_fill_no_form() -> None:
    assert form_from_argv([]) is None
    state = form_from_argv(["localhost", "--quick"])
    assert state is not None and state.host == "localhost" and state.quick


def test_desktop_file_name_is_the_packaged_desktop_file() -> None:
    desktop = ROOT / "packaging" / f"{DESKTOP_FILE_NAME}.desktop"
    assert desktop.is_file()
    parser = configparser.ConfigParser(interpolation=None)
    parser.read(desktop, encoding="utf-8")
    assert parser["Desktop Entry"]["Icon"] == DESKTOP_FILE_NAME


# --------------------------------------------------------------------------- client certificates


def test_a_missing_client_key_is_explained_in_the_windows_words(tmp_path: Path) -> None:
    pki = Pki()
    client = pki.leaf(("client",), client=True)
    cert, _ = write_chain(tmp_path, "client", [client], client)
    with pytest.raises(CredentialsError) as caught:
        load_credentials(cert)
    field, message = caught.value.field, form_words(caught.value)
    assert field == "client_key"
    assert "Client key field" in message
    assert "--" not in message


@pytest.mark.parametrize(
    ("error", "cli", "window"),
    [
        (
            CredentialsError(
                "client_key", RequestProblem.KEY_MISMATCH, path="/c.pem", key_path="/k.pem"
            ),
            "--client-cert: The private key in /k.pem (--client-key) does not belong to the "
            "client certificate in /c.pem.",
            "The private key in /k.pem does not belong to the client certificate in /c.pem.",
        ),
        (
            CredentialsError("client_cert", RequestProblem.BUNDLE_KEY_MISMATCH, path="/c.pem"),
            "--client-cert: The private key in /c.pem does not belong to the client certificate "
            "in /c.pem.",
            "The private key in /c.pem does not belong to the client certificate in /c.pem.",
        ),
        (
            CredentialsError(
                "client_key", RequestProblem.FILE_MISSING, what="client key", path="/k.pem"
            ),
            "--client-cert: There is no client key file /k.pem.",
            "There is no file /k.pem.",
        ),
        (
            CredentialsError("client_cert", RequestProblem.NO_CERTIFICATE, path="/c.p12"),
            "--client-cert: /c.p12 holds no certificate.",
            "/c.p12 holds no certificate.",
        ),
        (
            RequestError("ca_file", RequestProblem.NEEDS_CA_FILE),
            "--no-default-trust needs --ca-file: otherwise nothing would be trusted.",
            "“Trust only this file” needs a CA file: otherwise nothing would be trusted.",
        ),
    ],
)
def test_request_problems_are_worded_for_the_command_line_and_for_the_window(
    error: RequestError, cli: str, window: str
) -> None:
    """One problem, two readers: the command line names its options, the window its fields."""
    assert str(error) == cli
    assert form_words(error) == window
