"""What a run computes stays pinned: three tiny stand-in runs of the ``mini`` profile (a noisy CIFAR AEES
run, a CIFAR run with several LR and noise candidates, a noisy AG News AEES run), normalised (wall clock,
timings, provenance, paths and the hardware dropped), equal to the records in ``tests/pinned/``.

A refactoring of the training code must leave every number of these runs as it was. The records hold the
torch version and CPU architecture they were made with; elsewhere floating-point results may differ in the
last bits, so the comparison is skipped there with that reason. After a deliberate change of what a run
computes, rewrite them with ``PYTHONPATH=. python tests/test_pinned_runs.py`` and say why in CHANGELOG.md.
"""

from __future__ import annotations

import json
import platform
import sys
from pathlib import Path
from typing import Any

import pytest
import torch

from lib import config

PINNED = Path(__file__).parent / "pinned"
CIFAR_TINY = dict(epochs=2, standin_n_train=128, standin_n_test=100, model_width=4, batch_size=32,
                  episode_length=3, checkpoint_every=0)
RUNS: dict[str, tuple[str, dict[str, Any]]] = {
    "cifar_aees_noisy": ("cifar100", {**CIFAR_TINY, "control_mode": "adaptive", "lr_candidates": "0.5,1,2",
                                      "label_noise_type": "symmetric", "label_noise_rate": 0.4, "seed": 1}),
    "cifar_multi_candidate": ("cifar100", {**CIFAR_TINY, "control_mode": "adaptive", "optimizer": "SGD",
                                           "lr": 0.05, "lr_candidates": "0.5,1,2",
                                           "noise_candidates": "0,0.005", "structured_control_mode": "conditional",
                                           "context_mode": "trend", "lr_scheduler": "cosine"}),
    "agnews_aees_noisy": ("agnews", {"epochs": 2, "episode_length": 5, "standin_n_train": 160,
                                     "standin_n_test": 20, "batch_size": 16, "checkpoint_every": 0,
                                     "method": "AdaptiveScheduler", "lr_candidates": "0.7,1,1.3",
                                     "label_noise_rate": 0.2}),
}
# What differs between two executions of the same run: clocks, speeds, memory, where and when it ran.
VOLATILE = ("wall_clock", "seconds", "per_second", "timing", "time", "provenance", "created", "path",
            "output", "hardware", "memory", "cache_dir", "tokenized_dataset_dir", "papermill", "_path")


def volatile(key: str) -> bool:
    return any(v in key for v in VOLATILE)


def normalise(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: normalise(v) for k, v in sorted(value.items()) if not volatile(k)}
    if isinstance(value, list):
        return [normalise(v) for v in value]
    return value


def platform_tag() -> dict[str, str]:
    return {"torch": torch.__version__, "machine": platform.machine()}


def execute(name: str, root: Path) -> dict[str, Any]:
    """One of ``RUNS`` through the phases the training notebook calls, its data under ``root``."""
    task, params = RUNS[name]
    if task == "cifar100":
        from lib.train import cifar as T
    else:
        from lib.train import text as T
        params = {**params, "cache_dir": str(root / "hf")}
    old = T.DATA_DIR
    T.DATA_DIR = root / "data"
    try:
        run = T.start(config.resolve(task, "mini", {**params, "output": str(root / f"{name}.json")}))
        T.load_data(run), T.build_model(run), T.build_optimization(run), T.fit(run)
        return normalise(T.finish(run))
    finally:
        T.DATA_DIR = old


def canonical(result: dict[str, Any]) -> str:
    return json.dumps(result, indent=1, sort_keys=True) + "\n"


@pytest.mark.slow
@pytest.mark.parametrize("name", list(RUNS))
def test_run_is_byte_identical_to_its_pinned_record(name, tmp_path_factory):
    pinned = json.loads((PINNED / f"{name}.json").read_text())
    if pinned["platform"] != platform_tag():
        pytest.skip(f"pinned on {pinned['platform']}, this is {platform_tag()}: last-bit differences possible")
    got = canonical(execute(name, tmp_path_factory.mktemp(name)))
    assert got == canonical(pinned["result"]), f"{name}: the run computes something else than its pinned record"


def test_normalise_drops_what_varies_and_keeps_what_a_run_computes():
    raw = {"wall_clock_seconds": 3.2, "epoch_wall_clock_seconds": [1.0], "provenance": {"git": "x"},
           "val_accuracies": [0.1, 0.2], "config": {"output": "/tmp/x.json", "lr": 0.001}}
    assert normalise(raw) == {"config": {"lr": 0.001}, "val_accuracies": [0.1, 0.2]}


if __name__ == "__main__":  # rewrite the records (after a deliberate change of what a run computes)
    import tempfile

    from lib.hf_cache import use_project_hf_cache

    use_project_hf_cache()  # as tests/conftest.py does, before datasets / transformers are imported

    PINNED.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for key in sys.argv[1:] or RUNS:
            record = {"platform": platform_tag(), "result": execute(key, Path(tmp) / key)}
            (PINNED / f"{key}.json").write_text(json.dumps(record, indent=1, sort_keys=True) + "\n")
            print("wrote", PINNED / f"{key}.json")
