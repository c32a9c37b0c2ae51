"""Mutants of module-level constants, which mutmut 3 leaves alone (it mutates only inside functions).

Escape tables, Block Kit limits, TTLs and patterns live at module level, so a test suite that never notices `&`
missing from the escape table would pass mutmut 3. For every top-level assignment this makes the mutants mutmut 2
made there (numbers ±1, strings wrapped in "XX", one dict entry or collection element dropped), writes each into
a copy of `src`, and runs the module's unit tests against it in a forked child: a failing run kills the mutant.
"""

from __future__ import annotations

import ast
import contextlib
import importlib
import io
import os
import shutil
import signal
import sys
import tempfile
import traceback
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

# pytest exit codes: 1 tests failed, 2 interrupted (e.g. the mutated module no longer imports)
KILLED_CODES = frozenset({1, 2})
HARNESS_ERROR = 70  # the child could not set up the run: never counted as a kill


@dataclass(frozen=True)
class ConstantMutant:
    """One changed constant: where, what, and the whole mutated file."""

    path: str
    line: int
    description: str
    source: str


@dataclass(frozen=True)
class ConstantResult:
    mutant: ConstantMutant
    status: str  # "killed" or "survived"


class _Positions:
    """Turns ast's (line, UTF-8 byte column) positions into offsets in the text."""

    def __init__(self, text: str) -> None:
        self.lines = text.splitlines(keepends=True)
        self.starts = [0]
        for line in self.lines:
            self.starts.append(self.starts[-1] + len(line))

    def offset(self, lineno: int, byte_col: int) -> int:
        line = self.lines[lineno - 1]
        return self.starts[lineno - 1] + len(line.encode("utf-8")[:byte_col].decode("utf-8"))


def _replacements(node: ast.expr) -> Iterator[tuple[str, ast.expr]]:
    """(description, replacement node) for each mutant of one literal node."""
    if isinstance(node, ast.Constant) and not isinstance(node.value, bool):
        if isinstance(node.value, int | float):
            for delta in (1, -1):
                yield f"{node.value!r} → {node.value + delta!r}", ast.Constant(node.value + delta)
        elif isinstance(node.value, str):
            yield f"{node.value!r} → {'XX' + node.value + 'XX'!r}", ast.Constant("XX" + node.value + "XX")
    elif isinstance(node, ast.Dict):
        for i, key in enumerate(node.keys):
            shown = ast.unparse(key) if key is not None else "**…"
            rest = [(k, v) for j, (k, v) in enumerate(zip(node.keys, node.values, strict=True)) if j != i]
            yield f"entry {shown} dropped", ast.Dict([k for k, _ in rest], [v for _, v in rest])
    elif isinstance(node, ast.Set | ast.List | ast.Tuple):
        for i, element in enumerate(node.elts):
            rest = [e for j, e in enumerate(node.elts) if j != i]
            if isinstance(node, ast.Set):
                replacement: ast.expr = ast.Set(rest) if rest else ast.Call(ast.Name("set"), [], [])
            elif isinstance(node, ast.List):
                replacement = ast.List(rest)
            else:
                replacement = ast.Tuple(rest)
            yield f"element {ast.unparse(element)} dropped", replacement


def constant_mutants(path: str) -> list[ConstantMutant]:
    """Every mutant of the literals in `path`'s top-level assignments (f-strings excepted)."""
    text = Path(path).read_text("utf-8")
    positions = _Positions(text)
    tree = ast.parse(text)
    out: list[ConstantMutant] = []
    for statement in tree.body:
        if isinstance(statement, ast.Assign):
            targets, value = statement.targets, statement.value
        elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
            targets, value = [statement.target], statement.value
        else:
            continue
        name = ", ".join(ast.unparse(t) for t in targets)
        inside_fstring = {id(c) for n in ast.walk(value) if isinstance(n, ast.JoinedStr) for c in ast.walk(n)}
        for node in ast.walk(value):
            if not isinstance(node, ast.expr) or id(node) in inside_fstring:
                continue
            if node.end_lineno is None or node.end_col_offset is None:
                continue
            start = positions.offset(node.lineno, node.col_offset)
            end = positions.offset(node.end_lineno, node.end_col_offset)
            for description, replacement in _replacements(node):
                source = text[:start] + ast.unparse(replacement) + text[end:]
                out.append(ConstantMutant(path, node.lineno, f"{name}: {description}", source))
    return out


