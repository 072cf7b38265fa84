"""The client facts are data with sources: every app states every rule, each with its source
and date or explicitly unknown with the reason, and its ClientHello is one we recorded."""

from __future__ import annotations

import copy
import json
from importlib import resources
from typing import Any

import pytest

from core.analyze.clients import FACT_NAMES, LOCAL_HELLO, load_apps, parse_apps
from core.analyze.overlap import load_client_profiles

#: The clients issue #12 names: the current ones and the old ones that still turn up.
ISSUE_CLIENTS = {
    "chrome",
    "edge",
    "firefox",
    "safari",
    "safari-ios",
    "chrome-android",
    "windows",
    "macos",
    "java",
    "python",
    "curl",
    "go",
    "node",
    "ie11-win7",
    "android-7",
    "java-8",
    "openssl-1.0.2",
    "ios-12",
}


def raw_data() -> dict[str, Any]:
    text = resources.files("resources").joinpath("client_facts.json").read_text("utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def test_every_client_the_issue_names_is_there() -> None:
    assert {app.id for app in load_apps()} >= ISSUE_CLIENTS


def test_every_app_states_every_rule_with_a_source_or_a_reason() -> None:
    data = raw_data()
    assert tuple(data["fact_names"]) == FACT_NAMES
    sources = data["sources"]
    for row in data["apps"]:
        for name in FACT_NAMES:
            fact = row["facts"][name]
            if "value" in fact:
                assert fact["source"] in sources, (row["id"], name)
                assert sources[fact["source"]]["what"].strip()
                assert sources[fact["source"]]["date"].strip()
                assert "unknown" not in fact
            else:
                why = fact.get("unknown") or fact.get("not_applicable")
                assert why and len(why) > 10, (row["id"], name)


def test_parsed_facts_carry_source_and_date() -> None:
    firefox = next(a for a in load_apps() if a.id == "firefox")
    fact = firefox.fact("fetches_aia")
    assert fact.value is False and "Intermediate_Preloading" in fact.source and fact.date
    assert firefox.fact("max_chain_certs").value == 8
    edge = next(a for a in load_apps() if a.id == "edge")
    assert not edge.fact("root_store").known and "unverified" in edge.fact("fetches_aia").unknown


def test_every_hello_is_a_recorded_one() -> None:
    recorded = {p.id for p in load_client_profiles()}
    for app in load_apps():
        assert app.hello == LOCAL_HELLO or app.hello in recorded, app.id


def test_root_stores_are_real_data_or_unknown() -> None:
    stores = {app.id: app.fact("root_store") for app in load_apps()}
    assert stores["firefox"].value == "mozilla" and stores["chrome"].value == "chrome"
    assert "trustifi" in stores["chrome"].source
    for apple in ("safari", "safari-ios", "macos", "ios-12"):
        assert not stores[apple].known and "package" in stores[apple].unknown


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda row: row["facts"].pop("fetches_aia"), "no ['fetches_aia']"),
        (lambda row: row["facts"]["fetches_aia"].pop("source"), "needs a value and a source"),
        (lambda row: row["facts"].update(min_dh_bits={"unknown": ""}), "says why"),
        (
            lambda row: row["facts"].update(root_store={"value": "apple", "source": "certifi"}),
            "root_store",
        ),
    ],
)
def test_a_gap_in_the_data_is_refused(change: Any, message: str) -> None:
    data = copy.deepcopy(raw_data())
    change(data["apps"][0])
    with pytest.raises(ValueError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_apps(data)


def test_every_reason_a_verdict_can_give_has_words() -> None:
    """Each finding ID a client's verdict can hold has a clause naming the app."""
    from core.analyze.clients import SHARED_CHAIN_FINDINGS
    from core.catalogue import load_catalogue
    from core.models import FindingId

    per_client = {
        FindingId.NO_SHARED_PROTOCOL,
        FindingId.NO_SHARED_CIPHER,
        FindingId.WEAK_DH,
        FindingId.INCOMPLETE_CHAIN,
        FindingId.CHAIN_TOO_LONG,
        FindingId.CT_MISSING,
        FindingId.LIFETIME_TOO_LONG,
        FindingId.UNTRUSTED_ROOT,
        FindingId.WEAK_KEY,
        FindingId.WEAK_SIGNATURE,
        FindingId.WRONG_PURPOSE,
    }
    cat = load_catalogue()
    for fid in per_client | SHARED_CHAIN_FINDINGS:
        words = cat.app_reason(fid, "Firefox")
        assert words and "{" not in words and "unknown" not in words, fid
    assert "Firefox" in cat.app_reason(FindingId.INCOMPLETE_CHAIN, "Firefox")
