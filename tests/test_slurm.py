"""``make runs LAUNCHER=slurm`` against a real single-node Slurm (Debian's slurm-wlm + munge).

The session fixture starts munged (as the ``munge`` user), slurmctld and slurmd from a minimal
slurm.conf in a temporary folder and stops them by pid; where that is impossible (packages
missing, not root, daemons not coming up) the Slurm tests are skipped with the reason.
Training runs use a one-run AEES CIFAR grid of the mini profile (5 epochs of 4 steps).
"""

from __future__ import annotations

import json
import os
import pwd
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import textwrap
import time
from pathlib import Path

import pytest

from lib import ROOT, config
from lib.grids import GRIDS, manifest, plan
from lib.grids.__main__ import main as grids_main
from lib.grids.cells import Cell, Grid
from lib.grids.runner import execute
from lib.grids.slurm import state as slurm_state
from lib.grids.slurm.submit import submit
from lib.train import live
from lib.train.preempt import EXIT_PREEMPTED
from lib.watch.report import report

PY = sys.executable
DAEMONS = ("munged", "slurmctld", "slurmd")
CLIENTS = ("sbatch", "squeue", "scontrol", "scancel", "sinfo")
SLURM_ARGS = "--cpus-per-task=1 --mem=500M"  # two tasks at a time on a 2-CPU node
TINY = {"epochs": 5, "episode_length": 3, "standin_n_train": 256, "standin_n_test": 128, "model_width": 8,
        "batch_size": 64}
AEES_CELL = Cell("tiny_aees", "cifar100", {"control_mode": "adaptive", "lr_candidates": [0.5, 1.0, 2.0],
                                            "noise_candidates": [0.0, 0.01], "optimizer": "AdamW", "lr": 1e-3,
                                            "label_noise_type": "symmetric", "label_noise_rate": 0.4, **TINY}, "AEES")
TINY_GRID = Grid("slurm-tiny", "tiny CIFAR grid of the Slurm tests (one AEES run)", (AEES_CELL,), seeds={"*": (0,)})
FAIL_GRID = Grid("slurm-fail", "fake-papermill grid of the Slurm tests", (
    Cell("tiny_adamw", "cifar100", {"control_mode": "baseline", "optimizer": "AdamW", "lr": 1e-3, **TINY}, "AdamW"),
    AEES_CELL), seeds={"*": (0,)})
WATCH_GRID = Grid("slurm-watch", "tiny CIFAR grid of the Slurm watch test (one long AEES run)", (
    Cell("tiny_watch", "cifar100", {**AEES_CELL.params, "epochs": 60}, "AEES"),), seeds={"*": (0,)})
RUN = "tiny_aees_seed0"
COMPARED = ("train_losses", "train_accuracies", "val_accuracies", "episode_logs", "controller_logs",
            "epoch_subset_train_accuracies", "peak_checkpoint_diagnostics", "total_steps", "best_val_accuracy",
            "final_val_accuracy", "epoch_lrs", "estimated_flops")

FAKE_PAPERMILL = Path(__file__).with_name("fake_papermill.py")  # shared with the other runner tests


# --- the cluster ---

def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _binary(name: str) -> str | None:
    return shutil.which(name) or next((p for p in (f"/usr/sbin/{name}", f"/usr/bin/{name}") if os.access(p, os.X_OK)),
                                      None)


