"""The schedule-free peers of AdamW: Schedule-Free AdamW and Prodigy (beyond the thesis).

Both are built with the settings their authors recommend, the task's own base LR / weight decay
where the authors leave those to the task:

* ``ScheduleFreeAdamW`` (PyPI ``schedulefree``, Defazio et al. 2024, "The Road Less
  Scheduled"): the package README's tuning notes recommend a linear warmup (``warmup_steps``;
  here 5 % of the run's optimizer steps, :data:`SF_WARMUP_FRACTION`), the default betas
  (0.9, 0.999) and an AdamW LR 1x-10x a scheduled AdamW's: we take the lower end, the task's
  thesis AdamW LR (1e-3 CIFAR, 5e-5 NLP; the mini profile's LR on the stand-ins), so that only
  the optimizer differs from the AdamW baseline. Weight decay (which the README says needs
  tuning) is the task's AdamW weight decay, applied at ``y`` like AdamW's decoupled decay.
  No LR schedule: the method replaces it (``lr_scheduler`` must be ``none``).
* ``Prodigy`` (PyPI ``prodigyopt``, Mishchenko & Defazio 2023): ``lr=1.0`` (the README
  recommends 1 for every network), ``d_coef`` (the README's preferred tuning knob) 1.0, the
  default, for training from scratch (CIFAR) and 0.1, the README's suggestion for a smaller step,
  for fine-tuning the pre-trained encoder (NLP; :data:`PRODIGY_D_COEF`), AdamW-style decoupled
  weight decay (``decouple=True``, the default) with the task's AdamW weight decay, ``safeguard_warmup=False`` and ``use_bias_correction=False`` (the README
  recommends both on only with an LR warmup / for diffusion models; neither applies here).
  The peers grid runs it without a schedule (the README allows none or cosine).

Schedule-Free keeps two weight sequences: the model holds ``y`` (where gradients are taken)
during training, and evaluation must use the averaged ``x``. :func:`evaluation_weights` switches
to ``x`` (``optimizer.eval()``), recomputes BatchNorm statistics for ``x`` (the README's
recipe: training batches through the model in train mode under ``no_grad``), and on exit puts
back the training weights ``y`` and the BatchNorm buffers *exactly* (copied back, not
recomputed, so the training trajectory does not depend on evaluation and a checkpoint written
after an epoch holds ``y``, ``z``, the step counters and the averaging weights exactly).

Under AEES (which scales ``param_group["lr"]`` of whatever optimizer it wraps for one step at
a time, see :mod:`lib.control.fast`), an LR multiplier ``m`` means:

* Prodigy: the step is ``d * lr * m`` (``dlr``), i.e. ``m`` scales Prodigy's *estimated* step
  ``d``; ``m`` also weights that step's contribution to the D-estimate's numerator and
  denominator (both accumulate ``dlr``-weighted terms), so a constant ``m`` cancels in ``d``
  while a varying ``m`` reweights the history (and larger steps move farther from ``x0``,
  which lets ``d`` grow).
* Schedule-Free: ``m`` scales the (warmed-up) LR of the ``z`` step and of ``y``'s gradient
  term; the averaging weight of a step is ``lr_max ** 2`` with ``lr_max`` the largest LR seen
  so far, so once the largest multiplier has been drawn, later steps are averaged uniformly
  whichever multiplier they use.
"""

from __future__ import annotations

import contextlib
import math
from collections.abc import Callable, Iterable, Iterator
from typing import Any

import torch

SF_WARMUP_FRACTION = 0.05  # of all optimizer steps (the schedulefree README recommends a warmup)
SF_BETAS = (0.9, 0.999)  # schedulefree defaults
# prodigyopt README: d_coef (default 1.0) is the knob to tune, 0.5 or 0.1 giving a smaller step. Training from scratch (CIFAR): the default. Fine-tuning
# the pre-trained encoder (NLP): 0.1, since fine-tuning wants steps 10-100x smaller than training from
# scratch (thesis AdamW LR 5e-5 vs 1e-3); measured on the SST-2 stand-in (320 examples, 3 epochs), d_coef
# 1.0 grows d to 2.5e-3 and the loss stays at ln 2 (val 0.57), 0.1 reaches val 0.84 (AdamW 0.81).
PRODIGY_D_COEF = {"from_scratch": 1.0, "fine_tuning": 0.1}
BN_RECOMPUTE_BATCHES = 50  # schedulefree README's BatchNorm recipe: ~50 training batches


def sf_warmup_steps(total_steps: int) -> int:
    """Schedule-Free warmup: 5 % of the run's optimizer steps, at least 1."""
    return max(1, round(SF_WARMUP_FRACTION * total_steps))


def _schedule_free(params: Any, lr: float, weight_decay: float, total_steps: int,
                   fine_tuning: bool) -> torch.optim.Optimizer:
    from schedulefree import AdamWScheduleFree

    opt = AdamWScheduleFree(params, lr=lr, betas=SF_BETAS, weight_decay=weight_decay,
                            warmup_steps=sf_warmup_steps(total_steps))
    opt.train()  # step() refuses to run in eval mode
    return opt


