"""The thesis machinery (``machinery=thesis``) and the timed epoch.

* the thesis machinery really builds what the thesis runner built (pulseopt's optimizer wrappers
  driven by a ``StructuredEpisodeManager``; the SGD baseline through the SGD wrapper), a torch
  DataLoader with 2 workers and torchvision's PIL transforms, writes no checkpoint, and records all
  of it in the RunResult; its decisions are stock ``pulseopt.AEES``'s;
* its timed epoch holds the runner's host reads (``.item()``: two per training step, three per
  evaluation batch, and the episode manager's) and no copy of the best weights;
* a checkpoint write never falls inside a timed epoch (``epoch_wall_clock_seconds``).
"""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

import pulseopt
import pytest
import torch

from lib import ROOT, config
from lib.config import ConfigError
from lib.control.fast import FastAEES
from lib.control import internals
from lib.control.wiring import build_control
from lib.train import checkpoint, loop, thesis_loop, thesis_machinery
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
    # the thesis runner's objects: pulseopt's wrapper driven by its own episode manager, not pulseopt.AEES
    assert type(run.optimizer) is pulseopt.AdaptiveModeAdamW and isinstance(run.aees, thesis_loop.ThesisEpisodes)
    assert not isinstance(run.aees, (pulseopt.AEES, FastAEES))
    assert type(run.aees.episode_manager) is pulseopt.StructuredEpisodeManager
    lr_ctrl, noise_ctrl = internals.controllers_of(run.aees)
    assert type(lr_ctrl) is pulseopt.DiscountedUCBController and noise_ctrl is None  # σ axis fixed: no controller
    assert run.optimizer._mode == pulseopt.CandidateConfig("lr0p5_n0", 0.5, 0.0) and run.optimizer._noise_seed == 0
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
    assert thesis.optimizer._mode == pulseopt.CandidateConfig(name="base")  # the runner's mode: ×1, σ 0
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


def _timed(monkeypatch, events: list) -> list:
    """Record fit's epoch clock (the first EpochTimer built) starting and stopping into ``events``."""
    timers: list[object] = []

    class Timer(loop.EpochTimer):
        def __init__(self, device) -> None:
            timers.append(self)
            super().__init__(device)

        def start(self) -> None:
            if self is timers[0]:
                events.append("start")
            super().start()

        def stop(self) -> float:
            if self is timers[0]:
                events.append("stop")
            return super().stop()

    monkeypatch.setattr(loop, "EpochTimer", Timer)
    return timers


def _spans(events: list) -> list[list]:
    """The events inside each timed epoch."""
    spans, inside = [], None
    for e in events:
        if e == "start":
            inside = []
        elif e == "stop":
            spans.append(inside)
            inside = None
        elif inside is not None:
            inside.append(e)
    return spans


def _count_items(monkeypatch, events: list) -> None:
    """Record every ``.item()`` the training code makes (this project's ``lib`` and pulseopt; torch's
    own, such as the DataLoader's seed draw or CPU Adam's step count, are not the runner's)."""
    item = torch.Tensor.item
    ours = (str(ROOT / "lib"), str(Path(pulseopt.__file__).parent))

    def counted(self):
        if sys._getframe(1).f_code.co_filename.startswith(ours):
            events.append("item")
        return item(self)

    monkeypatch.setattr(torch.Tensor, "item", counted)


@pytest.mark.parametrize("mode", ["baseline", "adaptive"])
def test_thesis_timed_epoch_holds_the_runners_host_reads(tmp_path, monkeypatch, mode) -> None:
    """128 training images in batches of 64 (2 steps), 100 test images (2 batches): per step the
    loss and the correct count (AEES: the loss again for the episode manager, and the wrapper's
    update norm, one read per parameter tensor), per evaluation batch three reads."""
    events: list = []
    _timed(monkeypatch, events)
    run = _run(tmp_path, monkeypatch, machinery="thesis", epochs=1, control_mode=mode, lr_candidates=[0.5, 1, 2])
    _count_items(monkeypatch, events)
    steps = []
    manager = run.aees.episode_manager if run.aees is not None else None
    if manager is not None:
        end = manager.on_step_end
        monkeypatch.setattr(manager, "on_step_end", lambda *a, **k: (events.append("on_step_end"), end(*a, **k))[1])
    step = run.optimizer.step
    monkeypatch.setattr(run.optimizer, "step", lambda *a, **k: (events.append("step"), step(*a, **k), steps.append(1))[1])
    T.fit(run)
    (span,) = _spans(events)
    n_tensors = len(list(run.model.parameters()))
    per_step = ["step", "item", "item"] if mode == "baseline" else \
        ["step"] + ["item"] * n_tensors + ["item", "item", "item", "on_step_end"]
    assert span == per_step * 2 + ["item"] * 3 * 2, span
    assert len(steps) == 2 and run.stepper.global_step == 2


def test_project_timed_epoch_reads_nothing_per_step(tmp_path, monkeypatch) -> None:
    """The project's machinery (unchanged) keeps its metrics on the device: no .item() in the epoch."""
    events: list = []
    _timed(monkeypatch, events)
    run = _run(tmp_path, monkeypatch, epochs=1, control_mode="adaptive", lr_candidates=[0.5, 1, 2])
    _count_items(monkeypatch, events)
    T.fit(run)
    assert _spans(events) == [[]]


@pytest.mark.parametrize(("machinery", "noise"), [("project", {}), ("thesis", {}),
                                                  ("thesis", {"label_noise_type": "symmetric",
                                                              "label_noise_rate": 0.4})])
