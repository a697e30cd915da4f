"""lib.grids definitions: the thesis cells (counts, parameters), the mini scaling, and that
lib.analysis.identify names every cell as the intended thesis table row (protocol 11, 9.5)."""

from __future__ import annotations

import pytest

from lib import config
from lib.analysis.identify import identify
from lib.analysis.labels import ROW_ORDERS
from lib.grids import GRIDS, GridError, alias_rows, select_grids
from lib.grids import grid_runs as _grid_runs
from lib.grids.plan import parse_seeds


def grid_runs(*args, **kwargs):
    """Every grid's runs without results on disk: the peak re-runs (derived from finished cifar-noisy
    runs, tests/test_peak_rerun.py) are planned at their parents' length here."""
    return _grid_runs(*args, parents="upper-bound", **kwargs)


THESIS_COUNTS = {  # grid: (cells, runs) in the thesis profile
    "cifar-clean": (8, 40), "cifar-noisy": (36, 180), "sst2": (6, 30), "agnews-clean": (4, 20),
    "agnews-noisy": (9, 45), "ablation-penalty": (2, 10), "ablation-trend": (3, 15),
    "ablation-cifar-noise": (2, 10),
    "compute-overhead": (64, 192),  # 32 project-machinery cells, 32 thesis-machinery cells
    "peers": (16, 80),  # beyond the thesis
    "cifar-peak-rerun": (16, 80),  # the thesis' peak re-runs: four methods, asym20 and sym40, AdamW and SGD
}
MINI_COUNTS = {"cifar-clean": 24, "cifar-noisy": 36, "sst2": 18, "agnews-clean": 12, "agnews-noisy": 27,
               "ablation-penalty": 4, "ablation-trend": 6, "ablation-cifar-noise": 4, "compute-overhead": 64,
               "peers": 16, "cifar-peak-rerun": 16}
LR3, N0 = [0.5, 1.0, 2.0], [0.0]
SST2_LR, SST2_N = [0.7, 1.0, 1.3], [0.0, 0.0025, 0.005]
COARSE_N = [0.0, 0.005, 0.01]


def _params(grid: str, cell: str, profile: str = "thesis") -> dict:
    return GRIDS[grid].cell(cell).parameters(profile)


def test_thesis_cell_and_run_counts_per_grid():
    assert list(GRIDS) == list(THESIS_COUNTS)
    for name, (cells, runs) in THESIS_COUNTS.items():
        specs = grid_runs(name, "thesis")
        assert (len(GRIDS[name].cells), len(specs)) == (cells, runs), name
        assert len({s.name for s in specs}) == runs
    thesis_machinery = sum(s.parameters.get("machinery") == "thesis" for s in grid_runs("compute-overhead", "thesis"))
    assert thesis_machinery == 96
    own = sum(len(grid_runs(g, "thesis")) for g in GRIDS if g not in ("peers", "cifar-peak-rerun"))
    assert own - thesis_machinery == 446  # the thesis' own plan (its timing runs once, its re-runs apart)


def test_mini_run_counts_and_seeds():
    assert {g: len(grid_runs(g, "mini")) for g in GRIDS} == MINI_COUNTS
    assert {s.seed for s in grid_runs("cifar-clean", "mini")} == {0, 1, 2}
    assert {s.seed for s in grid_runs("agnews-noisy", "mini")} == {0, 1, 2}
    assert {s.seed for s in grid_runs("cifar-noisy", "mini")} == {0}
    assert {s.seed for s in grid_runs("cifar-noisy", "thesis")} == {0, 1, 2, 3, 4}
    assert {s.seed for s in grid_runs("ablation-trend", "mini")} == {0, 1}
    assert {s.seed for s in grid_runs("sst2", "thesis")} == {0, 1, 2, 3, 4}
    assert {s.seed for s in grid_runs("peers", "thesis")} == {0, 1, 2, 3, 4}
    assert {s.seed for s in grid_runs("peers", "mini")} == {0}


