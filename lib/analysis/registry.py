"""Which function builds which artifact: the claims table (C1), thesis tables (T1-T24), figures (F2-F17) and
extras (X1, X2; X3, X4 peers; X5 shape; X6 compute overhead).

Open this file to find the builder of an artifact. Each builder also carries its file name,
chapter and title in its ``@artifact(...)`` line (``lib.analysis.build.REGISTRY``);
``tests/test_analysis_registry.py`` checks that the two agree and that every table named by
a grid definition's ``tables`` field has a builder.
"""

from __future__ import annotations

from collections.abc import Callable

from lib.analysis import claims, compute_figure, controller, figures, peers, shape, tables_cifar, tables_nlp, \
    tables_other
from lib.analysis.build import Built, Runs

BUILDERS: dict[str, Callable[[Runs], Built]] = {
    "C1": claims.c1,  # claims: The thesis's claims, tested on this archive
    "T1": tables_cifar.t1,  # cifar_clean: Clean CIFAR-100 main table
    "T2": tables_cifar.t2,  # cifar_clean: Clean CIFAR-100 fixed-LR-multiplier ablation
    "T3": tables_cifar.t3,  # cifar_clean: Clean CIFAR-100 compact appendix table
    "T4": tables_cifar.t4,  # cifar_noisy: Noisy CIFAR-100, asymmetric 20 %
    "T5": tables_cifar.t5,  # cifar_noisy: Noisy CIFAR-100, symmetric 20 %
    "T6": tables_cifar.t6,  # cifar_noisy: Noisy CIFAR-100, symmetric 40 %
    "T7": tables_cifar.t7,  # cifar_noisy: Noisy CIFAR-100, detailed (final-epoch diagnostics)
    "T8": tables_cifar.t8,  # cifar_noisy: Noisy CIFAR-100 fixed-LR ablation summary (best / final / drop)
    "T9": tables_cifar.t9,  # cifar_noisy: Noisy CIFAR-100 fixed-LR ablation, detailed
    "T10": tables_cifar.t10,  # cifar_noisy: Paired seed-level comparison: AEES vs the best fixed multiplier (explo...
    "T11": tables_other.t11,  # checkpoints: Peak-checkpoint diagnostics (training-subset accuracies at each seed's...
    "T12": tables_other.t12,  # checkpoints: Peak-checkpoint diagnostics per seed
    "T13": tables_other.t13,  # compute: Compute overhead: seconds per epoch of the baseline and the relative cost...
    "T14": tables_other.t14,  # compute: Compute overhead, detailed
    "T15": tables_nlp.t15,  # nlp: SST-2 (DistilBERT): main table
    "T16": tables_nlp.t16,  # nlp: SST-2: AEES axis ablation
    "T17": tables_nlp.t17,  # nlp: Clean AG News: main table
    "T18": tables_nlp.t18,  # nlp: AG News with 20 % label noise: main table
    "T19": tables_nlp.t19,  # nlp: AG News with 20 % label noise: AEES axis ablation
    "T20": tables_nlp.t20,  # nlp: NLP results, detailed
    "T21": tables_nlp.t21,  # ablations: Noisy AG News σ-axis falsification ablation
    "T22": tables_other.t22,  # ablations: Instability-penalty ablation (λ = 0.1 vs none)
    "T23": tables_other.t23,  # ablations: Trend-context ablation
    "T24": tables_other.t24,  # ablations: Small gradient-noise injection on sym20 CIFAR-100 AEES (trend context, s...
    "F2": figures.f2,  # cifar_clean: Clean CIFAR-100: peak and final accuracy
    "F3": figures.f3,  # cifar_clean: Clean CIFAR-100 AEES: the last epochs per seed
    "F4": figures.f4,  # cifar_clean: Clean CIFAR-100: fixed multipliers vs AEES, late stage
    "F5": figures.f5,  # cifar_noisy: Noisy CIFAR-100 asym20: validation curves
    "F6": figures.f6,  # cifar_noisy: Noisy CIFAR-100 sym20: validation curves
    "F7": figures.f7,  # cifar_noisy: Noisy CIFAR-100 sym40: validation curves
    "F8": figures.f8,  # ablations: Sym20 CIFAR-100: small gradient-noise injection, peak vs final
    "F9": controller.f9,  # controller: Arm selection over training, noisy AG News AEES-Dual + WL
    "F10": controller.f10,  # controller: LR arm fractions per epoch, sym40 CIFAR-100 AdamW: AEES and Cosine + AEES
    "F11": controller.f11,  # controller: Episode reward per arm, noisy AG News AEES-Dual + WL
    "F12": controller.f12,  # controller: Mean update norm per episode over training (cross-seed median and IQR)
    "F13": figures.f13,  # checkpoints: Peak checkpoints (AdamW): corrupted-subset accuracy vs noisy and vs clean l...
    "F14": figures.f14,  # nlp: AG News with 20 % label noise: validation curves
    "F15": figures.f15,  # nlp: SST-2: validation curves
    "F16": figures.f16,  # ablations: Noisy AG News σ ablation: peak vs final
    "F17": figures.f17,  # ablations: Noisy AG News σ ablation: curves
    "X1": controller.x1,  # controller: AEES-Dual runs: joint (LR multiplier, σ) pairs tried (beyond the thesis)
    "X2": controller.x2,  # controller: AEES-Dual runs: episodes per joint (LR multiplier, σ) pair (beyond the thesis)
    "X3": peers.x3,  # peers: AEES beside Schedule-Free AdamW and Prodigy: best / final / drop, peak epoch, paired vs AEES
    "X4": peers.x4,  # peers: Best and final accuracy per task: thesis methods and the schedule-free peers
    "X5": shape.x5,  # cifar_noisy: Shape check beside the thesis: noisy CIFAR-100 Baseline and Cosine, seeds, ...
    "X6": compute_figure.x6,  # compute: Compute overhead per configuration vs the no-schedule baseline, beside the thesis
}
