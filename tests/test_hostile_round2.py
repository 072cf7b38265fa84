"""Hostile input, round 2 (issue 19): files the PKCS#12 guard could not read, terminals and
files that cannot take the output, secrets at rest, and the summary's connect port.

Every case goes through a real entry point: ``main`` or ``python -m handshake_doctor``."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from handshake_doctor.main import main
from tests.hostile_servers import hostile_chain, stalling_pkcs12
from tests.pki import Issued, Pki
from tests.tls_servers import LoopbackServer, TlsConfig, tls_server

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "handshake_doctor"]
CHECK = ["check", "--no-network-time", "--quick", "--timeout", "3"]


@pytest.fixture(scope="module")
def leaf(pki: Pki) -> Issued:
    return pki.leaf()


@pytest.fixture(scope="module")
def server(pki: Pki, leaf: Issued) -> Iterator[LoopbackServer]:
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf), lifetime=120) as running:
        yield running


def cli_env(**changes: str | None) -> dict[str, str]:
    """This process's environment with ``changes`` (None removes a variable)."""
    env = {**os.environ, "PYTHONWARNINGS": ""}
    for name, value in changes.items():
        if value is None:
            env.pop(name, None)
        else:
            env[name] = value
    return env


def run_cli(
    args: list[str], *, env: dict[str, str] | None = None, stdout: object = subprocess.PIPE
) -> subprocess.CompletedProcess[bytes]:
    """``python -m handshake_doctor ARGS`` as a real process, in bytes (what it wrote)."""
    return subprocess.run(  # type: ignore[call-overload, no-any-return]
        [sys.executable, "-m", "handshake_doctor", *args],
        stdin=subprocess.DEVNULL,
        stdout=stdout,
        stderr=subprocess.PIPE,
        timeout=60,
        check=False,
        cwd=ROOT,
        env=env or cli_env(),
    )


# --------------------------------------------------------------------------- item 1

PASSWORD_ENV = "HD_TEST_P12_PASSWORD"


def _element(data: bytes, pos: int = 0) -> tuple[int, int, int]:
    """(tag, start of content, end of content) of the DER element at ``pos``."""
    tag, size, pos = data[pos], data[pos + 1], pos + 2
    if size & 0x80:
        count = size & 0x7F
        size, pos = int.from_bytes(data[pos : pos + count], "big"), pos + count
    return tag, pos, pos + size


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    raw = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(raw)]) + raw + content


def indefinite_outer(der: bytes, *, end: bool = True) -> bytes:
    """The same file with its outer SEQUENCE in BER's indefinite length (as some exporters
    write it), ended by end-of-contents unless ``end`` is False."""
    _tag, start, stop = _element(der)
    return b"\x30\x80" + der[start:stop] + (b"\x00\x00" if end else b"")


