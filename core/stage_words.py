"""The step list's words, read from the catalogue's ``stages`` section on their own.

Every check words its steps, even a clean one that has no finding to word, so these are read
without loading (and checking) every finding and fix: a fresh ``check --json`` stays fast.
``core.catalogue`` checks the same section with the same parser when it loads the whole file.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from importlib import resources
from types import MappingProxyType
from typing import TypeVar

from core.models import EvidenceValue, StageId, StageItem, StageOutcome
from core.templates import (
    COMMENT_KEY,
    CatalogueError,
    fill_first,
    known_keys,
    read_mapping,
    read_strings,
    read_template,
    read_text,
    same_ids,
)

RESOURCE_PACKAGE = "resources"
RESOURCE_NAME = "catalogue.json"

_E = TypeVar("_E", bound=StrEnum)


@dataclass(frozen=True)
class StageWords:
    """A name and running words per stage, templates per outcome and per list item (each a
    choice: the first whose fields all have facts), and words for some facts' plain values."""

    names: Mapping[StageId, str]
    running: Mapping[StageId, str]
    outcomes: Mapping[StageOutcome, tuple[str, ...]]
    items: Mapping[StageItem, tuple[str, ...]]
    values: Mapping[str, Mapping[str, str]]

    def name(self, stage: StageId) -> str:
        return self.names[stage]

    def running_words(self, stage: StageId) -> str:
        return self.running[stage]

    def outcome_text(self, outcome: StageOutcome, values: Mapping[str, EvidenceValue]) -> str:
        return fill_first(self.outcomes[outcome], values)

    def item_text(self, item: StageItem, values: Mapping[str, EvidenceValue]) -> str:
        return fill_first(self.items[item], values)

    def value_words(self, key: str, value: str) -> str | None:
        """The words for a fact's plain value ("ntp" as "a time server"), if it has any."""
        words = self.values.get(key)
        return words.get(value) if words is not None else None


@functools.cache
def load_stage_words() -> StageWords:
    """The packaged catalogue's stages section, read once (through importlib.resources, so it
    works when frozen)."""
    raw = resources.files(RESOURCE_PACKAGE).joinpath(RESOURCE_NAME).read_text(encoding="utf-8")
    return parse_stage_words(read_mapping(json.loads(raw), "catalogue").get("stages"))


def parse_choices(raw: object, where: str, ids: type[_E]) -> Mapping[_E, tuple[str, ...]]:
    """One template (or a list to choose from) for each member of ``ids``, and no others."""
    entries = {k: v for k, v in read_mapping(raw, where).items() if k != COMMENT_KEY}
    same_ids(where, entries, {member.value for member in ids})
    texts: dict[_E, tuple[str, ...]] = {}
    for key, value in entries.items():
        at = f"{where}.{key}"
        choices = (value,) if isinstance(value, str) else read_strings(value, at)
        if not choices:
            raise CatalogueError(f"{at}: no template")
        texts[ids(key)] = tuple(read_template(text, at) for text in choices)
    return MappingProxyType(texts)


def parse_stage_words(raw: object) -> StageWords:
    """Raises CatalogueError unless every stage, outcome and item has its words."""
    item = read_mapping(raw, "stages")
    known_keys(item, "stages", {"names", "running", "outcomes", "items", "values"})

    def words(name: str) -> Mapping[StageId, str]:
        entries = read_mapping(item.get(name), f"stages.{name}")
        same_ids(f"stages.{name}", entries, {stage.value for stage in StageId})
        return MappingProxyType(
            {StageId(k): read_text(v, f"stages.{name}.{k}") for k, v in entries.items()}
        )

    values = read_mapping(item.get("values", {}), "stages.values")
    return StageWords(
        names=words("names"),
        running=words("running"),
        outcomes=parse_choices(item.get("outcomes"), "stages.outcomes", StageOutcome),
        items=parse_choices(item.get("items"), "stages.items", StageItem),
        values=MappingProxyType(
            {
                key: MappingProxyType(
                    {
                        value: read_text(text, f"stages.values.{key}.{value}")
                        for value, text in read_mapping(table, f"stages.values.{key}").items()
                    }
                )
                for key, table in values.items()
            }
        ),
    )