# Exact thesis parameters of representative cells (protocol 11.1-11.3, 9.5).
EXPECTED = {
    ("cifar-clean", "cifar_clean_aees_linear"): dict(
        control_mode="adaptive", optimizer="AdamW", epochs=200, lr=1e-3, lr_scheduler="linear",
        episode_length=200, lr_candidates=LR3, noise_candidates=N0),
    ("cifar-clean", "cifar_clean_adamw_cosine"): dict(
        control_mode="baseline", optimizer="AdamW", epochs=200, lr=1e-3, lr_scheduler="cosine"),
    ("cifar-clean", "cifar_clean_fixed_lr0p5_n0_none"): dict(
        control_mode="random", optimizer="AdamW", epochs=200, lr=1e-3, episode_length=200,
        lr_candidates=[0.5], noise_candidates=N0),
    ("cifar-noisy", "cifar100_sym40_sgd_cosine_aees"): dict(
        control_mode="adaptive", optimizer="SGD", epochs=200, lr=0.1, momentum=0.9, lr_scheduler="cosine",
        episode_length=200, lr_candidates=LR3, noise_candidates=N0, label_noise_type="symmetric",
        label_noise_rate=0.4),
    ("cifar-noisy", "cifar100_asym20_adamw_fixed_lr2"): dict(
        control_mode="random", optimizer="AdamW", epochs=200, lr=1e-3, episode_length=200,
        lr_candidates=[2.0], noise_candidates=N0, label_noise_type="asymmetric", label_noise_rate=0.2),
    ("cifar-noisy", "cifar100_sym20_sgd_baseline"): dict(
        control_mode="baseline", optimizer="SGD", epochs=200, lr=0.1, momentum=0.9,
        label_noise_type="symmetric", label_noise_rate=0.2),
    ("sst2", "sst2_aees_none"): dict(
        method="AdaptiveScheduler", epochs=5, episode_length=200, lr_candidates=SST2_LR,
        noise_candidates=SST2_N, context_mode="trend"),
    ("sst2", "sst2_aees_noiseonly_warmup_linear"): dict(
        method="AdaptiveScheduler", epochs=5, lr_scheduler="warmup_linear", warmup_epochs=0,
        episode_length=200, lr_candidates=[1.0], noise_candidates=SST2_N, context_mode="trend"),
    ("sst2", "sst2_adamw_warmup_linear"): dict(
        method="AdamW", epochs=5, lr_scheduler="warmup_linear", warmup_epochs=0),
    ("agnews-clean", "agnews_aees_warmup_linear"): dict(
        method="AdaptiveScheduler", epochs=5, lr_scheduler="warmup_linear", warmup_epochs=0,
        episode_length=200, lr_candidates=SST2_LR, noise_candidates=SST2_N),
    ("agnews-noisy", "agnews_noise20_aees_lronly_warmup_linear"): dict(
        method="AdaptiveScheduler", epochs=5, lr_scheduler="warmup_linear", warmup_epochs=0,
        episode_length=200, lr_candidates=LR3, noise_candidates=N0, label_noise_rate=0.2,
        label_noise_seed=42),
    ("agnews-noisy", "agnews_noise20_fixed_sigma0p005_warmup_linear"): dict(
        method="RandomScheduler", epochs=5, lr_scheduler="warmup_linear", warmup_epochs=0,
        episode_length=200, lr_candidates=[1.0], noise_candidates=[0.005], label_noise_rate=0.2,
        label_noise_seed=42),
    ("agnews-noisy", "agnews_noise20_random_sigma_warmup_linear"): dict(
        method="RandomScheduler", epochs=5, lr_scheduler="warmup_linear", warmup_epochs=0,
        episode_length=200, lr_candidates=[1.0], noise_candidates=COARSE_N, label_noise_rate=0.2,
        label_noise_seed=42),
    ("ablation-penalty", "noisy_penalty_0p1"): dict(
        control_mode="adaptive", optimizer="AdamW", epochs=200, lr=1e-3, episode_length=200,
        lr_candidates=LR3, noise_candidates=N0, reward_instability_lambda=0.1,
        label_noise_type="symmetric", label_noise_rate=0.2),
    ("ablation-trend", "sst2_context_none"): dict(
        method="AdaptiveScheduler", epochs=5, episode_length=200, lr_candidates=SST2_LR,
        noise_candidates=SST2_N),
    ("ablation-cifar-noise", "sym20_smallnoise_trend"): dict(
        control_mode="adaptive", optimizer="AdamW", epochs=100, lr=1e-3, episode_length=200,
        lr_candidates=LR3, noise_candidates=[0.0, 0.0025, 0.005], context_mode="trend",
        label_noise_type="symmetric", label_noise_rate=0.2),
    ("compute-overhead", "cifar_clean_sgd_aees_noise_only_cosine"): dict(
        control_mode="adaptive", optimizer="SGD", epochs=20, lr=0.1, momentum=0.9, lr_scheduler="cosine",
        episode_length=200, lr_candidates=[1.0], noise_candidates=[0.0, 0.0025, 0.005]),
    ("compute-overhead", "agnews_clean_adamw_baseline_warmup_linear"): dict(
        method="AdamW", epochs=3, lr_scheduler="warmup_linear", warmup_epochs=0),
}


@pytest.mark.parametrize(("grid", "cell"), list(EXPECTED))
def test_thesis_parameters_of_representative_cells(grid, cell):
    assert _params(grid, cell) == EXPECTED[(grid, cell)]


