"""The targets of the miniature: ``lib.analysis.shape.shape_checks`` and table X5 on small hand-made archives
with known answers, and the targets on the committed ``results/mini``.

Targets 1-3 are blocking, target 4 informational (the ``blocking`` column). ``EXPECTED_UNMET`` names the
blocking checks the committed archive is known not to meet, each with the reason; the committed-archive
test asserts that every other blocking check passes and that each listed one really fails, so the list
cannot go stale (a check that starts passing must leave it). Informational checks must be measured there,
whatever their outcome.
"""

from __future__ import annotations

import json
import math
import statistics
from pathlib import Path

import pandas as pd
import pytest

from lib.analysis.build import STANDIN_LABEL
from lib.analysis.display import table_html
from lib.analysis.load import load_archive
from lib.analysis.reference import thesis_numbers
from lib.analysis.render import build, open_archive, render, reproduction
from lib.analysis import shape
from lib.analysis.shape import FIT_KEY, cell_runs, check_names, shape_checks
from lib.grids.definitions import GRIDS
from runresult_factory import run_result

_CEILING = ("the synthetic stand-in's clean CIFAR classes are easy: every clean method reaches 99.6-100 % "
            "(docs/miniature.md); the real-image profile mini-fmnist is the remedy")
_PEAK = ("the mini curves rise to a plateau and slide, so the first maximum lands late (0.48-0.98 of the run with "
         "one seed; 140 epochs, over the budget, bring AdamW's sym20/sym40 peaks to 0.31-0.34: docs/miniature.md)")
_SEEDS = ("one mini seed for noisy CIFAR, its fixed multipliers and the peers: the 2.5 h budget of the stand-in "
          "archive is spent on the other grids (docs/miniature.md)")
_RERUNS = ("the peak re-run grid covers Baseline, AEES, Cosine and Cosine + AEES in asym20 and sym40; the "
           "stand-in archive re-ran the scheduled methods once (docs/miniature.md)")
_AGNEWS_SD = ("the mini AG News validation split is 240 articles (10 % of 2,400; 0.42 points each): the SD of "
              "3 seeds exceeds 1 point")

# Blocking checks the committed results/mini does not meet: name -> why (filled in after each regeneration).
EXPECTED_UNMET: dict[str, str] = {  # measured on the committed archive (docs/miniature.md)
    **{f"target1.below_ceiling.{c.name}": _CEILING for c in GRIDS["cifar-clean"].cells},
    "target2.seeds.cifar-noisy.main": _SEEDS,
    "target2.seeds.cifar-noisy.other": _SEEDS,
    "target2.seeds.peers.other": _SEEDS,
    "target2.seeds.cifar-peak-rerun.main": _RERUNS,
    "target2.seed_sd.agnews-clean.agnews_aees_warmup_linear": _AGNEWS_SD,
    "target2.seed_sd.agnews-noisy.agnews_noise20_adamw_none": _AGNEWS_SD,
    "target2.seed_sd.agnews-noisy.agnews_noise20_adamw_warmup_linear": _AGNEWS_SD,
    "target2.seed_sd.agnews-noisy.agnews_noise20_fixed_sigma0p005_warmup_linear": _AGNEWS_SD,
    "target3.sym20.AdamW.baseline.rel_peak": _PEAK,
    "target3.sym20.AdamW.baseline.drop":
        "sym20 AdamW drops 3.8 points with one seed: memorising 20 % noise costs the easy stand-in classes fewer "
        "points than the thesis's CIFAR-100 (docs/miniature.md)",
    "target3.sym40.AdamW.baseline.rel_peak": _PEAK,
}

NOISE = {"clean": ("none", 0.0), "asym20": ("asymmetric", 0.2), "sym20": ("symmetric", 0.2),
         "sym40": ("symmetric", 0.4)}
AEES = {"mode": "adaptive", "lr": (0.5, 1.0, 2.0)}


def curve(epochs: int, peak: int, best: float, final: float) -> list[float]:
    """Validation accuracies whose first maximum is ``best`` at epoch ``peak`` (1-based) and last is ``final``."""
    val = [0.1] * epochs
    val[peak - 1] = best
    for i in range(peak, epochs - 1):
        val[i] = (best + final) / 2
    val[-1] = best if peak == epochs else final
    return val


