"""The one training loop both tasks run (protocol 1.5, 6.2, 6.3, 7.2).

    fit(run, task)    # epochs: train pass, evaluate, record, checkpoint

The run's optimizer step with or without AEES (``run.stepper``) comes from
:func:`lib.control.wiring.build_control`.

A task (:class:`Task`) supplies what differs between CIFAR-100 and the text tasks: its batches,
the forward pass to (loss, logits), its FLOP counts, its evaluation, when its scheduler steps
(``"epoch"`` for CIFAR, ``"step"`` for the text tasks) and its extra per-epoch metrics. The
skeleton (resume, timing, metrics, best epoch, progress line, checkpoint, closing the trailing
episode, what watchers see: the live record and TensorBoard scalars) and the train pass (AEES step, loss/accuracy/subset bookkeeping) live here once.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from lib.control.peers import evaluation_weights as peer_evaluation_weights
from lib.results import save_run_result
from lib.train import board, checkpoint, guard, live, preempt, progress
from lib.train.common import (
    EpochTimer,
    autocast,
    record_subset_epoch,
    subset_hits,
)
from lib.train.rehearsal import capped, mark_result
from lib.train.state import RunState


@dataclass(frozen=True)
class Task:
    """What a task supplies to the loop.

    ``batches(run)`` yields ``(inputs, labels, example_index)`` on the device (``example_index``
    may be None for clean runs); ``forward(run, inputs, labels) -> (loss, logits)`` runs under
    the loop's autocast; ``count_batch(run, inputs, labels)`` adds the batch's FLOPs;
    ``evaluate(run) -> val accuracy``; ``epoch_extras(run, train_seconds) -> (metrics, text)``
    gives the task's extra per-epoch series and progress text; ``best_extras(run)`` what the
    best epoch keeps besides its accuracy; ``scheduler_unit`` is ``"epoch"`` or ``"step"``;
    ``steps_per_epoch(run)`` the number of training batches in an epoch (the progress bar's
    total; None when unknown); ``bn_batches(run)`` a callable giving input batches for
    Schedule-Free's BatchNorm recompute before evaluation (None: a model without BatchNorm).

    A variant of a task (the thesis machinery: :func:`lib.train.thesis_machinery.variant`) replaces
    ``train_pass(run, task) -> (loss, accuracy, seconds)`` (None: this module's :func:`train_pass`)
    and sets ``best_after_clock``: the best epoch's extras are taken after the epoch's clock stops.
    """

    batches: Callable[[Any], Iterable[tuple[Any, torch.Tensor, torch.Tensor | None]]]
    forward: Callable[[Any, Any, torch.Tensor], tuple[torch.Tensor, torch.Tensor]]
    count_batch: Callable[[Any, Any, torch.Tensor], None]
    evaluate: Callable[[Any], float]
    scheduler_unit: str
    epoch_extras: Callable[[Any, float], tuple[dict[str, Any], str]] = lambda run, seconds: ({}, "")
    best_extras: Callable[[Any], dict[str, Any]] = lambda run: {}
    steps_per_epoch: Callable[[Any], int | None] = lambda run: None  # for the progress bar
    bn_batches: Callable[[Any], Callable[[], Iterable[torch.Tensor]]] | None = None
    train_pass: Callable[[Any, Any], tuple[float, float, float]] | None = None
    best_after_clock: bool = False


def evaluation_weights(run: RunState, task: Task) -> Any:
    """Context of an evaluation: the weights to evaluate (Schedule-Free: its averaged x with BatchNorm
    recomputed, the training weights restored exactly afterwards; any other optimizer: unchanged).
    Hook, see :mod:`lib.control.peers`."""
    bn = None if task.bn_batches is None else task.bn_batches(run)
    return peer_evaluation_weights(run.optimizer, run.model, bn)


def episode_summary(logs: dict[str, Any] | None, since: int) -> tuple[str, int]:
    """Short text on the episodes closed since index ``since`` (for the epoch line); ``logs``: AEES
    ``get_logs()``, None without AEES."""
    if logs is None:
        return "", since
    n = len(logs["episode_rewards"])
    if n == since:
        return "", n
    lrs = logs["selected_lr_values"][since:]
    sig = logs["selected_noise_values"][since:]
    rew = logs["episode_rewards"][since:]
    arms = " ".join(f"x{lr:g}" + (f"/s{s:g}" if s else "") for lr, s in zip(lrs, sig, strict=True))
    return f" | episodes {since + 1}-{n}: {arms} mean r {sum(rew) / len(rew):+.3f}", n


def train_pass(run: RunState, task: Task) -> tuple[float, float, float]:
    """One pass over the training batches; metrics stay on the device and are read once.
    Returns mean loss, accuracy and the pass's seconds."""
    model, dev = run.model, run.device
    model.train()
    loss_sum = torch.zeros((), device=dev)
    correct = torch.zeros((), dtype=torch.long, device=dev)
    subset = torch.zeros(3, dtype=torch.long, device=dev)
    n = 0
    timer = EpochTimer(dev)
    timer.start()
    desc = f"epoch {run.epoch + 1}/{run.cfg.epochs}"
    total, cap = task.steps_per_epoch(run), run.cfg.rehearsal_max_steps
    total = min(total, cap) if cap and total is not None else total
    for inputs, labels, idx in progress.steps(capped(task.batches(run), run.cfg), total, desc):  # capped: rehearsal
        run.stepper.start()
        with autocast(dev, run.cfg.precision):
            loss, logits = task.forward(run, inputs, labels)
        loss.backward()
        run.stepper.finish(loss)
        if task.scheduler_unit == "step" and run.scheduler is not None:
            run.scheduler.step()  # step-level: right after every optimizer step (protocol 6.2)
        task.count_batch(run, inputs, labels)
        with torch.no_grad():
            pred = logits.argmax(1)
            hit = pred == labels
            loss_sum += loss.detach() * len(labels)
            correct += hit.sum()
            if run.corrupted is not None:
                subset += subset_hits(hit, pred, run.clean_labels[idx], run.corrupted[idx])
        n += len(labels)
    seconds = timer.stop()
    if run.corrupted is not None:
        record_subset_epoch(run.subset_metrics, subset, n, run.corrupted)
    return float(loss_sum) / n, int(correct) / n, seconds


class Watch:
    """What a campaign's watchers see of a run, written after each epoch outside its timed span: the
    live record (:mod:`lib.train.live`, read by ``make runs-status``) and, unless ``AEES_TENSORBOARD=0``,
    the TensorBoard scalars (:mod:`lib.train.board`). Neither enters the RunResult."""

    def __init__(self, run: RunState) -> None:
        self.record = live.Live(run.output, run.cfg.epochs)
        self.record.start(run.epoch)
        self.board = board.Board(run.output, run.epoch, run.episodes_reported) if board.enabled() else None
        self.episodes_logged = run.episodes_reported

    def epoch_end(self, run: RunState, scalars: dict[str, float], logs: dict[str, Any] | None) -> None:
        arm = None
        if logs and logs["episode_rewards"]:
            arm = {"lr": logs["selected_lr_values"][-1], "sigma": logs["selected_noise_values"][-1]}
        self.record.epoch_end(run.epoch, scalars["accuracy/val"], run.best["val"], run.best["epoch"],
                              scalars["lr/base"], arm)
        if self.board is not None:
            noise = {f"noise/{k}": v[-1] for k, v in run.subset_metrics.items() if v}
            self.board.epoch(run.epoch, {**scalars, **noise})
            self._episodes(logs)

    def _episodes(self, logs: dict[str, Any] | None) -> None:
        if logs is not None and len(logs["episode_rewards"]) > self.episodes_logged:
            self.board.episodes_closed(self.episodes_logged + 1, logs, self.episodes_logged)
            self.episodes_logged = len(logs["episode_rewards"])

    def close(self, run: RunState) -> None:
        if self.board is not None:
            if run.aees is not None and run.epoch >= run.cfg.epochs:
                self._episodes(run.aees.get_logs())  # the trailing partial episode that finalize closed
            self.board.close()


def fit(run: RunState, task: Task, watch: bool = True) -> None:
    """Per epoch: train, evaluate, record, print, step an epoch-level scheduler, checkpoint.
    ``watch=False``: no live record and no TensorBoard scalars (the exploration notebook's short runs)."""
    timer = EpochTimer(run.device)
    checkpoint.resume_if_any(run)
    watcher = Watch(run) if watch else None
    try:
        _epochs(run, task, timer, watcher)
    finally:
        if watcher is not None:
            watcher.close(run)


def _epochs(run: RunState, task: Task, timer: EpochTimer, watcher: Watch | None) -> None:
    cfg = run.cfg
    m = run.metrics
    train = task.train_pass or train_pass
    late = task.best_after_clock
    while run.epoch < cfg.epochs:
        timer.start()
        base_lr = run.optimizer.param_groups[0]["lr"]
        loss, acc, train_seconds = train(run, task)
        improved = False
        with evaluation_weights(run, task):  # Schedule-Free evaluates (and keeps) its x
            val = task.evaluate(run)
            if val > run.best["val"]:
                improved = True
                run.best = {"val": val, "epoch": run.epoch + 1, **({} if late else task.best_extras(run))}
        seconds = timer.stop()
        if late and improved:  # no peer under such a variant: the weights evaluated are the model's
            run.best.update(task.best_extras(run))
        extras, extra_text = task.epoch_extras(run, train_seconds)
        for key, value in (("train_losses", loss), ("train_accuracies", acc), ("val_accuracies", val),
                           ("epoch_wall_clock_seconds", seconds), ("epoch_tflops", run.flops.finish_epoch()),
                           ("epoch_lrs", base_lr), *extras.items()):
            m[key].append(value)
        subset = ""
        if run.subset_metrics:
            s = {k: v[-1] for k, v in run.subset_metrics.items()}
            subset = (f"  clean {s['train_clean_accuracy']:.3f} corrupted fit "
                      f"{s['train_corrupted_accuracy_vs_noisy_labels']:.3f}")
        logs = run.aees.get_logs() if run.aees is not None else None
        episodes, run.episodes_reported = episode_summary(logs, run.episodes_reported)
        print(f"epoch {run.epoch + 1:>3}/{cfg.epochs}  loss {loss:.4f}  train acc {acc:.4f}  "
              f"val acc {val:.4f}{subset}  lr {base_lr:.2e}  {seconds:.1f}s{extra_text}{episodes}",
              flush=True)
        if task.scheduler_unit == "epoch" and run.scheduler is not None:
            run.scheduler.step()
        run.epoch += 1
        # Outside the timed span: the epoch's clock stopped above and the next one starts at the top
        # of the loop, so epoch_wall_clock_seconds never includes a checkpoint write (tests/test_machinery.py).
        checkpoint.after_epoch(run)
        if watcher is not None:
            watcher.epoch_end(run, {"accuracy/val": val, "accuracy/train": acc, "loss/train": loss,
                                    "lr/base": base_lr, "time/epoch_seconds": seconds}, logs)
        preempt.check(run)  # checkpoint and stop on a Slurm time-limit/preemption request
    run.stepper.finalize()


def save_result(run: RunState, result: dict[str, Any], path: Path) -> dict[str, Any]:
    """Stop the clock, write the RunResult atomically, delete the run's checkpoint, say so."""
    result["wall_clock_seconds"] = time.perf_counter() - run.wall_start
    mark_result(run, result)  # peak_memory; rehearsal / replica marks (lib.train.rehearsal)
    save_run_result(result, path)
    checkpoint.checkpoint_path(path).unlink(missing_ok=True)
    live.remove(run.output)
    guard.release(run.output)
    print(f"saved {path}  best {result['best_val_accuracy']:.4f} (epoch {run.best['epoch']})  "
          f"final {result['final_val_accuracy']:.4f}  {result['wall_clock_seconds']:.1f}s")
    result["_path"] = str(path)
    return result
