"""The project's vocabulary: the names several rooms of ``lib`` must agree on, each in one place.

The bottom layer: plain constants and string helpers, importing nothing from the project and no
third-party package (so never torch). Every room may import it; it imports no room.

* tasks and data sets: the task names, the CIFAR task's other data sets (one table), the noisy AG News
  key, the tokenized-cache file names;
* optimizers: the peers of AdamW (one table: display label, run-name token, default learning rate,
  whether they replace the schedule), the methods that are a plain baseline (no episodes);
* files beside a run's output: checkpoint, lock, stop request, live record, moved-aside names, the
  grid manifest;
* the analysis chapters, in thesis order (``mk/analysis.mk`` reads the ``CHAPTERS`` line).
"""

from __future__ import annotations

from typing import Any, NamedTuple

# --- tasks and data sets ---------------------------------------------------------------------
CIFAR = "cifar100"
SST2 = "sst2"
AGNEWS = "agnews"
TASKS = (CIFAR, SST2, AGNEWS)
TEXT_TASKS = (SST2, AGNEWS)
# Noisy AG News (20 % symmetric label noise) is its own data set to prepare and check, and a grid name.
AGNEWS_NOISY = "agnews-noisy"
# AG News label noise is drawn with its own seed, independent of the run seed (thesis: 42).
AGNEWS_NOISE_SEED = 42
# The AG News validation set: a seeded split of the train split (thesis: seed 42).
AGNEWS_SPLIT_SEED = 42


class DataSet(NamedTuple):
    """A data set the CIFAR task can run on besides CIFAR-100 (its ``dataset`` parameter), as the rooms
    other than its loader see it (its loader: ``lib.data.cifar_task.LOADERS``; its classes and asymmetric
    label-noise rule: ``lib.noise.CIFAR_TASK_CLASSES``)."""

    doc: str  # what the ``dataset`` parameter's comment says of it
    folder: str  # its folder under the data directory
    description: str  # the RunResult's ``dataset_name`` and the run's data line
    label: str  # what every table, figure and report page built from its runs says (not thesis numbers)


# The CIFAR task's data sets other than CIFAR-100 (or its offline stand-in), keyed by ``dataset``.
CIFAR_TASK_DATASETS: dict[str, DataSet] = {
    "fashion-mnist": DataSet(
        "real Fashion-MNIST images padded to 32x32 RGB, a CPU-scale stand-in testbed, lib.data.fashion_mnist",
        "fashion-mnist", "Fashion-MNIST (real images, 10 classes; a stand-in for CIFAR-100)",
        "Fashion-MNIST, real images, 10 classes — a stand-in for CIFAR-100, not thesis numbers"),
}


def data_key(task: str, label_noise_rate: float = 0.0) -> str:
    """``sst2`` | ``agnews`` | ``agnews-noisy``: the data set a text run reads (one pretokenize run each)."""
    return AGNEWS_NOISY if task == AGNEWS and label_noise_rate > 0 else task


def tokenized_dir_name(task: str) -> str:
    """The folder under the data directory that holds a text task's tokenized caches."""
    return f"{task}_tokenized"


def split_tag(seed: int = AGNEWS_SPLIT_SEED) -> str:
    """The part of an AG News cache name that names its train/validation split."""
    return f"splitseed{seed}"


def noise_tag(rate: float, seed: int = AGNEWS_NOISE_SEED) -> str:
    """The part of a noisy train cache name that names its label noise (``_noise0p2_noiseseed42``)."""
    return f"_noise{format(rate, 'g').replace('.', 'p')}_noiseseed{seed}"


# --- optimizers ---------------------------------------------------------------------------
class Peer(NamedTuple):
    """An optimizer peer of AdamW beyond the thesis, as the rooms other than its builder see it
    (its construction: ``lib.control.peers.BUILDERS``)."""

    label: str  # display label: "<label>" alone, "<label> + AEES" under AEES, in every task and setting
    token: str  # its token in run names of the peers grid
    default_lr: float | None = None  # the lr of a run that gives none (None: the task's AdamW LR)
    own_schedule: bool = False  # it replaces the LR schedule: lr_scheduler must be none


