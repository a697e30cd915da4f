"""Variants, interleaved timing and the result rows of ``lib.bench``.

A *variant* is one way to train a task (pipeline x AEES implementation x opt-ins). Each is
built once, warmed up with one untimed round, then timed in interleaved rounds (ABCD BCDA
...), so drifts in machine load hit all variants alike; a variant's step time is the median
over rounds. Every variant keeps its own torch RNG state (restored before each of its rounds),
so interleaving does not change what a variant computes (dropout masks included), and stock
and fast AEES see identical training runs: their episode logs are compared afterwards.

On a shared CPU, AEES' bookkeeping (well under 1 % of a step) drowns in the noise of whole
steps, so project variants are also timed *isolated*: the project's ``Stepper`` cycle
(``step_start`` + ``zero_grad`` + ``step_end``/``opt.step``) on fixed gradients, many cycles
per round, taking the fastest round (other jobs only ever add time to these short, pure-compute
blocks; the minimum was the most stable estimate on a shared 2-core machine). Its difference to
plain AdamW, relative to the full plain step, is ``aees_overhead_isolated_pct``.
``extra_item_calls_per_step`` counts the ``.item()`` reads the cycle adds to plain AdamW's
(on a GPU each one stalls the host until the device is done).
"""

from __future__ import annotations

import gc
import math
import statistics
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from lib.train.common import EpochTimer
from torch.utils._python_dispatch import TorchDispatchMode

OPTINS = "bf16+channels_last+compile"
COLUMNS = ["task", "variant", "device", "samples_per_s", "ms_per_step", "aees_overhead_pct",
           "iso_ms_per_cycle", "aees_overhead_isolated_pct", "extra_item_calls_per_step",
           "overhead_vs_stock", "overhead_vs_stock_isolated", "speedup_vs_thesis",
           "decisions_identical", "episodes", "pipeline", "aees", "optins", "batch_size",
           "steps_per_round", "rounds", "model", "device_name", "torch", "note"]


@dataclass(frozen=True)
class Variant:
    """One benchmarked configuration of a task."""

    name: str
    pipeline: str  # thesis (PIL + DataLoader workers, per-step syncs) | project (lib.train loop)
    aees: str  # none | stock | fast | fast_nonorm
    optins: bool = False  # bf16 autocast + channels_last + torch.compile
    dual: bool = False  # AEES with noise candidates too

    @property
    def reference(self) -> str:
        """The plain-AdamW variant of the same pipeline (the overhead reference)."""
        if self.pipeline == "thesis":
            return "thesis_plain"
        return "project_plain_optins" if self.optins else "project_plain"

    @property
    def thesis_counterpart(self) -> str:
        """The thesis-style variant doing the same job (for ``speedup_vs_thesis``)."""
        return "thesis_plain" if self.aees == "none" else "thesis_stock_aees" + ("_dual" if self.dual else "")

    @property
    def decisions_reference(self) -> str | None:
        """The stock-AEES variant whose episode logs this fast variant must reproduce."""
        if self.aees.startswith("fast") and not self.optins:
            return "project_stock_aees" + ("_dual" if self.dual else "")
        return None


def variants(dual: bool = False) -> list[Variant]:
    """The variants of one task, in table order (``dual`` adds AEES with gradient noise)."""
    out = [Variant("thesis_plain", "thesis", "none"),
           Variant("thesis_stock_aees", "thesis", "stock"),
           Variant("project_plain", "project", "none"),
           Variant("project_stock_aees", "project", "stock"),
           Variant("project_fast_aees", "project", "fast"),
           Variant("project_fast_aees_nonorm", "project", "fast_nonorm"),
           Variant("project_plain_optins", "project", "none", optins=True),
           Variant("project_fast_aees_optins", "project", "fast", optins=True)]
    if dual:
        out += [Variant(v.name + "_dual", v.pipeline, v.aees, dual=True) for v in out
                if v.aees in ("stock", "fast") and not v.optins]
    return out


@dataclass
class Trainer:
    """A built variant. ``round()`` runs one round and returns the seconds of its timed steps."""

    round: Callable[[], float]
    steps: int  # timed steps per round
    batch_size: int
    aees: Any = None
    isolated: Callable[[], Callable[[], None]] | None = None  # -> one fixed-gradient step cycle
    note: str = ""  # how this variant deviates from its name, if it does
    rng: Any = None


