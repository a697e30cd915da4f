"""The sbatch options of a grid's job array: defaults, then the user's config file, then SLURM_ARGS.

Defaults fit the profile and the grid (nothing site-specific: no partition, account or QOS):

- ``thesis``: one GPU per task (``--gres=gpu:1``), 4 CPUs, 16 GB; ``mini``: no GPU, 2 CPUs, 4 GB;
- ``--time``: 3 x the grid's longest run at the thesis machine's measured speed (+10 min for
  start-up), at least 30 min, rounded up to 15 min (a run longer than the limit still
  finishes: it checkpoints, requeues and resumes);
- ``--requeue``, ``--signal=B:USR1@<s>`` (the batch script turns the signal into a stop
  request: checkpoint, requeue), ``--open-mode=append`` (a requeued task appends to its log),
  the task log ``<grid>/slurm/logs/%A_%a.out``;
- the array throttle ``--throttle=N`` (a pseudo-option: ``--array=0-<n-1>%N``), default 8.

Overrides use sbatch's own syntax, ``--name=value``, ``--name value`` or the common short
forms (``-p gpu``, ``-t 4:00:00``); a later source replaces an option of an earlier one, and
an empty value (``--gres=``) drops a default. The per-user file (``$AEES_SLURM_CONFIG``, else
``~/.config/aees/slurm.conf``) holds options (any number per line, ``#`` comments) and
``setup: <shell line>`` lines, run at the start of every task (``module load ...``).
"""

from __future__ import annotations

import math
import os
import shlex
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from lib.grids.cells import GridError, RunSpec, profile_value

CONFIG_ENV = "AEES_SLURM_CONFIG"
DEFAULT_CONFIG = Path("~/.config/aees/slurm.conf")
DEFAULT_THROTTLE = 8
# Steady-state seconds per epoch of the slowest variant (AEES-Dual) on the thesis machine
# (thesis compute-overhead table), and of the mini runs on 2 CPU cores (docs/guide.md, measured).
EPOCH_SECONDS = {"thesis": {"cifar100": 5.5, "sst2": 68.0, "agnews": 148.0},
                 "mini": {"cifar100": 4.5, "sst2": 9.0, "agnews": 7.5}}
TIME_FACTOR, START_MINUTES, MIN_MINUTES, ROUND_MINUTES = 3.0, 10.0, 30, 15
RESOURCES = {"thesis": {"cpus-per-task": "4", "mem": "16G", "gres": "gpu:1", "signal": "B:USR1@300"},
             "mini": {"cpus-per-task": "2", "mem": "4G", "signal": "B:USR1@120"}}
SHORT = {"p": "partition", "t": "time", "A": "account", "c": "cpus-per-task", "G": "gpus", "q": "qos",
         "N": "nodes", "n": "ntasks", "J": "job-name", "o": "output", "e": "error", "C": "constraint",
         "w": "nodelist", "x": "exclude", "D": "chdir", "a": "array", "d": "dependency"}
FLAGS = {"requeue", "no-requeue", "exclusive", "hold", "test-only", "contiguous", "overcommit",
         "spread-job", "use-min-nodes", "parsable", "wait", "no-kill", "quiet", "verbose"}
OWNED = {"array": "the array is one task per run; set its throttle with --throttle=N",
         "chdir": "tasks run from the repository root, where the script is submitted",
         "wrap": "the batch script is generated"}


@dataclass
class SlurmOptions:
    options: dict[str, str | None] = field(default_factory=dict)  # name -> value (None: a flag)
    setup: list[str] = field(default_factory=list)  # shell lines from the config file
    sources: list[str] = field(default_factory=list)  # where the overrides came from

    @property
    def throttle(self) -> int:
        return int(self.options.get("throttle") or DEFAULT_THROTTLE)

    def directives(self) -> list[str]:
        """``#SBATCH`` lines, without the pseudo-option ``throttle``."""
        out = []
        for name, value in self.options.items():
            if name == "throttle":
                continue
            out.append(f"#SBATCH --{name}" + ("" if value is None else f"={value}"))
        return out


