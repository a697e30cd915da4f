"""The extension recipes of docs/design.md, each followed with a toy instance registered for the test only
(monkeypatch puts every table back): a peer optimizer reaches a RunResult, a table a rendered artifact, a
data set for the CIFAR task a RunResult. Each toy touches only the tables its recipe names."""

from __future__ import annotations

from typing import Any

import pandas as pd
import pytest
import torch

from lib import config, vocab
from lib.control import peers

CIFAR_TINY = dict(epochs=1, standin_n_train=128, standin_n_test=100, model_width=4, batch_size=64,
                  checkpoint_every=0, episode_length=1)


def _cifar_result(tmp_path, monkeypatch, **params: Any) -> tuple[Any, dict[str, Any]]:
    from lib.train import cifar as T

    monkeypatch.setattr(T, "DATA_DIR", tmp_path / "data")
    cfg = config.resolve("cifar100", "mini", {**CIFAR_TINY, "output": str(tmp_path / "toy.json"), **params})
    run = T.start(cfg)
    T.load_data(run), T.build_model(run), T.build_optimization(run), T.fit(run)
    return run, T.finish(run)


# --- add an optimizer peer: lib/vocab.py (PEER_SPECS) + lib/control/peers.py (BUILDERS) ---

def _toy_sgd(params, lr, weight_decay, total_steps, fine_tuning):
    return torch.optim.SGD(params, lr=lr, momentum=0.0, weight_decay=weight_decay)


@pytest.fixture
def toy_peer(monkeypatch):
    monkeypatch.setitem(vocab.PEER_SPECS, "ToySGD", vocab.Peer("Toy SGD", "toysgd", default_lr=0.05))
    monkeypatch.setitem(peers.BUILDERS, "ToySGD", _toy_sgd)
    return "ToySGD"


def test_a_registered_peer_is_configured_built_and_recorded(toy_peer, tmp_path, monkeypatch):
    cfg = config.resolve("cifar100", "mini", {"optimizer": toy_peer})
    assert cfg.lr == 0.05  # its default LR
    text = config.resolve("agnews", "mini", {"method": toy_peer})
    assert (text.optimizer, vocab.is_managed({"method": toy_peer})) == (toy_peer, False)  # a baseline of its own
    with pytest.raises(config.ConfigError, match="machinery: 'thesis' times the thesis optimizers"):
        config.resolve("cifar100", "mini", {"optimizer": toy_peer, "machinery": "thesis"})
    run, result = _cifar_result(tmp_path, monkeypatch, optimizer=toy_peer, control_mode="adaptive",
                                lr_candidates="0.5,1")
    assert isinstance(run.optimizer, torch.optim.SGD) and run.aees is not None
    assert result["config"]["optimizer"] == toy_peer and result["config"]["lr"] == 0.05
    assert result["config"]["peer_optimizer"]["class"] == "torch.SGD"
    assert result["total_epochs"] == 1 and len(result["episode_logs"]["episode_rewards"]) == 2


def test_a_peer_without_a_builder_is_named(monkeypatch):
    monkeypatch.setitem(vocab.PEER_SPECS, "Nameless", vocab.Peer("Nameless", "nameless"))
    with pytest.raises(ValueError, match="'Nameless' has no builder in lib.control.peers.BUILDERS"):
        peers.build_peer([torch.nn.Parameter(torch.zeros(1))], "Nameless", 0.1, 0.0, total_steps=1)


def test_the_real_peers_have_a_builder_each():
    assert set(peers.BUILDERS) == set(vocab.PEER_SPECS)


# --- add a table: its builder in a builder module + its entry in lib/analysis/registry.py ---

def _toy_table(runs):
    """Best accuracy per method of the clean CIFAR-100 AdamW runs: one row per method."""
    from lib.analysis.build import Built, stats

    built = Built()
    rows = built.use(runs.pick(task="cifar100", setting="clean", optimizer="AdamW"), "clean CIFAR-100 AdamW")
    summary = stats(rows)
    built.cells = pd.DataFrame({"Method": summary["method"],
                                "Best (\\%)": [f"{100 * v:.1f}" for v in summary["best_val_accuracy_mean"]]})
    return built


