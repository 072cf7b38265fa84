"""The catalogue: one entry per ID, templates that never raise, steps for every OS."""

from __future__ import annotations

import json
from importlib import resources
from typing import Any

import pytest

from core.catalogue import (
    UNKNOWN,
    Actor,
    Audience,
    Catalogue,
    CatalogueError,
    OsName,
    current_os,
    fill,
    load_catalogue,
    parse_catalogue,
    template_fields,
)
from core.models import (
    CertificateFileProblem,
    ClientMismatch,
    EvidenceValue,
    Finding,
    FindingId,
    FixId,
    Severity,
    StageId,
    StageItem,
    StageOutcome,
    evidence,
)
from core.request import RequestProblem
from core.stage_words import parse_stage_words
from core.target import TargetProblem

HOSTILE = ("{__class__}", "{0}", "<b>x</b>", "\x1b[31m", "{host.__class__}", "{{x}}", "}{")


@pytest.fixture(scope="module")
def cat() -> Catalogue:
    return load_catalogue()


@pytest.fixture(scope="module")
def raw() -> dict[str, Any]:
    text = resources.files("resources").joinpath("catalogue.json").read_text(encoding="utf-8")
    data: dict[str, Any] = json.loads(text)
    return data


def _sample(key: str) -> str:
    return f"<{key}>"


def _full_evidence(cat: Catalogue, fid: FindingId) -> dict[str, EvidenceValue]:
    return {key: _sample(key) for key in cat.finding(fid).evidence_keys}


# --------------------------------------------------------------------------- IDs both ways


def test_every_finding_id_has_an_entry_and_no_extras(raw: dict[str, Any]) -> None:
    assert set(raw["findings"]) == {f.value for f in FindingId}


def test_every_fix_id_has_an_entry_and_no_extras(raw: dict[str, Any]) -> None:
    assert set(raw["fixes"]) == {f.value for f in FixId}


def test_loaded_catalogue_covers_every_id(cat: Catalogue) -> None:
    for fid in FindingId:
        assert cat.finding(fid).id is fid
    for fix_id in FixId:
        assert cat.fix(fix_id).id is fix_id


def test_default_fixes_exist(cat: Catalogue) -> None:
    for fid in FindingId:
        for fix_id in cat.finding(fid).default_fixes:
            assert cat.fix(fix_id).id is fix_id


def test_every_fix_is_offered_by_some_finding(cat: Catalogue) -> None:
    offered = {fix for text in cat.findings.values() for fix in text.default_fixes}
    assert offered == set(FixId)


def test_load_is_cached() -> None:
    assert load_catalogue() is load_catalogue()


def test_missing_or_extra_ids_are_refused(raw: dict[str, Any]) -> None:
    missing = json.loads(json.dumps(raw))
    del missing["findings"]["clock-skew"]
    with pytest.raises(CatalogueError, match="clock-skew"):
        parse_catalogue(missing)
    extra = json.loads(json.dumps(raw))
    extra["fixes"]["reboot-the-internet"] = extra["fixes"]["set-clock"]
    with pytest.raises(CatalogueError, match="reboot-the-internet"):
        parse_catalogue(extra)


def test_every_request_problem_has_words_for_both_readers(raw: dict[str, Any]) -> None:
    """The command line and the window word a request's problems from the catalogue: a kind
    without words, or with words for only one of them, fails at load, not in front of a user."""
    cat = parse_catalogue(raw)
    for kind in RequestProblem:
        facts = {"reason": "r", "path": "/p", "key_path": "/k", "what": "w"}
        facts |= {"variable": "V", "option": "--o", "name": "'n'", "setting": "HTTPS_PROXY"}
        facts |= {"client": "'x'", "known": "chrome, firefox"}
        for audience in Audience:
            text = cat.request_text(kind, facts, audience)
            assert text.strip() and "{" not in text and UNKNOWN not in text, (kind, audience)
    missing = json.loads(json.dumps(raw))
    del missing["requests"]["key_mismatch"]
    with pytest.raises(CatalogueError, match="key_mismatch"):
        parse_catalogue(missing)
    one_sided = json.loads(json.dumps(raw))
    one_sided["requests"]["key_mismatch"] = {"cli": "only the command line"}
    with pytest.raises(CatalogueError, match="key_mismatch"):
        parse_catalogue(one_sided)


