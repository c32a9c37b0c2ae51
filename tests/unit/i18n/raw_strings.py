"""Finds user-facing strings written outside the catalog: the AST walk of docs/design/locale.md §2 and §10.2.

`python -m tests.unit.i18n.raw_strings [paths…]` prints every offender as `file:line: string` (no paths: the
user-facing modules of `USER_FACING`); `--baseline` also prints the baseline's verdict, `--prune` deletes the
baseline lines that are no longer offenders (it never adds one).
"""

from __future__ import annotations

import argparse
import ast
import functools
import re
import sys
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[2]
PACKAGE = ROOT / "src" / "notifbot"
IDENTIFIERS = HERE / "identifiers.txt"
BASELINE = HERE / "baseline.txt"

# The modules whose strings reach a chat (§2); a directory means every module in it, minus NOT_USER_FACING.
USER_FACING: tuple[str, ...] = (
    "kinds/",
    "render/",
    "commands/",
    "chatops/slack_app.py",
    "chatops/teams_inbox.py",
    "delivery/group_flush.py",
    "delivery/digest_flush.py",
    "destinations/console.py",
    "links.py",
    "sources/marketo/quota.py",
    "sources/marketo/at_risk.py",
    "sources/adobe_io/mapping.py",
)
# Input patterns (Marketo's English and Swedish e-mail wording) and the limit checker's messages for tests. Not
# listed at all: text.py (the English formats `i18n.Texts` uses for `en`; its placeholders are in the catalog as
# `i18n.texts.PLACEHOLDERS`), groups.py and digests.py (policy descriptions for the CLI and a digest's identity).
NOT_USER_FACING: tuple[str, ...] = ("kinds/mail_rules.py", "kinds/mail.py", "render/limits.py")

# The catalog's calls (name `_(…)` or method `t._(…)`): their literal arguments are what Babel extracts.
GETTEXT = frozenset({"_", "N_", "gettext", "ngettext", "pgettext", "npgettext"})
LOGGER = re.compile(r"(?:^|_)log(?:ger)?$|^logging$")
LOG_METHODS = frozenset({"debug", "info", "warning", "warn", "error", "exception", "critical", "log"})

REGEX = frozenset({"compile", "match", "fullmatch", "search", "sub", "subn", "split", "findall", "finditer"})

WORD = r"[^\W\d_]{2,}"
# a word and a space (a placeholder counts as the other side), or one capitalised word ("Resolved:")
HUMAN = re.compile(rf"{WORD}\s+\S|\S\s+{WORD}")
ONE_WORD = re.compile(r"\s*[A-Z][a-z]+[:.!?…]?\s*")
# SQL and its fragments, keywords in capitals as this code base writes them
SQL = re.compile(
    r"\s*(?:SELECT|INSERT|UPDATE|DELETE|WITH|CREATE|ALTER|DROP|PRAGMA|WHERE|AND|OR|UNION|FROM|JOIN|LEFT JOIN|"
    r"ORDER BY|GROUP BY|LIMIT|VALUES|SET|ON CONFLICT|RETURNING)\b"
)
# a dict key shaped like an identifier is a lookup or a JSON key ("type", "isSubtle", "Salesforce"), not text
KEY = re.compile(r"[$@]?[A-Za-z_][\w.$@-]*")


@dataclass(frozen=True, order=True)
class Offender:
    """A human-language string outside the catalog: where it is, how it reads, and its baseline form."""

    path: str
    line: int
    text: str
    key: str
    why: str = ""

    def baseline_line(self) -> str:
        """`path:string`, placeholders as `{}` and no line number: edits elsewhere in the module do not churn it."""
        return f"{self.path}:{self.key}"

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.text}" + (f"  ({self.why})" if self.why else "")


def shown(node: ast.Constant | ast.JoinedStr) -> str:
    """The string as one line: a constant's repr, an f-string as `f'…{expr}…'` (stable across Pythons)."""
    if isinstance(node, ast.Constant):
        return repr(node.value)
    return "f" + repr("".join(_piece(v) for v in node.values))


def _piece(value: ast.expr) -> str:
    if isinstance(value, ast.Constant):
        return str(value.value).replace("{", "{{").replace("}", "}}")
    assert isinstance(value, ast.FormattedValue)
    conversion = "" if value.conversion == -1 else "!" + chr(value.conversion)
    spec = value.format_spec
    spec_text = ":" + "".join(_piece(v) for v in spec.values) if isinstance(spec, ast.JoinedStr) else ""
    return "{" + ast.unparse(value.value) + conversion + spec_text + "}"


def key(node: ast.Constant | ast.JoinedStr) -> str:
    """The baseline's form: the repr of `words`, `f`-prefixed for an f-string."""
    return ("f" if isinstance(node, ast.JoinedStr) else "") + repr(words(node))


def words(node: ast.Constant | ast.JoinedStr) -> str:
    """What the human test reads: the text, each f-string placeholder as `{}`."""
    if isinstance(node, ast.Constant):
        return str(node.value)
    return "".join(str(v.value) if isinstance(v, ast.Constant) else "{}" for v in node.values)


