"""The main window: the form, the live stage list, the verdict banner and the result panes,
with the File and Help menus. The check itself runs in a worker thread (gui.worker).

The app opens it ``deferred``: the first frame has only the form, the menus and an empty results
area, which need nothing but Qt; the engine's modules, the catalogue and the panes are imported
and built right after that frame is on the screen (``ensure_ready``). So this module imports no
engine module and no ``Qt`` namespace at the top; the methods import what they use."""

from __future__ import annotations

import sys
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QByteArray, QSettings, QThreadPool, QTimer, Signal
from PySide6.QtGui import QAction, QGuiApplication, QKeySequence
from PySide6.QtWidgets import (
    QFrame,
    QLayout,
    QMainWindow,
    QPushButton,
    QScrollArea,
    QVBoxLayout,
    QWidget,
)

from gui.form import CheckForm

if TYPE_CHECKING:
    from PySide6.QtCore import QEvent
    from PySide6.QtGui import (
        QCloseEvent,
        QDragEnterEvent,
        QDropEvent,
        QIcon,
        QPaintEvent,
        QShowEvent,
    )
    from PySide6.QtWidgets import QMessageBox

    from core.catalogue import Catalogue
    from core.inspect import InspectReport
    from core.models import CheckReport, StageEvent, Target
    from core.request import RequestSpec
    from gui.batch_dialog import BatchDialog
    from gui.request import Request
    from gui.tasks import BackgroundTask

APP_NAME = "Handshake Doctor"
MAX_RECENT = 15
RECENT_KEY = "recent/hosts"
GEOMETRY_KEY = "window/geometry"
#: The app that showed the error, as last chosen ("" for "I don't know").
CLIENT_KEY = "check/client"
MIN_WIDTH, MIN_HEIGHT = 760, 560
#: The window icon's sizes, from resources/icons/ (packaging/make_icons.py renders them).
ICON_SIZES = (16, 24, 32, 48, 64, 128, 256)
#: A deferred window builds the rest after its first paint; this long after being shown at the
#: latest (a window that starts minimised is not painted).
BUILD_FALLBACK_MS = 500


def app_icon() -> QIcon:
    """The app icon from the PNGs rendered from resources/app-icon.svg: PNG is built into
    QtGui, while the SVG needs Qt's SVG icon engine plugin and QtSvg loaded first."""
    from importlib import resources

    from PySide6.QtCore import QSize
    from PySide6.QtGui import QIcon

    icon = QIcon()
    try:
        folder = resources.files("resources")
        for size in ICON_SIZES:
            icon.addFile(str(folder.joinpath(f"icons/app-{size}.png")), QSize(size, size))
    except (ModuleNotFoundError, FileNotFoundError, TypeError):
        return QIcon()
    return icon


def recent_entry(typed: str) -> str:
    """What the recent-hosts list keeps of what was typed: scheme, host and port only. A
    pasted link may carry ``user:password@`` or a token in its path or query, and the settings
    file is plain text that backups and sync tools copy everywhere."""
    from urllib.parse import urlsplit

    text = typed.strip()
    if not any(mark in text for mark in ("://", "@", "/", "?", "#")):
        return text  # host or host:port, as typed
    try:
        parts = urlsplit(text if "://" in text else f"//{text}")
        host, port = parts.hostname, parts.port
    except ValueError:  # a port out of range, brackets that do not close...
        return ""
    if not host:
        return ""
    host = f"[{host}]" if ":" in host else host
    where = f"{host}:{port}" if port is not None else host
    return f"{parts.scheme}://{where}" if parts.scheme else where


def inspect_file(path: Path, host: str | None, password: bytes | None) -> InspectReport:
    """Offline validation of a certificate file, judged now (run it off the GUI thread)."""
    import datetime as dt

    from core import inspect

    return inspect.inspect_file(path, host=host, at=dt.datetime.now(dt.UTC), password=password)


@dataclass(frozen=True)
class InspectedFile:
    """The certificate file on show instead of a check: its name (as the user named it) and
    what the offline validation found."""

    name: str
    result: InspectReport


# --------------------------------------------------------------------------- the window