def test_every_target_problem_has_a_sentence(raw: dict[str, Any]) -> None:
    cat = parse_catalogue(raw)
    facts = {"shown": "'x'", "port": "0", "scheme": "ftp://", "first": "1", "second": "2"}
    facts |= {"known": "smtp, imap", "protocol": "smtp"}  # --starttls's facts
    for kind in TargetProblem:
        text = cat.target_text(kind, facts)
        assert text.endswith(".") and "{" not in text and UNKNOWN not in text, kind
    missing = json.loads(json.dumps(raw))
    del missing["targets"]["two_ports"]
    with pytest.raises(CatalogueError, match="two_ports"):
        parse_catalogue(missing)


def test_every_stage_outcome_and_item_has_words(raw: dict[str, Any]) -> None:
    """A stage line is worded from its outcome's template alone: each one, filled with every
    fact it names, reads without braces or "unknown"; a template list falls back to a choice
    that needs fewer facts; an outcome without words fails at load, and so does one the engine
    does not know."""
    words = parse_stage_words(raw["stages"])
    for outcome in StageOutcome:
        names = {n for t in words.outcomes[outcome] for n in template_fields(t)}
        text = words.outcome_text(outcome, dict.fromkeys(names, "x"))
        assert text.strip() and "{" not in text and UNKNOWN not in text, outcome
    for item in StageItem:
        names = {n for t in words.items[item] for n in template_fields(t)}
        assert "x" in words.item_text(item, dict.fromkeys(names, "x")), item
    assert words.outcome_text(StageOutcome.RESOLVE_FAILED, {"error": "NXDOMAIN"}) == "NXDOMAIN"
    both = {"error": "NXDOMAIN", "resolver": "127.0.0.1"}
    assert words.outcome_text(StageOutcome.RESOLVE_FAILED, both) == "NXDOMAIN (asked 127.0.0.1)"
    assert [words.name(stage) for stage in StageId] and all(words.running.values())
    missing = json.loads(json.dumps(raw))
    del missing["stages"]["outcomes"]["chain-valid"]
    with pytest.raises(CatalogueError, match="chain-valid"):
        parse_catalogue(missing)
    extra = json.loads(json.dumps(raw))
    extra["stages"]["outcomes"]["handshake-sang"] = "the server sang"
    with pytest.raises(CatalogueError, match="handshake-sang"):
        parse_catalogue(extra)
    fancy = json.loads(json.dumps(raw))
    fancy["stages"]["outcomes"]["chain-valid"] = ["{received.__class__} received"]
    with pytest.raises(CatalogueError):
        parse_catalogue(fancy)


def test_every_client_mismatch_has_words(raw: dict[str, Any]) -> None:
    cat = parse_catalogue(raw)
    versions = evidence(server_versions=["TLS 1.3"], client_versions=["TLS 1.0", "TLS 1.1"])
    assert cat.client_reason(ClientMismatch.PROTOCOL, versions) == (
        "no shared version (server: TLS 1.3; client: TLS 1.0, TLS 1.1)"
    )
    unknown = cat.client_reason(ClientMismatch.UNKNOWN, {})
    assert unknown == "the server's versions are not known"
    missing = json.loads(json.dumps(raw))
    del missing["clients"]["no-shared-group"]
    with pytest.raises(CatalogueError, match="no-shared-group"):
        parse_catalogue(missing)


