"""Hostile input, round 2 (issue 19): files the PKCS#12 guard could not read, terminals and
files that cannot take the output, secrets at rest, and the summary's connect port.

Every case goes through a real entry point: ``main`` or ``python -m handshake_doctor``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from handshake_doctor.main import main
from tests.hostile_servers import hostile_chain
from tests.pki import Issued, Pki
from tests.tls_servers import LoopbackServer, TlsConfig, tls_server

ROOT = Path(__file__).resolve().parent.parent
CLI = [sys.executable, "-m", "handshake_doctor"]
CHECK = ["check", "--no-network-time", "--quick", "--timeout", "3"]


@pytest.fixture(scope="module")
def pki() -> Pki:
    return Pki()


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
