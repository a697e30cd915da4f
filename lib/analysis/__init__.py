"""Analysis of RunResult archives: load, identify by content, aggregate, style.

* ``load``: ``load_archive(path)`` -> one row per run; bad files reported in
  ``df.attrs["skipped"]``; ``load_run``; ``inputs_sha256``.
* ``identify``: task, setting, optimizer, thesis method label, axis, grids, λ, context.
* ``labels``: every display string of the thesis tables and figures (``figure_name``), in one place.
* ``aggregate``: per-run metrics, group mean ± sample SD, paired bootstrap/t-test.
* ``style``: thesis rounding, bold/italic ranking, LaTeX via ``Styler`` plus CSV.
* ``summaries``: the per-run and per-group summary CSVs (also a CLI).
"""

from lib.analysis.aggregate import GROUP_KEYS, METRICS, group_stats, paired_comparison, paired_stats, select
from lib.analysis.identify import RecordError, identify
from lib.analysis.load import inputs_sha256, load_archive, load_run
from lib.analysis.style import (ACCURACY_COLUMNS, Column, digits_for, fmt_ci, fmt_diff, fmt_p, fmt_pm,
                                fmt_signed, format_table, rank_styles, to_latex, write_table)

__all__ = [
    "ACCURACY_COLUMNS", "Column", "GROUP_KEYS", "METRICS", "RecordError",
    "digits_for", "fmt_ci", "fmt_diff", "fmt_p", "fmt_pm", "fmt_signed", "format_table", "group_stats",
    "identify", "inputs_sha256", "load_archive", "load_run", "paired_comparison", "paired_stats",
    "rank_styles", "select", "to_latex", "write_table",
]
