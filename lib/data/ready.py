"""Is the data a run needs on disk? Checked before a run takes its lock or creates any folder.

A ``thesis`` CIFAR-100 run reads ``<data>/cifar100/cifar-100-python``, a run of the CIFAR task on
Fashion-MNIST (``dataset=fashion-mnist``) the idx files under ``<data>/fashion-mnist`` or the Debian
package it copies them from (``lib.data.fashion_mnist_files``); it is fetched once, with
network, by ``make prepare-thesis`` (``lib.data.prepare``). A run without it stops here with one
line naming that command, instead of trying to download inside the run (a traceback per retry, an
empty data folder and a lock file left behind). Torch-free, so that the check costs nothing.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from lib import DATA_DIR, shown_path
from lib.data import fashion_mnist_files
from lib.data.prepare import ALL, FETCH_CIFAR

CIFAR_FILES = ("train", "test", "meta")


class DataMissing(FileNotFoundError):
    """The data of a run are not on disk; the message names the command that provides them."""

    def _render_traceback_(self) -> list[str]:  # IPython (a notebook, papermill): the line, no traceback
        return [f"{type(self).__name__}: {self}"]


def cifar_folder(data_dir: Path | None = None) -> Path:
    return (data_dir or DATA_DIR) / "cifar100" / "cifar-100-python"


def fashion_mnist_root(data_dir: Path | None = None) -> Path:
    return (data_dir or DATA_DIR) / "fashion-mnist"


def missing(task: str, cfg: Any, data_dir: Path | None = None) -> str | None:
    """One line saying what ``cfg`` lacks on disk and the command that provides it; None when ready."""
    if task != "cifar100" or getattr(cfg, "data_standin", True):
        return None
    if getattr(cfg, "dataset", "cifar100") == "fashion-mnist":
        problem = fashion_mnist_files.problem(fashion_mnist_root(data_dir))
        return f"data: profile={getattr(cfg, 'profile', 'thesis')} needs Fashion-MNIST: {problem}" if problem else None
    folder = cifar_folder(data_dir)
    absent = [f for f in CIFAR_FILES if not (folder / f).is_file()]
    if not absent:
        return None
    return (f"data: profile={getattr(cfg, 'profile', 'thesis')} needs CIFAR-100 in {shown_path(folder)} "
            f"(missing {', '.join(absent)}); fetch it once with network: `{ALL}` (CIFAR-100 alone: "
            f"`{FETCH_CIFAR}`), or run profile=mini (offline stand-in)")


def require(task: str, cfg: Any, data_dir: Path | None = None) -> None:
    """Raise :class:`DataMissing` with :func:`missing`'s line when data are missing."""
    problem = missing(task, cfg, data_dir)
    if problem:
        raise DataMissing(problem)
