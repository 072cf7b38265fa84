"""Print a CheckReport to PDF: the HTML from ``core.render.report_html`` laid out by
QTextDocument, drawn page by page with QPainter so that every page gets a header naming the
target and a footer with the page number (QTextDocument.print_ has no running header).

Pagination: the document is laid out in the printer's own device units (the layout's paint
device is the printer, as QTextDocument.print_ does for itself), so fonts, table padding and the
image come out at their real size. Qt moves whole table rows to the next page; on top of that,
each section (``<h2>``) and each item in it (``<h3>``: a finding, a fix, a certificate) starts on
a new page when it would otherwise be split but fits on one page, and a heading never sits alone
at the foot of a page.

Needs a QGuiApplication (offscreen is fine).
"""

from __future__ import annotations

import math
import os
import tempfile
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from PySide6.QtCore import QLocale, QMarginsF, QRectF, QSizeF, Qt, QUrl, qVersion
from PySide6.QtGui import (
    QColor,
    QFont,
    QFontMetricsF,
    QGuiApplication,
    QImage,
    QPageLayout,
    QPageSize,
    QPainter,
    QPen,
    QTextBlock,
    QTextCursor,
    QTextDocument,
    QTextFormat,
    QTextFrame,
    QTextOption,
    QTextTable,
)
from PySide6.QtPrintSupport import QPrinter

from core.environment import Environment, collect_environment
from core.models import CheckReport
from core.redact import redact_report
from core.render.report_html import LADDER_URL, ImageSlot, ReportDocument, build_report_html

__all__ = [
    "ExportError",
    "export_report",
    "export_reports",
    "page_size_for_locale",
    "render_document",
    "render_documents",
]

#: Territories that use US Letter paper; the rest of the world uses A4.
_LETTER = frozenset(
    {
        QLocale.Country.UnitedStates,
        QLocale.Country.Canada,
        QLocale.Country.Mexico,
        QLocale.Country.Chile,
        QLocale.Country.Colombia,
        QLocale.Country.CostaRica,
        QLocale.Country.Guatemala,
        QLocale.Country.Philippines,
        QLocale.Country.Venezuela,
        QLocale.Country.DominicanRepublic,
        QLocale.Country.ElSalvador,
        QLocale.Country.Nicaragua,
        QLocale.Country.Panama,
        QLocale.Country.PuertoRico,
        QLocale.Country.Belize,
        QLocale.Country.Honduras,
    }
)

_MARGINS_MM = QMarginsF(16, 12, 16, 12)
_HEADER_MM = 11.0  # the running header and the gap below it
_FOOTER_MM = 8.0
_MM_PER_INCH = 25.4
_CSS_DPI = 96.0
#: A section longer than a page still starts on a new page when less than this share is left.
_MIN_START_SHARE = 0.22
_FONT_FAMILIES = ["DejaVu Sans", "Segoe UI", "Helvetica Neue", "Arial", "Noto Sans", "sans-serif"]
_BODY_PT = 9.5
_HEADER_PT = 7.5
_MUTED = QColor("#5f6368")
_RULE = QColor("#c8ccd0")


class ExportError(OSError):
    """The PDF could not be written (a folder that does not exist, no permission, ...)."""


class ExportCancelled(ExportError):
    """The person stopped a long export; nothing was written."""


#: ``progress(done, total)``: False stops the export.
Progress = Callable[[int, int], bool]


def page_size_for_locale(locale: QLocale | None = None) -> QPageSize.PageSizeId:
    """US Letter where it is the custom (the Americas' Letter countries, the Philippines); A4
    everywhere else, including the "C" locale."""
    territory = (locale or QLocale()).territory()
    return QPageSize.PageSizeId.Letter if territory in _LETTER else QPageSize.PageSizeId.A4


def _require_app() -> None:
    if QGuiApplication.instance() is None:
        raise RuntimeError("export_report needs a QGuiApplication (offscreen is fine)")


