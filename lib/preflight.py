"""``make preflight PROFILE=thesis``: is this machine ready for the thesis grids? One line per piece.

Checks, without any network access: the GPU (visible, its name), CIFAR-100 in ``data/cifar100``,
the tokenized caches of the NLP protocol (SST-2, AG News, noisy AG News), the DistilBERT model
cache, the free disk space for the archive and the checkpoints, and an estimate of the GPU-hours
of every thesis grid from one measured optimizer step per task on the current device. Each
missing piece gets its own message naming the command that provides it (``lib.data.prepare``).
A profile whose CIFAR task runs on Fashion-MNIST (``mini-fmnist``) gets the Fashion-MNIST check.

    python -m lib.preflight [--profile thesis] [--no-measure] [--fetch-cifar] [--fetch-fashion-mnist]
"""

from __future__ import annotations

import argparse
import math
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from lib import DATA_DIR, HF_CACHE_DIR, RESULTS_DIR
from lib.data import fashion_mnist_files as fmf
from lib.data.prepare import ALL, FETCH_CIFAR, PRETOKENIZE, WARM_MODEL
from lib.replica import read_marker
from lib.vocab import AGNEWS, AGNEWS_NOISY, SST2, noise_tag, split_tag, tokenized_dir_name
from lib.config import PROFILES
from lib.grids.definitions import GRIDS
from lib.grids.plan import grid_runs
from lib.grids.cells import profile_value

MODEL = "distilbert-base-uncased"
# Tokenized-cache key files (lib.data.text) that the thesis runs need, per pretokenize run.
TOKENIZED = {SST2: (tokenized_dir_name(SST2), ("train-*.json", "validation-*.json")),
             AGNEWS: (tokenized_dir_name(AGNEWS), (f"train_{split_tag()}-*.json", f"validation_{split_tag()}-*.json")),
             AGNEWS_NOISY: (tokenized_dir_name(AGNEWS), (f"train_{split_tag()}{noise_tag(0.2)}-*.json",))}
TRAIN_SIZE = {"cifar100": 50_000, "sst2": 67_349, "agnews": 108_000}
STEP_SHAPES = {"sst2": 64, "agnews": 128}  # padded length of a typical batch (dynamic padding)
EVAL_FACTOR = 1.1  # evaluation passes and AEES bookkeeping on top of the training steps (estimate)
# Disk: RunResult JSON + executed notebook per run (noisy runs carry the label-noise block),
# the largest checkpoint (DistilBERT + AdamW state, ~770 MiB; ResNet-18 ~170 MiB) per concurrent run.
RUN_BYTES = {"cifar100": 0.3e6, "cifar100-noisy": 3e6, "sst2": 0.3e6, "agnews": 0.3e6, AGNEWS_NOISY: 6e6}
CHECKPOINT_BYTES = 0.8e9
CACHE_BYTES = 2.5e9  # CIFAR-100, the raw and tokenized NLP data, the model cache


@dataclass
class Item:
    name: str
    ok: bool
    message: str


def check_gpu() -> Item:
    import torch

    if torch.cuda.is_available():
        names = [torch.cuda.get_device_name(i) for i in range(torch.cuda.device_count())]
        return Item("gpu", True, f"{len(names)} visible: {', '.join(names)}")
    return Item("gpu", False, "no GPU visible (torch.cuda.is_available() is False): the thesis profile is "
                "meant for a GPU. Check `nvidia-smi` and that torch is a CUDA build (`.venv/bin/python -c "
                "'import torch; print(torch.version.cuda)'`); on a CPU use `make rehearse` or PROFILE=mini")