def test_every_certificate_file_problem_is_one_sentence(raw: dict[str, Any]) -> None:
    """The CLI and the window show a certificate file's problem as the catalogue words it."""
    from core.certs import CertificateFileError

    cat = parse_catalogue(raw)
    facts = {"path": "/p", "reason": "r", "megabytes": 20, "name": "n", "error": "E"}
    for problem in CertificateFileProblem:
        text = cat.certificate_file_text(problem, facts | {"number": 2, "detail": "d"})
        assert text.endswith(".") and "{" not in text and UNKNOWN not in text, problem
    damaged = CertificateFileError(CertificateFileProblem.DAMAGED, detail="its version")
    assert str(damaged) == "The certificate is damaged and cannot be read (its version)."
    assert CertificateFileError(CertificateFileProblem.NEEDS_PASSWORD).kind == "needs_password"
    missing = json.loads(json.dumps(raw))
    del missing["certificate_files"]["cut_off"]
    with pytest.raises(CatalogueError, match="cut_off"):
        parse_catalogue(missing)


def test_unknown_default_fix_is_refused(raw: dict[str, Any]) -> None:
    data = json.loads(json.dumps(raw))
    data["findings"]["clock-skew"]["fixes"] = ["reboot-the-internet"]
    with pytest.raises(CatalogueError):
        parse_catalogue(data)


# --------------------------------------------------------------------------- texts


def test_every_finding_has_words(cat: Catalogue) -> None:
    for fid in FindingId:
        text = cat.finding(fid)
        assert text.title.strip()
        assert text.explanation.strip()
        assert text.headline.strip()
        assert isinstance(text.who_acts, Actor)


def test_headline_is_one_sentence(cat: Catalogue) -> None:
    for fid in FindingId:
        headline = cat.finding(fid).headline
        assert headline.endswith((".", "?", "!")), fid
        assert "\n" not in headline, fid
        body = headline[:-1]
        for stop in (". ", "? ", "! "):
            assert stop not in body, fid


def test_templates_hold_no_markup(cat: Catalogue) -> None:
    for fid in FindingId:
        text = cat.finding(fid)
        for template in (text.title, text.explanation, text.headline):
            for char in "<>&":
                assert char not in template, fid
            assert "\x1b" not in template, fid


def test_titles_take_no_fields(cat: Catalogue) -> None:
    for fid in FindingId:
        assert template_fields(cat.finding(fid).title) == (), fid


@pytest.mark.parametrize("fid", list(FindingId))
def test_templates_use_only_documented_keys(cat: Catalogue, fid: FindingId) -> None:
    text = cat.finding(fid)
    documented = set(text.evidence_keys)
    assert documented, f"{fid} documents no evidence keys"
    for template in (text.explanation, text.headline):
        assert set(template_fields(template)) <= documented, (fid, template)


# Whether the documented evidence keys are what the engine really emits is checked where findings
# are made: tests/evidence.py's assert_documented runs on every finding of the engine, chain,
# overlap and decide tests (a hand-copied table here drifted from the engine unnoticed).


@pytest.mark.parametrize("fid", list(FindingId))
def test_templates_format_with_full_and_empty_evidence(cat: Catalogue, fid: FindingId) -> None:
    full = Finding(fid, Severity.ERROR, evidence(**_full_evidence(cat, fid)))
    empty = Finding(fid, Severity.ERROR)
    for finding in (full, empty):
        assert cat.title(finding).strip()
        detail, headline = cat.detail(finding), cat.headline(finding)
        assert detail.strip()
        assert headline.strip()
        assert "{" not in detail
        assert "}" not in detail
        assert "{" not in headline
        assert "}" not in headline
    for key in template_fields(cat.finding(fid).explanation):
        assert _sample(key) in cat.detail(full)
    if template_fields(cat.finding(fid).explanation):
        assert UNKNOWN in cat.detail(empty)


@pytest.mark.parametrize("fid", list(FindingId))
@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_evidence_is_inserted_literally(
    cat: Catalogue, fid: FindingId, hostile: str
) -> None:
    keys = cat.finding(fid).evidence_keys
    finding = Finding(fid, Severity.ERROR, evidence(**dict.fromkeys(keys, hostile)))
    for template, out in (
        (cat.finding(fid).explanation, cat.detail(finding)),
        (cat.finding(fid).headline, cat.headline(finding)),
    ):
        used = template_fields(template)
        if used:
            assert hostile in out
            assert out.count(hostile) >= len(used)
        assert "<class" not in out


