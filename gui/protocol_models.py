"""The Protocols & ciphers pane's models: versions, cipher suites and reference clients."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from PySide6.QtCore import QObject

from core.catalogue import load_catalogue
from core.models import ClientResult, Severity
from core.render.for_client import THIS_APP, why_not
from core.render.labels import STRENGTH_WORDS, suite_strength
from core.untrusted import visible
from core.wire.records import TlsVersion
from gui import theme
from gui.models import Cell, RowsModel
from gui.widgets import app_palette

#: Newest first, as the Protocols pane lists them.
VERSION_ORDER = tuple(sorted(TlsVersion, reverse=True))
_MODERN = frozenset(v for v in TlsVersion if v >= TlsVersion.TLS1_2)


class ProtocolModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(("Version", "Server accepts", "Note"), parent)

    def set_protocols(self, protocols: Mapping[TlsVersion, bool | None]) -> None:
        palette = app_palette()
        ok, bad, soft = (
            theme.success_colour(palette),
            theme.failure_colour(palette),
            theme.muted(palette),
        )
        warn = theme.tone(Severity.WARNING, palette).foreground
        rows: list[tuple[Sequence[Cell], object]] = []
        for version in (v for v in VERSION_ORDER if v in protocols):
            accepted = protocols[version]
            if accepted is None:
                cells = (
                    Cell(version.human),
                    Cell("not tested", soft),
                    Cell(""),
                )
            elif accepted:
                note = "current" if version in _MODERN else "outdated: should be turned off"
                cells = (
                    Cell(version.human),
                    Cell("✓ yes", ok if version in _MODERN else warn),
                    Cell(note, None if version in _MODERN else warn),
                )
            else:
                note = "" if version not in _MODERN else "modern clients need this"
                cells = (
                    Cell(version.human),
                    Cell("✗ no", bad if version in _MODERN else soft),
                    Cell(note),
                )
            rows.append((cells, version))
        self.set_rows(rows)


class CipherModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(("Version", "Cipher suite", "Strength"), parent)

    def set_ciphers(self, ciphers: Mapping[TlsVersion, Sequence[str]]) -> None:
        palette = app_palette()
        colours = {
            "strong": theme.success_colour(palette),
            "no-forward-secrecy": theme.tone(Severity.WARNING, palette).foreground,
            "weak": theme.failure_colour(palette),
            "insecure": theme.failure_colour(palette),
        }
        rows: list[tuple[Sequence[Cell], object]] = []
        for version in (v for v in VERSION_ORDER if v in ciphers):
            for suite in ciphers[version]:
                strength = suite_strength(suite)
                shown = visible(suite, limit=120)
                rows.append(
                    (
                        (
                            Cell(version.human),
                            Cell(shown, tip=shown),
                            Cell(
                                STRENGTH_WORDS.get(strength or "", "unknown"),
                                colours.get(strength or ""),
                            ),
                        ),
                        (version, suite),
                    )
                )
        self.set_rows(rows)


class ClientModel(RowsModel):
    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(("Client", "Connects", "Version", "Cipher suite", "Why not"), parent)

    def set_clients(self, clients: Sequence[ClientResult]) -> None:
        palette = app_palette()
        ok, bad = theme.success_colour(palette), theme.failure_colour(palette)
        rows: list[tuple[Sequence[Cell], object]] = []
        catalogue = load_catalogue()
        for client in clients:
            # The finding-level reasons (a chain the app refuses) first, else the hello's words.
            why = why_not(client, catalogue, name=THIS_APP)
            reason = "" if client.connects else visible(why, limit=300)
            rows.append(
                (
                    (
                        Cell(visible(client.name, limit=120)),
                        Cell("✓ yes", ok, tip=reason)
                        if client.connects
                        else Cell("✗ no", bad, tip=reason),
                        Cell(client.protocol.human if client.protocol else "—"),
                        Cell(visible(client.cipher or "—", limit=120)),
                        Cell("" if client.connects else reason, tip=reason),
                    ),
                    client,
                )
            )
        self.set_rows(rows)
