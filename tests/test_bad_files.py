"""A run is never lost to a bad file: unreadable checkpoints, damaged stand-in data and caches,
and a disk that fills up during a checkpoint or result write."""

from __future__ import annotations

import errno
import json
import os
import pickle
import stat

import pytest
import torch

from lib import config
from lib.train import checkpoint, guard
from lib.train import cifar as T

TINY = dict(epochs=3, standin_n_train=256, standin_n_test=128, model_width=8, batch_size=64,
            control_mode="baseline", seed=1, checkpoint_every=1)


@pytest.fixture
def tiny(tmp_path, monkeypatch):
    """Run a tiny mini CIFAR run in this process on a stand-in under tmp_path/data."""
    monkeypatch.setattr(T, "DATA_DIR", tmp_path / "data")
    started = []

    def run(output, until_fit=False, **params):
        cfg = config.resolve("cifar100", "mini", {**TINY, **params, "output": str(output)})
        r = T.start(cfg)
        started.append(r.output)
        T.load_data(r)
        T.build_model(r)
        T.build_optimization(r)
        if until_fit:
            return r
        T.fit(r)
        return T.finish(r)
    yield run
    for output in started:  # runs a test left unfinished hold their lock until here
        guard.release(output)


def test_garbage_checkpoint_is_moved_aside_and_the_run_starts_afresh(tiny, tmp_path, capsys):
    reference = tiny(tmp_path / "ref.json")
    out = tmp_path / "out.json"
    ckpt = checkpoint.checkpoint_path(out)
    ckpt.write_bytes(b"1.5 garbage that torch.load cannot unpickle\n" * 10)
    result = tiny(out)
    log = capsys.readouterr().out
    aside = [p for p in tmp_path.iterdir() if p.name.startswith("out.json.ckpt.corrupt-")]
    assert len(aside) == 1 and aside[0].read_bytes().startswith(b"1.5 garbage")
    lines = [ln for ln in log.splitlines() if "cannot be read" in ln]
    assert len(lines) == 1 and aside[0].name in lines[0] and "starting this run afresh" in lines[0]
    assert "Traceback" not in log and "resumed from" not in log
    assert result["val_accuracies"] == reference["val_accuracies"]
    assert result["train_losses"] == reference["train_losses"]
    assert not ckpt.exists()


