r"""Thesis table styling: rounding, bold/italic ranking, LaTeX via pandas' Styler, CSV beside.

Rules (INVENTORY section 1):
* CIFAR tables 1 dp ``xx.x $\pm$ y.y`` (peak epoch too); NLP tables 2 dp; paired
  stats 2 dp; overhead 1 dp with sign (``+15.5``, ``-0.0``); ablation difference
  columns 1 dp with ``+`` only when > 0.
* Bold = best, italics = second best within a block, ranked on the unrounded mean.
  Best/Final: higher is better; Drop: lower is better; Peak epoch is never styled.
* Ties keep row order (stable sort); the checkpoint table breaks ties by lower SD.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from lib.analysis.labels import latex_label
from lib.atomic import write_text_atomic as atomic_write_text  # the project's one atomic writer

PM = r"$\pm$"
STYLE_PROPS = {"best": "textbf:--rwrap;", "second": "emph:--rwrap;", "": ""}


def _nan(x: float | None) -> bool:
    return x is None or (isinstance(x, float) and math.isnan(x))


def fmt_pm(mean: float | None, sd: float | None, digits: int) -> str:
    r"""``72.9 $\pm$ 0.3``; only the mean when the SD is missing; ``--`` when the mean is."""
    if _nan(mean):
        return "--"
    if _nan(sd):
        return f"{mean:.{digits}f}"
    return f"{mean:.{digits}f} {PM} {sd:.{digits}f}"


def fmt_signed(x: float | None, digits: int = 1) -> str:
    """Overhead cell, always signed: ``+15.5``, ``-0.0``."""
    return "--" if _nan(x) else f"{x:+.{digits}f}"


def fmt_diff(x: float | None, digits: int = 1) -> str:
    """Ablation difference: ``+`` only when > 0, so ``+0.0`` is a tiny gain and ``-0.0`` a tiny loss."""
    if _nan(x):
        return "--"
    return f"+{x:.{digits}f}" if x > 0 else f"{x:.{digits}f}"


def fmt_ci(mean: float, low: float, high: float, digits: int = 2) -> str:
    """Paired difference with its CI: ``3.24 [2.50, 3.94]``; ``0.60 [no CI: one seed]`` when the CI is
    missing (fewer than two paired seeds), ``--`` when the difference is."""
    if _nan(mean):
        return "--"
    if _nan(low) or _nan(high):
        return f"{mean:.{digits}f} [no CI: one seed]"
    return f"{mean:.{digits}f} [{low:.{digits}f}, {high:.{digits}f}]"


def fmt_p(p: float | None) -> str:
    """p-value at 3 dp, ``$<0.001$`` below that."""
    if _nan(p):
        return "--"
    return "$<0.001$" if p < 0.001 else f"{p:.3f}"


def digits_for(task: str) -> int:
    """Decimal places of a task's accuracy tables: CIFAR 1, NLP 2."""
    return 1 if task == "cifar100" else 2


def rank_styles(means: Sequence[float], *, higher_is_better: bool,
                sds: Sequence[float] | None = None) -> list[str]:
    """``"best"`` / ``"second"`` / ``""`` per row, ranked on the unrounded mean.

    Ties keep row order; with ``sds`` (checkpoint table) a tie goes to the lower SD
    first. NaN means are never styled.
    """
    keyed = []
    for i, m in enumerate(means):
        if _nan(m):
            continue
        sd = 0.0 if sds is None or _nan(sds[i]) else float(sds[i])
        keyed.append(((-m if higher_is_better else m), sd if sds is not None else 0.0, i))
    styles = [""] * len(means)
    for rank, (_, _, i) in enumerate(sorted(keyed)[:2]):
        styles[i] = "best" if rank == 0 else "second"
    return styles


@dataclass(frozen=True)
class Column:
    """One metric column: header, the summary's ``<metric>_mean``/``_std``, scale, direction."""

    header: str
    metric: str
    scale: float = 100.0
    better: str | None = "max"  # "max", "min", or None = never styled
    digits: int | None = None   # None: the table's digits


ACCURACY_COLUMNS = (
    Column("Best (\\%)", "best_val_accuracy", 100.0, "max"),
    Column("Final (\\%)", "final_val_accuracy", 100.0, "max"),
    Column("Drop (pp)", "drop_val_accuracy", 100.0, "min"),
    Column("Peak epoch", "peak_epoch", 1.0, None),
)


