"""What each chapter of the analysis is about, in prose: one place for the notebooks and the report.

``CHAPTER_TEXT`` holds the title and introduction of every chapter of ``lib.vocab.CHAPTERS`` (Markdown);
``scripts/build_analysis_notebooks.py`` writes them into the analysis notebooks and
``lib.analysis.html_report`` into the report. ``COVERAGE_NOTE`` goes before X1 and ``SHAPE_NOTE`` after X5.
"""

from __future__ import annotations

CHAPTER_TEXT = {
    "claims": ("The thesis's claims, tested on this archive", "One row per claim of the thesis's results and "
               "conclusions: the claim and where the thesis makes it, the thesis's evidence (from its published "
               "numbers), this archive's evidence on the same comparison (seed-paired differences with a "
               "percentile-bootstrap 95 % CI, or Welch's test for the timing repeats) and the verdict: holds, does "
               "not hold, or not testable at this n (one seed per cell, or a CI that straddles the claimed "
               "side). The rule is `lib/analysis/claims.py`; `docs/claims.md` explains each claim."),
    "cifar_clean": ("Clean CIFAR-100", "ResNet-18 on clean CIFAR-100 with AdamW: flat, cosine and linear "
                    "schedules, AEES (LR-only) alone and on top of them, and the fixed LR multipliers ×0.5 / ×2.0 "
                    "(\"Fixed ×1.0\" is the AdamW baseline, as in the thesis)."),
    "cifar_noisy": ("Noisy CIFAR-100", "Asymmetric 20 %, symmetric 20 % and 40 % label noise; AdamW and SGD+M; "
                    "Baseline, AEES, Cosine, Cosine + AEES, and the fixed multipliers. \"Best fixed\" is chosen "
                    "retrospectively by mean peak accuracy; the paired p-values are exploratory. Beyond the thesis, "
                    "X5 checks the shape: the archive's Baseline and Cosine beside the thesis' published relative "
                    "peak epoch, drop, final accuracy and final corrupted-label fit, with the verdict of target 3 "
                    "(blocking: the AdamW Baselines under sym20 and sym40) or target 4 (informational: the other "
                    "rows) (`lib/analysis/shape.py`)."),
    "nlp": ("NLP: SST-2 and AG News", "DistilBERT fine-tuning. In the main tables \"AEES\" is AEES-Dual (LR and σ "
            "axes); WL = warmup-linear with zero warmup (a linear decay). SST-2 AEES runs use the trend context."),
    "ablations": ("Ablations", "The instability penalty λ, the trend context, small gradient-noise injection on "
                  "sym20 CIFAR-100, and the noisy AG News σ-axis falsification ablation (fixed and random σ)."),
    "compute": ("Compute cost", "Steady-state seconds per epoch (first epoch dropped) of the timing runs, and the "
                "overhead of each addition relative to the no-schedule baseline. FLOPs do not change: AEES adds no "
                "forward or backward passes."),
    "controller": ("Controller behaviour", "What the discounted-UCB controllers chose: arm fractions over training, "
                   "rewards per arm, update norms, and (beyond the thesis) the joint (LR, σ) pairs of every "
                   "AEES-Dual run."),
    "checkpoints": ("Peak-checkpoint diagnostics", "Training-subset accuracies of noisy CIFAR-100 runs at each "
                    "seed's peak epoch: how much of the corrupted subset a model has memorised (vs noisy labels) "
                    "and how much it still gets right (vs clean labels)."),
    "peers": ("Beyond the thesis: AEES and the schedule-free optimizers", "Does a per-episode LR bandit beat "
              "optimizers that remove the schedule altogether? Schedule-Free AdamW (`schedulefree`) and Prodigy "
              "(`prodigyopt`), each alone and under the task's thesis AEES (grid `peers`), beside the thesis' "
              "AdamW, scheduled AdamW (Cosine on CIFAR-100, WL on the NLP tasks) and AEES runs, on clean and sym40 "
              "CIFAR-100, SST-2 and noisy AG News. Settings as their authors recommend (`lib/control/peers.py`); "
              "\"Δ Best vs AEES\" is the seed-paired difference in best accuracy with its percentile-bootstrap "
              "95 % CI and the paired t-test p of protocol 12 (exploratory)."),
}
COVERAGE_NOTE = (
    "### Joint (LR, σ) coverage of AEES-Dual\n\n"
    "In `independent` mode AEES-Dual runs two discounted-UCB controllers, one per axis, and both receive the "
    "**same** episode reward. With equal axis sizes n, warm-up tries each LR arm once and each σ arm once in the "
    "same n episodes, pairing LR arm i with some σ arm π(i). From then on the statistics of LR arm i and σ arm "
    "π(i) are identical (same rewards, same counts, same discounting), so whenever one controller picks i the "
    "other picks π(i): **the run stays locked in the warm-up pairing and tries only n of the n×n joint pairs.** "
    "The thesis' AEES-Dual therefore never explores most (LR, σ) combinations. `conditional` mode (one σ "
    "controller per LR arm) does not have this property. The table below measures it on every AEES-Dual run of "
    "the archive; \"Locked to warm-up\" = the run never left the pairs of its first n episodes.")

SHAPE_NOTE = (
    "### Every check of the targets\n\n"
    "`lib.analysis.shape.shape_checks` on the whole archive. Blocking: target 1 (clean CIFAR-100 off the ceiling: "
    "every clean method's mean best accuracy between 30 % and 92 %, at least 3 seeds, seed SD at most 1.5 points, "
    "and T1-T3 print each gap to the flat row with its paired statistics), target 2 (at least 3 seeds for every "
    "cell of the noisy CIFAR-100 main tables, the peak re-runs, SST-2 and AG News, at least 2 elsewhere, compute "
    "overhead aside; seed SD of best accuracy at most 1 point on SST-2 and AG News) and target 3 (the AdamW "
    "Baselines under sym20 and sym40: relative peak epoch at most 0.40, drop at least 4 points, 8 in sym40, "
    "corrupted-label fit at least 0.80). Informational: target 4 (the other Baselines against the same bounds, "
    "Cosine beside its Baseline, the noisy AG News AdamW baseline's drop). The checks that fail are listed; "
    "`tests/test_shape_targets.py` asserts the blocking ones on the committed archive.")
