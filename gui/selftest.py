"""``HandshakeDoctor --self-test``: does this copy of the app have everything it needs?

Meant for the frozen bundle (CI runs it after every build, and a user can run it when the app
misbehaves), but it works from source too. In order, it:

1. loads the data files (findings catalogue, cipher suites, reference clients) through
   importlib.resources, Mozilla's roots through certifi, this computer's own trust store (which
   store, how many anchors: core/os_store.py) and the app icons, and checks that Qt finds the
   plugins the window needs;
2. starts a TLS server on 127.0.0.1 with a CA and a certificate it makes, and checks it end to
   end with the engine (no network time, quick), expecting no error;
3. writes the PDF report of that check into a temporary folder.

Each step prints one ``ok`` line. The first step that fails prints ``FAILED`` and the process ends
with ``self-test failed: <step>: <what is missing>`` on stderr and exit status 1.
"""

from __future__ import annotations

import argparse
import contextlib
import datetime as dt
import email.utils
import ipaddress
import os
import socket
import ssl
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

ICON_SIZES = (16, 24, 32, 48, 64, 128, 256, 512, 1024)
RESOURCE_PACKAGE = "resources"


class StepFailed(Exception):
    """A step found something missing or wrong; the message names it for a person."""


class StepSkipped(Exception):
    """A step cannot run in this build yet (the message says why); not a failure."""


@dataclass
class Context:
    workdir: Path
    timeout: float
    report: Any = None
    notes: list[str] = field(default_factory=list)


# --------------------------------------------------------------------------- data files


def _catalogue(ctx: Context) -> str:
    from core.catalogue import load_catalogue

    catalogue = load_catalogue()
    return f"{len(catalogue.findings)} findings, {len(catalogue.fixes)} fixes"


def _ciphers(ctx: Context) -> str:
    from core.ciphers import load_registry

    registry = load_registry()
    return f"{len(registry.by_code)} cipher suites"


def _clients(ctx: Context) -> str:
    from core.analyze.overlap import load_client_profiles

    profiles = load_client_profiles()
    if not profiles:
        raise StepFailed("resources/clients.json lists no reference client")
    return f"{len(profiles)} reference clients"


def _roots(ctx: Context) -> str:
    import certifi

    from core.trust import mozilla_roots

    where = Path(certifi.where())
    if not where.is_file():
        raise StepFailed(f"certifi's cacert.pem is missing (expected at {where})")
    bundle = getattr(sys, "_MEIPASS", None)
    if bundle is not None and not where.resolve().is_relative_to(Path(bundle).resolve()):
        raise StepFailed(f"Mozilla's roots come from {where}, outside the bundle")
    roots = mozilla_roots()
    if len(roots) < 100:
        raise StepFailed(f"only {len(roots)} roots in {where}; Mozilla's store has over 100")
    return f"{len(roots)} Mozilla roots (certifi {certifi.__version__})"


def _os_store(ctx: Context) -> str:
    """Which store of this computer the app reads, and how many trust anchors it gave: on
    Windows and macOS this is the only run of the platform's own reader outside a user's
    check (CI runs it on each platform's runner)."""
    from core.os_store import os_store

    store = os_store()
    if not store.anchors:
        raise StepFailed(f"no trust anchor read from this computer's store ({store.summary()})")
    return store.summary()


# --------------------------------------------------------------------------- Qt


def _qt_app() -> Any:
    # No window is shown, so no display is needed: the self-test runs on CI and over SSH.
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from PySide6.QtWidgets import QApplication

    return QApplication.instance() or QApplication(sys.argv[:1])