def _prodigy(params: Any, lr: float, weight_decay: float, total_steps: int,
             fine_tuning: bool) -> torch.optim.Optimizer:
    from prodigyopt import Prodigy

    with contextlib.redirect_stdout(None):  # it prints "Using decoupled weight decay"
        d_coef = PRODIGY_D_COEF["fine_tuning" if fine_tuning else "from_scratch"]
        return Prodigy(params, lr=lr, d_coef=d_coef, weight_decay=weight_decay,
                       decouple=True, safeguard_warmup=False, use_bias_correction=False)


# How each peer of lib.vocab.PEER_SPECS is built: (params, lr, weight_decay, total_steps, fine_tuning) ->
# the optimizer, with its authors' settings (module docstring).
BUILDERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "ScheduleFreeAdamW": _schedule_free,
    "Prodigy": _prodigy,
}


def build_peer(params: Any, name: str, lr: float, weight_decay: float, total_steps: int,
               fine_tuning: bool = False) -> torch.optim.Optimizer:
    """A peer optimizer from :data:`BUILDERS`; Schedule-Free starts in train mode. ``fine_tuning``: a
    pre-trained model (the NLP tasks), which picks Prodigy's smaller ``d_coef``."""
    if name not in BUILDERS:
        raise ValueError(f"optimizer: {name!r} has no builder in lib.control.peers.BUILDERS (peers with one: "
                         f"{', '.join(BUILDERS)}; every name of lib.vocab.PEER_SPECS needs one)")
    return BUILDERS[name](params, lr=lr, weight_decay=weight_decay, total_steps=total_steps,
                          fine_tuning=fine_tuning)


def peer_settings(optimizer: torch.optim.Optimizer) -> dict[str, Any]:
    """The hyperparameters a peer was built with (its first parameter group, running state left out),
    for the RunResult's ``config.peer_optimizer``."""
    running = {"params", "k", "train_mode", "weight_sum", "lr_max", "scheduled_lr", "d", "d_max",
               "d_numerator", "d_denom", "d_hat", "foreach", "fsdp_in_use"}
    group = optimizer.param_groups[0]
    out = {k: _json_value(v) for k, v in group.items() if k not in running}
    out["class"] = f"{type(optimizer).__module__.split('.')[0]}.{type(optimizer).__name__}"
    if "d" in group:  # Prodigy: its step-size estimate at the end of the run
        out["final_d"] = float(group["d"])
    return out


def _json_value(v: Any) -> Any:
    if isinstance(v, tuple):
        return [_json_value(x) for x in v]
    if isinstance(v, float) and not math.isfinite(v):
        return str(v)  # growth_rate inf: strict JSON has no infinity
    return v


def is_schedule_free(optimizer: Any) -> bool:
    """True for an optimizer with Schedule-Free's train/eval weight switch."""
    return callable(getattr(optimizer, "eval", None)) and callable(getattr(optimizer, "train", None)) \
        and any("train_mode" in g for g in optimizer.param_groups)


def _bn_buffers(model: torch.nn.Module) -> list[torch.Tensor]:
    return [b for m in model.modules() if isinstance(m, torch.nn.modules.batchnorm._BatchNorm)
            for b in (m.running_mean, m.running_var, m.num_batches_tracked) if b is not None]


@contextlib.contextmanager
def evaluation_weights(optimizer: Any, model: torch.nn.Module,
                       bn_batches: Callable[[], Iterable[torch.Tensor]] | None = None) -> Iterator[bool]:
    """Inside: the weights to evaluate. Yields True when they differ from the training weights.

    Any optimizer but Schedule-Free: a no-op (yields False). Schedule-Free: the averaged ``x``
    (``optimizer.eval()``); with ``bn_batches`` (a callable giving input batches) and BatchNorm
    layers, their running statistics are recomputed for ``x`` as a plain average over those
    batches (``torch.optim.swa_utils.update_bn``). On exit the training weights ``y`` and the
    BatchNorm buffers are restored bit for bit and the optimizer is back in train mode.
    """
    if not is_schedule_free(optimizer):
        yield False
        return
    params = [p for g in optimizer.param_groups for p in g["params"]]
    buffers = _bn_buffers(model)
    with torch.no_grad():
        saved_params = [p.detach().clone() for p in params]
        saved_buffers = [b.detach().clone() for b in buffers]
    was_training = model.training
    optimizer.eval()
    try:
        if bn_batches is not None and buffers:
            with torch.no_grad():
                torch.optim.swa_utils.update_bn(bn_batches(), model)
        yield True
    finally:
        optimizer.train()
        with torch.no_grad():
            for p, s in zip(params, saved_params, strict=True):
                p.copy_(s)
            for b, s in zip(buffers, saved_buffers, strict=True):
                b.copy_(s)
        model.train(was_training)