def is_human(text: str) -> bool:
    """A word and a space, or one capitalised word: §2's rule (single lower-case words are missed)."""
    return bool(HUMAN.search(text) or ONE_WORD.fullmatch(text)) and not SQL.match(text)


def load_identifiers(path: Path = IDENTIFIERS) -> frozenset[str]:
    """The allowlist: whole strings, one a line; `#` starts a comment line, and blank lines are skipped."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return frozenset(line for line in lines if line and not line.startswith("#"))


def _name(func: ast.expr) -> str:
    if isinstance(func, ast.Name):
        return func.id
    return func.attr if isinstance(func, ast.Attribute) else ""


def _is_logging(call: ast.Call) -> bool:
    func = call.func
    if not isinstance(func, ast.Attribute) or func.attr not in LOG_METHODS:
        return False
    return bool(LOGGER.search(_name(func.value)))


def _is_regex(call: ast.Call) -> bool:
    func = call.func
    return isinstance(func, ast.Attribute) and func.attr in REGEX and _name(func.value) == "re"


def _is_text(node: ast.AST) -> bool:
    return isinstance(node, ast.JoinedStr) or (isinstance(node, ast.Constant) and isinstance(node.value, str))


def _compared(node: ast.expr) -> bool:
    """A literal, or a tuple/list/set of them, compared against: input being matched, never shown."""
    if isinstance(node, ast.Tuple | ast.List | ast.Set):
        return all(isinstance(e, ast.Constant) for e in node.elts)
    return isinstance(node, ast.Constant)


def _skipped(parent: ast.AST) -> set[int]:
    """The ids of `parent`'s children whose strings are not user-facing text (the rules of §2)."""
    if isinstance(parent, ast.Raise):  # exceptions are operator-facing
        return {id(c) for c in ast.iter_child_nodes(parent)}
    if isinstance(parent, ast.Assert) and parent.msg is not None:
        return {id(parent.msg)}
    if isinstance(parent, ast.Expr) and _is_text(parent.value):  # a docstring, or a bare string
        return {id(parent.value)}
    if isinstance(parent, ast.Call) and (_is_logging(parent) or _name(parent.func).endswith("Response")):
        # a log line, or an HTTP answer's body (JSONResponse …): operator-facing, English
        return {id(c) for c in [*parent.args, *parent.keywords]}
    if isinstance(parent, ast.Call) and _is_regex(parent) and parent.args:  # a pattern matches input
        return {id(parent.args[0])}
    if isinstance(parent, ast.Compare):
        return {id(c) for c in [parent.left, *parent.comparators] if _compared(c)}
    if isinstance(parent, ast.Subscript):  # a lookup `d["Key"]` or a type `Literal["x"]`
        return {id(parent.slice)}
    if isinstance(parent, ast.Dict):
        return {id(k) for k in parent.keys if isinstance(k, ast.Constant) and KEY.fullmatch(str(k.value))}
    if isinstance(parent, ast.arg | ast.FunctionDef | ast.AsyncFunctionDef | ast.AnnAssign):
        return {id(a) for a in (getattr(parent, "annotation", None), getattr(parent, "returns", None)) if a}
    if isinstance(parent, ast.Assign) and any(
        isinstance(t, ast.Name) and t.id == "__all__" for t in parent.targets
    ):
        return {id(parent.value)}
    return set()


def _walk(node: ast.AST) -> Iterator[tuple[ast.Constant | ast.JoinedStr, str]]:
    """Every string outside the skipped places, with a note when it sits in a gettext call Babel cannot read."""
    skipped = _skipped(node)
    literal_args = [a for a in node.args if isinstance(a, ast.Constant)] if isinstance(node, ast.Call) else []
    gettext = isinstance(node, ast.Call) and _name(node.func) in GETTEXT
    for child in ast.iter_child_nodes(node):
        if id(child) in skipped:
            continue
        if gettext and any(child is a for a in literal_args):
            continue
        if isinstance(child, ast.JoinedStr):
            yield child, "an f-string inside a gettext call: Babel cannot extract it" if gettext else ""
            for value in child.values:  # the placeholders' expressions may hold strings of their own
                if isinstance(value, ast.FormattedValue):
                    yield from _walk(value)
        elif isinstance(child, ast.Constant) and isinstance(child.value, str):
            yield child, ""
        else:
            yield from _walk(child)


@functools.lru_cache(maxsize=256)
def _parse(source: str, path: str) -> ast.Module:
    """Parsing is most of the time: a second check of the same source (the tests do several) reuses the tree."""
    return ast.parse(source, filename=path)


def check_source(source: str, path: str, identifiers: Iterable[str] = ()) -> list[Offender]:
    """The human strings of one module's source outside the catalog, the allowlisted identifiers left out."""
    allowed = frozenset(identifiers)
    out = []
    for node, why in _walk(_parse(source, path)):
        text = words(node)
        if (why or is_human(text)) and text not in allowed:
            out.append(Offender(path, node.lineno, shown(node), key(node), why))
    return sorted(out)