def _icons(ctx: Context) -> str:
    from PySide6.QtCore import QByteArray
    from PySide6.QtGui import QIcon, QImage, QPixmap
    from PySide6.QtSvg import QSvgRenderer

    _qt_app()
    for size in ICON_SIZES:
        entry = resources.files(RESOURCE_PACKAGE).joinpath(f"icons/app-{size}.png")
        if not entry.is_file():
            raise StepFailed(f"resources/icons/app-{size}.png is missing")
        image = QImage.fromData(entry.read_bytes())
        if image.isNull() or image.width() != size:
            raise StepFailed(f"resources/icons/app-{size}.png is not a {size}×{size} PNG")
    svg = resources.files(RESOURCE_PACKAGE).joinpath("app-icon.svg")
    if not svg.is_file():
        raise StepFailed("resources/app-icon.svg is missing")
    if not QSvgRenderer(QByteArray(svg.read_bytes())).isValid():
        raise StepFailed("resources/app-icon.svg cannot be read (QtSvg missing?)")
    # The window icon as the app sets it: a QIcon built from the PNGs.
    icon = QIcon()
    for size in ICON_SIZES:
        pixmap = QPixmap()
        png = resources.files(RESOURCE_PACKAGE).joinpath(f"icons/app-{size}.png").read_bytes()
        pixmap.loadFromData(png, "PNG")
        icon.addPixmap(pixmap)
    if icon.pixmap(48, 48).isNull():
        raise StepFailed("the window icon cannot be built from resources/icons")
    return f"{len(ICON_SIZES)} PNG sizes and the SVG source"


def _plugins(ctx: Context) -> str:
    from PySide6.QtCore import QDir, QLibraryInfo

    _qt_app()
    base = QLibraryInfo.path(QLibraryInfo.LibraryPath.PluginsPath)

    def names(kind: str) -> set[str]:
        entries = QDir(f"{base}/{kind}").entryList(QDir.Filter.Files)
        return {e.split(".")[0].removeprefix("lib") for e in entries}

    if sys.platform == "win32":
        wanted = {"platforms": {"qwindows"}}
    elif sys.platform == "darwin":
        wanted = {"platforms": {"qcocoa"}}
    else:
        wanted = {"platforms": {"qxcb", "qwayland", "qoffscreen"}}
    wanted["imageformats"] = {"qsvg"}
    wanted["iconengines"] = {"qsvgicon"}
    found = []
    for kind, plugins in wanted.items():
        have = names(kind)
        missing = sorted(plugins - have)
        if missing:
            raise StepFailed(f"Qt plugin {kind}/{missing[0]} is missing (looked in {base})")
        found += sorted(plugins)
    return ", ".join(found)


# --------------------------------------------------------------------------- a TLS server


@dataclass
class _Issued:
    cert: Any
    key: Any

    def pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return bytes(self.cert.public_bytes(serialization.Encoding.PEM))

    def key_pem(self) -> bytes:
        from cryptography.hazmat.primitives import serialization

        return bytes(
            self.key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )


def _issue(cn: str, issuer: _Issued | None, *, ca: bool, names: Sequence[str] = ()) -> _Issued:
    """A CA (issuer None: a root) or a server certificate, as the web PKI wants them."""
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    now = dt.datetime.now(dt.UTC)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, cn)])
    signer = issuer.key if issuer else key
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer.cert.subject if issuer else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=3650 if ca else 90))
        .add_extension(x509.BasicConstraints(ca=ca, path_length=None), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(signer.public_key()),
            critical=False,
        )
    )
    if ca:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
    else:
        sans: list[x509.GeneralName] = []
        for name in names:
            try:
                sans.append(x509.IPAddress(ipaddress.ip_address(name)))
            except ValueError:
                sans.append(x509.DNSName(name))
        # Not critical: the web-PKI verifier refuses a critical SAN next to a subject.
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
        builder = builder.add_extension(
            x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False
        )
    return _Issued(builder.sign(signer, hashes.SHA256()), key)


