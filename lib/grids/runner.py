"""Execute one planned run (the recipe of every run target): ``python -m lib.grids exec``.

    python -m lib.grids exec results/<profile>/<grid>/<run>.json -- <papermill command ...>

1. A JSON already at the target is stale (make only reruns stale or forced runs): it is set
   aside to ``<grid dir>/.stale/`` first, so a failing rerun leaves no JSON behind.
2. With several GPUs visible (``CUDA_VISIBLE_DEVICES`` lists several, or ``nvidia-smi``
   shows several) the run takes a free one: an ``flock`` on ``<results>/.gpu-locks/gpu-<id>.lock``
   held while it runs, and ``CUDA_VISIBLE_DEVICES=<id>`` for the command. With one or no
   GPU the command runs as is. So ``make -j N`` gives each concurrent run its own GPU.
3. The command runs from the repository root; its output goes to ``<run>.log`` (the executed
   notebook, which papermill writes even on failure, holds the same with the error).
4. The run counts as finished only if the command succeeded and the JSON is complete and
   matches the manifest's parameters; otherwise any JSON is set aside and the manifest
   entry says ``failed`` with the error line and the exact command to retry.
5. A run that stopped on request (``<output>.stop``, ``lib.train.preempt``: Slurm time limit
   or preemption) after writing its checkpoint stays ``pending`` (reason ``preempted``) and
   the runner exits with 75, the code on which the Slurm batch script requeues the task.
"""

from __future__ import annotations

import fcntl
import os
import re
import shlex
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Any

from lib import ROOT, repo_path
from lib.grids import manifest
from lib.grids.state import GridError, check_file, rel, resolved_config
from lib.train.guard import checkpoint_path
from lib.train.preempt import EXIT_PREEMPTED, stop_path
from lib.vocab import STALE_DIR

GPU_POLL_SECONDS = 2.0
TAIL_LINES = 15
_ERROR_RE = re.compile(r"(Error|Exception|Traceback|error:)")


def visible_gpus() -> list[str]:
    """GPU ids this process may use: ``CUDA_VISIBLE_DEVICES`` if set, else ``nvidia-smi``."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        ids = [x.strip() for x in env.split(",") if x.strip()]
        return [] if not ids or ids[0].startswith("-") else ids
    if shutil.which("nvidia-smi") is None:
        return []
    try:
        out = subprocess.run(["nvidia-smi", "--query-gpu=index", "--format=csv,noheader"],
                             capture_output=True, text=True, timeout=30, check=True).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [line.strip() for line in out.splitlines() if line.strip()]


def acquire_gpu(gpus: list[str], lock_dir: Path, say: Any = print) -> tuple[str, IO] | None:
    """Block until one of ``gpus`` is free; return (id, open lock file) or None for < 2 GPUs."""
    if len(gpus) < 2:
        return None
    lock_dir.mkdir(parents=True, exist_ok=True)
    waited = False
    while True:
        for gpu in gpus:
            handle = open(lock_dir / f"gpu-{re.sub(r'[^A-Za-z0-9_.-]', '_', gpu)}.lock", "a")
            try:
                fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                handle.close()
                continue
            return gpu, handle
        if not waited:
            say(f"[grids] waiting for a free GPU among {', '.join(gpus)}")
            waited = True
        time.sleep(GPU_POLL_SECONDS)


def set_aside(path: Path) -> Path | None:
    """Move ``path`` to ``<dir>/.stale/<name>`` (replacing an older one); None if absent."""
    if not path.exists():
        return None
    dest = path.parent / STALE_DIR / path.name
    dest.parent.mkdir(exist_ok=True)
    os.replace(path, dest)
    return dest


def _relative_args(args: list[str]) -> list[str]:
    return [rel(a) if a.startswith("/") else a for a in args]


def error_line(log: Path) -> str:
    """The most telling line of a failed run's log: the last error-looking line, else the last."""
    try:
        lines = [ln.strip() for ln in log.read_text(errors="replace").splitlines() if ln.strip()]
    except FileNotFoundError:
        return "no log"
    for line in reversed(lines):
        if _ERROR_RE.search(line):
            return line[:500]
    return lines[-1][:500] if lines else "no output"


def _tail(log: Path) -> str:
    try:
        return "\n".join(log.read_text(errors="replace").splitlines()[-TAIL_LINES:])
    except FileNotFoundError:
        return ""


def _preempted(log: Path) -> bool:
    """The run raised ``lib.train.preempt.Preempted`` (the end of its log says so)."""
    try:
        with open(log, "rb") as handle:
            handle.seek(max(0, handle.seek(0, os.SEEK_END) - 65536))
            return b"Preempted: stopped on request" in handle.read()
    except FileNotFoundError:
        return False


def _interrupt(signum: int, frame: Any) -> None:
    raise KeyboardInterrupt


def _set_aside_foreign_checkpoint(target: Path, grid_dir: Path, name: str, say: Any) -> None:
    """A checkpoint beside ``target`` written with another configuration than the planned one (an
    interrupted run before the grid or the profile changed) would make the run refuse to start; the
    plan says what to run, so the checkpoint is set aside to ``.stale/`` like a stale result. One of
    the same configuration stays and the run resumes from it."""
    ckpt = checkpoint_path(target)
    if not ckpt.exists():
        return
    entry = manifest.entry(manifest.read(grid_dir) or {}, name) or {}
    params = entry.get("parameters")
    if not params:
        return
    from lib.train import checkpoint  # torch: only when there is a checkpoint to look at

    try:
        cfg = resolved_config(entry["task"], params["profile"], params)
    except GridError:
        return  # the run itself reports the bad parameter
    diff = checkpoint.differs_from(target, cfg)
    if diff:
        aside = set_aside(ckpt)
        say(f"[grids] {rel(ckpt)}: checkpoint of another configuration ({', '.join(diff)}) set aside to "
            f"{rel(aside)}; the run starts afresh")


