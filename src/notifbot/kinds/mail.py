"""E-mail rules: how a Marketo notification e-mail's wording (English, Swedish) maps to a kind and its fields."""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from notifbot.links import DEFAULT_LINKS, LinkPolicy, classify_link

Fields = dict[str, Any]
Extractor = Callable[[str, str], Fields]

MAX_VALUE = 1_000
MAX_ITEMS = 500
_URL = re.compile(r"https?://[^\s<>\"'()\[\]{}]+", re.I)
_MUNCHKIN = re.compile(r"\b(\d{3}-[a-z]{3}-\d{3})\b", re.I)
# Marketo's own hosts (links.py's one rule), plus the landing-page and REST hosts that name a Munchkin id
_MUNCHKIN_HOSTS = LinkPolicy.build(["*.mktoweb.com", "*.mktorest.com", "*.marketo.net"])
_BULLET = re.compile(r"^\s*(?:[-*•·–]|\d{1,4}[.)])\s+(.+?)\s*$", re.M)
_QUOTED = re.compile(r"[\"“”„«»']([^\"“”„«»'\n]{1,300})[\"“”„«»']")


def _none(subject: str, text: str) -> Fields:
    return {}


@dataclass(frozen=True)
class EmailRule:
    """A subject and/or body pattern (every one given must match) and the extractor of the kind's fields."""

    subject: re.Pattern[str] | None = None
    body: re.Pattern[str] | None = None
    extract: Extractor = _none

    def __post_init__(self) -> None:
        """A rule with no pattern would match every e-mail."""
        if self.subject is None and self.body is None:
            raise ValueError("an e-mail rule needs a subject or a body pattern")

    def matches(self, subject: str, text: str) -> bool:
        """True when every pattern given matches (case-insensitively, as compiled by `words`)."""
        return (self.subject is None or self.subject.search(subject) is not None) and (
            self.body is None or self.body.search(text) is not None
        )


def words(*alternatives: str) -> re.Pattern[str]:
    """One case-insensitive pattern matching any of the alternatives (regex syntax, whitespace-tolerant)."""
    spaced = (a.replace(" ", r"\s+") for a in alternatives)
    return re.compile("|".join(f"(?:{a})" for a in spaced), re.I)


def clip(value: str) -> str:
    """One line of untrusted text, whitespace collapsed and bounded."""
    return " ".join(value.split())[:MAX_VALUE]


def labelled(text: str, *labels: str) -> str | None:
    """The value after the first `Label:` line found for any of `labels` (case-insensitive), or None."""
    for label in labels:
        found = re.search(rf"^[ \t*]*{label}[ \t*]*[:：][ \t]*(\S.*?)\s*$", text, re.I | re.M)
        if found:
            return clip(found.group(1).strip("*\"“”'")) or None
    return None


def quoted(text: str) -> str | None:
    """The first quoted name in `text`, or None."""
    found = _QUOTED.search(text)
    return clip(found.group(1)) if found else None


def number(text: str, pattern: str) -> int | None:
    """The integer in group 1 of `pattern` ("1,234" and "1 234" taken), or None."""
    found = re.search(pattern, text, re.I)
    if not found:
        return None
    digits = re.sub(r"[^\d]", "", found.group(1))
    return int(digits) if digits and len(digits) < 16 else None


def urls(text: str) -> list[str]:
    """The http(s) links in `text`, in order, trailing punctuation dropped."""
    return [u.rstrip(".,;:!?") for u in _URL.findall(text)]


def _on(url: str, policy: LinkPolicy) -> bool:
    link = classify_link(url, policy)
    return link is not None and link.marketo


def marketo_url(text: str) -> str | None:
    """The first safe https link to one of Marketo's hosts (as `links.py` decides) in `text`, or None."""
    return next((u for u in urls(text) if _on(u, DEFAULT_LINKS)), None)


def munchkin_id(text: str) -> str | None:
    """The Munchkin id (123-ABC-456) named in a safe link to a Marketo host in `text`, upper case, or None."""
    for url in urls(text):
        found = _MUNCHKIN.search(url) if _on(url, _MUNCHKIN_HOSTS) else None
        if found:
            return found.group(1).upper()
    return None


def bullets(text: str) -> list[str]:
    """The bulleted or numbered lines of `text` (every one, up to a bound)."""
    return [clip(b) for b in _BULLET.findall(text)][:MAX_ITEMS]


def either(text: str, choices: dict[str, re.Pattern[str]]) -> str | None:
    """The first key whose pattern matches `text`, or None."""
    return next((key for key, pattern in choices.items() if pattern.search(text)), None)


def compact(fields: Fields) -> Fields:
    """The fields without the ones nothing was found for."""
    return {k: v for k, v in fields.items() if v is not None and v != [] and v != ""}


def user_rule(subject: str | None, body: str | None, fields: Mapping[str, str]) -> EmailRule:
    """A rule from config: case-insensitive patterns; each field's one group, found in the body, else the subject."""
    found = {name: re.compile(pattern, re.I | re.M) for name, pattern in fields.items()}

    def extract(subject_text: str, text: str) -> Fields:
        values: Fields = {}
        for name, pattern in found.items():
            hit = pattern.search(text) or pattern.search(subject_text)
            if hit and hit.group(1):
                values[name] = clip(hit.group(1))
        return compact(values)

    return EmailRule(
        subject=re.compile(subject, re.I) if subject else None,
        body=re.compile(body, re.I | re.M) if body else None,
        extract=extract,
    )
