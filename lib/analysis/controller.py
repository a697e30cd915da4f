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

from lib.analysis.build import Built, Runs, artifact
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


@artifact("F9", "figure", "controller", "arm_selection_agnews_noisy",
          "Arm selection over training, noisy AG News AEES-Dual + WL")
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


@artifact("F10", "figure", "controller", "arm_selection_cifar_sym40_paired",
          "LR arm fractions per epoch, sym40 CIFAR-100 AdamW: AEES and Cosine + AEES")
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
        ax.set(title=method, xlabel="epoch")
        if rows.empty:
            ax.text(0.5, 0.5, "no runs", ha="center", transform=ax.transAxes)
            continue
        arms = grid_values(rows["lr_grid"].iloc[0])
        per_seed = []
        for p in rows["path"]:
            rec, logs = runs.record(p), episodes(runs, p)
            spe = rec["total_steps"] / rec["total_epochs"]
            ep = np.minimum(np.asarray(logs["episode_end_steps"]) // spe + 1, rec["total_epochs"]).astype(int)
            idx = snap(logs["selected_lr_values"], arms)
            per_seed.append([[np.mean(idx[ep == e] == a) if (ep == e).any() else np.nan
                              for e in range(1, rec["total_epochs"] + 1)] for a in range(len(arms))])
        n = min(len(s[0]) for s in per_seed)
        arr = np.asarray([[a[:n] for a in s] for s in per_seed])  # seed, arm, epoch
        x = np.arange(1, n + 1)
        for a, arm in enumerate(arms):
            mean = np.nanmean(arr[:, a], axis=0)
            sd = np.nanstd(arr[:, a], axis=0, ddof=1) if len(arr) > 1 else np.zeros(n)
            ax.plot(x, mean, color=ARM_COLORS[a], label=f"m={arm:.1f}")
            ax.fill_between(x, np.clip(mean - sd, 0, 1), np.clip(mean + sd, 0, 1), color=ARM_COLORS[a], alpha=0.15,
                            lw=0)
        ax.axhline(1 / len(arms), color="black", ls=":", lw=1, label="uniform 1/K")
        ax.legend(fontsize=7)
    axes[0].set_ylabel("fraction of episodes")
    built.figure = fig
    return built


@artifact("F11", "figure", "controller", "reward_per_arm_agnews_noisy",
          "Episode reward per arm, noisy AG News AEES-Dual + WL")
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
            for i in pos:
                ax.annotate(f"{np.median(pooled[i]):.3g}", (i, np.median(pooled[i])), fontsize=7,
                            xytext=(8, 0), textcoords="offset points")
        ax.axhline(0, color="black", ls="--", lw=0.8)
        ax.set_xticks(range(len(arms)), [fmt.format(a) for a in arms])
        ax.set_title(f"{'LR' if 'lr' in key else 'σ'} axis (pooled over {len(rows)} seeds)")
    axes[0].set_ylabel("episode reward (clipped)")
    built.figure = fig
    return built


F12_REGIMES = (("Clean CIFAR AEES-LR + Linear", "cifar", "AEES + Linear"),
               ("SST-2 AEES-Dual + WL", "sst2", "AEES + WL"),
               ("Noisy AG News AEES-Dual + WL", "agnews_noise", "AEES + WL"))


@artifact("F12", "figure", "controller", "update_norm_trajectory",
          "Mean update norm per episode over training (cross-seed median and IQR)")
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
                    "locked_to_warmup": set(pairs) == warm,
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


@artifact("X1", "table", "controller", "dual_joint_coverage",
          "AEES-Dual runs: joint (LR multiplier, σ) pairs tried (beyond the thesis)")
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


@artifact("X2", "figure", "controller", "dual_joint_pairs",
          "AEES-Dual runs: episodes per joint (LR multiplier, σ) pair (beyond the thesis)")
def x2(runs: Runs) -> Built:
    built, cov = _dual_coverage(runs)
    if cov.empty:
        return built
    shown = cov.head(MAX_HEATMAPS)
    built.inputs = list(shown["path"])
    if len(cov) > MAX_HEATMAPS:
        built.notes.append(f"first {MAX_HEATMAPS} of {len(cov)} runs shown")
    ncols = min(4, len(shown))
    fig, axes = new_figure(ncols, -(-len(shown) // ncols), width=2.9, height=2.7)
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
        ax.set_title(f"{r.task} {r.setting} {r.method}\nseed {r.seed}: {r.pairs_tried}/{r.pairs_possible} pairs",
                     fontsize=8)
        ax.set_xlabel("σ", fontsize=7)
        ax.set_ylabel("LR multiplier", fontsize=7)
    for ax in axes[len(shown):]:
        ax.set_visible(False)
    built.figure = fig
    return built


def _arms(runs: Runs, path: str) -> tuple[list[float], list[float]]:
    row = runs.df[runs.df["path"] == path].iloc[0]
    return grid_values(row["lr_grid"]), grid_values(row["noise_grid"])
