"""Making strangers' text safe for each place it is shown.

Certificate fields and server replies are data. In a terminal an ESC could recolour or rewrite
the screen; in HTML or Qt rich text a ``<b>`` would be markup; a right-to-left override can make
``moc.elgoog`` read as ``google.com``. Each target gets its own escape, applied at the last step.
"""

from __future__ import annotations

import html

#: Bidirectional controls that reorder what follows them (Trojan Source, CVE-2021-42574).
BIDI_CONTROLS = frozenset(
    "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069\u200e\u200f\u061c"
)
MAX_SHOWN = 2000


def visible(text: str, *, limit: int = MAX_SHOWN) -> str:
    """Control and bidi characters as visible escapes; very long text cut with a marker."""
    out: list[str] = []
    for ch in text[:limit]:
        code = ord(ch)
        if ch in BIDI_CONTROLS or code < 32 or 0x7F <= code < 0xA0:
            out.append(f"\\u{code:04x}" if code > 0xFF else f"\\x{code:02x}")
        else:
            out.append(ch)
    if len(text) > limit:
        out.append(f"… ({len(text) - limit} more characters)")
    return "".join(out)


def for_terminal(text: str, *, limit: int = MAX_SHOWN) -> str:
    return visible(text, limit=limit)


def for_html(text: str, *, limit: int = MAX_SHOWN) -> str:
    """For HTML and Qt rich text: visible controls, then every markup character escaped."""
    return html.escape(visible(text, limit=limit), quote=True)