@dataclass
class Measurement:
    times: list[float] = field(default_factory=list)  # seconds of the timed steps, per round
    iso: list[float] = field(default_factory=list)  # seconds per isolated cycle, per round
    items: float = math.nan  # .item() calls per isolated cycle (each a host sync on a GPU)
    steps: int = 0
    batch_size: int = 0
    logs: dict | None = None
    note: str = ""


def epoch_round(train_epoch: Callable[[Any], Any], run: Any, device: torch.device) -> Callable[[], float]:
    """A timed round that is the project's own epoch loop (``lib.train.<task>.train_epoch``)."""

    def one_round() -> float:
        clock = EpochTimer(device)
        clock.start()
        train_epoch(run)
        return clock.stop()

    return one_round


def _rng_get(device: torch.device) -> tuple:
    return torch.get_rng_state(), torch.cuda.get_rng_state(device) if device.type == "cuda" else None


def _rng_set(state: tuple, device: torch.device) -> None:
    torch.set_rng_state(state[0])
    if state[1] is not None:
        torch.cuda.set_rng_state(state[1], device)


def _short(exc: BaseException) -> str:
    text = " ".join(str(exc).split())
    return f"{type(exc).__name__}: {text[:160]}"


def measure(names: list[str], build: Callable[[str], Trainer], device: torch.device, *, rounds: int,
            iso_rounds: int, iso_cycles: int, skipped: dict[str, str] | None = None,
            log: Callable[[str], None] = print) -> dict[str, Measurement]:
    """Build, warm up and time ``names`` in ``rounds`` interleaved rounds; then isolated cycles.

    ``skipped`` maps a name to the reason it is not run. A variant whose build or warm-up
    raises is skipped with the error as its note (never silently).
    """
    out = {n: Measurement(note=(skipped or {}).get(n, "")) for n in names}
    trainers: dict[str, Trainer] = {}
    for name in names:
        if out[name].note:
            continue
        t0 = time.perf_counter()
        try:
            trainer = build(name)
            trainer.rng = _rng_get(device)
            _run_round(trainer, device)  # warm-up: workers, cuDNN, allocator, torch.compile
        except Exception as exc:  # noqa: BLE001 - reported in the table, never silent
            out[name].note = f"skipped: {_short(exc)}"
            log(f"  {name}: {out[name].note}")
            continue
        trainers[name] = trainer
        out[name].steps, out[name].batch_size = trainer.steps, trainer.batch_size
        out[name].note = trainer.note
        log(f"  {name}: built and warmed up in {time.perf_counter() - t0:.1f}s")
    live = list(trainers)
    for r in range(rounds):
        shift = r % max(len(live), 1)
        for name in live[shift:] + live[:shift]:
            out[name].times.append(_run_round(trainers[name], device))
    for name in live:
        if trainers[name].aees is not None:
            sync = getattr(trainers[name].aees, "sync", None)
            if sync is not None:
                sync()
            out[name].logs = trainers[name].aees.get_logs()
    _isolated(trainers, out, device, iso_rounds, iso_cycles)
    trainers.clear()
    gc.collect()
    if device.type == "cuda":
        torch.cuda.empty_cache()
    return out


def _run_round(trainer: Trainer, device: torch.device) -> float:
    _rng_set(trainer.rng, device)
    seconds = trainer.round()
    trainer.rng = _rng_get(device)
    return seconds


def _isolated(trainers: dict[str, Trainer], out: dict[str, Measurement], device: torch.device,
              rounds: int, cycles: int) -> None:
    """Seconds per fixed-gradient step cycle, per interleaved round (after the logs are read)."""
    if rounds < 1 or cycles < 1:
        return
    fns = {n: t.isolated() for n, t in trainers.items() if t.isolated is not None}
    for fn in fns.values():
        for _ in range(min(cycles, 3)):
            fn()
    names = list(fns)
    clock = EpochTimer(device)
    for r in range(rounds):
        shift = r % max(len(names), 1)
        for name in names[shift:] + names[:shift]:
            clock.start()
            for _ in range(cycles):
                fns[name]()
            out[name].iso.append(clock.stop() / cycles)
    for name, fn in fns.items():
        with _ItemCounter() as counter:
            for _ in range(cycles):
                fn()
        out[name].items = counter.items / cycles