def _ladder_image(report: CheckReport, width_css: int) -> QImage | None:
    """The window's handshake picture (drawn with Qt itself), when a handshake took place."""
    from gui.ladder import render_ladder_image

    if report.handshake is None:
        return None
    image = render_ladder_image(report, width_css, device_pixel_ratio=3.0)
    return None if image.isNull() else image


def _document_font() -> QFont:
    font = QFont()
    font.setFamilies(_FONT_FAMILIES)
    font.setPointSizeF(_BODY_PT)
    # No "fi"/"fl" ligatures: text copied or searched in the PDF must read "certificate".
    font.setFeature(QFont.Tag.fromString("liga"), 0)
    return font


def _headings(doc: QTextDocument) -> list[tuple[QTextBlock, int]]:
    found = []
    block = doc.begin()
    while block.isValid():
        level = block.blockFormat().headingLevel()
        if level in (2, 3, 4):
            found.append((block, level))
        block = block.next()
    return found


def _break_before(block: QTextBlock) -> None:
    cursor = QTextCursor(block)
    fmt = block.blockFormat()
    fmt.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
    cursor.setBlockFormat(fmt)


def _relayout(doc: QTextDocument) -> None:
    """Lay the whole document out again now. QTextDocumentLayout relays out lazily, and after a
    block format changes it can leave later blocks unlaid until an event loop runs (they would
    then print as blank space): a full pass is cheap (about 10 ms for a long report)."""
    doc.markContentsDirty(0, doc.characterCount())
    doc.documentLayout().documentSize()


def _has_break(block: QTextBlock) -> bool:
    policy = block.blockFormat().pageBreakPolicy()
    return bool(policy & QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)


def _plan_breaks(doc: QTextDocument, page_height: float) -> bool:
    """One pass over the sections in order; True when it added a page break. Positions are
    those of the current layout, moved by the breaks this pass has already added (a close
    estimate: the next pass, on a fresh layout, corrects what it misses)."""
    layout = doc.documentLayout()
    units = _headings(doc)
    tops = [layout.blockBoundingRect(block).top() for block, _ in units]
    # A unit ends where the block before the next heading ends (a forced break may follow it).
    ends = [layout.blockBoundingRect(block.previous()).bottom() for block, _ in units[1:]]
    ends.append(layout.documentSize().height())
    shift = 0.0
    added = False
    for i, (block, level) in enumerate(units):
        if _has_break(block):
            shift = 0.0  # a forced break starts a page whatever came before
            continue
        last = i
        if i + 1 < len(units) and units[i + 1][1] > level and not _has_break(units[i + 1][0]):
            last = i + 1  # a heading stays with the first item under it
        top = tops[i] + shift
        page_top = math.floor(top / page_height) * page_height
        if top - page_top < page_height * 0.04:
            continue  # already at (or within a margin of) the top of a page
        remaining = page_top + page_height - top
        # The widest extent that fits on one page decides: the heading with its first item,
        # else the heading's own part. Longer than a page: move it only from a page's foot.
        fits = [ends[j] + shift - top for j in (last, i) if ends[j] + shift - top <= page_height]
        move = fits[0] > remaining if fits else remaining < page_height * _MIN_START_SHARE
        if move:
            _break_before(block)
            shift += remaining
            added = True
    return added


def _tables(frame: QTextFrame) -> Iterator[QTextTable]:
    for child in frame.childFrames():
        if isinstance(child, QTextTable):
            yield child
        yield from _tables(child)


def _css_scale() -> float:
    """Device units per CSS pixel of block margins: Qt scales margins from the screen's logical
    DPI (96 offscreen) to the layout's paint device."""
    screen = QGuiApplication.primaryScreen()
    dpi = screen.logicalDotsPerInchY() if screen is not None else _CSS_DPI
    return dpi or _CSS_DPI