@dataclass
class TestPki:
    root: _Issued
    intermediate: _Issued
    leaf: _Issued

    @classmethod
    def make(cls, names: Sequence[str] = ("localhost", "127.0.0.1")) -> TestPki:
        root = _issue("Handshake Doctor Self-Test Root", None, ca=True)
        intermediate = _issue("Handshake Doctor Self-Test Intermediate", root, ca=True)
        leaf = _issue(names[0], intermediate, ca=False, names=names)
        return cls(root, intermediate, leaf)

    def write(self, folder: Path) -> tuple[Path, Path, Path]:
        """root.pem (what the client trusts), chain.pem (leaf + intermediate) and key.pem."""
        root = folder / "root.pem"
        root.write_bytes(self.root.pem())
        chain = folder / "chain.pem"
        chain.write_bytes(self.leaf.pem() + self.intermediate.pem())
        key = folder / "key.pem"
        key.write_bytes(self.leaf.key_pem())
        return root, chain, key


@contextlib.contextmanager
def tls_server(chain: Path, key: Path, *, lifetime: float = 60.0) -> Iterator[int]:
    """A TLS server on 127.0.0.1 that answers one HTTP request per connection (with a ``Date``
    header, the engine's fallback clock); yields its port. Stops when the block ends."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(chain, key)
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    listener.settimeout(0.05)
    stop = threading.Event()
    deadline = time.monotonic() + lifetime

    def serve(conn: socket.socket) -> None:
        with contextlib.suppress(OSError, ssl.SSLError), conn:
            conn.settimeout(5)
            with context.wrap_socket(conn, server_side=True) as tls:
                request = b""
                while b"\r\n\r\n" not in request and len(request) < 16384:
                    chunk = tls.recv(4096)
                    if not chunk:
                        break
                    request += chunk
                if request:
                    date = email.utils.formatdate(usegmt=True)
                    tls.sendall(
                        b"HTTP/1.1 200 OK\r\nDate: " + date.encode() + b"\r\n"
                        b"Content-Type: text/plain\r\nContent-Length: 3\r\n"
                        b"Connection: close\r\n\r\nok\n"
                    )
                with contextlib.suppress(OSError, ssl.SSLError):
                    tls.unwrap()

    def accept() -> None:
        while not stop.is_set() and time.monotonic() < deadline:
            try:
                conn, _ = listener.accept()
            except (TimeoutError, OSError):
                continue
            threading.Thread(target=serve, args=(conn,), daemon=True).start()

    acceptor = threading.Thread(target=accept, daemon=True, name="self-test-server")
    acceptor.start()
    try:
        yield int(listener.getsockname()[1])
    finally:
        stop.set()
        acceptor.join(5)
        listener.close()


def _check(ctx: Context) -> str:
    from core.catalogue import load_catalogue
    from core.diagnose import run_check
    from core.models import CheckOptions, Severity
    from core.target import parse_target, with_connect

    pki = TestPki.make()
    root, chain, key = pki.write(ctx.workdir)
    with tls_server(chain, key) as port:
        target = with_connect(parse_target("localhost", port), f"127.0.0.1:{port}")
        options = CheckOptions(ca_file=root, no_network_time=True, quick=True, timeout=ctx.timeout)
        report = run_check(target, options)
    ctx.report = report
    hs = report.handshake
    if hs is None or not hs.ok:
        detail = (hs.failure_detail or str(hs.failure)) if hs else "no handshake"
        raise StepFailed(f"the handshake with the local test server failed: {detail}")
    errors = [f for f in report.findings if f.severity.rank >= Severity.ERROR.rank]
    if errors:
        catalogue = load_catalogue()
        named = "; ".join(f"{f.id}: {catalogue.title(f)}" for f in errors)
        raise StepFailed(f"the good local test server was judged bad: {named}")
    if report.internal_errors:
        raise StepFailed(f"the engine hit an internal error: {report.internal_errors[0]}")
    return f"{hs.protocol}, {hs.cipher}, verdict {report.verdict}"


def _os_verifier(ctx: Context) -> str:
    """Windows and macOS: the OS's own verifier, asked about a chain from a root it cannot
    know (made here), must refuse it: proof that the bundle can ask it at all."""
    from core.os_verifier import ask_os, platform_verify

    verifier = platform_verify()
    if verifier is None:
        if sys.platform in ("win32", "darwin"):
            raise StepFailed("truststore, which asks the OS verifier, is missing from the bundle")
        raise StepSkipped(
            "on Linux programs verify with OpenSSL and this computer's store (the os store line)"
        )
    from cryptography.hazmat.primitives.serialization import Encoding

    pki = TestPki.make()
    chain = [
        pki.leaf.cert.public_bytes(Encoding.DER),
        pki.intermediate.cert.public_bytes(Encoding.DER),
    ]
    verdict = ask_os(chain, "localhost", timeout=ctx.timeout, verifier=verifier)
    if verdict is None or verdict.trusted is not False:
        said = "no verdict" if verdict is None else f"{verdict.trusted} ({verdict.detail})"
        raise StepFailed(f"{verifier[0]} did not refuse a chain from an unknown root: {said}")
    return f"{verdict.verifier} refuses an unknown root: {verdict.detail}"


def _pdf(ctx: Context) -> str:
    if ctx.report is None:
        raise StepSkipped("no report to write (the check did not run)")
    try:
        from gui.pdf import export_report
    except ModuleNotFoundError as exc:
        if exc.name == "gui.pdf":
            raise StepSkipped("PDF writer missing") from None
        raise
    _qt_app()
    path = ctx.workdir / "self-test report.pdf"
    export_report(ctx.report, path)
    if not path.is_file():
        raise StepFailed(f"the PDF writer wrote no file at {path}")
    data = path.read_bytes()
    if not data.startswith(b"%PDF-") or len(data) < 1000:
        raise StepFailed(f"{path.name} is not a PDF ({len(data)} bytes)")
    return f"{len(data) // 1024} KiB"


STEPS: tuple[tuple[str, Callable[[Context], str]], ...] = (
    ("catalogue", _catalogue),
    ("ciphers", _ciphers),
    ("clients", _clients),
    ("roots", _roots),
    ("os store", _os_store),
    ("icons", _icons),
    ("qt plugins", _plugins),
    ("tls check", _check),
    ("os verifier", _os_verifier),
    ("pdf", _pdf),
)


def run(ctx: Context, out: Callable[[str], None]) -> str | None:
    """Run every step; returns None when all passed, else the one-line failure."""
    for name, step in STEPS:
        started = time.monotonic()
        try:
            detail = step(ctx)
        except StepSkipped as exc:
            out(f"skipped {name}: {exc}")
            continue
        except StepFailed as exc:
            out(f"FAILED  {name}: {exc}")
            return f"{name}: {exc}"
        except Exception as exc:  # anything else is a broken bundle too: name it, don't crash
            out(f"FAILED  {name}: {type(exc).__name__}: {exc}")
            return f"{name}: {type(exc).__name__}: {exc}"
        took = (time.monotonic() - started) * 1000
        out(f"ok      {name}: {detail} ({took:.0f} ms)")
    return None


def main(argv: Sequence[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="HandshakeDoctor --self-test",
        description="Check that this copy of Handshake Doctor has everything it needs.",
    )
    parser.add_argument(
        "--keep", type=Path, metavar="DIR", help="write the certificates and the PDF here"
    )
    parser.add_argument("--timeout", type=float, default=5.0, help="per network step (seconds)")
    args = parser.parse_args(list(argv))

    def out(line: str) -> None:
        print(line, flush=True)

    started = time.monotonic()
    with contextlib.ExitStack() as stack:
        if args.keep is not None:
            args.keep.mkdir(parents=True, exist_ok=True)
            workdir = args.keep
        else:
            workdir = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="hsd-self-")))
        failure = run(Context(workdir=workdir, timeout=args.timeout), out)
    if failure is not None:
        print(f"self-test failed: {failure}", file=sys.stderr, flush=True)
        return 1
    out(f"self-test passed in {time.monotonic() - started:.1f} s")
    return 0