def with_rounds(der: bytes, rounds: int) -> bytes:
    """A DER structure with every INTEGER that follows an OCTET STRING (an iteration count
    after its salt) set to ``rounds``; cheap, where asking the library for 2^31 rounds would
    run them."""
    out, pos, previous = b"", 0, -1
    while pos < len(der):
        tag, start, stop = _element(der, pos)
        content = der[start:stop]
        if tag == 0x02 and previous == 0x04:
            content = rounds.to_bytes(rounds.bit_length() // 8 + 1, "big")
        elif tag in (0x30, 0x31) or 0xA0 <= tag <= 0xAF:
            content = with_rounds(content, rounds)
        out += _der(tag, content)
        previous, pos = tag, stop
    return out


@pytest.fixture(scope="module")
def p12_files(leaf: Issued, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("p12")
    good = pkcs12.serialize_key_and_certificates(
        b"client", leaf.key, leaf.cert, None, BestAvailableEncryption(b"pw")
    )
    stalling = stalling_pkcs12(leaf)
    cheap_key = leaf.key.private_bytes(
        serialization.Encoding.DER,
        serialization.PrivateFormat.PKCS8,
        BestAvailableEncryption(b"pw"),
    )
    stalling_key = with_rounds(cheap_key, 2**31 - 1)
    pem_key = b"-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
    pem_key += b"\n".join(
        base64.b64encode(stalling_key)[i : i + 64]
        for i in range(0, len(base64.b64encode(stalling_key)), 64)
    )
    pem_key += b"\n-----END ENCRYPTED PRIVATE KEY-----\n"
    contents = {
        "ber_good": indefinite_outer(good),
        "ber_stalling": indefinite_outer(stalling),
        "ber_unended": indefinite_outer(stalling, end=False),
        "stalling_key": pem_key,
    }
    files = {}
    for name, data in contents.items():
        files[name] = folder / f"{name}.p12"
        files[name].write_bytes(data)
    files["cert"] = folder / "cert.pem"
    files["cert"].write_bytes(leaf.pem)
    return files


STALL = "unreasonable amount of password work"


@pytest.mark.parametrize(
    ("command", "file", "says"),
    [
        ("inspect", "ber_stalling", STALL),
        ("inspect", "ber_unended", "not a certificate in a format this app reads"),
        ("check", "ber_stalling", STALL),
        ("check", "ber_unended", "cannot be opened as PKCS#12"),
        ("check-key", "stalling_key", STALL),
    ],
)
def test_password_work_the_guard_cannot_count_is_refused_at_once(
    p12_files: dict[str, Path],
    command: str,
    file: str,
    says: str,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A BER file asking for 2^31 rounds, one whose end the guard cannot find (OpenSSL reads
    it anyway), and an encrypted PEM key asking for 2^31: each refused before OpenSSL runs a
    single round, as one line and exit 2 (it used to be minutes of key derivation)."""
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    path = str(p12_files[file])
    if command == "inspect":
        args = ["inspect", path, "--password-env", PASSWORD_ENV]
    elif command == "check":
        args = [*CHECK, "localhost", "--client-cert", path]
    else:
        args = [*CHECK, "localhost", "--client-cert", str(p12_files["cert"])]
        args += ["--client-key", path, "--client-cert-password-env", PASSWORD_ENV]
    started = time.monotonic()
    code = main(args)
    took = time.monotonic() - started
    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == ""
    assert err.startswith("handshake-doctor: ") and err.count("\n") == 1, err
    assert says in err
    assert took < 5, f"{took:.1f} s"


def test_a_ber_pkcs12_of_reasonable_work_still_opens(
    p12_files: dict[str, Path], capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Some exporters write BER: reading it is the fix, not refusing every such file."""
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    code = main(["inspect", str(p12_files["ber_good"]), "--password-env", PASSWORD_ENV])
    out, err = capsys.readouterr()
    assert code in (0, 1), err
    assert "CN=localhost" in out


# --------------------------------------------------------------------------- item 8


def test_summary_names_the_port_that_connect_dialled(
    server: LoopbackServer, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main([*CHECK, "--summary", "localhost:443", "--connect", server.address])
    first = capsys.readouterr().out.splitlines()[0]
    assert code in (0, 1)
    assert first.endswith(f"(connected to 127.0.0.1:{server.port})"), first


# --------------------------------------------------------------------------- items 2 and 3

#: A stranger's name with what ASCII lacks, and what cp1252 lacks too (Ω, ☃).
STRANGE = "Zürich Ωmega ☃ — “quoted”"


@pytest.fixture(scope="module")
def strange(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[LoopbackServer, Path]]:
    """A server whose chain is named STRANGE, and that chain as a file for ``inspect``."""
    root, leaf = hostile_chain(STRANGE)
    chain = tmp_path_factory.mktemp("strange") / "chain.pem"
    chain.write_bytes(leaf.pem + root.pem)
    with tls_server(TlsConfig([leaf, root], leaf), lifetime=120) as running:
        yield running, chain


NOT_UTF8: dict[str, dict[str, str | None]] = {
    "ascii": {"PYTHONIOENCODING": "ascii"},
    "c-locale": {"LC_ALL": "C", "PYTHONUTF8": "0", "PYTHONIOENCODING": None},
    "cp1252": {"PYTHONIOENCODING": "cp1252"},  # what Windows gives output redirected to a file
}


@pytest.mark.parametrize(
    ("mode", "encoding"),
    [("text", "ascii"), ("summary", "c-locale"), ("json", "ascii"), ("inspect", "cp1252")],
)
def test_output_degrades_on_an_encoding_that_lacks_characters(
    strange: tuple[LoopbackServer, Path], mode: str, encoding: str
) -> None:
    server, chain = strange
    if mode == "inspect":
        args = ["inspect", str(chain), "--host", "localhost"]
    else:
        args = [*CHECK, "localhost", "--connect", server.address]
        args += {"text": ["--no-color"], "summary": ["--summary"], "json": ["--json"]}[mode]
    result = run_cli(args, env=cli_env(**NOT_UTF8[encoding]))
    assert result.returncode == 1, result.stderr  # the chain's root is trusted by no store
    assert result.stderr == b"", result.stderr
    codec = "cp1252" if encoding == "cp1252" else "ascii"
    out = result.stdout.decode(codec)  # strict: every byte is the stream's own encoding
    if mode == "json":
        report = json.loads(out)
        assert STRANGE in json.dumps(report, ensure_ascii=False)  # escaped, not lost
        return
    assert "Z\\xfcrich" in out or "Zürich" in out  # the stranger's text, escaped where needed
    assert "\\u03a9mega" in out and "\\u2603" in out  # Ω and ☃: in neither encoding
    last = {"text": "", "summary": "Tried:", "inspect": "[error]"}[mode]
    assert last in out  # the whole output, not half of it


def _check_args(server: LoopbackServer) -> list[str]:
    return [*CHECK, "--json", "localhost", "--connect", server.address]


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="needs /dev/full")
@pytest.mark.parametrize("command", ["check", "inspect"])
def test_a_full_disk_is_one_line_and_exit_2(
    strange: tuple[LoopbackServer, Path], command: str
) -> None:
    server, chain = strange
    args = _check_args(server) if command == "check" else ["inspect", str(chain)]
    with open("/dev/full", "wb") as full:
        result = run_cli(args, stdout=full)
    assert result.returncode == 2
    assert result.stderr == b"handshake-doctor: cannot write the output: no space left on device\n"


def test_a_closed_standard_output_is_one_line_and_exit_2(
    strange: tuple[LoopbackServer, Path],
) -> None:
    server, _ = strange
    started = time.monotonic()
    result = subprocess.run(
        # ``>&-`` closes descriptor 1 before Python starts, as a user's shell would.
        ["/bin/sh", "-c", 'exec "$@" >&-', "sh", *CLI, *_check_args(server)],
        stdin=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert result.returncode == 2
    assert result.stderr == (
        b"handshake-doctor: cannot write the output: standard output is closed\n"
    )
    assert time.monotonic() - started < 30


@pytest.mark.parametrize("reader", ["takes-nothing", "head-1"])
@pytest.mark.parametrize("command", ["check", "inspect"])
def test_a_reader_that_goes_away_is_silent(
    strange: tuple[LoopbackServer, Path], command: str, reader: str
) -> None:
    """``handshake-doctor ... | head -1``, and a reader that closes the pipe before the first
    line (the write then surely meets the closed pipe)."""
    server, chain = strange
    if command == "check":
        args = [*CHECK, "localhost", "--connect", server.address]
    else:
        args = ["inspect", str(chain), "--host", "localhost"]
    process = subprocess.Popen(
        [sys.executable, "-m", "handshake_doctor", *args],
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=ROOT,
    )
    assert process.stdout is not None and process.stderr is not None
    try:
        if reader == "head-1":
            assert process.stdout.readline()
        process.stdout.close()
        err = process.stderr.read()
        code = process.wait(timeout=60)
    finally:
        process.kill()
        process.wait()
        process.stderr.close()
    assert err == b"", err
    assert code == 1  # the command's own status: the chain is not trusted


# --------------------------------------------------------------------------- item 7

#: Runs ``main`` with an audit hook that notes every file opened for writing (Python's own
#: "open" event: builtins.open and os.open alike), and writes the list to argv[1].
WRITES_AUDITED = """
import json, os, sys
written = []
WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT

def hook(event, args):
    if event == "open":
        path, mode, flags = args
        if (isinstance(mode, str) and set(mode) & set("wax+")) or (
            isinstance(flags, int) and flags & WRITE_FLAGS
        ):
            written.append(str(path))

sys.addaudithook(hook)
from handshake_doctor.main import main
code = main(sys.argv[2:])
with open(sys.argv[1], "w") as out:
    json.dump({"code": code, "written": written[:-1]}, out)  # the last: this very file
"""


@pytest.fixture(scope="module")
def client_p12(pki: Pki, tmp_path_factory: pytest.TempPathFactory) -> Path:
    client = pki.leaf(("client",), client=True)
    path = tmp_path_factory.mktemp("client") / "client.p12"
    path.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"client",
            client.key,
            client.cert,
            [pki.intermediate.cert],
            BestAvailableEncryption(b"pw"),
        )
    )
    return path


@pytest.fixture(scope="module")
def mtls_server(pki: Pki, leaf: Issued) -> Iterator[LoopbackServer]:
    config = TlsConfig([leaf, pki.intermediate], leaf, client_ca=pki.root)
    with tls_server(config, lifetime=120) as running:
        yield running


def test_the_decrypted_client_key_is_never_written_to_a_file(
    client_p12: Path, mtls_server: LoopbackServer, tmp_path: Path
) -> None:
    """A SIGKILL can come at any moment, so no moment may have the key in a named file: the
    check opens no file for writing at all while it uses a PKCS#12 client certificate."""
    report = tmp_path / "audit.json"
    args = [*CHECK, "--json", "localhost", "--connect", mtls_server.address]
    args += ["--client-cert", str(client_p12), "--client-cert-password-env", PASSWORD_ENV]
    result = subprocess.run(
        [sys.executable, "-c", WRITES_AUDITED, str(report), *args],
        capture_output=True,
        timeout=60,
        check=False,
        cwd=ROOT,
        env=cli_env(PYTHONDONTWRITEBYTECODE="1", TMPDIR=str(tmp_path), **{PASSWORD_ENV: "pw"}),
    )
    audit = json.loads(report.read_text())
    findings = {f["id"] for f in json.loads(result.stdout)["findings"]}
    assert "client-cert-required" not in findings, "the key was not used"
    assert audit["code"] in (0, 1), result.stderr
    assert audit["written"] == [], audit["written"]
    assert [p.name for p in tmp_path.iterdir()] == ["audit.json"]


def test_without_memfd_the_key_on_disk_is_encrypted_and_removed_at_once(
    client_p12: Path,
    mtls_server: LoopbackServer,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    """Where there is no memfd (macOS, Windows), what a crash could leave is a key encrypted
    under a password that died with the process; and it is gone once OpenSSL has read it."""
    import tempfile

    import core.credentials

    seen: list[bytes] = []
    original = core.credentials._write_private

    def noting(path: str, data: bytes) -> None:
        seen.append(data)
        original(path, data)

    monkeypatch.setattr(core.credentials, "_memfd_available", lambda: False)
    monkeypatch.setattr(core.credentials, "_write_private", noting)
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))
    monkeypatch.setenv(PASSWORD_ENV, "pw")
    args = [*CHECK, "--json", "localhost", "--connect", mtls_server.address]
    code = main(
        [*args, "--client-cert", str(client_p12), "--client-cert-password-env", PASSWORD_ENV]
    )
    findings = {f["id"] for f in json.loads(capsys.readouterr().out)["findings"]}
    assert code in (0, 1)
    assert "client-cert-required" not in findings, "the key was not used"
    keys = [data for data in seen if b"PRIVATE KEY" in data]
    assert keys and all(b"-----BEGIN ENCRYPTED PRIVATE KEY-----" in data for data in keys)
    assert list(tmp_path.iterdir()) == []
