"""Every experiment grid of the thesis as data (protocol 11, 9.5; INVENTORY "Runs").

Grids (``GRIDS``; ``make runs GRID=<name>``), with their thesis run counts:

* ``cifar-clean``: AdamW × {none, cosine, linear} × {baseline, AEES}, Fixed ×0.5 / ×2.0
  (T1-T3): 8 cells × 5 seeds = 40.
* ``cifar-noisy``: {asym20, sym20, sym40} × {AdamW, SGD} × {Baseline, Cosine, AEES,
  Cosine + AEES, Fixed ×0.5, Fixed ×2.0} (T4-T10): 36 × 5 = 180.
* ``sst2``: AdamW, AdamW + WL, AEES-Dual, AEES-Dual + WL, AEES-LR + WL, AEES-Noise + WL,
  trend context (T15, T16): 6 × 5 = 30.
* ``agnews-clean``: AdamW, AdamW + WL, AEES-Dual, AEES-Dual + WL (T17): 4 × 5 = 20.
* ``agnews-noisy``: the six SST-2 methods on 20 % symmetric noise with the coarse grid, plus
  the σ-axis controls Fixed σ 0.005 / 0.01 + WL and Random σ + WL (T18, T19, T21): 9 × 5 = 45.
* ``ablation-penalty``: λ = 0.1 on clean and sym20 CIFAR AEES AdamW (T22): 2 × 5 = 10.
* ``ablation-trend``: trend context on clean / sym20 CIFAR AEES, context none on SST-2
  AEES-Dual without scheduler (T23): 3 × 5 = 15.
* ``ablation-cifar-noise``: sym20 AEES, trend, 100 epochs, σ {0} vs {0, 0.0025, 0.005}
  (T24, F8): 2 × 5 = 10.
* ``peers`` (beyond the thesis): Schedule-Free AdamW and Prodigy, each alone and under
  the task's thesis AEES, on clean CIFAR, sym40 CIFAR (AdamW family), SST-2 and noisy AG News:
  16 cells × 5 seeds = 80; the AdamW, scheduled AdamW and AEES runs beside them are aliases.
* ``compute-overhead``: {CIFAR AdamW, CIFAR SGD, SST-2, AG News} × {baseline, AEES-LR,
  AEES-Noise, AEES-Dual} × {none, cosine (CIFAR) / WL (NLP)}, clean, CIFAR 20 epochs, NLP 3,
  seed 0 × 3 timing repeats (T13, T14): 32 × 3 = 96, with this project's machinery; and the same
  32 cells with ``machinery=thesis`` (``thesis_machinery_*``, lib.train.thesis_machinery: the thesis
  runner's step on pulseopt's optimizer wrappers and episode manager with its per-step host reads,
  the SGD baseline through pulseopt's SGD wrapper, CIFAR DataLoader with 2 workers and PIL
  transforms, no checkpoint writes): 96 more. The project cells keep their parameters (no
  ``machinery`` key), so their archived runs stay valid.
* ``cifar-peak-rerun``: the thesis' peak-checkpoint re-runs (protocol 11.3) of the scheduled noisy
  cells (Cosine, Cosine + AEES × asym20/sym20/sym40 × AdamW/SGD): 12 cells × 5 seeds = 60
  (mini: seed 0). Derived cells (``Cell.parent``): each run's ``epochs`` = ``scheduler_t_max`` = the
  peak epoch of its finished parent run in ``cifar-noisy`` (lib.grids.plan); ``run_tag``
  ``peak-rerun``. Without a finished parent the plan stops naming it (``GRID=all`` defers the grid).

Aliases (thesis rows that are the same run as another row, never trained twice):
Fixed ×1.0 = the baseline of its block (clean: the AdamW run; noisy: Baseline, which the
thesis tables show equal "to every digit", protocol 5.3); λ = 0 = the main AEES runs; the
CIFAR ``none`` context rows = the main AEES runs; the SST-2 ``trend`` row = the SST-2
AEES-Dual run (protocol 11.2, 11.3).

Ambiguities of the sources and how they are resolved here:

1. *Control mode of the CIFAR fixed multipliers* (5.3 [ambiguous]): ``control_mode=random``
   with single candidates ``lr=[m]``, ``noise=[0]``: no controller exists, the wrapper and
   the episode manager run (episodes logged), the same recipe the thesis documents for its
   only other fixed runs (AG News fixed σ, ``RandomScheduler``); ``adaptive`` would train
   identically. The analysis identifies "controller logs, no active axis" as fixed.
2. *Episode length of fixed / random runs*: 200 in the thesis profile, like AEES.
3. *Optimizer of the CIFAR small-noise ablation* (11.3 [ambiguous]): AdamW, the optimizer
   of every other CIFAR ablation. The LR grid is {0.5, 1, 2} for every seed; the thesis'
   lronly seed 0 used {0.5, 1, 1.5}, a deviation this grid does not repeat.
4. *Candidate sets of the timing runs* (9.5 [ambiguous]): CIFAR LR {0.5, 1, 2} and
   σ {0, 0.0025, 0.005} (the thesis' only CIFAR σ grid, 11.3); SST-2 and AG News the clean-data
   SST2-grid LR {0.7, 1, 1.3}, σ {0, 0.0025, 0.005}. Context ``none`` everywhere, episode
   200. LR-only = σ {0}; noise-only = LR {1}. Costs do not depend on the values.
5. *Timing repeats*: ``run_tag`` = ``run1``/``run2``/``run3`` makes the repeats' configs and
   files distinct (thesis files ``..._seed0``, ``_seed0_run2``, ``_seed0_run3``).
6. *Noisy AG News*: ``label_noise_rate=0.2``, ``label_noise_seed=42`` (symmetric only, 4.3).
7. *WL*: ``lr_scheduler=warmup_linear`` with ``warmup_epochs=0`` (11.2).
8. *Peak-checkpoint re-runs* (11.3): what the thesis re-ran, all four T11 methods (Baseline, AEES,
   Cosine, Cosine + AEES) in asym20 and sym40, AdamW and SGD. A run without a schedule trains the
   same weights again up to its peak; a Cosine run's schedule is compressed to it. Every noisy run
   also records its best epoch's diagnostics (``peak_checkpoint_diagnostics``); T11/T12 show both
   protocols side by side. The attribution controls (10)
   are not grids here: the open-loop modes are not part of this compendium's control modes.

Peers: mini seed 0 only (16 runs: 8 CIFAR, 4 SST-2, 4 AG News), so the mini paired statistics
against AEES have n = 1 (difference only, CI and p undefined).

Seeds: thesis 0-4; mini 0-2 for clean CIFAR, SST-2 and both AG News grids, 0-1 for the ablations
(their λ = 0 and context-``none`` rows alias the main AEES runs, so seed 1 also trains the sym20
AdamW AEES run of noisy CIFAR), 0 for noisy CIFAR and the peers (their baselines are the main grids'
runs). Noisy CIFAR is the mini
archive's largest cost (36 cells of 90-epoch bf16 ResNet-18 runs, ~115 s each with one thread beside
a second run, docs/miniature.md); each further seed adds 36 runs and 16 peak re-runs, ~40 min on 2
CPU cores, which does not fit the 2.5 h budget of the mini archive beside the other grids. Compute overhead: seed 0 only (``SEEDS``
does not apply); 3 timing repeats in the thesis profile, 1 in mini (the timing path is the same;
a single repeat has an undefined SD, which the analysis reports as NaN as the thesis did for n = 1).
"""