def format_table(summary: pd.DataFrame, *, columns: Sequence[Column] = ACCURACY_COLUMNS, digits: int = 1,
                 label_col: str = "method", label_header: str = "Method", order: Sequence[str] | None = None,
                 block_col: str | None = None, block_header: str | None = None,
                 block_labels: dict[str, str] | None = None, n_col: bool = True,
                 tie_break_sd: bool = False, escape: bool = True) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Cells (LaTeX text) and styles (``best``/``second``/``""``) of a thesis table.

    ``summary`` has one row per label (per block) with ``n`` and ``<metric>_mean`` /
    ``<metric>_std`` columns, as ``aggregate.group_stats`` writes. ``order`` selects
    and orders the rows (labels absent from ``summary`` are left out); ranking runs
    per ``block_col`` value, or over the whole table. Block labels print on a
    block's first row; ``cells.attrs["midrule_before"]`` marks where blocks start.
    """
    blocks = list(dict.fromkeys(summary[block_col])) if block_col else [None]
    cell_rows, style_rows, starts = [], [], []
    for block in blocks:
        part = summary if block is None else summary[summary[block_col] == block]
        if order is not None:
            part = part.set_index(label_col).reindex([o for o in order if o in set(part[label_col])])
            part = part.reset_index()
        if part.empty:
            continue
        starts.append(len(cell_rows))
        styles = {c.header: (rank_styles(list(part[f"{c.metric}_mean"]), higher_is_better=c.better == "max",
                                         sds=list(part[f"{c.metric}_std"]) if tie_break_sd else None)
                             if c.better else [""] * len(part)) for c in columns}
        for i, (_, row) in enumerate(part.iterrows()):
            cells, marks = {}, {}
            if block_col:
                text = (block_labels or {}).get(block, str(block)) if i == 0 else ""
                cells[block_header or block_col], marks[block_header or block_col] = text, ""
            label = str(row[label_col])
            cells[label_header], marks[label_header] = (latex_label(label) if escape else label), ""
            if n_col:
                cells["$n$"], marks["$n$"] = str(int(row["n"])), ""
            for c in columns:
                d = digits if c.digits is None else c.digits
                cells[c.header] = fmt_pm(row[f"{c.metric}_mean"] * c.scale, row[f"{c.metric}_std"] * c.scale, d)
                marks[c.header] = styles[c.header][i]
            cell_rows.append(cells)
            style_rows.append(marks)
    cells_df, styles_df = pd.DataFrame(cell_rows), pd.DataFrame(style_rows)
    cells_df.attrs["midrule_before"] = starts[1:]
    return cells_df, styles_df


def to_latex(cells: pd.DataFrame, styles: pd.DataFrame | None = None, *, column_format: str | None = None,
             caption: str | None = None, label: str | None = None,
             midrule_before: Sequence[int] | None = None) -> str:
    r"""LaTeX tabular (in a ``table`` float when ``caption``/``label`` are given) via ``Styler.to_latex``.

    ``styles`` marks cells ``best`` (``\textbf``) / ``second`` (``\emph``); cell text
    is used as is (no escaping). ``\midrule`` goes before the given data rows
    (default: ``cells.attrs["midrule_before"]``).
    """
    styler = cells.style.hide(axis="index")
    if styles is not None:
        props = styles.reindex(index=cells.index, columns=cells.columns).fillna("").map(STYLE_PROPS.get)
        styler = styler.apply(lambda _: props, axis=None)
    kwargs = {"environment": "table", "position_float": "centering"} if (caption or label) else {}
    tex = styler.to_latex(hrules=True, column_format=column_format or "l" * cells.shape[1],
                          caption=caption, label=label, **kwargs)
    rules = set(cells.attrs.get("midrule_before", []) if midrule_before is None else midrule_before)
    if not rules:
        return tex
    lines, out, row, in_body = tex.split("\n"), [], 0, False
    for line in lines:
        if line == r"\bottomrule":
            in_body = False
        if in_body:
            if row in rules:
                out.append(r"\midrule")
            row += 1
        out.append(line)
        if line == r"\midrule" and not in_body and row == 0:
            in_body = True
    return "\n".join(out)


def write_table(cells: pd.DataFrame, styles: pd.DataFrame | None, tex_path: str | Path,
                **latex_kwargs: object) -> tuple[Path, Path]:
    """Write ``<name>.tex`` and ``<name>.csv`` beside it (cell text plus ``<column>_style``)."""
    tex_path = Path(tex_path)
    if tex_path.suffix != ".tex":
        raise ValueError(f"write_table: tex_path must end in .tex, got {tex_path}")
    atomic_write_text(tex_path, to_latex(cells, styles, **latex_kwargs) + "\n")
    table = cells.copy()
    if styles is not None:
        for col in styles.columns:
            if styles[col].astype(bool).any():
                table[f"{col}_style"] = styles[col]
    csv_path = tex_path.with_suffix(".csv")
    atomic_write_text(csv_path, table.to_csv(index=False))
    return tex_path, csv_path
