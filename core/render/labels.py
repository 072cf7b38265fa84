"""Short words for the window's tables: an evidence key as a label, a certificate's readable
name and remaining days, who trusts it, a cipher suite's strength. Pure functions, no Qt, so
any renderer may share them; the results are still untrusted text where they carry a
stranger's."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from core.models import CertificateInfo


def evidence_label(key: str) -> str:
    words = key.replace("_", " ").strip()
    fixes = {
        "sni": "SNI",
        "ip": "IP",
        "san": "names in the certificate",
        "aia": "AIA",
        "ocsp": "OCSP",
    }
    parts = [fixes.get(w, w) for w in words.split()]
    text = " ".join(parts)
    return text[:1].upper() + text[1:]


def cert_name(info: CertificateInfo) -> str:
    """The certificate's most readable name: its CN (RFC 4514 escapes undone), else the whole
    subject. Still untrusted text: show it with ``visible`` in a plain-text widget."""
    for part in _rdn_parts(info.subject):
        if part.upper().startswith("CN="):
            return unescape_rdn(part[3:])
    return info.subject or "(no subject)"


def unescape_rdn(value: str) -> str:
    """Undo RFC 4514 escaping: ``\\<`` is ``<``, ``\\1b`` is the byte 0x1b."""
    out = bytearray()
    i = 0
    while i < len(value):
        ch = value[i]
        if ch == "\\" and i + 1 < len(value):
            pair = value[i + 1 : i + 3]
            if len(pair) == 2 and all(c in "0123456789abcdefABCDEF" for c in pair):
                out.append(int(pair, 16))
                i += 3
                continue
            out += value[i + 1].encode()
            i += 2
            continue
        out += ch.encode()
        i += 1
    return out.decode("utf-8", "replace")


def _rdn_parts(name: str) -> list[str]:
    parts: list[str] = []
    current = ""
    escaped = False
    for ch in name:
        if escaped:
            current += ch
            escaped = False
        elif ch == "\\":
            current += ch
            escaped = True
        elif ch in ",+":
            parts.append(current)
            current = ""
        else:
            current += ch
    parts.append(current)
    return [p.strip() for p in parts if p.strip()]


def chain_parents(certs: Sequence[CertificateInfo]) -> list[int | None]:
    """For each certificate, the index of its issuer among ``certs`` (None for a root or a
    certificate whose issuer is not at hand). Never makes a cycle."""
    parents: list[int | None] = []
    for i, cert in enumerate(certs):
        parent = None
        if not cert.self_issued:
            for j, other in enumerate(certs):
                if j != i and other.subject == cert.issuer:
                    parent = j
                    break
        parents.append(parent)
    for i in range(len(parents)):  # break any cycle (two certificates naming each other)
        seen = {i}
        up = parents[i]
        while up is not None:
            if up in seen:
                parents[i] = None
                break
            seen.add(up)
            up = parents[up]
    return parents


def days_text(cert: CertificateInfo, now: dt.datetime) -> str:
    if now < cert.not_before:
        days = (cert.not_before - now).days
        return f"not valid for {days} more day{'s' if days != 1 else ''}"
    if now > cert.not_after:
        days = (now - cert.not_after).days
        return f"expired {days} day{'s' if days != 1 else ''} ago" if days else "expired today"
    days = (cert.not_after - now).days
    return f"{days} day{'s' if days != 1 else ''} left"


def trusted_by_text(cert: CertificateInfo) -> str:
    names = {"mozilla": "Mozilla", "os": "this computer", "custom": "your CA file"}
    if not cert.trusted_by:
        return ""
    return ", ".join(names.get(n, n) for n in cert.trusted_by)


STRENGTH_WORDS = {
    "strong": "strong",
    "no-forward-secrecy": "no forward secrecy",
    "weak": "weak",
    "insecure": "broken",
}


def suite_strength(name: str) -> str | None:
    from core.ciphers import load_registry

    entry = load_registry().by_name.get(name)
    return entry.strength.value if entry is not None else None
