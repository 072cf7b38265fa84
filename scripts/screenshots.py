"""Render the window for the README: a good site, an expired certificate, a wrong clock, a
protocol/cipher mismatch and a DNS filter, each against a real server on 127.0.0.1 (nothing
leaves the machine), and a computer that is offline, rendered inside a fresh network namespace
(as root: ``unshare -n``) where nothing but a loopback that is down exists.

    xvfb-run -a -s "-screen 0 1400x1000x24" python scripts/screenshots.py docs/screenshots

Without a display it re-runs itself under xvfb-run (a real X window through Qt's xcb plugin);
with ``--offscreen`` it uses Qt's offscreen platform instead.
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
from collections.abc import Callable
from contextlib import AbstractContextManager, ExitStack
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

WIDTH, HEIGHT = 1180, 860


@dataclass(frozen=True)
class Shot:
    name: str
    host: str
    tab: str
    server: Callable[[ExitStack, Path], dict[str, object]]
    extra_tabs: tuple[str, ...] = ()
    #: The app chosen in the form ("" for "I don't know").
    client: str = ""


def _reexec_under_xvfb(argv: list[str]) -> int | None:
    if os.environ.get("DISPLAY") or os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        return None
    if "--offscreen" in argv:
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return None
    runner = shutil.which("xvfb-run")
    if runner is None:
        print("no DISPLAY and no xvfb-run: using Qt's offscreen platform", file=sys.stderr)
        os.environ["QT_QPA_PLATFORM"] = "offscreen"
        return None
    import subprocess

    command = [runner, "-a", "-s", "-screen 0 1400x1000x24", sys.executable, __file__, *argv]
    return subprocess.call(command)


def main(argv: list[str]) -> int:
    again = _reexec_under_xvfb(argv)
    if again is not None:
        return again
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("outdir", type=Path)
    parser.add_argument("--offscreen", action="store_true", help="Qt's offscreen platform, no X")
    parser.add_argument(
        "--dark", action="store_true", help="a dark palette, files named dark-*.png"
    )
    parser.add_argument("--only", help="render only the situation with this name")
    args = parser.parse_args(argv)
    os.environ.setdefault("QT_QPA_PLATFORM", "xcb")

    from PySide6.QtCore import QCoreApplication, QEventLoop, QSettings, QTimer
    from PySide6.QtWidgets import QApplication, QScrollArea

    QCoreApplication.setOrganizationName("Handshake Doctor screenshots")
    app = QApplication([sys.argv[0]])

    from core.request import RequestSpec
    from gui.window import MainWindow, app_icon
    from tests.pki import DAY, NOW, Pki
    from tests.sntp_server import SntpServer
    from tests.tls_servers import TlsConfig, old_rsa_server, tls10_only_server, tls_server

    app.setWindowIcon(app_icon())
    if args.dark:
        _dark_palette(app)
    pki = Pki()
    work = Path(tempfile.mkdtemp(prefix="hd-shots-"))
    root = pki.write_root(work)

    def enter(stack: ExitStack, manager: AbstractContextManager[object]) -> object:
        return stack.enter_context(manager)

    def good(stack: ExitStack, _tmp: Path) -> dict[str, object]:
        leaf = pki.leaf(("www.example.com", "example.com"))
        server = enter(stack, tls_server(TlsConfig([leaf, pki.intermediate], leaf)))
        return {"connect": server.address}  # type: ignore[attr-defined]

    def expired(stack: ExitStack, _tmp: Path) -> dict[str, object]:
        leaf = pki.leaf(("shop.example.com",), not_before=NOW - 400 * DAY, not_after=NOW - 12 * DAY)
        server = enter(stack, tls_server(TlsConfig([leaf, pki.intermediate], leaf)))
        return {"connect": server.address}  # type: ignore[attr-defined]

    def wrong_clock(stack: ExitStack, _tmp: Path) -> dict[str, object]:
        # The correct time is two years ahead of this computer's clock: the time server says
        # so, and the site's certificate is valid by the correct time.
        ahead = 730 * DAY
        leaf = pki.leaf(
            ("mail.example.com",),
            not_before=NOW + ahead - 30 * DAY,
            not_after=NOW + ahead + 60 * DAY,
        )
        inter = pki.intermediate
        server = enter(
            stack, tls_server(TlsConfig([leaf, inter], leaf, date_offset=ahead.total_seconds()))
        )
        sntp = enter(stack, SntpServer(offset_s=ahead.total_seconds()))
        return {
            "connect": server.address,  # type: ignore[attr-defined]
            "time_server": sntp.address,  # type: ignore[attr-defined]
            "no_network_time": False,
        }

    def cipher_mismatch(stack: ExitStack, _tmp: Path) -> dict[str, object]:
        # An old server that still offers only RSA key exchange with SHA-1 MACs: browsers
        # connect, this computer's client (no SHA-1 suites, no RSA key exchange) does not.
        config = old_rsa_server(pki, "AES128-SHA:AES256-SHA", ("intranet.example.com",))
        server = enter(stack, tls_server(config))
        return {"connect": server.address, "quick": False}  # type: ignore[attr-defined]

    def dns_filter(stack: ExitStack, _tmp: Path) -> dict[str, object]:
        # A resolver that answers 0.0.0.0 and :: for a name on its blocklist, as Pi-hole does.
        from tests.dns_servers import run_dnsmasq

        # dnsmasq's answers for the blocked name, not addresses anything binds to.
        answers = [f"--address=/ads.example.com/{a}" for a in ("0.0.0.0", "::")]  # noqa: S104
        dnsmasq = enter(stack, run_dnsmasq(answers))
        return {"dns_server": dnsmasq.server}  # type: ignore[attr-defined]

    def offline(stack: ExitStack, _tmp: Path) -> dict[str, object]:
        return {}

    def proxy_refused(stack: ExitStack, tmp: Path) -> dict[str, object]:
        # A company proxy (a real tinyproxy on loopback) whose filter refuses this site.
        from tests.proxy_servers import tinyproxy

        leaf = pki.leaf(("jobs.example.com",))
        server = enter(stack, tls_server(TlsConfig([leaf, pki.intermediate], leaf)))
        folder = tmp / "tinyproxy"
        folder.mkdir(exist_ok=True)
        port = enter(stack, tinyproxy(folder, refuse=[r"^127\.0\.0\.1$"]))
        return {"connect": server.address, "proxy": f"http://127.0.0.1:{port}"}  # type: ignore[attr-defined]

    def portal(stack: ExitStack, _tmp: Path) -> dict[str, object]:
        # Hotel Wi-Fi: the probe is redirected to the sign-in page, and port 443 answers with
        # the portal's own certificate.
        from tests.http_servers import http_raw
        from tests.tls_servers import LoopbackServer

        leaf = pki.leaf(("login.hotel-wifi.example",))
        server = enter(stack, tls_server(TlsConfig([leaf, pki.intermediate], leaf)))
        redirect = b"HTTP/1.1 302 Found\r\nLocation: http://login.hotel-wifi.example/?room\r\n\r\n"
        probe = enter(stack, LoopbackServer(http_raw(redirect)))
        return {
            "connect": server.address,  # type: ignore[attr-defined]
            "portal_url": f"http://{probe.address}/canonical.html",  # type: ignore[attr-defined]
        }

    def mismatch(stack: ExitStack, _tmp: Path) -> dict[str, object]:
        server = enter(stack, tls_server(tls10_only_server(pki, ("legacy.example.com",))))
        return {"connect": server.address, "quick": False}  # type: ignore[attr-defined]

    def leaf_only(stack: ExitStack, _tmp: Path) -> dict[str, object]:
        # The server sends only its own certificate; the missing intermediate can be fetched
        # from the address in it (AIA), served here on loopback: Chrome fetches it, Firefox not.
        from tests.http_servers import http_server

        base = enter(stack, http_server({"/inter.der": pki.intermediate.der}))
        leaf = pki.leaf(("portal.example.com",), aia_issuer_url=f"{base}/inter.der")
        server = enter(stack, tls_server(TlsConfig([leaf], leaf)))
        return {"connect": server.address, "quick": False}  # type: ignore[attr-defined]

    def long_chain(stack: ExitStack, _tmp: Path) -> dict[str, object]:
        # Twelve intermediates: valid for OpenSSL (it follows 100), too long for Firefox (8).
        from tests.hostile_servers import long_chain as make_long_chain

        chain = make_long_chain(pki, 13)
        server = enter(stack, tls_server(TlsConfig(chain, chain[0])))
        return {"connect": server.address, "quick": False}  # type: ignore[attr-defined]

    def dh_1024(stack: ExitStack, tmp: Path) -> dict[str, object]:
        # An old server that offers only DHE suites with a 1024-bit group: current browsers
        # offer no DHE at all, Java and curl do and accept the group.
        import subprocess

        params = tmp / "dh1024.pem"
        if not params.exists():
            subprocess.run(
                ["openssl", "dhparam", "-dsaparam", "-out", str(params), "1024"],
                check=True,
                capture_output=True,
                timeout=60,
            )
        config = old_rsa_server(
            pki,
            "DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0",
            ("erp.example.com",),
            dh_params=params,
        )
        server = enter(stack, tls_server(config))
        return {"connect": server.address, "quick": False}  # type: ignore[attr-defined]

    def inspection(stack: ExitStack, tmp: Path) -> dict[str, object]:
        """A company's TLS-inspection root that this computer's store holds (an admin put it
        there) and Mozilla's list does not: the trust line and the interception finding."""
        from core import os_store, trust
        from tests.pki import make_ca, make_leaf

        company = make_ca("Example Corp Inspection Root", "Example Corp")
        issuing = make_ca("Example Corp Inspection CA", "Example Corp", issuer=company)
        leaf = make_leaf(issuing, ("news.example.com",))
        bundle = tmp / "this-computer.pem"
        bundle.write_bytes(company.pem)
        saved = {k: os.environ.get(k) for k in ("SSL_CERT_FILE", "SSL_CERT_DIR")}

        def restore() -> None:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
            os_store.os_store.cache_clear()
            trust.os_roots.cache_clear()

        os.environ["SSL_CERT_FILE"] = str(bundle)
        os.environ["SSL_CERT_DIR"] = str(tmp)
        os_store.os_store.cache_clear()
        trust.os_roots.cache_clear()
        stack.callback(restore)
        server = enter(stack, tls_server(TlsConfig([leaf, issuing], leaf)))
        return {"connect": server.address, "ca_file": ""}  # type: ignore[attr-defined]

    def mail_server(stack: ExitStack, _tmp: Path) -> dict[str, object]:
        # Mail submission on port 587 (a real aiosmtpd server): SMTP's greeting and STARTTLS,
        # then the handshake; the clock from a time server, as for every service but the web.
        from tests.service_servers import smtp_server
        from tests.tls_servers import make_server_context

        leaf = pki.leaf(("mail.example.com",))
        ctx = make_server_context(TlsConfig([leaf, pki.intermediate], leaf), _tmp)
        smtp = enter(stack, smtp_server(ctx))
        sntp = enter(stack, SntpServer())
        return {
            "connect": smtp.address,  # type: ignore[attr-defined]
            "time_server": sntp.address,  # type: ignore[attr-defined]
            "no_network_time": False,
        }

    def mail_no_starttls(stack: ExitStack, _tmp: Path) -> dict[str, object]:
        # An IMAP port whose server does not offer STARTTLS: the mail app's settings come first.
        from tests.service_servers import dialog_server

        imap = enter(stack, dialog_server(_imap_without_starttls, None))
        return {"connect": imap.address}  # type: ignore[attr-defined]

    shots = [
        Shot("chrome-fails-java-works", "erp.example.com", "Summary", dh_1024, client="chrome"),
        Shot("long-chain-firefox", "localhost", "Summary", long_chain, client="firefox"),
        Shot(
            "firefox-fails-chrome-works",
            "portal.example.com",
            "Summary",
            leaf_only,
            ("Protocols & ciphers", "Fix it"),
            client="firefox",
        ),
        Shot("chrome-works", "portal.example.com", "Summary", leaf_only, client="chrome"),
        Shot("good-site", "www.example.com", "Handshake", good, ("Certificates",)),
        Shot(
            "inspection-root",
            "news.example.com",
            "Summary",
            inspection,
            ("Certificates", "Fix it"),
        ),
        Shot(
            "expired-certificate",
            "shop.example.com",
            "Fix it",
            expired,
            ("Summary", "Certificates"),
        ),
        Shot("wrong-clock", "mail.example.com", "Fix it", wrong_clock, ("Clock",)),
        Shot(
            "cipher-mismatch",
            "intranet.example.com",
            "Summary",
            cipher_mismatch,
            ("Protocols & ciphers",),
        ),
        Shot(
            "protocol-mismatch",
            "legacy.example.com",
            "Summary",
            mismatch,
            ("Protocols & ciphers", "Handshake"),
        ),
        Shot("dns-filter", "ads.example.com", "Fix it", dns_filter, ("Summary",)),
        Shot("offline", "www.example.com", "Fix it", offline, ("Summary",)),
        Shot("proxy-refused", "jobs.example.com", "Fix it", proxy_refused, ("Summary",)),
        Shot("captive-portal", "www.example.com", "Fix it", portal, ("Summary",)),
        Shot(
            "mail-server",
            "smtp://mail.example.com:587",
            "Handshake",
            mail_server,
            ("Certificates",),
        ),
        Shot(
            "mail-no-starttls", "imap://mail.example.com", "Fix it", mail_no_starttls, ("Summary",)
        ),
    ]
    args.outdir.mkdir(parents=True, exist_ok=True)
    written: list[Path] = []
    prefix = "dark-" if args.dark else ""
    for shot in shots:
        if args.only and shot.name != args.only:
            continue
        if shot.server is offline and os.environ.get(_NETNS) != "1":
            written += _offline_in_a_namespace(argv, args.outdir)
            continue
        with ExitStack() as stack:
            overrides = shot.server(stack, work)
            state = RequestSpec(
                host="",
                ca_file=str(overrides.get("ca_file", root)),
                no_network_time=bool(overrides.get("no_network_time", True)),
                quick=bool(overrides.get("quick", False)),
                timeout=3.0,
                connect=str(overrides["connect"]) if "connect" in overrides else None,
                time_server=str(overrides["time_server"]) if "time_server" in overrides else None,
                dns_server=str(overrides.get("dns_server", "")),
                proxy=str(overrides.get("proxy", "")),
                # Nothing leaves the machine: the portal probe only where the scene has one.
                portal_url=str(overrides.get("portal_url", "none")),
                client=shot.client or None,
            )
            settings = QSettings(str(work / f"{shot.name}.ini"), QSettings.Format.IniFormat)
            # The scene's app, or "I don't know": not this machine's default browser.
            settings.setValue("check/client", shot.client)
            window = MainWindow(settings=settings, initial=state)
            window.form.show_options(False)
            window.resize(WIDTH, HEIGHT)
            window.show()
            window.form.host.setText(shot.host)
            loop = QEventLoop()
            window.checkEnded.connect(loop.quit)
            QTimer.singleShot(30_000, loop.quit)
            if not window.start_check():
                print(
                    f"{shot.name}: the check did not start: {window.form.error_text()}",
                    file=sys.stderr,
                )
                return 1
            loop.exec()
            for tab in (shot.tab, *shot.extra_tabs):
                _select_tab(window, tab)
                _settle(app)
                if tab == "Protocols & ciphers" and shot.client:
                    # The per-app verdicts, not the cipher list, are this scene's point.
                    scroll = window.protocols.findChild(QScrollArea)
                    if scroll is not None:
                        scroll.ensureWidgetVisible(window.protocols.client_view, 0, 0)
                        scroll.verticalScrollBar().setValue(scroll.verticalScrollBar().maximum())
                    _settle(app)
                suffix = (
                    ""
                    if tab == shot.tab
                    else "-" + tab.lower().replace(" & ", "-").replace(" ", "-")
                )
                path = args.outdir / f"{prefix}{shot.name}{suffix}.png"
                window.grab().save(str(path))
                written.append(path)
            window.close()
            window.deleteLater()
            _settle(app)
    if not args.only or args.only == "many-hosts":
        written.append(_many_hosts(app, pki, root, work, args.outdir / f"{prefix}many-hosts.png"))
    for path in written:
        print(path)
    return 0


