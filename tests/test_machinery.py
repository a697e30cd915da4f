"""The thesis machinery (``machinery=thesis``) and the timed epoch.

* the thesis machinery really builds stock ``pulseopt.AEES``, pulseopt's SGD wrapper for the SGD
  baseline, a torch DataLoader with 2 workers and torchvision's PIL transforms, writes no
  checkpoint, and records all of it in the RunResult;
* a checkpoint write never falls inside a timed epoch (``epoch_wall_clock_seconds``).
"""

from __future__ import annotations

import pulseopt
import pytest

from lib import config
from lib.config import ConfigError
from lib.control.fast import FastAEES
from lib.train import checkpoint, loop, thesis_machinery
from lib.train import cifar as T

TINY = dict(epochs=2, standin_n_train=128, standin_n_test=100, model_width=4, batch_size=64, episode_length=1)


def _run(tmp_path, monkeypatch, **params):
    monkeypatch.setattr(T, "DATA_DIR", tmp_path / "data")
    cfg = config.resolve("cifar100", "mini", {**TINY, "output": str(tmp_path / "r.json"), **params})
    run = T.start(cfg)
    T.load_data(run), T.build_model(run), T.build_optimization(run)
    return run


def test_thesis_machinery_resolves_to_the_thesis_settings() -> None:
    cfg = config.resolve("cifar100", "mini", {"machinery": "thesis"})
    assert (cfg.aees_impl, cfg.checkpoint_every, cfg.precision) == ("stock", 0, "fp32")
    assert config.resolve("cifar100", "mini", {}).machinery == "project"  # the default: today's behaviour
    for bad in ({"aees_impl": "fast"}, {"checkpoint_every": 1}, {"compile": True}, {"optimizer": "Prodigy"}):
        with pytest.raises(ConfigError, match="thesis"):
            config.resolve("cifar100", "mini", {"machinery": "thesis", **bad})
    nlp = config.resolve("sst2", "mini", {"machinery": "thesis", "method": "AdaptiveScheduler"})
    assert (nlp.aees_impl, nlp.checkpoint_every, nlp.group_by_length) == ("stock", 0, False)
    assert thesis_machinery.details(nlp)["aees"].startswith("stock pulseopt")
    assert "no PIL" in thesis_machinery.details(nlp)["data_pipeline"]


def test_thesis_machinery_builds_stock_aees_dataloader_and_pil_transforms(tmp_path, monkeypatch) -> None:
    from torchvision import transforms as TV

    run = _run(tmp_path, monkeypatch, machinery="thesis", control_mode="adaptive", lr_candidates=[0.5, 1, 2],
               label_noise_type="symmetric", label_noise_rate=0.4)
    assert type(run.aees) is pulseopt.AEES and not isinstance(run.aees, FastAEES)
    loader = run.train_loader
    assert loader.num_workers == 2 and run.test_loader.num_workers == 2 and loader.generator is run.data_generator
    steps = [type(t) for t in loader.dataset.transform.transforms]
    assert steps == [TV.RandomCrop, TV.RandomHorizontalFlip, TV.ToTensor, TV.Normalize]
    assert loader.dataset.transform.transforms[0].padding == 4
    assert [type(t) for t in run.test_loader.dataset.transform.transforms] == [TV.ToTensor, TV.Normalize]
    saves = []
    monkeypatch.setattr(checkpoint, "save", lambda *a, **k: saves.append(a))
    T.fit(run)
    result = T.finish(run)
    assert saves == [] and not checkpoint.checkpoint_path(run.output).exists()  # no checkpoint writes
    cfg = result["config"]
    assert (cfg["machinery"], cfg["aees_impl"], cfg["checkpoint_every"], cfg["num_workers"]) == ("thesis", "stock", 0, 2)
    assert cfg["machinery_details"] == thesis_machinery.DETAILS["thesis"]["cifar100"]
    assert "PIL" in cfg["data_pipeline"] and len(result["epoch_wall_clock_seconds"]) == 2
    assert result["peak_checkpoint_diagnostics"]["epoch"] in (1, 2)  # the diagnostics still run


def test_thesis_sgd_baseline_goes_through_pulseopts_wrapper(tmp_path, monkeypatch) -> None:
    thesis = _run(tmp_path / "t", monkeypatch, machinery="thesis", optimizer="SGD", lr=0.1, lr_scheduler="cosine")
    assert isinstance(thesis.optimizer, pulseopt.AdaptiveModeSGD) and thesis.aees is None
    T.fit(thesis)
    result = T.finish(thesis)
    assert result["epoch_lrs"] == pytest.approx([0.1, 0.05])  # the epoch schedule drives the wrapper's base LR
    assert result["episode_logs"] is None and result["config"]["machinery_details"]["sgd_baseline"].startswith("pulseopt")
    project = _run(tmp_path / "p", monkeypatch, optimizer="SGD", lr=0.1)
    assert type(project.optimizer) is __import__("torch").optim.SGD and project.train_loader is None
    adamw = _run(tmp_path / "a", monkeypatch, machinery="thesis")  # the thesis AdamW baseline: plain torch
    assert type(adamw.optimizer) is __import__("torch").optim.AdamW


@pytest.mark.parametrize("machinery", ["project", "thesis"])
def test_no_checkpoint_write_inside_a_timed_epoch(tmp_path, monkeypatch, machinery) -> None:
    """Every checkpoint save happens after the epoch's clock stopped and before the next one starts."""
    events: list[tuple[str, object]] = []
    timers: list[object] = []

    class Timer(loop.EpochTimer):  # fit's epoch clock is the first one built (train_pass builds its own)
        def __init__(self, device) -> None:
            timers.append(self)
            super().__init__(device)

        def start(self) -> None:
            events.append(("start", self))
            super().start()

        def stop(self) -> float:
            events.append(("stop", self))
            return super().stop()

    monkeypatch.setattr(loop, "EpochTimer", Timer)
    save = checkpoint.save
    monkeypatch.setattr(checkpoint, "save", lambda run, path: (events.append(("save", None)), save(run, path)))
    extra = {"checkpoint_every": 1} if machinery == "project" else {"machinery": "thesis"}
    run = _run(tmp_path, monkeypatch, epochs=3, **extra)
    T.fit(run)
    events = [e for e, who in events if who in (None, timers[0])]
    assert events.count("start") == 3 and len(run.metrics["epoch_wall_clock_seconds"]) == 3
    assert events.count("save") == (2 if machinery == "project" else 0)  # after epochs 1 and 2, not the last
    depth = 0
    for e in events:
        depth += {"start": 1, "stop": -1, "save": 0}[e]
        assert depth in (0, 1) and not (e == "save" and depth), events