from __future__ import annotations

from lib.grids.cells import Alias, Cell, Grid
from lib.grids.methods import (ABLATION_SEEDS, ADAMW, AEES, AGNEWS_NOISE, BASELINE, CIFAR_LR, CIFAR_NOISE,
                               CIFAR_SMALL_NOISE, COARSE_GRID, MAIN_SEEDS, NOISY_CIFAR_SEEDS, SGD, SST2_GRID,
                               THESIS_SEEDS, WL, fixed, nlp_aees, sched)
from lib.vocab import PEER_SPECS


def _cifar_clean() -> Grid:
    tables = ("T1", "T3")
    cells = []
    for s in ("none", "cosine", "linear"):
        suffix = "" if s == "none" else f" + {s.capitalize()}"
        cells.append(Cell(f"cifar_clean_adamw_{s}", "cifar100", {**BASELINE, **ADAMW, **sched(s)},
                          f"AdamW{suffix}",
                          tables=tables + (("T2",) if s == "none" else ())))
    for s in ("none", "cosine", "linear"):
        suffix = "" if s == "none" else f" + {s.capitalize()}"
        cells.append(Cell(f"cifar_clean_aees_{s}", "cifar100", {**AEES, **ADAMW, **sched(s)},
                          f"AEES{suffix}",
                          tables=tables + (("T2",) if s == "none" else ())))
    for m, tok, label in ((0.5, "0p5", "Fixed ×0.5"), (2.0, "2", "Fixed ×2.0")):
        cells.append(Cell(f"cifar_clean_fixed_lr{tok}_n0_none", "cifar100", {**fixed(m), **ADAMW},
                          label, tables=("T2", "T3")))
    alias = Alias("cifar_clean_fixed_lr1_n0_none", "cifar-clean", "cifar_clean_adamw_none",
                  "Fixed ×1.0", note="the AdamW baseline (INVENTORY T2)", tables=("T2",))
    return Grid("cifar-clean", "Clean CIFAR-100, AdamW: schedules, AEES, fixed multipliers",
                tuple(cells), (alias,), seeds=MAIN_SEEDS)