def _many_hosts(app: object, pki: object, root: Path, work: Path, path: Path) -> Path:
    """The "Check several…" dialog after a mixed list: each name reaches its own loopback
    server through the line's connect address."""
    from PySide6.QtCore import QEventLoop, QSettings, QTimer

    from core.request import RequestSpec
    from gui.window import MainWindow
    from tests.batch_servers import not_tls, reset
    from tests.pki import DAY, NOW, make_self_signed
    from tests.ports import closed_port
    from tests.tls_servers import TlsConfig, raw_server, tls_server

    def leaf(name: str, **kw: object) -> object:
        return pki.leaf((name,), **kw)  # type: ignore[attr-defined]

    inter = pki.intermediate  # type: ignore[attr-defined]
    with ExitStack() as stack:
        lines = ["# the servers we run"]

        def tls(name: str, cert: object, chain: list[object] | None = None) -> None:
            config = TlsConfig(chain or [cert, inter], cert)  # type: ignore[list-item,arg-type]
            server = stack.enter_context(tls_server(config))
            lines.append(f"{name} 127.0.0.1:{server.port}")

        tls("www.example.com", leaf("www.example.com"))
        tls(
            "shop.example.com",
            leaf("shop.example.com", not_before=NOW - 400 * DAY, not_after=NOW - 12 * DAY),
        )
        tls("mail.example.com", leaf("mail.example.com", not_after=NOW + 9 * DAY))
        tls("api.example.com", leaf("www.example.com"))
        self_signed = make_self_signed(("nas.example.com",))
        tls("nas.example.com", self_signed, [self_signed])
        tls("wiki.example.com", leaf("wiki.example.com", not_after=NOW + 200 * DAY))
        for name, handler in (("printer.example.com", not_tls), ("vpn.example.com", reset)):
            server = stack.enter_context(raw_server(handler))
            lines.append(f"{name} 127.0.0.1:{server.port}")
        lines.append(f"old.example.com 127.0.0.1:{closed_port()}")
        lines.append("files.example.com:99999")
        tls("cdn.example.com", leaf("cdn.example.com"))
        state = RequestSpec(ca_file=str(root), no_network_time=True, timeout=3.0, portal_url="none")
        settings = QSettings(str(work / "many-hosts.ini"), QSettings.Format.IniFormat)
        window = MainWindow(settings=settings, initial=state)
        window.resize(WIDTH, HEIGHT)
        window.show()
        dialog = window.open_batch_dialog()
        dialog.resize(900, 640)
        dialog.set_list("\n".join(lines) + "\n")
        loop = QEventLoop()
        dialog.runEnded.connect(loop.quit)
        QTimer.singleShot(60_000, loop.quit)
        dialog.start()
        loop.exec()
        dialog.table.selectRow(1)
        _settle(app)
        dialog.grab().save(str(path))
        dialog.close()
        window.close()
        _settle(app)
    return path


