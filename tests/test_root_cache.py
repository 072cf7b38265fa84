"""The lazy trust stores and their cache (core/root_cache.py, core/trust.py): a bundle is indexed
without parsing its roots, a root is parsed when a chain names it, and the cache file is used only
when it is whole and made from the very same bundle; anything else is rebuilt, never an error."""

from __future__ import annotations

import datetime as dt
import os
import sys
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives.serialization import Encoding

from core.analyze.chain import analyze_chain
from core.certs import CertificateFileError, load_certificates
from core.root_cache import (
    CACHE_ENV,
    MAGIC,
    cache_file_for,
    index_bundle_bytes,
    load_bundle,
    read_cache,
)
from core.trust import Roots, TrustStores, certifi_bundle, mozilla_roots
from tests.pki import Pki, make_ca


@pytest.fixture
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "cache"
    monkeypatch.setenv(CACHE_ENV, str(folder))
    return folder


@pytest.fixture(scope="module")
def others() -> list[x509.Certificate]:
    return [make_ca(f"Unrelated Root {n}").cert for n in range(6)]


def bundle_file(folder: Path, certs: list[x509.Certificate], name: str = "bundle.pem") -> Path:
    path = folder / name
    path.write_bytes(b"".join(c.public_bytes(Encoding.PEM) for c in certs))
    return path


def test_index_matches_what_the_full_loader_reads() -> None:
    data = certifi_bundle().read_bytes()
    index = index_bundle_bytes(data)
    certs = load_certificates(data)
    assert len(index) == len(certs) > 100
    assert [index.der(n) for n in range(len(index))] == [
        c.public_bytes(Encoding.DER) for c in certs
    ]
    assert list(index.subjects) == [c.subject.public_bytes() for c in certs]


def test_cache_is_written_then_used(cache: Path, tmp_path: Path, pki: Pki) -> None:
    bundle = bundle_file(tmp_path, [pki.root.cert])
    first = load_bundle(bundle)
    cached = cache_file_for(bundle)
    assert cached.is_file() and cached.parent == cache
    assert cached.read_bytes().startswith(MAGIC)
    assert read_cache(cached, _key_of(bundle), bundle.read_bytes()) == first
    assert load_bundle(bundle) == first


def _key_of(bundle: Path) -> dict[str, object]:
    from core.root_cache import _key

    return _key(bundle, bundle.read_bytes())


def test_changed_bundle_is_reindexed(
    cache: Path, tmp_path: Path, pki: Pki, others: list[x509.Certificate]
) -> None:
    bundle = bundle_file(tmp_path, [pki.root.cert])
    assert len(load_bundle(bundle)) == 1
    bundle_file(tmp_path, [pki.root.cert, *others])
    assert len(load_bundle(bundle)) == 1 + len(others)


def test_same_size_and_time_but_other_content_is_reindexed(
    cache: Path, tmp_path: Path, others: list[x509.Certificate]
) -> None:
    """Size and mtime can match by accident (a copy with -p, a coarse file system clock):
    the content hash still tells the bundles apart."""
    bundle = tmp_path / "bundle.pem"
    bundle.write_bytes(others[0].public_bytes(Encoding.PEM).ljust(1000, b"\n"))
    load_bundle(bundle)
    info = bundle.stat()
    bundle.write_bytes(others[1].public_bytes(Encoding.PEM).ljust(1000, b"\n"))
    os.utime(bundle, ns=(info.st_atime_ns, info.st_mtime_ns))
    assert load_bundle(bundle).der(0) == others[1].public_bytes(Encoding.DER)


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda raw: b"", id="empty"),
        pytest.param(lambda raw: raw[: len(raw) // 2], id="truncated"),
        pytest.param(lambda raw: b"garbage" + raw, id="bad-magic"),
        pytest.param(lambda raw: raw[:-10] + bytes(10), id="payload-flipped"),
        pytest.param(lambda raw: raw.replace(b'"count": ', b'"count": 1'), id="header-edited"),
        pytest.param(lambda raw: MAGIC + b"{not json\n", id="header-not-json"),
        pytest.param(lambda raw: MAGIC + b"[1, 2]\n", id="header-not-object"),
        pytest.param(lambda raw: os.urandom(len(raw)), id="random"),
    ],
)
def test_damaged_cache_is_rebuilt(
    cache: Path,
    tmp_path: Path,
    pki: Pki,
    others: list[x509.Certificate],
    damage: object,
) -> None:
    bundle = bundle_file(tmp_path, [pki.root.cert, *others])
    good = load_bundle(bundle)
    cached = cache_file_for(bundle)
    assert callable(damage)
    cached.write_bytes(damage(cached.read_bytes()))
    assert load_bundle(bundle) == good
    assert read_cache(cached, _key_of(bundle), bundle.read_bytes()) == good  # and repaired


def test_cache_folder_that_cannot_be_made_is_no_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv(CACHE_ENV, str(blocker / "cache"))
    bundle = bundle_file(tmp_path, [pki.root.cert])
    assert load_bundle(bundle).der(0) == pki.root.der


def test_cache_that_is_a_folder_is_no_error(cache: Path, tmp_path: Path, pki: Pki) -> None:
    bundle = bundle_file(tmp_path, [pki.root.cert])
    cache_file_for(bundle).mkdir(parents=True)
    assert load_bundle(bundle).der(0) == pki.root.der


