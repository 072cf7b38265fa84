"""Every word a person reads about findings and fixes, and about a request that cannot be
checked (a bad option, form field or host), loaded from ``resources/catalogue.json``.

The CLI, the window and the PDF report all ask this module for titles, explanations, verdict
headlines and fix steps, and for the sentences of ``core.request.RequestError`` (worded for the
command line or for the window) and ``core.target.TargetError``; no other code holds sentences
about findings or requests. The data file is checked
when it is loaded (every ``FindingId`` and ``FixId`` present, no extras, templates using only the
evidence keys documented for their finding), so a gap fails at start-up and in the tests, never
in front of a user.

Templates are filled with evidence from strangers' certificates and servers. They are therefore
filled by hand, not with ``str.format``: only simple ``{name}`` fields are allowed, and values are
inserted as plain text, never read as templates themselves. Templates hold no markup; each
renderer escapes the result for its own target (HTML, terminal).
"""

from __future__ import annotations

import enum
import functools
import json
import re
import shlex
import sys
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import TypeVar

from core.models import (
    CertificateFileProblem,
    ClientMismatch,
    EvidenceValue,
    Finding,
    FindingId,
    FixId,
    ServiceSource,
    Severity,
    Target,
)
from core.request import RequestProblem
from core.stage_words import (
    RESOURCE_NAME,
    RESOURCE_PACKAGE,
    parse_choices,
    parse_stage_words,
)
from core.target import PROTOCOL_NAMES, SERVICES, TargetProblem
from core.templates import (
    UNKNOWN,
    CatalogueError,
    blank,
    fill,
    fill_first,
    known_keys,
    read_mapping,
    read_sequence,
    read_strings,
    read_template,
    read_text,
    render_value,
    same_ids,
    template_fields,
)

__all__ = [
    "UNKNOWN",
    "Actor",
    "Audience",
    "Catalogue",
    "CatalogueError",
    "FindingText",
    "FixAction",
    "FixText",
    "OsName",
    "RequestText",
    "current_os",
    "fill",
    "load_catalogue",
    "parse_catalogue",
    "render_value",
    "template_fields",
]

_T = TypeVar("_T")
_E = TypeVar("_E", bound=enum.Enum)


_ACTION_KINDS = frozenset({"open-settings", "copy-text", "open-url"})
_ALL_OS_KEY = "all"
# "ms-settings:dateandtime", "x-apple.systempreferences:...", "https://...": a URI to open.
# Anything else ("gnome-control-center datetime") is a command line to run.
_URI = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:\S*$")


class OsName(enum.StrEnum):
    WINDOWS = "windows"
    MACOS = "macos"
    LINUX = "linux"


def current_os() -> OsName:
    """The OS whose steps to show first. Anything that is not Windows or macOS gets Linux's."""
    if sys.platform == "win32":
        return OsName.WINDOWS
    if sys.platform == "darwin":
        return OsName.MACOS
    return OsName.LINUX


class Actor(enum.StrEnum):
    """Who has to act for a finding or a fix."""

    USER = "user"
    SITE_OWNER = "site-owner"
    NETWORK_ADMIN = "network-admin"


class Audience(enum.StrEnum):
    """Who reads a sentence about a request: the command line names its options, the window
    names its fields."""

    CLI = "cli"
    WINDOW = "window"


@dataclass(frozen=True)
class RequestText:
    """What is wrong with a request (options or form), before any check runs: a template per
    audience, filled with the facts the problem carries."""

    kind: RequestProblem
    cli: str
    window: str

    def for_audience(self, audience: Audience) -> str:
        return self.cli if audience is Audience.CLI else self.window


@dataclass(frozen=True)
class FindingText:
    id: FindingId
    title: str
    #: Template: a few plain sentences on what is wrong and why it matters.
    explanation: str
    #: Template: ONE sentence for the verdict banner naming the cause and who acts.
    headline: str
    who_acts: Actor
    #: The evidence keys the engine provides for this finding; templates use only these.
    evidence_keys: tuple[str, ...] = ()
    #: The fixes to offer when the engine names none of its own.
    default_fixes: tuple[FixId, ...] = ()
    #: The headline without fields, used when evidence for the headline's fields is missing, so
    #: the banner never reads "The name unknown could not be found". Required when the headline
    #: has fields; otherwise the headline itself.
    headline_fallback: str = ""


