"""RunResult IO (protocol §7.1), FLOP accounting (§8) and provenance."""

from __future__ import annotations

import importlib
import json
import math
import os
import re
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

import lib
from lib.results import (
    RESNET18_CIFAR_FORWARD_FLOPS,
    FlopAccumulator,
    distilbert_eval_flops,
    distilbert_forward_flops,
    distilbert_train_flops,
    load_run_result,
    provenance,
    resnet18_eval_flops,
    resnet18_train_flops,
    save_run_result,
)


def _result(**extra) -> dict:
    base = {
        "method_name": "Baseline",
        "task_name": "cifar100",
        "config": {"batch_size": 128, "run_tag": "tagged", "device": "cpu"},
        "total_steps": 391,
        "total_epochs": 1,
        "wall_clock_seconds": 10.0,
        "estimated_flops": 5.92e12,
        "epoch_wall_clock_seconds": [10.0],
        "epoch_tflops": [5.92],
        "controller_logs": None,
    }
    base.update(extra)
    return base


class _Unprintable:
    def __str__(self) -> str:
        raise RuntimeError("cannot serialise me")


def _leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir())


# --------------------------------------------------------------------------- IO


def test_format_is_sorted_indented_with_newline(tmp_path: Path) -> None:
    path = save_run_result(_result(), tmp_path / "nested" / "dir" / "run.json")
    assert path == tmp_path / "nested" / "dir" / "run.json"
    text = path.read_text(encoding="utf-8")
    data = json.loads(text)
    assert text == json.dumps(data, indent=2, sort_keys=True) + "\n"
    assert text.endswith("}\n") and text.startswith('{\n  "config": {')
    assert list(data) == sorted(data)
    assert load_run_result(path) == data
    assert _leftovers(path.parent) == ["run.json"]


def test_run_tag_lifted_and_explicit_tag_kept(tmp_path: Path) -> None:
    assert load_run_result(save_run_result(_result(), tmp_path / "a.json"))["run_tag"] == "tagged"
    explicit = load_run_result(save_run_result(_result(run_tag="explicit"), tmp_path / "b.json"))
    assert explicit["run_tag"] == "explicit"
    untagged = _result(config={"batch_size": 128})
    assert load_run_result(save_run_result(untagged, tmp_path / "c.json"))["run_tag"] is None


def test_runtime_metrics_always_recomputed(tmp_path: Path) -> None:
    stale = {"stale": True, "wall_clock_seconds": 999.0}
    result = _result(runtime_metrics=stale)
    saved = load_run_result(save_run_result(result, tmp_path / "run.json"))
    metrics = saved["runtime_metrics"]
    assert "stale" not in metrics
    assert metrics["wall_clock_seconds"] == 10.0
    assert metrics["estimated_train_examples_processed"] == 391 * 128
    assert metrics["hardware"]["device_from_config"] == "cpu"
    assert result["runtime_metrics"] is stale  # the caller's dict is not mutated


def test_conversion_of_paths_tuples_dataclasses_and_scalars(tmp_path: Path) -> None:
    import numpy as np
    import torch

    @dataclass
    class Small:
        where: Path = Path("/tmp/x")
        pair: tuple = (1, 2.5)
        items: list = field(default_factory=lambda: [np.float32(0.5), np.int64(3), np.bool_(True)])

    result = _result(
        extra=Small(),
        loss=torch.tensor(1.25),
        accs=np.array([0.5, 0.75]),
        keyed={0.5: "half"},
        obj=object.__new__(type("Opaque", (), {"__str__": lambda self: "opaque!"})),
    )
    saved = load_run_result(save_run_result(result, tmp_path / "run.json"))
    assert saved["extra"] == {"where": "/tmp/x", "pair": [1, 2.5], "items": [0.5, 3, True]}
    assert isinstance(saved["extra"]["items"][1], int)
    assert saved["loss"] == 1.25 and saved["accs"] == [0.5, 0.75]
    assert saved["keyed"] == {"0.5": "half"}
    assert saved["obj"] == "opaque!"