def parse(text: str, source: str) -> list[tuple[str, str | None]]:
    """sbatch options from a string -> [(long name, value or None)], in order."""
    try:
        words = shlex.split(text, comments=True)
    except ValueError as exc:
        raise GridError(f"{source}: cannot split {text!r}: {exc}") from None
    out, i = [], 0
    while i < len(words):
        word = words[i]
        if word.startswith("--"):
            name, sep, value = word[2:].partition("=")
            if not sep and name not in FLAGS and i + 1 < len(words) and not words[i + 1].startswith("-"):
                value, sep, i = words[i + 1], "=", i + 1
        elif word.startswith("-") and len(word) >= 2 and word[1] in SHORT:
            name, value, sep = SHORT[word[1]], word[2:], "="
            if not value:
                if i + 1 >= len(words):
                    raise GridError(f"{source}: option {word} needs a value")
                value, i = words[i + 1], i + 1
        else:
            raise GridError(f"{source}: {word!r} is not an sbatch option (write --name=value; "
                            f"short forms known here: {', '.join('-' + k for k in SHORT)})")
        if name in OWNED:
            raise GridError(f"{source}: --{name} is set by the launcher ({OWNED[name]})")
        if name == "throttle" and not (value or "").isdigit():
            raise GridError(f"{source}: --throttle needs a positive integer, got {value!r}")
        out.append((name, value if sep else None))
        i += 1
    return out


def user_config_path() -> Path:
    return Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG).expanduser()


def read_user_config(path: Path) -> tuple[list[tuple[str, str | None]], list[str]]:
    """(options, setup lines) of the per-user config file; nothing when it does not exist."""
    if not path.exists():
        return [], []
    options, setup = [], []
    for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if stripped.startswith("setup:"):
            setup.append(stripped[len("setup:"):].strip())
        else:
            options += parse(stripped, f"{path}:{n}")
    return options, setup


def _epochs(spec: RunSpec) -> int:
    return int(spec.parameters.get("epochs") or profile_value(spec.task, spec.profile, "epochs"))


def time_limit(specs: Iterable[RunSpec], profile: str) -> str:
    """The default ``--time`` of a grid: see the module doc."""
    speeds = EPOCH_SECONDS.get(profile, EPOCH_SECONDS["thesis"])
    longest = max(_epochs(s) * speeds[s.task] / 60 for s in specs)
    minutes = max(MIN_MINUTES, TIME_FACTOR * longest + START_MINUTES)
    minutes = int(math.ceil(minutes / ROUND_MINUTES) * ROUND_MINUTES)
    return f"{minutes // 60:02d}:{minutes % 60:02d}:00"


def defaults(grid: str, profile: str, specs: list[RunSpec], log_dir: str) -> dict[str, str | None]:
    res = RESOURCES.get(profile, RESOURCES["mini"])
    out: dict[str, str | None] = {"job-name": f"aees-{profile}-{grid}", "time": time_limit(specs, profile),
                                  "cpus-per-task": res["cpus-per-task"], "mem": res["mem"]}
    if "gres" in res:
        out["gres"] = res["gres"]
    out.update({"requeue": None, "signal": res["signal"], "open-mode": "append",
                "output": f"{log_dir}/%A_%a.out", "throttle": str(DEFAULT_THROTTLE)})
    return out


def resolve(grid: str, profile: str, specs: list[RunSpec], log_dir: str, slurm_args: str = "",
            config: Path | None = None) -> SlurmOptions:
    """Defaults <- per-user config file <- ``slurm_args`` (SLURM_ARGS)."""
    opts = SlurmOptions(defaults(grid, profile, specs, log_dir))
    path = config or user_config_path()
    from_file, opts.setup = read_user_config(path)
    layers = [(from_file, str(path)), (parse(slurm_args or "", "SLURM_ARGS"), "SLURM_ARGS")]
    for items, source in layers:
        if items:
            opts.sources.append(source)
        for name, value in items:
            opts.options.pop(name, None)
            opts.options.pop({"requeue": "no-requeue", "no-requeue": "requeue"}.get(name, ""), None)
            if value != "":
                opts.options[name] = value
    return opts
