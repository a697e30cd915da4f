"""AEES wiring and controller-log snapshots (protocol 5 and 7.5) on a tiny model."""

import torch
from pulseopt import AEES

from lib import config
from lib.control import build_aees, build_optimizer, candidate_blocks, episode_logs
from lib.control.wiring import build_control


def drive(params, steps=23, aees_class=AEES):
    cfg = config.resolve("cifar100", "mini", {"control_mode": "adaptive", "episode_length": 5, **params})
    torch.manual_seed(0)
    model = torch.nn.Linear(4, 3)
    opt = build_optimizer(model.parameters(), cfg.optimizer, cfg.lr, cfg.weight_decay, cfg.momentum)
    control = build_control(opt, cfg, aees_class=aees_class)
    aees, logger, stepper = control.aees, control.logger, control.stepper
    x, y = torch.randn(32, 4), torch.randint(0, 3, (32,))
    for _ in range(steps):
        stepper.start()
        loss = torch.nn.functional.cross_entropy(model(x), y)
        loss.backward()
        stepper.finish(loss)
    stepper.finalize()
    return aees, logger.logs()


def test_lr_only_ucb_histories_and_fixed_noise_axis():
    aees, logs = drive({"lr_candidates": "0.5,1,2"})
    assert logs["_logged_episode_count"] == 5  # 4 full episodes of 5 + one partial of 3
    lr = logs["lr_controller_logs"]
    assert lr["controller_type"] == "DiscountedUCBController" and lr["controller_created"]
    assert lr["arm_values"] == [0.5, 1.0, 2.0]
    assert lr["controller_updates_history"] == [1, 2, 3, 4, 5]
    assert len(lr["value_estimates_history"]) == 5
    assert set(lr["value_estimates_history"][0]) == {"0.5", "1.0", "2.0"}
    # warm-up: each arm tried once during the first three episodes
    assert sorted(episode_logs(aees)["selected_lr_indices"][:3]) == [0, 1, 2]
    noise = logs["noise_controller_logs"]
    assert noise == {"axis_name": "noise", "arm_values": [0.0], "controller_created": False,
                     "controller_type": "FixedAxis", "fixed_arm_value": 0.0}


def test_conditional_mode_logs_one_noise_controller_per_lr_arm():
    _, logs = drive({"lr_candidates": "0.5,1", "noise_candidates": "0,0.01",
                     "structured_control_mode": "conditional"})
    by_lr = logs["noise_controller_logs_by_lr"]
    assert set(by_lr) == {"0.5", "1.0"} and "noise_controller_logs" not in logs
    assert by_lr["0.5"]["conditioned_on_lr_value"] == 0.5
    total = sum(v["controller_updates_history"][-1] for v in by_lr.values())
    assert total == 5  # only the controller of the chosen LR arm is updated


def test_trend_context_logs_buckets_and_null_for_unvisited():
    aees, logs = drive({"lr_candidates": "0.5,1,2", "context_mode": "trend"})
    lr = logs["lr_controller_logs"]
    assert lr["controller_type"] == "BucketedContextualController"
    assert lr["context_bucket_names"] == ["improving", "stable", "worsening"]
    assert len(lr["global_prior_logs"]["controller_updates_history"]) == 5
    buckets = episode_logs(aees)["context_buckets"]
    assert buckets[0] == "stable"  # fewer than 2 episode-end losses
    for name, blog in lr["bucket_controller_logs"].items():
        first_visit = buckets.index(name) if name in buckets else 5
        assert blog["value_estimates_history"][:first_visit] == [None] * first_visit


def test_random_mode_note_and_no_histories():
    _, logs = drive({"control_mode": "random", "lr_candidates": "0.5,1,2"})
    assert "non_contextual_random_note" in logs
    assert logs["lr_controller_logs"]["controller_type"] == "RandomController"
    assert "value_estimates_history" not in logs["lr_controller_logs"]


def test_baseline_has_no_aees_and_candidate_names_are_lr_major():
    cfg = config.resolve("cifar100", "mini")
    opt = build_optimizer([torch.nn.Parameter(torch.zeros(1))], "SGD", 0.1, 0.0)
    assert build_aees(opt, "baseline", cfg) is None and episode_logs(None) is None
    names = candidate_blocks([0.5, 1.0], [0.0, 0.005])["candidate_config_names"]
    assert names == ["lr0p5_n0", "lr0p5_n0p005", "lr1_n0", "lr1_n0p005"]


def test_seeds_follow_protocol_5_2():
    from lib.control.internals import controllers_of
    aees, _ = drive({"lr_candidates": "0.5,1", "noise_candidates": "0,0.01", "seed": 7}, steps=1)
    lr_ctrl, noise_ctrl = controllers_of(aees)
    assert lr_ctrl.random_seed == 7 and noise_ctrl.random_seed == 108


def test_flop_measurement_leaves_model_and_rng_untouched():
    from lib.train.common import measure_step_flops

    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(8, 16), torch.nn.Dropout(0.5), torch.nn.Linear(16, 3))
    before = {k: v.clone() for k, v in model.state_dict().items()}
    x, y = torch.randn(4, 8), torch.zeros(4, dtype=torch.long)
    rng = torch.get_rng_state()
    out = measure_step_flops(model, (x, y), lambda m, b: torch.nn.functional.cross_entropy(m(b[0]), b[1]))
    assert torch.equal(torch.get_rng_state(), rng)
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())
    assert all(p.grad is None for p in model.parameters())
    # 2 matmuls forward (2*4*8*16 + 2*4*16*3) and about twice that backward
    forward = 2 * 4 * 8 * 16 + 2 * 4 * 16 * 3
    assert out["measured_flops_per_step"] >= 2 * forward
    assert out["measured_eval_flops_per_example"] == forward / 4
