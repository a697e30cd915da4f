"""The extension recipes of docs/design.md, each followed with a toy instance registered for the test only
(monkeypatch puts every table back): a peer optimizer reaches a RunResult, a table a rendered artifact, a
data set for the CIFAR task a RunResult. Each toy touches only the tables its recipe names."""

from __future__ import annotations

from typing import Any

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
