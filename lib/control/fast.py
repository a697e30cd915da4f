"""FastAEES: ``pulseopt.AEES`` with the same decisions and near-zero per-step overhead.

Stock AEES clones every parameter at each step and computes the (only logged) update
norm with one host-device synchronisation per parameter tensor, and reads the loss with
``loss.item()``. Decisions are made only at episode boundaries, from the episode's step
losses, so FastAEES keeps per-step values on the device and hands them to the episode
manager, step by step and in the same order, when the episode closes:

* the loss is copied into a preallocated float64 buffer (exact for fp32/bf16/fp16
  losses), so the manager receives the same Python floats as ``float(loss.item())``;
* one persistent parameter snapshot, refreshed with ``torch._foreach_copy_``;
* the update norm, per ``update_norm``: ``"fused"`` (default) foreach ops reduced on the
  device, equal to stock within float rounding; ``"exact"`` stock's per-parameter
  squared sums, accumulated on the host in stock's order at episode close (bitwise
  stock, still without per-step syncs); ``"off"`` no snapshot, norms logged as None;
* gradient noise from stock's per-parameter generators in stock's order, added with
  ``_foreach_add_(grads, _foreach_mul(noises, std))`` (out-of-place multiply, so
  half-precision rounds like stock's ``noise * noise_std``).

Arms, rewards, logs, controller states and final parameters equal stock AEES bit for
bit. A non-finite tensor loss is detected when its episode closes (or at ``sync()`` /
``finalize()``) and raises a ValueError naming its global step. Private pulseopt
attributes are reached only through :mod:`lib.control.internals`.
"""

from __future__ import annotations

import math
from typing import Any

import pulseopt
import torch
from pulseopt.types import CandidateConfig
from torch import Tensor

from lib.control import internals

UPDATE_NORM_MODES = ("fused", "exact", "off")
_HALF = (torch.bfloat16, torch.float16)