def user_facing_modules(package: Path = PACKAGE) -> list[Path]:
    """The modules of USER_FACING, sorted; a listed file or directory that is gone is an error, not a pass."""
    found: set[Path] = set()
    for entry in USER_FACING:
        where = package / entry
        if not where.exists():
            raise FileNotFoundError(f"USER_FACING lists {entry}, which is not in {package}: update the list")
        found.update(where.rglob("*.py") if where.is_dir() else [where])
    excluded = {package / entry for entry in NOT_USER_FACING}
    return sorted(found - excluded)


def _modules(path: Path) -> list[Path]:
    """A module named on its own is checked whatever it is; a directory's modules without NOT_USER_FACING."""
    if not path.is_dir():
        return [path]
    excluded = {(PACKAGE / entry).resolve() for entry in NOT_USER_FACING}
    return sorted(p for p in path.rglob("*.py") if p.resolve() not in excluded)


def relative(path: Path) -> str:
    """The path as the baseline writes it: from the repository root when inside it."""
    path = path.resolve()
    return path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.as_posix()


def check(paths: Sequence[Path] | None = None, identifiers: Iterable[str] | None = None) -> list[Offender]:
    """The offenders of the given modules (default: the user-facing ones), allowlisted identifiers left out."""
    allowed = load_identifiers() if identifiers is None else frozenset(identifiers)
    out: list[Offender] = []
    given = user_facing_modules() if paths is None else [q for p in paths for q in _modules(p)]
    for path in given:
        out.extend(check_source(path.read_text(encoding="utf-8"), relative(path), allowed))
    return sorted(out)


def read_baseline(path: Path = BASELINE) -> Counter[str]:
    """The accepted offenders, `path:string` a line (a string written twice in a module is listed twice)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return Counter(line for line in lines if line and not line.startswith("#"))


def compare(offenders: Sequence[Offender], baseline: Counter[str]) -> tuple[list[Offender], list[str]]:
    """The offenders beyond the baseline, and the baseline lines no longer offending (the baseline only shrinks)."""
    left = baseline.copy()
    new = []
    for o in offenders:
        if left[o.baseline_line()] > 0:
            left[o.baseline_line()] -= 1
        else:
            new.append(o)
    return new, sorted(left.elements())


NEW_HELP = (
    'a user-facing string outside the catalog: wrap it (t._("…").format(name=…), t.ngettext, '
    't.pgettext("fact"|"button"|"heading"|"dialog"|"context"|"column", "Label"), N_("…") for a module '
    "constant; see docs/design/locale.md §3.2); if it is a technical identifier (a Block Kit / Adaptive Card "
    "enum, an emoji code, a kind or option name), add the exact string on its own line to "
    "tests/unit/i18n/identifiers.txt. Never add it to baseline.txt: the baseline only shrinks."
)
STALE_HELP = (
    "these baseline lines are no longer offenders (the string is in the catalog now, or gone): delete them from "
    "tests/unit/i18n/baseline.txt, or run `python -m tests.unit.i18n.raw_strings --prune` from the repository root"
)


def report(new: Sequence[Offender], stale: Sequence[str]) -> str:
    """What is wrong and exactly how to fix it; empty when nothing is."""
    parts = []
    if new:
        parts.append("\n".join([f"{len(new)} new raw string(s): {NEW_HELP}", *(f"  {o}" for o in new)]))
    if stale:
        parts.append(
            "\n".join([f"{len(stale)} stale baseline line(s): {STALE_HELP}", *(f"  {s}" for s in stale)])
        )
    return "\n\n".join(parts)


def prune(path: Path = BASELINE, offenders: Sequence[Offender] | None = None) -> int:
    """Deletes the baseline lines that no longer offend, keeping the header; never adds one. Returns how many."""
    _, stale = compare(check() if offenders is None else offenders, read_baseline(path))
    drop = Counter(stale)
    kept = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if drop[line] > 0 and not line.startswith("#"):
            drop[line] -= 1
            continue
        kept.append(line)
    path.write_text("\n".join(kept) + "\n", encoding="utf-8")
    return len(stale)


def main(argv: Sequence[str] | None = None) -> int:
    """Prints the offenders of the given modules (or the user-facing ones); exit status 1 when there are any."""
    parser = argparse.ArgumentParser(prog="python -m tests.unit.i18n.raw_strings", description=__doc__)
    parser.add_argument(
        "paths", nargs="*", type=Path, help="modules or directories to check (default: USER_FACING)"
    )
    parser.add_argument("--baseline", action="store_true", help="only what the baseline does not accept")
    parser.add_argument("--prune", action="store_true", help="delete baseline lines that no longer offend")
    args = parser.parse_args(argv)
    if args.prune:
        print(f"{prune()} stale line(s) deleted from {relative(BASELINE)}")
        return 0
    offenders = check(args.paths or None)
    if args.baseline:
        new, stale = compare(offenders, read_baseline())
        text = report(new, [] if args.paths else stale)
        print(text or "no raw strings beyond the baseline")
        return 1 if text else 0
    for o in offenders:
        print(o)
    return 1 if offenders else 0


if __name__ == "__main__":
    sys.exit(main())
