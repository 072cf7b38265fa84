"""The sentences that speak for the app that showed the error, then for the others.

The banner, the terminal report, the ticket summary and the PDF all put these first, so they
are made once, here, from the report's per-client verdicts and the catalogue's words. With
"I don't know" (no ``--client``), they say which current browsers fail, if any.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from core.catalogue import Catalogue
from core.models import CheckReport, ClientResult, FindingId

__all__ = ["THIS_APP", "AppWords", "app_words", "reason_words", "why_not"]

#: At most this many other apps are named in one sentence.
MAX_NAMED = 4


@dataclass(frozen=True)
class AppWords:
    """``headline``: the chosen app's verdict ("" with "I don't know"); ``others``: the other
    apps' ("" when there is nothing to say); ``fails``: the chosen app cannot connect."""

    headline: str = ""
    others: str = ""
    fails: bool = False

    @property
    def text(self) -> str:
        return " ".join(part for part in (self.headline, self.others) if part)


#: How a list of apps names the one in its row.
THIS_APP = "this app"


def reason_words(reasons: Sequence[FindingId], cat: Catalogue, name: str) -> str:
    """Finding IDs as the catalogue's clauses naming the app, joined."""
    return "; ".join(dict.fromkeys(cat.app_reason(reason, name) for reason in reasons))


def why_not(client: ClientResult, cat: Catalogue, *, name: str | None = None) -> str:
    """The client's reasons as clauses naming it (or ``name``), joined; the catalogue's words
    for its hello's mismatch when it has no finding-level reason."""
    who = client.name if name is None else name
    hello_words = cat.client_reason(client.mismatch, client.facts)
    return reason_words(client.reasons, cat, who) or hello_words


def _names(clients: Sequence[ClientResult]) -> str:
    names = [c.name for c in clients[:MAX_NAMED]]
    return ", ".join(names)


def _others(clients: Sequence[ClientResult], chosen: ClientResult | None) -> list[ClientResult]:
    """The other current apps, browsers first."""
    rest = [c for c in clients if c.current and c.id not in ("local", chosen.id if chosen else "")]
    return sorted(rest, key=lambda c: not c.browser)


def app_words(report: CheckReport, cat: Catalogue) -> AppWords:
    chosen_id = report.client
    clients = report.app_verdicts or report.clients
    if chosen_id is None:
        if not clients:
            return AppWords()
        browsers = [c for c in clients if c.current and c.browser]
        failing = [c for c in browsers if c.connects is False]
        if failing:
            return AppWords(others=cat.app_sentence("browsers_fail", names=_names(failing)))
        if browsers and all(c.connects for c in browsers):
            return AppWords(others=cat.app_sentence("browsers_connect"))
        return AppWords()
    chosen = next((c for c in clients if c.id == chosen_id), None)
    if chosen is None:
        from core.analyze.clients import find_app

        app = find_app(chosen_id)
        name = app.name if app is not None else chosen_id
        unknown = cat.app_sentence("not_probed")
        return AppWords(headline=cat.app_sentence("unknown", client=name, unknown=unknown))
    others = _others(clients, chosen)
    if chosen.connects is None and not chosen.reasons:
        if chosen.trusted:
            return AppWords(headline=cat.app_sentence("certificates_ok", client=chosen.name))
        unknown = cat.app_sentence("not_probed")
        return AppWords(headline=cat.app_sentence("unknown", client=chosen.name, unknown=unknown))
    if chosen.connects:
        failing = [c for c in others if c.connects is False]
        rest = cat.app_sentence("others_fail", names=_names(failing)) if failing else ""
        if chosen.trusted is None and chosen.unknown:
            rules = cat.app_sentence("rules_unknown", rules=", ".join(chosen.unknown))
            headline = cat.app_sentence("unknown", client=chosen.name, unknown=rules)
            return AppWords(headline=headline, others=rest)
        return AppWords(headline=cat.app_sentence("connects", client=chosen.name), others=rest)
    # A client whose rules here are partly unknown is not said to connect.
    connecting = [c for c in others if c.connects and not c.unknown]
    key = "other_connects" if len(connecting) == 1 else "others_connect"
    rest = cat.app_sentence(key, names=_names(connecting)) if connecting else ""
    headline = cat.app_sentence("fails", client=chosen.name, reasons=why_not(chosen, cat))
    return AppWords(headline=headline, others=rest, fails=True)
