r"""Peak-checkpoint diagnostics tables (T11, T12; chapter ``checkpoints``).

Peak-checkpoint diagnostics (T11, T12) in two protocols, side by side:
* best-epoch weights (this project): every noisy run records them on its best epoch's weights
  (``peak_checkpoint_diagnostics``);
* re-run to peak (the thesis): runs re-trained to each seed's peak epoch with the schedule
  compressed to it, read at their final epoch: this project's ``cifar-peak-rerun`` runs
  (``run_tag`` ``peak-rerun``) or a thesis archive's shorter runs with diagnostics. A method
  without a schedule re-trains the same run up to the peak, so its re-run columns repeat the
  best-epoch numbers when it has no re-runs; a scheduled method without re-runs shows "--"
  (the table still builds, status partial).
"""

from __future__ import annotations

import math

import pandas as pd

from lib.analysis.build import NUMBER_COLUMNS, Built, Runs, largest_group, main_filters, stats
from lib.analysis.labels import ROW_ORDERS, SETTING_LABELS
from lib.analysis.style import Column
from lib.analysis.tables_cifar import OPTS, per_setting

CKPT_SETTINGS = ("asym20", "sym40")
CKPT_METRICS = {"epoch": ("ckpt_epoch", 1.0), "val": ("ckpt_val", 100.0), "corr_noisy": ("ckpt_corr_noisy", 100.0),
                "corr_clean": ("ckpt_corr_clean", 100.0), "train_clean": ("ckpt_train_clean", 100.0)}
CKPT_COLUMNS = (Column("Epoch", "ckpt_epoch", 1.0, None), Column("Val acc.", "ckpt_val", 100.0, None),
                Column("Corr. noisy $\\downarrow$", "ckpt_corr_noisy", 100.0, "min"),
                Column("Corr. clean $\\uparrow$", "ckpt_corr_clean", 100.0, "max"),
                Column("Train clean", "ckpt_train_clean", 100.0, None))
_DIAG_KEYS = {"ckpt_corr_noisy": "train_corrupted_accuracy_vs_noisy_labels",
              "ckpt_corr_clean": "train_corrupted_accuracy_vs_clean_labels", "ckpt_train_clean": "train_clean_accuracy"}
# The two protocols of T11/T12: (key, column suffix, numbers prefix, description).
# The thesis' published T11/T12 are the re-run protocol, so its numbers keep the thesis metric names.
PROTOCOLS = (("best", " (best ep.)", "best-epoch weights ", "best-epoch weights (this project)"),
             ("rerun", " (re-run)", "", "re-run to peak (thesis)"))
PROTOCOL_NOTE = ("Two measurements of the peak checkpoint: 'best ep.' reads the training-subset diagnostics "
                 "on the best epoch's weights of the full run (this project); 're-run' re-trains the run to its "
                 "peak epoch with the schedule compressed to it (scheduler_t_max = that epoch) and measures "
                 "the final weights (the thesis protocol), which for Cosine runs is a different model.")
UNSCHEDULED_NOTE = ("re-run to peak of a run without a schedule: the same training up to the peak epoch, so "
                    "the re-run columns repeat the best-epoch weights' numbers")


def _columns(protocol: str) -> tuple[Column, ...]:
    _, suffix, _, _ = next(p for p in PROTOCOLS if p[0] == protocol)
    return tuple(Column(c.header + suffix, f"{protocol}_{c.metric}", c.scale, c.better) for c in CKPT_COLUMNS)


def _ckpt_frame(out: list[dict], setting: str, optimizer: str, method: str) -> pd.DataFrame:
    cols = ["seed", *(m for m, _ in CKPT_METRICS.values()), "path"]
    return pd.DataFrame(out, columns=cols).assign(setting=setting, optimizer=optimizer, method=method)


def _filters(setting: str, optimizer: str, method: str) -> dict:
    return dict(task="cifar100", setting=setting, optimizer=optimizer, method=method,
                **main_filters("cifar100", method))


def best_epoch_rows(runs: Runs, setting: str, optimizer: str, method: str) -> pd.DataFrame:
    """This project's protocol: the diagnostics of each full run's best epoch (``peak_checkpoint_diagnostics``)."""
    out = []
    for r in largest_group(runs.candidates(**_filters(setting, optimizer, method))).itertuples():
        d = runs.record(r.path).get("peak_checkpoint_diagnostics")
        if isinstance(d, dict):
            out.append({"seed": r.seed, "ckpt_epoch": float(d["epoch"]), "ckpt_val": d["val_accuracy"],
                        **{k: d.get(v, math.nan) for k, v in _DIAG_KEYS.items()}, "path": r.path})
    return _ckpt_frame(out, setting, optimizer, method)


def _final_diagnostics(rows: pd.DataFrame) -> list[dict]:
    return [{"seed": r.seed, "ckpt_epoch": float(r.epochs), "ckpt_val": r.final_val_accuracy,
             "ckpt_corr_noisy": r.corr_noisy, "ckpt_corr_clean": r.corr_clean, "ckpt_train_clean": r.train_clean,
             "path": r.path} for r in rows.itertuples()]


