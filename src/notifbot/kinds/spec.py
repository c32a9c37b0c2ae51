"""What notifbot knows about one notification kind, in one value: `KindSpec`; and the field types its schema uses."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated, Any

from pydantic import ConfigDict, Field, StringConstraints, TypeAdapter, with_config
from typing_extensions import TypedDict

from notifbot.i18n import Texts
from notifbot.kinds.mail import EmailRule
from notifbot.kinds.parts import Parts
from notifbot.model import Kind, Notification, Severity

Text = Annotated[str, StringConstraints(max_length=10_000)]
ShortText = Annotated[str, StringConstraints(max_length=1_000)]
Count = Annotated[int, Field(ge=0)]
Ident = int | ShortText

# TypedDicts validated by TypeAdapter return plain dicts (no model to dump), which keeps ingest fast.
OPEN = ConfigDict(extra="allow")

# the kind's wording of one message, and of its next step, in the locale of `Texts`
Describer = Callable[[Notification, Mapping[str, Any], Texts], Parts]
Advisor = Callable[[Mapping[str, Any], Texts], str]
SeverityRule = Callable[[Mapping[str, Any]], Severity | None]


@with_config(OPEN)
class OpenFields(TypedDict, total=False):
    """Known fields are type-checked; unknown ones are kept as they came."""


@dataclass(frozen=True)
class KindSpec:
    """One notification kind: severity, identity, schema, wording, advice and samples."""

    kind: Kind
    # the severity when the sender gave none and `refine_severity` says nothing
    severity: Severity
    # the TypedDict of its fields (docs/reference.md §Event JSON); None: any fields are accepted
    schema: type | None
    # the fields that tell one occurrence from another when the sender gave no `id`; None: all fields
    salient: tuple[str, ...] | None
    # its message's title, facts, detail, listing and link (raw, unescaped)
    describe: Describer
    # the one plain-text line saying what a Marketo admin should do next
    advice: Advisor
    # its sample events, by file name in `notifbot/kinds/samples/` (without `.json`)
    samples: tuple[str, ...]
    # a severity that a field states more precisely, else None
    refine_severity: SeverityRule | None = None
    # the rules that classify a Marketo notification e-mail as this kind and extract its fields (`kinds/mail_rules.py`)
    email_rules: tuple[EmailRule, ...] = ()
    # the fields naming one ongoing problem, for the default repeat grouping (None: the salient fields)
    problem: tuple[str, ...] | None = None
    # a problem of this kind stays one message at least this long by default (the quota: its whole day)
    lasts: timedelta | None = None
    # the validator of `schema`, built once when the spec is defined; None when `schema` is None
    adapter: TypeAdapter[Any] | None = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        """Builds the field validator once, when the spec is defined (as the old adapter table was)."""
        object.__setattr__(self, "adapter", TypeAdapter(self.schema) if self.schema is not None else None)

    def default_severity(self, fields: Mapping[str, Any]) -> Severity:
        """Severity when the sender gave none: by kind, refined where a field says more."""
        refined = self.refine_severity(fields) if self.refine_severity is not None else None
        return refined if refined is not None else self.severity

    @property
    def field_names(self) -> frozenset[str]:
        """The fields its schema names (empty when it has none)."""
        if self.schema is None:
            return frozenset()
        keys: frozenset[str] = getattr(self.schema, "__required_keys__", frozenset())
        return keys | getattr(self.schema, "__optional_keys__", frozenset())
