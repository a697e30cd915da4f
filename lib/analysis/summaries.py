"""Summary CSVs of a results directory, as the thesis report scripts wrote them.

``python -m lib.analysis.summaries RESULTS_DIR [--out DIR]`` writes

* ``run_summary.csv``: one row per run (identification, best/final/drop/peak
  epoch, time, TFLOPs, time and TFLOPs to best, diagnostics, path);
* ``group_summary.csv``: one row per task × setting × method (made exact by the
  other ``aggregate.GROUP_KEYS``) with ``n``, seeds and mean ± sample SD;
* ``skipped.csv``: files that were skipped (unreadable) or ignored (not a RunResult);
* ``inputs.sha256``: ``inputs_sha256`` of the runs read.

Accuracies are fractions, as in the JSON. The default output directory is
``figures/summaries/<RESULTS_DIR relative to the repo, '/' -> '-'>``.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

import pandas as pd

from lib import FIGURES_DIR, ROOT
from lib.analysis.aggregate import GROUP_KEYS, METRICS, group_stats
from lib.analysis.load import LIST_COLUMNS, inputs_sha256, load_archive
from lib.analysis.style import atomic_write_text

RUN_ID_COLUMNS = (
    "profile", "standin", "dataset", "task", "setting", "optimizer", "method", "summary_label", "kind", "aees_axis",
    "lr_scheduler", "label_noise_type", "label_noise_rate", "seed", "base_lr", "lr_grid", "noise_grid",
    "grid", "lam", "context", "episode_length", "epochs", "complete", "duplicate",
)
RUN_METRIC_COLUMNS = METRICS + ("total_steps",)


def run_summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per run: identification and metrics, no per-epoch lists, sorted for reading."""
    cols = [c for c in RUN_ID_COLUMNS + RUN_METRIC_COLUMNS + ("relpath", "path") if c in df.columns]
    out = df.drop(columns=[c for c in LIST_COLUMNS if c in df.columns])[cols]
    return out.sort_values(["task", "setting", "optimizer", "method", "seed", "path"], kind="stable",
                           ignore_index=True)


def group_summary(df: pd.DataFrame) -> pd.DataFrame:
    """One row per group of ``GROUP_KEYS`` with n, seeds and mean ± sample SD (duplicates left out)."""
    return group_stats(df, by=GROUP_KEYS, metrics=METRICS)


def default_out_dir(results_dir: Path) -> Path:
    """``figures/summaries/<results dir relative to the repo root, '/' -> '-'>``."""
    resolved = results_dir.resolve()
    try:
        name = str(resolved.relative_to(ROOT))
    except ValueError:
        name = resolved.name
    return FIGURES_DIR / "summaries" / name.replace("/", "-").replace("\\", "-")


def write_summaries(results_dir: str | Path, out_dir: str | Path | None = None) -> dict[str, Path]:
    """Load ``results_dir`` and write the four summary files; returns their paths by name."""
    results_dir = Path(results_dir)
    if not results_dir.is_dir():
        raise NotADirectoryError(f"write_summaries: RESULTS_DIR {results_dir} is not a directory")
    out = Path(out_dir) if out_dir is not None else default_out_dir(results_dir)
    df = load_archive(results_dir)
    skipped = pd.DataFrame(
        [(p, "skipped", r) for p, r in df.attrs["skipped"]] + [(p, "ignored", r) for p, r in df.attrs["ignored"]],
        columns=["path", "status", "reason"])
    paths = {name: out / name for name in ("run_summary.csv", "group_summary.csv", "skipped.csv", "inputs.sha256")}
    atomic_write_text(paths["run_summary.csv"], run_summary(df).to_csv(index=False))
    atomic_write_text(paths["group_summary.csv"], group_summary(df).to_csv(index=False))
    atomic_write_text(paths["skipped.csv"], skipped.to_csv(index=False))
    atomic_write_text(paths["inputs.sha256"], f"{inputs_sha256(df['path'])}  {len(df)} runs\n")
    return paths


def main(argv: list[str] | None = None) -> int:
    """CLI entry point (see module docstring)."""
    parser = argparse.ArgumentParser(prog="python -m lib.analysis.summaries", description=__doc__.split("\n")[0])
    parser.add_argument("results_dir", type=Path, help="directory of RunResult JSON files (searched recursively)")
    parser.add_argument("--out", type=Path, default=None, help="output directory (default: figures/summaries/...)")
    args = parser.parse_args(argv)
    if not args.results_dir.is_dir():
        parser.error(f"RESULTS_DIR {args.results_dir} is not a directory")
    logging.basicConfig(level=logging.WARNING, format="%(name)s: %(message)s")
    paths = write_summaries(args.results_dir, args.out)
    runs = pd.read_csv(paths["run_summary.csv"])
    groups = pd.read_csv(paths["group_summary.csv"])
    skipped = pd.read_csv(paths["skipped.csv"])
    print(f"{len(runs)} runs in {len(groups)} groups from {args.results_dir} "
          f"({(skipped['status'] == 'skipped').sum()} skipped, {(skipped['status'] == 'ignored').sum()} ignored)")
    for path in paths.values():
        print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