# The one table of peers, keyed by their ``optimizer`` (and NLP ``method``) value. Config, the optimizer
# wiring, the grids and the analysis labels read it; the run path reads it when a run is configured.
PEER_SPECS: dict[str, Peer] = {
    "ScheduleFreeAdamW": Peer("Schedule-Free", "sfadamw", own_schedule=True),
    # the prodigyopt README recommends lr 1 (its default) for every network
    "Prodigy": Peer("Prodigy", "prodigy", default_lr=1.0),
}
# Read once at import by the grids and the analysis.
PEERS = tuple(PEER_SPECS)
PEER_LABELS = {name: peer.label for name, peer in PEER_SPECS.items()}
PEER_TOKENS = {name: peer.token for name, peer in PEER_SPECS.items()}


def baseline_methods() -> tuple[str, ...]:
    """The control modes / methods of a run without episodes (the NLP baselines name their optimizer)."""
    return ("baseline", "AdamW", *PEER_SPECS)


def is_managed(params: dict[str, Any]) -> bool:
    """Episode-managed (AEES, random, fixed): the run's ``control_mode`` (CIFAR) or ``method`` (NLP)
    is not a plain baseline, so its episode length matters."""
    mode = params.get("control_mode", params.get("method", "baseline"))
    return mode not in baseline_methods()


def episode_logs(aees: Any) -> dict[str, Any] | None:
    """Protocol 7.4: the episode manager's logs plus the runner's ``selected_candidate_names`` alias
    (``None`` for a run without a manager)."""
    if aees is None:
        return None
    logs = aees.get_logs()
    logs["selected_candidate_names"] = list(logs["selected_combined_names"])
    return logs


# --- files beside a run's output -------------------------------------------------------------
CHECKPOINT_SUFFIX = ".ckpt"  # <output>.ckpt: the run's resumable state
LOCK_SUFFIX = ".lock"  # <output>.lock: held by the run writing <output>
STOP_SUFFIX = ".stop"  # <output>.stop: a request to checkpoint and stop (Slurm time limit)
PROGRESS_SUFFIX = ".progress"  # the live record; not .json: the analysis reads every JSON of a grid folder
CORRUPT_INFIX = ".corrupt-"  # <name>.corrupt-<UTC time>: an unreadable checkpoint moved aside
STALE_DIR = ".stale"  # <grid dir>/.stale/: stale results and checkpoints set aside before a rerun
MANIFEST = "manifest.json"  # every planned run of a grid, its parameters and status
MANIFEST_LOCK = ".manifest.lock"


def beside(output: Any, suffix: str) -> Any:
    """The file ``<output><suffix>`` beside a run's output path (a ``pathlib.Path``)."""
    return output.with_name(output.name + suffix)


# --- analysis chapters -----------------------------------------------------------------------
# Thesis order; one make target, one figures/ folder and one analysis notebook each.
CHAPTERS = ("claims", "cifar_clean", "cifar_noisy", "nlp", "ablations", "compute", "controller", "checkpoints", "peers")


__all__ = [
    "AGNEWS", "AGNEWS_NOISE_SEED", "AGNEWS_NOISY", "AGNEWS_SPLIT_SEED", "CHAPTERS",
    "CHECKPOINT_SUFFIX", "CIFAR", "CIFAR_TASK_DATASETS", "DataSet", "CORRUPT_INFIX", "LOCK_SUFFIX", "MANIFEST", "MANIFEST_LOCK", "PEERS",
    "PEER_LABELS", "PEER_SPECS", "PEER_TOKENS", "PROGRESS_SUFFIX", "SST2", "STALE_DIR", "STOP_SUFFIX",
    "TASKS", "TEXT_TASKS", "Peer", "baseline_methods", "beside", "data_key", "episode_logs", "is_managed",
    "noise_tag", "split_tag", "tokenized_dir_name",
]
