"""Reading a host list: what a line means, before anything is checked (no network)."""

from __future__ import annotations

from pathlib import Path

import pytest

from core.batch import HostListError, ParallelError, parse_parallel, plan, read_lines
from core.request import RequestError, RequestSpec

LIST = """\
# servers to watch
example.com
  https://example.org:8443/login#top   # a pasted link, fragment and all
mail.example.net:587 10.0.0.25

intranet.corp:99999
[::1]:8443
"""


def test_lines_comments_and_connect_addresses() -> None:
    hosts = plan(LIST, RequestSpec())
    assert [(j.line.number, j.target.host, j.target.port) for j in hosts.jobs] == [
        (2, "example.com", 443),
        (3, "example.org", 8443),
        (4, "mail.example.net", 587),
        (7, "::1", 8443),
    ]
    via = hosts.jobs[2].target
    assert (via.connect_address, via.connect_port, via.sni) == (
        "10.0.0.25",
        587,
        "mail.example.net",
    )
    assert [(b.number, b.text) for b in hosts.bad] == [(6, "intranet.corp:99999")]
    assert "99999 is out of range" in hosts.bad[0].message


def test_every_line_gets_the_runs_options(tmp_path: Path) -> None:
    root = tmp_path / "root.pem"
    root.write_text("not read until the check")
    spec = RequestSpec(port=8443, timeout=3.5, quick=True, gentle=True, ca_file=str(root))
    hosts = plan("a.example\nb.example:8443\nc.example:9443\n", spec)
    assert [j.target.port for j in hosts.jobs] == [8443, 8443]
    # As for one target: a line's own port must agree with --port.
    assert [b.number for b in hosts.bad] == [3]
    for job in hosts.jobs:
        assert (job.options.timeout, job.options.quick, job.options.gentle) == (3.5, True, True)
        assert job.options.ca_file == root


def test_a_problem_of_the_whole_run_is_not_a_bad_line(tmp_path: Path) -> None:
    with pytest.raises(RequestError) as caught:
        plan("a.example\nb.example\n", RequestSpec(ca_file=str(tmp_path / "missing.pem")))
    assert caught.value.field == "ca_file"


def test_bad_lines_keep_their_numbers() -> None:
    lines, bad = read_lines("one two three\n\n#\n:443\nok.example  \n")
    assert [(b.number, "3 words" in b.message) for b in bad] == [(1, True)]
    hosts = plan("one two three\n\n#\n:443\nok.example 127.0.0.1:\n", RequestSpec())
    assert [b.number for b in hosts.bad] == [1, 4, 5]
    assert hosts.bad[2].message.startswith("the connect address (second word): ")
    assert [line.number for line in lines] == [4, 5]


def test_an_absurdly_long_list_is_refused() -> None:
    with pytest.raises(HostListError, match="more than 10,000 lines"):
        plan("a.example\n" * 10_001, RequestSpec())


@pytest.mark.parametrize(
    ("text", "value"), [("1", 1), ("4", 4), (" 32 ", 32), ("0", None), ("33", None), ("-2", None)]
)
def test_parallel(text: str, value: int | None) -> None:
    if value is None:
        with pytest.raises(ParallelError):
            parse_parallel(text)
    else:
        assert parse_parallel(text) == value