@dataclass(frozen=True)
class FixAction:
    #: "open-settings" (target: a URI or command per OS), "copy-text" (target: the text to copy)
    #: or "open-url" (target: a web address).
    kind: str
    label: str
    #: Per OS. An OS that is missing has no such button (e.g. no settings page to open).
    target: Mapping[OsName, str]

    def target_for(self, os_name: OsName) -> str | None:
        return self.target.get(os_name)

    def uri_for(self, os_name: OsName) -> str | None:
        """For open-settings / open-url: the URI to hand to the desktop (QDesktopServices)."""
        target = self.target.get(os_name)
        if self.kind == "copy-text" or target is None or not _URI.match(target):
            return None
        return target

    def command_for(self, os_name: OsName) -> tuple[str, ...] | None:
        """For open-settings targets that are not URIs (Linux): the argv to start, no shell."""
        target = self.target.get(os_name)
        if self.kind != "open-settings" or target is None or _URI.match(target):
            return None
        return tuple(shlex.split(target))


@dataclass(frozen=True)
class FixText:
    id: FixId
    title: str
    who: Actor
    #: One or two sentences: why this fix helps.
    why: str
    #: Numbered steps in plain words, for every OS (the same tuple where they do not differ).
    steps: Mapping[OsName, tuple[str, ...]]
    actions: tuple[FixAction, ...] = ()
    #: Lower = try first.
    priority: int = 100
    #: Site-owner fixes: steps per server software ("nginx", "Apache", "IIS", ...).
    variants: Mapping[str, tuple[str, ...]] = field(default_factory=lambda: MappingProxyType({}))

    def steps_for(self, os_name: OsName) -> tuple[str, ...]:
        return self.steps.get(os_name, ())

    def actions_for(self, os_name: OsName) -> tuple[FixAction, ...]:
        """The buttons that make sense on this OS."""
        return tuple(a for a in self.actions if os_name in a.target)


# --------------------------------------------------------------------------- the catalogue