def _slurm_conf(base: Path, host: str) -> str:
    mem = int(int(Path("/proc/meminfo").read_text().split()[1]) / 1024 * 0.5)
    return textwrap.dedent(f"""\
        ClusterName=aeestest
        SlurmctldHost={host}(127.0.0.1)
        SlurmUser=root
        SlurmdUser=root
        SlurmctldPort={_free_port()}
        SlurmdPort={_free_port()}
        AuthType=auth/munge
        AuthInfo=socket={base}/sock/munge.sock,cred_expire=5
        CredType=cred/munge
        StateSaveLocation={base}/ctld
        SlurmdSpoolDir={base}/d
        SlurmctldPidFile={base}/slurmctld.pid
        SlurmdPidFile={base}/slurmd.pid
        SlurmctldLogFile={base}/slurmctld.log
        SlurmdLogFile={base}/slurmd.log
        ProctrackType=proctrack/linuxproc
        TaskPlugin=task/none
        SelectType=select/cons_tres
        SelectTypeParameters=CR_CPU
        SchedulerType=sched/backfill
        SchedulerParameters=sched_interval=2,bf_interval=2
        MpiDefault=none
        ReturnToService=2
        JobAcctGatherType=jobacct_gather/none
        AccountingStorageType=accounting_storage/none
        JobCompType=jobcomp/none
        MinJobAge=600
        NodeName={host} NodeAddr=127.0.0.1 CPUs={os.cpu_count()} RealMemory={mem} State=UNKNOWN
        PartitionName=test Nodes=ALL Default=YES MaxTime=INFINITE State=UP
        """)


def _pid(path: Path) -> int | None:
    try:
        return int(path.read_text().split()[0])
    except (FileNotFoundError, ValueError, IndexError):
        return None


