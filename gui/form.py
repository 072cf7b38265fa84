"""The form: one field for host, host:port or a pasted URL, the Check/Cancel button, and the
Options disclosure. Problems are shown as one sentence under the field they are about."""

from __future__ import annotations

from collections.abc import Sequence

from PySide6.QtCore import QStringListModel, Qt, Signal
from PySide6.QtWidgets import (
    QCheckBox,
    QCompleter,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QToolButton,
    QVBoxLayout,
    QWidget,
)

from core.models import DEFAULT_TIME_SERVERS
from gui import theme
from gui.request import DEFAULT_TIME_SERVER, DEFAULT_TIMEOUT, FormState
from gui.widgets import app_palette, plain_label, set_text_colour

PLACEHOLDER = "Host to check: example.com, example.com:8443 or a pasted https:// address"


class _Field(QWidget):
    """An editor with its error line under it."""

    def __init__(self, editor: QWidget, parent: QWidget, *extra: QWidget) -> None:
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
        self.error = plain_label("", self)
        self.error.setAccessibleName("Problem with this field")
        set_text_colour(self.error, theme.failure_colour(app_palette()))
        self.error.hide()
        layout.addWidget(self.error)
        self.editor = editor

    def show_error(self, message: str) -> None:
        self.error.setText(message)
        self.error.setVisible(bool(message))