class _ItemCounter(TorchDispatchMode):
    """Counts ``.item()`` reads (``aten._local_scalar_dense``) of the ops run under it."""

    def __init__(self) -> None:
        super().__init__()
        self.items = 0

    def __torch_dispatch__(self, func, types, args=(), kwargs=None):  # noqa: ANN001, ANN204
        self.items += func is torch.ops.aten._local_scalar_dense.default
        return func(*args, **(kwargs or {}))


def compare_logs(stock: dict | None, fast: dict | None) -> tuple[bool | None, int | None, str]:
    """(identical, closed episodes, note): arms and rewards of two AEES runs, bit for bit.

    The logged mean update norms are left out (FastAEES' fused norm equals stock's within
    float rounding); everything else in the episode logs must be equal.
    """
    if stock is None or fast is None:
        return None, None, ""
    s = {k: v for k, v in stock.items() if k != "mean_update_norms"}
    f = {k: v for k, v in fast.items() if k != "mean_update_norms"}
    episodes = len(s.get("episode_rewards", []))
    if s == f:
        return True, episodes, ""
    arms = s.get("selected_combined_names") == f.get("selected_combined_names")
    rs, rf = s.get("episode_rewards", []), f.get("episode_rewards", [])
    diff = max((abs(a - b) for a, b in zip(rs, rf)), default=float("nan"))
    return False, episodes, (f"decisions differ: arms {'equal' if arms else 'differ'}, "
                             f"max reward difference {diff:.3g}")


def _median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def rows(task: str, specs: list[Variant], meas: dict[str, Measurement], *, device: str,
         device_name: str, model: str, rounds: int) -> list[dict[str, Any]]:
    """One result row per variant: throughput, overheads, speed-up, decision equality."""
    ms = {n: _median(m.times) / m.steps * 1e3 if m.times else math.nan for n, m in meas.items()}
    iso = {n: min(m.iso) * 1e3 if m.iso else math.nan for n, m in meas.items()}
    by_name = {v.name: v for v in specs}

    def over(v: Variant) -> float:
        return 100 * (ms[v.name] / ms.get(v.reference, math.nan) - 1)

    def over_iso(v: Variant) -> float:
        return 100 * (iso[v.name] - iso.get(v.reference, math.nan)) / ms.get(v.reference, math.nan)

    def vs_stock(v: Variant, f: Callable[[Variant], float]) -> float:
        ref = v.decisions_reference
        if v.aees == "none" or ref is None or ref not in by_name:
            return math.nan
        stock = f(by_name[ref])
        return f(v) / stock if stock > 0 else math.nan

    out = []
    for v in specs:
        m = meas[v.name]
        ref = v.decisions_reference
        same, episodes, why = compare_logs(meas[ref].logs, m.logs) if ref in meas else (None, None, "")
        if episodes is None and m.logs is not None:
            episodes = len(m.logs.get("episode_rewards", []))
        counterpart = ms.get(v.thesis_counterpart, math.nan)
        out.append({
            "task": task, "variant": v.name, "device": device,
            "samples_per_s": m.batch_size / ms[v.name] * 1e3 if m.times else math.nan,
            "ms_per_step": ms[v.name],
            "aees_overhead_pct": over(v) if v.aees != "none" else (0.0 if m.times else math.nan),
            "iso_ms_per_cycle": iso[v.name],
            "aees_overhead_isolated_pct": over_iso(v) if v.aees != "none" else math.nan,
            "extra_item_calls_per_step": m.items - meas[v.reference].items
            if v.aees != "none" and v.reference in meas else math.nan,
            "overhead_vs_stock": vs_stock(v, over),
            "overhead_vs_stock_isolated": vs_stock(v, over_iso),
            "speedup_vs_thesis": counterpart / ms[v.name] if v.pipeline == "project" else math.nan,
            "decisions_identical": same, "episodes": episodes,
            "pipeline": v.pipeline, "aees": v.aees, "optins": OPTINS if v.optins else "",
            "batch_size": m.batch_size or None, "steps_per_round": m.steps or None, "rounds": rounds,
            "model": model, "device_name": device_name, "torch": torch.__version__,
            "note": "; ".join(x for x in (m.note, why) if x),
        })
    return out