def _stop(pid_files: list[Path]) -> None:
    for path in pid_files:
        pid = _pid(path)
        if pid is None:
            continue
        try:
            os.kill(pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
        for _ in range(100):
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                break
            time.sleep(0.1)


def _tail(path: Path, n: int = 5) -> str:
    try:
        return " | ".join(path.read_text(errors="replace").splitlines()[-n:])
    except FileNotFoundError:
        return "(no log)"


@pytest.fixture(scope="session")
def slurm_cluster():
    """A running single-node Slurm for the session (SLURM_CONF set); skipped with the reason if impossible."""
    missing = [b for b in DAEMONS + CLIENTS if _binary(b) is None]
    if missing:
        pytest.skip(f"Slurm not installed ({', '.join(missing)} missing): "
                    "apt-get install -y --no-install-recommends slurm-wlm munge")
    if os.geteuid() != 0:
        pytest.skip("the test Slurm runs its daemons as root: run the tests as root (CI does)")
    try:
        munge_user = pwd.getpwnam("munge")
    except KeyError:
        pytest.skip("no 'munge' user: the munge package is not installed properly")
    base = Path(tempfile.mkdtemp(prefix="aees-sl-", dir="/tmp"))  # short: socket paths are limited
    base.chmod(0o755)
    for sub, owner, mode in (("munge", munge_user, 0o700), ("sock", munge_user, 0o755),
                             ("ctld", None, 0o755), ("d", None, 0o755)):
        (base / sub).mkdir(mode=mode)
        if owner:
            os.chown(base / sub, owner.pw_uid, owner.pw_gid)
    key = base / "munge" / "munge.key"
    key.write_bytes(os.urandom(1024))
    os.chown(key, munge_user.pw_uid, munge_user.pw_gid)
    key.chmod(0o400)
    conf = base / "slurm.conf"
    conf.write_text(_slurm_conf(base, socket.gethostname().split(".")[0]))
    old_conf = os.environ.get("SLURM_CONF")
    os.environ["SLURM_CONF"] = str(conf)
    pid_files = [base / "slurmd.pid", base / "slurmctld.pid", base / "munge" / "munged.pid"]
    try:
        started = [
            subprocess.run(["runuser", "-u", "munge", "--", _binary("munged"), f"--socket={base}/sock/munge.sock",
                            f"--key-file={key}", f"--log-file={base}/munge/munged.log",
                            f"--pid-file={base}/munge/munged.pid", f"--seed-file={base}/munge/seed"],
                           capture_output=True, text=True, timeout=30),
            subprocess.run([_binary("slurmctld"), "-c"], capture_output=True, text=True, timeout=30),
            subprocess.run([_binary("slurmd")], capture_output=True, text=True, timeout=30)]
        failed = [f"{r.args[0] if r.args[0] != 'runuser' else 'munged'}: {r.stderr.strip()}"
                  for r in started if r.returncode != 0]
        deadline = time.time() + 60
        state = ""
        while not failed and time.time() < deadline:
            r = subprocess.run(["sinfo", "--noheader", "--format=%T"], capture_output=True, text=True, timeout=30)
            state = r.stdout.strip()
            if state == "idle":
                break
            time.sleep(0.5)
        if failed or state != "idle":
            reason = "; ".join(failed) or f"node state {state or 'unknown'} after 60 s"
            pytest.skip(f"test Slurm did not come up ({reason}); slurmctld log: {_tail(base / 'slurmctld.log')}; "
                        f"slurmd log: {_tail(base / 'slurmd.log')}")
        yield base
    finally:
        subprocess.run(["scancel", "--full", "--user=root"], capture_output=True, timeout=30)
        _stop(pid_files)
        if old_conf is None:
            os.environ.pop("SLURM_CONF", None)
        else:
            os.environ["SLURM_CONF"] = old_conf
        shutil.rmtree(base, ignore_errors=True)


# --- helpers ---

@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("slurm-data")


@pytest.fixture
def grids(monkeypatch, data_dir):
    monkeypatch.setitem(GRIDS, TINY_GRID.name, TINY_GRID)
    monkeypatch.setitem(GRIDS, FAIL_GRID.name, FAIL_GRID)
    monkeypatch.setenv("AEES_DATA_DIR", str(data_dir))
    monkeypatch.setenv("OMP_NUM_THREADS", "1")
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    monkeypatch.setenv("AEES_SLURM_CONFIG", "/nonexistent/slurm.conf")


def _submit(res: Path, grid: str = TINY_GRID.name, **kw):
    return submit(grid, "mini", results_dir=res, py=PY, slurm_args=SLURM_ARGS, say=lambda *_: None, **kw)


def _in_queue(job: str) -> list[str]:
    r = subprocess.run(["squeue", "--noheader", "--array", "--jobs", job, "--format=%i %T"],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.split("\n") if r.stdout.strip() else []


def _wait(job: str, timeout: float = 240) -> None:
    deadline = time.time() + timeout
    while _in_queue(job):
        assert time.time() < deadline, f"array {job} still in the queue after {timeout} s: {_in_queue(job)}"
        time.sleep(1)


def _status(res: Path, grid: str, capsys) -> str:
    capsys.readouterr()
    assert grids_main(["status", "--profile", "mini", "--grid", grid, "--results-dir", str(res)]) == 0
    return capsys.readouterr().out


@pytest.fixture(scope="module")
def make_results(tmp_path_factory, data_dir):
    """The tiny grid run by make here (the reference), once per module."""
    res = tmp_path_factory.mktemp("make") / "results"
    saved = dict(GRIDS)
    GRIDS[TINY_GRID.name] = TINY_GRID
    try:
        plan(TINY_GRID.name, "mini", results_dir=res, py=PY, makefile=res / "plan.mk")
    finally:
        GRIDS.clear()
        GRIDS.update(saved)
    env = {**os.environ, "AEES_DATA_DIR": str(data_dir), "OMP_NUM_THREADS": "1", "CUDA_VISIBLE_DEVICES": ""}
    r = subprocess.run(["make", "--no-print-directory", "-j", "2", "-f", str(res / "plan.mk"), f"PY={PY}"],
                       cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads((res / "mini" / TINY_GRID.name / f"{RUN}.json").read_text())


# --- tests ---

@pytest.mark.slow
def test_slurm_array_gives_makes_results_and_resubmits_nothing(slurm_cluster, grids, make_results, tmp_path):
    res = tmp_path / "results"
    first = _submit(res)
    assert len(first) == 1 and first[0].runs == [RUN]
    job = first[0].job
    assert _in_queue(job), "the array left the queue at once"
    assert _submit(res) == []  # queued or running: nothing new
    grid_dir = res / "mini" / TINY_GRID.name
    assert len(slurm_state.read_jobs(grid_dir)) == 1
    _wait(job)
    got = json.loads((grid_dir / f"{RUN}.json").read_text())
    assert make_results["episode_logs"] and make_results["epoch_subset_train_accuracies"]
    for key in COMPARED:
        assert got[key] == make_results[key], key
    assert manifest.read(grid_dir)["counts"] == {"finished": 1, "failed": 0, "pending": 0}
    assert _submit(res) == []  # after completion: nothing
    assert len(slurm_state.read_jobs(grid_dir)) == 1
    log = (grid_dir / "slurm" / "logs" / f"{job}_0.out").read_text()
    assert "[aees-slurm]" in log and "end task" in log and "exit 0" in log


@pytest.mark.slow
def test_signalled_task_checkpoints_requeues_and_finishes_identically(slurm_cluster, grids, make_results, tmp_path):
    res = tmp_path / "results"
    grid_dir = res / "mini" / TINY_GRID.name
    sub = _submit(res)
    assert [s.runs for s in sub] == [[RUN]]
    job, log = sub[0].job, grid_dir / "slurm" / "logs" / f"{sub[0].job}_0.out"
    deadline = time.time() + 180
    while "[grids] start" not in (log.read_text() if log.exists() else ""):
        assert time.time() < deadline and _in_queue(job), f"the task did not start: {_tail(log)}"
        time.sleep(0.2)
    r = subprocess.run(["scancel", "--batch", "--signal=USR1", f"{job}_0"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    _wait(job)
    text = log.read_text()
    assert "warning signal" in text and f"exit {EXIT_PREEMPTED}" in text and "requeueing" in text
    assert "restart 1" in text and "resumed from tiny_aees_seed0.json.ckpt after epoch" in \
        (grid_dir / "tiny_aees_seed0.log").read_text()
    got = json.loads((grid_dir / f"{RUN}.json").read_text())
    for key in COMPARED:
        assert got[key] == make_results[key], key
    assert not (grid_dir / "tiny_aees_seed0.json.ckpt").exists()
    assert not (grid_dir / "tiny_aees_seed0.json.stop").exists()


@pytest.mark.slow
def test_failed_run_shows_its_retry_and_retry_resubmits_only_it(slurm_cluster, grids, tmp_path, monkeypatch, capsys):
    fake = FAKE_PAPERMILL
    monkeypatch.setenv("FAKE_PROFILES", json.dumps(config.PROFILES))
    res = tmp_path / "results"
    grid_dir = res / "mini" / FAIL_GRID.name
    grid_dir.mkdir(parents=True)
    flag = grid_dir / "tiny_aees_seed0.json.fail"
    flag.write_text("")
    kw = {"grid": FAIL_GRID.name, "papermill": f"{PY} {fake}"}
    first = _submit(res, **kw)
    _wait(first[0].job)
    out = _status(res, FAIL_GRID.name, capsys)
    assert "1 finished, 0 running, 0 queued, 1 failed" in out and f"array job {first[0].job}" in out
    assert f"FAILED   tiny_aees_seed0  job {first[0].job}_1: PapermillExecutionError" in out
    assert "retry here:" in out and "-m lib.grids exec" in out
    assert f"make runs GRID={FAIL_GRID.name} PROFILE=mini LAUNCHER=slurm RETRY=1" in out
    flag.unlink()
    assert _submit(res, **kw) == []  # a failed run waits for RETRY=1
    retry = _submit(res, retry=True, **kw)
    assert [s.runs for s in retry] == [["tiny_aees_seed0"]]
    _wait(retry[0].job)
    out = _status(res, FAIL_GRID.name, capsys)
    assert "2 finished, 0 running, 0 queued, 0 failed, 0 pending of 2" in out


@pytest.mark.slow
def test_watch_sees_a_slurm_run_advance_and_its_cancelled_task_dead(slurm_cluster, grids, tmp_path, monkeypatch):
    """make runs-status on a Slurm grid: the running task's epochs advance with a finish estimate; a task
    cancelled mid-run is dead, with the command that resubmits it."""
    monkeypatch.setitem(GRIDS, WATCH_GRID.name, WATCH_GRID)
    res = tmp_path / "results"
    grid_dir = res / "mini" / WATCH_GRID.name
    job = _submit(res, grid=WATCH_GRID.name)[0].job
    record = live.path_of(grid_dir / "tiny_watch_seed0.json")

    def epoch_after(done: int) -> int:
        deadline = time.time() + 180
        while (rec := live.read(record)) is None or rec["epoch"] <= done:
            assert time.time() < deadline and _in_queue(job), f"no epoch after {done}: {rec}"
            time.sleep(0.2)
        return rec["epoch"]

    first = epoch_after(0)
    text = report([WATCH_GRID.name], "mini", res)
    assert "0 finished, 1 running" in text and f"(Slurm array job {job}); ~" in text and "left at 1 at a time" in text
    line = next(ln for ln in text.splitlines() if "tiny_watch_seed0" in ln)
    assert line.lstrip().startswith("RUNNING") and f"/60  val " in line and "finish ~" in line, text
    assert epoch_after(first) > first
    r = subprocess.run(["scancel", f"{job}_0"], capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    _wait(job)
    text = report([WATCH_GRID.name], "mini", res)
    assert text.startswith(f"{WATCH_GRID.name}: 0 finished, 0 running, 0 stalled, 1 dead"), text
    lines = text.splitlines()
    dead = next(i for i, ln in enumerate(lines) if "tiny_watch_seed0" in ln)
    assert lines[dead].lstrip().startswith("DEAD     tiny_watch_seed0: gone after epoch ")
    assert "without a RunResult: Slurm task ended without a result" in lines[dead] and f"(task {job}_0)" in lines[dead]
    assert lines[dead + 1].strip() == (f"resume (from its checkpoint) on Slurm: make runs GRID={WATCH_GRID.name} "
                                       "PROFILE=mini LAUNCHER=slurm RETRY=1")
    assert lines[dead + 2].strip().startswith("or here: ") and " -m lib.grids exec " in lines[dead + 2]


def test_thesis_batch_script_asks_one_gpu_per_task_and_carries_slurm_args(tmp_path, monkeypatch):
    """make -n runs LAUNCHER=slurm writes the script and submits nothing (no Slurm needed)."""
    user_conf = tmp_path / "slurm.conf"
    user_conf.write_text("# site\n--account=thesis-lab --time=02:00:00\n--throttle=20\nsetup: module load cuda\n")
    mk = tmp_path / "Makefile"
    mk.write_text(f"PY := {PY}\nPAPERMILL := {PY} -m papermill\n.PHONY: setup\nsetup:\n"
                  f"include {ROOT / 'mk' / 'runs.mk'}\n")
    res = tmp_path / "results"
    r = subprocess.run(["make", "--no-print-directory", "-n", "-f", str(mk), "runs", "GRID=cifar-noisy",
                        "PROFILE=thesis", "LAUNCHER=slurm", f"RESULTS={res}",
                        "SLURM_ARGS=--partition=gpu --time=04:00:00"],
                       cwd=ROOT, env={**os.environ, "AEES_SLURM_CONFIG": str(user_conf)},
                       capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr + r.stdout
    assert "would submit" in r.stdout and "180 run(s)" in r.stdout
    scripts = list((res / "thesis" / "cifar-noisy" / "slurm").glob("*.sbatch"))
    assert len(scripts) == 1 and not (res / "thesis" / "cifar-noisy" / "slurm" / "jobs.json").exists()
    text = scripts[0].read_text()
    directives = [ln for ln in text.splitlines() if ln.startswith("#SBATCH")]
    for want in ("--gres=gpu:1", "--partition=gpu", "--time=04:00:00", "--account=thesis-lab", "--array=0-179%20",
                 "--requeue", "--signal=B:USR1@300"):
        assert f"#SBATCH {want}" in directives, want
    assert sum(d.startswith("#SBATCH --time") for d in directives) == 1  # SLURM_ARGS replaced the file's
    assert "module load cuda" in text and "source .venv/bin/activate" in text and "HF_HUB_OFFLINE=1" in text
    assert "notebooks/train_cifar100.ipynb" in text and " -m lib.grids exec " in text
    assert subprocess.run(["bash", "-n", str(scripts[0])]).returncode == 0


def test_runner_turns_a_preempted_run_into_exit_75_and_a_pending_run(tmp_path):
    target = tmp_path / "mini" / "g" / "r_seed0.json"
    target.parent.mkdir(parents=True)
    target.with_name("r_seed0.json.stop").write_text("")  # a request of an earlier execution: spent
    cmd = [PY, "-c", "import pathlib,sys; p=pathlib.Path(sys.argv[1]); assert not p.exists(); p.write_text('');"
           "sys.exit('lib.train.preempt.Preempted: stopped on request after epoch 1/8')", str(target) + ".stop"]
    assert execute(target, cmd, say=lambda *_: None) == EXIT_PREEMPTED
    entry = manifest.entry(manifest.read(target.parent), "r_seed0")
    assert entry["status"] == "pending" and entry["reason"].startswith("preempted")
    assert not target.with_name("r_seed0.json.stop").exists()


def test_slurm_args_errors_name_the_option_and_the_fix():
    from lib.grids import GridError, grid_runs
    from lib.grids.slurm.options import resolve

    specs = grid_runs("sst2", "mini")
    with pytest.raises(GridError, match=r"--array is set by the launcher.*--throttle=N"):
        resolve("sst2", "mini", specs, "logs", "--array=0-3")
    with pytest.raises(GridError, match=r"'gpu' is not an sbatch option"):
        resolve("sst2", "mini", specs, "logs", "--partition=x gpu")
    opts = resolve("sst2", "mini", specs, "logs", "-p gpu -t 8:00:00 --no-requeue --gres=", Path("/nonexistent"))
    assert opts.options["partition"] == "gpu" and opts.options["time"] == "8:00:00"
    assert "requeue" not in opts.options and "no-requeue" in opts.options and "gres" not in opts.options


def test_preempt_hook_checkpoints_and_stops_only_before_the_last_epoch(tmp_path, monkeypatch):
    from types import SimpleNamespace

    from lib.train import checkpoint, preempt

    saved = []
    monkeypatch.setattr(checkpoint, "save", lambda run, path: saved.append((run.epoch, path.name)))
    run = SimpleNamespace(output=tmp_path / "r.json", epoch=2, cfg=SimpleNamespace(epochs=5, checkpoint_every=1))
    preempt.check(run)  # no request: nothing
    preempt.stop_path(run.output).write_text("")
    with pytest.raises(preempt.Preempted, match="after epoch 2/5; checkpoint r.json.ckpt written"):
        preempt.check(run)
    assert saved == [(2, "r.json.ckpt")]
    run.epoch = 5  # a request after the last epoch: the run finishes
    preempt.check(run)
    run.epoch, run.cfg.checkpoint_every = 3, 0
    with pytest.raises(preempt.Preempted, match="WITHOUT a checkpoint"):
        preempt.check(run)
    assert len(saved) == 1


def test_submit_without_slurm_names_the_missing_command(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    monkeypatch.setenv("AEES_SLURM_CONFIG", "/nonexistent/slurm.conf")
    with pytest.raises(slurm_state.SlurmError, match="`sbatch` is not on PATH: submit from the cluster's login node"):
        submit("ablation-cifar-noise", "mini", results_dir=tmp_path / "results", py=PY, say=lambda *_: None)
    scripts = list((tmp_path / "results" / "mini" / "ablation-cifar-noise" / "slurm").glob("*.sbatch"))
    assert len(scripts) == 1  # written, so it can be submitted by hand
    assert not (scripts[0].parent / "jobs.json").exists()