def _keep_rows(doc: QTextDocument, page_height: float, device_dpi: float) -> bool:
    """Qt breaks a table row's cells line by line across pages. Where a row (shorter than a
    page) would be cut, grow the row before it down to the page's foot: Qt then starts the row
    on the next page, under the repeated header. A cut first row moves the whole table. One
    row per table per pass: the next pass sees the new layout. True when it changed anything."""
    layout = doc.documentLayout()
    to_css = _css_scale() / device_dpi
    changed = False
    for table in _tables(doc.rootFrame()):
        header = table.format().headerRowCount()
        for row in range(header, table.rows()):
            cells = [table.cellAt(row, column) for column in range(table.columns())]
            top = min(
                layout.blockBoundingRect(c.firstCursorPosition().block()).top() for c in cells
            )
            bottom = max(
                layout.blockBoundingRect(c.lastCursorPosition().block()).bottom() for c in cells
            )
            boundary = (math.floor(top / page_height) + 1) * page_height
            if bottom <= boundary or bottom - top > page_height * 0.8:
                continue  # on one page, or too tall for any page
            if row == header:
                table_format = table.format()
                if (
                    table_format.pageBreakPolicy()
                    & QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore
                ):
                    continue
                table_format.setPageBreakPolicy(QTextFormat.PageBreakFlag.PageBreak_AlwaysBefore)
                table.setFormat(table_format)
            else:
                # The cell's bottom padding (a last block's margin does not count in a cell).
                need = (boundary - top) * to_css + 2.0
                padding = table.format().cellPadding()
                for column in range(table.columns()):
                    cell = table.cellAt(row - 1, column)
                    cell_format = cell.format().toTableCellFormat()
                    current = (
                        cell_format.bottomPadding()
                        if cell_format.hasProperty(QTextFormat.Property.TableCellBottomPadding)
                        else padding
                    )
                    cell_format.setBottomPadding(current + need)
                    cell.setFormat(cell_format)
            changed = True
            break
    return changed


def _keep_together(doc: QTextDocument, page_height: float, device_dpi: float) -> None:
    """Start a section or item on a new page when it would be split but fits on one page, or
    when it would start in the last fifth of a page; then keep table rows whole."""
    for _ in range(12):
        _relayout(doc)
        if _plan_breaks(doc, page_height):
            continue
        if not _keep_rows(doc, page_height, device_dpi):
            return
    _relayout(doc)


def _draw_chrome(
    painter: QPainter,
    width: float,
    height: float,
    header_h: float,
    footer_h: float,
    doc_text: ReportDocument,
    page: int,
    pages: int,
    redacted: bool,
) -> None:
    font = QFont()
    font.setFamilies(_FONT_FAMILIES)
    font.setPointSizeF(_HEADER_PT)
    painter.setFont(font)
    metrics = QFontMetricsF(font, painter.device())
    line_h = metrics.height()
    painter.setPen(_MUTED)
    right = doc_text.header_right
    right_w = metrics.horizontalAdvance(right)
    left = metrics.elidedText(
        doc_text.header_left, Qt.TextElideMode.ElideMiddle, width - right_w - line_h * 2
    )
    # drawText with a plain string never reads markup.
    painter.drawText(QRectF(0, 0, width, line_h), Qt.AlignmentFlag.AlignLeft, left)
    painter.drawText(QRectF(0, 0, width, line_h), Qt.AlignmentFlag.AlignRight, right)
    rule_y = line_h * 1.35
    painter.setPen(QPen(_RULE, max(1.0, line_h / 14)))
    painter.drawLine(0, int(rule_y), int(width), int(rule_y))
    painter.setPen(_MUTED)
    footer = QRectF(0, height - footer_h + (footer_h - line_h), width, line_h)
    painter.drawText(footer, Qt.AlignmentFlag.AlignRight, f"Page {page} of {pages}")
    if redacted:
        painter.drawText(footer, Qt.AlignmentFlag.AlignLeft, "Redacted copy")
    del header_h


