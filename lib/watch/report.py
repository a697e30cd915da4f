"""The text of ``make runs-status``: per grid, its counts and time left, then one block per run that
needs a look (running, stalled, dead, queued, failed)."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from lib.grids import manifest
from lib.grids.cells import THESIS_PROFILE
from lib.grids.slurm import state as slurm_state
from lib.watch import runs, thesis

__all__ = ["clock", "duration", "progress_text", "report"]

ORDER = ("finished", "running", "stalled", "dead", "queued", "failed", "pending")
INDENT = " " * 11


def duration(seconds: float) -> str:
    """``42 s``, ``12 m 5 s``, ``3 h 8 m``, ``2 d 5 h``."""
    s = max(0, int(round(seconds)))
    for unit, size, sub, sub_size in (("d", 86400, "h", 3600), ("h", 3600, "m", 60), ("m", 60, "s", 1)):
        if s >= size:
            return f"{s // size} {unit} {(s % size) // sub_size} {sub}"
    return f"{s} s"


def clock(t: float, now: float) -> str:
    """Local time of day, with the weekday when it is not today."""
    fmt = "%H:%M" if time.localtime(t)[:3] == time.localtime(now)[:3] else "%a %H:%M"
    return time.strftime(fmt, time.localtime(t))


def _pct(x: float | None) -> str:
    return "-" if x is None else f"{100 * x:.2f} %"


def progress_text(record: dict[str, Any], now: float) -> str:
    """``epoch 57/200  val 51.23 %  best 53.01 % @52  lr 1.00e-03 arm ×2 σ0  41.2 s/epoch  finish ~14:32 (in 1 h 38 m)``."""
    e, total = record["epoch"], record["epochs"]
    if record.get("val") is None:
        head = f"epoch {e}/{total}  " + (f"resumed at epoch {e}" if record.get("resumed_at") else "first epoch running")
    else:
        head = f"epoch {e}/{total}  val {_pct(record['val'])}  best {_pct(record['best'])} @{record['best_epoch']}"
        if record.get("lr") is not None:
            head += f"  lr {record['lr']:.2e}"
        arm = record.get("arm")
        if arm:
            head += f" arm ×{arm['lr']:g}" + (f" σ{arm['sigma']:g}" if arm.get("sigma") else "")
    spe = record.get("seconds_per_epoch")
    if spe:
        left = max(0, total - e) * spe
        head += f"  {spe:.1f} s/epoch  finish ~{clock(record['time'] + left, now)} (in {duration(record['time'] + left - now)})"
    return head


def _thesis_line(v: runs.View, published: dict[str, Any], grid: str) -> tuple[str, bool] | None:
    numbers = published.get(f"{grid}/{v.entry.get('cell', '')}")
    if numbers is None or v.record is None:
        return None
    return thesis.verdict(numbers, v.record["epoch"], v.record.get("best"))


def run_lines(v: runs.View, grid: str, profile: str, published: dict[str, Any], now: float) -> list[str]:
    label = v.state.upper()
    lines: list[str] = []
    if v.state in ("running", "stalled"):
        text = progress_text(v.record, now) if v.record else "starting"
        lines.append(f"  {label:<8} {v.name}  {text}" + (f"  [{v.detail}]" if v.detail else ""))
    elif v.state == "dead":
        lines.append(f"  {label:<8} {v.name}: {v.detail}")
        lines += [f"{INDENT}{line}" for line in runs.resume_lines(v, grid, profile)]
    elif v.state == "queued":
        lines.append(f"  {label:<8} {v.name}  job {v.job}  {v.detail}")
    elif v.state == "failed":
        retry = v.entry.get("retry") or v.entry.get("command", "")
        lines.append(f"  {label:<8} {v.name}" + (f"  job {v.job}" if v.job else "") + f": {v.detail}")
        lines.append(f"{INDENT}retry: {retry}")
        if v.job:
            lines.append(f"{INDENT}retry on Slurm: make runs GRID={grid} PROFILE={profile} LAUNCHER=slurm RETRY=1")
    if v.state in ("running", "stalled", "dead"):
        verdict = _thesis_line(v, published, grid)
        if verdict is not None:
            lines.append(f"{INDENT}{verdict[0]}")
    return lines


def grid_lines(name: str, profile: str, grid_dir: Path, results_dir: Path, now: float) -> list[str]:
    data = manifest.read(grid_dir)
    if data is None:
        return [f"{name}: no manifest (run `make runs GRID={name} PROFILE={profile}`)"]
    views, note = runs.grid_views(grid_dir, data, now)
    counts = {k: sum(v.state == k for v in views) for k in ORDER}
    jobs = sorted({v.job.split("_")[0] for v in views if v.job}, key=int) if slurm_state.read_jobs(grid_dir) else []
    head = f"{name}: " + ", ".join(f"{counts[k]} {k}" for k in ORDER) + f" of {len(views)}"
    if jobs:
        head += f" (Slurm array job{'s' if len(jobs) > 1 else ''} {', '.join(jobs)})"
    left, working, unknown = runs.eta(views)
    if left is not None:
        head += f"; ~{duration(left)} left at {working} at a time (done ~{clock(now + left, now)})"
        if unknown:
            head += f", {unknown} run(s) without an estimate"
    lines = [head] + ([f"  note: {note}"] if note else [])
    shown = [v for v in views if v.state in ("running", "stalled", "dead", "queued", "failed")]
    published: dict[str, Any] = {}
    if profile == THESIS_PROFILE and any(v.record and v.state in ("running", "stalled", "dead") for v in shown):
        published = thesis.published(results_dir)
    rank = {k: i for i, k in enumerate(("running", "stalled", "dead", "queued", "failed"))}
    for v in sorted(shown, key=lambda v: (rank[v.state], v.name)):
        lines += run_lines(v, name, profile, published, now)
    return lines


def report(grids: list[str], profile: str, results_dir: Path, now: float | None = None) -> str:
    now = time.time() if now is None else now
    lines: list[str] = []
    for name in grids:
        lines += grid_lines(name, profile, Path(results_dir) / profile / name, Path(results_dir), now)
    return "\n".join(lines) + "\n"