def test_secret_keys_dropped_at_any_depth(tmp_path: Path) -> None:
    result = _result()
    result["config"].update(hf_token="hf_secretvalue", local_files_only=True)
    result["extra"] = {"nested": [{"api_key": "k", "Password": "p", "keep": 1}], "token": "t"}
    result["use_auth_token"] = "u"
    text = save_run_result(result, tmp_path / "run.json").read_text(encoding="utf-8")
    saved = json.loads(text)
    assert "hf_token" not in saved["config"] and saved["config"]["local_files_only"] is True
    assert saved["extra"] == {"nested": [{"keep": 1}]}
    assert "use_auth_token" not in saved
    assert "hf_secretvalue" not in text
    assert result["config"]["hf_token"] == "hf_secretvalue"  # input untouched


def test_hf_token_guard_refuses_to_write(tmp_path: Path, monkeypatch) -> None:
    token = "hf_ABCdef123456789"
    monkeypatch.setenv("HF_TOKEN", token)
    result = _result(notes=f"cache fetched with {token}")
    with pytest.raises(ValueError, match="HF_TOKEN") as info:
        save_run_result(result, tmp_path / "run.json")
    assert token not in str(info.value)
    assert _leftovers(tmp_path) == []
    monkeypatch.setenv("HF_TOKEN", "short")  # < 8 characters: too common to guard
    save_run_result(_result(notes="short"), tmp_path / "ok.json")
    assert _leftovers(tmp_path) == ["ok.json"]


def test_serialisation_failure_leaves_nothing(tmp_path: Path) -> None:
    with pytest.raises(RuntimeError, match="cannot serialise"):
        save_run_result(_result(bad=_Unprintable()), tmp_path / "run.json")
    assert _leftovers(tmp_path) == []


def test_failed_write_keeps_old_file_and_removes_temp(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "run.json"
    save_run_result(_result(seed=1), path)
    before = path.read_bytes()

    def broken_fsync(fd: int) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError, match="disk full"):
        save_run_result(_result(seed=2), path)
    assert path.read_bytes() == before
    assert _leftovers(tmp_path) == ["run.json"]
    monkeypatch.undo()
    fresh = tmp_path / "fresh.json"
    monkeypatch.setattr(os, "fsync", broken_fsync)
    with pytest.raises(OSError):
        save_run_result(_result(), fresh)
    assert not fresh.exists() and _leftovers(tmp_path) == ["run.json"]


def test_existing_file_replaced_whole(tmp_path: Path) -> None:
    path = tmp_path / "run.json"
    save_run_result(_result(padding=["x" * 100] * 200), path)
    save_run_result(_result(), path)
    data = load_run_result(path)
    assert "padding" not in data and data["wall_clock_seconds"] == 10.0
    assert _leftovers(tmp_path) == ["run.json"]


def test_load_errors_name_the_file(tmp_path: Path) -> None:
    truncated = tmp_path / "truncated.json"
    truncated.write_text('{"a": [1, 2', encoding="utf-8")
    with pytest.raises(ValueError, match="truncated.json"):
        load_run_result(truncated)
    listing = tmp_path / "list.json"
    listing.write_text("[1, 2]\n", encoding="utf-8")
    with pytest.raises(ValueError, match="JSON object"):
        load_run_result(listing)
    with pytest.raises(FileNotFoundError, match="missing.json"):
        load_run_result(tmp_path / "missing.json")


def test_import_stays_light() -> None:
    code = "import sys, lib.results; print('torch' in sys.modules)"
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=lib.ROOT, check=True,
        env={**os.environ, "PYTHONPATH": str(lib.ROOT)},
    )
    assert out.stdout.strip() == "False"


# ------------------------------------------------------------------------ FLOPs


def test_cifar_epoch_is_exactly_5_92_tflops() -> None:
    acc = FlopAccumulator()
    for _ in range(2):
        for batch in [128] * 390 + [80]:  # 391 batches = 50,000 images
            acc.add_train_batch(resnet18_train_flops(batch))
        for batch in [256] * 39 + [16]:  # 10,000 test images
            acc.add_eval_batch(resnet18_eval_flops(batch))
        assert acc.finish_epoch() == 5.92
    assert acc.epoch_tflops == [5.92, 5.92]
    assert acc.total_flops == 2 * (50_000 * 1.11e8 + 10_000 * 3.7e7)
    assert acc.total_tflops == 11.84
    assert acc.finish_epoch() == 0.0  # the epoch counter was reset
    assert RESNET18_CIFAR_FORWARD_FLOPS == 3.7e7
    assert resnet18_train_flops(1) == 1.11e8


