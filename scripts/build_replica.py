"""Build the offline replica of the thesis' remote resources (lib.replica) into a scratch folder.

    .venv/bin/python scripts/build_replica.py /tmp/aees-replica [--only model sst2 agnews cifar100]

Writes <dir>/hf (the HF cache: models--distilbert-base-uncased, glue/sst2, ag_news) and
<dir>/data (cifar100/cifar-100-python). For rehearsals only: run the thesis profile on it with
AEES_DATA_DIR=<dir>/data and -p cache_dir <dir>/hf (make rehearse does all of this itself).
Never point it at your real caches: it refuses to overwrite real files, and every result made
from it is marked as a replica and refused by the analysis.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.replica.build import build_replica  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("dir", type=Path)
    ap.add_argument("--only", nargs="*", default=None, help="model sst2 agnews cifar100 (default: all)")
    args = ap.parse_args()
    t0 = time.perf_counter()
    parts = build_replica(args.dir / "hf", args.dir / "data", only=tuple(args.only) if args.only else None)
    for name, path in parts.items():
        print(f"{name:<9} {path}")
    print(f"replica ready in {time.perf_counter() - t0:.0f} s: AEES_DATA_DIR={args.dir / 'data'} "
          f"-p cache_dir {args.dir / 'hf'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
