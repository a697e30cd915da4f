"""Every artifact, in one table: id -> kind, chapter, file name, builder, title, LaTeX label.

The claims table (C1), the thesis tables (T1-T24) and figures (F2-F17) and the extras beyond the thesis
(X1, X2 controller; X3, X4 peers; X5 shape check; X6 compute overhead). Open this file to find the
builder of an artifact; a builder module holds builders and nothing registers itself. An artifact's
inputs are the runs its builder picks from the archive (``Built.inputs`` after a build); the grids
whose runs those are name it in their cells' ``tables`` (``input_grids``).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass

from lib.analysis import claims, compute_figure, controller, figures, peers, shape, tables_ablations, \
    tables_checkpoints, tables_cifar, tables_compute, tables_nlp
from lib.analysis.build import Built, Runs
from lib.vocab import CHAPTERS
from lib.grids.definitions import GRIDS


@dataclass(frozen=True)
class Spec:
    """One artifact."""

    id: str
    kind: str  # table | figure
    chapter: str
    name: str  # file stem inside figures/<chapter>/
    build: Callable[[Runs], Built]
    title: str
    label: str = ""  # LaTeX label of the thesis table


def _a(id: str, kind: str, chapter: str, name: str, build: Callable[[Runs], Built], title: str,
       label: str = "") -> Spec:
    if kind not in ("table", "figure"):
        raise ValueError(f"artifact {id}: kind must be table or figure, got {kind!r}")
    if chapter not in CHAPTERS:
        raise ValueError(f"artifact {id}: chapter must be one of {CHAPTERS}, got {chapter!r}")
    return Spec(id, kind, chapter, name, build, title, label)


# The claims table compares rows of the thesis tables: its builder reads theirs from this table.
_BUILDERS: dict[str, Callable[[Runs], Built]] = {}

ARTIFACTS: tuple[Spec, ...] = (
    _a("C1", "table", "claims", "claims", functools.partial(claims.c1, builders=_BUILDERS),
       "The thesis's claims, tested on this archive"),
    _a("T1", "table", "cifar_clean", "cifar_clean_main_table", tables_cifar.t1,
       "Clean CIFAR-100 main table", label="tab:cifar_clean_main"),
    _a("T2", "table", "cifar_clean", "cifar_clean_fixed_lr_ablation_table", tables_cifar.t2,
       "Clean CIFAR-100 fixed-LR-multiplier ablation", label="tab:cifar_clean_fixed_lr_ablation"),
    _a("T3", "table", "cifar_clean", "cifar_clean_compact_appendix_table", tables_cifar.t3,
       "Clean CIFAR-100 compact appendix table", label="tab:cifar_clean_compact_appendix"),
    _a("T4", "table", "cifar_noisy", "cifar_asym20_main_table", tables_cifar.t4,
       "Noisy CIFAR-100, asymmetric 20 %", label="tab:cifar_asym20_main"),
    _a("T5", "table", "cifar_noisy", "cifar_sym20_main_table", tables_cifar.t5,
       "Noisy CIFAR-100, symmetric 20 %", label="tab:cifar_sym20_main"),
    _a("T6", "table", "cifar_noisy", "cifar_sym40_main_table", tables_cifar.t6,
       "Noisy CIFAR-100, symmetric 40 %", label="tab:cifar_sym40_main"),
    _a("T7", "table", "cifar_noisy", "cifar_noisy_detailed_appendix_table", tables_cifar.t7,
       "Noisy CIFAR-100, detailed (final-epoch diagnostics)", label="tab:cifar_noisy_detailed_appendix"),
    _a("T8", "table", "cifar_noisy", "cifar_noisy_fixed_lr_ablation_summary_table", tables_cifar.t8,
       "Noisy CIFAR-100 fixed-LR ablation summary (best / final / drop)", label="tab:cifar_noisy_fixed_lr_ablation_summary"),
    _a("T9", "table", "cifar_noisy", "cifar_noisy_fixed_lr_ablation_detailed_table", tables_cifar.t9,
       "Noisy CIFAR-100 fixed-LR ablation, detailed", label="tab:cifar_noisy_fixed_lr_ablation_detailed"),
    _a("T10", "table", "cifar_noisy", "cifar_noisy_aees_vs_best_fixed_stats_table", tables_cifar.t10,
       "Paired seed-level comparison: AEES vs the best fixed multiplier (exploratory p-values)", label="tab:supp-cifar-aees-vs-best-fixed-stats"),
    _a("T11", "table", "checkpoints", "checkpoint_diagnostics_main", tables_checkpoints.t11,
       "Peak-checkpoint diagnostics (training-subset accuracies at each seed's peak epoch)", label="tab:checkpoint-diagnostics-main"),
    _a("T12", "table", "checkpoints", "checkpoint_diagnostics_appendix", tables_checkpoints.t12,
       "Peak-checkpoint diagnostics per seed", label="tab:checkpoint-diagnostics-detailed"),
    _a("T13", "table", "compute", "compute_overhead_decomposition_table", tables_compute.t13,
       "Compute overhead: seconds per epoch of the baseline and the relative cost of each addition", label="tab:compute-overhead"),
    _a("T14", "table", "compute", "compute_overhead_detailed_table", tables_compute.t14,
       "Compute overhead, detailed", label="tab:compute_overhead_detailed"),
    _a("T15", "table", "nlp", "sst2_main", tables_nlp.t15,
       "SST-2 (DistilBERT): main table", label="tab:sst2"),
    _a("T16", "table", "nlp", "sst2_axis", tables_nlp.t16,
       "SST-2: AEES axis ablation", label="tab:sst2-axis"),
    _a("T17", "table", "nlp", "agnews_main", tables_nlp.t17,
       "Clean AG News: main table", label="tab:agnews-clean"),
    _a("T18", "table", "nlp", "agnews_noise20_main", tables_nlp.t18,
       "AG News with 20 % label noise: main table", label="tab:agnews-noise20"),
    _a("T19", "table", "nlp", "agnews_noise20_axis", tables_nlp.t19,
       "AG News with 20 % label noise: AEES axis ablation", label="tab:agnews-noise20-axis"),
    _a("T20", "table", "nlp", "nlp_detailed_appendix_table", tables_nlp.t20,
       "NLP results, detailed", label="tab:nlp_detailed_appendix"),
    _a("T21", "table", "ablations", "nlp_noise_ablation_table", tables_nlp.t21,
       "Noisy AG News σ-axis falsification ablation", label="tab:nlp_noise_ablation"),
    _a("T22", "table", "ablations", "instability_penalty_ablation_table", tables_ablations.t22,
       "Instability-penalty ablation (λ = 0.1 vs none)", label="tab:instability-penalty-ablation"),
    _a("T23", "table", "ablations", "trend_context_ablation_table", tables_ablations.t23,
       "Trend-context ablation", label="tab:trend-context-ablation"),
    _a("T24", "table", "ablations", "cifar_noise_ablation_table", tables_ablations.t24,
       "Small gradient-noise injection on sym20 CIFAR-100 AEES (trend context, shorter budget)", label="tab:cifar_noise_ablation"),
    _a("F2", "figure", "cifar_clean", "clean_cifar_barplot", figures.f2,
       "Clean CIFAR-100: peak and final accuracy"),
    _a("F3", "figure", "cifar_clean", "cifar_clean_aees_late_stage_individual_seeds", figures.f3,
       "Clean CIFAR-100 AEES: the last epochs per seed"),
    _a("F4", "figure", "cifar_clean", "cifar_clean_fixed_vs_aees_late_stage_mean_std", figures.f4,
       "Clean CIFAR-100: fixed multipliers vs AEES, late stage"),
    _a("F5", "figure", "cifar_noisy", "cifar_asym20_curves", figures.f5,
       "Noisy CIFAR-100 asym20: validation curves"),
    _a("F6", "figure", "cifar_noisy", "cifar_sym20_curves", figures.f6,
       "Noisy CIFAR-100 sym20: validation curves"),
    _a("F7", "figure", "cifar_noisy", "cifar_sym40_curves", figures.f7,
       "Noisy CIFAR-100 sym40: validation curves"),
    _a("F8", "figure", "ablations", "cifar_noise_ablation_barplot", figures.f8,
       "Sym20 CIFAR-100: small gradient-noise injection, peak vs final"),
    _a("F9", "figure", "controller", "arm_selection_agnews_noisy", controller.f9,
       "Arm selection over training, noisy AG News Linear + AEES-Dual"),
    _a("F10", "figure", "controller", "arm_selection_cifar_sym40_paired", controller.f10,
       "LR arm fractions per epoch, sym40 CIFAR-100 AdamW: AEES and Cosine + AEES"),
    _a("F11", "figure", "controller", "reward_per_arm_agnews_noisy", controller.f11,
       "Episode reward per arm, noisy AG News Linear + AEES-Dual"),
    _a("F12", "figure", "controller", "update_norm_trajectory", controller.f12,
       "Mean update norm per episode over training (cross-seed median and IQR)"),
    _a("F13", "figure", "checkpoints", "peak_checkpoint_diagnostics", figures.f13,
       "Peak checkpoints (AdamW): corrupted-subset accuracy vs noisy and vs clean labels"),
    _a("F14", "figure", "nlp", "agnews_noisy_curves", figures.f14,
       "AG News with 20 % label noise: validation curves"),
    _a("F15", "figure", "nlp", "sst2_curves", figures.f15,
       "SST-2: validation curves"),
    _a("F16", "figure", "ablations", "agnews_noise_ablation_barplot", figures.f16,
       "Noisy AG News σ ablation: peak vs final"),
    _a("F17", "figure", "ablations", "agnews_noise_ablation_curves", figures.f17,
       "Noisy AG News σ ablation: curves"),
    _a("X1", "table", "controller", "dual_joint_coverage", controller.x1,
       "AEES-Dual runs: joint (LR multiplier, σ) pairs tried (beyond the thesis)"),
    _a("X2", "figure", "controller", "dual_joint_pairs", controller.x2,
       "AEES-Dual runs: episodes per joint (LR multiplier, σ) pair (beyond the thesis)"),
    _a("X3", "table", "peers", "peers_table", peers.x3,
       "AEES beside Schedule-Free AdamW and Prodigy: best / final / drop, peak epoch, paired vs AEES (beyond "
       "the thesis)"),
    _a("X4", "figure", "peers", "peers_best_final", peers.x4,
       "Best and final accuracy per task: thesis methods and the schedule-free peers (beyond the thesis)"),
    _a("X5", "table", "cifar_noisy", "cifar_noisy_shape_check_table", shape.x5,
       "Shape check beside the thesis: noisy CIFAR-100 Baseline and Cosine, seeds, relative peak epoch, drop, "
       "final accuracy and final corrupted-label fit (beyond the thesis)"),
    _a("X6", "figure", "compute", "compute_overhead_figure", compute_figure.x6,
       "Compute overhead per configuration, relative to the no-schedule baseline: this archive beside the "
       "thesis (the numbers of T13/T14)"),
)
REGISTRY: dict[str, Spec] = {s.id: s for s in ARTIFACTS}
_BUILDERS.update({s.id: s.build for s in ARTIFACTS})
if len(REGISTRY) != len(ARTIFACTS):
    raise ValueError("lib.analysis.registry: an artifact id is listed twice")


def artifact_ids(chapter: str | None = None) -> list[str]:
    """Ids in report order (C1, the claims, first; then T1..T24, F2..F17, X1..X6), optionally of one chapter."""
    def key(i: str) -> tuple[int, int]:
        return ("CTFX".index(i[0]), int(i[1:]))
    return sorted((i for i, s in REGISTRY.items() if chapter in (None, s.chapter)), key=key)


def input_grids(art: str) -> tuple[str, ...]:
    """The grids whose cells or aliases name ``art`` in their ``tables`` (lib.grids.definitions)."""

    return tuple(g.name for g in GRIDS.values()
                 if any(art in row.tables for row in (*g.cells, *g.aliases)))


__all__ = ["ARTIFACTS", "REGISTRY", "Spec", "artifact_ids", "input_grids"]