def test_fill_basics() -> None:
    assert fill("a {x} b", {"x": ("one", "two")}) == "a one, two b"
    assert fill("{x}", {"x": ()}) == "none"
    assert fill("{x}", {"x": True}) == "yes"
    assert fill("{x}", {"x": None}) == UNKNOWN
    assert fill("{x}", {}) == UNKNOWN
    assert fill("{x}", {"x": 10.0}) == "10"
    assert fill("{x}", {"x": 2.25}) == "2.2"
    assert fill("{x}", {"x": 3}) == "3"
    assert fill("{x}", {"x": "{y}", "y": "no"}) == "{y}"
    assert fill("{{literal}}", {}) == "{literal}"


@pytest.mark.parametrize(
    "template", ["{x.y}", "{x[0]}", "{0}", "{}", "{x!r}", "{x:>10}", "{x", "x}", "{x:{y}}"]
)
def test_fancy_fields_are_refused_by_the_loader_and_never_expanded(template: str) -> None:
    with pytest.raises(CatalogueError):
        template_fields(template)
    out = fill(template, {"x": "SECRET", "y": "3", "0": "SECRET"})
    assert "SECRET" not in out


def test_loader_refuses_undocumented_keys(raw: dict[str, Any]) -> None:
    data = json.loads(json.dumps(raw))
    data["findings"]["self-signed"]["explanation"] = "It is {not_a_key}."
    with pytest.raises(CatalogueError, match="not_a_key"):
        parse_catalogue(data)


def test_loader_refuses_misspelt_keys(raw: dict[str, Any]) -> None:
    data = json.loads(json.dumps(raw))
    data["findings"]["self-signed"]["explaination"] = "Oops."
    with pytest.raises(CatalogueError, match="explaination"):
        parse_catalogue(data)
    data = json.loads(json.dumps(raw))
    data["fixes"]["set-clock"]["steps"]["windoze"] = ["Oops."]
    with pytest.raises(CatalogueError, match="windoze"):
        parse_catalogue(data)


def test_loader_refuses_missing_os_steps(raw: dict[str, Any]) -> None:
    data = json.loads(json.dumps(raw))
    data["fixes"]["set-clock"]["steps"].pop("linux")
    with pytest.raises(CatalogueError, match="linux"):
        parse_catalogue(data)


def test_loader_refuses_headline_with_fields_but_no_fallback(raw: dict[str, Any]) -> None:
    data = json.loads(json.dumps(raw))
    data["findings"]["clock-skew"].pop("headline_fallback")
    with pytest.raises(CatalogueError, match="headline_fallback"):
        parse_catalogue(data)


def test_loader_refuses_format_specs(raw: dict[str, Any]) -> None:
    data = json.loads(json.dumps(raw))
    data["findings"]["self-signed"]["explanation"] = "It is {subject:>99}."
    with pytest.raises(CatalogueError):
        parse_catalogue(data)


@pytest.mark.parametrize("fid", list(FindingId))
def test_headline_falls_back_when_evidence_is_missing(cat: Catalogue, fid: FindingId) -> None:
    text = cat.finding(fid)
    assert template_fields(text.headline_fallback) == ()
    assert UNKNOWN not in cat.headline(Finding(fid, Severity.ERROR))
    full = Finding(fid, Severity.ERROR, evidence(**_full_evidence(cat, fid)))
    for key in template_fields(text.headline):
        assert _sample(key) in cat.headline(full)
    # One field missing is enough to fall back; an empty list or blank string counts as missing.
    for key in template_fields(text.headline):
        for blank in (None, (), "  "):
            partial = dict(_full_evidence(cat, fid), **{key: blank})
            finding = Finding(fid, Severity.ERROR, evidence(**partial))
            assert cat.headline(finding) == text.headline_fallback