class CheckForm(QWidget):
    submitted = Signal()
    cancelRequested = Signal()

    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._running = False
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
        completer = QCompleter(self.recent_model, self)
        completer.setCaseSensitivity(Qt.CaseSensitivity.CaseInsensitive)
        completer.setFilterMode(Qt.MatchFlag.MatchContains)
        self.host.setCompleter(completer)
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
        self.toggle.setText("Options")
        self.toggle.setCheckable(True)
        self.toggle.setArrowType(Qt.ArrowType.RightArrow)
        self.toggle.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        self.toggle.setAccessibleName("Show options")
        self.toggle.toggled.connect(self.show_options)
        self.toggle.setMinimumHeight(self.host.minimumHeight())

        self.host_field = _Field(self.host, self, self.button, self.toggle)
        self.host_field.error.setAccessibleName("Problem with the host")
        outer.addWidget(self.host_field)

        self.options = QWidget(self)
        self.options.setAccessibleName("Options")
        # Two columns side by side: where and how to connect | trust and identity.
        columns = QHBoxLayout(self.options)
        columns.setContentsMargins(4, 6, 4, 4)
        columns.setSpacing(24)
        left, right = QFormLayout(), QFormLayout()
        for form in (left, right):
            form.setRowWrapPolicy(QFormLayout.RowWrapPolicy.DontWrapRows)
            form.setFieldGrowthPolicy(QFormLayout.FieldGrowthPolicy.AllNonFixedFieldsGrow)
            form.setVerticalSpacing(4)
        columns.addLayout(left, 1)
        columns.addLayout(right, 1)

        self.port = QSpinBox(self.options)
        self.port.setRange(0, 65535)
        self.port.setSpecialValueText("from the address (443)")
        self.port.setAccessibleName("Port")
        self.connect_to = QLineEdit(self.options)
        self.connect_to.setPlaceholderText("optional: another address, e.g. 10.0.0.5:8443")
        self.connect_to.setAccessibleName("Connect address")
        self.ca_file = QLineEdit(self.options)
        self.ca_file.setPlaceholderText("optional: your company's CA (PEM)")
        self.ca_file.setAccessibleName("Extra CA file")
        self.only_ca = QCheckBox("Trust only this CA file", self.options)
        self.only_ca.setAccessibleName("Trust only the CA file")
        self.client_cert = QLineEdit(self.options)
        self.client_cert.setPlaceholderText("optional: PEM or PKCS#12")
        self.client_cert.setAccessibleName("Client certificate")
        self.client_key = QLineEdit(self.options)
        self.client_key.setPlaceholderText("optional: if not in the certificate file")
        self.client_key.setAccessibleName("Client key")
        self.password = QLineEdit(self.options)
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("kept in memory only, never saved")
        self.password.setAccessibleName("Client certificate password")
        self.timeout = QDoubleSpinBox(self.options)
        self.timeout.setRange(0.1, 300.0)
        self.timeout.setDecimals(1)
        self.timeout.setSingleStep(1.0)
        self.timeout.setSuffix(" s")
        self.timeout.setValue(DEFAULT_TIMEOUT)
        self.timeout.setAccessibleName("Timeout per step")
        self.time_server = QLineEdit(self.options)
        self.time_server.setText(DEFAULT_TIME_SERVER)
        self.time_server.setPlaceholderText("default: " + ", ".join(DEFAULT_TIME_SERVERS))
        self.time_server.setAccessibleName("Time server")
        self.no_network_time = QCheckBox("No time server (use the server's clock)", self.options)
        self.no_network_time.setAccessibleName("No network time")
        self.no_network_time.toggled.connect(lambda on: self.time_server.setEnabled(not on))
        self.quick = QCheckBox("Quick check (skip versions and cipher suites)", self.options)
        self.quick.setAccessibleName("Quick check")
        self.gentle = QCheckBox("Gentle (one connection at a time)", self.options)
        self.gentle.setAccessibleName("Gentle mode")

        def browse(target: QLineEdit, title: str, filters: str) -> QPushButton:
            button = QPushButton("Browse…", self.options)
            button.setAccessibleName(f"Browse for the {title.lower()}")
            button.clicked.connect(lambda: self._browse(target, title, filters))
            return button

        pem = "Certificates (*.pem *.crt *.cer *.der);;All files (*)"
        self.fields: dict[str, _Field] = {
            "port": _Field(self.port, self.options),
            "connect": _Field(self.connect_to, self.options),
            "ca_file": _Field(self.ca_file, self.options, browse(self.ca_file, "CA file", pem)),
            "client_cert": _Field(
                self.client_cert,
                self.options,
                browse(
                    self.client_cert,
                    "Client certificate",
                    "Certificates (*.pem *.p12 *.pfx);;All files (*)",
                ),
            ),
            "client_key": _Field(
                self.client_key, self.options, browse(self.client_key, "Client key", pem)
            ),
            "password": _Field(self.password, self.options),
            "timeout": _Field(self.timeout, self.options),
            "time_server": _Field(self.time_server, self.options),
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
        }
        right_side = ("ca_file", "client_cert", "client_key", "password")
        for key, field in self.fields.items():
            label = QLabel(labels[key], self.options)
            label.setTextFormat(Qt.TextFormat.PlainText)
            label.setBuddy(field.editor)
            (right if key in right_side else left).addRow(label, field)
        right.addRow("", self.only_ca)
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
        ):
            edit.returnPressed.connect(self._enter)
        self.options.hide()
        outer.addWidget(self.options)
        self.fields["host"] = self.host_field

    # -- state

    def state(self) -> FormState:
        return FormState(
            host=self.host.text(),
            port=self.port.value() or None,
            connect=self.connect_to.text(),
            ca_file=self.ca_file.text(),
            no_default_trust=self.only_ca.isChecked(),
            client_cert=self.client_cert.text(),
            client_key=self.client_key.text(),
            client_password=self.password.text(),
            timeout=self.timeout.value(),
            time_server=self.time_server.text(),
            no_network_time=self.no_network_time.isChecked(),
            quick=self.quick.isChecked(),
            gentle=self.gentle.isChecked(),
        )

    def set_state(self, state: FormState) -> None:
        self.host.setText(state.host)
        self.port.setValue(state.port or 0)
        self.connect_to.setText(state.connect)
        self.ca_file.setText(state.ca_file)
        self.only_ca.setChecked(state.no_default_trust)
        self.client_cert.setText(state.client_cert)
        self.client_key.setText(state.client_key)
        self.password.setText(state.client_password)
        self.timeout.setValue(state.timeout)
        self.time_server.setText(state.time_server)
        self.no_network_time.setChecked(state.no_network_time)
        self.quick.setChecked(state.quick)
        self.gentle.setChecked(state.gentle)
        differs = (
            state.port is not None
            or bool(state.connect or state.ca_file or state.client_cert)
            or state.timeout != DEFAULT_TIMEOUT
        )
        if differs:
            self.toggle.setChecked(True)

    def set_recent(self, hosts: Sequence[str]) -> None:
        self.recent_model.setStringList(list(hosts))

    # -- errors

    def follow_palette(self) -> None:
        for field in self.fields.values():
            set_text_colour(field.error, theme.failure_colour(app_palette()))

    def show_error(self, field: str, message: str) -> None:
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
        return " ".join(
            f.error.text() for f in self.fields.values() if f.error.isVisible() or f.error.text()
        )

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

    def show_options(self, shown: bool) -> None:
        if self.toggle.isChecked() != shown:
            self.toggle.setChecked(shown)
            return
        self.options.setVisible(shown)
        self.toggle.setArrowType(Qt.ArrowType.DownArrow if shown else Qt.ArrowType.RightArrow)
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
        path, _ = QFileDialog.getOpenFileName(self, title, target.text(), filters)
        if path:
            target.setText(path)