def test_best_weights_copy_and_the_timed_epoch(tmp_path, monkeypatch, machinery, noise) -> None:
    """The thesis timed no weight copy: under its machinery the best epoch's weights are copied after
    the clock stops, and only where they are read (noisy runs); the project copies inside."""
    events: list = []
    _timed(monkeypatch, events)
    copy = T.TASK.best_extras
    monkeypatch.setattr(T, "TASK", dataclasses.replace(T.TASK, best_extras=lambda run: (events.append("copy"),
                                                                                      copy(run))[1]))
    run = _run(tmp_path, monkeypatch, machinery=machinery, epochs=3, **noise)
    T.fit(run)
    improving = len({v for i, v in enumerate(run.metrics["val_accuracies"])
                     if v > max([0.0] + run.metrics["val_accuracies"][:i])})
    inside = sum(span.count("copy") for span in _spans(events))
    assert improving >= 1
    assert events.count("copy") == (improving if machinery == "project" or noise else 0)
    assert inside == (improving if machinery == "project" else 0)
    assert ("state" in run.best) == (machinery == "project" or bool(noise))
    if "state" in run.best and run.best["epoch"] == 3:  # the last epoch's weights are the model's
        assert all(torch.equal(v, run.model.state_dict()[k]) for k, v in run.best["state"].items())


def _drive(step_fn, params, batches) -> None:
    for x, y in batches:
        step_fn(lambda: torch.nn.functional.cross_entropy(params(x), y))


@pytest.mark.parametrize(("optimizer", "context"), [("AdamW", "none"), ("SGD", "trend")])
def test_thesis_objects_decide_and_update_as_stock_aees(optimizer, context) -> None:
    """The runner's wrapper + episode manager and stock pulseopt.AEES, fed the same batches, take the
    same arms, earn the same rewards and leave the same weights (gradient noise included)."""
    cfg = config.resolve("cifar100", "mini", {"control_mode": "adaptive", "optimizer": optimizer, "lr": 0.05,
                                              "lr_candidates": [0.5, 1, 2], "noise_candidates": [0, 0.01],
                                              "episode_length": 2, "context_mode": context, "seed": 3})
    torch.manual_seed(0)
    batches = [(torch.randn(8, 5), torch.randint(0, 3, (8,))) for _ in range(11)]
    models = [torch.nn.Linear(5, 3) for _ in range(2)]
    models[1].load_state_dict(models[0].state_dict())

    opt, episodes, logger, stepper = thesis_loop.build(models[0].parameters(), cfg, "adaptive")

    def thesis_step(loss_fn):
        stepper.start()
        loss = loss_fn()
        loss.backward()
        stepper.step()
        stepper.end(loss)

    _drive(thesis_step, models[0], batches)
    stepper.finalize()
    base = (torch.optim.AdamW(models[1].parameters(), lr=cfg.lr, weight_decay=cfg.weight_decay)
            if optimizer == "AdamW" else
            torch.optim.SGD(models[1].parameters(), lr=cfg.lr, momentum=cfg.momentum, weight_decay=cfg.weight_decay))
    control = build_control(base, cfg, aees_class=pulseopt.AEES)

    def stock_step(loss_fn):
        control.stepper.start()
        loss = loss_fn()
        loss.backward()
        control.stepper.finish(loss)

    _drive(stock_step, models[1], batches)
    control.stepper.finalize()
    ours, stock = episodes.get_logs(), control.aees.get_logs()
    assert len(ours["episode_rewards"]) == 6 and ours == stock
    assert logger.logs() == control.logger.logs()
    assert all(torch.equal(a, b) for a, b in zip(models[0].parameters(), models[1].parameters(), strict=True))


@pytest.mark.slow  # two text stand-in runs (the stand-in data and model are built once, ~25 s)
def test_text_thesis_machinery_runs_the_runners_step_with_stock_decisions(tmp_path, monkeypatch) -> None:
    """SST-2 stand-in, AEES-Dual with the trend context: the thesis machinery (the runner's wrapper and
    episode manager, its host reads) and the project's with stock pulseopt.AEES in fp32 train the same
    weights and take the same arms; only the loss sums differ (Python floats vs the device)."""
    from lib.train import text as X

    monkeypatch.setattr(X, "DATA_DIR", tmp_path / "data")
    params = {"epochs": 2, "episode_length": 5, "standin_n_train": 96, "standin_n_validation": 40, "batch_size": 16,
              "method": "AdaptiveScheduler", "lr_candidates": [0.7, 1, 1.3], "noise_candidates": [0, 0.005],
              "context_mode": "trend", "lr_scheduler": "warmup_linear", "cache_dir": str(tmp_path / "hf")}
    results = {}
    for machinery, extra in (("thesis", {}), ("project", {"aees_impl": "stock", "precision": "fp32",
                                                          "group_by_length": False, "checkpoint_every": 0})):
        cfg = config.resolve("sst2", "mini", {**params, **extra, "machinery": machinery,
                                              "output": str(tmp_path / f"{machinery}.json")})
        run = X.start(cfg)
        X.load_data(run), X.build_model(run), X.build_optimization(run)
        if machinery == "thesis":
            assert type(run.optimizer) is pulseopt.AdaptiveModeAdamW
            assert type(internals.controllers_of(run.aees)[0]) is pulseopt.BucketedContextualController
        X.fit(run)
        results[machinery] = X.finish(run)
    thesis, project = results["thesis"], results["project"]
    assert thesis["config"]["machinery"] == "thesis" and thesis["total_steps"] == project["total_steps"] == 12
    assert thesis["episode_logs"] == project["episode_logs"] and len(thesis["episode_logs"]["episode_rewards"]) == 3
    assert thesis["controller_logs"] == project["controller_logs"]
    assert thesis["val_accuracies"] == project["val_accuracies"]
    assert thesis["train_losses"] == pytest.approx(project["train_losses"], rel=1e-5)