def check_cifar(data_dir: Path) -> Item:
    folder = data_dir / "cifar100" / "cifar-100-python"
    missing = [f for f in ("train", "test", "meta") if not (folder / f).is_file()]
    if missing:
        return Item("cifar100", False, f"no CIFAR-100 in {folder} (missing {', '.join(missing)}). "
                    f"Fetch it once with network:\n    {FETCH_CIFAR}")
    if read_marker(folder) is not None:
        return Item("cifar100", False, f"{folder} holds the offline replica (rehearsals only), not CIFAR-100: "
                    f"delete it, then with network:\n    {FETCH_CIFAR}")
    return Item("cifar100", True, f"present in {folder}")


def check_fashion_mnist(data_dir: Path) -> Item:
    """Fashion-MNIST (profiles whose CIFAR task runs on it): the project's copy, or the Debian package."""
    root = data_dir / "fashion-mnist"
    if not fmf.missing_files(root):
        return Item("fashion-mnist", True, f"present in {fmf.raw_dir(root)}")
    problem = fmf.problem(root)
    if problem:
        return Item("fashion-mnist", False, problem)
    return Item("fashion-mnist", True, f"Debian package files in {fmf.DEBIAN_DIR} (copied into "
                f"{fmf.raw_dir(root)} by the first run)")


def cifar_dataset(profile: str) -> str:
    return PROFILES[profile].get("cifar100", {}).get("dataset", "cifar100")


def check_tokenized(data_dir: Path) -> list[Item]:
    out = []
    for key, (sub, patterns) in TOKENIZED.items():
        root = data_dir / sub
        found = [p for p in patterns if any(root.glob(p))]
        if len(found) == len(patterns):
            out.append(Item(f"tokenized {key}", True, f"caches in {root}"))
        else:
            out.append(Item(f"tokenized {key}", False, f"no tokenized cache for {key} in {root}. Prepare it "
                            f"once with network (docs/guide.md, thesis profile, step 2.1):\n    {PRETOKENIZE[key]}"))
    return out


def check_model(hf_cache: Path) -> Item:
    from huggingface_hub import try_to_load_from_cache  # reads the local cache only

    hits = {f: try_to_load_from_cache(MODEL, f, cache_dir=str(hf_cache))
            for f in ("config.json", "tokenizer_config.json", "model.safetensors", "REPLICA.json")}
    if isinstance(hits["REPLICA.json"], str):
        return Item("model cache", False, f"{hf_cache} holds the offline replica of {MODEL} (rehearsals only); "
                    f"delete models--{MODEL} there, then with network:\n    {WARM_MODEL}")
    missing = [f for f in ("config.json", "tokenizer_config.json", "model.safetensors") if not isinstance(hits[f], str)]
    if missing:
        return Item("model cache", False, f"no {MODEL} in the model cache {hf_cache} (missing {', '.join(missing)}). "
                    f"Warm it once with network (docs/guide.md, thesis profile, step 2.2):\n    {WARM_MODEL}")
    return Item("model cache", True, f"{MODEL} in {hf_cache}")


def _runs(profile: str) -> list:
    return [r for name in GRIDS for r in grid_runs(name, profile, parents="upper-bound")]


def _kind(spec) -> str:
    noisy = spec.parameters.get("label_noise_rate")
    return spec.task + ("-noisy" if noisy else "")


def check_disk(results_dir: Path, profile: str, concurrent: int) -> Item:
    runs = _runs(profile)
    need = sum(RUN_BYTES[_kind(r)] for r in runs) + concurrent * CHECKPOINT_BYTES + CACHE_BYTES
    probe = results_dir if results_dir.exists() else results_dir.parent
    free = shutil.disk_usage(probe).free
    text = (f"{free / 1e9:,.1f} GB free on {probe}; the {len(runs)} runs' archive, {concurrent} concurrent "
            f"checkpoint(s) and the data caches need about {need / 1e9:,.1f} GB")
    if free < need:
        return Item("disk", False, text + ". Free space there, or point RESULTS= / AEES_DATA_DIR= at a bigger disk")
    return Item("disk", True, text)