_NOISY_METHODS = (  # (token, parameters, label)
    ("baseline", BASELINE, "Baseline"),
    ("cosine", {**BASELINE, **sched("cosine")}, "Cosine"),
    ("aees", AEES, "AEES"),
    ("cosine_aees", {**AEES, **sched("cosine")}, "Cosine + AEES"),
    ("fixed_lr0p5", fixed(0.5), "Fixed ×0.5"),
    ("fixed_lr2", fixed(2.0), "Fixed ×2.0"),
)
_MAIN_TABLE = {"asym20": "T4", "sym20": "T5", "sym40": "T6"}
_NOISY_TABLES = {"Baseline": ("T7", "T9"), "Cosine": ("T7", "T8", "T9"), "AEES": ("T7", "T8", "T9", "T10"),
                 "Cosine + AEES": ("T7", "T8", "T9"), "Fixed ×0.5": ("T8", "T9", "T10"),
                 "Fixed ×2.0": ("T8", "T9", "T10")}


def _cifar_noisy() -> Grid:
    cells, aliases = [], []
    for setting, noise in CIFAR_NOISE.items():
        for opt_name, opt in (("AdamW", ADAMW), ("SGD", SGD)):
            o = opt_name.lower()
            for token, params, label in _NOISY_METHODS:
                cells.append(Cell(f"cifar100_{setting}_{o}_{token}", "cifar100", {**params, **opt, **noise},
                                  label, setting, opt_name,
                                  tables=((_MAIN_TABLE[setting],) if "Fixed" not in label else ())
                                  + _NOISY_TABLES[label]))
            aliases.append(Alias(f"cifar100_{setting}_{o}_fixed_lr1", "cifar-noisy",
                                 f"cifar100_{setting}_{o}_baseline", "Fixed ×1.0", setting, opt_name,
                                 note="equals Baseline to every digit in the thesis (protocol 5.3)",
                                 tables=("T8", "T9", "T10")))
    return Grid("cifar-noisy", "Noisy CIFAR-100 (asym20, sym20, sym40), AdamW and SGD",
                tuple(cells), tuple(aliases), seeds=NOISY_CIFAR_SEEDS)


