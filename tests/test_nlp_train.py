"""The SST-2 / AG News run phases (lib.train.text) on tiny offline stand-ins: pretokenize_only,
the recorded keys, per-step scheduling, FLOPs, label noise, seeding and determinism."""

import json
import math

import pytest
import torch

from lib import config
from lib.results import distilbert_eval_flops
from lib.train import text as T
from protocol_keys import NLP_CONFIG_KEYS, NOT_NLP_KEYS

TINY = {"epochs": 2, "episode_length": 5, "standin_n_train": 160, "batch_size": 16, "checkpoint_every": 0}
SIZES = {"sst2": {"standin_n_validation": 40}, "agnews": {"standin_n_test": 20}}


@pytest.fixture
def isolated(tmp_path, monkeypatch):
    """Stand-ins, tokenized caches and the HF cache under tmp_path (never the repo's data/)."""
    monkeypatch.setattr(T, "DATA_DIR", tmp_path / "data")
    return tmp_path


def make_cfg(task, tmp, **params):
    return config.resolve(task, "mini", {**TINY, **SIZES[task], "cache_dir": str(tmp / "hf"), **params})


def run_all(cfg, out=None):
    run = T.start(cfg)
    T.load_data(run)
    T.build_model(run)
    T.build_optimization(run)
    T.fit(run)
    return run, T.finish(run, out)


@pytest.mark.parametrize(("task", "noise"), [("sst2", {}), ("agnews", {"label_noise_rate": 0.2})])
def test_pretokenize_only_writes_caches_and_no_result(isolated, capsys, task, noise):
    out = isolated / "result.json"
    run, result = run_all(make_cfg(task, isolated, pretokenize_only=True, **noise), out)
    assert result is None and run.stopped and run.model is None and run.optimizer is None
    assert not out.exists() and not list(isolated.rglob("*.json.tmp"))
    tok = isolated / "data" / f"{task}-standin_tokenized"
    dirs = sorted(p.name.split("-")[0] for p in tok.iterdir() if p.is_dir())
    want = {"sst2": ["train", "validation"],
            "agnews": ["test", "train_splitseed42", "train_splitseed42_noise0p2_noiseseed42",
                       "validation_splitseed42"]}[task]
    assert dirs == want
    assert all((tok / f"{p.name}.json").is_file() for p in tok.iterdir() if p.is_dir())  # cache keys
    printed = capsys.readouterr().out
    assert printed.count("pretokenize_only:") >= 5 and "skipped" in printed


def test_run_records_every_nlp_key_and_steps_the_schedule_per_step(isolated):
    cfg = make_cfg("sst2", isolated, lr_scheduler="linear")
    run, result = run_all(cfg, isolated / "r.json")
    saved = json.loads((isolated / "r.json").read_text())
    assert NLP_CONFIG_KEYS <= set(saved["config"]) and not NOT_NLP_KEYS & set(saved["config"])
    c = saved["config"]
    steps = math.ceil(160 / 16) * 2
    assert saved["total_steps"] == steps == c["scheduler_span_steps"] and c["scheduler_t_max"] is None
    assert c["scheduler_step_unit"] == "optimizer_step" and c["scheduler_active"]
    assert (c["label_noise_rate"], c["label_noise_seed"], c["label_noise_type"]) == (0.0, 42, "none")
    assert c["dataset_name"] == "GLUE SST-2" and saved["dataset_name"] == "GLUE SST-2 (offline stand-in)"
    assert saved["method_name"] == "AdamW" and saved["episode_logs"] is None
    assert c["cache_dir"] == str(isolated / "hf")
    # linear, per step: LR at the start of epoch e is base * (1 - e*10/20); after the last step 0.
    assert saved["epoch_lrs"] == pytest.approx([5e-4, 2.5e-4])
    assert run.optimizer.param_groups[0]["lr"] == pytest.approx(0.0, abs=1e-15)
    # FLOPs: the thesis formula on padded batch lengths; eval is the same every epoch.
    h, f = 768, 3072
    evals = sum(len(b["labels"]) * (6 * (4 * t * h * h + 2 * t * t * h + 2 * t * h * f) + 2 * t * h + 2 * h * 2)
                for b in run.val_loader for t in [b["input_ids"].shape[1]])
    assert evals == pytest.approx(sum(distilbert_eval_flops(len(b["labels"]), b["input_ids"].shape[1])
                                      for b in run.val_loader))
    assert run.flops.eval_flops == pytest.approx(2 * evals)
    assert run.flops.train_flops > 3 * evals and sum(saved["epoch_tflops"]) * 1e12 == pytest.approx(
        saved["estimated_flops"])
    assert "2 labels" in saved["estimated_flops_note"]
    assert all(n > 0 for n in saved["epoch_train_tokens"]) and len(saved["epoch_train_tokens_per_second"]) == 2