_NETNS = "HANDSHAKE_DOCTOR_SHOTS_NETNS"


def _imap_without_starttls(conn: object, counter: object) -> bool:
    """An IMAP server (as dovecot with ``ssl = no`` answers) that lists no STARTTLS."""
    import socket

    assert isinstance(conn, socket.socket)
    conn.sendall(
        b"* OK [CAPABILITY IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
        b"AUTH=PLAIN] Mail server ready.\r\n"
    )
    data = conn.recv(1024)
    if data.startswith(b"a001 CAPABILITY"):
        conn.sendall(
            b"* CAPABILITY IMAP4rev1 LITERAL+ SASL-IR LOGIN-REFERRALS ID ENABLE IDLE "
            b"AUTH=PLAIN\r\na001 OK Pre-login capabilities listed.\r\n"
        )
        conn.recv(1024)
    return False


def _offline_in_a_namespace(argv: list[str], outdir: Path) -> list[Path]:
    """The offline shot, from this script run again in a fresh network namespace with its own
    X server: the check there meets a computer with no network at all."""
    import subprocess

    if os.geteuid() != 0 or shutil.which("unshare") is None:
        print("offline: skipped (needs root and unshare for a network namespace)", file=sys.stderr)
        return []
    rest = [a for a in argv if a != "--offscreen"]
    if "--only" not in rest:
        rest += ["--only", "offline"]
    env = {k: v for k, v in os.environ.items() if k not in ("DISPLAY", "XAUTHORITY")}
    env[_NETNS] = "1"
    if os.environ.get("QT_QPA_PLATFORM") == "offscreen":
        rest.append("--offscreen")
    else:
        env.pop("QT_QPA_PLATFORM", None)
    done = subprocess.run(
        ["unshare", "-n", "--", sys.executable, __file__, *rest],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        print(f"offline: failed: {done.stderr.strip()[-500:]}", file=sys.stderr)
        return []
    return [Path(line) for line in done.stdout.split() if line.endswith(".png")]


def _dark_palette(app: object) -> None:
    """What a desktop in dark mode hands the app: Fusion with a dark palette."""
    from PySide6.QtGui import QColor, QPalette

    app.setStyle("Fusion")  # type: ignore[attr-defined]
    palette = QPalette()
    for role, colour in (
        (QPalette.ColorRole.Window, "#2b2b2b"),
        (QPalette.ColorRole.WindowText, "#e8e8e8"),
        (QPalette.ColorRole.Base, "#1f1f1f"),
        (QPalette.ColorRole.AlternateBase, "#262626"),
        (QPalette.ColorRole.Text, "#e8e8e8"),
        (QPalette.ColorRole.Button, "#353535"),
        (QPalette.ColorRole.ButtonText, "#e8e8e8"),
        (QPalette.ColorRole.Highlight, "#2f65ca"),
        (QPalette.ColorRole.HighlightedText, "#ffffff"),
        (QPalette.ColorRole.Mid, "#5a5a5a"),
        (QPalette.ColorRole.PlaceholderText, "#9a9a9a"),
        (QPalette.ColorRole.ToolTipBase, "#353535"),
        (QPalette.ColorRole.ToolTipText, "#e8e8e8"),
    ):
        palette.setColor(role, QColor(colour))
    app.setPalette(palette)  # type: ignore[attr-defined]


def _select_tab(window: object, title: str) -> None:
    tabs = window.tabs  # type: ignore[attr-defined]
    for index in range(tabs.count()):
        text = tabs.tabText(index).replace("&&", "&")
        if text == title or text.startswith(title + " ("):
            tabs.setCurrentIndex(index)
            return
    raise KeyError(title)


def _settle(app: object) -> None:
    from PySide6.QtCore import QEventLoop, QTimer

    loop = QEventLoop()
    QTimer.singleShot(150, loop.quit)
    loop.exec()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