# --- NLP (protocol 11.2) ---
def _nlp_cells(task: str, prefix: str, grid: dict, *, context: str, axes: bool,
               extra: dict, setting: str, tables: dict[str, tuple[str, ...]]) -> list[Cell]:
    ctx = {"context_mode": "trend"} if context == "trend" else {}
    rows = [("adamw_none", {"method": "AdamW"}, "AdamW"),
            ("adamw_warmup_linear", {"method": "AdamW", **WL}, "AdamW + WL"),
            ("aees_none", nlp_aees(grid, **ctx), "AEES"),
            ("aees_warmup_linear", nlp_aees(grid, **ctx, **WL), "AEES + WL")]
    if axes:
        rows += [("aees_lronly_warmup_linear", nlp_aees(grid, "lr", **ctx, **WL), "AEES-LR + WL"),
                 ("aees_noiseonly_warmup_linear", nlp_aees(grid, "noise", **ctx, **WL), "AEES-Noise + WL")]
    return [Cell(f"{prefix}_{tok}", task, {**p, **extra}, label, setting, "AdamW",
                 expect={"context": context} if p["method"] != "AdamW" else {},
                 tables=tables.get(label, ())) for tok, p, label in rows]


def _sst2() -> Grid:
    main, axis = ("T15", "T20"), ("T16", "T20")
    tables = {"AdamW": main, "AdamW + WL": main + axis[:1], "AEES": main + ("T23",),
              "AEES + WL": main + axis[:1], "AEES-LR + WL": axis, "AEES-Noise + WL": axis}
    cells = _nlp_cells("sst2", "sst2", SST2_GRID, context="trend", axes=True, extra={},
                       setting="clean", tables=tables)
    return Grid("sst2", "SST-2, DistilBERT: AdamW, WL, AEES-Dual/LR/Noise (trend context)",
                tuple(cells), seeds=MAIN_SEEDS)


def _agnews_clean() -> Grid:
    cells = _nlp_cells("agnews", "agnews", SST2_GRID, context="none", axes=False, extra={},
                       setting="clean", tables={k: ("T17", "T20") for k in
                                                ("AdamW", "AdamW + WL", "AEES", "AEES + WL")})
    return Grid("agnews-clean", "Clean AG News, DistilBERT: AdamW, WL, AEES-Dual",
                tuple(cells), seeds=MAIN_SEEDS)


def _agnews_noisy() -> Grid:
    t = {"AdamW": ("T18", "T20", "T21"), "AdamW + WL": ("T18", "T19", "T20", "T21"),
         "AEES": ("T18", "T20"), "AEES + WL": ("T18", "T19", "T20", "T21"),
         "AEES-LR + WL": ("T19", "T20"), "AEES-Noise + WL": ("T19", "T20", "T21")}
    cells = _nlp_cells("agnews", "agnews_noise20", COARSE_GRID, context="none", axes=True,
                       extra=AGNEWS_NOISE, setting="noise20", tables=t)
    rand = {"method": "RandomScheduler", "lr_candidates": [1.0], **WL, **AGNEWS_NOISE}
    for tok, noise, label in (("fixed_sigma0p005", [0.005], "Fixed σ=0.005 + WL"),
                              ("fixed_sigma0p01", [0.01], "Fixed σ=0.01 + WL"),
                              ("random_sigma", COARSE_GRID["noise"], "Random σ + WL")):
        cells.append(Cell(f"agnews_noise20_{tok}_warmup_linear", "agnews",
                          {**rand, "noise_candidates": noise}, label, "noise20", tables=("T21",)))
    return Grid("agnews-noisy", "AG News with 20 % symmetric label noise, and the σ-axis controls",
                tuple(cells), seeds=MAIN_SEEDS)


# --- Ablations (protocol 11.3) ---
SYM20_AEES = {**AEES, **ADAMW, **CIFAR_NOISE["sym20"]}


def _ablation_penalty() -> Grid:
    lam = {"reward_instability_lambda": 0.1}
    cells = (Cell("clean_penalty_0p1", "cifar100", {**AEES, **ADAMW, **lam}, "AEES",
                  expect={"lam": 0.1}, tables=("T22",)),
             Cell("noisy_penalty_0p1", "cifar100", {**SYM20_AEES, **lam}, "AEES", "sym20",
                  expect={"lam": 0.1}, tables=("T22",)))
    aliases = (Alias("clean_penalty_0p0", "cifar-clean", "cifar_clean_aees_none", "AEES",
                     note="λ = 0 is the main clean AEES run", tables=("T22",)),
               Alias("noisy_penalty_0p0", "cifar-noisy", "cifar100_sym20_adamw_aees", "AEES", "sym20",
                     note="λ = 0 is the main sym20 AdamW AEES run", tables=("T22",)))
    return Grid("ablation-penalty", "Instability penalty λ = 0.1 vs 0 (clean and sym20 CIFAR AEES)",
                cells, aliases, seeds=ABLATION_SEEDS)


