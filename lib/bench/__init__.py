"""Side-by-side training throughput and AEES overhead, on whatever device is present.

Per task (CIFAR ResNet-18, DistilBERT classifier) and variant (``core.variants``): the
thesis-style pipeline (PIL transforms + DataLoader workers, per-step syncs, stock
``pulseopt.AEES``) and this project's loop (device-resident data, ``lib.train``) with plain
AdamW, stock AEES, FastAEES, FastAEES without the logged update norm, and the GPU opt-ins
(bf16 + channels_last + ``torch.compile``). AEES: LR multipliers {0.5, 1, 2}, noise off
(``dual`` adds noise {0, 0.005, 0.01}).

    python -m lib.bench                       # CPU-sized models (make bench)
    python -m lib.bench --device cuda --full  # thesis-sized models on a GPU

Writes ``results/bench/latest.csv`` (one row per task x variant, columns ``core.COLUMNS``).
"""

from __future__ import annotations

import dataclasses
import math
import os
import platform
import time
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import torch

from lib import DATA_DIR, RESULTS_DIR
from lib.bench import cifar, text
from lib.bench.core import COLUMNS, OPTINS, Variant, measure, rows, variants
from lib.train.common import resolve_device

DEFAULT_CSV = RESULTS_DIR / "bench" / "latest.csv"
TASKS = ("cifar", "text")
CPU_OPTINS_NOTE = (f"skipped on CPU: {OPTINS} is the GPU fast path (bf16 autocast and torch.compile "
                   "on CPU are slow and not a target); run with --device cuda")


@dataclasses.dataclass
class Settings:
    """What to measure; ``None`` sizes mean the CPU sizes, or the thesis sizes with ``full``."""

    device: str = "auto"  # auto | cpu | cuda
    full: bool = False  # thesis-sized models (meant for a GPU)
    tasks: tuple[str, ...] = TASKS
    rounds: int | None = None  # timed interleaved rounds per variant after one warm-up round (3; full 5)
    iso_rounds: int = 15  # interleaved rounds of isolated step cycles (0 = skip)
    iso_cycles: int = 20  # isolated step cycles per round
    dual: bool = False  # also AEES with gradient noise
    seed: int = 0
    cifar: cifar.CifarSize | None = None
    text: text.TextSize | None = None
    data_dir: Path | None = None  # stand-in images (default: <data>/bench)
    optins_on_cpu: bool = False  # run the opt-in variants on a CPU anyway

    def __post_init__(self) -> None:
        bad = [t for t in self.tasks if t not in TASKS]
        if bad:
            raise ValueError(f"tasks: unknown {bad}; allowed: {', '.join(TASKS)}")
        if self.device not in ("auto", "cpu", "cuda"):
            raise ValueError(f"device: must be auto, cpu or cuda; got {self.device!r}")
        if self.rounds is None:
            self.rounds = 5 if self.full else 3
        for name in ("rounds", "iso_rounds", "iso_cycles"):
            value = getattr(self, name)
            if value < (1 if name == "rounds" else 0):
                raise ValueError(f"{name}: must be >= {1 if name == 'rounds' else 0}; got {value}")
        self.cifar = self.cifar or (cifar.FULL if self.full else cifar.CPU)
        self.text = self.text or (text.FULL if self.full else text.CPU)


def device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"{platform.machine()} CPU, {torch.get_num_threads()} torch thread(s)"


def _cifar_unavailable() -> str:
    try:
        import torchvision  # noqa: F401
    except ImportError as exc:
        return f"skipped: the CIFAR part needs torchvision ({exc})"
    return ""


def run_bench(settings: Settings, log: Callable[[str], None] = print) -> pd.DataFrame:
    """Measure every task and variant of ``settings``; one row per task x variant."""
    dev = resolve_device(settings.device)
    specs = variants(settings.dual)
    names = [v.name for v in specs]
    by_name = {v.name: v for v in specs}
    out: list[dict] = []
    for task in settings.tasks:
        t0 = time.perf_counter()
        size = settings.cifar if task == "cifar" else settings.text
        why = _cifar_unavailable() if task == "cifar" else text.unavailable()
        skipped = {n: why for n in names if why}
        if dev.type == "cpu" and not settings.optins_on_cpu:
            skipped.update({v.name: CPU_OPTINS_NOTE for v in specs if v.optins and not why})
        model = cifar.describe(size) if task == "cifar" else text.describe(size)
        log(f"{task}: {model}; {settings.rounds} rounds of {size.steps} steps per variant on {dev}")
        data = cifar.load_data(size, settings.data_dir or DATA_DIR / "bench") \
            if task == "cifar" and not why else None

        def build(name: str, task: str = task, size=size, data=data):  # noqa: ANN001, ANN202
            if task == "cifar":
                return cifar.build(by_name[name], size, data, dev, settings.seed)
            return text.build(by_name[name], size, dev, settings.seed)

        meas = measure(names, build, dev, rounds=settings.rounds, iso_rounds=settings.iso_rounds,
                       iso_cycles=settings.iso_cycles, skipped=skipped, log=log)
        out += rows(task, specs, meas, device=dev.type, device_name=device_name(dev), model=model,
                    rounds=settings.rounds)
        log(f"{task}: done in {time.perf_counter() - t0:.0f}s")
    return pd.DataFrame(out, columns=COLUMNS)