def test_every_run_resolves_and_validates_in_both_profiles():
    for profile in ("thesis", "mini"):
        for g in GRIDS:
            for spec in grid_runs(g, profile):
                params = {k: v for k, v in spec.parameters.items() if k not in ("profile", "run_id")}
                cfg = config.resolve(spec.task, profile, params)
                assert cfg.seed == spec.seed and spec.parameters["profile"] == profile
                assert spec.parameters["output"].endswith(f"{profile}/{g}/{spec.name}.json")


def test_thesis_horizons_and_episode_lengths():
    for g in GRIDS:
        for cell in GRIDS[g].cells:
            p = cell.parameters("thesis")
            main = {"cifar100": 200, "sst2": 5, "agnews": 5}[cell.task]
            want = {"ablation-cifar-noise": 100, "compute-overhead": 20 if cell.task == "cifar100" else 3}
            assert p["epochs"] == want.get(g, main), (g, cell.name)
            # episode-managed runs use 200; baselines keep the runner default
            assert p.get("episode_length") == (200 if cell.managed else None), (g, cell.name)
            if cell.task == "cifar100":
                assert (p["optimizer"], p["lr"]) in (("AdamW", 1e-3), ("SGD", 0.1), ("ScheduleFreeAdamW", 1e-3),
                                                     ("Prodigy", 1.0))
                assert p.get("momentum", 0.9) == 0.9


def test_context_per_task_and_wl_has_zero_warmup():
    for g in ("sst2", "agnews-clean", "agnews-noisy"):
        for cell in GRIDS[g].cells:
            if cell.managed:
                assert cell.params.get("context_mode", "none") == ("trend" if g == "sst2" else "none")
            if cell.params.get("lr_scheduler") == "warmup_linear":
                assert cell.params["warmup_epochs"] == 0


def test_mini_keeps_method_parameters_and_lets_the_profile_scale():
    for g in GRIDS:
        for cell in GRIDS[g].cells:
            thesis, mini = cell.parameters("thesis"), cell.parameters("mini")
            assert "episode_length" not in mini
            assert {k: v for k, v in thesis.items() if k not in ("epochs", "episode_length")} == \
                {k: v for k, v in mini.items() if k != "epochs"}
    # horizons that differ from the main one are scaled from the profile's epochs (>= 2)
    assert _params("compute-overhead", "cifar_clean_adamw_baseline_none", "mini")["epochs"] == max(
        2, round(config.PROFILES["mini"]["cifar100"]["epochs"] * 20 / 200))
    assert _params("compute-overhead", "sst2_clean_adamw_aees_both_none", "mini")["epochs"] == max(
        2, round(config.PROFILES["mini"]["sst2"]["epochs"] * 3 / 5))
    assert _params("ablation-cifar-noise", "sym20_lronly_trend", "mini")["epochs"] == round(
        config.PROFILES["mini"]["cifar100"]["epochs"] / 2)
    assert "epochs" not in _params("cifar-noisy", "cifar100_sym40_adamw_aees", "mini")


def test_compute_overhead_repeats_are_distinct_runs_of_seed_0():
    specs = [s for s in grid_runs("compute-overhead", "thesis", seeds=(3, 4))
             if s.cell == "cifar_clean_adamw_aees_both_none"]
    assert [s.name for s in specs] == ["cifar_clean_adamw_aees_both_none_seed0",
                                       "cifar_clean_adamw_aees_both_none_seed0_run2",
                                       "cifar_clean_adamw_aees_both_none_seed0_run3"]
    assert [s.parameters["run_tag"] for s in specs] == ["run1", "run2", "run3"]
    assert {s.seed for s in specs} == {0}


def test_seed_override_and_selection():
    assert {s.seed for s in grid_runs("cifar-clean", "mini", parse_seeds("2 5"))} == {2, 5}
    assert select_grids("all") == list(GRIDS) and select_grids("sst2, cifar-clean") == ["cifar-clean", "sst2"]
    with pytest.raises(GridError, match="unknown grid"):
        select_grids("cifar")
    with pytest.raises(GridError, match="SEEDS"):
        parse_seeds("0 x")


def test_no_two_runs_share_an_output():
    outs = [s.parameters["output"] for g in GRIDS for s in grid_runs(g, "thesis")]
    assert len(outs) == len(set(outs))


