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
from typing import Any, TypeVar

from core.models import EvidenceValue, StageId, StageItem, StageOutcome
from core.templates import (
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


def parse_stage_words(raw: object) -> StageWords:
    """Raises CatalogueError unless every stage, outcome and item has its words."""
    item = read_mapping(raw, "stages")
    known_keys(item, "stages", {"names", "running", "outcomes", "items", "values"})

    def section(name: str, ids: type[_E]) -> dict[_E, Any]:
        entries = read_mapping(item.get(name), f"stages.{name}")
        same_ids(f"stages.{name}", entries, {member.value for member in ids})
        return {ids(key): value for key, value in entries.items()}

    def choices(raw_choice: object, where: str) -> tuple[str, ...]:
        texts = (raw_choice,) if isinstance(raw_choice, str) else read_strings(raw_choice, where)
        if not texts:
            raise CatalogueError(f"{where}: no template")
        return tuple(read_template(text, where) for text in texts)

    def words(name: str) -> Mapping[StageId, str]:
        entries = section(name, StageId).items()
        return MappingProxyType({k: read_text(v, f"stages.{name}.{k}") for k, v in entries})

    values = read_mapping(item.get("values", {}), "stages.values")
    return StageWords(
        names=words("names"),
        running=words("running"),
        outcomes=MappingProxyType(
            {
                k: choices(v, f"stages.outcomes.{k}")
                for k, v in section("outcomes", StageOutcome).items()
            }
        ),
        items=MappingProxyType(
            {k: choices(v, f"stages.items.{k}") for k, v in section("items", StageItem).items()}
        ),
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