def write_csv(df: pd.DataFrame, path: Path = DEFAULT_CSV) -> Path:
    """Atomic CSV write (temporary file, then rename)."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    df.to_csv(tmp, index=False, float_format="%.6g")
    os.replace(tmp, path)
    return path


LEGEND = """\
ovh %     AEES overhead vs plain AdamW in the same pipeline, from whole steps (noisy on a busy CPU)
iso ovh % the same from isolated step cycles on fixed gradients, relative to a whole plain step
/stock    FastAEES overhead / stock AEES overhead (iso/stk: from the isolated cycles)
+item     .item() calls per step added to plain AdamW's (each a host-device sync on a GPU)
x thesis  speed vs the thesis-style pipeline doing the same job (plain or stock AEES)
same      FastAEES episode logs (arms, rewards, controller traces) == stock AEES's, same seed"""


def _fmt(value: object, spec: str) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    return format(value, spec) if spec else str(value)


def format_table(df: pd.DataFrame) -> str:
    """Plain-text table, one block per task (legend below each header)."""
    cols = [("variant", "", 27), ("samples_per_s", ".1f", 10), ("ms_per_step", ".2f", 9),
            ("aees_overhead_pct", "+.2f", 9), ("aees_overhead_isolated_pct", "+.3f", 9),
            ("overhead_vs_stock", ".2f", 7), ("overhead_vs_stock_isolated", ".2f", 7),
            ("extra_item_calls_per_step", ".0f", 6), ("speedup_vs_thesis", ".2f", 8),
            ("decisions_identical", "", 6)]
    heads = ["variant", "samples/s", "ms/step", "ovh %", "iso ovh %", "/stock", "iso/stk", "+item",
             "x thesis", "same"]
    lines = []
    for task, block in df.groupby("task", sort=False):
        first = block.iloc[0]
        lines.append(f"== {task}: {first['model']} on {first['device']} ({first['device_name']})")
        lines.append(" ".join(h.rjust(w) if i else h.ljust(w)
                              for i, (h, (_, _, w)) in enumerate(zip(heads, cols))) + "  note")
        for _, row in block.iterrows():
            cells = [_fmt(row[c], spec) for c, spec, _ in cols]
            lines.append(" ".join(c.rjust(w) if i else c.ljust(w)
                                  for i, (c, (_, _, w)) in enumerate(zip(cells, cols)))
                         + (f"  {row['note']}" if row["note"] else ""))
    return "\n".join(lines)


def _get(df: pd.DataFrame, task: str, variant: str, col: str) -> float:
    hit = df[(df.task == task) & (df.variant == variant)][col]
    value = hit.iloc[0] if len(hit) else math.nan
    return math.nan if value is None else float(value)


def targets(df: pd.DataFrame) -> list[str]:
    """The issue's targets, each with its measured value and PASS / FAIL / n/a."""
    def verdict(ok: float | bool) -> str:
        return "n/a" if isinstance(ok, float) and math.isnan(ok) else ("PASS" if ok else "FAIL")

    lines = []
    for task in df.task.unique():
        dev = df[df.task == task].device.iloc[0]
        if dev == "cpu":
            for v in ("project_fast_aees", "project_fast_aees_nonorm"):
                iso = _get(df, task, v, "overhead_vs_stock_isolated")
                full = _get(df, task, v, "overhead_vs_stock")
                same = df[(df.task == task) & (df.variant == v)].decisions_identical
                same = bool(same.iloc[0]) if len(same) and same.iloc[0] is not None else math.nan
                ok = iso <= 0.3 and same is True if not math.isnan(iso) else math.nan
                lines.append(f"{task}: {v} overhead / stock overhead = {iso:.2f} isolated "
                             f"({full:.2f} from whole steps), decisions identical: {same}  "
                             f"[target <= 0.3 and identical: {verdict(ok)}]")
        else:
            ovh = _get(df, task, "project_fast_aees", "aees_overhead_pct")
            lines.append(f"{task}: FastAEES overhead {ovh:+.2f}% of the step  "
                         f"[target <= 2%: {verdict(ovh <= 2 if not math.isnan(ovh) else ovh)}]")
            if task == "cifar":
                x = _get(df, task, "project_fast_aees", "speedup_vs_thesis")
                xp = _get(df, task, "project_plain", "speedup_vs_thesis")
                lines.append(f"{task}: project (FastAEES, fp32) {x:.2f}x the thesis-style pipeline "
                             f"(stock AEES); plain vs plain {xp:.2f}x  "
                             f"[target >= 3x: {verdict(x >= 3 if not math.isnan(x) else x)}]")
            fast = _get(df, task, "project_fast_aees", "samples_per_s")
            opt = _get(df, task, "project_fast_aees_optins", "samples_per_s")
            ok = opt > fast if not math.isnan(opt) else math.nan
            lines.append(f"{task}: opt-ins {opt:.1f} vs fp32 {fast:.1f} samples/s  "
                         f"[target faster still: {verdict(ok)}]")
    return lines


__all__ = ["Settings", "Variant", "run_bench", "write_csv", "format_table", "targets", "device_name",
           "DEFAULT_CSV", "COLUMNS", "LEGEND"]