def _record(spec) -> dict:
    """The identification-relevant part of the RunResult this run will write."""
    params = {k: v for k, v in spec.parameters.items() if k not in ("profile", "run_id")}
    cfg = config.as_dict(config.resolve(spec.task, spec.profile, params))
    block = {**cfg, "profile": spec.profile, "task_name": spec.task}
    if spec.task == "cifar100":
        method = {"baseline": "Baseline", "adaptive": "AdaptiveScheduler", "random": "RandomScheduler"}
        block.update(optimizer_family=cfg["optimizer"], base_lr=cfg["lr"])
        return {"method_name": method[cfg["control_mode"]], "task_name": "cifar100", "seed": spec.seed,
                "config": block}
    block["label_noise_type"] = "symmetric" if cfg.get("label_noise_rate", 0) > 0 else "none"
    return {"method_name": cfg["method"], "task_name": spec.task, "seed": spec.seed, "config": block}


def test_identify_names_every_cell_as_its_thesis_row():
    for g in GRIDS:
        for spec in grid_runs(g, "thesis", seeds=(0,)):
            if spec.repeat > 1:
                continue
            row = identify(_record(spec))
            cell = GRIDS[g].cell(spec.cell)
            assert (row["method"], row["setting"], row["optimizer"]) == (cell.label, cell.setting, cell.optimizer), \
                (g, cell.name)
            for key, value in cell.expect.items():
                assert row[key] == value, (g, cell.name, key)


def _labels(grid: str, **where) -> list[str]:
    rows = [(c.label, c.setting, c.optimizer) for c in GRIDS[grid].cells]
    rows += [(a.label, a.setting, a.optimizer) for a in GRIDS[grid].aliases]
    keep = [r for r in rows if all(r[{"setting": 1, "optimizer": 2}[k]] == v for k, v in where.items())]
    return [r[0] for r in keep]


def test_grids_cover_the_rows_of_the_thesis_tables():
    assert set(_labels("cifar-clean")) == set(ROW_ORDERS["T3"]) | {"Fixed ×1.0"}
    assert set(ROW_ORDERS["T1"]) | set(ROW_ORDERS["T2"]) <= set(_labels("cifar-clean"))
    for setting in ("asym20", "sym20", "sym40"):
        for opt in ("AdamW", "SGD"):
            assert sorted(_labels("cifar-noisy", setting=setting, optimizer=opt)) == sorted(ROW_ORDERS["T9"])
    assert set(_labels("sst2")) == set(ROW_ORDERS["T15"]) | set(ROW_ORDERS["T16"])
    assert sorted(_labels("agnews-clean")) == sorted(ROW_ORDERS["T17"])
    noisy = set(_labels("agnews-noisy"))
    assert set(ROW_ORDERS["T18"]) | set(ROW_ORDERS["T19"]) | set(ROW_ORDERS["T21"]) == noisy


def test_aliases_point_at_existing_runs_and_are_not_trained():
    rows = alias_rows("cifar-noisy", "thesis")
    assert len(rows) == 6 * 5
    row, target = next((r, t) for r, t in rows if r["name"] == "cifar100_sym40_sgd_fixed_lr1_seed3")
    assert row["label"] == "Fixed ×1.0" and target.name == "cifar100_sym40_sgd_baseline_seed3"
    assert row["same_as"].endswith("thesis/cifar-noisy/cifar100_sym40_sgd_baseline_seed3.json")
    for g in GRIDS:
        names = {s.name for s in grid_runs(g, "thesis")}
        for row, target in alias_rows(g, "thesis"):
            assert row["name"] not in names  # an alias is never a run of its own
            assert target.cell in {c.name for c in GRIDS[target.grid].cells}
    penalty = {r["name"]: t.grid + "/" + t.cell for r, t in alias_rows("ablation-penalty", "thesis", (0,))}
    assert penalty == {"clean_penalty_0p0_seed0": "cifar-clean/cifar_clean_aees_none",
                       "noisy_penalty_0p0_seed0": "cifar-noisy/cifar100_sym20_adamw_aees"}
    trend = {r["name"]: t.grid + "/" + t.cell for r, t in alias_rows("ablation-trend", "thesis", (0,))}
    assert trend["sst2_context_trend_seed0"] == "sst2/sst2_aees_none"


def test_peers_grid_has_every_row_of_x3_and_aliases_the_thesis_rows():
    from lib.analysis.peers import BLOCKS, _rows

    grid = GRIDS["peers"]
    for block in BLOCKS:
        _, task, setting, _ = block
        have = {(c.label, c.optimizer) for c in grid.cells if c.task == task and c.setting == setting}
        have |= {(a.label, a.optimizer) for a in grid.aliases if a.setting == setting
                 and GRIDS[a.grid].cell(a.cell).task == task}
        assert {(m, opt) for m, opt, _ in _rows(block)} == have, block[0]
    assert not {a.grid for a in grid.aliases} & {"peers"}  # thesis runs are aliased, never re-run
    assert all(c.params.get("lr", 1.0) == 1.0 for c in grid.cells if c.optimizer == "Prodigy")
