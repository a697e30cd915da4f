"""Watching a campaign (lib.watch, lib.train.live, lib.train.board): run states, time left, the thesis's
numbers beside a thesis-profile run, TensorBoard scalars. The make -j grid watched mid-run is
tests/test_watch_make.py; the Slurm one is in tests/test_slurm.py."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time

import pytest

from lib import ROOT
from lib.grids import GRIDS, manifest
from lib.grids.slurm import state as slurm_state
from lib.train import board, live
from lib.watch import report, runs, thesis
from lib.watch.__main__ import main as watch_main
from tests import kill_child

HOST = socket.gethostname()


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _record(epoch=5, epochs=20, spe=10.0, age=1.0, pid=None, host=HOST, now=1000.0, **kw):
    rec = {"format": live.FORMAT, "epoch": epoch, "epochs": epochs, "val": 0.41, "best": 0.45, "best_epoch": 4,
           "lr": 1e-3, "arm": {"lr": 2.0, "sigma": 0.0}, "started": now - 100, "pid": pid or os.getpid(),
           "host": host, "slurm_task": None, "resumed_at": 0, "seconds_per_epoch": spe, "time": now - age}
    return {**rec, **kw}


def _entry(name="r_seed0", status="pending", **kw):
    return {"name": name, "cell": "c", "task": "cifar100", "status": status, "output": f"results/x/g/{name}.json",
            "command": f"python -m lib.grids exec results/x/g/{name}.json -- papermill ...", "parameters": {}, **kw}


def test_live_record_is_small_atomic_json_with_a_windowed_pace(tmp_path, monkeypatch):
    clock = iter([100.0, 110.0, 130.0])
    monkeypatch.setattr(live.time, "time", lambda: next(clock))
    rec = live.Live(tmp_path / "r.json", epochs=50)
    rec.start(0)
    first = live.read(live.path_of(tmp_path / "r.json"))
    assert first["epoch"] == 0 and first["val"] is None and first["seconds_per_epoch"] is None
    assert first["pid"] == os.getpid() and first["host"] == HOST
    rec.epoch_end(1, 0.2, 0.2, 1, 1e-3, None)
    rec.epoch_end(2, 0.3, 0.3, 2, 1e-3, {"lr": 0.5, "sigma": 0.01})
    data = live.read(tmp_path / "r.json.progress")
    assert data["epoch"] == 2 and data["arm"] == {"lr": 0.5, "sigma": 0.01}
    assert data["seconds_per_epoch"] == pytest.approx((130 - 100) / 2)
    assert (tmp_path / "r.json.progress").stat().st_size < 400
    assert [p.name for p in tmp_path.iterdir()] == ["r.json.progress"]  # no temporary file left
    (tmp_path / "bad.json.progress").write_text("{not json")
    assert live.read(tmp_path / "bad.json.progress") is None
    (tmp_path / "bad.json.progress").write_text(json.dumps({"format": live.FORMAT, "epoch": 3}))
    assert live.read(tmp_path / "bad.json.progress") is None
    assert set(runs.records(tmp_path)) == {"r.json"}


@pytest.mark.parametrize(("entry", "record", "state", "words"), [
    (_entry(), _record(), "running", []),
    (_entry(), _record(age=31.0), "stalled", ["no new epoch for 31 s (3 × its 10.0 s per epoch)"]),
    (_entry(), _record(age=29.0), "running", []),
    (_entry(), _record(pid=-1), "dead", ["gone after epoch 5/20 without a RunResult", "no longer exists"]),
    (_entry(reason="interrupted"), _record(pid=-1), "dead", ["(interrupted)"]),
    (_entry(status="failed", error="ValueError: boom"), _record(pid=-1), "failed", ["boom"]),
    (_entry(status="failed", error="nbclient.exceptions.DeadKernelError: Kernel died"), _record(pid=-1), "dead",
     ["no longer exists"]),
    (_entry(status="failed", error="DeadKernelError: Kernel died"), None, "dead", ["its kernel died"]),
    (_entry(), _record(host="node-17"), "running", ["on host node-17"]),
    (_entry(), None, "pending", []),
    (_entry(status="finished"), _record(pid=-1), "finished", []),
])
def test_run_states_from_manifest_record_and_process(entry, record, state, words):
    if record is not None and record["pid"] == -1:
        record["pid"] = _dead_pid()
    v = runs.view(entry, record, None, HOST, now=1000.0)
    assert v.state == state, v.detail
    for w in words:
        assert w in v.detail


def test_slurm_states_decide_alive_or_dead():
    rec = _record(host="node-3")
    job = "41_0"
    assert runs.view(_entry(), rec, slurm_state.RunState("running", job), HOST, 1000.0).state == "running"
    assert runs.view(_entry(), _record(age=100), slurm_state.RunState("running", job), HOST, 1000.0).state == "stalled"
    assert runs.view(_entry(), None, slurm_state.RunState("queued", job, "PENDING (Priority)"), HOST, 1000.0).state == \
        "queued"
    gone = slurm_state.RunState("failed", job, "Slurm task ended without a result: CANCELLED (exit 0:15)")
    v = runs.view(_entry(), rec, gone, HOST, 1000.0)
    assert v.state == "dead" and "CANCELLED" in v.detail and "(task 41_0)" in v.detail
    first, alone = runs.resume_lines(v, "g", "thesis")
    assert first == "resume (from epoch 0) on Slurm: make runs GRID=g PROFILE=thesis LAUNCHER=slurm RETRY=1"
    assert alone.startswith("or here: python -m lib.grids exec")
    failed = runs.view(_entry(status="failed", error="ValueError: boom"), rec,
                       slurm_state.RunState("failed", job, "ValueError: boom"), HOST, 1000.0)
    assert failed.state == "failed"


def test_dead_run_resume_command_names_its_checkpoint(tmp_path):
    out = tmp_path / "r_seed0.json"
    entry = _entry(output=str(out), retry=f"python -m lib.grids exec {out} -- papermill x")
    v = runs.view(entry, _record(pid=_dead_pid()), None, HOST, 1000.0)
    assert runs.resume_lines(v, "g", "mini") == [f"resume (from epoch 0): python -m lib.grids exec {out} -- papermill x",
                                                  "or with the rest of the grid: make runs GRID=g PROFILE=mini"]
    (tmp_path / "r_seed0.json.ckpt").write_bytes(b"x")
    assert runs.resume_lines(v, "g", "mini")[0].startswith("resume (from its checkpoint): python -m lib.grids exec")


def test_grid_time_left_at_the_current_parallelism():
    now = 1000.0
    views = [runs.view(_entry("a", task="cifar100", cell="c1"), _record(epoch=10, epochs=20, spe=10.0), None, HOST, now),
             runs.view(_entry("b", task="cifar100", cell="c1"), _record(epoch=15, epochs=20, spe=30.0), None, HOST, now),
             runs.view(_entry("c", task="cifar100", cell="c1"), None, None, HOST, now),  # pending: 20 epochs at 20 s
             runs.view(_entry("d", task="sst2", cell="n1"), None, None, HOST, now),  # no sst2 pace: no estimate
             runs.view(_entry("e", status="finished"), None, None, HOST, now)]
    left, working, unknown = runs.eta(views)
    assert (working, unknown) == (2, 1)
    assert left == pytest.approx((10 * 10 + 5 * 30 + 20 * 20) / 2)
    assert runs.eta(views[2:]) == (None, 0, 0)  # nothing running: no estimate


def test_durations_and_progress_text():
    assert [report.duration(s) for s in (42, 725, 3 * 3600 + 480, 2 * 86400 + 5 * 3600)] == \
        ["42 s", "12 m 5 s", "3 h 8 m", "2 d 5 h"]
    text = report.progress_text(_record(epoch=5, epochs=20, spe=10.0, age=0.0), now=1000.0)
    assert text.startswith("epoch 5/20  val 41.00 %  best 45.00 % @4  lr 1.00e-03 arm ×2  10.0 s/epoch  finish ~")
    assert text.endswith("(in 2 m 30 s)")
    assert "first epoch running" in report.progress_text(_record(epoch=0, val=None, spe=None), 1000.0)


NUMBERS = {"table": "T4", "label": "AEES", "block": "asym20 AdamW", "n": 5, "peak_epoch": [60.0, 10.0],
           "best": [53.1, 0.4], "final": [40.2, 1.1]}


def test_on_track_only_judged_past_the_thesis_mean_peak():
    text, off = thesis.verdict(NUMBERS, 40, 0.30)
    assert not off and "checked once past epoch 60" in text
    assert "peak epoch 60 ± 10, best 53.10 ± 0.40 %, final 40.20 ± 1.10 %" in text
    text, off = thesis.verdict(NUMBERS, 61, 0.5191)  # 53.1 - 3 x 0.4 = 51.9
    assert not off and "on track" in text
    text, off = thesis.verdict(NUMBERS, 61, 0.5189)
    assert off and "OFF TRACK: best so far 51.89 % < 53.10 − 3 × 0.40 = 51.90 %" in text


def test_published_numbers_of_thesis_cells_are_cached(tmp_path):
    cells = thesis.published(tmp_path)
    assert cells["cifar-noisy/cifar100_asym20_adamw_aees"]["table"] == "T4"
    assert cells["cifar-clean/cifar_clean_adamw_cosine"]["label"] == "AdamW + Cosine"
    assert "ablation-penalty/noisy_penalty_0p1" not in cells  # T22 publishes no peak epoch
    assert not any(k.startswith(("compute-overhead/", "peers/")) for k in cells)
    cache = tmp_path / "thesis" / thesis.CACHE
    data = json.loads(cache.read_text())
    data["cells"]["cifar-noisy/cifar100_asym20_adamw_aees"]["table"] = "from the cache"
    cache.write_text(json.dumps(data))
    assert thesis.published(tmp_path)["cifar-noisy/cifar100_asym20_adamw_aees"]["table"] == "from the cache"
    data["digest"] = "stale"
    cache.write_text(json.dumps(data))
    assert thesis.published(tmp_path)["cifar-noisy/cifar100_asym20_adamw_aees"]["table"] == "T4"


def test_status_of_a_thesis_grid_shows_the_thesis_numbers_and_flags_a_run_off_track(tmp_path, capsys):
    grid_dir = tmp_path / "thesis" / "cifar-noisy"
    names = ("cifar100_asym20_adamw_aees_seed0", "cifar100_asym20_adamw_baseline_seed0")
    entries = [_entry(n, cell=n.removesuffix("_seed0"), output=str(grid_dir / f"{n}.json"),
                      parameters={"epochs": 200}) for n in names]
    manifest.write(grid_dir, {"grid": "cifar-noisy", "profile": "thesis", "runs": entries})
    now = time.time()
    for n, best in zip(names, (0.40, 0.70)):  # thesis asym20 AdamW: AEES best 61.69 +- 0.67 %, peak epoch 18
        path = live.path_of(grid_dir / f"{n}.json")
        path.write_text(json.dumps(_record(epoch=30, epochs=200, best=best, now=now)))
    assert watch_main(["--profile", "thesis", "--grid", "cifar-noisy", "--results-dir", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert out.startswith("cifar-noisy: 0 finished, 2 running, 0 stalled, 0 dead, 0 queued, 0 failed, 0 pending of 2; ~")
    assert "left at 2 at a time" in out
    lines = out.splitlines()
    aees = lines.index(next(ln for ln in lines if names[0] in ln))
    assert "epoch 30/200  val 41.00 %  best 40.00 % @4" in lines[aees] and "finish ~" in lines[aees]
    assert "thesis T4 AEES asym20 AdamW: peak epoch 18" in lines[aees + 1] and "OFF TRACK" in lines[aees + 1]
    assert "on track (best so far 70.00 %" in out


def test_watch_refreshes_in_place_until_interrupted(tmp_path, monkeypatch, capsys):
    manifest.write(tmp_path / "mini" / "sst2", {"grid": "sst2", "profile": "mini", "runs": [_entry()]})
    sleeps = []

    def sleep(seconds):
        sleeps.append(seconds)
        if len(sleeps) == 2:
            raise KeyboardInterrupt

    monkeypatch.setattr("lib.watch.__main__.time.sleep", sleep)
    assert watch_main(["--grid", "sst2", "--results-dir", str(tmp_path), "--every", "2"]) == 0
    out = capsys.readouterr().out
    assert out.count("\033[H\033[2J") == 2 and out.count("sst2: 0 finished") == 2 and sleeps == [2.0, 2.0]


def test_event_files_and_records_stay_out_of_the_archive():
    paths = ["results/mini/cifar-noisy/tensorboard/r_seed0/events.out.tfevents.1.vm.1.0",
             "results/mini/cifar-noisy/r_seed0.json.progress", "results/thesis/.thesis-numbers.json"]
    r = subprocess.run(["git", "check-ignore", *paths], cwd=ROOT, capture_output=True, text=True)
    assert r.stdout.split() == paths


def test_tensorboard_switch_and_command(tmp_path, monkeypatch):
    from lib.watch.board import command

    monkeypatch.setenv(board.ENV, "0")
    assert not board.enabled()
    monkeypatch.setenv(board.ENV, "yes")
    with pytest.raises(ValueError, match="AEES_TENSORBOARD must be 1 .* or 0"):
        board.enabled()
    assert board.log_dir(tmp_path / "g" / "r_seed0.json") == tmp_path / "g" / "tensorboard" / "r_seed0"
    from lib.grids.cells import GridError
    with pytest.raises(GridError, match="no TensorBoard scalars yet"):
        command(["sst2"], "mini", tmp_path, 6006)
    (tmp_path / "mini" / "sst2" / "tensorboard").mkdir(parents=True)
    assert command(["sst2", "peers"], "mini", tmp_path, 6007)[-4:] == [
        "--logdir", str(tmp_path / "mini" / "sst2" / "tensorboard"), "--port", "6007"]
    (tmp_path / "mini" / "peers" / "tensorboard").mkdir(parents=True)
    assert command(["sst2", "peers"], "mini", tmp_path, 6006)[3:5] == [
        "--logdir_spec", f"sst2:{tmp_path / 'mini' / 'sst2' / 'tensorboard'},peers:{tmp_path / 'mini' / 'peers' / 'tensorboard'}"]


# SIGKILL itself at optimizer step sys.argv[2] when given: after the epoch-2 checkpoint and epoch 3
TRAIN = kill_child.script(
    """profile="mini", epochs=4, episode_length=3, standin_n_train=256, standin_n_test=128,
              model_width=8, batch_size=64, control_mode="adaptive", lr_candidates="0.5,1,2",
              label_noise_type="symmetric", label_noise_rate=0.4, seed=1, checkpoint_every=2, output=sys.argv[1]""",
    kill_arg=2)


def _scalars(folder):
    from tensorboard.backend.event_processing.event_accumulator import EventAccumulator

    acc = EventAccumulator(str(folder))
    acc.Reload()
    return {tag: [(e.step, e.value) for e in acc.Scalars(tag)] for tag in acc.Tags()["scalars"]}


@pytest.mark.slow
def test_tensorboard_scalars_follow_the_run_through_a_kill_and_resume(tmp_path):
    """Scalars per epoch and per episode; a run killed after its last checkpoint and resumed shows one value per
    epoch, the resumed run's; the RunResult is the same with the scalars off; the live record is gone at the end."""
    env = {**os.environ, "AEES_DATA_DIR": str(tmp_path / "data"), "OMP_NUM_THREADS": "1"}
    out = tmp_path / "g" / "r_seed1.json"
    # 4 steps per epoch: step 13 is in epoch 4, after epoch 3 was written to TensorBoard (checkpoint: epoch 2)
    killed = subprocess.run([sys.executable, "-c", TRAIN, str(out), "13"], env=env, capture_output=True, text=True,
                            timeout=300)
    assert killed.returncode == -signal.SIGKILL, killed.stdout + killed.stderr
    rec = live.read(live.path_of(out))
    assert rec["epoch"] == 3 and rec["epochs"] == 4 and rec["pid"] != os.getpid()
    first = _scalars(board.log_dir(out))
    assert [s for s, _ in first["accuracy/val"]] == [1, 2, 3]
    done = subprocess.run([sys.executable, "-c", TRAIN, str(out)], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "resumed from r_seed1.json.ckpt after epoch 2" in done.stdout
    result = json.loads(out.read_text())
    assert not live.path_of(out).exists()
    tb = _scalars(board.log_dir(out))
    assert {"accuracy/val", "accuracy/train", "loss/train", "lr/base", "time/epoch_seconds",
            "noise/train_corrupted_accuracy_vs_noisy_labels"} <= set(tb)
    assert [s for s, _ in tb["accuracy/val"]] == [1, 2, 3, 4]
    assert [v for _, v in tb["accuracy/val"]] == pytest.approx(result["val_accuracies"])
    assert [v for _, v in tb["noise/train_corrupted_accuracy_vs_noisy_labels"]] == pytest.approx(
        result["epoch_subset_train_accuracies"]["train_corrupted_accuracy_vs_noisy_labels"])
    episodes = _scalars(board.log_dir(out) / "episodes")
    logs = result["episode_logs"]
    assert [v for _, v in episodes["aees/lr_multiplier"]] == logs["selected_lr_values"]
    assert [v for _, v in episodes["aees/reward"]] == pytest.approx(logs["episode_rewards"])
    assert [s for s, _ in episodes["aees/reward"]] == list(range(1, len(logs["episode_rewards"]) + 1))

    plain = tmp_path / "g" / "plain_seed1.json"
    off = subprocess.run([sys.executable, "-c", TRAIN, str(plain)], env={**env, board.ENV: "0"},
                         capture_output=True, text=True, timeout=300)
    assert off.returncode == 0, off.stdout + off.stderr
    assert not board.log_dir(plain).exists()
    other = json.loads(plain.read_text())
    for key in ("train_losses", "val_accuracies", "episode_logs", "controller_logs", "epoch_lrs", "config"):
        if key == "config":
            assert {k: v for k, v in other[key].items() if k != "output"} == \
                {k: v for k, v in result[key].items() if k != "output"}
        else:
            assert other[key] == result[key], key


def test_the_analysis_never_reads_records_or_event_files(tmp_path):
    from lib.analysis.load import candidate_files

    (tmp_path / "g" / "tensorboard" / "r_seed0" / "episodes").mkdir(parents=True)
    for name in ("g/r_seed0.json", "g/r_seed0.json.progress", "g/tensorboard/r_seed0/events.out.tfevents.1.vm.2.0",
                 "g/tensorboard/r_seed0/episodes/events.out.tfevents.1.vm.2.1"):
        (tmp_path / name).write_bytes(b"\x00\x01")
    assert candidate_files(tmp_path) == [tmp_path / "g" / "r_seed0.json"]


@pytest.mark.slow
def test_whole_thesis_plan_in_progress(tmp_path):
    """The benchmark's campaign (make bench-watch): every planned thesis run is accounted for, every running
    and dead run is shown; the time is printed by the benchmark, not asserted here."""
    from lib.watch.bench import campaign

    sleeper = subprocess.Popen(["sleep", "600"])
    try:
        n, running, dead = campaign(tmp_path, 20, sleeper.pid, _dead_pid())
        text = report.report(list(GRIDS), "thesis", tmp_path)
    finally:
        sleeper.kill()
        sleeper.wait()
    assert (n, running, dead) == (702, 20, 5)
    heads = [ln for ln in text.splitlines() if not ln.startswith(" ")]
    assert sum(int(h.split(" of ")[1].split(";")[0].split()[0]) for h in heads) == 702
    assert text.count("\n  RUNNING  ") == 20 and text.count("\n  DEAD     ") == 5
    assert "OFF TRACK" in text or "on track" in text