def test_noisy_agnews_aees_run_records_noise_and_subset_accuracies(isolated):
    cfg = make_cfg("agnews", isolated, method="AdaptiveScheduler", label_noise_rate=0.2,
                   lr_candidates="0.5,1,2", noise_candidates="0,0.005", lr_scheduler="warmup_linear")
    run, result = run_all(cfg, isolated / "a.json")
    c = result["config"]
    assert (c["label_noise_type"], c["label_noise_rate"], c["label_noise_seed"]) == ("symmetric", 0.2, 42)
    block = c["diagnostics"]["label_noise"]
    assert block["num_train_examples"] == 144 and block["num_corrupted_examples"] == round(0.2 * 144)
    assert sum(block["corrupted_mask"]) == block["num_corrupted_examples"]
    subset = result["epoch_subset_train_accuracies"]
    assert set(subset) == set(T.SUBSET_KEYS) and all(len(v) == 2 for v in subset.values())
    assert all(0.0 <= x <= 1.0 for v in subset.values() for x in v)
    steps = math.ceil(144 / 16) * 2  # 18 steps: 3 episodes of 5 and one of 3
    logs = result["episode_logs"]
    assert result["total_steps"] == steps and logs["episode_end_steps"] == [4, 9, 14, 17]
    assert result["controller_logs"]["_logged_episode_count"] == 4
    assert c["candidate_config_names"] == ["lr0p5_n0", "lr0p5_n0p005", "lr1_n0", "lr1_n0p005",
                                           "lr2_n0", "lr2_n0p005"]
    assert not {"control_mode", "control_regime", "optimizer"} & set(c)


def test_seed_draws_the_head_and_the_order_and_runs_repeat(isolated):
    def model(seed):
        run = T.start(make_cfg("sst2", isolated, seed=seed))
        T.load_data(run)
        T.build_model(run)
        return run.model.state_dict()

    a, b, c = model(0), model(0), model(1)
    assert torch.equal(a["classifier.weight"], b["classifier.weight"])
    assert not torch.equal(a["classifier.weight"], c["classifier.weight"])
    assert torch.equal(a["distilbert.embeddings.word_embeddings.weight"],
                       c["distilbert.embeddings.word_embeddings.weight"])  # pretrained part
    params = {"method": "RandomScheduler", "noise_candidates": "0,0.001", "seed": 3}
    _, r1 = run_all(make_cfg("sst2", isolated, **params), isolated / "1.json")
    _, r2 = run_all(make_cfg("sst2", isolated, **params), isolated / "2.json")
    for key in ("train_losses", "val_accuracies", "episode_logs"):
        assert r1[key] == r2[key], key
    assert r1["controller_logs"]["noise_controller_logs"]["controller_type"] == "RandomController"
    assert "non_contextual_random_note" in r1["controller_logs"]


def test_group_by_length_pads_less_and_keeps_every_example(isolated):
    plain, _ = run_all(make_cfg("agnews", isolated, epochs=1), isolated / "p.json")
    grouped, res = run_all(make_cfg("agnews", isolated, epochs=1, group_by_length=True), isolated / "g.json")
    assert res["config"]["group_by_length"] and res["total_steps"] == plain.stepper.global_step
    assert res["epoch_train_tokens"] == plain.metrics["epoch_train_tokens"]  # same examples, same tokens
    assert grouped.flops.train_flops < plain.flops.train_flops  # shorter padded batches


def test_offline_thesis_run_without_caches_fails_clearly_before_training(isolated):
    cfg = config.resolve("sst2", "thesis", {"local_files_only": True, "cache_dir": str(isolated / "hf"),
                                            "tokenized_dataset_dir": str(isolated / "tok")})
    run = T.start(cfg)
    with pytest.raises(FileNotFoundError, match="local_files_only=True"):
        T.load_data(run)
    assert run.model is None


def test_resume_from_a_mid_run_checkpoint_is_identical(isolated, monkeypatch):
    """A run that dies in epoch 2 resumes from its epoch-1 checkpoint and ends exactly like the
    uninterrupted run (the SIGKILL version of this test is tests/test_resume.py, for CIFAR)."""
    from lib.train import checkpoint

    params = {"method": "AdaptiveScheduler", "lr_candidates": "0.5,1,2", "noise_candidates": "0,1e-5",
              "episode_length": 7, "checkpoint_every": 1, "label_noise_rate": 0.2}
    _, ref = run_all(make_cfg("agnews", isolated, **params, output=str(isolated / "ref.json")))
    real_evaluate, calls = T._evaluate, []

    def dying_evaluate(run):
        calls.append(1)
        if len(calls) == 2:
            raise KeyboardInterrupt("killed in epoch 2")
        return real_evaluate(run)

    monkeypatch.setattr(T, "_evaluate", dying_evaluate)
    with pytest.raises(KeyboardInterrupt):
        run_all(make_cfg("agnews", isolated, **params, output=str(isolated / "res.json")))
    monkeypatch.setattr(T, "_evaluate", real_evaluate)
    ckpt = checkpoint.checkpoint_path(isolated / "res.json")
    assert ckpt.exists() and not (isolated / "res.json").exists()
    _, res = run_all(make_cfg("agnews", isolated, **params, output=str(isolated / "res.json")))
    for key in ("train_losses", "val_accuracies", "episode_logs", "controller_logs", "total_steps",
                "estimated_flops", "measured_flops", "epoch_lrs", "epoch_subset_train_accuracies"):
        assert ref[key] == res[key], key
    assert not ckpt.exists()
