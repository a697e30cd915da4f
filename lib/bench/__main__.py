"""``python -m lib.bench``: measure, print the table and the targets, write the CSV."""

from __future__ import annotations

import argparse
import dataclasses
import shlex
import sys
from pathlib import Path

import torch

from lib.bench import DEFAULT_CSV, LEGEND, TASKS, Settings, format_table, run_bench, targets, write_csv


def _parse(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m lib.bench", description=__doc__)
    p.add_argument("--device", default="auto", choices=["auto", "cpu", "cuda"])
    p.add_argument("--full", action="store_true",
                   help="thesis-sized models: ResNet-18 width 64, DistilBERT 6x768 at 128 tokens (GPU)")
    p.add_argument("--tasks", default=",".join(TASKS), help=f"comma-separated subset of {','.join(TASKS)}")
    p.add_argument("--rounds", type=int, default=None,
                   help="timed interleaved rounds per variant (default 3; 5 with --full)")
    p.add_argument("--steps", type=int, default=None, help="timed steps per round (both tasks)")
    p.add_argument("--iso-rounds", type=int, default=15, help="rounds of isolated step cycles (0 = skip)")
    p.add_argument("--iso-cycles", type=int, default=20, help="isolated step cycles per round")
    p.add_argument("--dual", action="store_true", help="also AEES with gradient noise {0, 0.005, 0.01}")
    p.add_argument("--optins-on-cpu", action="store_true", help="run the bf16/compile variants on CPU too")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads (default: torch's)")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--csv", type=Path, default=DEFAULT_CSV, help=f"output CSV (default {DEFAULT_CSV})")
    return p.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = _parse(argv)
    if args.threads is not None:
        torch.set_num_threads(args.threads)
    try:
        settings = Settings(device=args.device, full=args.full,
                            tasks=tuple(t for t in args.tasks.split(",") if t), rounds=args.rounds,
                            iso_rounds=args.iso_rounds, iso_cycles=args.iso_cycles, dual=args.dual,
                            seed=args.seed, optins_on_cpu=args.optins_on_cpu)
        if args.device == "cuda" and not torch.cuda.is_available():
            raise ValueError("device: 'cuda' was requested but no CUDA device is visible")
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if args.steps is not None:
        settings.cifar = dataclasses.replace(settings.cifar, steps=args.steps)
        settings.text = dataclasses.replace(settings.text, steps=args.steps)
    given = sys.argv[1:] if argv is None else argv
    print(f"command: {shlex.join(['python', '-m', 'lib.bench', *given])}", flush=True)
    df = run_bench(settings, log=lambda line: print(line, flush=True))
    print()
    print(format_table(df))
    print(LEGEND)
    print()
    for line in targets(df):
        print(line)
    path = write_csv(df, args.csv)
    print(f"\nwrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
