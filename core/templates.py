"""Templates and the data file they come from: ``{name}`` fields filled by hand, never with
``str.format``, and the checks every section of ``resources/catalogue.json`` shares.

Templates are filled with evidence from strangers' certificates and servers: values are
inserted as plain text, never read as templates themselves, and only simple ``{name}`` fields
are allowed. Kept apart from ``core.catalogue`` so that the step list's words
(``core.stage_words``) can be read without loading every finding and fix.
"""

from __future__ import annotations

import re
import string
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

from core.models import EvidenceValue

#: What a template shows for evidence the engine did not provide.
UNKNOWN = "unknown"
#: What a template shows for an empty list.
NONE_WORD = "none"


COMMENT_KEY = "$comment"


class CatalogueError(ValueError):
    """The catalogue data file is malformed or out of step with ``FindingId``/``FixId``."""


def read_template(raw: object, where: str) -> str:
    text = read_text(raw, where)
    template_fields(text)  # refuses anything but simple {name} fields
    return text


def known_keys(item: Mapping[str, Any], where: str, allowed: set[str]) -> None:
    """Refuse unknown keys, so a misspelt "explaination" fails loudly instead of vanishing."""
    unknown = sorted(set(item) - allowed - {COMMENT_KEY})
    if unknown:
        raise CatalogueError(f"{where}: unknown keys {unknown}")


def same_ids(kind: str, raw: Mapping[str, Any], expected: set[str]) -> None:
    missing = sorted(expected - raw.keys())
    extra = sorted(raw.keys() - expected)
    if missing or extra:
        raise CatalogueError(f"{kind} IDs out of step: missing {missing}, unknown {extra}")


def read_mapping(raw: object, where: str) -> Mapping[str, Any]:
    if not isinstance(raw, Mapping) or not all(isinstance(k, str) for k in raw):
        raise CatalogueError(f"{where} must be an object")
    return raw


def read_sequence(raw: object, where: str) -> Sequence[object]:
    if not isinstance(raw, list):
        raise CatalogueError(f"{where} must be a list")
    return raw


def read_strings(raw: object, where: str) -> tuple[str, ...]:
    return tuple(read_text(v, where) for v in read_sequence(raw, where))


def read_text(raw: object, where: str) -> str:
    if not isinstance(raw, str) or not raw.strip():
        raise CatalogueError(f"{where} must be a non-empty string")
    return raw


_FORMATTER = string.Formatter()


def template_fields(template: str) -> tuple[str, ...]:
    """The ``{name}`` fields a template uses, in order.

    Raises CatalogueError for anything but a simple identifier field: attribute or index access
    (``{a.b}``, ``{a[0]}``), positional fields (``{}``, ``{0}``), conversions (``{a!r}``) and
    format specs (``{a:>10}``) are all refused, and so are unbalanced braces.
    """
    names: list[str] = []
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError as exc:
        raise CatalogueError(f"bad template {template!r}: {exc}") from exc
    for _literal, name, spec, conversion in parsed:
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion:
            raise CatalogueError(
                f"bad field {{{name}}} in template {template!r}: only simple {{name}} fields"
            )
        names.append(name)
    return tuple(names)


def blank(value: EvidenceValue | object) -> bool:
    return value is None or value == () or (isinstance(value, str) and not value.strip())


def render_value(value: EvidenceValue | object) -> str:
    """Evidence as plain text: tuples comma-joined, booleans as yes/no, None as unknown."""
    if value is None:
        return UNKNOWN
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):  # NaN or infinite
            return UNKNOWN
        return str(int(value)) if value.is_integer() else f"{value:.1f}"
    if isinstance(value, tuple | list | frozenset | set):
        items = [render_value(v) for v in value]
        return ", ".join(items) if items else NONE_WORD
    if isinstance(value, str):
        if not value.strip():
            return UNKNOWN
        return _readable_moment(value) or value
    return str(value)


_ISO_MOMENT = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$")


def _readable_moment(text: str) -> str | None:
    """Evidence keeps times as ISO 8601 for scripts; sentences for people say
    "27 November 2026, 07:57 UTC" instead."""
    if not _ISO_MOMENT.match(text):
        return None
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return None
    return f"{moment.day} {moment:%B %Y, %H:%M} UTC"


def fill_first(templates: Sequence[str], values: Mapping[str, EvidenceValue]) -> str:
    """The first template whose fields all have a value that is not blank, filled; the last one
    when none has (so that a missing fact reads "unknown" rather than nothing)."""
    for template in templates:
        if not any(blank(values.get(name)) for name in template_fields(template)):
            return fill(template, values)
    return fill(templates[-1], values) if templates else ""


def fill(template: str, values: Mapping[str, EvidenceValue]) -> str:
    """Fill ``{name}`` fields from ``values``. Never raises and never interprets a value.

    A field that is missing renders as "unknown". A malformed template (which the loader refuses,
    so this only matters for hand-made catalogues) is returned with its bad fields shown as
    "unknown" rather than raising in front of a user.
    """
    try:
        parsed = list(_FORMATTER.parse(template))
    except ValueError:
        return template
    out: list[str] = []
    for literal, name, spec, conversion in parsed:
        out.append(literal)
        if name is None:
            continue
        if not name.isidentifier() or spec or conversion or name not in values:
            out.append(UNKNOWN)
            continue
        out.append(render_value(values[name]))
    return "".join(out)