class Catalogue:
    """Titles, explanations, headlines and fixes for every ``FindingId`` and ``FixId``."""

    def __init__(
        self,
        findings: Mapping[FindingId, FindingText],
        fixes: Mapping[FixId, FixText],
        labels: Mapping[str, Mapping[str, str]] | None = None,
        requests: Mapping[RequestProblem, RequestText] | None = None,
        targets: Mapping[TargetProblem, str] | None = None,
        clients: Mapping[ClientMismatch, tuple[str, ...]] | None = None,
        certificate_files: Mapping[CertificateFileProblem, tuple[str, ...]] | None = None,
        apps: AppTexts | None = None,
        services: ServiceWords | None = None,
    ) -> None:
        self._certificate_files = MappingProxyType(dict(certificate_files or {}))
        self._services = services or ServiceWords()
        self._clients = MappingProxyType(dict(clients or {}))
        self._apps = apps or AppTexts()
        self._findings = MappingProxyType(dict(findings))
        self._requests = MappingProxyType(dict(requests or {}))
        self._targets = MappingProxyType(dict(targets or {}))
        self._fixes = MappingProxyType(dict(fixes))
        self._labels = MappingProxyType(
            {group: MappingProxyType(dict(words)) for group, words in (labels or {}).items()}
        )

    @property
    def findings(self) -> Mapping[FindingId, FindingText]:
        return self._findings

    @property
    def fixes(self) -> Mapping[FixId, FixText]:
        return self._fixes

    def actor_label(self, actor: Actor) -> str:
        """ "You", "The site owner", ...: for "who acts" columns and badges."""
        return self._label("actors", actor.value)

    def severity_label(self, severity: Severity) -> str:
        return self._label("severities", severity.value)

    def os_label(self, os_name: OsName) -> str:
        return self._label("os", os_name.value)

    def _label(self, group: str, key: str) -> str:
        words = self._labels.get(group)
        return words.get(key, key) if words is not None else key

    def finding(self, fid: FindingId) -> FindingText:
        return self._findings[fid]

    def request_text(
        self, kind: RequestProblem, facts: Mapping[str, EvidenceValue], audience: Audience
    ) -> str:
        """One sentence on a request's problem, in the command line's or the window's words."""
        return fill(self._requests[kind].for_audience(audience), facts)

    def target_text(self, kind: TargetProblem, facts: Mapping[str, EvidenceValue]) -> str:
        """Why a typed host or URL names no server: one sentence, the same for every reader."""
        return fill(self._targets[kind], facts)

    def client_reason(self, mismatch: ClientMismatch, facts: Mapping[str, EvidenceValue]) -> str:
        """Why a reference client connects or not, in a few words from its facts."""
        return fill_first(self._clients.get(mismatch, (mismatch.value,)), facts)

    def certificate_file_text(
        self, problem: CertificateFileProblem, facts: Mapping[str, EvidenceValue]
    ) -> str:
        """Why a certificate file gives no certificates, in one sentence."""
        return fill_first(self._certificate_files.get(problem, (problem.value,)), facts)

    def fix(self, fix_id: FixId) -> FixText:
        return self._fixes[fix_id]

    def app_reason(self, fid: FindingId, client: str) -> str:
        """Why one app refuses this server, as a clause naming the app ("the server does not
        send its intermediate certificate, and Firefox does not fetch it")."""
        template = self._apps.reasons.get(fid)
        if template is None:
            return self.title(Finding(fid, Severity.ERROR)).lower()
        return fill(template, {"client": client})

    def app_sentence(self, key: str, **values: EvidenceValue) -> str:
        """One of the ``apps.verdicts`` sentences, filled."""
        return fill(self._apps.verdicts[key], values)

    def service_name(self, service: str) -> str:
        return self._services.names.get(service, service)

    def service_note(self, target: Target) -> str | None:
        """Why the check spoke a service's protocol (the scheme, --starttls, or the port that
        inferred it); None for the web."""
        if target.service is None or target.service_source is None:
            return None
        template = self._services.sources.get(target.service_source.value)
        if template is None:
            return None
        facts: dict[str, EvidenceValue] = {
            "service": self.service_name(target.service),
            "protocol": PROTOCOL_NAMES[target.starttls] if target.starttls else target.service,
            "port": target.port,
            "host": target.host,
        }
        return fill(template, facts)

    def title(self, finding: Finding) -> str:
        return self._findings[finding.id].title

    def detail(self, finding: Finding) -> str:
        """The explanation, filled with the finding's evidence."""
        return fill(self._findings[finding.id].explanation, finding.evidence)

    def headline(self, finding: Finding) -> str:
        """The verdict-banner sentence, filled with the finding's evidence; the field-free
        fallback sentence when any evidence it names is missing or empty."""
        text = self._findings[finding.id]
        fields = template_fields(text.headline)
        if text.headline_fallback and any(blank(finding.evidence.get(f)) for f in fields):
            return text.headline_fallback
        return fill(text.headline, finding.evidence)

    def fix_ids_for(self, finding: Finding) -> tuple[FixId, ...]:
        """The engine's fixes for this finding, or the catalogue's defaults when it named none."""
        return finding.fixes or self._findings[finding.id].default_fixes

    def fixes_for(self, finding: Finding) -> tuple[FixText, ...]:
        return self.ordered_fixes((finding,))

    def ordered_fixes(self, findings: Sequence[Finding]) -> tuple[FixText, ...]:
        """Every fix the findings call for, once each: fixes of the most severe finding first
        (a fix counts at the highest severity of any finding that asks for it), then by the fix's
        priority, then in the order the findings named them."""
        best: dict[FixId, tuple[int, int, int]] = {}
        position = 0
        for finding in findings:
            for fix_id in self.fix_ids_for(finding):
                key = (-finding.severity.rank, self._fixes[fix_id].priority, position)
                position += 1
                if fix_id not in best or key < best[fix_id]:
                    best[fix_id] = key
        ranked = sorted(best, key=best.__getitem__)
        return tuple(self._fixes[fix_id] for fix_id in ranked)


@dataclass(frozen=True)
class AppTexts:
    """The words about one app's verdict: a clause per finding ID and the verdict sentences."""

    reasons: Mapping[FindingId, str] = field(default_factory=lambda: MappingProxyType({}))
    verdicts: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