def _ablation_trend() -> Grid:
    trend = {"context_mode": "trend"}
    cells = (Cell("clean_context_trend", "cifar100", {**AEES, **ADAMW, **trend}, "AEES",
                  expect={"context": "trend"}, tables=("T23",)),
             Cell("noisy_context_trend", "cifar100", {**SYM20_AEES, **trend}, "AEES", "sym20",
                  expect={"context": "trend"}, tables=("T23",)),
             Cell("sst2_context_none", "sst2", nlp_aees(SST2_GRID), "AEES",
                  expect={"context": "none"},
                  tables=("T23",)))
    aliases = (Alias("clean_context_none", "cifar-clean", "cifar_clean_aees_none", "AEES",
                     note="context none is the main clean AEES run", tables=("T23",)),
               Alias("noisy_context_none", "cifar-noisy", "cifar100_sym20_adamw_aees", "AEES", "sym20",
                     note="context none is the main sym20 AdamW AEES run", tables=("T23",)),
               Alias("sst2_context_trend", "sst2", "sst2_aees_none", "AEES",
                     note="the SST-2 main AEES-Dual run uses the trend context (11.2)", tables=("T23",)))
    return Grid("ablation-trend", "Trend context vs none (clean/sym20 CIFAR AEES, SST-2 AEES-Dual)",
                cells, aliases, seeds=ABLATION_SEEDS)


def _ablation_cifar_noise() -> Grid:
    base = {**SYM20_AEES, "context_mode": "trend"}
    cells = (Cell("sym20_lronly_trend", "cifar100", base, "AEES", "sym20", thesis_epochs=100,
                  expect={"context": "trend"}, tables=("T24", "F8")),
             Cell("sym20_smallnoise_trend", "cifar100", {**base, "noise_candidates": CIFAR_SMALL_NOISE},
                  "AEES-Dual", "sym20", thesis_epochs=100, expect={"context": "trend"},
                  tables=("T24", "F8")))
    return Grid("ablation-cifar-noise", "Small gradient-noise injection on sym20 CIFAR AEES (100 epochs)",
                cells, seeds=ABLATION_SEEDS)


# --- Compute overhead (protocol 9.5) ---
MACHINERIES = ("project", "thesis")  # lib.train.thesis_machinery; "project" cells set no machinery
_TIMING_TASKS = (("cifar100", "cifar_clean", "AdamW", 20, "cosine"),
                 ("cifar100", "cifar_clean", "SGD", 20, "cosine"),
                 ("sst2", "sst2_clean", "AdamW", 3, "warmup_linear"),
                 ("agnews", "agnews_clean", "AdamW", 3, "warmup_linear"))
_TIMING_VARIANTS = (("baseline", None, None), ("aees_lr_only", "lr", "AEES-LR"),
                    ("aees_noise_only", "noise", "AEES-Noise"), ("aees_both", "dual", "AEES-Dual"))


def _timing_label(task: str, optimizer: str, axis_label: str | None, scheduler: str) -> str:
    short = {"none": None, "cosine": "Cosine", "warmup_linear": "WL"}[scheduler]
    if axis_label is None:
        return optimizer + (f" + {short}" if short else "")
    main = "AEES-LR" if task == "cifar100" else "AEES-Dual"
    core = "AEES" if axis_label == main else axis_label
    return core + (f" + {short}" if short else "")


