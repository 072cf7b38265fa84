"""One slack factor for the wall-clock bounds that tests assert.

A bound such as "a 1 s timeout ends the check within 2 s" is a promise to users and stays in
the tests; but on a loaded machine (a 2-core CI runner, several test runs side by side) the
scheduler alone can add a second. Every such bound is written ``within(2.0)``: the promise
times ``SLACK``. Lower bounds (a timeout that must not fire early) are never stretched.

``HANDSHAKE_DOCTOR_TEST_SLACK`` sets the factor (a number, at least 1); without it the factor
is 1.5 when ``CI=true`` (shared runners are the slow case) and 1.0 otherwise, so a developer's
run holds the code to the promise itself.
"""

from __future__ import annotations

import os

SLACK_ENV = "HANDSHAKE_DOCTOR_TEST_SLACK"
CI_SLACK = 1.5


def _slack() -> float:
    text = os.environ.get(SLACK_ENV, "").strip()
    if not text:
        return CI_SLACK if os.environ.get("CI", "").lower() == "true" else 1.0
    value = float(text)  # a typo should stop the run, not quietly mean 1.0
    if not value >= 1.0:
        raise ValueError(f"{SLACK_ENV} must be a number of at least 1, not {text!r}")
    return value


SLACK = _slack()


def within(seconds: float) -> float:
    """The upper bound to assert for a promise of ``seconds``."""
    return seconds * SLACK
