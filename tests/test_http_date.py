"""The HTTP Date parser and header extractor: the three RFC 9110 forms, and no exceptions ever."""

from __future__ import annotations

import email.utils
from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from core.http_date import MAX_HEAD_BYTES, date_from_response, parse_http_date

RFC_EXAMPLE = datetime(1994, 11, 6, 8, 49, 37, tzinfo=UTC)


@pytest.mark.parametrize(
    "value",
    [
        "Sun, 06 Nov 1994 08:49:37 GMT",  # IMF-fixdate
        "Sunday, 06-Nov-94 08:49:37 GMT",  # obsolete RFC 850
        "Sun Nov  6 08:49:37 1994",  # obsolete asctime
        # Leniencies that still tell the time to the second:
        "sun, 06 nov 1994 08:49:37 gmt",
        "Sun, 6 Nov 1994 08:49:37 GMT",
        "Sun,06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 08:49:37 UTC",
        "Sun, 06 Nov 1994 08:49:37 +0000",
        "  Sun, 06 Nov 1994 08:49:37 GMT \t",
        "Sun, 06-Nov-1994 08:49:37 GMT",
        "Sun Nov 06 08:49:37 1994",
        "Mon, 06 Nov 1994 08:49:37 GMT",  # wrong weekday: the date still stands
    ],
)
def test_the_three_forms_and_small_leniencies(value: str) -> None:
    parsed = parse_http_date(value)
    assert parsed == RFC_EXAMPLE
    assert parsed is not None
    assert parsed.tzinfo is UTC


def test_bytes_are_accepted() -> None:
    assert parse_http_date(b"Sun, 06 Nov 1994 08:49:37 GMT") == RFC_EXAMPLE


def test_what_pythons_own_formatter_writes_round_trips() -> None:
    for stamp in (0, 1_700_000_000, 2_085_978_496, 4_102_444_800):
        text = email.utils.formatdate(stamp, usegmt=True)
        assert parse_http_date(text) == datetime.fromtimestamp(stamp, UTC)


@pytest.mark.parametrize(
    ("value", "year"),
    [("Thursday, 01-Jan-70 00:00:00 GMT", 1970), ("Tuesday, 31-Dec-69 00:00:00 GMT", 2069)],
)
def test_two_digit_years_pivot_at_70(value: str, year: int) -> None:
    parsed = parse_http_date(value)
    assert parsed is not None
    assert parsed.year == year


def test_leap_second_reads_as_59() -> None:
    assert parse_http_date("Sat, 31 Dec 2016 23:59:60 GMT") == datetime(
        2016, 12, 31, 23, 59, 59, tzinfo=UTC
    )


@pytest.mark.parametrize(
    "value",
    [
        "",
        "   ",
        "yesterday",
        "Sun, 06 Nov 1994 08:49:37",  # IMF-fixdate without its zone
        "Sun, 06 Nov 1994 08:49:37 PST",  # not UTC: refuse rather than guess
        "Sun, 06 Nov 1994 08:49:37 +0100",
        "Sun, 30 Feb 1994 08:49:37 GMT",
        "Sun, 06 Nov 1994 25:49:37 GMT",
        "Sun, 06 Nov 1994 08:61:37 GMT",
        "Sun, 06 Nov 1994 08:49:61 GMT",
        "Sun, 06 Foo 1994 08:49:37 GMT",
        "Xyz, 06 Nov 1994 08:49:37 GMT",
        "Sun, 06 Nov 0000 08:49:37 GMT",
        "Sun, 06 Nov 94 08:49:37 GMT",
        "Sun, ٠٦ Nov ١٩٩٤ 08:49:37 GMT",  # Arabic-Indic digits: int() would take them
        "Sun, 06 Nov 1994 08:49:37 GMT extra",
        "1994-11-06T08:49:37Z",
        "784111777",
        "Sun, 06 Nov 1994 08:49:37 GMT" + " " * 100,
    ],
)
def test_garbage_is_none(value: str) -> None:
    assert parse_http_date(value) is None


def test_non_text_is_none() -> None:
    assert parse_http_date(None) is None
    assert parse_http_date(12345) is None  # type: ignore[arg-type]


