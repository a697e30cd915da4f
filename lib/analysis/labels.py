"""Display labels of the thesis, kept in one place.

Every string a thesis table or figure prints for a method, setting or optimizer
comes from here (INVENTORY.md sections 1-3). ``method_label`` builds the label
from identified content; ``summary_label`` gives the string the thesis summary
CSVs (``reference/thesis-results``) use for the same runs; ``ROW_ORDERS`` is the
row order of each table.
"""

from __future__ import annotations

import math
import re

from lib.vocab import PEER_LABELS, PEERS

# Scheduler display names inside method labels ("WL" = warmup-linear, 0 warmup).
SCHEDULER_SHORT = {"cosine": "Cosine", "linear": "Linear", "warmup_linear": "WL"}
# Spelled-out form used by the NLP summary CSVs (make_nlp_latex_tables).
SCHEDULER_LONG = {"cosine": "cosine", "linear": "linear", "warmup_linear": "warmup-linear"}

OPTIMIZER_NAMES = {"adamw": "AdamW", "sgd": "SGD", "sgdm": "SGD", "sgd+m": "SGD",
                   **{peer.lower(): peer for peer in PEERS}}
# The schedule-free peers (beyond the thesis): one label in every task and setting,
# "<peer>" alone and "<peer> + AEES" under AEES, so that no thesis row ever matches them (lib.vocab).
# "SGD" in the CIFAR tables, "SGD+M" in the paired-stats table and figures.
OPTIMIZER_FIGURE_LABELS = {"AdamW": "AdamW", "SGD": "SGD+M"}

TASK_LABELS = {"cifar100": "CIFAR-100", "sst2": "SST-2", "agnews": "AG News"}
SETTING_LABELS = {
    "clean": "Clean",
    "asym20": "Asym. 20\\%",
    "sym20": "Sym. 20\\%",
    "sym40": "Sym. 40\\%",
    "noise20": "AG News 20\\%",
}

AEES_AXES = {(True, False): "AEES-LR", (False, True): "AEES-Noise", (True, True): "AEES-Dual"}
RANDOM_AXES = {(True, False): "Random LR", (False, True): "Random σ", (True, True): "Random LR+σ"}
OPEN_LOOP = {"uniform-random": "Uniform-random LR", "frequency-matched": "Frequency-matched LR"}

# Named candidate grids: (task family, lr values, noise values) -> name.
# NLP names follow the thesis report scripts; CIFAR names follow the file tokens.
NAMED_GRIDS = {
    ("cifar", (0.5, 1.0, 2.0), (0.0,)): "lr05102",
    ("cifar", (0.5, 1.0, 2.0), (0.0, 0.0025, 0.005)): "smallnoise",
    ("nlp", (0.7, 1.0, 1.3), (0.0, 0.0025, 0.005)): "SST2-grid",
    ("nlp", (0.5, 1.0, 2.0), (0.0, 0.005, 0.01)): "coarse/high-noise",
}

# Row order of each thesis table, in display labels (INVENTORY section 2).
_NLP_MAIN = ("AdamW", "AdamW + WL", "AEES", "AEES + WL")
_NLP_AXIS = ("AdamW + WL", "AEES-LR + WL", "AEES-Noise + WL", "AEES + WL")
_NOISY = ("Baseline", "AEES", "Cosine", "Cosine + AEES")
ROW_ORDERS: dict[str, tuple[str, ...]] = {
    "T1": ("AdamW", "AdamW + Cosine", "AdamW + Linear", "AEES", "AEES + Cosine", "AEES + Linear"),
    "T2": ("Fixed ×1.0", "Fixed ×0.5", "Fixed ×2.0", "AEES"),
    "T3": ("AdamW", "Fixed ×0.5", "Fixed ×2.0", "AEES", "AdamW + Cosine", "AEES + Cosine",
           "AdamW + Linear", "AEES + Linear"),
    "T4": _NOISY, "T5": _NOISY, "T6": _NOISY, "T7": _NOISY, "T11": _NOISY, "T12": _NOISY,
    "T9": ("Baseline", "Fixed ×0.5", "Fixed ×1.0", "Fixed ×2.0", "AEES", "Cosine", "Cosine + AEES"),
    "T15": _NLP_MAIN, "T17": _NLP_MAIN, "T18": _NLP_MAIN,
    "T16": _NLP_AXIS, "T19": _NLP_AXIS,
    "T21": ("AdamW", "AdamW + WL", "Fixed σ=0.005 + WL", "Fixed σ=0.01 + WL", "Random σ + WL",
            "AEES-Noise + WL", "AEES + WL"),
}


# One name per method across every figure: the thesis's figure names (INVENTORY section 3: "Flat",
# "Cosine", "Linear", "AEES", "AEES-Dual", "Cosine + AEES", "Linear + AEES-Dual", ...). Tables keep the
# thesis's table labels (``method_label``); ``figure_name`` maps a table label to the figure name.
# The flat baseline is "AdamW" in the clean and NLP tables and "Baseline" in the noisy CIFAR tables;
# NLP "WL" (warmup-linear with zero warmup) is a linear decay; a bare NLP "AEES" is AEES-Dual.
FLAT_LABELS = ("AdamW", "Baseline")
NLP_TASKS = ("sst2", "agnews")


