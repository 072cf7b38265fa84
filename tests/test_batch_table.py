"""The many-hosts table's renderings keep a list's text as data: a terminal gets visible
escapes, a spreadsheet never runs a cell as a formula, HTML gets escaped markup."""

from __future__ import annotations

import csv
import io

from core.batch import TableRow
from core.render.table import render_csv, render_html, render_table

ROWS = [
    TableRow(1, "good.example:443", "ok", None, None, 89),
    TableRow(2, "shop.example:443", "error", "cert-expired", "The certificate has expired", -3),
    TableRow(3, '=HYPERLINK("x")', "bad line", None, None, None, "-1+1 \x1b[31mred"),
]


def test_terminal_table_is_aligned_and_escaped() -> None:
    lines = render_table(ROWS, width=80).splitlines()
    assert lines[0].split() == ["TARGET", "VERDICT", "MAIN", "CAUSE", "DAYS", "LEFT"]
    assert lines[2].endswith("-3") and "cert-expired: The certificate has expired" in lines[2]
    assert "\x1b" not in "".join(lines) and "\\x1b[31mred" in lines[3]
    assert all(len(line) <= 80 for line in lines)


def test_csv_quotes_formula_cells() -> None:
    rows = list(csv.DictReader(io.StringIO(render_csv(ROWS))))
    assert rows[1] == {
        "line": "2",
        "target": "shop.example:443",
        "verdict": "error",
        "cause_id": "cert-expired",
        "cause": "The certificate has expired",
        "days_left": "-3",
        "problem": "",
    }
    assert rows[2]["target"] == '\'=HYPERLINK("x")'
    assert rows[2]["problem"].startswith("'-1+1")


def test_html_escapes() -> None:
    html = render_html([TableRow(1, "<b>x</b>", "ok", None, None, None)])
    assert "<b>x</b>" not in html and "&lt;b&gt;x&lt;/b&gt;" in html
