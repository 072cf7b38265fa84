"""The checklist's buttons open the right place on each OS, or are not shown (#16 item 2).

Every "open" action of the catalogue is listed below with its exact target per OS and where that
target was checked. A new action, or a changed target, fails here until it is checked and
listed. The OS's steps must name the place the button opens (where the steps name a place),
so the button and the words agree. The buttons themselves run only on their own OS: here the
plan for each OS is checked (gui/launch.py), and the window's card for each OS.

Sources for the targets:
- ms-settings: https://learn.microsoft.com/windows/uwp/launch-resume/launch-settings-app
  (the ms-settings: URI reference lists dateandtime, network-proxy, network-status,
  windowsupdate).
- windowsdefender://network/: Windows Security's "Firewall & network protection" page; NOT
  verified from a Microsoft page here, nor on a real machine.
- certmgr.msc: the Certificates snap-in for the current user, which shows the machine's roots
  under Trusted Root Certification Authorities too (https://win10.io/article/System-EXE-Files/
  certmgr.msc.html); opened through the shell, as Win+R does.
- x-apple.systempreferences:com.apple.<Pane>-Settings.extension: System Settings' pane ids on
  macOS 13 and later, as widely used (e.g. open 'x-apple.systempreferences:com.apple.Date-Time-
  Settings.extension'); not verified on a real Mac here.
- open -a "Keychain Access": open(1) finds the app by name wherever macOS keeps it (macOS 15
  moved it to /System/Library/CoreServices/Applications); not verified on a real Mac here.
- gnome-control-center PANEL, gnome-software --mode=updates: GNOME's own command lines.
"""

from __future__ import annotations

import pytest
from pytestqt.qtbot import QtBot

from core.catalogue import OsName, current_os, load_catalogue
from core.models import Finding, FindingId, FixId, Severity
from gui.launch import Launch, plan

W, M, L = OsName.WINDOWS, OsName.MACOS, OsName.LINUX
NETWORK = {
    W: "ms-settings:network-status",
    M: "x-apple.systempreferences:com.apple.Network-Settings.extension",
    L: "gnome-control-center network",
}
UPDATES = {
    W: "ms-settings:windowsupdate",
    M: "x-apple.systempreferences:com.apple.Software-Update-Settings.extension",
    L: "gnome-software --mode=updates",
}
#: (fix, button) -> the exact target per OS; an OS missing has no such button.
EXPECTED: dict[tuple[str, str], dict[OsName, str]] = {
    ("set-clock", "Open date & time settings"): {
        W: "ms-settings:dateandtime",
        M: "x-apple.systempreferences:com.apple.Date-Time-Settings.extension",
        L: "gnome-control-center datetime",
    },
    ("configure-proxy", "Open the proxy settings"): {
        W: "ms-settings:network-proxy",
        M: "x-apple.systempreferences:com.apple.Network-Settings.extension",
        L: "gnome-control-center network",
    },
    ("update-root-store", "Open the certificate manager"): {
        W: "certmgr.msc",
        M: 'open -a "Keychain Access"',
    },
    ("check-antivirus-inspection", "Open the certificate manager"): {
        W: "certmgr.msc",
        M: 'open -a "Keychain Access"',
    },
    ("update-root-store", "Open system updates"): UPDATES,
    ("update-client", "Open system updates"): UPDATES,
    ("allowlist-firewall", "Open firewall settings"): {
        W: "windowsdefender://network/",
        M: "x-apple.systempreferences:com.apple.Network-Settings.extension",
    },
    ("check-dns", "Open network settings"): NETWORK,
    ("check-dns-filter", "Open network settings"): NETWORK,
    ("reconnect-network", "Open network settings"): NETWORK,
}
#: Words the OS's steps must contain: the place the button opens, as the steps call it.
STEP_WORDS: dict[tuple[str, str, OsName], str] = {
    ("set-clock", "Open date & time settings", W): "Date & time",
    ("set-clock", "Open date & time settings", M): "Date & Time",
    ("set-clock", "Open date & time settings", L): "Date & Time",
    ("configure-proxy", "Open the proxy settings", W): "Network & internet, then Proxy",
    ("configure-proxy", "Open the proxy settings", M): "Network",
    ("configure-proxy", "Open the proxy settings", L): "Network Proxy",
    ("update-root-store", "Open the certificate manager", W): "certificate manager (certmgr.msc)",
    ("update-root-store", "Open the certificate manager", M): "Keychain Access",
    ("check-antivirus-inspection", "Open the certificate manager", W): "(certmgr.msc)",
    ("check-antivirus-inspection", "Open the certificate manager", M): "Keychain Access",
    ("update-root-store", "Open system updates", W): "Windows Update",
    ("update-root-store", "Open system updates", M): "Software Update",
    ("update-client", "Open system updates", W): "Windows Update",
    ("update-client", "Open system updates", M): "Software Update",
    ("allowlist-firewall", "Open firewall settings", W): "Firewall & network protection",
    ("allowlist-firewall", "Open firewall settings", M): "Network, then Firewall",
}