#: The ``apps.verdicts`` sentences and the fields each may use.
_APP_VERDICTS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "fails": frozenset({"client", "reasons"}),
        "connects": frozenset({"client"}),
        "unknown": frozenset({"client", "unknown"}),
        "others_connect": frozenset({"names"}),
        "other_connects": frozenset({"names"}),
        "others_fail": frozenset({"names"}),
        "browsers_fail": frozenset({"names"}),
        "browsers_connect": frozenset(),
        "certificates_ok": frozenset({"client"}),
        "not_probed": frozenset(),
        "rules_unknown": frozenset({"rules"}),
    }
)


def _parse_apps(raw: object) -> AppTexts:
    item = read_mapping(raw, "apps")
    known_keys(item, "apps", {"reasons", "verdicts"})
    reasons: dict[FindingId, str] = {}
    for key, value in read_mapping(item.get("reasons"), "apps.reasons").items():
        fid = _enum(FindingId, key, "apps.reasons")
        text = read_template(value, f"apps.reasons.{key}")
        if set(template_fields(text)) - {"client"}:
            raise CatalogueError(f"apps.reasons.{key} may use only {{client}}")
        reasons[fid] = text
    raw_verdicts = read_mapping(item.get("verdicts"), "apps.verdicts")
    same_ids("apps.verdicts", raw_verdicts, set(_APP_VERDICTS))
    verdicts: dict[str, str] = {}
    for key, value in raw_verdicts.items():
        text = read_template(value, f"apps.verdicts.{key}")
        if set(template_fields(text)) - _APP_VERDICTS[key]:
            raise CatalogueError(f"apps.verdicts.{key} uses fields it is not given")
        verdicts[key] = text
    return AppTexts(MappingProxyType(reasons), MappingProxyType(verdicts))


@functools.cache
def load_catalogue() -> Catalogue:
    """The packaged catalogue, read once through importlib.resources (works when frozen)."""
    text = resources.files(RESOURCE_PACKAGE).joinpath(RESOURCE_NAME).read_text(encoding="utf-8")
    return parse_catalogue(json.loads(text))


# --------------------------------------------------------------------------- parsing


def parse_catalogue(data: object) -> Catalogue:
    """Build and check a Catalogue from the decoded JSON. Raises CatalogueError on any gap."""
    root = read_mapping(data, "catalogue")
    known_keys(
        root,
        "catalogue",
        {
            "schema",
            "labels",
            "requests",
            "targets",
            "stages",
            "clients",
            "certificate_files",
            "apps",
            "findings",
            "fixes",
            "services",
        },
    )
    if root.get("schema") != 1:
        raise CatalogueError(f"catalogue schema {root.get('schema')!r} is not 1")
    labels = _parse_labels(root.get("labels"))
    raw_findings = read_mapping(root.get("findings"), "findings")
    raw_fixes = read_mapping(root.get("fixes"), "fixes")
    same_ids("finding", raw_findings, {f.value for f in FindingId})
    same_ids("fix", raw_fixes, {f.value for f in FixId})
    fixes = {FixId(key): _parse_fix(FixId(key), value) for key, value in raw_fixes.items()}
    findings = {
        FindingId(key): _parse_finding(FindingId(key), value) for key, value in raw_findings.items()
    }
    requests = _parse_requests(root.get("requests"))
    raw_targets = read_mapping(root.get("targets"), "targets")
    same_ids("target", raw_targets, {kind.value for kind in TargetProblem})
    targets = {
        TargetProblem(key): read_template(value, f"targets.{key}")
        for key, value in raw_targets.items()
    }
    # The step list's words are read on their own (core.stage_words); checked here too, so a
    # gap in them fails at load like any other.
    parse_stage_words(root.get("stages"))
    clients = parse_choices(root.get("clients"), "clients", ClientMismatch)
    files = parse_choices(
        root.get("certificate_files"), "certificate_files", CertificateFileProblem
    )
    apps = _parse_apps(root["apps"]) if "apps" in root else AppTexts()
    services = _parse_services(root.get("services"))
    return Catalogue(findings, fixes, labels, requests, targets, clients, files, apps, services)


