"""``python -m lib.rehearse``: run the rehearsal (see ``lib.rehearse``), print and write a report."""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from concurrent.futures import ThreadPoolExecutor

import yaml

from lib import ROOT
from lib.grids.cells import notebook_for
from lib.rehearse import EPOCHS, first_runs
from lib.rehearse.checks import check_result
from lib.train.guard import checkpoint_path
from lib.vocab import AGNEWS_NOISY, TEXT_TASKS, data_key
from lib.analysis.load import load_archive
from lib.replica.build import build_replica

PAPERMILL = [sys.executable, "-m", "papermill", "--kernel", "aees", "--log-output", "--no-progress-bar"]
PRETOKENIZE = {"sst2": ("sst2", {}), "agnews": ("agnews", {}), AGNEWS_NOISY: ("agnews", {"label_noise_rate": 0.2})}


def _descendants(pid: int) -> list[int]:
    """Every process below ``pid`` (Linux /proc): papermill's kernel runs in its own session."""
    parent: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
            parent[int(stat.parent.name)] = int(fields[1])
        except (OSError, IndexError, ValueError):
            continue
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in parent.items() if pp == p]
        out += kids
        todo += kids
    return out


def _kill_tree(proc: subprocess.Popen) -> None:
    for pid in [proc.pid, *_descendants(proc.pid)]:
        try:
            os.kill(pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    proc.wait()


class Rehearsal:
    def __init__(self, work: Path, device: str, max_steps: int):
        self.work, self.device, self.max_steps = work, device, max_steps
        self.hf, self.data = work / "hf", work / "data"
        home = work / "hf-home"  # every HF cache variable off the user's caches
        self.env = {**os.environ, "AEES_DATA_DIR": str(self.data), "HF_HOME": str(home),
                    "HF_DATASETS_CACHE": str(home / "datasets"), "HUGGINGFACE_HUB_CACHE": str(home / "hub"),
                    "TRANSFORMERS_CACHE": str(home / "transformers"),
                    "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1", "PYTHONUNBUFFERED": "1"}
        self.rows: list[dict[str, Any]] = []

    def papermill(self, task: str, params: dict[str, Any], stem: Path, *, kill_at_checkpoint: bool = False
                  ) -> tuple[int, float, str, int | None]:
        """One notebook execution; returns (exit status, seconds, log text, checkpoint bytes if killed)."""
        stem.parent.mkdir(parents=True, exist_ok=True)
        pfile = stem.with_suffix(".yaml")
        pfile.write_text(yaml.safe_dump(params, sort_keys=False))
        cmd = [*PAPERMILL, str(notebook_for(task)), str(stem.with_suffix(".ipynb")), "-f", str(pfile)]
        t0 = time.perf_counter()
        with open(stem.with_suffix(".log"), "w") as log:
            proc = subprocess.Popen(cmd, cwd=ROOT, env=self.env, stdout=log, stderr=subprocess.STDOUT)
            ckpt_bytes = None
            if kill_at_checkpoint:
                ckpt = checkpoint_path(Path(params["output"]))
                while proc.poll() is None and not ckpt.exists():
                    time.sleep(0.2)
                if ckpt.exists():
                    ckpt_bytes = ckpt.stat().st_size
                    _kill_tree(proc)
            rc = proc.wait()
        return rc, time.perf_counter() - t0, stem.with_suffix(".log").read_text(), ckpt_bytes

    def pretokenize(self, key: str) -> dict[str, Any]:
        task, extra = PRETOKENIZE[key]
        out = self.work / "pretokenize" / key
        params = {"profile": "thesis", "pretokenize_only": True, "cache_dir": str(self.hf),
                  "output": str(out.with_suffix(".json")), "device": self.device, **extra}
        rc, seconds, log, _ = self.papermill(task, params, out)
        checks = [("pretokenize run succeeded", rc == 0, f"exit {rc}, see {out.with_suffix('.log')}"),
                  ("tokenized caches written, no RunResult", "tokenized cache written" in log
                   and not out.with_suffix(".json").exists(), "")]
        return {"step": f"pretokenize {key}", "task": task, "seconds": seconds, "checks": checks}

    def run(self, spec: Any, resume: bool) -> dict[str, Any]:
        stem = self.work / "runs" / spec.grid / spec.name
        params = {**spec.parameters, "epochs": EPOCHS, "rehearsal_max_steps": self.max_steps,
                  "device": self.device, "output": str(stem.with_suffix(".json"))}
        if spec.task != "cifar100":  # the guide's protocol: pretokenized, then local files only
            params.update({"cache_dir": str(self.hf), "local_files_only": True})
        seconds, checks, ckpt = 0.0, [], None
        if resume:
            rc, s1, _, ckpt = self.papermill(spec.task, params, stem.with_name(stem.name + "-killed"),
                                             kill_at_checkpoint=True)
            seconds += s1
            checks.append(("checkpoint written after epoch 1, run killed", ckpt is not None,
                           f"{(ckpt or 0) / 2**20:,.0f} MiB"))
        rc, s2, log, _ = self.papermill(spec.task, params, stem)
        seconds += s2
        checks.append(("run succeeded", rc == 0, f"exit {rc}, see {stem.with_suffix('.log')}"))
        if resume:
            checks.append(("resumed from the checkpoint", "resumed from" in log and "after epoch 1" in log, ""))
        result = json.loads(stem.with_suffix(".json").read_text()) if rc == 0 else None
        if result is not None:
            checks += check_result(result, spec.task)
            if spec.task != "cifar100":
                reused = result["config"]["data_cache"]["reused"]
                checks.append(("pretokenized caches reused offline (local_files_only)", reused, ""))
        return {"step": f"{spec.grid}: {spec.name}", "task": spec.task, "seconds": seconds,
                "checkpoint_bytes": ckpt, "checks": checks,
                "peak_memory": None if result is None else result.get("peak_memory"),
                "json_bytes": stem.with_suffix(".json").stat().st_size if result else None}

    def parallel(self, jobs: int, calls: list[tuple[Any, ...]]) -> None:
        """``calls`` = (method, args...), ``jobs`` at a time; rows in the order of ``calls``."""
        with ThreadPoolExecutor(max_workers=jobs) as pool:
            futures = [pool.submit(fn, *args) for fn, *args in calls]
            self.rows += [f.result() for f in futures]

    def refused_by_analysis(self) -> None:
        df = load_archive(self.work / "runs")
        skipped = df.attrs["skipped"]
        ok = df.empty and skipped and all("refused: rehearsal run" in why for _, why in skipped)
        self.rows.append({"step": "lib.analysis.load_archive", "task": "-", "seconds": 0.0,
                          "checks": [("every rehearsal result refused", bool(ok),
                                      f"{len(df)} accepted, {len(skipped)} refused")]})


def _print(rows: list[dict[str, Any]], total: float) -> bool:
    ok_all = True
    print(f"\n{'step':<58} {'s':>6} {'peak RSS MiB':>12} {'ckpt MiB':>9}  checks")
    for r in rows:
        n_ok = sum(ok for _, ok, _ in r["checks"])
        mem = (r.get("peak_memory") or {}).get("host_max_rss_mb")
        ckpt = r.get("checkpoint_bytes")
        print(f"{r['step'][:58]:<58} {r['seconds']:>6.0f} {'' if mem is None else f'{mem:,.0f}':>12} "
              f"{'' if ckpt is None else f'{ckpt / 2**20:,.0f}':>9}  {n_ok}/{len(r['checks'])}")
        for name, ok, detail in r["checks"]:
            if not ok:
                ok_all = False
                print(f"    FAILED {name}: {detail}")
    print("\ndetails:")
    for r in rows:
        for name, ok, detail in r["checks"]:
            if ok and detail and any(w in name for w in ("FLOPs", "noise", "memory", "checkpoint")):
                print(f"  {r['step'][:40]:<40} {name}: {detail}")
    print(f"\nrehearsal {'PASSED' if ok_all else 'FAILED'} in {total:.0f} s")
    return ok_all


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.rehearse", description=__doc__)
    ap.add_argument("--device", default="cpu", choices=("cpu", "cuda"))
    ap.add_argument("--max-steps", type=int, default=2, help="optimizer steps and eval batches per epoch")
    ap.add_argument("--jobs", type=int, default=1, help="notebook executions at a time")
    ap.add_argument("--grids", default="", help="grid names (default: every thesis grid)")
    ap.add_argument("--workdir", default="", help="keep the replica and runs here (default: a temporary dir)")
    ap.add_argument("--report", default=str(ROOT / "results" / "rehearse" / "latest.json"))
    args = ap.parse_args(argv)
    t0 = time.perf_counter()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="aees-rehearse-")).resolve()

    reh = Rehearsal(work, args.device, args.max_steps)
    try:
        t = time.perf_counter()
        build_replica(reh.hf, reh.data)
        reh.rows.append({"step": "build the offline replica", "task": "-", "seconds": time.perf_counter() - t,
                         "checks": [("replica built", True, str(work))]})
        specs = first_runs(args.grids.split() or None)
        keys = {data_key(s.task, s.parameters.get("label_noise_rate") or 0.0) for s in specs if s.task in TEXT_TASKS}
        # noisy AG News after the clean one: it reuses the clean caches and adds the noisy train split
        reh.parallel(args.jobs, [(reh.pretokenize, k) for k in sorted(keys - {AGNEWS_NOISY})])
        reh.parallel(1, [(reh.pretokenize, k) for k in keys & {AGNEWS_NOISY}])
        resumed: set[str] = set()
        calls = []
        for spec in specs:  # the first run of each task family is killed after epoch 1 and resumed
            family = "cifar" if spec.task == "cifar100" else "text"
            calls.append((reh.run, spec, family not in resumed))
            resumed.add(family)
        reh.parallel(args.jobs, calls)
        reh.refused_by_analysis()
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)
    total = time.perf_counter() - t0
    ok = _print(reh.rows, total)
    report = Path(args.report)
    report.parent.mkdir(parents=True, exist_ok=True)
    report.write_text(json.dumps({"device": args.device, "max_steps": args.max_steps, "epochs": EPOCHS,
                                  "seconds": total, "passed": ok, "steps": reh.rows}, indent=2, default=str) + "\n")
    print(f"report: {report}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