@given(st.text(max_size=200))
def test_any_text_parses_or_is_none(value: str) -> None:
    result = parse_http_date(value)
    assert result is None or (isinstance(result, datetime) and result.tzinfo is UTC)


@given(st.binary(max_size=200))
def test_any_bytes_parse_or_are_none(value: bytes) -> None:
    result = parse_http_date(value)
    assert result is None or result.tzinfo is UTC


@given(
    st.builds(
        datetime,
        st.integers(1, 9999),
        st.integers(1, 12),
        st.integers(1, 28),
        st.integers(0, 23),
        st.integers(0, 59),
        st.integers(0, 59),
        tzinfo=st.just(UTC),
    )
)
def test_every_imf_fixdate_round_trips(moment: datetime) -> None:
    text = moment.strftime("%a, %d %b ") + f"{moment.year:04d}" + moment.strftime(" %H:%M:%S GMT")
    assert parse_http_date(text) == moment


# --------------------------------------------------------------------------- date_from_response

HEAD = (
    b"HTTP/1.1 200 OK\r\nServer: test\r\nDate: Sun, 06 Nov 1994 08:49:37 GMT\r\n"
    b"Content-Length: 0\r\n\r\n"
)


def test_extracts_the_date_header() -> None:
    assert date_from_response(HEAD) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert date_from_response(HEAD + b"body with Date: nonsense\r\n") == (
        "Sun, 06 Nov 1994 08:49:37 GMT"
    )


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"HTTP/1.1 200 OK\r\nDATE: x y\r\n\r\n", "x y"),  # field names ignore case
        (
            b"HTTP/1.1 200 OK\r\ndate:Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n",
            "Sun, 06 Nov 1994 08:49:37 GMT",
        ),
        (b"HTTP/1.0 200 OK\nDate: a\nDate: b\n\n", "a"),  # bare LF; the first Date wins
        (b"HTTP/1.1 200 OK\r\nX-Date: a\r\nDate : b\r\n\r\n", None),  # neither is "Date"
        (b"HTTP/1.1 200 OK\r\nServer: x\r\n\r\nDate: after the head\r\n", None),
        (b"HTTP/1.1 200 OK\r\nDate: \r\n\r\n", None),
        (b"HTTP/1.1 200 OK\r\nDate: complete line\r\n", "complete line"),
        (b"HTTP/1.1 200 OK\r\nDate: incomplete line", None),
        (b"SSH-2.0-OpenSSH\r\nDate: a\r\n\r\n", None),  # not an HTTP response
        (b"", None),
        (b"HTTP/1.1 200 OK\r\nDate: caf\xe9\r\n\r\n", "café"),  # header bytes are Latin-1
    ],
)
def test_header_edge_cases(head: bytes, expected: str | None) -> None:
    assert date_from_response(head) == expected


def test_folded_date_is_joined() -> None:
    head = b"HTTP/1.1 200 OK\r\nDate: Sun, 06 Nov\r\n 1994 08:49:37 GMT\r\n\r\n"
    assert date_from_response(head) == "Sun, 06 Nov 1994 08:49:37 GMT"
    assert parse_http_date(date_from_response(head)) == RFC_EXAMPLE


def test_a_date_beyond_the_bound_is_not_read() -> None:
    padding = b"X-Pad: " + b"a" * MAX_HEAD_BYTES + b"\r\n"
    head = b"HTTP/1.1 200 OK\r\n" + padding + b"Date: Sun, 06 Nov 1994 08:49:37 GMT\r\n\r\n"
    assert date_from_response(head) is None


def test_an_absurdly_long_date_is_not_returned() -> None:
    assert date_from_response(b"HTTP/1.1 200 OK\r\nDate: " + b"9" * 1000 + b"\r\n\r\n") is None


@given(st.binary(max_size=600))
def test_any_bytes_never_raise(raw: bytes) -> None:
    result = date_from_response(raw)
    assert result is None or isinstance(result, str)
    parse_http_date(result)


@given(st.binary(max_size=300))
def test_any_bytes_after_a_status_line_never_raise(raw: bytes) -> None:
    result = date_from_response(b"HTTP/1.1 200 OK\r\n" + raw)
    assert result is None or isinstance(result, str)
