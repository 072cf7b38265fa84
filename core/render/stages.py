"""The step list's words, the same for the terminal, the PDF and the window.

The engine reports each stage as an outcome with facts (``core.models.StageOutcome``); this is
the one place that turns them into a line, through the catalogue's templates. A fact may need
words of its own before it fills a template: a list of items (each worded by its item
template), a finding ID (shown as that finding's title), a clock offset (shown as "2 years
behind"), a value the catalogue has words for ("ntp" as "a time server"). The lines are plain
text; each renderer escapes them for its own target.
"""

from __future__ import annotations

from collections.abc import Mapping

from core.analyze.clock import describe_offset
from core.models import (
    EvidenceValue,
    FindingId,
    StageEvent,
    StageFact,
    StageId,
    StageItem,
    StageOutcome,
    StageResult,
    StageStatus,
)
from core.stage_words import StageWords, load_stage_words

__all__ = ["STATUS_MARKS", "event_line", "stage_line", "stage_name", "stage_text"]

#: The mark before a stage's name, by its status.
STATUS_MARKS: Mapping[StageStatus, str] = {
    StageStatus.PENDING: "○",
    StageStatus.RUNNING: "…",
    StageStatus.OK: "✓",
    StageStatus.FAILED: "✗",
    StageStatus.SKIPPED: "—",
}

_ITEM_KEY = "item"
_ITEM_SEPARATOR = "; "


def stage_name(stage: StageId, words: StageWords | None = None) -> str:
    """ "Find the server", "Protocols & ciphers": the step's name for people."""
    return (words or load_stage_words()).name(stage)


def stage_line(result: StageResult, words: StageWords | None = None) -> str:
    """What one stage of a report concluded, in a line."""
    return stage_text(result.outcome, result.facts, words)


def event_line(event: StageEvent, words: StageWords | None = None) -> str:
    """What a stage is doing or has concluded, as the check runs."""
    if event.outcome is None:
        return (words or load_stage_words()).running_words(event.stage)
    return stage_text(event.outcome, event.facts, words)


def stage_text(
    outcome: StageOutcome, facts: Mapping[str, StageFact], words: StageWords | None = None
) -> str:
    words = words or load_stage_words()
    return words.outcome_text(outcome, _worded(facts, words))


def _worded(facts: Mapping[str, StageFact], words: StageWords) -> dict[str, EvidenceValue]:
    values: dict[str, EvidenceValue] = {}
    for key, value in facts.items():
        if isinstance(value, tuple):
            items = [v for v in value if isinstance(v, Mapping)]
            if items:
                values[key] = _ITEM_SEPARATOR.join(_item_text(i, words) for i in items)
            else:
                values[key] = tuple(v for v in value if isinstance(v, str))
        elif key == "finding" and isinstance(value, str) and value in _FINDING_IDS:
            values[key] = _finding_words(FindingId(value))
        elif key == "offset_s" and isinstance(value, float | int):
            values[key] = value
            values["offset"] = describe_offset(float(value))
        elif isinstance(value, str):
            values[key] = words.value_words(key, value) or value
        else:
            values[key] = value
    return values


def _finding_words(finding: FindingId) -> str:
    """A finding's title as part of a line: "the certificate has expired"."""
    from core.catalogue import load_catalogue  # a chain that is not valid has findings anyway

    title = load_catalogue().findings[finding].title
    return title[:1].lower() + title[1:]


_FINDING_IDS = frozenset(f.value for f in FindingId)
_ITEMS = frozenset(i.value for i in StageItem)


def _item_text(item: Mapping[str, EvidenceValue], words: StageWords) -> str:
    kind = item.get(_ITEM_KEY)
    values = {k: v for k, v in item.items() if k != _ITEM_KEY}
    if not isinstance(kind, str) or kind not in _ITEMS:
        return ", ".join(str(v) for v in values.values())
    return words.item_text(StageItem(kind), values)