def _torch_part() -> Any:
    """The preflight's parts that need torch (:mod:`lib.preflight_torch`)."""
    # torch and torchvision: only for a Fashion-MNIST check, a step timing or a fetch, so that importing
    # this module (make runs-status, the rehearsal) stays light
    from lib import preflight_torch

    return preflight_torch


def estimate_hours(profile: str, device: str) -> tuple[Item, dict[str, float]]:
    per_step = {task: _torch_part().step_seconds(task, device, STEP_SHAPES.get(task, 0)) for task in TRAIN_SIZE}
    hours: dict[str, float] = {}
    for name in GRIDS:
        total = 0.0
        for r in grid_runs(name, profile, parents="upper-bound"):  # peak re-runs: at most the full length
            epochs = r.parameters.get("epochs") or profile_value(r.task, profile, "epochs")
            batch = r.parameters.get("batch_size") or profile_value(r.task, profile, "batch_size")
            total += epochs * math.ceil(TRAIN_SIZE[r.task] / batch) * per_step[r.task] * EVAL_FACTOR
        hours[name] = total / 3600
    steps = ", ".join(f"{t} {s * 1e3:,.0f} ms" for t, s in per_step.items())
    grids = ", ".join(f"{g} {h:,.1f}" for g, h in hours.items())
    return Item("estimate", True, f"one step on {device}: {steps}. {'GPU' if device == 'cuda' else 'CPU'}-hours "
                f"per grid (x{EVAL_FACTOR} for evaluation): {grids}; total {sum(hours.values()):,.1f}"), hours


def preflight(profile: str = "thesis", *, data_dir: Path = DATA_DIR, hf_cache: Path = HF_CACHE_DIR,
              results_dir: Path = RESULTS_DIR, measure: bool = True, concurrent: int = 1) -> list[Item]:
    """Every check for ``profile`` (``mini`` needs nothing remote; ``mini-fmnist`` the Fashion-MNIST files)."""
    if profile != "thesis":
        if cifar_dataset(profile) == "fashion-mnist":
            return [check_fashion_mnist(data_dir),
                    Item("profile", True, f"profile {profile!r}: the NLP tasks run on the offline stand-ins")]
        return [Item("profile", True, f"profile {profile!r} runs offline on the stand-ins: nothing to prepare")]
    import torch

    items = [check_gpu(), check_cifar(data_dir), *check_tokenized(data_dir), check_model(hf_cache),
             check_disk(results_dir, profile, concurrent)]
    if measure:
        items.append(estimate_hours(profile, "cuda" if torch.cuda.is_available() else "cpu")[0])
    return items


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m lib.preflight", description=__doc__.split("\n\n")[0])
    ap.add_argument("--profile", default="thesis")
    ap.add_argument("--no-measure", action="store_true", help="skip the one-step timing (GPU-hours estimate)")
    ap.add_argument("--concurrent", type=int, default=1, help="runs at a time (one checkpoint each)")
    ap.add_argument("--fetch-cifar", action="store_true", help="download CIFAR-100 into data/cifar100 and stop")
    ap.add_argument("--fetch-fashion-mnist", action="store_true",
                    help="put Fashion-MNIST into data/fashion-mnist (Debian package, else torchvision download) and stop")
    args = ap.parse_args(argv)
    if args.fetch_fashion_mnist:
        _torch_part().fetch_fashion_mnist(DATA_DIR / "fashion-mnist")
        return 0
    if args.fetch_cifar:
        _torch_part().fetch_cifar(DATA_DIR / "cifar100")
        return 0
    items = preflight(args.profile, measure=not args.no_measure, concurrent=args.concurrent)
    for it in items:
        print(f"{'OK     ' if it.ok else 'MISSING'} {it.name}: {it.message}")
    bad = [it for it in items if not it.ok]
    print(f"\npreflight ({args.profile}): " + ("ready" if not bad else
          f"{len(bad)} piece(s) missing: {', '.join(it.name for it in bad)}. With network, all data at once:\n    {ALL}"))
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