class FastAEES(pulseopt.AEES):
    """Drop-in ``pulseopt.AEES`` (same keywords) plus ``update_norm`` in fused|exact|off.

    ``episode_manager`` lags within an episode: step losses reach it when the episode
    closes or on :meth:`sync`. Closed episodes, logs and controllers are always current.
    """

    def __init__(
        self,
        optimizer: torch.optim.Optimizer,
        *,
        update_norm: str = "fused",
        episode_length: int = 100,
        lr_scheduler: Any | None = None,
        **aees_kwargs: Any,
    ) -> None:
        if update_norm not in UPDATE_NORM_MODES:
            raise ValueError(
                f"update_norm must be one of {list(UPDATE_NORM_MODES)}, got {update_norm!r}."
            )
        super().__init__(
            optimizer, episode_length=episode_length, lr_scheduler=lr_scheduler, **aees_kwargs
        )
        self.update_norm = update_norm
        self._f_episode_length = episode_length
        self._f_scheduler = lr_scheduler
        self._f_candidate: CandidateConfig | None = None
        self._f_step = 0
        self._f_params: list[Tensor] = []
        self._f_snaps: list[Tensor] = []
        self._f_groups: list[tuple[list[Tensor], torch.dtype]] = []  # snapshots by device+dtype
        self._f_loss_buf: Tensor | None = None
        self._f_norm_buf: Tensor | None = None
        self._f_norm_rows: list[Tensor] = []  # exact mode: per-parameter squared sums per step
        self._f_steps: list[int] = []  # global steps recorded but not yet handed to the manager
        self._f_fed = 0  # steps of the open episode already handed to the manager

    # ------------------------------------------------------------------ loop interface

    def step_start(self, global_step: int) -> CandidateConfig:
        """Return the episode's candidate (selected at episode start) and snapshot parameters."""
        if self._f_candidate is not None:
            raise RuntimeError("step_start() called twice without an intervening step_end().")
        candidate = self.episode_manager.on_step_start(global_step)
        if self.update_norm != "off":
            self._snapshot()
        self._f_candidate = candidate
        self._f_step = global_step
        return candidate

    def step_end(self, loss: float | Tensor) -> None:
        """Optimizer step with the episode's LR multiplier and noise, then scheduler step.

        The step is closed whatever happens; a non-finite Python-float loss raises here
        (before the optimizer step, like stock), a non-finite tensor loss when its
        episode closes.
        """
        candidate = self._f_candidate
        if candidate is None:
            raise RuntimeError("step_end() called without a preceding step_start().")
        self._f_candidate = None
        slot = len(self._f_steps)
        self._record_loss(slot, loss)
        groups = self.optimizer.param_groups
        base_lrs = [float(g["lr"]) for g in groups]
        try:
            for group, base_lr in zip(groups, base_lrs, strict=True):
                group["lr"] = base_lr * candidate.lr_multiplier
            if candidate.noise_std > 0.0:
                self._add_gradient_noise(candidate.noise_std)
            self.optimizer.step()
        finally:
            for group, base_lr in zip(groups, base_lrs, strict=True):
                group["lr"] = base_lr
        if self.update_norm != "off":
            self._record_update_norm(slot)
        self._f_steps.append(self._f_step)
        if self._f_scheduler is not None:
            self._f_scheduler.step()
        if self._f_fed + len(self._f_steps) >= self._f_episode_length:
            self.sync()

    def finalize(self) -> None:
        """Hand over pending steps, then close the trailing partial episode."""
        if self._f_candidate is not None:
            raise RuntimeError("finalize() called with an open step — call step_end() first.")
        self.sync()
        self.episode_manager.finalize()
        self._f_fed = internals.active_episode_steps(self)

    def sync(self) -> None:
        """Hand the pending step losses and norms to the episode manager (one host sync).

        Raises ValueError naming the global step of the first non-finite loss or norm;
        the steps before it are recorded, the rest are dropped.
        """
        steps, self._f_steps = self._f_steps, []
        rows, self._f_norm_rows = self._f_norm_rows, []
        if not steps:
            return
        n = len(steps)
        losses = self._f_loss_buf[:n].tolist()
        if self.update_norm == "off" or not self._f_params:
            norms: list[float | None] = [None] * n
        elif self.update_norm == "fused":
            norms = self._f_norm_buf[:n].tolist()
        else:
            flat = torch.cat(rows).tolist()  # one sync; rows may differ in length
            norms, start = [], 0
            for row in rows:
                norms.append(_stock_norm(flat[start : start + row.numel()]))
                start += row.numel()
        manager = self.episode_manager
        try:
            for step, loss, norm in zip(steps, losses, norms, strict=True):
                if not math.isfinite(loss):
                    raise ValueError(
                        f"loss passed to step_end() at global step {step} is not finite ({loss}); "
                        "FastAEES checks losses when the episode closes, so later steps of the "
                        "episode were already taken and are discarded from the episode."
                    )
                if norm is not None and not math.isfinite(norm):
                    raise ValueError(f"update norm at global step {step} is not finite ({norm}).")
                manager.on_step_end(loss, update_norm=norm)
        finally:
            self._f_fed = internals.active_episode_steps(self)

    # ------------------------------------------------------------------ introspection

    @property
    def current_candidate(self) -> CandidateConfig | None:
        """The candidate of the in-flight step, or None between steps."""
        return self._f_candidate

    def extra_state(self) -> dict[str, Any]:
        """FastAEES's own checkpoint state (pending steps are synced before saving)."""
        return {"update_norm": self.update_norm}

    def load_extra_state(self, extra: dict[str, Any] | None) -> None:
        """Reset per-step buffers once ``internals.load_aees_state_dict`` restored the manager."""
        self._f_candidate = None
        self._f_steps = []
        self._f_norm_rows = []
        self._f_fed = internals.active_episode_steps(self)

    # ------------------------------------------------------------------ helpers

    def _record_loss(self, slot: int, loss: float | Tensor) -> None:
        if isinstance(loss, Tensor):
            if loss.numel() != 1:
                raise ValueError(
                    "loss passed to step_end() must have one element, "
                    f"got shape {tuple(loss.shape)}."
                )
            self._loss_buffer(loss.device)[slot].copy_(loss.detach().reshape(()))
            return
        value = float(loss)
        if not math.isfinite(value):
            raise ValueError(
                f"loss passed to step_end() at global step {self._f_step} must be finite, "
                f"got {value}."
            )
        self._loss_buffer(None)[slot] = value

    def _loss_buffer(self, device: torch.device | None) -> Tensor:
        buf = self._f_loss_buf
        if buf is None or (device is not None and buf.device != device and not self._f_steps):
            device = device or torch.device("cpu")
            buf = torch.empty(self._f_episode_length, dtype=_wide(device), device=device)
            self._f_loss_buf = buf
        return buf

    @torch.no_grad()
    def _snapshot(self) -> None:
        params = [p for group in self.optimizer.param_groups for p in group["params"]]
        if len(params) != len(self._f_params) or any(
            a is not b for a, b in zip(params, self._f_params, strict=True)
        ):
            self._rebuild_snapshot(params)
        if params:
            torch._foreach_copy_(self._f_snaps, params)

    def _rebuild_snapshot(self, params: list[Tensor]) -> None:
        self._f_params = params
        self._f_snaps = [torch.empty_like(p.detach()) for p in params]
        by_key: dict[tuple[torch.device, torch.dtype], list[Tensor]] = {}
        for snap in self._f_snaps:
            by_key.setdefault((snap.device, snap.dtype), []).append(snap)
        self._f_groups = [(snaps, dtype) for (_, dtype), snaps in by_key.items()]
        if params:
            device = params[0].device
            length = self._f_episode_length
            self._f_norm_buf = torch.zeros(length, dtype=_wide(device), device=device)

    @torch.no_grad()
    def _record_update_norm(self, slot: int) -> None:
        if not self._f_params:
            return
        torch._foreach_sub_(self._f_snaps, self._f_params)  # snapshot := before - after = -delta
        if self.update_norm == "exact":
            # stock: float((param - prev).pow(2).sum().item()) per parameter; -delta squares alike
            sums = [s.pow(2).sum() for s in self._f_snaps]
            if len(self._f_groups) == 1:
                row = torch.stack(sums).to(torch.float64)
            else:
                row = torch.stack([x.to(self._f_norm_buf.device, torch.float64) for x in sums])
            self._f_norm_rows.append(row)
            return
        buf = self._f_norm_buf
        parts = []
        for snaps, dtype in self._f_groups:
            norms = torch._foreach_norm(snaps, 2, dtype=torch.float32 if dtype in _HALF else None)
            part = torch.linalg.vector_norm(torch.stack(norms), dtype=buf.dtype)
            parts.append(part.to(buf.device))
        total = parts[0] if len(parts) == 1 else torch.linalg.vector_norm(torch.stack(parts))
        buf[slot].copy_(total)

    @torch.no_grad()
    def _add_gradient_noise(self, noise_std: float) -> None:
        grads: list[Tensor] = []
        noises: list[Tensor] = []
        for group_index, group in enumerate(self.optimizer.param_groups):
            for param_index, param in enumerate(group["params"]):
                grad = param.grad
                if grad is None:
                    continue
                generator = internals.noise_generator(self, group_index, param_index, grad.device)
                noises.append(torch.randn(
                    grad.shape, generator=generator, device=grad.device, dtype=grad.dtype
                ))
                grads.append(grad)
        if grads:
            torch._foreach_add_(grads, torch._foreach_mul(noises, noise_std))


def _wide(device: torch.device) -> torch.dtype:
    """Buffer dtype holding any fp32/bf16/fp16 value exactly (MPS has no float64)."""
    return torch.float32 if device.type == "mps" else torch.float64


def _stock_norm(squared_sums: list[float]) -> float:
    """Stock's update norm from per-parameter squared sums, accumulated in stock's order."""
    total = 0.0
    for value in squared_sums:
        total += value
    return total**0.5