def render_document(
    report: CheckReport,
    path: Path,
    *,
    redacted: bool = False,
    environment: Environment | None = None,
    page_size: QPageSize.PageSizeId | None = None,
    progress: Progress | None = None,
) -> int:
    """Lay out and print ``report`` as it is (redact it first if wanted). Returns pages written;
    ``progress`` as for ``render_documents``.

    Qt prints into a private temporary file and says nothing when the disk is full; the bytes
    are then written to ``path`` by Python, whose errors are real, so a report that was not
    written is never announced as written.
    """
    return render_documents(
        [report],
        path,
        redacted=redacted,
        environment=environment,
        page_size=page_size,
        progress=progress,
    )


def render_documents(
    reports: Sequence[CheckReport],
    path: Path,
    *,
    cover: ReportDocument | None = None,
    redacted: bool = False,
    environment: Environment | None = None,
    page_size: QPageSize.PageSizeId | None = None,
    progress: Progress | None = None,
) -> int:
    """Several reports in one PDF: the ``cover`` first (the many-hosts table), then each report
    from a new page, with its own running header and the page numbers counted over the whole
    file. Returns the pages written; written as ``render_document`` writes one.

    ``progress(done, total)`` is called as each report is laid out; when it returns False the
    export stops (ExportCancelled) and ``path`` is left as it was. Needs no GUI thread: Qt lays
    out and paints text on a QPrinter from any thread."""
    with tempfile.TemporaryDirectory(prefix="hd-pdf-") as scratch:
        printed = Path(scratch) / "report.pdf"
        pages = _print(reports, cover, printed, path, redacted, environment, page_size, progress)
        try:
            data = printed.read_bytes()
        except OSError as exc:
            raise ExportError(f"cannot write {path}: {_why(exc)}") from None
    if not data.startswith(b"%PDF-"):
        raise ExportError(f"cannot write {path}: the PDF could not be produced")
    _write_exactly(path, data)
    return pages


def _why(exc: OSError) -> str:
    return os.strerror(exc.errno).lower() if exc.errno else str(exc)


