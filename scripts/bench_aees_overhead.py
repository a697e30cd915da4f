"""Per-step overhead of AEES bookkeeping: plain AdamW vs stock pulseopt.AEES vs FastAEES.

Trains a CIFAR ResNet-18 (``lib.models.cifar_resnet18``) on one fixed batch of random
32x32 images with AdamW, once per method, from the same initial weights. The methods run
in interleaved rounds (order rotated each round) so that drifts in machine load hit all
alike; each round times a block of steps (device synchronised at block ends only) and the
per-step time is the median over rounds. AEES uses LR multipliers 0.5/1/2 and no gradient
noise. Two phases:

* ``full``: forward, backward and step; overhead = (t_method - t_plain) / t_plain.
* ``optim``: the step alone on fixed gradients (``opt.step()`` vs ``step_start`` +
  ``step_end``), which isolates the bookkeeping from the (noisy) forward/backward time; its
  ms/step difference divided by the full plain step is the "isolated" overhead estimate.

Prints ms/step, the overheads, and FastAEES's overhead as a fraction of stock's. On a GPU
the host-device synchronisations dominate stock's overhead; a CPU run cannot show them, so
the script also counts, per step over one episode, the dispatched tensor ops and the
``.item()`` calls (each one a host sync on a GPU) that each method adds to ``opt.step()``.

    OMP_NUM_THREADS=1 python scripts/bench_aees_overhead.py                 # CPU, width 16
    python scripts/bench_aees_overhead.py --device cuda --width 64 --rounds 10 --steps 50
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Callable

import pulseopt
import torch
import torch.nn.functional as F
from torch.utils._python_dispatch import TorchDispatchMode

from lib.control.fast import FastAEES
from lib.models import cifar_resnet18

METHODS = ("plain", "stock", "fused", "exact", "off")
LABELS = {
    "plain": "plain AdamW", "stock": "stock pulseopt.AEES", "fused": "FastAEES fused",
    "exact": "FastAEES exact", "off": "FastAEES off",
}


def _parse() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--device", default="cpu", help="torch device (cpu, cuda, cuda:1, ...)")
    p.add_argument("--width", type=int, default=16, help="ResNet-18 base width (64 = thesis model)")
    p.add_argument("--batch", type=int, default=128, help="images per step")
    p.add_argument("--steps", type=int, default=4, help="timed full steps per method per round")
    p.add_argument("--optim-steps", type=int, default=20,
                   help="timed optimizer-only steps per method per round (0 skips the phase)")
    p.add_argument("--rounds", type=int, default=5, help="interleaved timing rounds")
    p.add_argument("--warmup", type=int, default=3, help="untimed steps per method first")
    p.add_argument("--episode-length", type=int, default=200, help="AEES episode length")
    p.add_argument("--threads", type=int, default=1, help="torch CPU threads")
    p.add_argument("--methods", default="plain,stock,fused,off",
                   help=f"comma-separated subset of {','.join(METHODS)} (plain is always run)")
    args = p.parse_args()
    methods = [m for m in args.methods.split(",") if m]
    bad = [m for m in methods if m not in METHODS]
    if bad:
        p.error(f"--methods: unknown {bad}; allowed: {', '.join(METHODS)}")
    args.methods = ["plain"] + [m for m in methods if m != "plain"]
    return args


def _trainer(
    method: str, args: argparse.Namespace, device: torch.device, optim_only: bool
) -> Callable[[], None]:
    """One training step per call for ``method``; every method starts from the same weights.

    ``optim_only``: gradients and loss are computed once; each call is only the step.
    """
    torch.manual_seed(0)
    model = cifar_resnet18(num_classes=100, width=args.width).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=5e-4)
    gen = torch.Generator().manual_seed(1)
    x = torch.randn(args.batch, 3, 32, 32, generator=gen).to(device)
    y = torch.randint(0, 100, (args.batch,), generator=gen).to(device)
    aees = None
    if method != "plain":
        kw = {"lr_candidates": [0.5, 1.0, 2.0], "noise_candidates": [0.0],
              "episode_length": args.episode_length, "seed": 0}
        if method == "stock":
            aees = pulseopt.AEES(opt, **kw)
        else:
            aees = FastAEES(opt, update_norm=method, **kw)
    counter = [0]
    if optim_only:
        fixed_loss = F.cross_entropy(model(x), y)
        fixed_loss.backward()
        fixed_loss = fixed_loss.detach()

        def optim_step() -> None:
            if aees is None:
                opt.step()
                return
            aees.step_start(counter[0])
            counter[0] += 1
            aees.step_end(fixed_loss)

        return optim_step

    def step() -> None:
        if aees is not None:
            aees.step_start(counter[0])
        counter[0] += 1
        opt.zero_grad(set_to_none=True)
        loss = F.cross_entropy(model(x), y)
        loss.backward()
        if aees is None:
            opt.step()
        else:
            aees.step_end(loss)

    return step


def _sync(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def _time(
    args: argparse.Namespace, device: torch.device, optim_only: bool, steps: int
) -> dict[str, float]:
    """Median seconds per step of each method, interleaved rounds after a warm-up."""
    trainers = {m: _trainer(m, args, device, optim_only) for m in args.methods}
    for step in trainers.values():
        for _ in range(args.warmup):
            step()
    times: dict[str, list[float]] = {m: [] for m in args.methods}
    for r in range(args.rounds):
        shift = r % len(args.methods)
        for method in args.methods[shift:] + args.methods[:shift]:
            _sync(device)
            t0 = time.perf_counter()
            for _ in range(steps):
                trainers[method]()
            _sync(device)
            times[method].append((time.perf_counter() - t0) / steps)
    return {m: statistics.median(t) for m, t in times.items()}


def _report(title: str, median: dict[str, float], reference: float) -> dict[str, float]:
    """Print ms/step per method and overheads relative to ``reference`` (full plain step)."""
    print(title)
    plain = median["plain"]
    overhead = {m: (t - plain) / reference for m, t in median.items()}
    for m, t in median.items():
        extra = "" if m == "plain" else (
            f"  {(t - plain) * 1e3:+7.2f} ms/step = {overhead[m]:+6.1%} of a full plain step")
        print(f"  {LABELS[m]:<20} {t * 1e3:9.2f} ms/step{extra}")
    if "stock" in overhead and overhead["stock"] > 0:
        ratios = [f"{LABELS[m]} {overhead[m] / overhead['stock']:.2f}"
                  for m in ("fused", "exact", "off") if m in overhead]
        print("  overhead / stock overhead: " + ", ".join(ratios))
    return overhead


class _OpCounter(TorchDispatchMode):
    """Counts dispatched aten ops and ``.item()`` reads (``_local_scalar_dense``)."""

    def __init__(self) -> None:
        super().__init__()
        self.ops = 0
        self.items = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001
        self.ops += 1
        self.items += func is torch.ops.aten._local_scalar_dense.default
        return func(*args, **(kwargs or {}))


def _count_ops(args: argparse.Namespace, device: torch.device) -> None:
    """Ops and item() syncs per step added to opt.step(), averaged over one full episode."""
    steps = args.episode_length
    counts = {}
    for method in args.methods:
        step = _trainer(method, args, device, optim_only=True)
        with _OpCounter() as counter:
            for _ in range(steps):
                step()
        counts[method] = (counter.ops / steps, counter.items / steps)
    print(f"dispatched ops and item() calls per step added to opt.step() "
          f"(one episode of {steps} steps):")
    base_ops, base_items = counts["plain"]
    for m in args.methods[1:]:
        ops, items = counts[m]
        print(f"  {LABELS[m]:<20} {ops - base_ops:+7.1f} ops, {items - base_items:+7.2f} item() "
              "calls per step")
    print("  (FastAEES also reads its loss/norm buffers once per episode with .tolist())")


def main() -> None:
    args = _parse()
    torch.set_num_threads(args.threads)
    device = torch.device(args.device)
    model = cifar_resnet18(num_classes=100, width=args.width)
    print(f"device {device}, {args.threads} CPU thread(s), torch {torch.__version__}; "
          f"cifar_resnet18(width={args.width}): "
          f"{sum(p.numel() for p in model.parameters()) / 1e6:.2f}M parameters in "
          f"{len(list(model.parameters()))} tensors; batch {args.batch}; AdamW; "
          f"episode_length {args.episode_length}; medians over {args.rounds} interleaved rounds")
    full = _time(args, device, optim_only=False, steps=args.steps)
    _report(f"full step (forward+backward+step), {args.steps} steps/round:", full, full["plain"])
    if args.optim_steps > 0:
        optim = _time(args, device, optim_only=True, steps=args.optim_steps)
        _report(f"step only, fixed gradients (isolated overhead), {args.optim_steps} steps/round:",
                optim, full["plain"])
    _count_ops(args, device)


if __name__ == "__main__":
    main()