def test_diagnostic_flops_are_kept_out_of_totals() -> None:
    acc = FlopAccumulator()
    acc.add_train_batch(1e12)
    acc.add_diagnostic(4 * 50_000 * 3.7e7)  # §4.2: label-noise diagnostic passes
    assert acc.total_tflops == 1.0
    assert acc.diagnostic_tflops == pytest.approx(7.4)
    assert acc.finish_epoch() == 1.0


def test_distilbert_formula_at_t64() -> None:
    # 6·(4·64·768² + 2·64²·768 + 2·64·768·3072) + 2·64·768 + 2·768·2, by hand:
    # 4TH² = 150,994,944; 2T²H = 6,291,456; 2THF = 301,989,888; sum 459,276,288; ×6 = 2,755,657,728
    # + 2TH = 98,304 + 2H·2 = 3,072
    expected = 2_755_759_104
    assert distilbert_forward_flops(64) == expected
    assert distilbert_eval_flops(32, 64) == 32 * expected
    assert distilbert_train_flops(32, 64) == 3 * 32 * expected
    # AG News quirk: the thesis counted the head with 2 labels; 4 labels would add 2·768·2
    assert distilbert_forward_flops(64, num_labels=4) - expected == 3_072


@pytest.mark.parametrize(
    ("call", "error"),
    [
        (lambda: resnet18_train_flops(0), ValueError),
        (lambda: resnet18_eval_flops(-8), ValueError),
        (lambda: resnet18_train_flops(1.5), TypeError),
        (lambda: resnet18_train_flops(True), TypeError),
        (lambda: distilbert_eval_flops(0, 64), ValueError),
        (lambda: distilbert_train_flops(8, 0), ValueError),
        (lambda: distilbert_forward_flops(-1), ValueError),
        (lambda: FlopAccumulator().add_train_batch(math.nan), ValueError),
        (lambda: FlopAccumulator().add_eval_batch(math.inf), ValueError),
        (lambda: FlopAccumulator().add_train_batch(-1.0), ValueError),
        (lambda: FlopAccumulator().add_diagnostic(-1.0), ValueError),
        (lambda: FlopAccumulator().add_eval_batch("1e9"), TypeError),
    ],
)
def test_bad_values_rejected(call, error) -> None:
    with pytest.raises(error, match="flops|batch_size|seq_len"):
        call()


# ------------------------------------------------------------------- provenance


def test_provenance_in_this_checkout() -> None:
    info = provenance("pm-123")
    assert set(info) == {"git_sha", "git_dirty", "package_versions", "papermill_run_id", "created_utc"}
    assert re.fullmatch(r"[0-9a-f]{40}", info["git_sha"])
    assert isinstance(info["git_dirty"], bool)
    assert info["papermill_run_id"] == "pm-123"
    versions = info["package_versions"]
    assert set(versions) == {
        "python", "torch", "torchvision", "pulseopt", "numpy", "transformers", "datasets", "tokenizers",
        "papermill", "schedulefree", "prodigyopt",
    }
    assert (versions["schedulefree"], versions["prodigyopt"]) == ("1.4.1", "1.1.2")
    assert versions["python"] == ".".join(map(str, sys.version_info[:3]))
    assert versions["pulseopt"] == "0.3.0"
    assert info["created_utc"].endswith("+00:00")


def test_provenance_outside_git(tmp_path: Path, monkeypatch) -> None:
    module = importlib.import_module("lib.results.provenance")  # the package re-exports the function
    monkeypatch.setattr(module, "ROOT", tmp_path)
    info = provenance()
    assert info["git_sha"] is None and info["git_dirty"] is None
    assert info["papermill_run_id"] is None