def _write_exactly(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` and check that all of it was taken: a full disk shows at the
    write or at the close, both inside the ``with``."""
    try:
        with open(path, "wb") as out:
            written = out.write(data)
    except OSError as exc:
        raise ExportError(f"cannot write {path}: {_why(exc)}") from None
    if written != len(data) or (path.is_file() and path.stat().st_size != len(data)):
        raise ExportError(f"cannot write {path}: only part of the report was written")


@dataclass(frozen=True)
class _Page:
    """The printable area of the printer's page, in its device pixels."""

    dpi: float
    width: float
    height: float
    header_h: float
    footer_h: float

    @property
    def body_h(self) -> float:
        return self.height - self.header_h - self.footer_h

    @property
    def width_css(self) -> int:
        return int(self.width * _CSS_DPI / self.dpi)


def _printer(printed: Path, page_size: QPageSize.PageSizeId | None) -> tuple[QPrinter, _Page]:
    printer = QPrinter(QPrinter.PrinterMode.HighResolution)
    printer.setOutputFormat(QPrinter.OutputFormat.PdfFormat)
    printer.setOutputFileName(str(printed))
    printer.setPageLayout(
        QPageLayout(
            QPageSize(page_size or page_size_for_locale()),
            QPageLayout.Orientation.Portrait,
            _MARGINS_MM,
            QPageLayout.Unit.Millimeter,
        )
    )
    printer.setCreator("Handshake Doctor")
    dpi = float(printer.resolution())
    paint = printer.pageRect(QPrinter.Unit.DevicePixel)
    page = _Page(
        dpi,
        paint.width(),
        paint.height(),
        _HEADER_MM / _MM_PER_INCH * dpi,
        _FOOTER_MM / _MM_PER_INCH * dpi,
    )
    return printer, page


def _laid_out(printer: QPrinter, page: _Page) -> QTextDocument:
    doc = QTextDocument()
    # Lay out in the printer's units: fonts, paddings and images at their printed size.
    doc.documentLayout().setPaintDevice(printer)
    doc.setDocumentMargin(0)
    doc.setDefaultFont(_document_font())
    option = QTextOption()
    option.setWrapMode(QTextOption.WrapMode.WrapAtWordBoundaryOrAnywhere)
    doc.setDefaultTextOption(option)
    doc.setPageSize(QSizeF(page.width, page.body_h))
    return doc


def _report_document(
    report: CheckReport,
    printer: QPrinter,
    page: _Page,
    redacted: bool,
    env: Environment,
) -> tuple[QTextDocument, ReportDocument]:
    doc = _laid_out(printer, page)
    ladder = _ladder_image(report, page.width_css)
    slot = None
    if ladder is not None:
        ratio = ladder.devicePixelRatio() or 1.0
        slot = ImageSlot(LADDER_URL, int(ladder.width() / ratio), int(ladder.height() / ratio))
        doc.addResource(QTextDocument.ResourceType.ImageResource, QUrl(LADDER_URL), ladder)
    built = build_report_html(report, environment=env, ladder=slot, redacted=redacted)
    doc.setHtml(built.html)
    _keep_together(doc, page.body_h, page.dpi)
    return doc, built


def _print(
    reports: Sequence[CheckReport],
    cover: ReportDocument | None,
    printed: Path,
    path: Path,
    redacted: bool,
    environment: Environment | None,
    page_size: QPageSize.PageSizeId | None,
    progress: Progress | None = None,
) -> int:
    _require_app()
    printer, page = _printer(printed, page_size)
    env = environment or collect_environment(qt_version=qVersion())
    parts: list[tuple[QTextDocument, ReportDocument]] = []
    if cover is not None:
        doc = _laid_out(printer, page)
        doc.setHtml(cover.html)
        _keep_together(doc, page.body_h, page.dpi)
        parts.append((doc, cover))
    for done, report in enumerate(reports, start=1):
        parts.append(_report_document(report, printer, page, redacted, env))
        if progress is not None and not progress(done, len(reports)):
            raise ExportCancelled("the export was cancelled")
    printer.setDocName(parts[0][1].title if len(parts) == 1 else (cover or parts[0][1]).title)
    counts = [max(1, doc.pageCount()) for doc, _ in parts]
    pages = sum(counts)

    painter = QPainter()
    if not painter.begin(printer):
        raise ExportError(f"cannot write {path}")
    number = 0
    try:
        for (doc, built), count in zip(parts, counts, strict=True):
            for index in range(count):
                if number:
                    printer.newPage()
                number += 1
                _draw_chrome(
                    painter,
                    page.width,
                    page.height,
                    page.header_h,
                    page.footer_h,
                    built,
                    number,
                    pages,
                    redacted,
                )
                painter.save()
                painter.translate(0, page.header_h - index * page.body_h)
                doc.drawContents(painter, QRectF(0, index * page.body_h, page.width, page.body_h))
                painter.restore()
    finally:
        painter.end()
    if printer.printerState() == QPrinter.PrinterState.Error:
        raise ExportError(f"cannot write {path}")
    return pages


def export_reports(
    reports: Sequence[CheckReport],
    path: Path,
    *,
    redact: bool = False,
    progress: Progress | None = None,
) -> int:
    """Several reports (the many-hosts dialog's selection) in one PDF: a first page with their
    table (from the redacted reports when ``redact``), then each report from a new page."""
    from core.batch import report_row
    from core.render.table import cover_document

    if not reports:
        raise ValueError("no reports to export")
    if redact:
        reports = [redact_report(r)[0] for r in reports]
    rows = [report_row(r, number) for number, r in enumerate(reports, start=1)]
    cover = cover_document(rows, min(r.started_at for r in reports))
    return render_documents(reports, Path(path), cover=cover, redacted=redact, progress=progress)


def export_report(
    report: CheckReport, path: Path, *, redact: bool = False, progress: Progress | None = None
) -> int:
    """Write the PDF report for ``report`` to ``path``; A4 or Letter by locale. With ``redact``,
    internal host names and private addresses are replaced first. Returns the pages written.
    Raises ExportError when the file cannot be written (ExportCancelled when ``progress``
    returned False)."""
    if redact:
        report, _ = redact_report(report)
    return render_document(report, Path(path), redacted=redact, progress=progress)
