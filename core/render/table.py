"""The many-hosts table (core.batch.TableRow) as a terminal table, as CSV and as HTML.

Targets come from a file someone else may have written: the terminal gets visible escapes,
HTML gets escaped markup, and a CSV cell that a spreadsheet would run as a formula (``=``,
``+``, ``-``, ``@`` first) is quoted with a leading apostrophe, as OWASP advises.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Sequence
from typing import TYPE_CHECKING

from core.batch import TableRow
from core.untrusted import for_html, visible

if TYPE_CHECKING:  # the PDF's only: the command line's table does not load the HTML report
    from core.render.report_html import ReportDocument

HEADINGS = ("target", "verdict", "main cause", "days left")
CSV_HEADINGS = ("line", "target", "verdict", "cause_id", "cause", "days_left", "problem")
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _days(row: TableRow) -> str:
    return "" if row.days_left is None else str(row.days_left)


def _cause(row: TableRow) -> str:
    if row.cause_id is None:
        return row.problem or ""
    return f"{row.cause_id}: {row.cause_title}" if row.cause_title else row.cause_id


def render_table(rows: Sequence[TableRow], *, width: int = 100) -> str:
    """A plain-text table, the cause column cut to fit ``width`` characters."""
    cells = [
        (visible(r.target, limit=80), r.verdict, visible(_cause(r), limit=200), _days(r))
        for r in rows
    ]
    heads = tuple(h.upper() for h in HEADINGS)
    target_w = max([len(heads[0]), *(len(c[0]) for c in cells)])
    verdict_w = max([len(heads[1]), *(len(c[1]) for c in cells)])
    days_w = len(heads[3])
    widest = max([len(heads[2]), *(len(c[2]) for c in cells)])
    cause_w = min(widest, max(20, width - target_w - verdict_w - days_w - 6))
    lines = []
    for target, verdict, cause, days in [heads, *cells]:
        if len(cause) > cause_w:
            cause = cause[: cause_w - 1] + "…"
        line = f"{target:<{target_w}}  {verdict:<{verdict_w}}  {cause:<{cause_w}}  {days:>{days_w}}"
        lines.append(line.rstrip())
    return "\n".join(lines) + "\n"


def _cell(text: str) -> str:
    return "'" + text if text.startswith(_FORMULA_START) else text


def render_csv(rows: Sequence[TableRow]) -> str:
    """The table as CSV (RFC 4180, CRLF line ends), one row per line of the list."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(CSV_HEADINGS)
    for r in rows:
        writer.writerow(
            (
                r.line,
                _cell(r.target),
                r.verdict,
                r.cause_id or "",
                _cell(r.cause_title or ""),
                _days(r),
                _cell(r.problem),
            )
        )
    return out.getvalue()


def render_html(rows: Sequence[TableRow]) -> str:
    """The table as an HTML fragment (every cell escaped), for the PDF of several reports."""
    head = "".join(f"<th align='left'>{h.capitalize()}</th>" for h in HEADINGS)
    body = "".join(
        "<tr>"
        f"<td>{for_html(r.target, limit=120)}</td>"
        f"<td>{for_html(r.verdict)}</td>"
        f"<td>{for_html(_cause(r), limit=200)}</td>"
        f"<td align='right'>{for_html(_days(r))}</td>"
        "</tr>"
        for r in rows
    )
    return (
        "<table width='100%' cellspacing='0' cellpadding='4' border='1' "
        "style='border-collapse: collapse; border-color: #c8ccd0; border-style: solid;'>"
        f"<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"
    )


def cover_document(rows: Sequence[TableRow], checked_at: dt.datetime) -> ReportDocument:
    """The first page of a PDF of several reports: how many, and the table of them."""
    from core.render.report_html import ReportDocument

    count = f"{len(rows)} server" + ("s" if len(rows) != 1 else "")
    when = f"{checked_at.astimezone(dt.UTC):%Y-%m-%d %H:%M} UTC"
    title = f"Handshake Doctor: {count}"
    html = (
        f'<html><head><meta charset="utf-8"/><title>{for_html(title)}</title></head><body>'
        f"<h1>{for_html(title)}</h1>"
        f"<p>Checked {for_html(when)}. Each report follows, in this order, from a new page.</p>"
        f"{render_html(rows)}</body></html>"
    )
    return ReportDocument(
        title=title,
        header_left=f"Handshake Doctor · {count}",
        header_right=f"checked {when}",
        html=html,
    )
