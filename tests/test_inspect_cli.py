"""``handshake-doctor inspect FILE``: offline validation of a chain from PEM, DER or PKCS#7, with
--host, --at, --ca-file and --no-default-trust, as a user runs it."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography.hazmat.primitives.serialization import Encoding, pkcs7

from core.cli import main
from tests.pki import DAY, NOW, Pki


def inspect(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    code = main(["inspect", *args, "--json"])
    out = capsys.readouterr()
    assert "Traceback" not in out.err
    return code, json.loads(out.out) if out.out else {}


def ids(report: dict[str, Any]) -> list[str]:
    return [f["id"] for f in report["findings"]]


@pytest.mark.parametrize("fmt", ["pem", "pem-root-first", "der-leaf", "pkcs7-der", "pkcs7-pem"])
def test_formats(capsys: pytest.CaptureFixture[str], pki: Pki, tmp_path: Path, fmt: str) -> None:
    leaf = pki.leaf(["www.example.test"])
    root = pki.write_root(tmp_path)
    certs = [leaf.cert, pki.intermediate.cert]
    path = tmp_path / f"chain.{fmt}"
    if fmt == "pem":
        path.write_bytes(leaf.pem + pki.intermediate.pem)
    elif fmt == "pem-root-first":
        path.write_bytes(pki.root.pem + pki.intermediate.pem + leaf.pem)
    elif fmt == "der-leaf":
        path.write_bytes(leaf.der)
    elif fmt == "pkcs7-der":
        path.write_bytes(pkcs7.serialize_certificates(certs, Encoding.DER))
    else:
        path.write_bytes(pkcs7.serialize_certificates(certs, Encoding.PEM))
    code, report = inspect(
        capsys,
        str(path),
        "--host",
        "www.example.test",
        "--ca-file",
        str(root),
        "--no-default-trust",
    )
    if fmt == "der-leaf":  # the intermediate is missing from a lone leaf
        assert ids(report) == ["incomplete-chain"]
        assert code == 1
        return
    assert code == 0
    assert report["valid"] is True
    assert report["trust"] == {"mozilla": None, "os": None, "custom": True}
    assert report["certificates"][0]["subject"] == "CN=www.example.test"


def test_at_moves_the_validation_time(
    capsys: pytest.CaptureFixture[str], pki: Pki, tmp_path: Path
) -> None:
    leaf = pki.leaf(["www.example.test"], not_before=NOW - DAY, not_after=NOW + 40 * DAY)
    chain = tmp_path / "chain.pem"
    chain.write_bytes(leaf.pem + pki.intermediate.pem)
    root = pki.write_root(tmp_path)
    later = (NOW + 60 * DAY).astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    soon = (NOW + 20 * DAY).isoformat()
    common = [
        str(chain),
        "--host",
        "www.example.test",
        "--ca-file",
        str(root),
        "--no-default-trust",
    ]
    code, expired = inspect(capsys, *common, "--at", later)
    assert (code, ids(expired)) == (1, ["cert-expired"])
    code, warned = inspect(capsys, *common, "--at", soon)
    assert (code, ids(warned)) == (0, ["expires-soon"])


def test_host_mismatch_and_no_host(
    capsys: pytest.CaptureFixture[str], pki: Pki, tmp_path: Path
) -> None:
    leaf = pki.leaf(["www.example.test"])
    chain = tmp_path / "chain.pem"
    chain.write_bytes(leaf.pem + pki.intermediate.pem)
    root = pki.write_root(tmp_path)
    common = [str(chain), "--ca-file", str(root), "--no-default-trust"]
    code, other = inspect(capsys, *common, "--host", "mail.example.test")
    assert (code, ids(other)) == (1, ["hostname-mismatch"])
    code, unnamed = inspect(capsys, *common)
    assert (code, ids(unnamed)) == (0, [])


def test_default_trust_does_not_know_a_private_root(
    capsys: pytest.CaptureFixture[str], pki: Pki, tmp_path: Path
) -> None:
    leaf = pki.leaf(["www.example.test"])
    chain = tmp_path / "chain.pem"
    chain.write_bytes(leaf.pem + pki.intermediate.pem)
    code, report = inspect(capsys, str(chain), "--host", "www.example.test")
    assert code == 1
    assert ids(report) == ["untrusted-root"]
    assert report["trust"]["mozilla"] is False


def test_text_output_escapes_hostile_subjects(
    capsys: pytest.CaptureFixture[str], pki: Pki, tmp_path: Path
) -> None:
    hostile = "evil\x1b[31m\u202etxt.exe<b>"
    leaf = pki.leaf(["www.example.test"], cn=hostile)
    chain = tmp_path / "chain.pem"
    chain.write_bytes(leaf.pem + pki.intermediate.pem)
    root = pki.write_root(tmp_path)
    assert main(["inspect", str(chain), "--ca-file", str(root), "--no-default-trust"]) == 0
    out = capsys.readouterr().out
    assert "\x1b" not in out and "\u202e" not in out
    assert "\\x1b[31m" in out and "\\u202e" in out