def test_truncated_and_foreign_checkpoints_are_moved_aside(tiny, tmp_path, capsys):
    out = tmp_path / "out.json"
    run = tiny(out, until_fit=True, epochs=2)
    checkpoint.save(run, checkpoint.checkpoint_path(out))
    data = checkpoint.checkpoint_path(out).read_bytes()
    checkpoint.checkpoint_path(out).write_bytes(data[: len(data) // 2])  # truncated
    checkpoint.resume_if_any(run)
    assert run.epoch == 0
    torch.save({"state_dict": {}}, checkpoint.checkpoint_path(out))  # someone else's .pt file
    checkpoint.resume_if_any(run)
    assert run.epoch == 0 and not checkpoint.checkpoint_path(out).exists()
    log = capsys.readouterr().out
    assert log.count("cannot be read") == 2 and "not a format-1 checkpoint" in log
    assert len(list(tmp_path.glob("out.json.ckpt.corrupt-*"))) >= 1


def test_full_disk_keeps_the_previous_checkpoint_and_writes_no_partial_json(tiny, tmp_path, monkeypatch,
                                                                            capsys):
    out = tmp_path / "out.json"
    run = tiny(out, until_fit=True)
    real_fsync = os.fsync
    ckpt = checkpoint.checkpoint_path(out)

    def full_disk(fd):  # once the first checkpoint is written, every file write finds the disk full
        if ckpt.exists() and stat.S_ISREG(os.fstat(fd).st_mode):
            raise OSError(errno.ENOSPC, "No space left on device")
        real_fsync(fd)

    monkeypatch.setattr(os, "fsync", full_disk)
    T.fit(run)  # a failed checkpoint write does not stop the run
    log = capsys.readouterr().out
    assert "checkpoint after epoch 2 not written" in log and "previous checkpoint is kept" in log
    with pytest.raises(OSError, match="No space left"):
        T.finish(run)
    leftovers = sorted(p.name for p in tmp_path.iterdir() if p.is_file())
    # no JSON, no temporary file; the live record stays, so `make runs-status` names the run dead with its resume command
    assert leftovers == ["out.json.ckpt", "out.json.lock", "out.json.progress"], leftovers
    assert torch.load(checkpoint.checkpoint_path(out), weights_only=False)["epoch"] == 1

    monkeypatch.setattr(os, "fsync", real_fsync)  # space again: the rerun resumes after epoch 1
    result = tiny(out)
    assert "resumed from out.json.ckpt after epoch 1" in capsys.readouterr().out
    assert len(result["val_accuracies"]) == 3 and json.loads(out.read_text())["total_epochs"] == 3
    assert not checkpoint.checkpoint_path(out).exists()


@pytest.mark.parametrize("damage", ["truncated", "foreign"])
def test_damaged_cifar_standin_is_regenerated(tmp_path, capsys, damage):
    from lib.data.cifar import ensure_cifar100

    root = tmp_path / "standin"
    fresh = ensure_cifar100(root, standin=True, n_train=200, n_test=100)
    train = root / "cifar-100-python" / "train"
    if damage == "truncated":
        train.write_bytes(train.read_bytes()[:5000])
    else:  # a valid pickle of the right layout, but another data set's size
        with open(train, "rb") as fh:
            obj = pickle.load(fh, encoding="latin1")
        obj = {k: v[:150] for k, v in obj.items() if k != "batch_label"} | {"batch_label": "x"}
        with open(train, "wb") as fh:
            pickle.dump(obj, fh)
    again = ensure_cifar100(root, standin=True, n_train=200, n_test=100)
    log = capsys.readouterr().out
    assert log.count("regenerating it") == 1 and "cannot be read" in log
    assert torch.equal(again.train_images, fresh.train_images) and again.train_targets == fresh.train_targets


@pytest.mark.parametrize("damage", ["truncated", "foreign"])
def test_damaged_text_standin_is_regenerated(tmp_path, capsys, damage):
    import pyarrow as pa
    import pyarrow.parquet as pq

    from lib.data import standin_text as st

    folder = st.write_text_standin("sst2", tmp_path, seed=0, n_train=40, n_validation=20)
    split = folder / "train.parquet"
    before = split.read_bytes()
    if damage == "truncated":
        split.write_bytes(before[: len(before) // 2])
    else:
        pq.write_table(pa.table({"text": ["a foreign file"] * 40, "label": [0] * 40}), split)
    st.write_text_standin("sst2", tmp_path, seed=0, n_train=40, n_validation=20)
    log = capsys.readouterr().out
    assert log.count("regenerating the sst2 stand-in") == 1
    assert ("cannot be read" in log) if damage == "truncated" else ("is not this stand-in" in log)
    assert split.read_bytes() == before


def test_truncated_tokenized_cache_is_rebuilt(tmp_path, capsys):
    from lib.data import standin_model as sm
    from lib.data import standin_text as st
    from lib.data.text import prepare_text_task

    corpus = st.standin_corpus(3, 60)
    model = sm.build_standin_model_dir(tmp_path / "model", corpus, seed=0, vocab_size=300)
    data = st.write_text_standin("sst2", tmp_path / "raw", seed=0, n_train=60, n_validation=20)

    def prepare():
        return prepare_text_task("sst2", tokenizer_dir_or_name=model, max_length=32,
                                 tokenized_dataset_dir=tmp_path / "tok", cache_dir=tmp_path / "hf",
                                 local_files_only=True, standin_dir=data)

    expected = list(prepare().train["input_ids"])
    arrow = next((tmp_path / "tok").glob("train-*/data-*.arrow"))
    cut = arrow.with_name("cut")  # a new file: the first load's memory map stays valid
    cut.write_bytes(arrow.read_bytes()[: arrow.stat().st_size // 2])
    os.replace(cut, arrow)
    capsys.readouterr()
    again = prepare()
    log = capsys.readouterr().out
    assert log.count("cannot be read") == 1 and "rebuilding it" in log and "tokenized cache" in log
    assert again.cache_info["splits"]["train"]["reused"] is False
    assert again.cache_info["splits"]["validation"]["reused"] is True
    assert list(again.train["input_ids"]) == expected


def test_damaged_standin_model_is_rebuilt(tmp_path, capsys):
    from lib.data import standin_model as sm
    from lib.data import standin_text as st

    corpus = st.standin_corpus(5, 40)
    folder = sm.build_standin_model_dir(tmp_path / "model", corpus, seed=0, vocab_size=200)
    weights = folder / "model.safetensors"
    before = weights.read_bytes()
    weights.write_bytes(before[: len(before) // 3])
    assert sm.build_standin_model_dir(tmp_path / "model", corpus, seed=0, vocab_size=200) == folder
    log = capsys.readouterr().out
    assert log.count("is damaged") == 1 and "rebuilding it" in log
    assert weights.read_bytes() == before
