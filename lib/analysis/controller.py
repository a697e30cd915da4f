"""Controller behaviour: arm selection (F9, F10), reward per arm (F11), update norms (F12), and,
beyond the thesis, the joint (LR multiplier, σ) pairs each AEES-Dual run actually tried (X1, X2).

Why X1/X2: in ``independent`` mode the LR and σ controllers are two discounted-UCB
bandits that receive the *same* episode reward. With equal axis sizes n, warm-up
pairs LR arm i with σ arm π(i); afterwards the two controllers' statistics for i and
π(i) stay identical, so they keep choosing them together: only n of the n×n joint
pairs are ever tried. ``coverage`` measures what each run did.
"""

from __future__ import annotations

from collections import Counter

import numpy as np
import pandas as pd

from lib.analysis.build import Built, Runs
from lib.analysis.labels import TASK_LABELS, figure_name
from lib.analysis.plots import ARM_COLORS, new_figure, odd_window
from lib.analysis.tables_cifar import cifar_rows
from lib.analysis.tables_nlp import nlp_rows

MAX_HEATMAPS = 12


def grid_values(text: str) -> list[float]:
    return [float(v) for v in str(text).split()]


def episodes(runs: Runs, path: str) -> dict:
    """``episode_logs`` of one run (``{}`` when absent)."""
    logs = runs.record(path).get("episode_logs")
    return logs if isinstance(logs, dict) else {}


def snap(values: list[float], arms: list[float]) -> np.ndarray:
    """Index of the nearest arm for each selected value."""
    v = np.asarray([np.nan if x is None else x for x in values], dtype=float)[:, None]
    return np.abs(v - np.asarray(arms)[None, :]).argmin(axis=1)


def arm_fractions(runs: Runs, rows: pd.DataFrame, key: str, arms: list[float]) -> np.ndarray:
    """[episode, arm] fraction of seeds choosing each arm, episodes cut to the shortest seed."""
    picks = [snap(episodes(runs, p).get(key, []), arms) for p in rows["path"]]
    picks = [p for p in picks if len(p)]
    n = min(len(p) for p in picks)
    stacked = np.stack([p[:n] for p in picks])
    return np.stack([(stacked == a).mean(axis=0) for a in range(len(arms))], axis=1)


def with_episodes(runs: Runs, built: Built, rows: pd.DataFrame, what: str) -> pd.DataFrame:
    """The rows whose runs have episode logs; the others are dropped from the inputs and named as missing."""
    keep = rows[[bool(episodes(runs, p)) for p in rows["path"]]] if not rows.empty else rows
    dropped = set(rows["path"]) - set(keep["path"]) if not rows.empty else set()
    if dropped:
        built.inputs = [p for p in built.inputs if p not in dropped]
        built.missing.append(f"{what}: {len(dropped)} runs without episode logs")
    return keep


def _dual_noisy_agnews(runs: Runs, built: Built) -> pd.DataFrame:
    rows = nlp_rows(runs, built, "agnews_noise", ("AEES + WL",))
    return with_episodes(runs, built, rows, "agnews_noise AEES + WL")


def f9(runs: Runs) -> Built:
    built = Built()
    rows = _dual_noisy_agnews(runs, built)
    if rows.empty:
        return built
    fig, axes = new_figure(2, width=5.0)
    for ax, (key, grid, fmt) in zip(axes, (("selected_noise_values", "noise_grid", "σ={:g}"),
                                           ("selected_lr_values", "lr_grid", "m={:.1f}"))):
        arms = grid_values(rows[grid].iloc[0])
        frac = arm_fractions(runs, rows, key, arms)
        w = odd_window(len(frac))
        smooth = pd.DataFrame(frac).rolling(w, center=True, min_periods=1).mean().to_numpy()
        ax.stackplot(np.arange(1, len(frac) + 1), smooth.T, labels=[fmt.format(a) for a in arms],
                     colors=ARM_COLORS[:len(arms)], alpha=0.85)
        ax.set(xlabel="episode", ylabel="fraction of seeds", ylim=(0, 1),
               title=f"{'σ' if 'noise' in key else 'LR'} axis (n={len(rows)} seeds, window {w})")
        ax.legend(fontsize=7, loc="upper right")
    built.figure = fig
    return built


