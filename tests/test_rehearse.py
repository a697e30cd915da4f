"""make preflight / make rehearse, and the fidelity corrections of T14, T15-T19, T20."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from conftest import linked_copy
from lib import ROOT


# ------------------------------------------------------------------ preflight
def test_preflight_names_each_missing_piece_with_its_command(tmp_path, monkeypatch):
    import torch

    from lib import preflight as P

    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    items = {it.name: it for it in P.preflight("thesis", data_dir=tmp_path / "data", hf_cache=tmp_path / "hf",
                                                results_dir=tmp_path, measure=False)}
    missing = {n for n, it in items.items() if not it.ok}
    assert missing == {"gpu", "cifar100", "tokenized sst2", "tokenized agnews", "tokenized agnews-noisy",
                       "model cache"}
    assert "no GPU visible" in items["gpu"].message
    assert "no CIFAR-100" in items["cifar100"].message and "--fetch-cifar" in items["cifar100"].message
    assert "pretokenize_only True" in items["tokenized sst2"].message
    assert "label_noise_rate 0.2" in items["tokenized agnews-noisy"].message
    assert "no distilbert-base-uncased in the model cache" in items["model cache"].message
    assert "snapshot_download('distilbert-base-uncased', cache_dir='.hf_cache'" in items["model cache"].message
    assert items["disk"].ok and "GB free" in items["disk"].message


def test_preflight_sees_prepared_pieces_and_rejects_the_replica(tmp_path, monkeypatch):
    from lib import preflight as P
    from lib.replica import write_marker

    data = tmp_path / "data"
    for sub, pats in P.TOKENIZED.values():
        for pat in pats:
            (data / sub).mkdir(parents=True, exist_ok=True)
            (data / sub / pat.replace("*", "abc")).write_text("{}")
    cifar = data / "cifar100" / "cifar-100-python"
    cifar.mkdir(parents=True)
    for f in ("train", "test", "meta"):
        (cifar / f).write_bytes(b"x")
    write_marker(cifar, {"kind": "cifar100"})
    items = {it.name: it for it in P.preflight("thesis", data_dir=data, hf_cache=tmp_path / "hf",
                                                results_dir=tmp_path, measure=False)}
    assert all(items[f"tokenized {k}"].ok for k in P.TOKENIZED)
    assert not items["cifar100"].ok and "offline replica" in items["cifar100"].message
    assert P.preflight("mini", measure=False)[0].ok


def test_preflight_estimate_counts_every_thesis_run(monkeypatch):
    from lib import preflight as P
    from lib import preflight_torch

    monkeypatch.setattr(preflight_torch, "step_seconds", lambda task, device, length: 0.1)
    item, hours = P.estimate_hours("thesis", "cpu")
    # cifar-clean: 40 runs x 200 epochs x 391 steps x 0.1 s x 1.1
    assert hours["cifar-clean"] == pytest.approx(40 * 200 * 391 * 0.1 * P.EVAL_FACTOR / 3600)
    from lib.grids.definitions import GRIDS

    assert "CPU-hours" in item.message and set(hours) == set(GRIDS) and "peers" in hours


# ------------------------------------------------------------------ T14, T15-T19, T20 on the mini archive
@pytest.fixture(scope="module")
def mini(tmp_path_factory):
    from lib.analysis.render import open_archive

    return open_archive("results/mini", tmp_path_factory.mktemp("figs"))


def test_t14_rows_in_the_thesis_order(mini):
    from lib.analysis.render import build

    cells = build(mini, "T14").cells
    first = cells["Configuration"].tolist()[:8]
    assert first == ["Baseline", "Cosine", "AEES-LR", "AEES-Noise", "AEES-Dual",
                     "Cosine + AEES-LR", "Cosine + AEES-Noise", "Cosine + AEES-Dual"]


def test_nlp_tables_spell_warmup_linear_out_except_t20(mini):
    from lib.analysis.render import build

    t15 = build(mini, "T15").cells.iloc[:, 0].tolist()
    assert t15 == ["AdamW", "AdamW + warmup-linear", "AEES", "AEES + warmup-linear"]
    assert "AEES-Dual + warmup-linear" in build(mini, "T16").cells.iloc[:, 0].tolist()
    t20 = build(mini, "T20").cells
    assert "AdamW + WL" in t20["Method"].tolist()
    baseline = t20[t20["Method"] == "AdamW"]["Episode length"].tolist()
    assert baseline and "--" not in baseline  # the recorded config value (thesis: 100, mini: 50)


# ------------------------------------------------------------------ thesis path offline
@pytest.mark.slow
def test_offline_thesis_notebook_without_model_ends_in_the_project_message(tmp_path):
    """papermill train_sst2 -p profile thesis, offline, empty caches: MissingResource, not a raw OSError."""
    home = tmp_path / "hf-home"
    env = {**os.environ, "AEES_DATA_DIR": str(tmp_path / "data"), "HF_HOME": str(home),
           "HF_DATASETS_CACHE": str(home / "datasets"), "HUGGINGFACE_HUB_CACHE": str(home / "hub"),
           "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-m", "papermill", "--kernel", "aees", "notebooks/train_sst2.ipynb",
                          str(tmp_path / "o.ipynb"), "-p", "profile", "thesis", "-p", "cache_dir",
                          str(tmp_path / "hf"), "-p", "output", str(tmp_path / "o.json")],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert out.returncode != 0
    tail = out.stderr[-3000:]
    assert "MissingResource" in tail and "distilbert-base-uncased" in tail and "pretokenize_only True" in tail
    assert "make prepare-thesis" in tail
    assert "We couldn't connect" not in tail.splitlines()[-1]


@pytest.mark.slow
def test_rehearse_subset_passes_and_its_results_are_refused(tmp_path, replica):
    """The rehearsal on two grids (noisy AG News: pretokenize, 108k noise block, NLP resume; noisy CIFAR),
    in a work folder holding the session's replica: lib.rehearse keeps a replica whose markers are current."""
    report = tmp_path / "report.json"
    for part in ("hf", "data"):
        linked_copy(replica[0] / part, tmp_path / "w" / part)
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    out = subprocess.run([sys.executable, "-m", "lib.rehearse", "--grids", "agnews-noisy cifar-noisy",
                          "--max-steps", "1", "--workdir", str(tmp_path / "w"), "--report", str(report)],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=1200)
    assert out.returncode == 0, out.stdout[-3000:] + out.stderr[-3000:]
    rep = json.loads(report.read_text())
    assert rep["passed"]
    details = [(name, detail) for step in rep["steps"] for name, ok, detail in step["checks"]]
    noise = [d for name, d in details if name == "label-noise block"]
    assert any(d.startswith("108,000 examples") for d in noise) and any(d.startswith("50,000") for d in noise)
    assert ("every rehearsal result refused", "0 accepted, 2 refused") in details
    assert any(step.get("checkpoint_bytes") for step in rep["steps"])