def _compute_overhead() -> Grid:
    cells = []
    for task, prefix, opt, epochs, sched_name in _TIMING_TASKS:
        grid = {"lr": CIFAR_LR, "noise": CIFAR_SMALL_NOISE} if task == "cifar100" else SST2_GRID
        for variant, axes, axis_label in _TIMING_VARIANTS:
            for s in ("none", sched_name):
                s_params = {**sched(s), **({"warmup_epochs": 0} if s == "warmup_linear" else {})}
                if task == "cifar100":
                    method = BASELINE if axes is None else {
                        "control_mode": "adaptive",
                        "lr_candidates": grid["lr"] if axes in ("lr", "dual") else [1.0],
                        "noise_candidates": grid["noise"] if axes in ("noise", "dual") else [0.0]}
                    params = {**method, **(ADAMW if opt == "AdamW" else SGD), **s_params}
                else:
                    params = {"method": "AdamW", **s_params} if axes is None else {**nlp_aees(grid, axes), **s_params}
                for machinery in MACHINERIES:  # project cells first, unchanged (archived runs stay valid)
                    thesis = machinery == "thesis"
                    cells.append(Cell(f"{'thesis_machinery_' if thesis else ''}{prefix}_{opt.lower()}_{variant}_{s}",
                                      task, {**params, **({"machinery": "thesis"} if thesis else {})},
                                      _timing_label(task, opt, axis_label, s), "clean", opt,
                                      thesis_epochs=epochs,
                                      expect={"aees_axis": axis_label or "", "lr_scheduler": s,
                                              "machinery": machinery},
                                      tables=("T13", "T14")))
    cells.sort(key=lambda c: c.params.get("machinery", "project") == "thesis")
    return Grid("compute-overhead", "Compute overhead: seconds per epoch, seed 0, timing repeats (9.5)",
                tuple(cells), seeds={"*": (0,)}, fixed_seeds=True, repeats={"thesis": 3, "*": 1})


# --- Peers: schedule-free optimizers beside AEES (beyond the thesis; X3, X4) ---
# (run-name token, optimizer, label, parameters). Schedule-Free's LR: the task's AdamW LR (lib.control.peers).
PEERS = tuple((p.token, name, p.label, {} if p.default_lr is None else {"lr": p.default_lr})
              for name, p in PEER_SPECS.items())
PEER_TABLES = ("X3", "X4")
PEER_SEEDS = {"thesis": THESIS_SEEDS, "mini-fmnist": (0, 1), "*": (0,)}
# (task, setting, cell prefix, extra parameters, AEES parameters, the thesis rows it is set beside:
#  (alias name, grid, cell, label)). The AEES of each task is that task's main thesis AEES.
_PEER_TASKS = (
    ("cifar100", "clean", "peers_cifar_clean", {}, AEES,
     (("adamw", "cifar-clean", "cifar_clean_adamw_none", "AdamW"),
      ("adamw_cosine", "cifar-clean", "cifar_clean_adamw_cosine", "AdamW + Cosine"),
      ("aees", "cifar-clean", "cifar_clean_aees_none", "AEES"))),
    ("cifar100", "sym40", "peers_cifar100_sym40", CIFAR_NOISE["sym40"], AEES,
     (("adamw", "cifar-noisy", "cifar100_sym40_adamw_baseline", "Baseline"),
      ("adamw_cosine", "cifar-noisy", "cifar100_sym40_adamw_cosine", "Cosine"),
      ("aees", "cifar-noisy", "cifar100_sym40_adamw_aees", "AEES"))),
    ("sst2", "clean", "peers_sst2", {}, nlp_aees(SST2_GRID, context_mode="trend"),
     (("adamw", "sst2", "sst2_adamw_none", "AdamW"),
      ("adamw_wl", "sst2", "sst2_adamw_warmup_linear", "AdamW + WL"),
      ("aees", "sst2", "sst2_aees_none", "AEES"))),
    ("agnews", "noise20", "peers_agnews_noise20", AGNEWS_NOISE, nlp_aees(COARSE_GRID),
     (("adamw", "agnews-noisy", "agnews_noise20_adamw_none", "AdamW"),
      ("adamw_wl", "agnews-noisy", "agnews_noise20_adamw_warmup_linear", "AdamW + WL"),
      ("aees", "agnews-noisy", "agnews_noise20_aees_none", "AEES"))),
)