def test_labels_cover_every_actor_severity_and_os(cat: Catalogue) -> None:
    for actor in Actor:
        assert cat.actor_label(actor) != actor.value
    for severity in Severity:
        assert cat.severity_label(severity).strip()
    assert cat.os_label(OsName.MACOS) == "macOS"


# --------------------------------------------------------------------------- fixes


def test_settings_actions_are_uris_or_commands(cat: Catalogue) -> None:
    action = next(a for a in cat.fix(FixId.SET_CLOCK).actions if a.kind == "open-settings")
    assert action.uri_for(OsName.WINDOWS) == "ms-settings:dateandtime"
    assert action.command_for(OsName.WINDOWS) is None
    assert action.uri_for(OsName.LINUX) is None
    assert action.command_for(OsName.LINUX) == ("gnome-control-center", "datetime")
    for fix in cat.fixes.values():
        for action in fix.actions:
            for os_name in action.target:
                if action.kind == "copy-text":
                    assert action.uri_for(os_name) is None
                    assert action.command_for(os_name) is None
                elif action.kind == "open-url":
                    assert action.uri_for(os_name) is not None
                else:
                    opener = action.uri_for(os_name) or action.command_for(os_name)
                    assert opener, (fix.id, os_name)


@pytest.mark.parametrize("fix_id", list(FixId))
def test_every_fix_has_steps_for_every_os(cat: Catalogue, fix_id: FixId) -> None:
    fix = cat.fix(fix_id)
    assert fix.title.strip()
    assert fix.why.strip()
    assert isinstance(fix.who, Actor)
    for os_name in OsName:
        steps = fix.steps_for(os_name)
        assert steps or fix.variants, (fix_id, os_name)
        assert all(step.strip() for step in steps)
    for name, steps in fix.variants.items():
        assert name.strip()
        assert steps
        assert all(s.strip() for s in steps)


def test_who_acts_per_fix(cat: Catalogue) -> None:
    site_owner = {
        FixId.RENEW_CERTIFICATE,
        FixId.INSTALL_FULL_CHAIN,
        FixId.FIX_SERVER_NAME,
        FixId.ENABLE_MODERN_TLS,
        FixId.ENABLE_MODERN_CIPHERS,
    }
    for fix_id in FixId:
        expected = Actor.SITE_OWNER if fix_id in site_owner else Actor.USER
        assert cat.fix(fix_id).who is expected, fix_id


def test_actions_are_well_formed(cat: Catalogue) -> None:
    for fix in cat.fixes.values():
        for action in fix.actions:
            assert action.kind in {"open-settings", "copy-text", "open-url"}
            assert action.label.strip()
            assert action.target, (fix.id, action.label)
            for os_name, target in action.target.items():
                assert isinstance(os_name, OsName)
                assert target.strip()
                assert action.target_for(os_name) == target
            if action.kind == "open-url":
                # neverssl.com: the one page a captive portal can replace with its sign-in page
                assert all(
                    t.startswith("https://") or t == "http://neverssl.com/"
                    for t in action.target.values()
                )


def test_set_clock_opens_settings_on_every_os(cat: Catalogue) -> None:
    fix = cat.fix(FixId.SET_CLOCK)
    opens = [a for a in fix.actions if a.kind == "open-settings"]
    assert opens
    assert set(opens[0].target) == set(OsName)
    assert opens[0].target[OsName.WINDOWS] == "ms-settings:dateandtime"


def test_server_snippets_are_modern(cat: Catalogue) -> None:
    for fix_id in (FixId.ENABLE_MODERN_TLS, FixId.ENABLE_MODERN_CIPHERS):
        fix = cat.fix(fix_id)
        copies = {a.label: a for a in fix.actions if a.kind == "copy-text"}
        assert len(copies) >= 3, fix_id
        texts = " ".join(t for a in copies.values() for t in a.target.values())
        for word in ("nginx", "Apache", "IIS"):
            assert any(word.lower() in label.lower() for label in copies), (fix_id, word)
            assert any(word.lower() in v.lower() for v in fix.variants), (fix_id, word)
        assert "ECDHE" in texts
        assert "CHACHA20" in texts
        assert "RC4" not in texts.replace("!RC4", "")


