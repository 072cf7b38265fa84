"""The Help menu's "How to use Handshake Doctor": what to type, what each pane shows, the keys."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget

HELP_TITLE = "How to use Handshake Doctor"
HELP_TEXT = (
    "Type the address that fails (a host name such as example.com, host:port, or a "
    "pasted https:// link) and press Enter.\n\n"
    "The coloured banner says what is wrong and who can fix it. "
    "Fix it lists the steps to try, in order. "
    "Handshake shows each message of the connection; Certificates shows the chain; "
    "Protocols & ciphers shows what the server accepts; Clock compares this computer's "
    "clock with the correct time.\n\n"
    "Options: a different port, an address to connect to, your company's CA file, a "
    "client certificate, and a timeout. File → Open certificate file checks a certificate "
    "without a connection (you can also drop a file on the window). Check → Check several… "
    "checks a list of servers at once and shows them in one table.\n\n"
    "Shortcuts: Ctrl+L host field · Ctrl+R check again · Esc cancel · Ctrl+E export · "
    "F1 this help."
)


def show_help(parent: QWidget) -> None:
    QMessageBox.information(parent, HELP_TITLE, HELP_TEXT)
