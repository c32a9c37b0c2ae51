"""No user-facing string is written outside the catalog (docs/design/locale.md §10.2); the baseline only shrinks."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections import Counter
from pathlib import Path

import pytest

from tests.unit.i18n import raw_strings
from tests.unit.i18n.raw_strings import (
    BASELINE,
    IDENTIFIERS,
    PACKAGE,
    ROOT,
    Offender,
    check,
    check_source,
    compare,
    is_human,
    load_identifiers,
    read_baseline,
    report,
    user_facing_modules,
)


@pytest.fixture(scope="module")
def offenders() -> list[Offender]:
    return check()


def test_no_raw_string_beyond_the_baseline(offenders: list[Offender]) -> None:
    new, _ = compare(offenders, read_baseline())
    assert not new, report(new, [])


def test_the_baseline_only_shrinks(offenders: list[Offender]) -> None:
    _, stale = compare(offenders, read_baseline())
    assert not stale, report([], stale)


def test_the_baseline_is_sorted_and_names_user_facing_modules() -> None:
    lines = [line for line in BASELINE.read_text(encoding="utf-8").splitlines() if not line.startswith("#")]
    assert lines == sorted(lines), "keep tests/unit/i18n/baseline.txt sorted (`LC_ALL=C sort`, header first)"
    modules = {raw_strings.relative(p) for p in user_facing_modules()}
    assert {line.split(":", 1)[0] for line in lines} <= modules


def test_the_allowlist_is_exact_and_every_line_is_used(offenders: list[Offender]) -> None:
    """Whole strings only, each one a string the walk would flag today; no unused or duplicate line."""
    lines = [line for line in IDENTIFIERS.read_text(encoding="utf-8").splitlines() if line and line[0] != "#"]
    assert len(lines) == len(set(lines)), "a duplicate line in identifiers.txt"
    assert [line for line in lines if line != line.strip()] == [], "no leading or trailing spaces"
    assert [line for line in lines if not is_human(line)] == [], "a line the walk never flags: delete it"
    flagged = {o.key for o in check(identifiers=())}
    unused = sorted(line for line in lines if repr(line) not in flagged)
    assert unused == [], f"identifiers.txt lines nothing in the code matches any more: delete them: {unused}"
    assert {o.key for o in offenders}.isdisjoint(repr(line) for line in lines)


def test_the_user_facing_modules_are_the_designs() -> None:
    modules = {p.relative_to(PACKAGE).as_posix() for p in user_facing_modules()}
    assert {"kinds/campaigns.py", "render/slack.py", "commands/quota.py", "chatops/slack_app.py"} <= modules
    assert {"sources/marketo/quota.py", "sources/adobe_io/mapping.py", "delivery/group_flush.py"} <= modules
    assert modules.isdisjoint({"kinds/mail_rules.py", "kinds/mail.py", "render/limits.py", "cli.py"})
    assert not any(m.startswith("config/") for m in modules)
    # the console is for operators: English, like the CLI
    assert not any(m.startswith("ui/") for m in modules)


PLANTED = '''\
"""A module docstring with words in it."""
from notifbot.i18n import N_

TITLE = N_("Campaign failed")


def show(t, name):
    """A function docstring."""
    ok = t._("Campaign {verb}: {name}").format(verb="failed", name=name)
    label = t.pgettext("fact", "Program")
    many = t.ngettext("{n} event", "{n} events", 2)
    return ok + label + many + "Campaign failed, see the log"
'''


def test_a_planted_raw_string_is_caught_and_a_wrapped_one_passes(tmp_path: Path) -> None:
    module = tmp_path / "planted.py"
    module.write_text(PLANTED, encoding="utf-8")
    found = check([module], identifiers=())
    assert [(o.line, o.text) for o in found] == [(12, "'Campaign failed, see the log'")]
    assert str(found[0]) == f"{module.resolve().as_posix()}:12: 'Campaign failed, see the log'"
    wrapped = PLANTED.replace('"Campaign failed, see the log"', 't._("Campaign failed, see the log")')
    module.write_text(wrapped, encoding="utf-8")
    assert check([module], identifiers=()) == []


def test_the_command_line_names_file_line_and_string(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    module = tmp_path / "planted.py"
    module.write_text(PLANTED, encoding="utf-8")
    run = [sys.executable, "-m", "tests.unit.i18n.raw_strings", str(module)]
    done = subprocess.run(run, cwd=ROOT, capture_output=True, text=True, timeout=30)
    line = f"{module.resolve().as_posix()}:12: 'Campaign failed, see the log'"
    assert (done.returncode, done.stdout) == (1, line + "\n")
    assert raw_strings.main(["--baseline", str(module)]) == 1
    assert line in capsys.readouterr().out
    module.write_text('"""Nothing to say."""\n', encoding="utf-8")
    assert (raw_strings.main([str(module)]), capsys.readouterr().out) == (0, "")


def _flags(source: str) -> list[str]:
    return [o.text for o in check_source(textwrap.dedent(source), "m.py")]


@pytest.mark.parametrize(
    "source",
    [
        '"""Docstring with words."""',
        'class C:\n    """Class docstring."""\n    x = 1\n    """Attribute docstring."""',
        '_("Wrapped text here")',
        'N_("Module constant text")',
        't._("Method call text")',
        'self.texts._("Method call text")',
        'ngettext("{n} event", "{n} events", n)',
        't.pgettext("fact", "Campaign ID")',
        'log.warning("delivery failed for %s", x, extra={"Some Key": "some value"})',
        'logging.info(f"started {n} workers")',
        '_logger.log(20, "a log line")',
        'raise ValueError(f"not a duration: {word}")',
        'assert x, "the caller checks this first"',
        'cur.execute("SELECT kind FROM events WHERE key = ?")',
        'q = " UNION ALL ".join(parts)',
        'GROUPED = re.compile(r"×(\\d+) group, (\\w+)")',
        're.sub(r"Dear (\\w+)", "", text)',
        'JSONResponse({"error": "invalid or stale signature"}, status_code=401)',
        '{"Type": 1, "isSubtle": True}',
        'if crm == "Microsoft Dynamics": pass',
        'ok = word in ("Not yet", "Never")',
        'x = d["Campaign Name"]',
        'def f(x: "Parts") -> "Parts": ...',
        '__all__ = ["Parts", "Texts"]',
        'x = "event"',
        'x = "campaign_failure"',
        'x = "AdaptiveCard"',
        'x = ":white_check_mark:"',
        'x = "%b %d, %Y"',
        'x = f"{a} · {b}"',
    ],
)
def test_not_user_facing_text_is_left_alone(source: str) -> None:
    assert _flags(source) == []


@pytest.mark.parametrize(
    ("source", "flagged"),
    [
        ('x = "Open in Marketo"', ["'Open in Marketo'"]),
        ('x = "Resolved: "', ["'Resolved: '"]),
        ('x = "Cancel"', ["'Cancel'"]),
        ('x = f"Kind {n.kind}"', ["f'Kind {n.kind}'"]),
        ('x = f"{n:,} calls"', ["f'{n:,} calls'"]),
        ('x = f"{a} (until {b!r})"', ["f'{a} (until {b!r})'"]),
        ("x = f\"{a or 'none yet'}\"", ["'none yet'"]),
        ('t._(f"Campaign {verb}")', ["f'Campaign {verb}'"]),
        ('t._("Title {x}").format(x="Some words")', ["'Some words'"]),
        ('t._("A" if x else "Two words")', ["'Two words'"]),
        ('log.info(t._("x")) or show("Two words")', ["'Two words'"]),
        ('d = {"Two words": 1}', ["'Two words'"]),
        ('x = {"facts": [("Campaign", name)]}', ["'Campaign'"]),
        ('x = "Sjätte försöket"', ["'Sjätte försöket'"]),
        ('re.sub(r"\\d+", "Some number", text)', ["'Some number'"]),
    ],
)
def test_user_facing_text_is_caught(source: str, flagged: list[str]) -> None:
    assert _flags(source) == flagged


def test_an_fstring_inside_a_gettext_call_says_why() -> None:
    (found,) = check_source('t._(f"{n} events")', "m.py")
    assert "Babel cannot extract it" in str(found)


def test_the_allowlist_matches_whole_strings_only() -> None:
    source = 'a = "Bolder"\nb = "Bolder text"\nc = "bolder"\nd = " Bolder"'
    assert [o.text for o in check_source(source, "m.py", {"Bolder"})] == ["'Bolder text'", "' Bolder'"]
    assert "Bolder" in load_identifiers()


def _offender(path: str, key: str, line: int = 1) -> Offender:
    return Offender(path, line, key, key)


def test_the_baseline_counts_each_occurrence() -> None:
    twice = [_offender("a.py", "'Two words'", 1), _offender("a.py", "'Two words'", 9)]
    assert compare(twice, Counter({"a.py:'Two words'": 2})) == ([], [])
    new, stale = compare(twice, Counter({"a.py:'Two words'": 1}))
    assert (new, stale) == ([twice[1]], [])
    new, stale = compare(twice[:1], Counter({"a.py:'Two words'": 2, "b.py:'Gone now'": 1}))
    assert (new, stale) == ([], ["a.py:'Two words'", "b.py:'Gone now'"])


def test_the_report_says_how_to_fix_each_side() -> None:
    text = report([_offender("a.py", "'Two words'", 7)], ["b.py:'Gone now'"])
    assert "a.py:7: 'Two words'" in text and "identifiers.txt" in text and "t._(" in text
    assert "b.py:'Gone now'" in text and "--prune" in text and "delete them" in text


def test_prune_deletes_stale_lines_only(tmp_path: Path, offenders: list[Offender]) -> None:
    copy = tmp_path / "baseline.txt"
    today = "# header\n" + "".join(f"{line}\n" for line in sorted(o.baseline_line() for o in offenders))
    copy.write_text(today + "src/notifbot/links.py:'A string long gone'\n", encoding="utf-8")
    assert raw_strings.prune(copy, offenders) == 1
    assert copy.read_text(encoding="utf-8") == today


def test_a_directory_is_checked_as_the_test_checks_it(offenders: list[Offender]) -> None:
    """`raw_strings src/notifbot/kinds` leaves mail_rules.py out, as the test does; a module named alone is checked."""
    in_kinds = [o for o in offenders if o.path.startswith("src/notifbot/kinds/")]
    assert check([PACKAGE / "kinds"]) == in_kinds
    assert check([PACKAGE / "kinds" / "mail_rules.py"]) != []