def open_actions() -> dict[tuple[str, str], dict[OsName, str]]:
    found: dict[tuple[str, str], dict[OsName, str]] = {}
    for fix in load_catalogue().fixes.values():
        for action in fix.actions:
            if action.kind == "open-settings":
                targets = {os_name: action.target_for(os_name) for os_name in OsName}
                found[(fix.id.value, action.label)] = {
                    k: v for k, v in targets.items() if v is not None
                }
    return found


def test_every_open_action_has_its_checked_target_per_os() -> None:
    assert open_actions() == EXPECTED


@pytest.mark.parametrize("key", sorted(STEP_WORDS), ids=lambda k: f"{k[0]}-{k[2].value}")
def test_steps_name_the_place_the_button_opens(key: tuple[str, str, OsName]) -> None:
    fix_id, _label, os_name = key
    steps = " ".join(load_catalogue().fix(FixId(fix_id)).steps_for(os_name))
    assert STEP_WORDS[key] in steps


def action(fix_id: str, label: str):  # type: ignore[no-untyped-def]
    fix = load_catalogue().fix(FixId(fix_id))
    return next(a for a in fix.actions if a.label == label)


def test_what_each_button_does_per_os() -> None:
    cert_manager = action("update-root-store", "Open the certificate manager")
    assert plan(cert_manager, W, system_root=r"D:\Windows") == Launch(
        "uri", "file:///D:/Windows/System32/certmgr.msc"
    )
    assert plan(cert_manager, M) == Launch("argv", ("open", "-a", "Keychain Access"))
    assert plan(cert_manager, L) is None  # no button on Linux
    clock = action("set-clock", "Open date & time settings")
    assert plan(clock, W) == Launch("uri", "ms-settings:dateandtime")
    assert plan(clock, M) == Launch(
        "uri", "x-apple.systempreferences:com.apple.Date-Time-Settings.extension"
    )
    assert plan(clock, L) == Launch("argv", ("gnome-control-center", "datetime"))
    proxy = action("configure-proxy", "Open the proxy settings")
    assert plan(proxy, W) == Launch("uri", "ms-settings:network-proxy")
    for (fix_id, label), targets in EXPECTED.items():
        for os_name in OsName:
            launched = plan(action(fix_id, label), os_name)
            assert (launched is None) == (os_name not in targets), (fix_id, label, os_name)


def test_the_card_shows_only_buttons_that_open_something(qtbot: QtBot) -> None:
    from PySide6.QtCore import Qt
    from PySide6.QtWidgets import QPushButton

    from gui.panes.fixit import FixItPane
    from tests.test_gui_support import make_report

    catalogue = load_catalogue()
    pane = FixItPane(catalogue)
    qtbot.addWidget(pane)
    opened: list[object] = []
    pane.open_uri = lambda uri: opened.append(uri) or True  # type: ignore[method-assign]
    pane.start_command = lambda argv: opened.append(tuple(argv)) or True  # type: ignore[method-assign]
    finding = Finding(FindingId.UNTRUSTED_ROOT, Severity.ERROR, fixes=(FixId.UPDATE_ROOT_STORE,))
    pane.set_report(make_report(findings=(finding,)))
    labels: dict[OsName, dict[str, QPushButton]] = {}
    for index, os_name in enumerate(OsName):
        pane.os_combo.setCurrentIndex(index)
        assert pane.os_name is os_name
        card = next(c for c in pane.cards if c.fix.id is FixId.UPDATE_ROOT_STORE)
        labels[os_name] = {b.text().replace("&&", "&"): b for b in card.findChildren(QPushButton)}
    assert "Open the certificate manager" in labels[W]
    assert "Open the certificate manager" in labels[M]
    assert "Open the certificate manager" not in labels[L]  # hidden, not a dead button
    # On this computer's own OS the button opens the planned place; on another it cannot.
    here = current_os()
    pane.os_combo.setCurrentIndex(list(OsName).index(here))
    card = next(c for c in pane.cards if c.fix.id is FixId.UPDATE_ROOT_STORE)
    buttons = {b.text().replace("&&", "&"): b for b in card.findChildren(QPushButton)}
    qtbot.mouseClick(buttons["Open system updates"], Qt.MouseButton.LeftButton)
    expected = plan(action("update-root-store", "Open system updates"), here)
    assert expected is not None
    assert opened == [expected.target]
    other = next(o for o in (W, M) if o is not here)
    assert not labels[other]["Open the certificate manager"].isEnabled()