class MainWindow(QMainWindow):
    reportShown = Signal(object)
    #: A certificate file was validated and is on show (its InspectReport).
    fileShown = Signal(object)
    #: The PDF export ended: written or not (the status line says why).
    exportEnded = Signal(bool)
    checkEnded = Signal(str)
    #: The whole window is built (see ``deferred``).
    ready = Signal()

    def __init__(
        self,
        *,
        settings: QSettings | None = None,
        initial: RequestSpec | None = None,
        catalogue: Catalogue | None = None,
        deferred: bool = False,
    ) -> None:
        """``deferred``: build only the form (its Options too when ``initial`` fills them), the
        menus and an empty results area now, and the rest (catalogue, banner, stage list, panes,
        the check's runner, the icon) once the window has been painted, or as soon as something
        needs it. Without it, the window is complete when the constructor returns."""
        super().__init__()
        self.settings = settings if settings is not None else QSettings()
        self.report: CheckReport | None = None
        #: The certificate file on show, when the panes show one instead of a check.
        self.inspected: InspectedFile | None = None
        self._check_again_from: CheckReport | None = None
        self._last_target: Target | None = None
        self._request: Request | None = None
        self._tasks: set[BackgroundTask] = set()  # kept alive until they report
        self._catalogue = catalogue
        self._ready = False
        self._build_scheduled = False
        self._when_ready: list[Callable[[], object]] = []
        self._check_at_start = False
        self._early: Request | None = None
        self._shortcuts: list[tuple[QAction, QKeySequence]] = []
        self._batch: BatchDialog | None = None
        from gui.pdf_worker import PdfJobs

        self._pdf = PdfJobs()

        self.setWindowTitle(APP_NAME)
        self.setAcceptDrops(True)

        central = QWidget(self)
        layout = QVBoxLayout(central)
        layout.setContentsMargins(12, 10, 12, 6)
        layout.setSpacing(8)
        self.form = CheckForm(central, light=deferred)
        self.form.submitted.connect(self.start_check)
        self.form.cancelRequested.connect(self.cancel_check)
        layout.addWidget(self.form)
        # The verdict banner, the stage list and the result tabs come here (_build_results), in
        # an area that scrolls when the window is too short for them: a layout given less than
        # its minimum squeezes its largest item first, which is the form with its Options open,
        # and the Options' rows (the three check boxes above all) were drawn on top of each
        # other; started with ``HOST --connect ...`` in a window last left small, for one.
        self.results_area = QScrollArea(central)
        self.results_area.setFrameShape(QFrame.Shape.NoFrame)
        self.results_area.setWidgetResizable(True)
        layout.addWidget(self.results_area, 1)
        self.setCentralWidget(central)
        self.statusBar().setSizeGripEnabled(True)
        self._export_cancel = QPushButton("Cancel export", self)
        self._export_cancel.setAccessibleName("Cancel the PDF export")
        self._export_cancel.clicked.connect(self.cancel_export)
        self.statusBar().addPermanentWidget(self._export_cancel)
        self._export_cancel.hide()
        self._build_menus()
        for action in (self.export_action, self.copy_action, self.again_action):
            action.setEnabled(False)
        self.cancel_action.setEnabled(False)

        # A fixed minimum instead of one that follows the content: the window's minimum size then
        # never changes while results come in (and nothing jumps when a long line arrives).
        main_layout = self.layout()
        if main_layout is not None:
            main_layout.setSizeConstraint(QLayout.SizeConstraint.SetNoConstraint)
        self.setMinimumSize(MIN_WIDTH, MIN_HEIGHT)
        self.resize(1100, 820)
        geometry = self.settings.value(GEOMETRY_KEY)
        if isinstance(geometry, QByteArray | bytes):
            self.restoreGeometry(QByteArray(geometry))
        #: Never chosen: the app list starts at this computer's default browser, looked up
        #: with the rest of the window (the first frame imports no engine module).
        self._preselect_browser = not self.settings.contains(CLIENT_KEY)
        if not self._preselect_browser:
            remembered = self.settings.value(CLIENT_KEY, "")
            self.form.set_client(remembered if isinstance(remembered, str) else "")
        self.form.clientChanged.connect(self._client_changed)
        if initial is not None:
            # Now, not with the rest: what is typed meanwhile must not be overwritten.
            self.form.set_state(initial)
        self.form.host.setFocus()
        if not deferred:
            self.ensure_ready()

    # -- building the rest after the first paint

    @property
    def is_ready(self) -> bool:
        return self._ready

    def when_ready(self, slot: Callable[[], object]) -> None:
        """Call ``slot`` once the whole window is built: now if it is."""
        if self._ready:
            slot()
        else:
            self._when_ready.append(slot)

    def showEvent(self, event: QShowEvent) -> None:
        super().showEvent(event)
        if not self._ready:
            QTimer.singleShot(BUILD_FALLBACK_MS, self, self.ensure_ready)

    def paintEvent(self, event: QPaintEvent) -> None:
        super().paintEvent(event)
        if not self._ready and not self._build_scheduled:
            # The first frame is being drawn: build the rest once it is on the screen.
            self._build_scheduled = True
            QTimer.singleShot(0, self, self.ensure_ready)

    def ensure_ready(self) -> None:
        """Build the rest of the window now, if that has not happened yet."""
        if self._ready:
            return
        self._ready = True
        self._build_results()
        self.ready.emit()
        waiting, self._when_ready = self._when_ready, []
        for slot in waiting:
            slot()

    def _build_results(self) -> None:
        from gui.worker import CheckRunner

        # The runner first: a check asked for at start (check_when_built) runs from here on,
        # while the rest is imported and built.
        self.form.build_options()
        if self._preselect_browser and not self.form.client():
            from core.default_browser import default_browser

            self.form.set_client(default_browser())
        self.runner = CheckRunner(self)
        self.runner.progress.connect(self._on_progress)
        self.runner.finished.connect(self._on_report)
        self.runner.cancelled.connect(self._on_cancelled)
        self.runner.invalid.connect(self._on_invalid)
        self.runner.failed.connect(self._on_failed)
        self.runner.runningChanged.connect(self._on_running)
        self.ticker = QTimer(self)
        self.ticker.setInterval(100)
        if self._check_at_start:
            self._start_early()

        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView, QTabWidget

        from core.catalogue import load_catalogue
        from gui.banner import VerdictBanner
        from gui.panes.certificates import CertificatesPane
        from gui.panes.clock import ClockPane
        from gui.panes.fixit import FixItPane
        from gui.panes.handshake import HandshakePane
        from gui.panes.protocols import ProtocolsPane
        from gui.panes.summary import SummaryPane
        from gui.stage_model import StageModel

        if QGuiApplication.windowIcon().isNull():
            # The title bar's and the task bar's icon, for the dialogs too: nothing in the
            # first frame shows it, so it is loaded here (importlib.resources and the PNGs).
            QGuiApplication.setWindowIcon(app_icon())
        self.catalogue = self._catalogue or load_catalogue()

        results = QWidget()
        layout = QVBoxLayout(results)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.setSpacing(8)
        self.banner = VerdictBanner(results)
        layout.addWidget(self.banner)

        self.stage_model = StageModel(self)
        self.stages = QTableView(results)
        self.stages.setModel(self.stage_model)
        self.stages.setAccessibleName("Check progress")
        self.stages.verticalHeader().hide()
        self.stages.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.stages.setSelectionMode(QAbstractItemView.SelectionMode.NoSelection)
        self.stages.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.stages.setShowGrid(False)
        self.stages.setWordWrap(False)
        header = self.stages.horizontalHeader()
        header.setSectionResizeMode(0, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(1, QHeaderView.ResizeMode.ResizeToContents)
        header.setSectionResizeMode(2, QHeaderView.ResizeMode.Stretch)
        header.setMinimumSectionSize(80)
        self.stages.resizeRowsToContents()
        # The Proxy step is shown only when a check goes through one.
        self.stage_model.modelReset.connect(self._sync_stage_rows)
        self.stage_model.dataChanged.connect(self._sync_stage_rows)
        self._sync_stage_rows()
        self._fit_stages()
        self.stages.setVerticalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        layout.addWidget(self.stages)

        self.tabs = QTabWidget(results)
        self.tabs.setAccessibleName("Results")
        self.tabs.setDocumentMode(True)
        self.summary = SummaryPane(self.catalogue, self.tabs)
        self.fixit = FixItPane(self.catalogue, self.tabs)
        self.handshake = HandshakePane(self.tabs)
        self.certificates = CertificatesPane(self.tabs)
        self.protocols = ProtocolsPane(self.tabs)
        self.clock = ClockPane(self.catalogue, self.tabs)
        for pane, title in (
            (self.summary, "Summary"),
            (self.fixit, "Fix it"),
            (self.handshake, "Handshake"),
            (self.certificates, "Certificates"),
            (self.protocols, "Protocols && ciphers"),
            (self.clock, "Clock"),
        ):
            pane.setAccessibleName(title.replace("&&", "&"))
            self.tabs.addTab(pane, title)
        self.summary.showFixes.connect(lambda: self.tabs.setCurrentWidget(self.fixit))
        self.fixit.checkAgain.connect(self.check_again)
        self.fixit.status.connect(self.show_status)
        self.certificates.status.connect(self.show_status)
        layout.addWidget(self.tabs, 1)
        # Shown at once (children added to a shown widget would wait for the event loop).
        self.results_area.setWidget(results)
        self.results_area.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # its contents take the focus
        self.results = results

        self.ticker.timeout.connect(self.stage_model.tick)

        for action, keys in self._shortcuts:
            action.setShortcut(keys)
        if self.help_action.shortcut().isEmpty():  # no standard Help key on this desktop
            self.help_action.setShortcut(QKeySequence("F1"))

        self.form.set_recent(self.recent_hosts())
        self._update_actions()

    # -- menus

    def _action(
        self,
        text: str,
        slot: Callable[[], Any],
        shortcut: QKeySequence | QKeySequence.StandardKey | str | None = None,
    ) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            # Set in _build_results: QAction.setShortcut makes PySide6 create the Qt namespace.
            self._shortcuts.append((action, QKeySequence(shortcut)))
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_menus(self) -> None:
        bar = self.menuBar()
        file_menu = bar.addMenu("&File")
        self.open_action = self._action(
            "&Open certificate file…", self.open_certificate_dialog, QKeySequence.StandardKey.Open
        )
        self.export_action = self._action("&Export report…", self.export_dialog, "Ctrl+E")
        self.copy_action = self._action("&Copy summary", self.copy_summary, "Ctrl+Shift+C")
        self.quit_action = self._action("&Quit", self.close, QKeySequence.StandardKey.Quit)
        self.quit_action.setMenuRole(QAction.MenuRole.QuitRole)
        for action in (self.open_action, self.export_action, self.copy_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.quit_action)

        check_menu = bar.addMenu("&Check")
        self.focus_action = self._action("Go to the &host field", self.focus_host, "Ctrl+L")
        self.check_action = self._action("&Check", self.start_check)
        self.again_action = self._action("Check &again", self.check_again, "Ctrl+R")
        self.cancel_action = self._action("C&ancel", self.cancel_check, "Esc")
        for action in (self.focus_action, self.check_action, self.again_action, self.cancel_action):
            check_menu.addAction(action)
        check_menu.addSeparator()
        self.several_action = self._action("Check &several…", self.open_batch_dialog)
        check_menu.addAction(self.several_action)

        help_menu = bar.addMenu("&Help")
        self.help_action = self._action(
            "&How to use Handshake Doctor", self.show_help, QKeySequence.StandardKey.HelpContents
        )
        self.about_action = self._action("&About Handshake Doctor", self.show_about)
        self.about_action.setMenuRole(QAction.MenuRole.AboutRole)
        help_menu.addAction(self.help_action)
        help_menu.addAction(self.about_action)
        file_menu.setToolTipsVisible(True)

    def _update_actions(self) -> None:
        running = self.runner.running
        has_report = self.report is not None
        # The PDF is a check's report: none for a certificate file. Copy gives either's text.
        self.export_action.setEnabled(has_report and not running and not self._pdf.running)
        self.copy_action.setEnabled(has_report or self.inspected is not None)
        self.again_action.setEnabled(not running and (self._last_target is not None))
        self.cancel_action.setEnabled(running)
        self.check_action.setEnabled(not running)
        self.open_action.setEnabled(not running)

    # -- settings

    def recent_hosts(self) -> list[str]:
        value = self.settings.value(RECENT_KEY, [])
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            return []
        hosts = [recent_entry(v) for v in value if isinstance(v, str) and v.strip()]
        return list(dict.fromkeys(h for h in hosts if h))[:MAX_RECENT]

    def _remember(self, host: str) -> None:
        host = recent_entry(host)
        if not host:
            return
        hosts = [host] + [h for h in self.recent_hosts() if h != host]
        self.settings.setValue(RECENT_KEY, hosts[:MAX_RECENT])
        self.form.set_recent(hosts[:MAX_RECENT])

    def _client_changed(self, client: str) -> None:
        """Another app chosen: remembered, and a report on screen speaks for it now (the same
        verdicts, weighed for that app; no new check)."""
        self.settings.setValue(CLIENT_KEY, client)
        report = self.report
        if report is None or not self._ready or self.runner.running:
            return
        from core.causes import for_client

        self._show_report(for_client(report, client or None))

    # -- checking

    def focus_host(self) -> None:
        self.form.host.setFocus()
        self.form.host.selectAll()

    def check_when_built(self) -> None:
        """Check what the form holds (the command line filled it in) once the window is built,
        but start the engine as soon as the runner exists, before the panes are made: the
        check then runs while they are built, and what it reports waits in the event queue
        until they are. A form the engine refuses is shown as usual, once the window is built."""
        self._check_at_start = True
        self.when_ready(self.start_check)

    def _start_early(self) -> None:
        from core.request import RequestError
        from gui.request import build_request

        self._check_at_start = False
        try:
            self._early = build_request(self.form.state())
        except RequestError:
            return  # start_check builds it again and shows why
        self.runner.start(self._early)

    def start_check(self, *, again: bool = False) -> bool:
        """Start a check from the form; False if it could not start (the form says why)."""
        from core.request import RequestError
        from core.untrusted import visible
        from gui.request import build_request, form_words

        self.ensure_ready()
        early, self._early = self._early, None
        if self.runner.running and early is None:
            return False
        self.form.clear_errors()
        try:
            request: Request = early or build_request(self.form.state())
        except RequestError as exc:
            self.form.show_error(exc.field, form_words(exc))
            return False
        previous = self.report if again else None
        self._check_again_from = previous
        if not again:
            self.fixit.clear_changes()
        same_target = self._last_target == request.target and self.inspected is None
        if not same_target:
            self._show_report(None)
            for pane in (
                self.summary,
                self.fixit,
                self.handshake,
                self.certificates,
                self.protocols,
                self.clock,
            ):
                pane.show_waiting("Checking… the results appear here when the check ends.")
        self._last_target = request.target
        self._request = request
        self.inspected = None
        self._remember(self.form.host.text())
        self.settings.setValue(CLIENT_KEY, self.form.client())
        self.stage_model.reset()
        self.banner.show_running(request.target.display())
        self.setWindowTitle(f"{visible(request.target.display(), limit=80)} — {APP_NAME}")
        self.show_status("Checking…")
        if early is None:
            self.runner.start(request)
        return True

    def check_again(self) -> None:
        self.ensure_ready()
        if self.runner.running:
            return
        if (
            self.form.host.text().strip()
            and self.start_check(again=True)
            and self._check_again_from
        ):
            self.tabs.setCurrentWidget(self.fixit)

    def cancel_check(self) -> None:
        if self._ready and self.runner.running:
            self.runner.cancel()
            self.form.button.setEnabled(False)
            self.show_status("Cancelling…")

    def _on_running(self, running: bool) -> None:
        self.form.set_running(running)
        self.form.button.setEnabled(True)
        if running:
            self.ticker.start()
        else:
            self.ticker.stop()
        self._update_actions()

    def _fit_stages(self) -> None:
        """The step list exactly as tall as its visible rows: it never scrolls."""
        rows = range(self.stage_model.rowCount())
        height = sum(self.stages.rowHeight(r) for r in rows if not self.stages.isRowHidden(r))
        header = self.stages.horizontalHeader()
        self.stages.setFixedHeight(
            height + header.sizeHint().height() + 2 * self.stages.frameWidth() + 2
        )

    def _sync_stage_rows(self, *_args: object) -> None:
        from core.models import StageStatus
        from gui.stage_model import OPTIONAL_STAGES, STAGE_ORDER

        changed = False
        for stage in sorted(OPTIONAL_STAGES):
            row = STAGE_ORDER.index(stage)
            hidden = self.stage_model.status(stage) is StageStatus.PENDING
            if self.stages.isRowHidden(row) != hidden:
                self.stages.setRowHidden(row, hidden)
                if not hidden:
                    self.stages.resizeRowToContents(row)
                changed = True
        if changed:
            self._fit_stages()

    def _on_progress(self, event: StageEvent) -> None:
        self.stage_model.apply(event)

    def _on_report(self, report: CheckReport) -> None:
        from core.render.stages import format_ms
        from core.untrusted import visible

        self.stage_model.set_results(report.stages)
        before = self._check_again_from
        self._show_report(report)
        if before is not None:
            self.fixit.show_changes(before.findings, report.findings)
        self._check_again_from = None
        self.show_status(
            f"Checked {visible(report.target.display(), limit=80)}"
            f" in {format_ms(report.duration_ms)}."
        )
        self.reportShown.emit(report)
        self.checkEnded.emit("report")

    def _on_cancelled(self) -> None:
        from core.models import StageOutcome

        self.stage_model.stop_running(StageOutcome.CANCELLED)
        target = self._last_target.display() if self._last_target else ""
        self.banner.show_cancelled(target)
        self.show_status("Cancelled.")
        self.checkEnded.emit("cancelled")

    def _on_invalid(self, field: str, message: str) -> None:
        self.stage_model.reset()
        self.banner.show_idle()
        if self.report is None:
            self._show_report(None)  # the panes said "Checking…"; nothing was checked
        self.form.show_error(field, message)
        self.show_status("The check could not start.")
        self.checkEnded.emit("invalid")

    def _on_failed(self, text: str) -> None:
        from core.models import StageOutcome

        self.stage_model.stop_running(StageOutcome.NOT_FINISHED)
        first, _, rest = text.partition("\n\n")
        self.banner.show_problem(
            first, "Please report this; the details are in the terminal output."
        )
        if rest:
            sys.stderr.write(rest + "\n")
        self.show_status("The check stopped because of an error in this app.")
        self.checkEnded.emit("failed")

    def _show_report(self, report: CheckReport | None) -> None:
        self.report = report
        self.inspected = None
        self.summary.set_report(report)
        self.fixit.set_report(report)
        self.handshake.set_report(report)
        self.certificates.set_report(report)
        self.protocols.set_report(report)
        self.clock.set_report(report)
        if report is not None:
            self.banner.show_report(report, self.catalogue)
        self._after_shown()

    def _show_inspected(self, file: InspectedFile) -> None:
        """A certificate file in the panes: its chain and findings where they apply, and the
        panes of the network steps saying that none ran (not a report with empty parts)."""
        self.report = None
        self.inspected = file
        result = file.result
        self.stage_model.show_offline()
        self.summary.set_findings(result.findings)
        self.fixit.set_findings(result.findings)
        self.certificates.show_inspected(result)
        for pane in (self.handshake, self.protocols, self.clock):
            pane.show_offline()
        self.banner.show_inspected(result, file.name, self.catalogue)
        self._after_shown()

    def _after_shown(self) -> None:
        fixes = len(self.fixit.fixes())
        self.tabs.setTabText(1, f"Fix it ({fixes})" if fixes else "Fix it")
        self._update_actions()

    # -- many hosts

    def open_batch_dialog(self) -> BatchDialog:
        """The "Check several…" dialog (one per window, kept while the window lives); the
        form's Options apply to every line of its list."""
        from gui.batch_dialog import BatchDialog

        self.ensure_ready()
        if self._batch is None:
            self._batch = BatchDialog(self.form.state, self)
            self._batch.reportChosen.connect(self.show_report_from_list)
        if self._batch.isVisible():
            self._batch.raise_()
            self._batch.activateWindow()
        else:
            self._batch.show()
        return self._batch

    def show_report_from_list(self, report: CheckReport) -> None:
        """A row of the list, in the main panes, as if it had been checked here."""
        from core.untrusted import visible

        if self.runner.running:
            self.show_status("A check is running here: cancel it to show the list's result.")
            return
        self.stage_model.reset()
        self.stage_model.set_results(report.stages)
        self._check_again_from = None
        self._fill_target(report.target)
        self._show_report(report)
        self.setWindowTitle(f"{visible(report.target.display(), limit=80)} — {APP_NAME}")
        self.show_status(f"Showing {visible(report.target.display(), limit=80)} from the list.")
        self.reportShown.emit(report)

    def _fill_target(self, target: Target) -> None:
        """The form names ``target`` (address, port, connect address), so that "Check again"
        checks the server on show, not what was typed before; the other Options stay."""
        from gui.request import target_fields

        fields = target_fields(target)
        self.form.clear_errors()
        self.form.host.setText(fields.host)
        self.form.port.setValue(0)  # "from the address": the address field names the port
        self.form.connect_to.setText(fields.connect)
        if fields.connect:
            self.form.show_options(True)  # where it connects is part of what is checked
        self._last_target = target

    # -- file menu

    def open_certificate_dialog(self) -> None:
        from PySide6.QtWidgets import QFileDialog

        path, _ = QFileDialog.getOpenFileName(
            self,
            "Open certificate file",
            "",
            "Certificates (*.pem *.crt *.cer *.der *.p7b *.p7c *.p12 *.pfx);;All files (*)",
        )
        if path:
            self.open_certificate_file(Path(path))

    def open_certificate_file(self, path: Path, password: bytes | None = None) -> None:
        """Validate a chain from a file, offline, in the background."""
        from PySide6.QtCore import Qt

        from core.certs import CertificateFileError
        from core.inspect import InspectReport
        from core.request import RequestError
        from core.untrusted import visible
        from gui.request import build_request

        self.ensure_ready()
        if self.runner.running:
            self.show_status("Wait for the check to finish, or cancel it, first.")
            return
        host: str | None = None
        try:
            host = (
                build_request(self.form.state()).target.host_ascii
                if self.form.host.text().strip()
                else None
            )
        except RequestError:
            host = None
        self.show_status(f"Reading {path.name}…")
        from gui.tasks import BackgroundTask

        task = BackgroundTask(lambda: inspect_file(path, host, password))
        self._tasks.add(task)

        def done(result: object) -> None:
            self._tasks.discard(task)
            if isinstance(result, InspectReport):
                self._file_checked(InspectedFile(path.name, result))

        def error(exc: Exception) -> None:
            self._tasks.discard(task)
            message = str(exc) or type(exc).__name__
            needs_password = (
                isinstance(exc, CertificateFileError)
                and exc.kind == CertificateFileError.NEEDS_PASSWORD
            )
            if needs_password and password is None:
                from PySide6.QtWidgets import QInputDialog, QLineEdit

                secret, ok = QInputDialog.getText(
                    self, "Password", f"Password for {path.name}:", QLineEdit.EchoMode.Password
                )
                if ok:
                    self.open_certificate_file(path, secret.encode())
                    return
            self.banner.show_problem(visible(message, limit=400))
            self.show_status("The file could not be read.")

        # Queued: the task emits from a pool thread; the handlers touch widgets, so they run on
        # the GUI thread, where the signals object lives.
        task.signals.done.connect(done, Qt.ConnectionType.QueuedConnection)
        task.signals.error.connect(error, Qt.ConnectionType.QueuedConnection)
        QThreadPool.globalInstance().start(task)

    def _file_checked(self, file: InspectedFile) -> None:
        from core.untrusted import visible

        self._check_again_from = None
        self._show_inspected(file)
        self.tabs.setCurrentWidget(self.certificates)
        self.setWindowTitle(f"{visible(file.name, limit=80)} — {APP_NAME}")
        self.show_status(f"Checked {visible(file.name, limit=120)} offline.")
        self.fileShown.emit(file.result)

    def export_dialog(self) -> None:
        if self.report is None:
            return
        name = "".join(
            ch if ch.isalnum() or ch in "-_." else "_" for ch in self.report.target.host
        )[:60]
        from PySide6.QtWidgets import QDialog

        from gui.export_dialog import ExportDialog

        dialog = ExportDialog(str(Path.home() / f"handshake-doctor-{name or 'report'}.pdf"), self)
        if dialog.exec() == QDialog.DialogCode.Accepted and dialog.path.text().strip():
            self.export_to(Path(dialog.path.text().strip()), redact=dialog.redact.isChecked())

    @property
    def exporting(self) -> bool:
        """A PDF report is being written in the background."""
        return self._pdf.running

    def export_to(self, path: Path, *, redact: bool) -> bool:
        """Start writing the PDF report of the check on show, in the background: the status
        line shows that it runs, with a button to cancel it, and then how it ended
        (``exportEnded``). False when there is no report or a PDF is being written already."""
        if self.report is None or self._pdf.running:
            return False
        from gui import pdf
        from gui.pdf_worker import PdfWorker

        report = self.report
        worker = PdfWorker(
            lambda progress: pdf.export_report(report, path, redact=redact, progress=progress),
            failure="Could not export the report",
            saved=lambda _pages: f"Saved the report to {path}.",
        )
        worker.ended.connect(self._on_export_ended)
        self._export_cancel.setEnabled(True)
        self._export_cancel.show()
        # No timeout: the line stays until the export ends (a long report takes seconds).
        self.statusBar().showMessage("Writing the PDF report…")
        self._pdf.start(worker)
        self._update_actions()
        return True

    def cancel_export(self) -> None:
        if self._pdf.cancel():
            self._export_cancel.setEnabled(False)
            self.statusBar().showMessage("Cancelling the PDF…")

    def _on_export_ended(self, text: str, written: bool) -> None:
        if not self._pdf.ended(self.sender()):
            return
        self._export_cancel.hide()
        self._update_actions()
        self.show_status(text)
        self.exportEnded.emit(written)

    def copy_summary(self) -> None:
        """A check's short ticket summary; for a certificate file, ``inspect``'s own text (the
        verdict, the chain and the findings), as the command line prints it."""
        from core.render.summary import ticket_summary

        if self.inspected is not None:
            from core.render.text import render_inspect_text
            from core.untrusted import visible

            file = self.inspected
            text = render_inspect_text(file.result, file.name, self.catalogue)
            QGuiApplication.clipboard().setText(text)
            self.show_status(f"Copied what was found in {visible(file.name, limit=120)}.")
            return
        if self.report is None:
            return
        QGuiApplication.clipboard().setText(ticket_summary(self.report))
        self.show_status("Copied a short summary for a support ticket.")

    # -- help

    def show_help(self) -> None:
        from gui.help import show_help

        show_help(self)

    def show_about(self) -> None:
        self.about_box().exec()

    def about_box(self) -> QMessageBox:
        from PySide6.QtCore import Qt
        from PySide6.QtWidgets import QMessageBox

        from gui.about import versions_text

        box = QMessageBox(self)
        box.setWindowTitle("About Handshake Doctor")
        box.setIconPixmap(app_icon().pixmap(64, 64))
        box.setTextFormat(Qt.TextFormat.PlainText)
        box.setText(
            "Handshake Doctor finds out why a secure (TLS) connection fails, and how to fix it."
        )
        box.setInformativeText(versions_text())
        return box

    def show_status(self, text: str) -> None:
        self.statusBar().showMessage(text, 8000)

    # -- light and dark

    def changeEvent(self, event: QEvent) -> None:
        super().changeEvent(event)
        if not self._ready:
            return  # nothing with its own colours exists before the rest is built
        from PySide6.QtCore import QEvent

        if event.type() in (QEvent.Type.PaletteChange, QEvent.Type.ApplicationPaletteChange):
            self.follow_palette()

    def follow_palette(self) -> None:
        """Recolour what carries its own colours (style sheets, severity tones) after the
        system switched between light and dark; everything else follows the palette itself."""
        from PySide6.QtWidgets import QAbstractItemView

        from gui.widgets import Badge

        self.banner.restyle()
        for badge in self.findChildren(Badge):
            badge.restyle()
        self.form.follow_palette()
        if self.inspected is not None:
            self.clock.show_offline()
        else:
            self.clock.set_report(self.report)
        for view in self.findChildren(QAbstractItemView):
            view.viewport().update()

    # -- drag and drop

    def dragEnterEvent(self, event: QDragEnterEvent) -> None:
        urls = event.mimeData().urls() if event.mimeData().hasUrls() else []
        running = self._ready and self.runner.running
        if len(urls) == 1 and urls[0].isLocalFile() and not running:
            event.acceptProposedAction()
        else:
            event.ignore()

    def dropEvent(self, event: QDropEvent) -> None:
        urls = event.mimeData().urls()
        if urls and urls[0].isLocalFile():
            event.acceptProposedAction()
            self.open_certificate_file(Path(urls[0].toLocalFile()))

    # -- closing

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing during a check cancels it and waits a little for the worker (the engine
        honours a cancel within about 0.1 s); a step that does not (a slow fetch) is let go
        rather than keep the window frozen."""
        self.settings.setValue(GEOMETRY_KEY, self.saveGeometry())
        self.settings.sync()
        if self._batch is not None:
            self._batch.close()  # cancels its checks, waiting a little as below
        self._pdf.stop(2.0)
        if self._ready:
            self.runner.shutdown(2000)
        QThreadPool.globalInstance().waitForDone(5000)
        event.accept()