def rerun_rows(runs: Runs, setting: str, optimizer: str, method: str) -> pd.DataFrame:
    """The thesis protocol: the final diagnostics of runs re-trained to each seed's peak epoch.

    This project's re-runs carry ``run_tag`` ``peak-rerun`` (grid ``cifar-peak-rerun``; their epochs
    differ per seed, so no configuration group is taken). A thesis archive's re-runs are the noisy
    runs with diagnostics that are shorter than the full runs of the same method (a seed whose peak is
    the last epoch: its full run's final diagnostics are the peak's)."""
    filters = _filters(setting, optimizer, method)
    tagged = runs.candidates(peak_rerun=True, **filters)
    tagged = tagged[tagged["has_diagnostics"].astype(bool)].sort_values(["seed", "path"]).drop_duplicates("seed")
    if not tagged.empty:
        return _ckpt_frame(_final_diagnostics(tagged), setting, optimizer, method)
    cands = runs.candidates(profile="thesis-archive", **filters)
    if cands.empty:
        return _ckpt_frame([], setting, optimizer, method)
    diag = cands[cands["has_diagnostics"].astype(bool)]
    full = cands["epochs"].max()
    reruns = diag[diag["epochs"] < full]
    at_end = diag[(diag["epochs"] == full) & (diag["peak_epoch"] == full) & ~diag["seed"].isin(reruns["seed"])]
    chosen = pd.concat([reruns, at_end]).sort_values(["seed", "path"]).drop_duplicates("seed")
    return _ckpt_frame(_final_diagnostics(chosen), setting, optimizer, method)


def checkpoint_rows(runs: Runs, setting: str, optimizer: str, method: str) -> tuple[pd.DataFrame, str]:
    """One row per seed for F13 and the protocol it follows: the thesis's re-runs to each seed's peak epoch
    where the archive has them, else the best-epoch weights (for a method without a schedule the same
    training as a re-run; for a scheduled one not: its LR has not decayed at the peak of the full run)."""
    rerun = rerun_rows(runs, setting, optimizer, method)
    if not rerun.empty:
        return rerun, "re-run to peak"
    best = best_epoch_rows(runs, setting, optimizer, method)
    return best, ("best-epoch weights" if not best.empty else "")


def _unscheduled(method: str) -> bool:
    return not method.startswith("Cosine")


def _checkpoint_all(runs: Runs, built: Built, optimizers: tuple[str, ...] = OPTS) -> pd.DataFrame:
    """Per seed, both protocols side by side (``best_ckpt_*`` and ``rerun_ckpt_*`` columns)."""
    parts, reused = [], False
    for s in CKPT_SETTINGS:
        for o in optimizers:
            for m in ROW_ORDERS["T11"]:
                best = built.use(best_epoch_rows(runs, s, o, m), f"{s} {o} {m} (best-epoch weights)")
                rerun = rerun_rows(runs, s, o, m)
                if rerun.empty and _unscheduled(m) and not best.empty:
                    rerun, reused = best, True  # no schedule to compress: the re-run is the same training
                built.use(rerun, f"{s} {o} {m} (re-run to peak)")
                metrics = [c for c, _ in CKPT_METRICS.values()]
                b = best[["seed", *metrics]].rename(columns={c: f"best_{c}" for c in metrics})
                r = rerun[["seed", *metrics]].rename(columns={c: f"rerun_{c}" for c in metrics})
                both = b.merge(r, on="seed", how="outer").sort_values("seed")
                if not both.empty:
                    parts.append(both.assign(setting=s, optimizer=o, method=m))
    if reused:
        built.notes.append(UNSCHEDULED_NOTE)
    built.notes.insert(0, PROTOCOL_NOTE)
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()


def _ckpt_numbers(frame: pd.DataFrame, block, row, std: bool) -> list[dict]:
    out = []
    for _, r in frame.iterrows():
        for key, _, prefix, _ in PROTOCOLS:
            for name, (col, scale) in CKPT_METRICS.items():
                mean = r[f"{key}_{col}_mean" if std else f"{key}_{col}"]
                if not pd.isna(mean):
                    out.append({"block": block(r), "row": row(r), "metric": prefix + name, "mean": mean * scale,
                                "std": r[f"{key}_{col}_std"] * scale if std else math.nan,
                                "n": int(r["n"]) if std else 1})
    return out


def t11(runs: Runs) -> Built:
    built = Built()
    rows = _checkpoint_all(runs, built)
    if not built.inputs:
        return built
    metrics = [f"{k}_{c}" for k, *_ in PROTOCOLS for c, _ in CKPT_METRICS.values()]
    summary = stats(rows, by=("setting", "optimizer", "method"), metrics=metrics)
    columns = _columns("best") + _columns("rerun")
    built.cells, built.styles = per_setting(summary, ROW_ORDERS["T11"], columns, n_col=False,
                                            tie_break_sd=True, setting_header="Setting", opt_header="Opt.")
    built.numbers = pd.DataFrame(_ckpt_numbers(summary, lambda r: f"{r['setting']} {r['optimizer']}",
                                               lambda r: str(r["method"]), std=True), columns=NUMBER_COLUMNS)
    return built


def t12(runs: Runs) -> Built:
    built = Built()
    rows = _checkpoint_all(runs, built)
    if not built.inputs:
        return built
    cells = []
    for _, r in rows.iterrows():
        cell = {"Setting": SETTING_LABELS[r.setting], "Seed": str(int(r.seed)), "Opt.": r.optimizer,
                "Variant": r.method}
        for key, *_ in PROTOCOLS:
            for c in _columns(key):
                v = r[c.metric]
                cell[c.header] = "--" if pd.isna(v) else (str(int(v)) if c.metric.endswith("_epoch")
                                                          else f"{v * 100:.1f}")
        cells.append(cell)
    built.cells = pd.DataFrame(cells)
    built.numbers = pd.DataFrame(_ckpt_numbers(rows, lambda r: f"{r['setting']} {r['optimizer']}",
                                               lambda r: f"{r['method']} seed {int(r['seed'])}", std=False),
                                 columns=NUMBER_COLUMNS)
    return built