def _peers() -> Grid:
    """Schedule-Free AdamW and Prodigy, each alone and under the task's thesis AEES, on clean and
    sym40 CIFAR (AdamW family), SST-2 and noisy AG News; the thesis' AdamW, scheduled AdamW (Cosine
    on CIFAR; WL, the NLP thesis schedule, on the NLP tasks) and AEES runs are aliases."""
    cells, aliases = [], []
    for task, setting, prefix, extra, aees, refs in _PEER_TASKS:
        for token, opt, label, opt_params in PEERS:
            cifar = task == "cifar100"
            alone = {**BASELINE, "optimizer": opt} if cifar else {"method": opt}
            driven = {**aees, "optimizer": opt}
            if cifar:
                opt_params = {"lr": ADAMW["lr"], **opt_params}
            expect = {} if cifar else {"context": aees.get("context_mode", "none")}
            cells.append(Cell(f"{prefix}_{token}", task, {**alone, **opt_params, **extra}, label, setting, opt,
                              tables=PEER_TABLES))
            cells.append(Cell(f"{prefix}_{token}_aees", task, {**driven, **opt_params, **extra}, f"{label} + AEES",
                              setting, opt, expect=expect, tables=PEER_TABLES))
        for token, grid, cell, label in refs:
            aliases.append(Alias(f"{prefix}_{token}", grid, cell, label, setting, "AdamW",
                                 note=f"the thesis {label} run of grid {grid}", tables=PEER_TABLES))
    return Grid("peers", "Peers beyond the thesis: Schedule-Free AdamW and Prodigy, alone and under AEES",
                tuple(cells), tuple(aliases), seeds=PEER_SEEDS)


# --- Peak-checkpoint re-runs (protocol 11.3) ---
PEAK_RERUN_TAG = "peak-rerun"  # run_tag of the re-runs: the analysis tells them from the full runs by it
# What the thesis re-ran (protocol 11.3): the four main methods, asym20 and sym40, AdamW and SGD.
PEAK_RERUN_SETTINGS = ("asym20", "sym40")
PEAK_RERUN_PARENTS = ("baseline", "cosine", "aees", "cosine_aees")


def _cifar_peak_rerun() -> Grid:
    """Each main noisy CIFAR run of asym20 and sym40 (Baseline, Cosine, AEES, Cosine + AEES), re-run to
    its peak epoch with ``epochs`` = ``scheduler_t_max`` = that epoch (lib.grids.plan derives both from
    the finished parent run of the same seed): a Cosine schedule is compressed to the peak, a run without
    a schedule trains again up to it."""
    cells = []
    for parent in _cifar_noisy().cells:
        if parent.setting in PEAK_RERUN_SETTINGS and any(parent.name.endswith(f"_{parent.optimizer.lower()}_{t}")
                                                          for t in PEAK_RERUN_PARENTS):
            scheduled = {"lr_scheduler": "cosine"} if parent.params.get("lr_scheduler") == "cosine" else {}
            cells.append(Cell(f"{parent.name}_peak", "cifar100", {**parent.params, "run_tag": PEAK_RERUN_TAG},
                              parent.label, parent.setting, parent.optimizer, tables=("T11", "T12"),
                              expect={**scheduled, "run_tag": PEAK_RERUN_TAG},
                              parent=("cifar-noisy", parent.name)))
    return Grid("cifar-peak-rerun", "Peak-checkpoint re-runs (thesis protocol): the main noisy CIFAR runs of "
                "asym20 and sym40 stopped at their peak epoch, a schedule compressed to it", tuple(cells),
                seeds=NOISY_CIFAR_SEEDS)


GRIDS: dict[str, Grid] = {g.name: g for g in (
    _cifar_clean(), _cifar_noisy(), _sst2(), _agnews_clean(), _agnews_noisy(),
    _ablation_penalty(), _ablation_trend(), _ablation_cifar_noise(), _compute_overhead(), _peers(),
    _cifar_peak_rerun())}