@dataclass(frozen=True)
class ServiceWords:
    """The words for services beyond the web: each one's name, and why the check spoke it (by
    ``ServiceSource``). The STARTTLS step's own line is the ``stages`` section's."""

    names: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    sources: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))


def _parse_services(raw: object) -> ServiceWords:
    item = read_mapping(raw, "services")
    known_keys(item, "services", {"names", "sources"})
    names = read_mapping(item.get("names"), "services.names")
    same_ids("services.names", names, set(SERVICES) - {"postgresql"})
    sources = read_mapping(item.get("sources"), "services.sources")
    same_ids("services.sources", sources, {s.value for s in ServiceSource})
    return ServiceWords(
        MappingProxyType({k: read_text(v, f"services.names.{k}") for k, v in names.items()}),
        MappingProxyType(
            {k: read_template(v, f"services.sources.{k}") for k, v in sources.items()}
        ),
    )


def _parse_requests(raw: object) -> dict[RequestProblem, RequestText]:
    entries = read_mapping(raw, "requests")
    same_ids("request", entries, {kind.value for kind in RequestProblem})
    texts: dict[RequestProblem, RequestText] = {}
    for key, value in entries.items():
        where = f"requests.{key}"
        entry = read_mapping(value, where)
        known_keys(entry, where, {"text", "cli", "window", "prefix"})
        shared = entry.get("text")
        cli, window = entry.get("cli", shared), entry.get("window", shared)
        if cli is None or window is None:
            raise CatalogueError(f"{where} needs text, or both cli and window")
        cli, window = read_template(cli, f"{where}.cli"), read_template(window, f"{where}.window")
        if "prefix" in entry:
            cli = f"{read_text(entry['prefix'], f'{where}.prefix')}: {cli}"
        texts[RequestProblem(key)] = RequestText(RequestProblem(key), cli, window)
    return texts


_LABEL_GROUPS: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "actors": frozenset(a.value for a in Actor),
        "severities": frozenset(s.value for s in Severity),
        "os": frozenset(o.value for o in OsName),
    }
)


def _parse_labels(raw: object) -> dict[str, dict[str, str]]:
    item = read_mapping(raw, "labels")
    known_keys(item, "labels", set(_LABEL_GROUPS))
    labels: dict[str, dict[str, str]] = {}
    for group, expected in _LABEL_GROUPS.items():
        words = read_mapping(item.get(group), f"labels.{group}")
        same_ids(f"labels.{group}", words, set(expected))
        labels[group] = {
            key: read_text(value, f"labels.{group}.{key}") for key, value in words.items()
        }
    return labels


def _parse_finding(fid: FindingId, raw: object) -> FindingText:
    where = f"finding {fid}"
    item = read_mapping(raw, where)
    known_keys(
        item,
        where,
        {
            "title",
            "explanation",
            "headline",
            "headline_fallback",
            "who_acts",
            "evidence_keys",
            "fixes",
        },
    )
    keys = read_strings(item.get("evidence_keys", []), f"{where}.evidence_keys")
    if not all(key.isidentifier() for key in keys) or len(set(keys)) != len(keys):
        raise CatalogueError(f"{where}.evidence_keys must be distinct identifiers")
    headline = read_text(item.get("headline"), f"{where}.headline")
    fallback = item.get("headline_fallback")
    if fallback is None and template_fields(headline):
        raise CatalogueError(f"{where}: a headline with fields needs a headline_fallback")
    text = FindingText(
        id=fid,
        title=read_text(item.get("title"), f"{where}.title"),
        explanation=read_text(item.get("explanation"), f"{where}.explanation"),
        headline=headline,
        headline_fallback=headline if fallback is None else read_text(fallback, where),
        who_acts=_enum(Actor, item.get("who_acts"), f"{where}.who_acts"),
        evidence_keys=keys,
        default_fixes=tuple(
            _enum(FixId, v, f"{where}.fixes") for v in read_strings(item.get("fixes"), where)
        ),
    )
    for name in ("title", "explanation", "headline", "headline_fallback"):
        template = getattr(text, name)
        used = set(template_fields(template))
        if used and name in ("title", "headline_fallback"):
            raise CatalogueError(f"{where}.{name} takes no {{fields}}")
        unknown = sorted(used - set(keys))
        if unknown:
            raise CatalogueError(f"{where}.{name} uses undocumented evidence keys {unknown}")
    return text


