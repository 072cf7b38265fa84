"""The form: one field for host, host:port or a pasted URL, the Check/Cancel button, and the
Options disclosure. Problems are shown as one sentence under the field they are about.

The host row is all the first paint needs, so it is built from Qt alone: no engine module and no
``Qt`` namespace (PySide6 creates that namespace's ~90 enums, some 13 ms, on first use). The
Options panel and the error lines are built when first needed (``build_options``)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from PySide6.QtCore import QStringListModel, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

if TYPE_CHECKING:
    from core.request import RequestSpec

PLACEHOLDER = (
    "Host to check: example.com, example.com:8443, a pasted https:// address, "
    "or a mail or other service: smtp://mail.example.com:587, imaps://…, ldap://…"
)
#: The Options toggle's text with its disclosure triangle: text, so the first paint needs no
#: Qt enum (QToolButton.setArrowType takes only Qt.ArrowType).
OPTIONS_CLOSED, OPTIONS_OPEN = "▸ Options", "▾ Options"


class _Field(QWidget):
    """An editor with its error line under it (the line is made the first time it is needed)."""

    def __init__(
        self, editor: QWidget, parent: QWidget, *extra: QWidget, error_name: str = ""
    ) -> None:
        super().__init__(parent)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(2)
        row = QHBoxLayout()
        row.setContentsMargins(0, 0, 0, 0)
        row.addWidget(editor, 1)
        for widget in extra:
            row.addWidget(widget)
        layout.addLayout(row)
        self._layout = layout
        self._error: QLabel | None = None
        self._error_name = error_name or "Problem with this field"
        self.editor = editor

    @property
    def error(self) -> QLabel:
        if self._error is None:
            from gui.widgets import plain_label

            label = plain_label("", self)
            label.setAccessibleName(self._error_name)
            label.hide()
            self._layout.addWidget(label)
            self._error = label
            self.recolour()
        return self._error

    def recolour(self) -> None:
        if self._error is not None:
            from gui import theme
            from gui.widgets import app_palette, set_text_colour

            set_text_colour(self._error, theme.failure_colour(app_palette()))

    def show_error(self, message: str) -> None:
        if not message and self._error is None:
            return
        self.error.setText(message)
        self.error.setVisible(bool(message))

    def error_text(self) -> str:
        label = self._error
        return label.text() if label is not None and (label.isVisible() or label.text()) else ""


#: The app list's first entry: no app named, the verdict for the worst current browser.
DONT_KNOW = "I don't know"


class CheckForm(QWidget):
    submitted = Signal()
    cancelRequested = Signal()
    #: The app that showed the error was changed: its id, or "" for "I don't know".
    clientChanged = Signal(str)

    def __init__(self, parent: QWidget | None = None, *, light: bool = False) -> None:
        """``light``: only the host row now; the Options panel waits for ``build_options``."""
        super().__init__(parent)
        self._running = False
        self._options_built = False
        self._portal_url: str | None = None
        outer = QVBoxLayout(self)
        outer.setContentsMargins(0, 0, 0, 0)
        outer.setSpacing(4)

        self.host = QLineEdit(self)
        self.host.setPlaceholderText(PLACEHOLDER)
        self.host.setAccessibleName("Host to check")
        self.host.setClearButtonEnabled(True)
        self.host.setMaxLength(2048)
        self.host.returnPressed.connect(self._enter)
        self.recent_model = QStringListModel(self)
        font = self.host.font()
        if font.pointSizeF() > 0:
            font.setPointSizeF(font.pointSizeF() * 1.15)
        self.host.setFont(font)
        self.host.setMinimumHeight(self.host.sizeHint().height() + 6)

        self.button = QPushButton("Check", self)
        self.button.setDefault(True)
        self.button.setAccessibleName("Check")
        self.button.setMinimumWidth(96)
        self.button.setMinimumHeight(self.host.minimumHeight())
        self.button.clicked.connect(self._button)
        self.toggle = QToolButton(self)
        self.toggle.setText(OPTIONS_CLOSED)
        self.toggle.setCheckable(True)
        self.toggle.setAccessibleName("Show options")
        self.toggle.toggled.connect(self.show_options)
        self.toggle.setMinimumHeight(self.host.minimumHeight())

        self.host_field = _Field(
            self.host, self, self.button, self.toggle, error_name="Problem with the host"
        )
        outer.addWidget(self.host_field)
        # Which app showed the error: its verdict comes first. The list of apps is read with
        # the Options (build_options); until then it holds "I don't know" and the remembered
        # choice waits in _pending_client.
        app_row = QHBoxLayout()
        app_row.setContentsMargins(0, 0, 0, 0)
        self.app_label = QLabel("The app that showed the error:", self)
        self.app = QComboBox(self)
        self.app.setAccessibleName("The app that showed the error")
        self.app.setToolTip(
            "Its verdict comes first: browsers and apps disagree on missing intermediates, "
            "chain length, Certificate Transparency, old ciphers…"
        )
        self.app.addItem(DONT_KNOW, "")
        self.app_label.setBuddy(self.app)
        app_row.addWidget(self.app_label)
        app_row.addWidget(self.app)
        app_row.addStretch(1)
        outer.addLayout(app_row)
        self._pending_client = ""
        self._filling = False
        self.app.currentIndexChanged.connect(self._app_changed)
        # The panel's place; its contents are made by build_options.
        self.options = QWidget(self)
        self.options.setAccessibleName("Options")
        self.options.hide()
        outer.addWidget(self.options)
        self.fields: dict[str, _Field] = {"host": self.host_field}
        if not light:
            self.build_options()

    def build_options(self) -> None:
        """The Options panel's fields and the recent-hosts completer; builds them once."""
        if self._options_built:
            return
        self._options_built = True
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import (
            QCompleter,
            QDoubleSpinBox,
            QFormLayout,
            QSpinBox,
        )

        from core.models import DEFAULT_TIME_SERVERS
        from core.request import DEFAULT_TIMEOUT

        self._fill_apps()
        completer = QCompleter(self.recent_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.host.setCompleter(completer)

        options = self.options
        # Two columns side by side: where and how to connect | trust and identity.
        columns = QHBoxLayout(options)
        columns.setContentsMargins(4, 6, 4, 4)
        columns.setSpacing(24)
        left, right = QFormLayout(), QFormLayout()
        for form in (left, right):
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setVerticalSpacing(4)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)

        self.port = QSpinBox(options)
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("from the address (443)")
        self.port.setAccessibleName("Port")
        self.connect_to = _text_field(
            options, "optional: another address, e.g. 10.0.0.5:8443", "Connect address"
        )
        self.ca_file = _text_field(options, "optional: your company's CA (PEM)", "Extra CA file")
        self.only_ca = _check_box("Trust only this CA file", options, "Trust only the CA file")
        self.client_cert = _text_field(options, "optional: PEM or PKCS#12", "Client certificate")
        self.client_key = _text_field(
            options, "optional: if not in the certificate file", "Client key"
        )
        self.password = _text_field(
            options, "kept in memory only, never saved", "Client certificate password"
        )
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.timeout = QDoubleSpinBox(options)
        self.timeout.setRange(0.1, 300.0)
        self.timeout.setDecimals(1)
        self.timeout.setSingleStep(1.0)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(DEFAULT_TIMEOUT)
        self.timeout.setAccessibleName("Timeout per step")
        # Empty: the engine's default servers.
        self.time_server = _text_field(
            options, "default: " + ", ".join(DEFAULT_TIME_SERVERS), "Time server"
        )
        self.dns_server = _text_field(
            options, "optional: ask this one, e.g. 9.9.9.9 or [::1]:5353", "DNS server"
        )
        self.proxy = _text_field(options, _proxy_placeholder(), "Proxy")
        self.proxy.setToolTip(
            "Empty: the proxy your apps use (HTTPS_PROXY, then this computer's settings).\n"
            "Or give one: http://[user:password@]host:port, socks5://host:port, socks5h://…\n"
            "The password is kept in memory only, never saved."
        )
        self.no_proxy = _check_box("Connect directly (no proxy)", options, "No proxy")
        self.no_proxy.toggled.connect(lambda on: self.proxy.setEnabled(not on))
        self.no_network_time = _check_box(
            "No time server (use the server's clock)", options, "No network time"
        )
        self.no_network_time.toggled.connect(lambda on: self.time_server.setEnabled(not on))
        self.quick = _check_box(
            "Quick check (skip versions and cipher suites)", options, "Quick check"
        )
        self.gentle = _check_box("Gentle (one connection at a time)", options, "Gentle mode")

        def browse(target: QLineEdit, title: str, filters: str) -> QPushButton:
            button = QPushButton("Browse…", options)
            button.setAccessibleName(f"Browse for the {title.lower()}")
            button.clicked.connect(lambda: self._browse(target, title, filters))
            return button

        pem = "Certificates (*.pem *.crt *.cer *.der);;All files (*)"
        fields: dict[str, _Field] = {
            "port": _Field(self.port, options),
            "connect": _Field(self.connect_to, options),
            "ca_file": _Field(self.ca_file, options, browse(self.ca_file, "CA file", pem)),
            "client_cert": _Field(
                self.client_cert,
                options,
                browse(
                    self.client_cert,
                    "Client certificate",
                    "Certificates (*.pem *.p12 *.pfx);;All files (*)",
                ),
            ),
            "client_key": _Field(
                self.client_key, options, browse(self.client_key, "Client key", pem)
            ),
            "password": _Field(self.password, options),
            "timeout": _Field(self.timeout, options),
            "time_server": _Field(self.time_server, options),
            "dns_server": _Field(self.dns_server, options),
            "proxy": _Field(self.proxy, options),
        }
        labels = {
            "port": "Port",
            "connect": "Connect to",
            "ca_file": "Extra CA file",
            "client_cert": "Client certificate",
            "client_key": "Client key",
            "password": "Password",
            "timeout": "Timeout per step",
            "time_server": "Time server",
            "dns_server": "DNS server",
            "proxy": "Proxy",
        }
        right_side = ("ca_file", "client_cert", "client_key", "password")
        for key, field in fields.items():
            label = QLabel(labels[key], options)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setBuddy(field.editor)
            (right if key in right_side else left).addRow(label, field)
        right.addRow("", self.only_ca)
        left.addRow("", self.no_proxy)
        flags = QVBoxLayout()
        flags.setSpacing(2)
        for box in (self.no_network_time, self.quick, self.gentle):
            flags.addWidget(box)
        left.addRow("", flags)
        for edit in (
            self.connect_to,
            self.ca_file,
            self.client_cert,
            self.client_key,
            self.password,
            self.time_server,
            self.dns_server,
            self.proxy,
        ):
            edit.returnPressed.connect(self._enter)
        self.fields = {**fields, "host": self.host_field}

    # -- the app that showed the error

    def _fill_apps(self) -> None:
        from core.analyze.clients import AppProfile, load_apps

        self._filling = True
        apps = load_apps()
        from PySide6.QtCore import Qt

        def add(app: AppProfile, text: str) -> None:
            self.app.addItem(text, app.id)
            if app.note:  # what stands in for it where the data is thinner (its hello...)
                self.app.setItemData(self.app.count() - 1, app.note, Qt.ItemDataRole.ToolTipRole)

        for app in (a for a in apps if a.current):
            add(app, app.name)
        self.app.insertSeparator(self.app.count())
        for app in (a for a in apps if not a.current):
            add(app, f"{app.name} (old)")
        self._filling = False
        self.set_client(self._pending_client)

    def client(self) -> str:
        """The chosen app's id, "" for "I don't know"."""
        if not self._options_built:
            return self._pending_client
        value = self.app.currentData()
        return value if isinstance(value, str) else ""

    def set_client(self, client: str | None) -> None:
        """Choose the app by id; an id not in the list (an old setting) is "I don't know"."""
        wanted = client or ""
        if not self._options_built:
            self._pending_client = wanted
            return
        index = self.app.findData(wanted)
        self.app.setCurrentIndex(index if index >= 0 else 0)

    def _app_changed(self, _index: int) -> None:
        if not self._filling and self._options_built:
            self.clientChanged.emit(self.client())

    # -- state

    def state(self) -> RequestSpec:
        from core.request import RequestSpec

        self.build_options()
        return RequestSpec(
            host=self.host.text(),
            port=self.port.value() or None,
            connect=self.connect_to.text().strip() or None,
            ca_file=self.ca_file.text(),
            no_default_trust=self.only_ca.isChecked(),
            client_cert=self.client_cert.text(),
            client_key=self.client_key.text(),
            client_password=self.password.text(),
            timeout=self.timeout.value(),
            time_server=self.time_server.text().strip() or None,
            no_network_time=self.no_network_time.isChecked(),
            quick=self.quick.isChecked(),
            gentle=self.gentle.isChecked(),
            dns_server=self.dns_server.text(),
            proxy=self.proxy.text(),
            no_proxy=self.no_proxy.isChecked(),
            portal_url=self._portal_url,
            client=self.client() or None,
        )

    def set_state(self, state: RequestSpec) -> None:
        from core.request import DEFAULT_TIMEOUT

        self.build_options()
        self.host.setText(_with_starttls_scheme(state.host, state.starttls))
        self.port.setValue(state.port or 0)
        self.connect_to.setText(state.connect or "")
        self.ca_file.setText(state.ca_file)
        self.only_ca.setChecked(state.no_default_trust)
        self.client_cert.setText(state.client_cert)
        self.client_key.setText(state.client_key)
        self.password.setText(state.client_password)
        self.timeout.setValue(state.timeout)
        self.time_server.setText(state.time_server or "")
        self.no_network_time.setChecked(state.no_network_time)
        self.quick.setChecked(state.quick)
        self.gentle.setChecked(state.gentle)
        self.dns_server.setText(state.dns_server)
        self.proxy.setText(state.proxy)
        self.no_proxy.setChecked(state.no_proxy)
        # No field of its own (handshake-doctor --portal-url): kept as the window was opened.
        self._portal_url = state.portal_url
        if state.client is not None:  # given: --client on the command line
            self.set_client(state.client)
        differs = (
            state.port is not None
            or bool(state.connect or state.ca_file or state.client_cert or state.dns_server)
            or bool(state.proxy or state.no_proxy)
            or state.timeout != DEFAULT_TIMEOUT
        )
        if differs:
            self.toggle.setChecked(True)

    def set_recent(self, hosts: Sequence[str]) -> None:
        self.recent_model.setStringList(list(hosts))

    # -- errors

    def follow_palette(self) -> None:
        for field in self.fields.values():
            field.recolour()

    def show_error(self, field: str, message: str) -> None:
        self.build_options()
        self.clear_errors()
        target = self.fields.get(field, self.host_field)
        if target is not self.host_field:
            self.toggle.setChecked(True)
        target.show_error(message)
        target.editor.setFocus()

    def clear_errors(self) -> None:
        for field in self.fields.values():
            field.show_error("")

    def error_text(self) -> str:
        return " ".join(text for f in self.fields.values() if (text := f.error_text()))

    # -- running

    @property
    def running(self) -> bool:
        return self._running

    def set_running(self, running: bool) -> None:
        self._running = running
        self.button.setText("Cancel" if running else "Check")
        self.button.setAccessibleName("Cancel the check" if running else "Check")
        self.button.setToolTip("Stop the check (Esc)" if running else "Start the check (Enter)")
        self.host.setReadOnly(running)
        self.options.setEnabled(not running)
        self.app.setEnabled(not running)

    def show_options(self, shown: bool) -> None:
        if self.toggle.isChecked() != shown:
            self.toggle.setChecked(shown)
            return
        if shown:
            self.build_options()
        self.options.setVisible(shown)
        self.toggle.setText(OPTIONS_OPEN if shown else OPTIONS_CLOSED)
        self.toggle.setAccessibleName("Hide options" if shown else "Show options")

    def _enter(self) -> None:
        if not self._running:
            self.submitted.emit()

    def _button(self) -> None:
        if self._running:
            self.cancelRequested.emit()
        else:
            self.submitted.emit()

    def _browse(self, target: QLineEdit, title: str, filters: str) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(self, title, target.text(), filters)
        if path:
            target.setText(path)