def test_a_registered_table_is_rendered(tmp_path, monkeypatch):
    import shutil

    from lib import ROOT
    from lib.analysis import registry, render

    archive = tmp_path / "archive" / "cifar-clean"
    archive.mkdir(parents=True)
    for seed in (0, 1):
        shutil.copy(ROOT / "results" / "mini" / "cifar-clean" / f"cifar_clean_adamw_cosine_seed{seed}.json", archive)
    spec = registry.Spec("X99", "table", "cifar_clean", "toy_table", _toy_table, "A toy table")
    monkeypatch.setitem(registry.REGISTRY, "X99", spec)
    ctx = render.open_archive(tmp_path / "archive", tmp_path / "figures")
    assert "X99" in registry.artifact_ids("cifar_clean")
    row = render.render(ctx, "X99")
    assert row["status"] == "ok" and row["n_runs"] == 2
    csv = (tmp_path / "figures" / "cifar_clean" / "toy_table.csv").read_text()
    assert csv.splitlines()[0] == "Method,Best (\\%),provenance" and "Cosine" in csv
    assert "A toy table" in (tmp_path / "figures" / "cifar_clean" / "toy_table.tex").read_text()


# --- add a data set for the CIFAR task: its loader (lib/data/cifar_task.py LOADERS, reading a module of
# lib/data), its entry in lib/vocab.py (CIFAR_TASK_DATASETS), its classes in lib/noise.py ---

def _toy_images(folder, cfg):
    """Four classes of flat colours with a little noise, 32x32 RGB, as CIFAR-shaped arrays."""
    from lib.data.cifar import CifarArrays

    g = torch.Generator().manual_seed(0)

    def split(n):
        targets = [i % 4 for i in range(n)]
        base = torch.tensor([[40, 90, 160, 220][t] for t in targets], dtype=torch.int16).view(n, 1, 1, 1)
        images = (base + torch.randint(-20, 20, (n, 3, 32, 32), generator=g)).clamp(0, 255).to(torch.uint8)
        return images, targets

    (train, y_train), (test, y_test) = split(cfg.standin_n_train), split(cfg.standin_n_test)
    names = ["dark", "dim", "light", "bright"]
    return CifarArrays(train, y_train, test, y_test, names, ["all"], [0, 0, 0, 0], standin=None,
                       source={"toy": str(folder.name)})


def test_a_registered_data_set_trains_the_cifar_task_to_a_run_result(tmp_path, monkeypatch):
    from lib import noise
    from lib.analysis.build import data_label
    from lib.data import cifar_task

    monkeypatch.setitem(vocab.CIFAR_TASK_DATASETS, "toy", vocab.DataSet(
        "four flat colours, tests only", "toy", "Toy colours (4 classes)", "Toy colours — not thesis numbers"))
    monkeypatch.setitem(cifar_task.LOADERS, "toy", _toy_images)
    monkeypatch.setitem(noise.CIFAR_TASK_CLASSES, "toy", (4, (1, 2, 3, 0)))
    with pytest.raises(config.ConfigError, match="data_standin: must be false with dataset 'toy'"):
        config.resolve("cifar100", "mini", {"dataset": "toy"})
    run, result = _cifar_result(tmp_path, monkeypatch, dataset="toy", data_standin=False, epochs=2,
                                label_noise_type="asymmetric", label_noise_rate=0.25)
    assert result["dataset_name"] == "Toy colours (4 classes)" and result["config"]["dataset"] == "toy"
    assert result["config"]["data_source"] == {"toy": "toy"} and result["config"]["data_dir"] == "data/toy"
    assert run.model.fc.out_features == 4 and len(result["val_accuracies"]) == 2
    noisy = result["config"]["diagnostics"]["label_noise"]
    assert noisy["num_corrupted_examples"] == 32  # its asymmetric rule: each label to the next colour
    assert all(n == (o + 1) % 4 for n, o, c in zip(noisy["noisy_targets"], noisy["original_targets"],
                                                     noisy["corrupted_mask"]) if c)
    assert data_label(pd.DataFrame({"dataset": ["toy"], "standin": [False]})) == "Toy colours — not thesis numbers"
