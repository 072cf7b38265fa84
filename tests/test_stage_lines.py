"""The one renderer of stage lines: facts worded by the catalogue's templates, the same way for
every reader (the terminal, the PDF and the window compare them in test_gui_window)."""

from __future__ import annotations

from core.models import (
    NetworkFailure,
    StageEvent,
    StageFact,
    StageId,
    StageOutcome,
    StageResult,
    StageStatus,
    stage_facts,
)
from core.render.stages import event_line, stage_line
from core.route import AddressAttempt, attempt_items


def _line(outcome: StageOutcome, **facts: StageFact) -> str:
    return stage_line(
        StageResult(StageId.CLOCK, StageStatus.OK, 1.0, outcome, stage_facts(**facts))
    )


def test_each_address_tried_is_one_item_of_the_connect_line() -> None:
    attempts = (
        AddressAttempt("::1", False, "Connection refused", NetworkFailure.CONNECT_REFUSED),
        AddressAttempt("127.0.0.2", False, "", NetworkFailure.CONNECT_TIMEOUT),
        AddressAttempt("127.0.0.1", True),
        AddressAttempt("127.0.0.3", None),  # never tried: an earlier one connected
    )
    line = _line(StageOutcome.CONNECTED_AFTER_TRIES, attempts=attempt_items(attempts))
    assert line == "::1 refused (Connection refused); 127.0.0.2 no answer; 127.0.0.1 connected"


def test_facts_with_words_of_their_own() -> None:
    wrong = _line(StageOutcome.CLOCK_WRONG, offset_s=-2 * 365 * 86400.0, reference="ntp")
    assert wrong == "this computer is 2 years behind (by a time server)"
    right = _line(StageOutcome.CLOCK_RIGHT, within_s=0.3, reference="http-date")
    assert right == "right to within 0.3 s (by the server's clock)"
    blamed = _line(StageOutcome.CHAIN_NOT_VALID, received=2, finding="hostname-mismatch")
    assert blamed.startswith("2 received; not valid: ") and "name" in blamed
    assert _line(StageOutcome.CHAIN_NOT_VALID, received=1) == "1 received; not valid"


def test_a_strangers_text_is_inserted_as_it_is() -> None:
    """Escaping is each reader's job; the line keeps the text whole, braces included."""
    hostile = "{address} <b>x</b> \x1b[31m"
    line = _line(StageOutcome.HANDSHAKE_ALERT, alert=hostile)
    assert line == f"the server refused with the alert “{hostile}”"


def test_live_events_word_running_stages_by_their_outcome() -> None:
    probing = StageEvent(
        StageId.PROTOCOLS,
        StageStatus.RUNNING,
        10.0,
        StageOutcome.PROTOCOLS_PROBING,
        stage_facts(done=3, total=40),
    )
    assert event_line(probing) == "3 of 40 probes"
    assert event_line(StageEvent(StageId.CONNECT, StageStatus.RUNNING)) == "connecting…"
