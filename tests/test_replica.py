"""The offline replica (lib.replica) resolves through the thesis-path calls with the network off."""

from __future__ import annotations

import json
import socket

import pytest

from lib.replica import MARKER, read_marker



@pytest.fixture
def no_network(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a network request was attempted")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket, "create_connection", refuse)
    monkeypatch.setattr(socket, "getaddrinfo", refuse)


@pytest.mark.slow  # the full-size replica (~400 MB, 20-80 s once per session)
def test_model_replica_has_the_real_architecture_in_the_hub_layout(replica, no_network):
    from transformers import AutoConfig, AutoModelForSequenceClassification, AutoTokenizer

    root, parts = replica
    hf = str(root / "hf")
    repo = root / "hf" / "models--distilbert-base-uncased"
    commit = (repo / "refs" / "main").read_text()
    snap = repo / "snapshots" / commit
    assert parts["model"] == snap and (snap / "model.safetensors").is_symlink()
    assert (snap / "model.safetensors").resolve().parent == (repo / "blobs").resolve()
    cfg = AutoConfig.from_pretrained("distilbert-base-uncased", cache_dir=hf, local_files_only=True)
    assert (cfg.n_layers, cfg.dim, cfg.n_heads, cfg.hidden_dim, cfg.vocab_size) == (6, 768, 12, 3072, 30522)
    tok = AutoTokenizer.from_pretrained("distilbert-base-uncased", cache_dir=hf, local_files_only=True)
    assert len(tok) == 30522 and tok.convert_tokens_to_ids(["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]) \
        == [0, 100, 101, 102, 103]
    ids = tok("the film is n't good , but the cast shines")["input_ids"]
    assert ids[0] == 101 and ids[-1] == 102 and 100 not in ids  # every word known, none [UNK]
    model = AutoModelForSequenceClassification.from_pretrained("distilbert-base-uncased", cache_dir=hf,
                                                               local_files_only=True, num_labels=2)
    assert 66_000_000 < sum(p.numel() for p in model.parameters()) < 68_000_000
    assert read_marker(snap)["repo_id"] == "distilbert-base-uncased"


@pytest.mark.slow  # the full-size replica (~400 MB, 20-80 s once per session)
def test_dataset_replicas_load_offline_with_the_real_splits(replica, no_network):
    from lib.data.text import load_raw_splits, source_identity

    root, _ = replica
    hf = root / "hf"
    import datasets

    assert datasets.config.HF_HUB_OFFLINE  # conftest: offline, as make runs it
    sst = load_raw_splits("sst2", standin_dir=None, cache_dir=hf, local_files_only=False)
    assert {s: len(sst[s]) for s in sst} == {"train": 67_349, "validation": 872}
    assert sst["train"].features["label"].names == ["negative", "positive"]
    assert sst["train"].column_names == ["sentence", "label", "idx"]
    full = datasets.load_dataset("glue", "sst2", cache_dir=str(hf))
    assert len(full["test"]) == 1_821 and set(full["test"]["label"]) == {-1}
    ag = load_raw_splits("agnews", standin_dir=None, cache_dir=hf, local_files_only=True)
    assert {s: len(ag[s]) for s in ag} == {"train": 120_000, "test": 7_600}
    assert ag["train"].features["label"].names == ["World", "Sports", "Business", "Sci/Tech"]
    src = source_identity("sst2", None, hf)
    assert src["kind"] == "hub" and src["replica"]["sizes"]["train"] == 67_349


@pytest.mark.slow  # the full-size replica (~400 MB, 20-80 s once per session)
def test_cifar_replica_loads_through_the_thesis_call(replica, no_network):
    from lib.data.cifar import ensure_cifar100

    root, parts = replica
    arrays = ensure_cifar100(root / "data" / "cifar100", standin=False, download=False)
    assert len(arrays.train_targets) == 50_000 and len(arrays.test_targets) == 10_000
    assert tuple(arrays.train_images.shape[1:]) == (3, 32, 32) and len(arrays.fine_names) == 100
    assert not arrays.is_standin and arrays.replica["kind"] == "cifar100"
    assert (parts["cifar100"] / MARKER).is_file()


def test_replica_never_overwrites_real_caches(tmp_path):
    from lib.replica.cifar import write_cifar_replica
    from lib.replica.model import write_model_replica

    real = tmp_path / "data" / "cifar100" / "cifar-100-python"
    real.mkdir(parents=True)
    (real / "train").write_bytes(b"real")
    with pytest.raises(RuntimeError, match="not a replica"):
        write_cifar_replica(tmp_path / "data")
    snap = tmp_path / "hf" / "models--distilbert-base-uncased" / "snapshots" / "abc"
    snap.mkdir(parents=True)
    (snap.parent.parent / "refs").mkdir()
    (snap.parent.parent / "refs" / "main").write_text("abc")
    with pytest.raises(RuntimeError, match="not a replica"):
        write_model_replica(tmp_path / "hf")
    assert (real / "train").read_bytes() == b"real"


def test_runs_on_the_replica_are_marked_and_refused_by_the_analysis(tmp_path):
    from lib.analysis.load import load_archive

    base = {"method_name": "AdamW", "task_name": "sst2", "seed": 0, "val_accuracies": [0.5],
            "config": {"task_name": "sst2", "epochs": 1, "rehearsal_max_steps": 0}}
    (tmp_path / "ok.json").write_text(json.dumps(base))
    (tmp_path / "rehearsal.json").write_text(json.dumps(
        {**base, "config": {**base["config"], "rehearsal_max_steps": 2}, "rehearsal": {"max_steps_per_epoch": 2}}))
    (tmp_path / "replica.json").write_text(json.dumps({**base, "replica": {"data": {"kind": "hub-dataset"}}}))
    df = load_archive(tmp_path)
    assert [p.split("/")[-1] for p in df["path"]] == ["ok.json"]
    reasons = dict((p.split("/")[-1], why) for p, why in df.attrs["skipped"])
    assert "rehearsal run" in reasons["rehearsal.json"] and "offline replica" in reasons["replica.json"]