def cifar(seed: int, val: list[float], *, setting: str = "clean", opt: str = "AdamW", sched: str = "none",
          mode: str = "baseline", lr=(1.0,), noise=(0.0,), context: str = "none", lam: float = 0.0,
          fit: float | None = None, diag_fit: float | None = None, run_tag: str | None = None) -> dict:
    ntype, rate = NOISE[setting]
    cfg = {"task_name": "cifar100", "optimizer": opt, "control_mode": mode, "lr_scheduler": sched,
           "lr_candidates": list(lr), "noise_candidates": list(noise), "label_noise_type": ntype,
           "label_noise_rate": rate, "context_mode": context, "reward_instability_lambda": lam, "seed": seed,
           "epochs": len(val), "episode_length": 10, "structured_control_mode": "independent", "profile": "mini",
           "data_standin": True, "run_tag": run_tag}
    if diag_fit is not None:
        cfg["diagnostics"] = {"final_subset_accuracies": {FIT_KEY: diag_fit}}
    method = {"baseline": "Baseline", "adaptive": "AdaptiveScheduler", "random": "RandomScheduler"}[mode]
    extra = {"epoch_subset_train_accuracies": {FIT_KEY: [0.05] * (len(val) - 1) + [fit]}} if fit is not None else {}
    return run_result("cifar100", keys="all", noisy=setting != "clean", method_name=method, seed=seed, config=cfg,
                      val_accuracies=val, run_tag=run_tag,
                      controller_logs=None if mode == "baseline" else {"lr_controller_logs": {"arm_values": list(lr)}},
                      **extra)


def agnews(seed: int, val: list[float]) -> dict:
    cfg = {"task_name": "agnews", "method": "AdamW", "lr_scheduler": "none", "label_noise_rate": 0.2,
           "label_noise_seed": 42, "seed": seed, "epochs": len(val), "profile": "mini", "data_standin": True}
    return run_result("agnews", keys="all", noisy=True, method_name="AdamW", seed=seed, config=cfg,
                      val_accuracies=val)


def write(root: Path, name: str, record: dict) -> None:
    root.mkdir(parents=True, exist_ok=True)
    (root / f"{name}.json").write_text(json.dumps(record))


# Baseline and Cosine per setting × optimizer, 10 epochs, seeds 0 and 1: (peaks, bests, finals, fits) per seed.
GOOD_BASELINE = {"peaks": (3, 2), "bests": (0.50, 0.52), "finals": (0.44, 0.44), "fits": (0.8, 0.9)}
GOOD_COSINE = {"peaks": (10, 10), "bests": (0.52, 0.54), "finals": (0.52, 0.54), "fits": (0.3, 0.3)}
# Deviations from the good shape; each breaks exactly one check of target 3 (blocking) or 4 (informational).
BAD = {
    ("asym20", "AdamW", "Baseline"): {"fits": (0.6, 0.7)},                     # fit 0.65 < 0.8 (target 4)
    ("sym20", "AdamW", "Baseline"): {"peaks": (5, 4)},                         # rel. peak 0.45 > 0.40; fit below
    ("sym20", "SGD", "Baseline"): {"peaks": (9, 9)},                           # rel. peak 0.9 > 0.40 (target 4)
    ("sym40", "AdamW", "Baseline"): {"finals": (0.45, 0.47)},                  # drop 5 < 8 (sym40)
    ("asym20", "SGD", "Cosine"): {"peaks": (7, 7), "finals": (0.49, 0.51)},   # drop 3 > 2
    ("sym40", "SGD", "Cosine"): {"finals": (0.38, 0.38), "peaks": (5, 5)},    # final 38 < Baseline's 40
}
BAD_BLOCKING = {"target3.sym20.AdamW.baseline.rel_peak", "target3.sym20.AdamW.baseline.corr_fit",
                "target3.sym40.AdamW.baseline.drop"}
BAD_INFORMATIONAL = {"target4.asym20.AdamW.baseline.corr_fit", "target4.sym20.SGD.baseline.rel_peak",
                     "target4.asym20.SGD.cosine.drop", "target4.sym40.SGD.cosine.final_above_baseline"}


def shape_archive(root: Path, bad: bool) -> Path:
    for setting in shape.SETTINGS:
        for opt in shape.OPTIMIZERS:
            base = {**GOOD_BASELINE, "finals": (0.40, 0.40)} if setting == "sym40" else GOOD_BASELINE  # drops 10, 12
            for method, spec in (("Baseline", base), ("Cosine", GOOD_COSINE)):
                spec = {**spec, **(BAD.get((setting, opt, method), {}) if bad else {})}
                for seed in (0, 1):
                    val = curve(10, spec["peaks"][seed], spec["bests"][seed], spec["finals"][seed])
                    fit = spec["fits"][seed]
                    if bad and (setting, opt, method, seed) == ("sym20", "AdamW", "Baseline", 1):
                        fit = 0.75  # mean 0.775 < 0.8
                    # the training pass reads lower than the evaluation pass (as on the archive); X5 reads the latter
                    rec = cifar(seed, val, setting=setting, opt=opt, sched="cosine" if method == "Cosine" else "none",
                                fit=fit - 0.25, diag_fit=fit)
                    write(root, f"{setting}_{opt}_{method}_seed{seed}", rec)
    return root