def _child(mutant: ConstantMutant, tests: Sequence[str], src: Path, tmp: Path, timeout: int) -> int:
    """In a forked child: import the project from a mutated copy of `src` and run `tests`; the pytest status."""
    import pytest

    copy = tmp / "src"
    shutil.copytree(src, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / Path(mutant.path).resolve().relative_to(src)).write_text(mutant.source, "utf-8")
    for name in [n for n in sys.modules if n.split(".")[0] in ("notifbot", "tests")]:
        del sys.modules[name]  # the parent's collection imported the originals
    sys.path.insert(0, str(copy))
    sys.dont_write_bytecode = True
    importlib.invalidate_caches()
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    os.dup2(devnull, 2)
    signal.alarm(timeout)  # a hang dies by SIGALRM, which counts as detected (as a mutmut timeout does)
    return int(pytest.main(["-x", "-q", "-p", "no:cacheprovider", "--timeout", str(timeout), *tests]))


def run_constant_mutants(
    paths: Sequence[str], tests_by_path: dict[str, list[str]], *, src: Path, workers: int, timeout: int = 300
) -> list[ConstantResult]:
    """Kill or not every constant mutant of `paths`, each against its module's tests, `workers` at a time.

    Like mutmut, each mutant runs in a child forked from a process that has already imported pytest and collected
    the tests once (so the third-party imports are paid once), and then re-imports notifbot from its own copy.
    """
    import pytest

    # each module unchanged first: it must pass, or the harness (not the tests) is broken
    clean = [ConstantMutant(p, 0, "unchanged", Path(p).read_text("utf-8")) for p in paths if tests_by_path[p]]
    jobs = [(m, tests_by_path[m.path]) for m in clean]
    jobs += [(m, tests_by_path[path]) for path in paths for m in constant_mutants(path)]
    # collect against this checkout, whatever path the venv's editable install points at
    sys.path.insert(0, str(src.resolve()))
    every_test = sorted({t for path in paths for t in tests_by_path[path]})
    collected = io.StringIO()
    with contextlib.redirect_stdout(collected):
        status = pytest.main(["--collect-only", "-qq", "-p", "no:cacheprovider", *every_test])
    if status != 0:
        raise RuntimeError(f"pytest could not collect {every_test}:\n{collected.getvalue()}")
    sys.stdout.flush()
    sys.stderr.flush()
    running: dict[int, tuple[ConstantMutant, tempfile.TemporaryDirectory[str]]] = {}
    results: list[ConstantResult] = []

    def reap() -> None:
        pid, status = os.wait()
        mutant, tmp = running.pop(pid)
        tmp.cleanup()
        code = os.waitstatus_to_exitcode(status)
        if mutant.line == 0:
            if code != 0:
                raise RuntimeError(
                    f"the unchanged {mutant.path} fails its tests in the harness (exit {code})"
                )
        elif code == 0:
            results.append(ConstantResult(mutant, "survived"))
        elif code in KILLED_CODES or code < 0:  # a signal (the alarm, a crash) is a detection too
            results.append(ConstantResult(mutant, "killed"))
        else:
            raise RuntimeError(f"pytest could not run the tests of {mutant.path} (exit {code})")

    for mutant, tests in jobs:
        while len(running) >= max(1, workers):
            reap()
        tmp = tempfile.TemporaryDirectory(prefix="notifbot-constant-mutant-")
        pid = os.fork()
        if pid == 0:
            code = HARNESS_ERROR
            try:
                code = _child(mutant, tests, src.resolve(), Path(tmp.name), timeout)
            except BaseException:
                traceback.print_exc()
            finally:
                os._exit(code)
        running[pid] = (mutant, tmp)
    while running:
        reap()
    order = {id(m): i for i, (m, _) in enumerate(jobs)}
    return sorted(results, key=lambda r: order[id(r.mutant)])
