"""How long a sequence of ``make runs`` calls will take: the plan ``make mini-archive`` prints first.

Each run still to do is costed, best source first:

1. ``recorded``: the run's own earlier result (a rerun, ``FORCE=1``): the papermill duration of its
   executed notebook, else its ``wall_clock_seconds`` plus ``START_SECONDS``;
2. ``rate``: seconds per epoch of the archive's recorded runs of the same grid cell (other seeds),
   else of the same task with the same CIFAR data set, times the run's epochs;
3. ``model``: the per-epoch cost model ``SECONDS_PER_EPOCH`` (a 2-core CPU running two runs at a time
   with one thread each, measured for docs/miniature.md) times the run's epochs.

A call's wall time is the runs' longest-first schedule over its ``-j`` slots. Derived grids whose
parents have not run yet are costed at the upper bound (the full length of the parent run).
"""

from __future__ import annotations

import heapq
import json
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lib import RESULTS_DIR
from lib.grids.cells import RunSpec, profile_value
from lib.grids.plan import check, grid_runs, select_grids

START_SECONDS = 8.0  # papermill kernel start, imports and data loading around the recorded wall clock
# Seconds per epoch at mini scale, one thread beside a second run (docs/miniature.md): keyed by the
# task and, for the CIFAR task, its data (the stand-in generator or real Fashion-MNIST images).
SECONDS_PER_EPOCH = {("cifar100", "cifar100"): 1.25, ("cifar100", "fashion-mnist"): 1.55,
                     ("sst2", ""): 3.2, ("agnews", ""): 3.6}
# The text rates above were measured at the mini training sets (stand-in examples); an epoch's cost
# grows with the examples, so a profile with more scales the rate by its size over these.
TEXT_MEASURED_AT = {"sst2": 3000, "agnews": 2400}


@dataclass
class Call:
    """One ``make runs`` call: its grids, how many runs at a time, and the cost of each run to do."""

    grids: list[str]
    jobs: int
    total: int = 0
    costs: list[tuple[RunSpec, float, str]] = field(default_factory=list)  # (run, seconds, source)

    @property
    def seconds(self) -> float:
        """Longest-first schedule of the runs over ``jobs`` slots."""
        slots = [0.0] * max(1, self.jobs)
        for cost in sorted((c for _, c, _ in self.costs), reverse=True):
            heapq.heapreplace(slots, slots[0] + cost)
        return max(slots)


def _data_key(spec: RunSpec) -> tuple[str, str]:
    if spec.task != "cifar100":
        return spec.task, ""
    dataset = spec.parameters.get("dataset") or profile_value("cifar100", spec.profile, "dataset")
    return spec.task, dataset


def _epochs(spec: RunSpec) -> int:
    return int(spec.parameters.get("epochs") or profile_value(spec.task, spec.profile, "epochs"))


def _recorded(json_path: Path) -> tuple[float, int] | None:
    """(seconds of the whole run, epochs) of a finished run, or None."""
    try:
        result = json.loads(json_path.read_text(encoding="utf-8"))
        epochs = int(result["config"]["epochs"])
        wall = float(result["wall_clock_seconds"])
    except (OSError, ValueError, KeyError, TypeError):
        return None
    try:
        nb = json.loads(json_path.with_suffix(".ipynb").read_text(encoding="utf-8"))
        return float(nb["metadata"]["papermill"]["duration"]), epochs
    except (OSError, ValueError, KeyError, TypeError):
        return wall + START_SECONDS, epochs


class Rates:
    """Seconds per epoch of the recorded runs, per grid cell and per (task, data)."""

    def __init__(self, specs: Iterable[RunSpec]) -> None:
        self.own: dict[Path, float] = {}
        cell, data = defaultdict(list), defaultdict(list)
        for spec in specs:
            rec = _recorded(spec.json)
            if rec is None:
                continue
            self.own[spec.json] = rec[0]
            cell[(spec.grid, spec.cell)].append(rec[0] / rec[1])
            data[_data_key(spec)].append(rec[0] / rec[1])
        self.cell = {k: sum(v) / len(v) for k, v in cell.items()}
        self.data = {k: sum(v) / len(v) for k, v in data.items()}

    def cost(self, spec: RunSpec) -> tuple[float, str]:
        if spec.json in self.own:
            return self.own[spec.json], "recorded"
        for table, key in ((self.cell, (spec.grid, spec.cell)), (self.data, _data_key(spec))):
            if key in table:
                return table[key] * _epochs(spec), "rate"
        per_epoch = SECONDS_PER_EPOCH.get(_data_key(spec), SECONDS_PER_EPOCH[("cifar100", "cifar100")])
        if spec.task in TEXT_MEASURED_AT:
            size = spec.parameters.get("standin_n_train") or profile_value(spec.task, spec.profile, "standin_n_train")
            per_epoch *= (size or TEXT_MEASURED_AT[spec.task]) / TEXT_MEASURED_AT[spec.task]
        return per_epoch * _epochs(spec) + START_SECONDS, "model"


def estimate(calls: list[tuple[int, str]], profile: str, *, force: bool = False, seeds: tuple[int, ...] | None = None,
             results_dir: Path = RESULTS_DIR) -> list[Call]:
    """``calls``: (jobs, grid names) per make call, in order. Returns each call with its costed runs."""
    planned = [(jobs, select_grids(grids)) for jobs, grids in calls]
    specs = {name: grid_runs(name, profile, seeds, Path(results_dir), parents="upper-bound")
             for _, names in planned for name in names}
    rates = Rates(s for runs in specs.values() for s in runs)
    out = []
    for jobs, names in planned:
        call = Call(names, jobs)
        for name in names:
            for spec in specs[name]:
                call.total += 1
                if force or check(spec)[0] != "finished":
                    call.costs.append((spec, *rates.cost(spec)))
        out.append(call)
    return out


def _duration(seconds: float) -> str:
    return f"{seconds / 3600:.1f} h" if seconds >= 5400 else f"{seconds / 60:.0f} min"


def report(calls: list[Call], profile: str) -> str:
    """The plan as printed by ``make mini-archive``: one line per make call, then the total."""
    lines = []
    for i, call in enumerate(calls, 1):
        sources = defaultdict(int)
        for _, _, source in call.costs:
            sources[source] += 1
        how = ", ".join(f"{n} {s}" for s, n in sorted(sources.items())) or "nothing to run"
        lines.append(f"[plan] make call {i}/{len(calls)} (-j {call.jobs}) PROFILE={profile} GRID='{' '.join(call.grids)}': "
                     f"{len(call.costs)} of {call.total} runs to train, ~{_duration(call.seconds)} ({how})")
    total = sum(c.seconds for c in calls)
    lines.append(f"[plan] total ~{_duration(total)} (recorded: the run's earlier time; rate: seconds per epoch of "
                 "recorded runs alike; model: lib.grids.estimate.SECONDS_PER_EPOCH). A stopped call resumes: "
                 "finished runs are skipped")
    return "\n".join(lines)


__all__ = ["Call", "Rates", "estimate", "report", "SECONDS_PER_EPOCH", "START_SECONDS"]
