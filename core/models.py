"""The nouns of a check: what was asked, what was seen, what it means.

Everything here is immutable. The engine builds these; the CLI, the window and the PDF only read
them. Enums subclass ``str`` so that the JSON output carries stable values.
"""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from types import MappingProxyType
from typing import TYPE_CHECKING

from core.wire.records import TlsVersion

if TYPE_CHECKING:  # core.route and the portal analysis build on these models
    from core.analyze.portal import PortalResult
    from core.os_verifier import OsVerdict
    from core.route import AddressAttempt, Route, SniRetry

SCHEMA_VERSION = 1
DEFAULT_TIME_SERVERS = ("pool.ntp.org", "1.pool.ntp.org", "2.pool.ntp.org")


class Severity(enum.StrEnum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"

    @property
    def rank(self) -> int:
        return _SEVERITY_RANK[self]


_SEVERITY_RANK = {Severity.INFO: 0, Severity.WARNING: 1, Severity.ERROR: 2, Severity.CRITICAL: 3}


class Verdict(enum.StrEnum):
    OK = "ok"
    WARNING = "warning"
    ERROR = "error"
    CRITICAL = "critical"


class FindingId(enum.StrEnum):
    """The contract's finding IDs (shared/contract.md), plus two the engine needs beyond it."""

    DNS_FAILURE = "dns-failure"
    CONNECT_REFUSED = "connect-refused"
    CONNECT_TIMEOUT = "connect-timeout"
    CONNECTION_RESET = "connection-reset"
    HANDSHAKE_TIMEOUT = "handshake-timeout"
    NOT_TLS = "not-tls"
    TLS_ALERT = "tls-alert"
    NO_SHARED_PROTOCOL = "no-shared-protocol"
    LEGACY_PROTOCOL = "legacy-protocol"
    NO_SHARED_CIPHER = "no-shared-cipher"
    WEAK_CIPHER = "weak-cipher"
    NO_FORWARD_SECRECY = "no-forward-secrecy"
    CERT_EXPIRED = "cert-expired"
    CERT_NOT_YET_VALID = "cert-not-yet-valid"
    EXPIRES_SOON = "expires-soon"
    HOSTNAME_MISMATCH = "hostname-mismatch"
    SELF_SIGNED = "self-signed"
    UNTRUSTED_ROOT = "untrusted-root"
    INCOMPLETE_CHAIN = "incomplete-chain"
    CHAIN_ORDER = "chain-order"
    WEAK_SIGNATURE = "weak-signature"
    WEAK_KEY = "weak-key"
    CERT_REVOKED = "cert-revoked"
    CLIENT_CERT_REQUIRED = "client-cert-required"
    INTERCEPTION_SUSPECTED = "interception-suspected"
    CLOCK_SKEW = "clock-skew"
    CLOCK_UNVERIFIED = "clock-unverified"
    PROXY_UNREACHABLE = "proxy-unreachable"
    PROXY_AUTH_REQUIRED = "proxy-auth-required"
    PROXY_REFUSED = "proxy-refused"
    DIRECT_BLOCKED = "direct-blocked"
    CAPTIVE_PORTAL = "captive-portal"
    # The user's path (contract: "The user's path").
    SNI_FILTERED = "sni-filtered"
    DNS_BLOCKED = "dns-blocked"
    NETWORK_OFFLINE = "network-offline"
    IPV6_BROKEN = "ipv6-broken"
    # Per client (contract: "Per client"): causes some clients refuse and others accept.
    WEAK_DH = "weak-dh"
    WRONG_PURPOSE = "wrong-purpose"
    CHAIN_TOO_LONG = "chain-too-long"
    CT_MISSING = "ct-missing"
    LIFETIME_TOO_LONG = "lifetime-too-long"
    # Services (contract: "Services"): the STARTTLS exchange before the handshake.
    STARTTLS_UNSUPPORTED = "starttls-unsupported"
    STARTTLS_REFUSED = "starttls-refused"
    # Beyond the contract: the path validator refused the chain for a reason none of the
    # structured checks above names (e.g. a name-constraint or key-usage violation).
    CHAIN_INVALID = "chain-invalid"
    # Beyond the contract: a bug in one of our own checks; the others still report.
    INTERNAL_ERROR = "internal-error"


class FixId(enum.StrEnum):
    SET_CLOCK = "set-clock"
    ALLOWLIST_FIREWALL = "allowlist-firewall"
    TRY_ANOTHER_BROWSER = "try-another-browser"
    UPDATE_CLIENT = "update-client"
    UPDATE_ROOT_STORE = "update-root-store"
    CHECK_ANTIVIRUS_INSPECTION = "check-antivirus-inspection"
    CHECK_PORT_AND_HOST = "check-port-and-host"
    CONTACT_SITE_OWNER = "contact-site-owner"
    RENEW_CERTIFICATE = "renew-certificate"
    INSTALL_FULL_CHAIN = "install-full-chain"
    FIX_SERVER_NAME = "fix-server-name"
    ENABLE_MODERN_TLS = "enable-modern-tls"
    ENABLE_MODERN_CIPHERS = "enable-modern-ciphers"
    PROVIDE_CLIENT_CERTIFICATE = "provide-client-certificate"
    CHECK_DNS = "check-dns"
    SIGN_IN_TO_NETWORK = "sign-in-to-network"
    CONFIGURE_PROXY = "configure-proxy"
    ASK_NETWORK_ADMIN = "ask-network-admin"
    USE_OTHER_NETWORK = "use-other-network"
    CHECK_DNS_FILTER = "check-dns-filter"
    FIX_IPV6 = "fix-ipv6"
    RECONNECT_NETWORK = "reconnect-network"
    CONFIGURE_MAIL_CLIENT = "configure-mail-client"


EvidenceValue = str | int | float | bool | None | tuple[str, ...]


def evidence(**items: EvidenceValue | list[str]) -> Mapping[str, EvidenceValue]:
    """Freeze evidence so a Finding stays immutable; lists become tuples."""
    frozen: dict[str, EvidenceValue] = {}
    for key, value in items.items():
        frozen[key] = tuple(value) if isinstance(value, list) else value
    return MappingProxyType(frozen)


def verdict_of(findings: Sequence[Finding]) -> Verdict:
    """The worst severity among the findings, as the contract's ``verdict``: ok below warning.
    ``check`` and ``inspect`` both say it this way."""
    worst = max((f.severity.rank for f in findings), default=-1)
    if worst < Severity.WARNING.rank:
        return Verdict.OK
    return Verdict({1: Severity.WARNING, 2: Severity.ERROR, 3: Severity.CRITICAL}[worst].value)


@dataclass(frozen=True)
class Finding:
    """One cause, with the facts that show it. Words for people come from the catalogue."""

    id: FindingId
    severity: Severity
    evidence: Mapping[str, EvidenceValue] = field(default_factory=lambda: MappingProxyType({}))
    fixes: tuple[FixId, ...] = ()


# --------------------------------------------------------------------------- the request


class StarttlsProtocol(enum.StrEnum):
    """The plain-text protocols a check can upgrade to TLS before the handshake (``--starttls``
    and the URL schemes). Values are the contract's ``--starttls`` names and ``path.starttls``."""

    SMTP = "smtp"
    IMAP = "imap"
    POP3 = "pop3"
    FTP = "ftp"
    XMPP = "xmpp"
    LDAP = "ldap"
    POSTGRES = "postgres"


class ServiceSource(enum.StrEnum):
    """How the check came to speak a service's protocol: the catalogue words each for the
    report ("port 587 is mail submission: the check asked for STARTTLS first")."""

    SCHEME = "scheme"  # the URL said so: smtp://, imaps://
    OPTION = "option"  # --starttls PROTO
    PORT = "port"  # a well-known port, typed without either


@dataclass(frozen=True)
class Target:
    """Where to connect. ``host`` is what the user typed (Unicode allowed); ``sni`` is what goes
    on the wire (punycode), or None for an IP literal, which TLS clients do not send as SNI."""

    host: str
    port: int = 443
    connect_address: str | None = None
    connect_port: int | None = None
    sni: str | None = None
    #: The service on this port when it is not a web site: a URL scheme's name (``smtp``,
    #: ``imaps``, ...), None for HTTPS. Only HTTPS gets the HTTP ``Date:`` probe.
    service: str | None = None
    #: Speak this protocol and ask it for TLS before the handshake; None: TLS at once.
    starttls: StarttlsProtocol | None = None
    #: Where ``service`` came from; None for HTTPS.
    service_source: ServiceSource | None = None

    @property
    def is_web(self) -> bool:
        return self.service is None

    @property
    def is_ip(self) -> bool:
        return self.sni is None

    @property
    def dial_host(self) -> str:
        return self.connect_address or self.host_ascii

    @property
    def dial_port(self) -> int:
        return self.connect_port or self.port

    @property
    def host_ascii(self) -> str:
        return self.sni or self.host

    def display(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{host}:{self.port}"


@dataclass(frozen=True)
class ClientCredentials:
    """A client certificate for servers that ask for one. The key never leaves this object:
    nothing here is rendered, logged or serialised (``repr`` hides it)."""

    certificate_pem: bytes
    key_pem: bytes = field(repr=False)
    source: str = ""

    def __repr__(self) -> str:
        return f"ClientCredentials(source={self.source!r})"


class ProxyScheme(enum.StrEnum):
    HTTP = "http"
    SOCKS5 = "socks5"  # the client resolves the site's name
    SOCKS5H = "socks5h"  # the proxy resolves it


@dataclass(frozen=True)
class ProxyEndpoint:
    """A proxy to dial. The credentials never appear in ``repr`` or ``display``."""

    scheme: ProxyScheme
    host: str
    port: int
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False, compare=False)

    @property
    def display(self) -> str:
        """The proxy as it may be shown in a report: scheme, host, port; no credentials."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme.value}://{host}:{self.port}"

    @property
    def has_credentials(self) -> bool:
        return self.username is not None


@dataclass(frozen=True)
class CheckOptions:
    ca_file: Path | None = None
    no_default_trust: bool = False
    client_credentials: ClientCredentials | None = None
    timeout: float = 10.0
    # Three members of the public pool, asked at once; the one with the shortest round trip wins.
    time_servers: tuple[str, ...] = DEFAULT_TIME_SERVERS
    no_network_time: bool = False
    quick: bool = False
    gentle: bool = False
    fetch_aia: bool = True
    check_revocation: bool = True
    #: ``--dns-server``: (address, port) to ask instead of this computer's resolvers.
    dns_server: tuple[str, int] | None = None
    #: ``--proxy``, checked: the proxy to go through whatever the settings say.
    proxy: ProxyEndpoint | None = None
    #: ``--no-proxy``: connect directly whatever the settings say.
    no_proxy: bool = False
    #: Look for the proxy as the user's apps do (the environment, then this computer's
    #: settings). The command line and the window ask for it; a library caller gets a direct
    #: check unless it says so.
    system_proxy: bool = False
    #: The plain-HTTP probe for captive portals; None: no probe.
    portal_url: str | None = None
    #: ``--client``: the app that showed the error (an id of resources/client_facts.json);
    #: None: "I don't know".
    client: str | None = None


# --------------------------------------------------------------------------- observations


class Direction(enum.StrEnum):
    CLIENT = "client"
    SERVER = "server"


class HandshakeStepKind(enum.StrEnum):
    """The messages a user can see on the ladder. Values are the JSON ``step`` names."""

    CLIENT_HELLO = "client-hello"
    SERVER_HELLO = "server-hello"
    HELLO_RETRY_REQUEST = "hello-retry-request"
    ENCRYPTED_EXTENSIONS = "encrypted-extensions"
    CERTIFICATE = "certificate"
    CERTIFICATE_STATUS = "certificate-status"
    SERVER_KEY_EXCHANGE = "server-key-exchange"
    CERTIFICATE_REQUEST = "certificate-request"
    CERTIFICATE_VERIFY = "certificate-verify"
    SERVER_HELLO_DONE = "server-hello-done"
    CLIENT_CERTIFICATE = "client-certificate"
    CLIENT_KEY_EXCHANGE = "client-key-exchange"
    CLIENT_CERTIFICATE_VERIFY = "client-certificate-verify"
    CHANGE_CIPHER_SPEC = "change-cipher-spec"
    FINISHED = "finished"
    NEW_SESSION_TICKET = "new-session-ticket"
    ALERT = "alert"
    OTHER = "other"


@dataclass(frozen=True)
class HandshakeStep:
    step: HandshakeStepKind
    direction: Direction
    t_ms: float
    detail: str = ""


class NetworkFailure(enum.StrEnum):
    """How the connection failed before a certificate could be examined."""

    DNS_FAILURE = "dns-failure"
    CONNECT_REFUSED = "connect-refused"
    CONNECT_TIMEOUT = "connect-timeout"
    UNREACHABLE = "unreachable"
    CONNECTION_RESET = "connection-reset"
    HANDSHAKE_TIMEOUT = "handshake-timeout"
    NOT_TLS = "not-tls"
    TLS_ALERT = "tls-alert"
    TLS_ERROR = "tls-error"
    #: The plain-text exchange before TLS (STARTTLS) did not give a TLS channel.
    STARTTLS_FAILED = "starttls-failed"
    CANCELLED = "cancelled"


@dataclass(frozen=True)
class ResolveResult:
    addresses: tuple[str, ...]
    duration_ms: float
    error: str | None = None


@dataclass(frozen=True)
class HttpDateSample:
    """The server's ``Date:`` header and the local times around the request that fetched it."""

    date_header: str
    sent_at: datetime
    received_at: datetime


@dataclass(frozen=True)
class HandshakeObservation:
    """What one real handshake showed. ``chain_der`` is the chain exactly as the server sent it."""

    address: str | None
    ok: bool
    protocol: TlsVersion | None = None
    cipher: str | None = None
    cipher_openssl: str | None = None
    group: str | None = None
    alpn: str | None = None
    steps: tuple[HandshakeStep, ...] = ()
    chain_der: tuple[bytes, ...] = ()
    failure: NetworkFailure | None = None
    failure_detail: str = ""
    alert: str | None = None
    alert_after_finished: bool = False
    certificate_requested: bool = False
    client_certificate_sent: bool = False
    first_bytes: bytes = b""
    http_date: HttpDateSample | None = None
    duration_ms: float = 0.0
    legacy_retry: bool = False


class StarttlsFailure(enum.StrEnum):
    """How the exchange before TLS failed; ``core.causes`` names the cause of each."""

    UNSUPPORTED = "unsupported"  # the server does not offer STARTTLS
    REFUSED = "refused"  # it offers it, then refuses the command
    NOT_PROTOCOL = "not-protocol"  # the greeting is not this protocol at all
    SILENT = "silent"  # no greeting (or no answer) within the step timeout
    CLOSED = "closed"  # the server closed or reset the connection during the exchange
    TOO_LONG = "too-long"  # more text than any real greeting or capability list


@dataclass(frozen=True)
class StarttlsLine:
    """One line (or message) of the exchange before TLS, as the ladder shows it. What the server
    sent is a stranger's text: kept as data, shown escaped, never interpreted beyond parsing."""

    direction: Direction
    text: str
    t_ms: float


@dataclass(frozen=True)
class StarttlsObservation:
    """The plain-text exchange that asked the server for TLS, and how it ended."""

    protocol: StarttlsProtocol
    ok: bool
    failure: StarttlsFailure | None = None
    #: The server's greeting (banner) and its capability lines: untrusted text.
    banner: str = ""
    capabilities: tuple[str, ...] = ()
    #: The server's answer to the STARTTLS command (or to what came instead): untrusted text.
    reply: str = ""
    lines: tuple[StarttlsLine, ...] = ()
    detail: str = ""
    duration_ms: float = 0.0


# --------------------------------------------------------------------------- analysis results


@dataclass(frozen=True)
class CertificateInfo:
    subject: str
    issuer: str
    not_before: datetime
    not_after: datetime
    san: tuple[str, ...]
    sha256: str
    sha1: str
    serial: str
    key: str
    key_bits: int
    signature_algorithm: str
    sent_by_server: bool
    is_ca: bool
    self_issued: bool
    pem: str
    trusted_by: tuple[str, ...] = ()


@dataclass(frozen=True)
class TrustResult:
    """Which stores accept the chain. None: that store was not consulted."""

    mozilla: bool | None
    os: bool | None
    custom: bool | None
    #: The OS's own verifier on the chain (Windows, macOS); None where there is none to ask
    #: (Linux: "os" above is already what its programs decide) or it was not asked.
    os_verifier: OsVerdict | None = None

    @property
    def any(self) -> bool:
        return bool(self.mozilla or self.os or self.custom)


class ClockSource(enum.StrEnum):
    NTP = "ntp"
    HTTP_DATE = "http-date"
    NONE = "none"


@dataclass(frozen=True)
class ClockResult:
    reference: ClockSource
    source: str | None
    offset_s: float | None
    uncertainty_s: float | None
    local_time: datetime | None = None
    reference_time: datetime | None = None
    notes: tuple[str, ...] = ()


class ClientMismatch(enum.StrEnum):
    """Why a simulated client does not connect (the catalogue's ``clients`` words each)."""

    NONE = "none"
    PROTOCOL = "no-shared-protocol"  # server_versions, client_versions
    CIPHER = "no-shared-cipher"  # version
    GROUP = "no-shared-group"
    #: The server's side was not (fully) measured.
    UNKNOWN = "unknown"  # version, when only that version's suites are unknown


@dataclass(frozen=True)
class ClientResult:
    """One client against this server. ``trusted`` None: its root store could not be
    consulted; ``reasons`` are finding IDs; ``unknown`` names the rules no source establishes."""

    name: str
    #: None: not known (a quick check probes no versions or suites).
    connects: bool | None
    protocol: TlsVersion | None
    cipher: str | None
    mismatch: ClientMismatch = ClientMismatch.NONE
    #: The facts the catalogue's words for the mismatch are filled from.
    facts: Mapping[str, EvidenceValue] = field(default_factory=lambda: MappingProxyType({}))
    id: str = ""
    trusted: bool | None = None
    reasons: tuple[FindingId, ...] = ()
    current: bool = False
    browser: bool = False
    unknown: tuple[str, ...] = ()


class CertificateFileProblem(enum.StrEnum):
    """Why a certificate file (or a trust bundle) gives no certificates: the catalogue's
    ``certificate_files`` words each, from the facts the error carries."""

    EMPTY = "empty"
    DAMAGED = "damaged"  # number, detail (both optional)
    DAMAGED_CHAIN = "damaged_chain"  # name, error
    UNKNOWN_FORMAT = "unknown_format"
    PKCS12_STALL = "pkcs12_stall"
    NEEDS_PASSWORD = "needs_password"  # noqa: S105 - a kind of problem, not a password
    PKCS12_EMPTY = "pkcs12_empty"
    PRIVATE_KEY = "private_key"
    PEM_EMPTY = "pem_empty"
    CUT_OFF = "cut_off"
    TOO_LARGE = "too_large"  # path, megabytes
    FOLDER = "folder"  # path
    MISSING = "missing"  # path
    FORBIDDEN = "forbidden"  # path
    SPECIAL = "special"  # path
    UNREADABLE = "unreadable"  # path, reason
    BUNDLE_TOO_LARGE = "bundle_too_large"  # path
    BUNDLE_EMPTY = "bundle_empty"  # path
    CERTIFI_MISSING = "certifi_missing"


class StageId(enum.StrEnum):
    RESOLVE = "resolve"
    #: Only when the check goes through a proxy: reaching it and opening the tunnel.
    PROXY = "proxy"
    CONNECT = "connect"
    #: Only for services that upgrade a plain connection: the greeting and the STARTTLS exchange.
    STARTTLS = "starttls"
    HANDSHAKE = "handshake"
    CERTIFICATES = "certificates"
    CLOCK = "clock"
    PROTOCOLS = "protocols"


class StageStatus(enum.StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    OK = "ok"
    FAILED = "failed"
    SKIPPED = "skipped"


class StageOutcome(enum.StrEnum):
    """What a stage concluded (or, while it runs, what it is doing), as data: the words are the
    catalogue's (``stages.outcomes``), filled from the stage's facts, so the terminal, the PDF
    and the window say the same thing. A new outcome is a value here and a template there."""

    RESOLVE_NOT_NEEDED = "resolve-not-needed"  # address: the connect address given
    RESOLVE_IP_LITERAL = "resolve-ip-literal"  # address
    RESOLVED = "resolved"  # resolver, addresses
    RESOLVE_FAILED = "resolve-failed"  # error, resolver (when the error does not name it)
    RESOLVE_BLOCKED = "resolve-blocked"  # resolver, addresses
    RESOLVE_LEFT_TO_PROXY = "resolve-left-to-proxy"  # proxy, setting
    RESOLVE_LEFT_TO_PAC = "resolve-left-to-pac"
    PROXY_CONNECTED = "proxy-connected"  # proxy, setting
    PROXY_FAILED = "proxy-failed"  # proxy, setting, detail
    PAC_FAILED = "pac-failed"  # detail
    CONNECTED = "connected"  # address, port
    CONNECTED_AFTER_TRIES = "connected-after-tries"  # attempts
    CONNECT_FAILED = "connect-failed"  # attempts
    CONNECTED_THROUGH_PROXY = "connected-through-proxy"  # host, port, proxy
    STARTTLS_ACCEPTED = "starttls-accepted"  # protocol
    STARTTLS_FAILED = "starttls-failed"  # protocol, detail
    HANDSHAKE_DONE = "handshake-done"  # protocol, cipher
    HANDSHAKE_ALERT = "handshake-alert"  # alert
    HANDSHAKE_TIMEOUT = "handshake-timeout"  # timeout_s
    HANDSHAKE_CLOSED = "handshake-closed"
    HANDSHAKE_NOT_TLS = "handshake-not-tls"
    HANDSHAKE_FAILED = "handshake-failed"  # detail
    NO_CERTIFICATE = "no-certificate"
    CERTIFICATE_UNREADABLE = "certificate-unreadable"
    CHAIN_VALID = "chain-valid"  # received
    CHAIN_NOT_VALID = "chain-not-valid"  # received, finding (the FindingId that says why)
    CLOCK_ASKING = "clock-asking"
    CLOCK_WAITING_FOR_SERVER = "clock-waiting-for-server"
    CLOCK_NO_REFERENCE = "clock-no-reference"
    CLOCK_RIGHT = "clock-right"  # within_s, reference
    CLOCK_WRONG = "clock-wrong"  # offset_s, reference
    PROTOCOLS_PROBING = "protocols-probing"  # done, total (absent before the first probe)
    PROTOCOLS_QUICK = "protocols-quick"
    PROTOCOLS_ACCEPTED = "protocols-accepted"  # versions
    PROTOCOLS_UNTESTED = "protocols-untested"  # note
    PROTOCOLS_NONE_ACCEPTED = "protocols-none-accepted"
    #: Any stage.
    WAITING = "waiting"
    NOT_REACHED = "not-reached"
    INTERNAL_ERROR = "internal-error"
    CANCELLED = "cancelled"
    NOT_FINISHED = "not-finished"


class StageItem(enum.StrEnum):
    """One entry of a list a stage line names (``stages.items`` words each)."""

    ATTEMPT_CONNECTED = "attempt-connected"  # address
    ATTEMPT_REFUSED = "attempt-refused"  # address, error
    ATTEMPT_NO_ANSWER = "attempt-no-answer"  # address, error
    ATTEMPT_UNREACHABLE = "attempt-unreachable"  # address, error
    ATTEMPT_RESET = "attempt-reset"  # address, error
    ATTEMPT_FAILED = "attempt-failed"  # address, error


#: A stage fact: plain values, or a list of items (each names its template in ``item``), such
#: as the addresses a connect tried.
StageFact = EvidenceValue | tuple[Mapping[str, EvidenceValue], ...]


def stage_facts(**items: StageFact) -> Mapping[str, StageFact]:
    """Frozen facts, with the ones that are None left out (a template falls back without them)."""
    return MappingProxyType({key: value for key, value in items.items() if value is not None})


_NO_FACTS: Mapping[str, StageFact] = MappingProxyType({})


@dataclass(frozen=True)
class StageEvent:
    """Progress as it happens: the window fills its stage list from these."""

    stage: StageId
    status: StageStatus
    elapsed_ms: float = 0.0
    #: None while running with nothing more to say: the stage's own running words.
    outcome: StageOutcome | None = None
    facts: Mapping[str, StageFact] = field(default_factory=lambda: _NO_FACTS)
    done: int = 0
    total: int = 0


@dataclass(frozen=True)
class StageResult:
    """How one stage ended: its outcome and the facts its words are filled from (the renderers
    word them through ``core.render.stages``)."""

    stage: StageId
    status: StageStatus
    duration_ms: float
    outcome: StageOutcome
    facts: Mapping[str, StageFact] = field(default_factory=lambda: _NO_FACTS)


class ProxyFailure(enum.StrEnum):
    """How a proxy failed to give a path to the site."""

    PROXY_UNREACHABLE = "proxy-unreachable"  # no TCP connection to the proxy itself
    TIMED_OUT = "timed-out"  # the proxy took the connection, then did not answer in time
    AUTH_REQUIRED = "auth-required"  # 407 (or 401), or SOCKS refusing every method offered
    REFUSED = "refused"  # the proxy will not connect to this site (a policy)
    SITE_UNREACHABLE = "site-unreachable"  # the proxy tried and could not reach the site
    MALFORMED = "malformed"  # the answer is not the protocol


@dataclass(frozen=True)
class ProxyObservation:
    """The proxy a check went through, where that setting came from, and what it answered."""

    proxy: str  # scheme://host:port, never credentials
    source: str  # the contract's path.proxy_source: option | env | system | pac
    setting: str  # the exact place: --proxy, HTTPS_PROXY, GNOME proxy settings, ...
    failure: ProxyFailure | None = None
    detail: str = ""
    status: int | None = None
    auth_schemes: tuple[str, ...] = ()
    proxy_words: str | None = None  # the proxy's own text: untrusted


@dataclass(frozen=True)
class HttpProbeAnswer:
    """One plain HTTP request's answer, redirects not followed: what a captive portal shows."""

    url: str
    status: int | None  # None: no answer (``failure`` says why)
    location: str | None  # a stranger's text: shown escaped, never fetched
    content_type: str | None
    body: bytes
    failure: str | None = None


@dataclass(frozen=True)
class RevocationStatus:
    """What the leaf's OCSP responder said, or why it said nothing (``note``)."""

    checked: bool
    revoked: bool
    responder: str | None  # as it may be shown: no userinfo
    note: str
    revoked_at: datetime | None = None
    reason: str | None = None


@dataclass(frozen=True)
class CheckReport:
    target: Target
    options: CheckOptions
    started_at: datetime
    duration_ms: float
    handshake: HandshakeObservation | None
    certificates: tuple[CertificateInfo, ...]
    trust: TrustResult
    protocols: Mapping[TlsVersion, bool | None]
    ciphers: Mapping[TlsVersion, tuple[str, ...]]
    groups: tuple[str, ...]
    server_preference: bool | None
    clients: tuple[ClientResult, ...]
    clock: ClockResult
    findings: tuple[Finding, ...]
    stages: tuple[StageResult, ...] = ()
    internal_errors: tuple[str, ...] = ()
    revocation: RevocationStatus | None = None
    #: The path taken, what each address did, and the comparison handshakes after a cut.
    route: Route | None = None
    attempts: tuple[AddressAttempt, ...] = ()
    sni_retries: tuple[SniRetry, ...] = ()
    portal: PortalResult | None = None
    #: Every app's verdict, a quick check's too (``clients`` is the contract's: only where the
    #: versions and suites were probed, so that ``connects`` is a yes or a no).
    app_verdicts: tuple[ClientResult, ...] = ()
    #: The exchange before TLS (STARTTLS services only).
    starttls: StarttlsObservation | None = None
    schema: int = SCHEMA_VERSION

    @property
    def client(self) -> str | None:
        """The app that showed the error (``--client``), None for "I don't know"."""
        return self.options.client

    @property
    def verdict(self) -> Verdict:
        return verdict_of(self.findings)

    @property
    def cause(self) -> Finding | None:
        """The finding to name first: the most severe; ties go to the earlier (causal) one."""
        if not self.findings:
            return None
        return max(self.findings, key=lambda f: f.severity.rank)
