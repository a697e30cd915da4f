"""Code, tests and docs speak of the project: work history (issue numbers, sessions) belongs in CHANGELOG.md
and commit messages, where a reader can follow it, not in files a reader cannot relate it to."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
HISTORY = re.compile(r"\b(issue|session)\s*#?\d+", re.IGNORECASE)
SUFFIXES = {".py", ".md", ".mk", ".sh", ".toml", ".yml", ".cfg", ".ipynb", ""}


def _tracked() -> list[Path]:
    out = subprocess.run(["git", "ls-files"], cwd=ROOT, capture_output=True, text=True, check=True).stdout
    paths = [ROOT / p for p in out.splitlines()]
    # results/ holds run records (executed notebooks, logs), written by runs rather than by hand
    return [p for p in paths if p.suffix in SUFFIXES and p.name != "CHANGELOG.md"
            and p.relative_to(ROOT).parts[0] != "results" and p.is_file()]


def test_no_work_history_outside_the_changelog() -> None:
    hits = []
    for path in _tracked():
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1):
            if HISTORY.search(line):
                hits.append(f"{path.relative_to(ROOT)}:{n}: {line.strip()[:100]}")
    assert not hits, "work history belongs in CHANGELOG.md:\n" + "\n".join(hits)


def test_the_guard_sees_a_history_remark() -> None:
    issue, session = "Issue", "session"  # spelled apart so that this file passes its own guard
    assert HISTORY.search(f"# fixed for {issue} 12 part 4") and HISTORY.search(f"({session} 6)")
    assert not HISTORY.search("an issue with 12 runs") and not HISTORY.search("sessions of work")
