"""What produced a run: code version, package versions, papermill run id, time.

Works outside a git checkout (an installed copy, an unpacked archive): the git
fields are then None.
"""

from __future__ import annotations

import platform
import subprocess
from datetime import datetime, timezone
from importlib import metadata
from pathlib import Path
from typing import Any

from lib import ROOT

__all__ = ["provenance", "PROVENANCE_PACKAGES"]

PROVENANCE_PACKAGES = (
    "torch",
    "torchvision",
    "pulseopt",
    "schedulefree",
    "prodigyopt",
    "numpy",
    "transformers",
    "datasets",
    "tokenizers",
    "papermill",
)


def _git(root: Path, *args: str) -> str | None:
    """stdout of ``git -C root args`` or None if git is missing or fails."""
    try:
        done = subprocess.run(
            ["git", "-C", str(root), *args], capture_output=True, text=True, timeout=30, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return done.stdout if done.returncode == 0 else None


def _git_state(root: Path) -> tuple[str | None, bool | None]:
    """(HEAD sha, dirty) of the checkout whose top level is ``root``; (None, None) otherwise."""
    top = _git(root, "rev-parse", "--show-toplevel")
    if top is None or Path(top.strip()).resolve() != root.resolve():
        return None, None  # not a checkout of this project (maybe nested in another repo)
    sha = _git(root, "rev-parse", "--verify", "--quiet", "HEAD")
    status = _git(root, "status", "--porcelain")
    return (sha.strip() or None) if sha else None, None if status is None else bool(status.strip())


def _version(distribution: str) -> str | None:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return None


def provenance(papermill_run_id: str | None = None) -> dict[str, Any]:
    """``{git_sha, git_dirty, package_versions, papermill_run_id, created_utc}`` for this process.

    ``git_sha``/``git_dirty`` describe ``lib.ROOT`` (None outside a git checkout); a
    package that is not installed has version None.
    """
    sha, dirty = _git_state(ROOT)
    versions = {"python": platform.python_version()}
    versions.update({name: _version(name) for name in PROVENANCE_PACKAGES})
    return {
        "git_sha": sha,
        "git_dirty": dirty,
        "package_versions": versions,
        "papermill_run_id": papermill_run_id,
        "created_utc": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }
