"""Mutation score of the modules in pyproject's [tool.mutmut] after `mutmut run`; exits 1 below the bar.

Run from the repository root after `.venv/bin/mutmut run` (`make mutation` does both). Reads mutmut's own result
files (mutants/<path>.meta), adds the module-level constant mutants mutmut 3 does not make
(bench/mutation_constants.py), prints killed / total per module and the diff of every undetected mutant, so a new
survivor can be judged: a missing test, or an equivalent mutant to list in docs/mutation.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code

sys.path.insert(0, str(Path(__file__).resolve().parent))
from mutation_constants import ConstantResult, run_constant_mutants

THRESHOLD = 95.0
# mutmut's own badge counts a timed-out mutant as detected (the tests did not pass), and so do we
DETECTED = frozenset({"killed", "timeout"})


@dataclass
class ModuleScore:
    """Mutant verdicts of one source file: mutmut's (inside functions) and the module-level constants'."""

    path: str
    statuses: Counter[str] = field(default_factory=Counter)
    undetected: list[tuple[str, str]] = field(default_factory=list)  # (mutant name, status)
    constants: list[ConstantResult] = field(default_factory=list)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def detected(self) -> int:
        return sum(n for status, n in self.statuses.items() if status in DETECTED)

    @property
    def constants_killed(self) -> int:
        return sum(r.status == "killed" for r in self.constants)

    @property
    def score(self) -> float:
        return percent(self.detected + self.constants_killed, self.total + len(self.constants))


def percent(detected: int, total: int) -> float:
    """Score in percent; nothing to score counts as 0 (it means the run did not happen)."""
    return 100.0 * detected / total if total else 0.0


def configured_paths(pyproject: Path) -> list[str]:
    """The files mutmut mutates, as listed in pyproject's [tool.mutmut] only_mutate."""
    config = tomllib.loads(pyproject.read_text("utf-8"))["tool"]["mutmut"]
    return [str(p) for p in config["only_mutate"]]


def load_scores(paths: list[str]) -> list[ModuleScore]:
    """One ModuleScore per path from mutants/<path>.meta (empty when mutmut never ran on it)."""
    scores: list[ModuleScore] = []
    for path in paths:
        data = SourceFileMutationData(path=path)
        data.load()
        score = ModuleScore(path)
        for name, code in sorted(data.exit_code_by_key.items()):
            status = status_by_exit_code[code]
            score.statuses[status] += 1
            if status not in DETECTED:
                score.undetected.append((name, status))
        scores.append(score)
    return scores


def module_name(path: str) -> str:
    """src/notifbot/text.py → notifbot.text"""
    return path.removeprefix("src/").removesuffix(".py").replace("/", ".")


def tests_by_path(paths: list[str], stats: Path) -> dict[str, list[str]]:
    """The test files mutmut found calling each module's functions (mutants/mutmut-stats.json)."""
    by_function: dict[str, list[str]] = json.loads(stats.read_text("utf-8"))["tests_by_mangled_function_name"]
    out: dict[str, list[str]] = {}
    for path in paths:
        prefix = module_name(path) + "."
        files = {t.split("::")[0] for name, ts in by_function.items() if name.startswith(prefix) for t in ts}
        out[path] = sorted(files)
    return out


def report(scores: list[ModuleScore], *, diffs: bool, threshold: float) -> bool:
    """Print the table and the undetected mutants; True when the total and every module meet the threshold."""
    width = max(len(s.path) for s in scores)
    print(f"\n{'module':<{width}}  functions (mutmut)  constants   score")
    for s in scores:
        other = ", ".join(f"{n} {st}" for st, n in sorted(s.statuses.items()) if st not in DETECTED)
        line = f"{s.path:<{width}}  {s.detected:>6} / {s.total:<5}    {s.constants_killed:>3} / {len(s.constants):<3}"
        print(f"{line}  {s.score:5.1f} %" + (f"   ({other})" if other else ""))
    detected = sum(s.detected + s.constants_killed for s in scores)
    total = sum(s.total + len(s.constants) for s in scores)
    score = percent(detected, total)
    print(f"{'total':<{width}}  {detected:>6} / {total:<5} killed           {score:5.1f} %")
    survivors = [(s.path, name, status) for s in scores for name, status in s.undetected]
    constant_survivors = [r.mutant for s in scores for r in s.constants if r.status != "killed"]
    if survivors or constant_survivors:
        count = len(survivors) + len(constant_survivors)
        print(f"\n{count} undetected mutants (the equivalent ones are explained in docs/mutation.md):")
    for path, name, status in survivors:
        print(f"\n# {name}: {status}")
        if diffs:
            try:
                print(get_diff_for_mutant(name, path=path))
            except (OSError, ValueError) as exc:  # a mutant file from an older mutmut: the name is enough
                print(f"(no diff: {exc})")
    for mutant in constant_survivors:
        print(f"\n# constant {mutant.path}:{mutant.line}: {mutant.description}: survived")
    missing = [s.path for s in scores if s.total == 0]
    if missing:
        print(f"\nFAIL: no mutation results for {', '.join(missing)}: did `mutmut run` finish?")
        return False
    low = [f"{s.path} {s.score:.1f} %" for s in scores if s.score < threshold]
    if score < threshold or low:
        print(
            f"\nFAIL: mutation score {score:.1f} % overall (below {threshold:.0f} %: {', '.join(low) or 'none'});"
            f" every module needs {threshold:.0f} %: add tests that kill the survivors, or explain the equivalent"
            " ones in docs/mutation.md"
        )
        return False
    print(f"\nOK: mutation score {score:.1f} %, every module at least {threshold:.0f} %")
    return True


def main(argv: list[str] | None = None) -> int:
    """Print the scores of the last run; status 1 when below the threshold or results are missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument(
        "--threshold", type=float, default=THRESHOLD, help="minimum score in percent, each module"
    )
    parser.add_argument("--no-diff", action="store_true", help="list surviving mutants by name only")
    parser.add_argument("--no-constants", action="store_true", help="skip the module-level constant mutants")
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2, help="parallel constant mutants")
    args = parser.parse_args(argv)
    paths = configured_paths(Path("pyproject.toml"))
    scores = load_scores(paths)
    stats = Path("mutants/mutmut-stats.json")
    if not args.no_constants and stats.exists():
        results = run_constant_mutants(
            paths, tests_by_path(paths, stats), src=Path("src"), workers=args.workers
        )
        for s in scores:
            s.constants = [r for r in results if r.mutant.path == s.path]
    return 0 if report(scores, diffs=not args.no_diff, threshold=args.threshold) else 1


if __name__ == "__main__":
    sys.exit(main())
