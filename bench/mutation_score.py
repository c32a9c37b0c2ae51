"""Mutation score of the modules in pyproject's [tool.mutmut] from the last `mutmut run`; exits 1 below the bar.

Run from the repository root after `.venv/bin/mutmut run` (`make mutation` does both). Reads mutmut's own result
files (mutants/<path>.meta), prints killed / total per module, and the diff of every surviving mutant so a new
survivor can be judged (a missing test, or an equivalent mutant to list in docs/mutation.md).
"""

from __future__ import annotations

import argparse
import sys
import tomllib
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from mutmut.mutation.data import SourceFileMutationData
from mutmut.mutation.diff_apply import get_diff_for_mutant
from mutmut.stats import status_by_exit_code

THRESHOLD = 95.0
# mutmut's own badge counts a timed-out mutant as detected (the tests did not pass), and so do we
DETECTED = frozenset({"killed", "timeout"})


@dataclass
class ModuleScore:
    """Mutant verdicts of one source file."""

    path: str
    statuses: Counter[str] = field(default_factory=Counter)
    undetected: list[tuple[str, str]] = field(default_factory=list)  # (mutant name, status)

    @property
    def total(self) -> int:
        return sum(self.statuses.values())

    @property
    def detected(self) -> int:
        return sum(n for status, n in self.statuses.items() if status in DETECTED)


def percent(detected: int, total: int) -> float:
    """Score in percent; a module without mutants scores 0 (it means the run did not happen)."""
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


def report(scores: list[ModuleScore], *, diffs: bool, threshold: float) -> bool:
    """Print the table and the undetected mutants; True when the total meets the threshold."""
    width = max(len(s.path) for s in scores)
    print(f"\n{'module':<{width}}  killed / total   score")
    for s in scores:
        other = ", ".join(f"{n} {st}" for st, n in sorted(s.statuses.items()) if st not in DETECTED)
        line = f"{s.path:<{width}}  {s.detected:>6} / {s.total:<5}  {percent(s.detected, s.total):5.1f} %"
        print(line + (f"   ({other})" if other else ""))
    detected, total = sum(s.detected for s in scores), sum(s.total for s in scores)
    score = percent(detected, total)
    print(f"{'total':<{width}}  {detected:>6} / {total:<5}  {score:5.1f} %")
    undetected = [(s.path, name, status) for s in scores for name, status in s.undetected]
    if undetected:
        print(f"\n{len(undetected)} undetected mutants (equivalent ones are explained in docs/mutation.md):")
    for path, name, status in undetected:
        print(f"\n# {name}: {status}")
        if diffs:
            try:
                print(get_diff_for_mutant(name, path=path))
            except (OSError, ValueError) as exc:  # a mutant file from an older mutmut: name is enough
                print(f"(no diff: {exc})")
    missing = [s.path for s in scores if s.total == 0]
    if missing:
        print(f"\nFAIL: no mutation results for {', '.join(missing)}: did `mutmut run` finish?")
        return False
    if score < threshold:
        print(
            f"\nFAIL: mutation score {score:.1f} % is below {threshold:.0f} %: add tests that kill the survivors"
        )
        return False
    print(f"\nOK: mutation score {score:.1f} % (at least {threshold:.0f} %)")
    return True


def main(argv: list[str] | None = None) -> int:
    """Print the scores of the last run; status 1 when below the threshold or results are missing."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--threshold", type=float, default=THRESHOLD, help="minimum total score in percent")
    parser.add_argument("--no-diff", action="store_true", help="list surviving mutants by name only")
    args = parser.parse_args(argv)
    scores = load_scores(configured_paths(Path("pyproject.toml")))
    return 0 if report(scores, diffs=not args.no_diff, threshold=args.threshold) else 1


if __name__ == "__main__":
    sys.exit(main())