def figure_name(label: str, task: str = "cifar100") -> str:
    """The figure name of a table label: ``AdamW``/``Baseline`` -> ``Flat``, ``AdamW + Cosine`` -> ``Cosine``,
    ``AEES + Linear`` -> ``Linear + AEES``, on the NLP tasks ``AEES + WL`` -> ``Linear + AEES-Dual``."""
    if task not in TASK_LABELS:
        raise ValueError(f"figure_name: task must be one of {list(TASK_LABELS)}, got {task!r}")
    parts = label.split(" + ")
    if task in NLP_TASKS:
        parts = ["AEES-Dual" if p == "AEES" else p for p in parts]
    scheds = [p for p in parts[1:] if p in SCHEDULER_SHORT.values()]
    core = [p for p in parts if p not in scheds]
    if core and core[0] in FLAT_LABELS:
        core = core[1:]
    sched = ["Linear" if s == "WL" else s for s in scheds]
    return " + ".join(sched + core) or "Flat"


def fmt_value(x: float) -> str:
    """Compact number as in candidate names and labels: 0.5, 1, 0.0025."""
    return f"{x:g}"


def fmt_multiplier(m: float) -> str:
    """LR multiplier as printed by the thesis: ``0.5``, ``1.0``, ``2.0`` (``%g`` beyond 1 dp)."""
    return f"{m:.1f}" if math.isclose(round(m, 1), m) else f"{m:g}"


def is_cifar(task: str | None) -> bool:
    return task == "cifar100"


def fixed_core(lr_mult: float | None, sigma: float | None) -> str:
    """Label of a single-candidate run: ``Fixed ×0.5``, ``Fixed σ=0.005``, or both."""
    if lr_mult is None:
        return "Fixed"
    sigma = 0.0 if sigma is None else sigma
    if sigma == 0.0:
        return f"Fixed ×{fmt_multiplier(lr_mult)}"
    if lr_mult == 1.0:
        return f"Fixed σ={fmt_value(sigma)}"
    return f"Fixed ×{fmt_multiplier(lr_mult)}, σ={fmt_value(sigma)}"


def method_label(*, task: str | None, setting: str, optimizer: str, kind: str, core: str,
                 scheduler: str) -> str:
    """Compose the thesis display label from a core method name and the scheduler.

    ``kind == "baseline"``: clean CIFAR and NLP print the optimizer (``AdamW``,
    ``AdamW + Cosine``, ``AdamW + WL``); noisy CIFAR prints ``Baseline`` / ``Cosine``.
    Otherwise clean CIFAR and NLP append the scheduler (``AEES + Cosine``,
    ``Random σ + WL``) and noisy CIFAR prepends it (``Cosine + AEES``).
    """
    sched = None if scheduler in ("", "none") else SCHEDULER_SHORT.get(scheduler, scheduler)
    if optimizer in PEER_LABELS:
        peer = PEER_LABELS[optimizer] if kind == "baseline" else f"{PEER_LABELS[optimizer]} + {core}"
        return peer if sched is None else f"{peer} + {sched}"
    noisy_cifar = is_cifar(task) and setting != "clean"
    if kind == "baseline":
        if noisy_cifar:
            return sched or "Baseline"
        return optimizer if sched is None else f"{optimizer} + {sched}"
    if sched is None:
        return core
    return f"{sched} + {core}" if noisy_cifar else f"{core} + {sched}"


def summary_label(*, task: str | None, method: str, aees_axis: str, scheduler: str) -> str:
    """The label the thesis summary CSVs use for the same runs.

    CIFAR CSVs write ``Fixed 0.5`` for ``Fixed ×0.5``; the NLP CSVs name the AEES
    axis explicitly (``AEES-Dual``) and spell the scheduler out (``+ warmup-linear``).
    """
    if is_cifar(task):
        return method.replace("Fixed ×", "Fixed ")
    label = method
    if aees_axis == "AEES-Dual":
        label = label.replace("AEES", "AEES-Dual", 1)
    short = SCHEDULER_SHORT.get(scheduler)
    if short and label.endswith(f" + {short}"):
        label = label[: -len(short)] + SCHEDULER_LONG[scheduler]
    return label


def grid_name(task: str | None, lr: tuple[float, ...], noise: tuple[float, ...]) -> str:
    """Name of the candidate grid whose active axes match ``lr`` / ``noise``.

    ``""`` when no axis is active, ``"custom"`` when no named grid matches. An
    axis-ablation run (e.g. AEES-Noise on SST-2: lr {1}, σ {0, 0.0025, 0.005}) is
    named after the full grid it was cut from.
    """
    lr_active, noise_active = len(lr) > 1, len(noise) > 1
    if not (lr_active or noise_active):
        return ""
    family = "cifar" if is_cifar(task) else "nlp"
    for (fam, g_lr, g_noise), name in NAMED_GRIDS.items():
        if fam != family:
            continue
        lr_ok = _same(lr, g_lr) if lr_active else _same(lr, (1.0,))
        noise_ok = _same(noise, g_noise) if noise_active else _same(noise, (0.0,))
        if lr_ok and noise_ok:
            return name
    return "custom"


def _same(a: tuple[float, ...], b: tuple[float, ...]) -> bool:
    return len(a) == len(b) and all(math.isclose(x, y, rel_tol=1e-9, abs_tol=1e-12) for x, y in zip(a, b))


def latex_label(text: str) -> str:
    """Escape a plain label for LaTeX and typeset ``×`` / ``σ`` as math.

    Text that already holds a backslash is taken as LaTeX and returned unchanged.
    """
    if "\\" in text:
        return text
    for char, repl in (("&", r"\&"), ("%", r"\%"), ("_", r"\_"), ("#", r"\#")):
        text = text.replace(char, repl)
    # "σ=0.005" is one formula, as the thesis sets it ($\sigma=0.005$)
    return re.sub(r"σ(=[0-9.]+)?", lambda m: f"$\\sigma{m[1] or ''}$", text.replace("×", r"$\times$"))