def test_damaged_bundle_is_refused_as_before(cache: Path, tmp_path: Path, pki: Pki) -> None:
    cut = tmp_path / "cut.pem"
    cut.write_bytes(pki.root.pem.split(b"-----END")[0])
    with pytest.raises(CertificateFileError, match="cut off"):
        load_bundle(cut)
    not_der = tmp_path / "not-der.pem"
    not_der.write_bytes(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    with pytest.raises(CertificateFileError, match="damaged"):
        load_bundle(not_der)


def test_roots_are_parsed_only_when_a_chain_names_them(
    cache: Path, tmp_path: Path, pki: Pki, others: list[x509.Certificate]
) -> None:
    bundle = bundle_file(tmp_path, [*others, pki.root.cert])
    roots = Roots.from_index(load_bundle(bundle))
    assert roots.parsed_count == 0
    stores = TrustStores(mozilla=roots, os=None, custom=None)
    leaf = pki.leaf().cert
    result = analyze_chain(
        [leaf, pki.intermediate.cert], "localhost", stores, dt.datetime.now(dt.UTC)
    )
    assert result.valid and result.trust.mozilla is True
    assert result.path.anchor == pki.root.cert
    assert roots.parsed_count == 1  # the one root the intermediate names
    assert pki.root.cert in roots and leaf not in roots


def test_untrusted_chain_keeps_the_verifiers_words(
    cache: Path, tmp_path: Path, pki: Pki, others: list[x509.Certificate]
) -> None:
    """A chain no root in the store names is judged by the verifier as before (it needs a
    store to run, and its message is the evidence), not by a shortcut of ours."""
    lazy = Roots.from_index(load_bundle(bundle_file(tmp_path, others)))
    eager = tuple(others)
    leaf = pki.leaf().cert
    now = dt.datetime.now(dt.UTC)
    chain = [leaf, pki.intermediate.cert]
    lazy_result = analyze_chain(chain, "localhost", TrustStores(lazy, None, None), now)
    eager_result = analyze_chain(chain, "localhost", TrustStores(eager, None, None), now)
    assert not lazy_result.valid
    assert lazy_result.verifier_error == eager_result.verifier_error
    assert lazy_result.verifier_error != "no trust anchors"
    assert [f.id for f in lazy_result.findings] == [f.id for f in eager_result.findings]


def test_unreadable_root_is_left_out_not_raised(cache: Path, tmp_path: Path, pki: Pki) -> None:
    """A root whose outer structure is sound but whose contents cryptography refuses: the store
    behaves as if it did not hold it, and the good roots still work."""
    der = bytearray(pki.root.der)
    not_before = der.find(b"\x17\x0d")  # the UTCTime of notBefore: 13 characters
    assert not_before > 0
    der[not_before + 2 : not_before + 15] = b"not-a-date!!Z"
    import base64

    damaged = (
        b"-----BEGIN CERTIFICATE-----\n"
        + base64.encodebytes(bytes(der))
        + b"-----END CERTIFICATE-----\n"
    )
    bundle = tmp_path / "mixed.pem"
    bundle.write_bytes(damaged + pki.root.pem)
    roots = Roots.from_index(load_bundle(bundle))
    assert len(roots) == 2
    assert list(roots) == [pki.root.cert]  # the damaged one is not among the readable roots
    result = analyze_chain(
        [pki.leaf().cert, pki.intermediate.cert],
        "localhost",
        TrustStores(roots, None, None),
        dt.datetime.now(dt.UTC),
    )
    assert result.valid


def test_mozilla_store_is_found_without_importing_certifi(cache: Path) -> None:
    import certifi

    assert certifi_bundle() == Path(certifi.where())
    assert len(mozilla_roots()) > 100


def test_a_forged_cache_cannot_add_a_root(
    cache: Path, tmp_path: Path, pki: Pki, others: list[x509.Certificate]
) -> None:
    """The cache holds where each root lies in the bundle and its subject, never a certificate.
    One rewritten to match the bundle's key and digest, that files a bundle root under the test
    root's subject, still yields no root the bundle does not hold: the root is decoded from the
    bundle and its subject checked when it is used."""
    import hashlib
    import json

    from core.root_cache import _key, _payload

    bundle = bundle_file(tmp_path, others)
    index = load_bundle(bundle)
    forged = type(index)(
        index.data, (pki.root.cert.subject.public_bytes(), *index.subjects[1:]), spans=index.spans
    )
    payload = _payload(forged)
    header = {
        "bundle": _key(bundle, bundle.read_bytes()),
        "count": len(forged),
        "payload_sha256": hashlib.sha256(payload).hexdigest(),
    }
    cache_file_for(bundle).write_bytes(MAGIC + json.dumps(header).encode() + b"\n" + payload)
    assert load_bundle(bundle) == forged  # the forgery is read: it matches in every way
    roots = Roots.from_index(load_bundle(bundle))
    assert roots.named(pki.intermediate.cert) == []
    assert pki.root.cert not in roots and others[0] not in roots
    result = analyze_chain(
        [pki.leaf().cert, pki.intermediate.cert],
        "localhost",
        TrustStores(roots, None, None),
        dt.datetime.now(dt.UTC),
    )
    assert not result.valid and result.trust.mozilla is False


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="the XDG folder is Linux's")
def test_cache_lives_in_the_xdg_cache_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, pki: Pki
) -> None:
    from core.root_cache import cache_dir

    monkeypatch.delenv(CACHE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert cache_dir() == tmp_path / "xdg" / "handshake-doctor"
    bundle = bundle_file(tmp_path, [pki.root.cert])
    load_bundle(bundle)
    assert cache_file_for(bundle).parent == tmp_path / "xdg" / "handshake-doctor"
    assert cache_file_for(bundle).is_file()
