"""Checkpoint/resume: a run killed with SIGKILL and rerun gives the uninterrupted run's RunResult."""

import dataclasses
import json
import os
import signal
import subprocess
import sys

import pytest

from tests import kill_child

# SIGKILL itself just before optimizer step sys.argv[3] (0-based) when given
SCRIPT = kill_child.script(
    """profile="mini", epochs=5, episode_length=3, standin_n_train=256, standin_n_test=128,
              model_width=8, batch_size=64, control_mode="adaptive", lr_candidates="0.5,1,2",
              noise_candidates="0,0.01", label_noise_type="symmetric", label_noise_rate=0.4,
              seed=2, checkpoint_every=1, output=sys.argv[1], optimizer=sys.argv[2]""", kill_arg=3)

COMPARED = ("train_losses", "train_accuracies", "val_accuracies", "episode_logs", "controller_logs",
            "epoch_subset_train_accuracies", "peak_checkpoint_diagnostics", "total_steps",
            "best_val_accuracy", "final_val_accuracy", "estimated_flops", "epoch_tflops", "epoch_lrs")


def _start(out, env, optimizer, *kill_at):
    return subprocess.Popen([sys.executable, "-c", SCRIPT, str(out), optimizer, *map(str, kill_at)], env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


@pytest.mark.slow
@pytest.mark.parametrize("optimizer", ["AdamW", "ScheduleFreeAdamW", "Prodigy"])
def test_sigkill_mid_epoch_and_episode_then_resume_is_identical(tmp_path, optimizer):
    """AEES on each base optimizer; the peers' state (Schedule-Free: z, the step count k, the averaging
    weights, train/eval mode; Prodigy: d, d_max, the D-estimate numerator, s, x0) is in the optimizer's
    state_dict, and Schedule-Free's checkpoint holds the training weights y exactly."""
    env = {**os.environ, "AEES_DATA_DIR": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    ref, out = tmp_path / "ref.json", tmp_path / "out.json"
    proc = _start(ref, env, optimizer)
    assert proc.wait(timeout=300) == 0, proc.stdout.read()

    ckpt = tmp_path / "out.json.ckpt"
    # 4 steps per epoch, episodes of 3: the epoch-1 checkpoint is taken after step 3, inside
    # episode 2 (steps 3-5); the run dies before step 5, in epoch 2 and still in episode 2.
    proc = _start(out, env, optimizer, 5)
    log = proc.communicate(timeout=300)[0]
    assert proc.returncode == -signal.SIGKILL, log
    assert "epoch   1/5" in log and "epoch   2/5" not in log
    assert not out.exists() and ckpt.exists()

    proc = _start(out, env, optimizer)
    log = proc.communicate(timeout=300)[0]
    assert proc.returncode == 0, log
    assert "resumed from out.json.ckpt after epoch" in log
    a, b = json.loads(ref.read_text()), json.loads(out.read_text())
    for key in COMPARED:
        assert a[key] == b[key], key
    assert a["config"]["diagnostics"] == b["config"]["diagnostics"]
    assert a["config"].get("peer_optimizer") == b["config"].get("peer_optimizer")  # Prodigy: final d too
    assert not ckpt.exists()  # a finished run deletes its checkpoint


def _built_run(tmp_path, monkeypatch, **params):
    """A tiny mini CIFAR run through phases 1-4 (data in ``tmp_path``)."""
    from lib import config
    from lib.train import cifar as T

    monkeypatch.setattr(T, "DATA_DIR", tmp_path / "data")
    base = dict(epochs=1, standin_n_train=128, standin_n_test=100, model_width=4, batch_size=64,
                output=str(tmp_path / "r.json"))
    run = T.start(config.resolve("cifar100", "mini", {**base, **params}))
    T.load_data(run), T.build_model(run), T.build_optimization(run)
    return run


def test_checkpoint_of_another_configuration_is_refused(tmp_path, monkeypatch):
    from lib.train import checkpoint

    checkpoint.save(_built_run(tmp_path, monkeypatch), tmp_path / "c.ckpt")
    other = _built_run(tmp_path, monkeypatch, lr=0.01)
    with pytest.raises(RuntimeError, match="different configuration.*lr"):
        checkpoint.load(other, tmp_path / "c.ckpt")


def test_a_field_the_checkpoint_predates_counts_at_its_default(tmp_path, monkeypatch):
    """A checkpoint written before a config field existed resumes a run that leaves that field at its
    declared default, and is refused by a run that sets it otherwise (here: ``machinery``)."""
    from lib.train import checkpoint

    run = _built_run(tmp_path, monkeypatch)
    checkpoint.save(run, tmp_path / "c.ckpt")
    state = checkpoint.read(run, tmp_path / "c.ckpt")
    del state["config"]["machinery"]  # as written before the field existed
    checkpoint.load(run, tmp_path / "c.ckpt", state)  # default "project": resumes
    assert run.cfg.machinery == "project"
    run.cfg = dataclasses.replace(run.cfg, machinery="thesis")
    with pytest.raises(RuntimeError, match=r"different configuration \(machinery\)"):
        checkpoint.load(run, tmp_path / "c.ckpt", state)
