"""Whatever people type or paste into ``check``, ``inspect`` and ``report``.

Malformed input: exit status 2 and exactly one clear line on stderr (no traceback, no usage
dump, nothing raw from the input). A well-formed target that fails: exit status 1, with
findings. Every row runs in-process; a sample runs as real ``python -m handshake_doctor``
processes, to prove that no traceback reaches a terminal. Nothing leaves 127.0.0.1: every
row that gets as far as the network names a loopback address with ``--connect``.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import BestAvailableEncryption, pkcs12

from handshake_doctor.main import main
from tests.cli_args import run_app
from tests.hostile_servers import stalling_pkcs12
from tests.pki import Pki
from tests.ports import closed_port
from tests.timing import within
from tests.tls_servers import TlsConfig, tls_server

USAGE, PROBLEM, OK = 2, 1, 0
WRONG_PASSWORD_ENV = "HD_TEST_WRONG_PASSWORD"


@dataclass
class World:
    """Files and servers the rows refer to as {name} in their arguments."""

    root: Path
    files: dict[str, Path]
    port: int
    closed: int

    def expand(self, args: list[str]) -> list[str]:
        values = {name: str(path) for name, path in self.files.items()}
        values.update(port=str(self.port), closed=str(self.closed), root=str(self.root))
        return [arg.format(**values) if "{" in arg else arg for arg in args]


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    folder = tmp_path_factory.mktemp("bad-input")
    pki = Pki()
    leaf = pki.leaf()
    client = pki.leaf(["alice"], client=True)
    p12 = pkcs12.serialize_key_and_certificates(
        b"client", leaf.key, leaf.cert, None, BestAvailableEncryption(b"the right one")
    )
    contents = {
        "empty": b"",
        "blank": b" \n\t\n",
        "random": os.urandom(4096),
        "truncated_pem": leaf.pem[: len(leaf.pem) // 2],
        "truncated_der": leaf.der[: len(leaf.der) // 2],
        "key": leaf.key_pem,
        "csr": b"-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n",
        "p12": p12,
        "stalling_p12": stalling_pkcs12(leaf),
        "client_cert": client.pem,
        "wrong_key": pki.leaf(["mallory"], client=True).key_pem,
        "chain": leaf.pem + pki.intermediate.pem,
    }
    files = {name: folder / name for name in contents}
    for name, data in contents.items():
        files[name].write_bytes(data)
    files["missing"] = folder / "no-such-file.pem"
    files["folder"] = folder / "a-folder"
    files["folder"].mkdir()
    files["huge"] = folder / "huge.pem"
    with files["huge"].open("wb") as handle:
        handle.truncate(30 * 1024 * 1024)  # 30 MB, sparse
    files["fifo"] = folder / "fifo"
    os.mkfifo(files["fifo"])
    files["out"] = folder / "report.pdf"
    root = pki.write_root(folder)
    with tls_server(TlsConfig([leaf, pki.intermediate], leaf), lifetime=300) as server:
        yield World(root, files, server.port, closed_port())


# --------------------------------------------------------------------------- the matrix

CHECK = ["check", "--no-network-time", "--quick", "--timeout", "2"]
LOCAL = ["--connect", "127.0.0.1"]
REPORT = ["report", "--no-network-time", "--quick", "--timeout", "2"]


@dataclass(frozen=True)
class Row:
    id: str
    args: list[str]
    expect: int
    #: a fragment the one line (usage) or the output (otherwise) must hold
    says: str = ""
    #: run it as a real process too
    subprocess: bool = False


ROWS = [
    # ---- check: the target
    Row("empty", [*CHECK, ""], USAGE, "Enter a host name", subprocess=True),
    Row("blanks", [*CHECK, "   "], USAGE, "Enter a host name"),
    Row("tab-newline", [*CHECK, "\t\n"], USAGE, "Enter a host name"),
    Row("port-0", [*CHECK, "localhost:0"], USAGE, "0 is out of range"),
    Row("port-70000", [*CHECK, "localhost:70000"], USAGE, "70000 is out of range"),
    Row("port-minus-1", [*CHECK, "localhost:-1"], USAGE, "not '-1'"),
    Row("port-abc", [*CHECK, "localhost:abc"], USAGE, "not 'abc'"),
    Row("port-empty", [*CHECK, "localhost:"], USAGE, "The port must be"),
    Row("two-ports", [*CHECK, "localhost:443", "--port", "444"], USAGE, "Two different ports"),
    Row("ipv6-open-bracket", [*CHECK, "[::1"], USAGE, "never closes it", subprocess=True),
    Row("ipv6-close-bracket", [*CHECK, "::1]"], USAGE, "never opened"),
    Row("ipv6-url-open-bracket", [*CHECK, "https://[::1/path"], USAGE, "never closes it"),
    Row("url-empty-brackets", [*CHECK, "https://[]/"], USAGE, "no host name", subprocess=True),
    Row("brackets-around-a-name", [*CHECK, "[example.com]:443"], USAGE, "IPv6"),
    Row("label-300", [*CHECK, "a" * 300 + ".example"], USAGE, "longer than 63"),
    Row("name-304", [*CHECK, ".".join(["a" * 60] * 5)], USAGE, "longer than 253"),
    Row("input-3000", [*CHECK, "x" * 3000], USAGE, "too long"),
    Row("bell", [*CHECK, "exa\x07mple.com"], USAGE, "control characters"),
    Row("ansi", [*CHECK, "example.com\x1b[31m"], USAGE, "control characters", subprocess=True),
    Row("rtl-override", [*CHECK, "\u202egoogle.com"], USAGE, "control characters"),
    Row("newline", [*CHECK, "exam\nple.com"], USAGE, "control characters"),
    Row("dot-dot", [*CHECK, ".."], USAGE, "empty part"),
    Row("double-dot", [*CHECK, "a..b.example"], USAGE, "empty part"),
    Row(
        "leading-dash", [*CHECK, "-example.com"], USAGE, "cannot start with a dash", subprocess=True
    ),
    Row("leading-dash-after-ddash", [*CHECK, "--", "-example.com"], USAGE, "starts with a dash"),
    Row("space", [*CHECK, "exa mple.com"], USAGE, "spaces"),
    Row("gopher-url", [*CHECK, "gopher://example.com/file"], USAGE, "gopher:// addresses"),
    Row("http-url", [*CHECK, "http://example.com/"], USAGE, "does not use TLS"),
    Row("url-without-host", [*CHECK, "https://"], USAGE, "no host name"),
    Row("bad-ipv4", [*CHECK, "256.256.256.256"], USAGE, "not a valid one"),
    Row("no-host", ["check"], USAGE, "required: HOST"),
    # ---- check: options
    Row("port-option-0", [*CHECK, "localhost", "--port", "0"], USAGE, "1 to 65535"),
    Row("port-option-70000", [*CHECK, "localhost", "--port", "70000"], USAGE, "1 to 65535"),
    Row("port-option-minus-1", [*CHECK, "localhost", "--port", "-1"], USAGE, "1 to 65535"),
    Row("port-option-abc", [*CHECK, "localhost", "--port", "abc"], USAGE, "1 to 65535"),
    Row("timeout-0", [*CHECK, "localhost", "--timeout", "0"], USAGE, "between 0.1 and 300"),
    Row("timeout-minus-1", [*CHECK, "localhost", "--timeout", "-1"], USAGE, "between 0.1"),
    Row(
        "timeout-nan",
        [*CHECK, "localhost", "--timeout", "nan"],
        USAGE,
        "between 0.1",
        subprocess=True,
    ),
    Row("timeout-1e9", [*CHECK, "localhost", "--timeout", "1e9"], USAGE, "between 0.1"),
    Row("timeout-inf", [*CHECK, "localhost", "--timeout", "inf"], USAGE, "between 0.1"),
    Row("timeout-abc", [*CHECK, "localhost", "--timeout", "abc"], USAGE, "number of seconds"),
    Row("connect-empty", [*CHECK, "localhost", "--connect", ""], USAGE, "needs an address"),
    Row("connect-port", [*CHECK, "localhost", "--connect", "127.0.0.1:99999"], USAGE, "99999"),
    Row("time-server-empty", [*CHECK, "localhost", "--time-server", ""], USAGE, "--time-server"),
    Row("unknown-option", [*CHECK, "localhost", "--frobnicate"], USAGE, "--frobnicate"),
    Row("json-and-summary", [*CHECK, "localhost", "--json", "--summary"], USAGE, "not allowed"),
    Row("no-default-trust-alone", [*CHECK, "localhost", "--no-default-trust"], USAGE, "--ca-file"),
    # ---- check: files
    Row("ca-missing", [*CHECK, "localhost", "--ca-file", "{missing}"], USAGE, "There is no file"),
    Row("ca-empty", [*CHECK, "localhost", "--ca-file", "{empty}"], USAGE, "empty"),
    Row("ca-folder", [*CHECK, "localhost", "--ca-file", "{folder}"], USAGE, "is a folder"),
    Row("ca-random", [*CHECK, "localhost", "--ca-file", "{random}"], USAGE, "not a certificate"),
    Row("ca-truncated", [*CHECK, "localhost", "--ca-file", "{truncated_pem}"], USAGE, "cut off"),
    Row("ca-30mb", [*CHECK, "localhost", "--ca-file", "{huge}"], USAGE, "31 MB"),
    Row(
        "ca-fifo",
        [*CHECK, "localhost", "--ca-file", "{fifo}"],
        USAGE,
        "not a regular file",
        subprocess=True,
    ),
    Row("ca-key", [*CHECK, "localhost", "--ca-file", "{key}"], USAGE, "private key"),
    Row("client-missing", [*CHECK, "localhost", "--client-cert", "{missing}"], USAGE, "no client"),
    Row("client-folder", [*CHECK, "localhost", "--client-cert", "{folder}"], USAGE, "a folder"),
    Row("client-random", [*CHECK, "localhost", "--client-cert", "{random}"], USAGE, "PKCS#12"),
    Row(
        "client-key-only", [*CHECK, "localhost", "--client-cert", "{key}"], USAGE, "no certificate"
    ),
    Row(
        "client-cert-no-key",
        [*CHECK, "localhost", "--client-cert", "{chain}"],
        USAGE,
        "its private key",
    ),
    Row(
        "client-p12-wrong-password",
        [
            *CHECK,
            "localhost",
            "--client-cert",
            "{p12}",
            "--client-cert-password-env",
            WRONG_PASSWORD_ENV,
        ],
        USAGE,
        "password is wrong",
        subprocess=True,
    ),
    Row(
        "client-p12-no-password", [*CHECK, "localhost", "--client-cert", "{p12}"], USAGE, "password"
    ),
    Row(
        "client-key-alone",
        [*CHECK, "localhost", "--client-key", "{key}"],
        USAGE,
        "needs --client-cert",
    ),
    Row(
        "password-env-alone",
        [*CHECK, "localhost", "--client-cert-password-env", "X"],
        USAGE,
        "needs --client-cert",
    ),
    Row(
        "client-key-of-another-certificate",
        [*CHECK, "localhost", "--client-cert", "{client_cert}", "--client-key", "{wrong_key}"],
        USAGE,
        "does not belong to the client certificate",
        subprocess=True,
    ),
    Row(
        "client-p12-stalling",
        [*CHECK, "localhost", "--client-cert", "{stalling_p12}"],
        USAGE,
        "unreasonable amount of password work",
    ),
    # ---- check: well-formed targets (valid input; the outcome is the server's)
    Row(
        "pasted-url",
        [
            *CHECK,
            "https://localhost:{port}/a/path?q=1&r=2#frag",
            *LOCAL,
            "--ca-file",
            "{root}",
            "--json",
        ],
        OK,
        '"port": ',
    ),
    Row(
        "pasted-url-with-password",
        [*CHECK, "https://user:hunter2@localhost:{port}/", *LOCAL, "--ca-file", "{root}", "--json"],
        OK,
    ),
    Row(
        "uppercase-url",
        [*CHECK, "HTTPS://LOCALHOST:{port}", *LOCAL, "--ca-file", "{root}", "--json"],
        OK,
    ),
    Row(
        "idn",
        [*CHECK, "bücher.example:{port}", *LOCAL, "--ca-file", "{root}", "--json"],
        PROBLEM,
        "xn--bcher-kva.example",
        subprocess=True,
    ),
    Row(
        "idn-ideographic-dot",
        [*CHECK, "bücher。example:{port}", *LOCAL, "--ca-file", "{root}", "--json"],
        PROBLEM,
        "xn--bcher-kva.example",
    ),
    Row(
        "nothing-listens",
        [*CHECK, "localhost:{closed}", *LOCAL, "--json"],
        PROBLEM,
        "connect-refused",
        subprocess=True,
    ),
    Row("ipv6-literal-closed", [*CHECK, "[::1]:{closed}", "--json"], PROBLEM, "connect-refused"),
    # ---- inspect
    Row("inspect-missing", ["inspect", "{missing}"], USAGE, "There is no file", subprocess=True),
    Row("inspect-empty", ["inspect", "{empty}"], USAGE, "empty"),
    Row("inspect-blank", ["inspect", "{blank}"], USAGE, "empty"),
    Row("inspect-folder", ["inspect", "{folder}"], USAGE, "is a folder"),
    Row(
        "inspect-random",
        ["inspect", "{random}"],
        USAGE,
        "not a certificate in a format",
        subprocess=True,
    ),
    Row("inspect-truncated-pem", ["inspect", "{truncated_pem}"], USAGE, "cut off"),
    Row("inspect-truncated-der", ["inspect", "{truncated_der}"], USAGE, "not a certificate"),
    Row("inspect-30mb", ["inspect", "{huge}"], USAGE, "31 MB", subprocess=True),
    Row("inspect-fifo", ["inspect", "{fifo}"], USAGE, "not a regular file", subprocess=True),
    Row("inspect-private-key", ["inspect", "{key}"], USAGE, "private key", subprocess=True),
    Row(
        "inspect-p12-stalling",
        ["inspect", "{stalling_p12}", "--password-env", WRONG_PASSWORD_ENV],
        USAGE,
        "unreasonable amount of password work",
        subprocess=True,
    ),
    Row("inspect-csr", ["inspect", "{csr}"], USAGE, "holds no certificate"),
    Row(
        "inspect-p12-wrong-password",
        ["inspect", "{p12}", "--password-env", WRONG_PASSWORD_ENV],
        USAGE,
        "password is wrong",
    ),
    Row("inspect-p12-no-password", ["inspect", "{p12}"], USAGE, "password is wrong or missing"),
    Row(
        "inspect-password-env-unset",
        ["inspect", "{chain}", "--password-env", "HD_TEST_UNSET"],
        USAGE,
        "not set",
    ),
    Row(
        "inspect-password-env-bad-name",
        ["inspect", "{chain}", "--password-env", ""],
        USAGE,
        "name of an environment",
    ),
    Row(
        "inspect-at-garbage", ["inspect", "{chain}", "--at", "next tuesday"], USAGE, "--at must be"
    ),
    Row("inspect-at-month-13", ["inspect", "{chain}", "--at", "2026-13-45"], USAGE, "--at must be"),
    Row("inspect-host-space", ["inspect", "{chain}", "--host", "bad host"], USAGE, "spaces"),
    Row("inspect-host-empty", ["inspect", "{chain}", "--host", ""], USAGE, "Enter a host name"),
    Row(
        "inspect-no-default-trust", ["inspect", "{chain}", "--no-default-trust"], USAGE, "--ca-file"
    ),
    Row(
        "inspect-valid",
        ["inspect", "{chain}", "--ca-file", "{root}", "--host", "localhost"],
        OK,
        "VALID",
    ),
    Row("inspect-untrusted", ["inspect", "{chain}", "--host", "localhost"], PROBLEM, "NOT VALID"),
    # ---- report
    Row(
        "report-empty-target",
        [*REPORT, "", "-o", "{out}"],
        USAGE,
        "Enter a host name",
        subprocess=True,
    ),
    Row("report-bad-port", [*REPORT, "localhost:70000", "-o", "{out}"], USAGE, "out of range"),
    Row("report-no-output", [*REPORT, "localhost"], USAGE, "-o/--output"),
    Row(
        "report-output-folder", [*REPORT, "localhost", "-o", "{folder}"], USAGE, "that is a folder"
    ),
    Row("report-output-not-pdf", [*REPORT, "localhost", "-o", "{random}"], USAGE, "ending in .pdf"),
    Row(
        "report-output-no-folder",
        [*REPORT, "localhost", "-o", "{missing}/x/r.pdf"],
        USAGE,
        "does not exist",
    ),
    Row(
        "report-timeout-nan",
        [*REPORT, "localhost", "-o", "{out}", "--timeout", "nan"],
        USAGE,
        "between 0.1",
    ),
    Row(
        "report-ca-random",
        [*REPORT, "localhost", "-o", "{out}", "--ca-file", "{random}"],
        USAGE,
        "not a certificate",
    ),
]


def test_the_matrix_is_broad() -> None:
    commands = {row.args[0] for row in ROWS}
    assert commands == {"check", "inspect", "report"}
    assert sum(row.expect == USAGE for row in ROWS) >= 40
    assert len({row.id for row in ROWS}) == len(ROWS)


_PYTHON_ERROR = re.compile(r"\b[A-Z]\w*(Error|Exception)\b|Traceback|File \"")


def _assert_one_clear_line(row: Row, err: str, out: str) -> None:
    assert out == "", f"{row.id}: nothing belongs on stdout, got {out!r}"
    assert err.startswith("handshake-doctor: ") and err.endswith("\n"), repr(err)
    line = err[:-1]
    assert "\n" not in line, f"{row.id}: more than one line: {err!r}"
    assert "usage:" not in line.lower()
    assert not _PYTHON_ERROR.search(line), f"{row.id}: a Python error leaked: {line!r}"
    assert all(ch.isprintable() for ch in line), f"{row.id}: raw control text: {line!r}"
    assert len(line) < 600
    assert row.says in line, f"{row.id}: {line!r} does not say {row.says!r}"


def _assert_outcome(row: Row, code: int, out: str, err: str) -> None:
    assert code == row.expect, f"{row.id}: exit {code}, stderr {err!r}"
    if row.expect == USAGE:
        _assert_one_clear_line(row, err, out)
        return
    assert "Traceback" not in err and "Traceback" not in out
    assert row.says in out, f"{row.id}: {row.says!r} not in the output"
    assert "hunter2" not in out + err, "a password pasted in a URL must not be repeated"
    if "--json" in row.args:
        report: dict[str, Any] = json.loads(out)
        if row.expect == PROBLEM:
            assert report["findings"], f"{row.id}: a failing target needs findings"


@pytest.mark.parametrize("row", ROWS, ids=[row.id for row in ROWS])
def test_bad_input(
    row: Row,
    world: World,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv(WRONG_PASSWORD_ENV, "not the password")
    monkeypatch.delenv("HD_TEST_UNSET", raising=False)
    started = time.monotonic()
    code = main(world.expand(row.args))
    took = time.monotonic() - started
    out = capsys.readouterr()
    _assert_outcome(row, code, out.out, out.err)
    assert took < within(5), f"{row.id} took {took:.1f} s"


def test_as_real_processes(world: World) -> None:
    """The rows marked ``subprocess``, as ``python -m handshake_doctor``, all at once."""
    rows = [row for row in ROWS if row.subprocess]
    assert len(rows) >= 12
    env = dict(os.environ, **{WRONG_PASSWORD_ENV: "not the password", "PYTHONWARNINGS": ""})
    env.pop("HD_TEST_UNSET", None)
    running = [
        (
            row,
            subprocess.Popen(
                [sys.executable, "-m", "handshake_doctor", *world.expand(row.args)],
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
                env=env,
                cwd=Path(__file__).resolve().parent.parent,
            ),
        )
        for row in rows
    ]
    for row, process in running:
        try:
            out, err = process.communicate(timeout=60)
        finally:
            process.kill()
        _assert_outcome(row, process.returncode, out, err)


def test_valid_report_of_a_failing_target_writes_the_pdf(world: World) -> None:
    """Well-formed but nothing listens: exit 1, and the PDF still says so (a real process,
    so that the PDF's Qt application never meets the test process's own)."""
    out_file = world.files["out"].with_name("refused.pdf")
    result = run_app(
        *REPORT, f"localhost:{world.closed}", "--connect", "127.0.0.1", "-o", str(out_file)
    )
    assert result.returncode == PROBLEM, result.stderr
    assert "Traceback" not in result.stderr
    assert out_file.read_bytes().startswith(b"%PDF")
    assert "verdict error" in result.stdout