def _parse_fix(fix_id: FixId, raw: object) -> FixText:
    where = f"fix {fix_id}"
    item = read_mapping(raw, where)
    known_keys(item, where, {"title", "who", "why", "priority", "steps", "variants", "actions"})
    priority = item.get("priority", 100)
    if not isinstance(priority, int) or isinstance(priority, bool):
        raise CatalogueError(f"{where}.priority must be an integer")
    fix = FixText(
        id=fix_id,
        title=read_text(item.get("title"), f"{where}.title"),
        who=_enum(Actor, item.get("who"), f"{where}.who"),
        why=read_text(item.get("why"), f"{where}.why"),
        steps=_per_os(item.get("steps"), f"{where}.steps", _steps),
        actions=tuple(
            _parse_action(a, f"{where}.actions[{i}]")
            for i, a in enumerate(read_sequence(item.get("actions", []), f"{where}.actions"))
        ),
        priority=priority,
        variants=MappingProxyType(
            {
                read_text(name, f"{where}.variants"): _steps(steps, f"{where}.variants.{name}")
                for name, steps in read_mapping(item.get("variants", {}), where).items()
            }
        ),
    )
    # Fix texts are shown as they are; a brace there is almost surely a template slip.
    for text in (fix.title, fix.why, *_all_steps(fix)):
        if template_fields(text):
            raise CatalogueError(f"{where}: fix texts take no {{fields}}: {text!r}")
    return fix


def _all_steps(fix: FixText) -> Iterable[str]:
    for steps in fix.steps.values():
        yield from steps
    for steps in fix.variants.values():
        yield from steps


def _parse_action(raw: object, where: str) -> FixAction:
    item = read_mapping(raw, where)
    known_keys(item, where, {"kind", "label", "target"})
    kind = read_text(item.get("kind"), f"{where}.kind")
    if kind not in _ACTION_KINDS:
        raise CatalogueError(f"{where}.kind must be one of {sorted(_ACTION_KINDS)}")
    action = FixAction(
        kind=kind,
        label=read_text(item.get("label"), f"{where}.label"),
        target=_per_os(item.get("target"), f"{where}.target", read_text, require_all=False),
    )
    if not action.target:
        raise CatalogueError(f"{where}.target is empty")
    if kind == "open-url" and not all(
        t.startswith("https://") or t in _PLAIN_HTTP_URLS for t in action.target.values()
    ):
        raise CatalogueError(f"{where}: open-url targets must be https addresses")
    return action


#: The one plain-http page an action may open: a captive portal can only show its sign-in page
#: in place of a page without TLS, and this site exists to be that page.
_PLAIN_HTTP_URLS = frozenset({"http://neverssl.com/"})


def _per_os(
    raw: object,
    where: str,
    parse: Callable[[object, str], _T],
    *,
    require_all: bool = True,
) -> Mapping[OsName, _T]:
    """``{"all": X}`` or ``{"windows": X, "macos": Y, "linux": Z}`` (``all`` fills the gaps)."""
    item = read_mapping(raw, where)
    unknown = sorted(set(item) - {o.value for o in OsName} - {_ALL_OS_KEY})
    if unknown:
        raise CatalogueError(f"{where}: unknown OS keys {unknown}")
    result: dict[OsName, _T] = {}
    for os_name in OsName:
        value = item.get(os_name.value, item.get(_ALL_OS_KEY))
        if value is None:
            if require_all:
                raise CatalogueError(f"{where}: nothing for {os_name}")
            continue
        result[os_name] = parse(value, f"{where}.{os_name}")
    return MappingProxyType(result)


def _steps(raw: object, where: str) -> tuple[str, ...]:
    steps = read_strings(raw, where)
    if not steps:
        raise CatalogueError(f"{where}: no steps")
    return steps


def _enum(cls: type[_E], raw: object, where: str) -> _E:
    try:
        return cls(raw)
    except ValueError:
        raise CatalogueError(f"{where}: {raw!r} is not a {cls.__name__}") from None