def _text_field(parent: QWidget, placeholder: str, name: str) -> QLineEdit:
    """An Options text field: what an empty one means as its placeholder, and its name for
    screen readers (the label beside it is not read with it everywhere)."""
    field = QLineEdit(parent)
    field.setPlaceholderText(placeholder)
    field.setAccessibleName(name)
    return field


def _check_box(text: str, parent: QWidget, name: str) -> QCheckBox:
    """An Options check box with its shorter name for screen readers."""
    box = QCheckBox(text, parent)
    box.setAccessibleName(name)
    return box


def _with_starttls_scheme(host: str, starttls: str) -> str:
    """``handshake-doctor HOST --starttls PROTO`` in the address field, as the URL that means the
    same (``smtp://HOST``): the field is where the window keeps what the check speaks, so the
    protocol shows, stays while it is the same server, and goes when another is typed."""
    host, protocol = host.strip(), starttls.strip().lower()
    if not host or not protocol or "://" in host:
        return host  # a scheme already there: validate() says whether the two agree
    return f"{protocol}://{host}"


def _proxy_placeholder() -> str:
    """What an empty Proxy field means on this computer right now: the proxy the environment
    names (never its password), or the system's settings."""
    import os

    from core.proxy_settings import ProxyUrlError, from_environment

    try:
        found = from_environment(os.environ, "example.com", 443)
    except ProxyUrlError as exc:
        return f"automatic: {exc.setting} is not usable ({exc.message})"[:120]
    if found is not None and found.proxy is not None:
        return f"automatic: now {found.proxy.display} (from {found.setting})"
    return "automatic: this computer's proxy settings, if any"
