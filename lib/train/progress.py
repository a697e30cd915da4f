"""Progress within an epoch, for epochs long enough to wait for (the epoch line stays).

:func:`steps` wraps an epoch's batch iterator. The bar appears only once an epoch has run for
``DELAY_SECONDS`` (short epochs, such as the mini profile's, show nothing) and is updated
every ``total // UPDATES`` steps, so the training loop pays one counter test per step.

Where it goes (``AEES_PROGRESS`` = ``auto`` (default) | ``widget`` | ``lines`` | ``off``):

- a notebook kernel with a browser (JupyterLab): a ``tqdm.auto`` widget, cleared at epoch end;
- a papermill execution (the kernel's parent process is papermill) or a plain Python process:
  a plain text line every ``LINE_SECONDS``, so logs stay readable;
- pytest (``PYTEST_CURRENT_TEST`` is set, also inherited by a papermill kernel it starts): nothing.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

__all__ = ["DELAY_SECONDS", "LINE_SECONDS", "UPDATES", "mode", "steps"]

DELAY_SECONDS = 5.0
LINE_SECONDS = 30.0
UPDATES = 100  # at most this many bar updates per epoch
MODES = ("auto", "widget", "lines", "off")

T = TypeVar("T")


def _in_kernel() -> bool:
    ip = sys.modules.get("IPython")
    shell = ip.get_ipython() if ip is not None else None
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


def _parent_is_papermill() -> bool:
    try:
        with open(f"/proc/{os.getppid()}/cmdline", "rb") as fh:
            return b"papermill" in fh.read()
    except OSError:
        return False


def mode() -> str:
    """``widget``, ``lines`` or ``off`` for this process (see module doc)."""
    choice = os.environ.get("AEES_PROGRESS", "auto")
    if choice not in MODES:
        raise ValueError(f"AEES_PROGRESS must be one of {', '.join(MODES)}; got {choice!r}")
    if choice != "auto":
        return choice
    if "PYTEST_CURRENT_TEST" in os.environ:
        return "off"
    return "widget" if _in_kernel() and not _parent_is_papermill() else "lines"


class _Lines:
    """A tqdm output file that turns each refresh into one plain line on stdout."""

    def write(self, text: str) -> None:
        text = text.strip("\r\n").strip()
        if text:
            sys.stdout.write(text + "\n")

    def flush(self) -> None:
        sys.stdout.flush()


def _bar(total: int | None, desc: str, how: str) -> Any:
    if how == "widget":
        from tqdm.auto import tqdm
        return tqdm(total=total, desc=desc, unit="step", delay=DELAY_SECONDS, leave=False)
    from tqdm.std import tqdm
    return tqdm(total=total, desc=desc, unit="step", delay=DELAY_SECONDS, mininterval=LINE_SECONDS,
                file=_Lines(), ascii=True, ncols=100, leave=False)


def steps(batches: Iterable[T], total: int | None, desc: str) -> Iterator[T]:
    """Yield ``batches`` unchanged while showing the epoch's progress (see module doc)."""
    how = mode()
    if how == "off":
        yield from batches
        return
    every = max(1, (total or 0) // UPDATES)
    bar = _bar(total, desc, how)
    try:
        done = 0
        for done, item in enumerate(batches, 1):
            yield item
            if done % every == 0:
                bar.update(every)
        bar.update(done - bar.n)
    finally:
        bar.close()