def execute(json_path: str | Path, command: list[str], say: Any = print) -> int:
    """Run ``command`` for the run whose result is ``json_path``; record the outcome. Exit code."""
    if not command:
        raise SystemExit("exec: no command after '--'")
    target = repo_path(json_path)
    grid_dir, name = target.parent, target.stem
    log = grid_dir / f"{name}.log"
    retry = shlex.join([rel(sys.executable), "-m", "lib.grids", "exec", rel(target), "--",
                        *_relative_args(command)])
    stop_path(target).unlink(missing_ok=True)  # a request of an earlier execution is spent
    old = set_aside(target)
    if old is not None:
        say(f"[grids] {rel(target)}: stale result set aside to {rel(old)}")
    _set_aside_foreign_checkpoint(target, grid_dir, name, say)
    gpu = acquire_gpu(visible_gpus(), target.parents[2] / ".gpu-locks", say)
    env = dict(os.environ)
    if gpu is not None:
        env["CUDA_VISIBLE_DEVICES"] = gpu[0]
    say(f"[grids] start  {rel(target)}" + (f" on GPU {gpu[0]}" if gpu else ""))
    start = time.monotonic()
    previous_handler = signal.signal(signal.SIGTERM, _interrupt)
    try:
        grid_dir.mkdir(parents=True, exist_ok=True)
        rc = _run_logged(command, env, log, name, say)
    except KeyboardInterrupt:
        set_aside(target)
        _record(grid_dir, name, {"status": "pending", "reason": "interrupted"}, retry)
        say(f"[grids] interrupted {rel(target)}")
        return 130
    finally:
        signal.signal(signal.SIGTERM, previous_handler)
        if gpu is not None:
            gpu[1].close()
    seconds = round(time.monotonic() - start, 1)
    stop_path(target).unlink(missing_ok=True)
    if rc != 0 and _preempted(log):
        set_aside(target)
        _record(grid_dir, name, {"status": "pending", "reason": "preempted: stopped on request after "
                                 "writing its checkpoint; the next execution resumes"}, retry)
        say(f"[grids] preempted {rel(target)} after {seconds:.0f} s: checkpoint written, exit {EXIT_PREEMPTED}")
        return EXIT_PREEMPTED
    entry = manifest.entry(manifest.read(grid_dir) or {}, name) or {}
    if entry.get("parameters"):
        state, reason = check_file(target, entry["task"], entry["parameters"]["profile"],
                                   entry["parameters"], resolve=False)
    else:
        state, reason = check_file(target)
    if rc == 0 and state == "finished":
        _record(grid_dir, name, {"status": "finished"}, retry)
        say(f"[grids] done   {rel(target)} ({seconds:.0f} s)")
        return 0
    set_aside(target)
    error = error_line(log) if rc != 0 else f"the notebook succeeded but its result is {state}: {reason}"
    _record(grid_dir, name, {"status": "failed", "error": error, "exit_code": rc}, retry)
    say(f"[grids] FAILED {rel(target)} (exit {rc}): {error}\n"
        f"        notebook: {rel(grid_dir / (name + '.ipynb'))}  log: {rel(log)}\n"
        f"        retry: {retry}\n{_tail(log)}")
    return rc or 1


EPOCH_LINE = re.compile(r"^epoch\s+\d+/\d+\s")


def _run_logged(command: list[str], env: dict[str, str], log: Path, name: str, say: Any) -> int:
    """Run ``command``; all its output to ``log``, and its epoch lines (epoch, loss, val accuracy, LR,
    AEES arms) to the terminal too, prefixed with the run name (``make -j`` interleaves runs)."""
    with open(log, "w") as out, subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE,
                                                 stderr=subprocess.STDOUT, text=True, bufsize=1) as proc:
        try:
            for line in proc.stdout:
                out.write(line)
                out.flush()
                if EPOCH_LINE.match(line):
                    say(f"[{name}] {line.rstrip()}")
        except BaseException:  # as subprocess.run: an interrupted runner leaves no orphan run behind
            proc.kill()
            raise
    return proc.returncode


def _record(grid_dir: Path, name: str, outcome: dict[str, Any], retry: str) -> None:
    def apply(data: dict[str, Any]) -> None:
        run = dict(manifest.entry(data, name) or {"name": name, "output": rel(grid_dir / f"{name}.json")})
        for key in ("error", "retry", "reason", "exit_code"):
            run.pop(key, None)
        run.update(outcome)
        if outcome["status"] != "finished":
            run["retry"] = retry
        manifest.set_run(data, run)
    manifest.update(grid_dir, apply)
    _record_aliases(grid_dir, rel(grid_dir / f"{name}.json"), outcome["status"] == "finished")


def _record_aliases(grid_dir: Path, output: str, finished: bool) -> None:
    """Alias rows of any grid of the profile that name ``output`` get its status, so that a manifest
    planned before the run finished is final once it has (and the next plan rewrites nothing)."""
    status = "finished" if finished else "pending"
    for path in sorted(grid_dir.parent.glob(f"*/{manifest.MANIFEST}")):
        aliases = (manifest.read(path.parent) or {}).get("aliases", [])
        if not any(a.get("same_as") == output and a.get("status") != status for a in aliases):
            continue

        def apply(data: dict[str, Any]) -> None:
            for alias in data.get("aliases", []):
                if alias.get("same_as") == output:
                    alias["status"] = status
        manifest.update(path.parent, apply)