def epoch_arm_fractions(runs: Runs, path: str, arms: list[float], window: int) -> np.ndarray:
    """[arm, epoch] fraction of one run's episodes that chose each LR arm, pooled over a centred window of
    ``window`` epochs (an episode counts in the epoch it ends in)."""
    rec, logs = runs.record(path), episodes(runs, path)
    epochs = int(rec["total_epochs"])
    spe = rec["total_steps"] / epochs
    ep = np.minimum(np.asarray(logs["episode_end_steps"]) // spe, epochs - 1).astype(int)
    idx = snap(logs["selected_lr_values"], arms)
    counts = pd.DataFrame([np.bincount(ep[idx == a], minlength=epochs) for a in range(len(arms))]).T
    pooled = counts.rolling(window, center=True, min_periods=1).sum().to_numpy().T
    return pooled / np.maximum(pooled.sum(axis=0, keepdims=True), 1)


def f10(runs: Runs) -> Built:
    built = Built()
    panels = []
    for method in ("AEES", "Cosine + AEES"):
        rows = cifar_rows(runs, built, (method,), setting="sym40", optimizer="AdamW")
        panels.append((method, with_episodes(runs, built, rows, f"sym40 AdamW {method}")))
    if not built.inputs:
        return built
    fig, axes = new_figure(2, width=5.0, sharey=True)
    for ax, (method, rows) in zip(axes, panels):
        ax.set(title=method, xlabel="epoch", ylim=(0, 1))
        if rows.empty:
            ax.text(0.5, 0.5, "no runs", ha="center", transform=ax.transAxes)
            continue
        arms = grid_values(rows["lr_grid"].iloc[0])
        window = odd_window(int(rows["epochs"].min()))
        per_seed = [epoch_arm_fractions(runs, p, arms, window) for p in rows["path"]]
        n = min(s.shape[1] for s in per_seed)
        arr = np.stack([s[:, :n] for s in per_seed])  # seed, arm, epoch
        x = np.arange(1, n + 1)
        for a, arm in enumerate(arms):
            mean = arr[:, a].mean(axis=0)
            sd = arr[:, a].std(axis=0, ddof=1) if len(arr) > 1 else np.zeros(n)
            ax.plot(x, mean, color=ARM_COLORS[a], label=f"m={arm:.1f}")
            ax.fill_between(x, np.clip(mean - sd, 0, 1), np.clip(mean + sd, 0, 1), color=ARM_COLORS[a], alpha=0.15,
                            lw=0)
        ax.axhline(1 / len(arms), color="black", ls=":", lw=1, label="uniform 1/K")
        ax.set_title(f"{method} ({len(arr)} seed{'s' if len(arr) > 1 else ''}, {window}-epoch window)")
        ax.legend(fontsize=7, loc="upper right")
    axes[0].set_ylabel("fraction of episodes")
    built.figure = fig
    return built


def f11(runs: Runs) -> Built:
    built = Built()
    rows = _dual_noisy_agnews(runs, built)
    if rows.empty:
        return built
    fig, axes = new_figure(2, width=4.6, sharey=True)
    for ax, (key, grid, fmt) in zip(axes, (("selected_lr_values", "lr_grid", "m={:.1f}"),
                                           ("selected_noise_values", "noise_grid", "σ={:g}"))):
        arms = grid_values(rows[grid].iloc[0])
        pooled = [[] for _ in arms]
        for p in rows["path"]:
            logs = episodes(runs, p)
            for a, r in zip(snap(logs[key], arms), logs["episode_rewards"]):
                pooled[a].append(r)
        pos = [i for i, v in enumerate(pooled) if v]
        if pos:
            ax.violinplot([pooled[i] for i in pos], positions=pos, showmedians=True)
        # the median and the episode count go under the arm's name, where nothing else is drawn
        ticks = [fmt.format(a) + (f"\nmedian {np.median(v):+.3f}\n{len(v)} episodes" if v else "\nnever chosen")
                 for a, v in zip(arms, pooled)]
        ax.axhline(0, color="black", ls="--", lw=0.8)
        ax.set_xticks(range(len(arms)), ticks, fontsize=8)
        ax.set_title(f"{'LR' if 'lr' in key else 'σ'} axis (pooled over {len(rows)} seeds)")
    axes[0].set_ylabel("episode reward (clipped)")
    built.figure = fig
    return built


F12_REGIMES = (("Clean CIFAR-100, Linear + AEES", "cifar", "AEES + Linear"),
               ("SST-2, Linear + AEES-Dual", "sst2", "AEES + WL"),
               ("Noisy AG News, Linear + AEES-Dual", "agnews_noise", "AEES + WL"))


def f12(runs: Runs) -> Built:
    built = Built()
    found = []
    for name, key, method in F12_REGIMES:
        rows = (cifar_rows(runs, built, (method,), setting="clean", optimizer="AdamW") if key == "cifar"
                else nlp_rows(runs, built, key, (method,)))
        found.append((name, with_episodes(runs, built, rows, name)))
    if not built.inputs:
        return built
    fig, (ax,) = new_figure(width=6.5, height=3.8)
    for i, (name, rows) in enumerate(found):
        series = []
        for p in rows["path"]:
            logs, rec = episodes(runs, p), runs.record(p)
            norms = [np.nan if v is None else v for v in logs.get("mean_update_norms", [])]
            if norms and not np.all(np.isnan(norms)):
                series.append((np.asarray(logs["episode_end_steps"], dtype=float) / rec["total_steps"], norms))
        if not series:
            continue
        n = min(len(s[1]) for s in series)
        w = odd_window(n, minimum=3)
        arr = np.stack([pd.Series(s[1][:n]).rolling(w, center=True, min_periods=1).median() for s in series])
        x = series[0][0][:n]
        q1, med, q3 = np.nanpercentile(arr, [25, 50, 75], axis=0)
        ax.plot(x, med, color=ARM_COLORS[i], label=f"{name} (n={len(series)}, window {w})")
        ax.fill_between(x, q1, q3, color=ARM_COLORS[i], alpha=0.2, lw=0)
    ax.set_yscale("log")
    ax.axhspan(ax.get_ylim()[0], 0.01, color="grey", alpha=0.12, lw=0, label="σ candidates ≤ 0.01")
    ax.set(xlabel="training progress", ylabel="mean update norm per episode", xlim=(0, 1))
    ax.legend(fontsize=7)
    built.figure = fig
    return built


def coverage(runs: Runs) -> pd.DataFrame:
    """One row per AEES-Dual run: the joint (LR, σ) pairs it selected, and whether they stayed locked."""
    dual = runs.candidates(timing=None, kind="adaptive", aees_axis="AEES-Dual")
    out = []
    for r in dual.sort_values(["task", "setting", "method", "seed", "path"]).itertuples():
        logs = episodes(runs, r.path)
        lr_arms, sg_arms = grid_values(r.lr_grid), grid_values(r.noise_grid)
        if not logs.get("selected_lr_values"):
            continue
        li = snap(logs["selected_lr_values"], lr_arms)
        si = snap(logs["selected_noise_values"], sg_arms)
        pairs = Counter(zip(li.tolist(), si.tolist()))
        warm = set(zip(li[:max(len(lr_arms), len(sg_arms))].tolist(), si[:max(len(lr_arms), len(sg_arms))].tolist()))
        out.append({"task": r.task, "setting": r.setting, "method": r.method, "seed": int(r.seed),
                    "mode": r.structured_control_mode or "independent", "context": r.context,
                    "episodes": len(li), "grid": f"{len(lr_arms)}×{len(sg_arms)}",
                    "pairs_tried": len(pairs), "pairs_possible": len(lr_arms) * len(sg_arms),
                    "coverage": len(pairs) / (len(lr_arms) * len(sg_arms)),
                    "locked_to_warmup": set(pairs) == warm, "timing": bool(r.timing),
                    "counts": {(lr_arms[a], sg_arms[b]): c for (a, b), c in sorted(pairs.items())},
                    "path": r.path})
    return pd.DataFrame(out)


def coverage_summary(cov: pd.DataFrame) -> str:
    """One sentence on what the archive's AEES-Dual runs tried."""
    if cov.empty:
        return "No AEES-Dual runs with episode logs in this archive."
    eq = cov[(cov["mode"] == "independent") & cov["grid"].map(lambda g: g.split("×")[0] == g.split("×")[1])]
    n_only = (eq["pairs_tried"] == eq["grid"].map(lambda g: int(g.split("×")[0]))).sum()
    return (f"{len(cov)} AEES-Dual runs; {len(eq)} in independent mode with equal axis sizes, of which {n_only} "
            f"tried exactly n of the n×n joint pairs and {int(eq['locked_to_warmup'].sum())} never left the pairing "
            f"drawn in warm-up; mean coverage over all runs {cov['coverage'].mean():.0%}.")


def _dual_coverage(runs: Runs) -> tuple[Built, pd.DataFrame]:
    """X1/X2 start alike: the coverage table, or an empty one with the missing runs recorded."""
    built = Built()
    built.expected = 1
    cov = coverage(runs)
    if cov.empty:
        built.missing.append("AEES-Dual runs with episode logs")
    return built, cov


def x1(runs: Runs) -> Built:
    built, cov = _dual_coverage(runs)
    if cov.empty:
        return built
    built.inputs = list(cov["path"])
    built.cells = pd.DataFrame({
        "Task": cov["task"], "Setting": cov["setting"], "Method": cov["method"], "Seed": cov["seed"].astype(str),
        "Mode": cov["mode"], "Context": cov["context"], "Episodes": cov["episodes"].astype(str), "Grid": cov["grid"],
        "Pairs tried": cov["pairs_tried"].astype(str), "Coverage": cov["coverage"].map(lambda c: f"{c:.0%}"),
        "Locked to warm-up": cov["locked_to_warmup"].map({True: "yes", False: "no"})})
    built.notes.append(coverage_summary(cov))
    return built


def x2(runs: Runs) -> Built:
    built, cov = _dual_coverage(runs)
    if cov.empty:
        return built
    # one run per configuration (its lowest seed), timing repeats left out: X1 lists every run
    configs = cov[~cov["timing"]].drop_duplicates(["task", "setting", "method", "context", "mode"])
    if configs.empty:
        built.missing.append("AEES-Dual runs other than timing repeats")
        built.inputs = []
        return built
    shown = configs.head(MAX_HEATMAPS)
    built.inputs = list(shown["path"])
    built.notes.append(f"one run per configuration (lowest seed): {len(shown)} of {len(configs)} configurations "
                       f"shown; X1 lists all {len(cov)} runs")
    ncols = min(3, len(shown))
    fig, axes = new_figure(ncols, -(-len(shown) // ncols), width=3.6, height=3.0)
    for ax, r in zip(axes, shown.itertuples()):
        lr_arms, sg_arms = _arms(runs, r.path)
        mat = np.zeros((len(lr_arms), len(sg_arms)))
        for (lr, sg), c in r.counts.items():
            mat[lr_arms.index(lr), sg_arms.index(sg)] = c
        ax.imshow(mat, cmap="Blues", vmin=0)
        for (i, j), c in np.ndenumerate(mat):
            ax.text(j, i, str(int(c)), ha="center", va="center", fontsize=7,
                    color="white" if c > mat.max() / 2 else "black")
        ax.set_xticks(range(len(sg_arms)), [f"{s:g}" for s in sg_arms], fontsize=7)
        ax.set_yticks(range(len(lr_arms)), [f"{m:g}" for m in lr_arms], fontsize=7)
        context = "" if r.context in ("none", None) else f", {r.context} context"
        mode = "" if r.mode == "independent" else f", {r.mode}"
        ax.set_title(f"{TASK_LABELS[r.task]} {r.setting}: {figure_name(r.method, r.task)}{context}{mode}\n"
                     f"seed {r.seed}: {r.pairs_tried} of {r.pairs_possible} pairs tried", fontsize=8)
        ax.set_xlabel("σ", fontsize=7)
        ax.set_ylabel("LR multiplier", fontsize=7)
    for ax in axes[len(shown):]:
        ax.set_visible(False)
    built.figure = fig
    return built


def _arms(runs: Runs, path: str) -> tuple[list[float], list[float]]:
    row = runs.df[runs.df["path"] == path].iloc[0]
    return grid_values(row["lr_grid"]), grid_values(row["noise_grid"])