@pytest.fixture(scope="module")
def good(tmp_path_factory) -> Path:
    return shape_archive(tmp_path_factory.mktemp("good"), bad=False)


@pytest.fixture(scope="module")
def bad(tmp_path_factory) -> Path:
    return shape_archive(tmp_path_factory.mktemp("bad"), bad=True)


def noisy_shape(checks: pd.DataFrame) -> pd.DataFrame:
    """The checks of targets 3 and 4 on noisy CIFAR (the AG News row of target 4 left out)."""
    return checks[checks["target"].isin(["3", "4"]) & ~checks["name"].str.contains("agnews")].set_index("name")


def test_shape_good_passes_with_known_values(good: Path) -> None:
    checks = noisy_shape(shape_checks(open_archive(good, "/nonexistent-out").runs))
    assert len(checks) == 28 and checks["passed"].all(), checks[~checks["passed"]]
    assert (checks["target"] == "3").sum() == 6 and checks.loc[checks["target"] == "3", "blocking"].all()
    assert not checks.loc[checks["target"] == "4", "blocking"].any()
    row = checks.loc["target3.sym20.AdamW.baseline.rel_peak"]
    assert (row["value"], row["op"], row["threshold"]) == (pytest.approx(0.25), "<=", 0.40)  # (3 + 2) / 2 / 10
    assert checks.loc["target4.sym20.SGD.baseline.drop", "value"] == pytest.approx(7.0)  # (6 + 8) / 2
    assert checks.loc["target3.sym40.AdamW.baseline.drop", ["value", "threshold"]].tolist() == \
        [pytest.approx(11.0), 8.0]  # (10 + 12) / 2 against the sym40 bound
    assert checks.loc["target3.sym40.AdamW.baseline.corr_fit", ["value", "threshold"]].tolist() == \
        [pytest.approx(0.85), 0.80]
    final = checks.loc["target4.sym40.AdamW.cosine.final_above_baseline"]
    assert (final["value"], final["op"], final["threshold"]) == (pytest.approx(53.0), ">", pytest.approx(40.0))
    assert "target4.sym40.AdamW.cosine.drop" not in checks.index  # no Cosine drop bound in sym40
    assert not any(n.startswith("target3.") and (".SGD." in n or ".asym20." in n) for n in checks.index)


def test_shape_failing_cases_blocking_and_informational(bad: Path) -> None:
    checks = noisy_shape(shape_checks(load_archive(bad)))  # a load_archive frame works as well as Runs
    failed = checks[~checks["passed"]]
    assert set(failed.index[failed["blocking"]]) == BAD_BLOCKING
    assert set(failed.index[~failed["blocking"]]) == BAD_INFORMATIONAL
    assert checks.loc["target3.sym20.AdamW.baseline.rel_peak", "value"] == pytest.approx(0.45)
    assert checks.loc["target3.sym40.AdamW.baseline.drop", "value"] == pytest.approx(5.0)  # >= 4, but sym40 needs 8
    assert checks.loc["target4.asym20.SGD.cosine.drop", "value"] == pytest.approx(3.0)
    # the evaluation pass, never the training pass (0.25 lower here): seeds 0.8 and 0.75
    assert checks.loc["target3.sym20.AdamW.baseline.corr_fit", "value"] == pytest.approx(0.775)


