"""The HTTP ``Date:`` header: the checked server's own clock, read from its response.

Both functions are total: whatever bytes a server (or something pretending to be one) sends, the
answer is a value or None, never an exception, because a clock reference is a nice-to-have and a
malformed header must not end the check. Inputs are bounded so a hostile response costs nothing.

RFC 9110 §5.6.7: senders use IMF-fixdate; recipients must also accept the obsolete RFC 850 and
asctime forms. We are a little more lenient still (case, runs of spaces, one-digit days, "UTC"),
because a slightly sloppy ``Date:`` still tells the time to the second.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

#: Longest header value worth parsing; the longest valid form is 29 characters of IMF-fixdate
#: (RFC 850 with a long weekday is 30); anything much longer is not a date.
MAX_VALUE_LENGTH = 64
#: How much of a response head we look at; servers put ``Date:`` near the top.
MAX_HEAD_BYTES = 16_384

_MONTHS = {
    name: number
    for number, name in enumerate(
        ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"),
        start=1,
    )
}
_DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
_LONG_DAYS = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

_TIME = r"(?P<H>\d{2}):(?P<M>\d{2}):(?P<S>\d{2})"
_ZONE = r"(?:GMT|UTC|UT|Z|[+-]0000)"
_FLAGS = re.ASCII | re.IGNORECASE  # ASCII: "\d" must not accept other scripts' digits

# Sun, 06 Nov 1994 08:49:37 GMT
_IMF_FIXDATE = re.compile(
    rf"(?P<wd>[a-z]{{3}}),\s*(?P<d>\d{{1,2}})\s+(?P<mon>[a-z]{{3}})\s+(?P<y>\d{{4}})\s+{_TIME}"
    rf"\s+{_ZONE}",
    _FLAGS,
)
# Sunday, 06-Nov-94 08:49:37 GMT
_RFC850 = re.compile(
    rf"(?P<wd>[a-z]{{3,9}}),\s*(?P<d>\d{{1,2}})-(?P<mon>[a-z]{{3}})-(?P<y>\d{{2}}|\d{{4}})"
    rf"\s+{_TIME}\s+{_ZONE}",
    _FLAGS,
)
# Sun Nov  6 08:49:37 1994
_ASCTIME = re.compile(
    rf"(?P<wd>[a-z]{{3}})\s+(?P<mon>[a-z]{{3}})\s+(?P<d>\d{{1,2}})\s+{_TIME}\s+(?P<y>\d{{4}})",
    _FLAGS,
)


def parse_http_date(value: str | bytes | None) -> datetime | None:
    """An aware UTC datetime for a ``Date:`` value in any of the three HTTP forms, else None.

    The weekday must be a real weekday name but need not agree with the date: the date is what
    matters for the clock, and a server that gets the weekday wrong still gets the second right.
    Two-digit RFC 850 years pivot at 70 (70–99 → 19xx, 00–69 → 20xx), a fixed rule rather than
    RFC 9110's "50 years from now", because "now" is exactly what this app does not trust.
    A leap second (":60") is read as ":59".
    """
    if isinstance(value, bytes | bytearray):
        value = bytes(value[: MAX_VALUE_LENGTH + 1]).decode("latin-1")
    if not isinstance(value, str) or len(value) > MAX_VALUE_LENGTH:
        return None
    text = value.strip()
    for pattern in (_IMF_FIXDATE, _RFC850, _ASCTIME):
        match = pattern.fullmatch(text)
        if match is not None:
            return _build(match)
    return None


def _build(match: re.Match[str]) -> datetime | None:
    weekday = match["wd"].lower()
    if weekday not in _DAYS and weekday not in _LONG_DAYS:
        return None
    month = _MONTHS.get(match["mon"].lower())
    if month is None:
        return None
    year = int(match["y"])
    if len(match["y"]) == 2:
        year += 1900 if year >= 70 else 2000
    second = int(match["S"])
    if second == 60:  # a leap second: datetime has no :60, and :59 is off by under a second
        second = 59
    try:
        return datetime(
            year, month, int(match["d"]), int(match["H"]), int(match["M"]), second, tzinfo=UTC
        )
    except ValueError:  # 31 Feb, hour 25, year 0000, …
        return None


def date_from_response(raw_head: bytes) -> str | None:
    """The ``Date:`` value from the start of a raw HTTP/1.x response, or None.

    Looks only at the first ``MAX_HEAD_BYTES`` bytes and only at complete header lines; the field
    name matches case-insensitively; obsolete line folding is joined; the first ``Date`` wins.
    A response that does not begin with an ``HTTP/`` status line has no header to trust.
    """
    head = bytes(raw_head[:MAX_HEAD_BYTES])
    lines = head.split(b"\n")
    lines.pop()  # the last piece has no newline: an incomplete line (or empty after the last \n)
    if not lines or not lines[0].startswith(b"HTTP/"):
        return None
    found: bytearray | None = None
    collecting = False
    for raw_line in lines[1:]:
        line = raw_line.removesuffix(b"\r")
        if not line:
            break  # end of the header section
        if line[:1] in (b" ", b"\t"):  # obs-fold: continues the previous field's value
            if collecting and found is not None:
                found += b" " + line.strip()
            continue
        if collecting:
            break  # the Date field is complete
        name, colon, rest = line.partition(b":")
        if colon and name.lower() == b"date":
            found = bytearray(rest.strip())
            collecting = True
    if found is None:
        return None
    value = bytes(found).strip()
    if not value or len(value) > MAX_VALUE_LENGTH * 4:
        return None
    return value.decode("latin-1")