def test_priorities_are_ints(cat: Catalogue) -> None:
    for fix in cat.fixes.values():
        assert isinstance(fix.priority, int)


# --------------------------------------------------------------------------- ordering


def test_ordered_fixes_by_severity_then_priority_and_deduplicated(cat: Catalogue) -> None:
    low = min(cat.fixes.values(), key=lambda f: f.priority)
    high = max(cat.fixes.values(), key=lambda f: f.priority)
    assert low.priority < high.priority
    warning = Finding(FindingId.EXPIRES_SOON, Severity.WARNING, fixes=(low.id,))
    critical = Finding(FindingId.CERT_EXPIRED, Severity.CRITICAL, fixes=(high.id, low.id))
    again = Finding(FindingId.WEAK_KEY, Severity.CRITICAL, fixes=(high.id,))
    ordered = cat.ordered_fixes([warning, critical, again])
    ids = [f.id for f in ordered]
    assert ids == [low.id, high.id]  # both at critical; then by priority
    assert len(ids) == len(set(ids))

    ordered = cat.ordered_fixes(
        [warning, Finding(FindingId.CERT_EXPIRED, Severity.CRITICAL, fixes=(high.id,))]
    )
    assert [f.id for f in ordered] == [high.id, low.id]  # critical's fix first


def test_ordered_fixes_priority_within_one_severity(cat: Catalogue) -> None:
    fixes = tuple(FixId)
    ordered = cat.ordered_fixes([Finding(FindingId.CHAIN_INVALID, Severity.ERROR, fixes=fixes)])
    assert [f.priority for f in ordered] == sorted(f.priority for f in ordered)
    assert {f.id for f in ordered} == set(FixId)


def test_ordered_fixes_falls_back_to_catalogue_defaults(cat: Catalogue) -> None:
    finding = Finding(FindingId.CLOCK_SKEW, Severity.CRITICAL)
    ids = [f.id for f in cat.ordered_fixes([finding])]
    assert ids
    assert ids[0] is FixId.SET_CLOCK
    assert set(ids) == set(cat.finding(FindingId.CLOCK_SKEW).default_fixes)


def test_ordered_fixes_empty(cat: Catalogue) -> None:
    assert cat.ordered_fixes([]) == ()


# --------------------------------------------------------------------------- misc


def test_current_os_is_an_os() -> None:
    assert isinstance(current_os(), OsName)


def test_clock_skew_headline_reads_well(cat: Catalogue) -> None:
    finding = Finding(
        FindingId.CLOCK_SKEW,
        Severity.CRITICAL,
        evidence(offset_human="2 years behind", source="pool.ntp.org"),
    )
    assert cat.headline(finding).startswith("Your computer's clock is 2 years behind")


def test_expired_headline_names_date_and_owner(cat: Catalogue) -> None:
    finding = Finding(
        FindingId.CERT_EXPIRED, Severity.CRITICAL, evidence(not_after_date="3 March 2024")
    )
    headline = cat.headline(finding)
    assert "3 March 2024" in headline
    assert "owner" in headline


def test_times_in_sentences_read_as_dates_not_iso() -> None:
    from core.catalogue import load_catalogue
    from core.models import Finding, FindingId, Severity, evidence

    finding = Finding(
        FindingId.CLOCK_SKEW,
        Severity.CRITICAL,
        evidence(
            local_time="2024-11-27T07:57:26+00:00",
            reference_time="2026-11-27T07:57:26+00:00",
            offset_human="2 years behind",
            source="a time server",
        ),
    )
    detail = load_catalogue().detail(finding)
    assert "27 November 2024, 07:57 UTC" in detail
    assert "T07:57" not in detail