def test_x5_table_verdicts_thesis_values_and_standin_label(bad: Path, tmp_path: Path) -> None:
    ctx = open_archive(bad, tmp_path)
    row = render(ctx, "X5")
    assert (row["status"], row["n_runs"]) == ("ok", 24)
    csv = pd.read_csv(tmp_path / "cifar_noisy/cifar_noisy_shape_check_table.csv", dtype=str, keep_default_na=False)
    assert csv["Method"].tolist() == ["Baseline", "Cosine"] * 6
    assert csv["Noise"].tolist()[::4] == ["Asym. 20\\%", "Sym. 20\\%", "Sym. 40\\%"]
    assert (csv["provenance"] == STANDIN_LABEL).all()
    first = csv.iloc[0]  # asym20 AdamW Baseline; the thesis: peak 17.4 of 200, drop 2.196 pp, fit 0.98686
    assert (first["n"], first["Rel. peak"], first["Drop (pp)"], first["Final (\\%)"], first["Corr. fit"]) == \
        ("2", "0.25", "7.0", "44.0", "0.65")
    assert (first["n (thesis)"], first["Rel. peak (thesis)"], first["Drop (pp, thesis)"], first["Corr. fit (thesis)"]) \
        == ("5", "0.09", "2.2", "0.99")
    # blocking target 3 on the AdamW Baselines of sym20 and sym40 only, informational target 4 elsewhere
    assert csv["Target"].tolist() == ["4 (info.)"] * 4 + ["3"] + ["4 (info.)"] * 3 + ["3"] + ["4 (info.)"] * 3
    assert csv["Verdict"].tolist() == ["unmet: fit", "met", "met", "unmet: drop", "unmet: peak, fit", "met",
                                       "unmet: peak", "met", "unmet: drop", "met", "met", "unmet: final"]
    # The thesis itself misses two bounds: asym20 AdamW's Baseline drops 2.2 pp (< 4) and sym40 SGD's Baseline
    # fits 0.78 of the corrupted labels (< 0.80); both are informational rows.
    assert csv["Verdict (thesis)"].tolist() == ["unmet: drop"] + ["met"] * 9 + ["unmet: fit", "met"]
    built = build(ctx, "X5")
    assert any("evaluation pass" in n for n in built.notes) and not any("no final diagnostics" in n for n in built.notes)
    assert any(n.startswith("Target 3 (blocking") and "Target 4 (informational)" in n for n in built.notes)
    body = table_html(built.cells, None, caption="X5", uid="X5", standin_label=STANDIN_LABEL).split("</style>")[1]
    assert "$" not in body and "\\" not in body  # no LaTeX reaches the screen
    cmp = reproduction(ctx, "X5").set_index(["block", "row", "metric"])
    assert cmp.loc[("asym20 AdamW", "Baseline", "rel_peak"), "thesis"] == pytest.approx(17.4 / 200)
    assert cmp.loc[("asym20 AdamW", "Baseline", "rel_peak"), "archive"] == pytest.approx(0.25)
    assert cmp.loc[("sym40 SGD", "Cosine", "corr_fit"), "thesis"] == pytest.approx(0.99947)
    assert len(cmp) == 48 and cmp["archive"].notna().all()


def test_x5_unpublished_thesis_value_is_missing_with_a_note(good: Path, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    def fewer(table: str) -> pd.DataFrame:
        df = thesis_numbers(table)
        gone = (df["block"] == "sym20 AdamW") & (df["row"] == "Cosine") & (df["metric"] == "corr_fit")
        return df[~gone]

    monkeypatch.setattr(shape, "thesis_numbers", fewer)
    built = build(open_archive(good, tmp_path), "X5")
    cos = built.cells.iloc[5]  # sym20 AdamW Cosine
    assert (cos["Method"], cos["Corr. fit (thesis)"], cos["Corr. fit"]) == ("Cosine", "--", "0.30")
    assert "not published by the thesis ('--'): sym20 AdamW Cosine corr_fit" in built.notes


def test_x5_partial_and_missing_runs(tmp_path: Path) -> None:
    arch = tmp_path / "a"
    write(arch, "clean", cifar(0, curve(10, 5, 0.5, 0.4)))
    assert render(open_archive(arch, tmp_path / "o"), "X5")["status"] == "missing-runs"
    write(arch, "one", cifar(0, curve(10, 3, 0.5, 0.4), setting="sym40", diag_fit=0.8))
    ctx = open_archive(arch, tmp_path / "o")
    row = render(ctx, "X5")
    assert row["status"] == "partial" and row["n_runs"] == 1 and "asym20 AdamW Baseline" in row["note"]
    cells = build(ctx, "X5").cells
    assert cells.iloc[8]["Rel. peak"] == "0.30" and cells.iloc[0]["Verdict"] == "--"
    assert cells.iloc[8]["Verdict"] == "met" and cells.iloc[9]["Verdict"] == "--"  # sym40 AdamW
    write(arch, "cosine", cifar(0, curve(10, 10, 0.5, 0.5), setting="sym20", sched="cosine", diag_fit=0.3))
    cells = build(open_archive(arch, tmp_path / "o"), "X5").cells
    assert cells.iloc[5]["Verdict"] == "--"  # sym20 AdamW Cosine: drop met, final undecided without a Baseline
    checks = shape_checks(ctx.runs).set_index("name")
    missing = checks.loc["target3.sym20.AdamW.baseline.rel_peak"]
    assert math.isnan(missing["value"]) and not missing["passed"] and missing["detail"] == "no runs"


# --- target 1: clean CIFAR off the ceiling -----------------------------------------------------------

CLEAN_KW = {"AdamW": {}, "AdamW + Cosine": {"sched": "cosine"}, "AdamW + Linear": {"sched": "linear"},
            "AEES": AEES, "AEES + Cosine": {**AEES, "sched": "cosine"}, "AEES + Linear": {**AEES, "sched": "linear"},
            "Fixed ×0.5": {"mode": "random", "lr": (0.5,)}, "Fixed ×2.0": {"mode": "random", "lr": (2.0,)}}
# Best accuracy per seed: inside 30-92 %, seed SD 1 point; every row 0-4 points above AdamW, seed by seed.
GOOD_CLEAN = {"AdamW": (0.60, 0.61, 0.62), "AdamW + Cosine": (0.62, 0.64, 0.63), "AdamW + Linear": (0.63, 0.65, 0.64),
              "AEES": (0.61, 0.63, 0.62), "AEES + Cosine": (0.63, 0.62, 0.64), "AEES + Linear": (0.64, 0.63, 0.65),
              "Fixed ×0.5": (0.62, 0.61, 0.63), "Fixed ×2.0": (0.61, 0.63, 0.62)}
BAD_CLEAN = {"AdamW + Cosine": (0.95, 0.95, 0.96),   # mean 95.3 % > 92 %
             "AEES + Cosine": (0.25, 0.27, 0.26),    # mean 26 % < 30 %
             "Fixed ×2.0": (0.60, 0.62, 0.64),       # seed SD 2 points > 1.5
             "AdamW + Linear": (0.63,)}              # one seed: too few, and no CI for its gap


def clean_archive(root: Path, bests: dict[str, tuple[float, ...]]) -> Path:
    for label, values in bests.items():
        for seed, best in enumerate(values):
            write(root, f"{label}_{seed}".replace(" ", ""), cifar(seed, curve(10, 8, best, best - 0.01),
                                                                  **CLEAN_KW[label]))
    return root


def test_target1_clean_cifar_off_the_ceiling_passes(tmp_path: Path) -> None:
    ctx = open_archive(clean_archive(tmp_path / "a", GOOD_CLEAN), tmp_path / "o")
    checks = shape_checks(ctx.runs)
    one = checks[checks["target"] == "1"].set_index("name")
    assert len(one) == 8 * 3 + 1 + 7 and one["passed"].all() and one["blocking"].all(), one[~one["passed"]]
    floor, ceiling = one.loc["target1.above_floor.cifar_clean_adamw_none"], \
        one.loc["target1.below_ceiling.cifar_clean_adamw_none"]
    assert (floor["value"], floor["op"], floor["threshold"]) == (pytest.approx(61.0), ">=", 30.0)
    assert (ceiling["value"], ceiling["op"], ceiling["threshold"]) == (pytest.approx(61.0), "<=", 92.0)
    assert one.loc["target1.seed_sd.cifar_clean_fixed_lr0p5_n0_none", ["value", "threshold"]].tolist() == \
        [pytest.approx(1.0), 1.5]
    assert one.loc["target1.seeds.cifar-clean", ["value", "detail"]].tolist() == [3, "8 cells"]
    paired = one.loc["target1.paired.T1.cosine"]  # per seed +2, +3, +1 points over AdamW
    assert (paired["value"], paired["threshold"]) == (3, 2)
    assert paired["detail"].startswith("AdamW + Cosine − AdamW: 2.00 [") and paired["detail"].endswith(", n=3")
    assert one.loc["target1.paired.T2.aees", "detail"].startswith("AEES − Fixed ×1.0: 1.00 [")
    # the same gaps are what T1-T3 print, whatever their sign
    t1 = build(ctx, "T1").cells.set_index("Method")
    assert t1.loc["AdamW", "$\\Delta$ Best vs flat (pp)"] == "--"
    assert t1.loc["AdamW + Cosine", "$\\Delta$ Best vs flat (pp)"].startswith("2.00 [")
    assert t1.loc["AdamW + Linear", "$\\Delta$ Best vs flat (pp)"].startswith("3.00 [")
    assert t1.loc["AdamW + Linear", "$p$"] not in ("--", "")


def test_target1_failing_cases(tmp_path: Path) -> None:
    ctx = open_archive(clean_archive(tmp_path / "a", {**GOOD_CLEAN, **BAD_CLEAN}), tmp_path / "o")
    one = shape_checks(ctx.runs).set_index("name")
    one = one[one["target"] == "1"]
    assert set(one.index[~one["passed"]]) == {
        "target1.below_ceiling.cifar_clean_adamw_cosine", "target1.above_floor.cifar_clean_aees_cosine",
        "target1.seed_sd.cifar_clean_fixed_lr2_n0_none", "target1.seed_sd.cifar_clean_adamw_linear",
        "target1.seeds.cifar-clean", "target1.paired.T1.linear", "target1.paired.T3.linear"}
    assert one.loc["target1.below_ceiling.cifar_clean_adamw_cosine", "value"] == pytest.approx(95 + 1 / 3)
    assert one.loc["target1.seed_sd.cifar_clean_fixed_lr2_n0_none", "value"] == pytest.approx(2.0)
    assert one.loc["target1.seed_sd.cifar_clean_adamw_linear", "detail"] == "AdamW + Linear, n=1 (SD needs 2 seeds)"
    assert one.loc["target1.seeds.cifar-clean", ["value", "detail"]].tolist() == \
        [1, "8 cells; below 3: cifar_clean_adamw_linear: 1"]
    paired = one.loc["target1.paired.T1.linear"]  # one shared seed: the difference without a CI
    assert paired["value"] == 1 and "3.00 [no CI: one seed]" in paired["detail"]
    t1 = build(ctx, "T1").cells.set_index("Method")
    assert t1.loc["AdamW + Linear", "$\\Delta$ Best vs flat (pp)"] == "3.00 [no CI: one seed]"
    assert t1.loc["AdamW + Linear", "$p$"] == "--"
    # the gap's sign does not matter: AEES + Cosine lies 35 points below AdamW and its gap still counts
    assert t1.loc["AEES + Cosine", "$\\Delta$ Best vs flat (pp)"].startswith("-35.00 [")


def test_target1_without_clean_runs_fails_every_check(tmp_path: Path) -> None:
    write(tmp_path / "a", "noisy", cifar(0, curve(10, 3, 0.5, 0.4), setting="sym40", diag_fit=0.8))
    one = shape_checks(open_archive(tmp_path / "a", tmp_path / "o").runs).set_index("name")
    one = one[one["target"] == "1"]
    assert len(one) == 32 and not one["passed"].any()
    assert one.loc["target1.paired.T2.aees", "detail"] == "AEES or Fixed ×1.0: no runs"


# --- target 2: seeds and seed spread -----------------------------------------------------------------


def test_target2_cells_by_content_horizon_reruns_and_timing(tmp_path: Path) -> None:
    arch = tmp_path / "a"
    bests = {"adamw": (0.50, 0.51, 0.52), "aees": (0.50, 0.52, 0.54)}  # SD 1.0 and 2.0 points
    for seed in range(3):
        write(arch, f"adamw{seed}", cifar(seed, curve(10, 9, bests["adamw"][seed], 0.45)))
        write(arch, f"aees{seed}", cifar(seed, curve(10, 9, bests["aees"][seed], 0.45), **AEES))
        # small-noise ablation (100 of 200 thesis epochs -> 5 of the archive's 10): LR-only AEES, trend context
        write(arch, f"lronly{seed}", cifar(seed, curve(5, 4, 0.4, 0.4), setting="sym20", context="trend",
                                          fit=0.5, **AEES))
    write(arch, "adamw_timing", cifar(3, curve(2, 2, 0.3, 0.3), run_tag="run1"))  # a timing run: not a seed
    for seed in (0, 1):  # the trend-context ablation at the full horizon
        write(arch, f"trend{seed}", cifar(seed, curve(10, 4, 0.4, 0.3), setting="sym20", context="trend",
                                         fit=0.5, **AEES))
    write(arch, "smallnoise0", cifar(0, curve(5, 4, 0.4, 0.4), setting="sym20", context="trend", fit=0.5,
                                     mode="adaptive", lr=(0.5, 1.0, 2.0), noise=(0.0, 0.0025, 0.005)))
    write(arch, "cosine0", cifar(0, curve(10, 7, 0.5, 0.48), setting="asym20", sched="cosine", fit=0.4))
    for seed, epochs in ((0, 7), (1, 4)):  # peak re-runs of the Cosine run: their own cell
        write(arch, f"cosine_peak{seed}", cifar(seed, curve(epochs, epochs, 0.5, 0.5), setting="asym20",
                                                sched="cosine", fit=0.4, run_tag="peak-rerun"))
    runs = open_archive(arch, tmp_path / "o").runs

    def seeds(grid: str, cell: str) -> list[int]:
        return sorted(cell_runs(runs, GRIDS[grid].cell(cell))["seed"])

    assert seeds("cifar-clean", "cifar_clean_adamw_none") == [0, 1, 2]
    assert seeds("ablation-cifar-noise", "sym20_lronly_trend") == [0, 1, 2]
    assert seeds("ablation-trend", "noisy_context_trend") == [0, 1]
    assert seeds("ablation-cifar-noise", "sym20_smallnoise_trend") == [0]
    assert seeds("cifar-noisy", "cifar100_sym20_adamw_aees") == []  # context none: not the trend runs
    assert seeds("cifar-noisy", "cifar100_asym20_adamw_cosine") == [0]
    assert seeds("cifar-peak-rerun", "cifar100_asym20_adamw_cosine_peak") == [0, 1]
    checks = shape_checks(runs).set_index("name")
    sd = checks.loc["target1.seed_sd.cifar_clean_adamw_none"]
    assert (sd["value"], sd["op"], sd["threshold"], sd["passed"]) == (pytest.approx(1.0), "<=", 1.5, True)
    sd = checks.loc["target1.seed_sd.cifar_clean_aees_none"]
    assert (sd["value"], sd["passed"]) == (pytest.approx(2.0), False)
    assert math.isnan(checks.loc["target2.seed_sd.sst2.sst2_adamw_none", "value"])
    other = checks.loc["target2.seeds.ablation-cifar-noise.other"]
    assert (other["value"], other["threshold"], other["passed"]) == (1, 2, False)
    assert other["detail"] == "2 cells; below 2: sym20_smallnoise_trend: 1"
    clean = checks.loc["target1.seeds.cifar-clean"]  # 8 cells: six have no runs
    assert (clean["value"], clean["threshold"], clean["passed"]) == (0, 3, False)
    assert clean["detail"].startswith("8 cells; below 3: cifar_clean_adamw_cosine: 0,")
    assert not {"target2.seeds.compute-overhead.other", "target2.seeds.cifar-clean.main",
                "target2.seeds.cifar-clean.other"} & set(checks.index)  # exempt; clean CIFAR is target 1's
    assert checks.loc["target2.seeds.cifar-peak-rerun.main", "detail"].startswith("16 cells; below 3: ")
    assert "target2.seeds.cifar-peak-rerun.other" not in checks.index  # every re-run cell needs 3 seeds
    # which cells need three seeds: the noisy main tables (T4-T6), not the fixed multipliers; every NLP cell
    assert checks.loc["target2.seeds.cifar-noisy.main", "detail"].startswith("24 cells; ")
    assert checks.loc["target2.seeds.cifar-noisy.other", "detail"].startswith("12 cells; below 2: ")
    assert checks.loc["target2.seeds.agnews-noisy.main", "detail"].startswith("9 cells; below 3: ")
    assert "target2.seeds.agnews-noisy.other" not in checks.index and "target2.seeds.sst2.other" not in checks.index


NOISY_MAIN = {"Baseline": {}, "Cosine": {"sched": "cosine"}, "AEES": AEES, "Cosine + AEES": {**AEES, "sched": "cosine"}}
NOISY_FIXED = {"Fixed ×0.5": {"mode": "random", "lr": (0.5,)}, "Fixed ×2.0": {"mode": "random", "lr": (2.0,)}}


@pytest.mark.parametrize("short", [None, ("sym40", "SGD", "Cosine + AEES"), ("asym20", "AdamW", "Fixed ×2.0")])
def test_target2_three_seeds_for_noisy_main_cells_two_for_fixed(tmp_path: Path, short) -> None:
    """Every noisy main cell with 3 seeds and every fixed multiplier with 2 pass; one seed fewer in one cell fails
    its class only."""
    for setting in shape.SETTINGS:
        for opt in shape.OPTIMIZERS:
            for labels, n in ((NOISY_MAIN, 3), (NOISY_FIXED, 2)):
                for label, kw in labels.items():
                    n_here = n - 1 if (setting, opt, label) == short else n
                    for seed in range(n_here):
                        write(tmp_path / "a", f"{setting}_{opt}_{label}_{seed}".replace(" ", ""),
                              cifar(seed, curve(10, 3, 0.5, 0.4), setting=setting, opt=opt, diag_fit=0.8, **kw))
    checks = shape_checks(open_archive(tmp_path / "a", tmp_path / "o").runs).set_index("name")
    main, other = checks.loc["target2.seeds.cifar-noisy.main"], checks.loc["target2.seeds.cifar-noisy.other"]
    if short is None:
        assert (main["value"], main["passed"], main["detail"]) == (3, True, "24 cells")
        assert (other["value"], other["passed"], other["detail"]) == (2, True, "12 cells")
    elif short[2] == "Cosine + AEES":
        assert (main["value"], main["passed"], other["passed"]) == (2, False, True)
        assert main["detail"] == "24 cells; below 3: cifar100_sym40_sgd_cosine_aees: 2"
    else:
        assert (main["passed"], other["value"], other["passed"]) == (True, 1, False)
        assert other["detail"] == "12 cells; below 2: cifar100_asym20_adamw_fixed_lr2: 1"


@pytest.mark.parametrize("bests,passed", [((0.80, 0.82, 0.81), True), ((0.80, 0.83, 0.81), False)])
def test_target2_nlp_seed_sd(tmp_path: Path, bests, passed: bool) -> None:
    for seed in range(3):
        write(tmp_path / "a", f"agnews{seed}", agnews(seed, curve(5, 2, bests[seed], bests[seed] - 0.02)))
    sd = shape_checks(open_archive(tmp_path / "a", tmp_path / "o").runs).set_index("name").loc[
        "target2.seed_sd.agnews-noisy.agnews_noise20_adamw_none"]
    assert (sd["value"], sd["op"], sd["threshold"]) == (pytest.approx(statistics.stdev([100 * b for b in bests])),
                                                        "<=", 1.0)
    assert bool(sd["passed"]) is passed and sd["blocking"] and sd["target"] == "2"


# --- target 4 beyond noisy CIFAR, and the names -----------------------------------------------------


@pytest.mark.parametrize("finals,passed", [((0.76, 0.79, 0.81), True), ((0.80, 0.81, 0.80), False)])
def test_target4_agnews_noisy_baseline_drop_is_informational(tmp_path: Path, finals, passed: bool) -> None:
    bests = (0.80, 0.82, 0.81)
    for seed in range(3):
        write(tmp_path / "a", f"agnews{seed}", agnews(seed, curve(5, 2, bests[seed], finals[seed])))
    drop = shape_checks(open_archive(tmp_path / "a", tmp_path / "o").runs).set_index("name").loc[
        "target4.agnews_noise20.AdamW.drop"]
    drops = [100 * (b - f) for b, f in zip(bests, finals)]  # passing: 4, 3, 0 pp -> 2.33; failing: 0, 1, 1 -> 0.67
    assert (drop["value"], drop["op"], drop["threshold"]) == (pytest.approx(sum(drops) / 3), ">=", 2.0)
    assert bool(drop["passed"]) is passed and not drop["blocking"]


def test_check_names_without_an_archive(tmp_path: Path) -> None:
    names = check_names()
    assert len(names) == len(set(names)) == 32 + 29 + 6 + 23
    assert names[0] == "target1.above_floor.cifar_clean_adamw_none" and names[-1] == "target4.agnews_noise20.AdamW.drop"
    targets = [n.split(".")[0] for n in names]
    assert targets == sorted(targets)  # grouped by target, 1 to 4
    checks = shape_checks(open_archive(tmp_path / "does-not-exist", tmp_path / "o").runs)
    assert checks["name"].tolist() == names and not checks["passed"].any()
    assert (checks["name"].str.slice(6, 7) == checks["target"]).all()
    assert (checks["blocking"] == checks["target"].isin(["1", "2", "3"])).all()


def test_x5_thesis_numbers() -> None:
    ref = thesis_numbers("X5").set_index(["block", "row", "metric"])
    assert len(ref) == 3 * 2 * 2 * 4 and (ref["n"] == 5).all()
    assert ref.loc[("sym20 SGD", "Baseline", "rel_peak"), "mean"] == pytest.approx(19.0 / 200)
    assert ref.loc[("sym40 AdamW", "Baseline", "drop"), "mean"] == pytest.approx(13.612)
    assert ref.loc[("asym20 SGD", "Baseline", "corr_fit"), "mean"] == pytest.approx(0.8208)


# --- the committed archive -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def committed() -> pd.DataFrame:
    return shape_checks(open_archive("results/mini", "/nonexistent-out").runs).set_index("name")


def test_expected_unmet_is_well_formed() -> None:
    unknown = set(EXPECTED_UNMET) - set(check_names())
    assert not unknown, f"EXPECTED_UNMET names checks that do not exist: {sorted(unknown)}"
    informational = sorted(n for n in EXPECTED_UNMET if not n.startswith(("target1.", "target2.", "target3.")))
    assert not informational, f"EXPECTED_UNMET lists blocking checks only, not {informational}"
    assert all(isinstance(r, str) and r.strip() for r in EXPECTED_UNMET.values()), "every entry needs a reason"


def test_committed_archive_has_every_check(committed: pd.DataFrame) -> None:
    assert list(committed.index) == check_names()


@pytest.mark.parametrize("name", check_names())
def test_committed_archive(committed: pd.DataFrame, name: str) -> None:
    row = committed.loc[name]
    what = f"{name}: {row['value']:.4g} {row['op']} {row['threshold']:.4g} ({row['detail']})"
    if not row["blocking"]:  # informational: measured beside the thesis, whatever the outcome
        assert math.isfinite(row["value"]) and math.isfinite(row["threshold"]), f"{what} is not measured"
    elif name in EXPECTED_UNMET:
        assert not row["passed"], f"{what} now passes: remove it from EXPECTED_UNMET ({EXPECTED_UNMET[name]})"
    else:
        assert row["passed"], f"{what} is not met (list it in EXPECTED_UNMET with a reason if that is expected)"
