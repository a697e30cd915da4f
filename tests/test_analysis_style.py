"""Thesis rounding and bold/italic rules: known inputs give the exact published LaTeX cells."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lib import ROOT
from lib.analysis import (Column, fmt_ci, fmt_diff, fmt_p, fmt_pm, fmt_signed, format_table, group_stats,
                          rank_styles, to_latex, write_table)
from lib.analysis.labels import ROW_ORDERS, summary_label

REF = ROOT / "reference" / "thesis-results"
CIFAR_COLS = {"best_val": "best_val_accuracy", "final_val": "final_val_accuracy", "drop_val": "drop_val_accuracy"}
NLP_COLS = {"drop_best_to_final": "drop_val_accuracy", "best_epoch": "peak_epoch"}
NLP_LABELS = {"AdamW": "AdamW", "AdamW + WL": "AdamW + warmup-linear", "AEES": "AEES-Dual",
              "AEES + WL": "AEES-Dual + warmup-linear", "AEES-LR + WL": "AEES-LR + warmup-linear",
              "AEES-Noise + WL": "AEES-Noise + warmup-linear"}


def renamed(df: pd.DataFrame, cols: dict[str, str]) -> pd.DataFrame:
    return df.rename(columns={f"{a}_{s}": f"{b}_{s}" for a, b in cols.items() for s in ("mean", "std")})


def marks(cells: pd.DataFrame, styles: pd.DataFrame, column: str) -> tuple[str, str]:
    """(label of the bold row, label of the italic row) of one column."""
    by_style = dict(zip(styles[column], cells["Method"]))
    return by_style.get("best"), by_style.get("second")


def test_number_formats() -> None:
    assert fmt_pm(72.928, 0.30589, 1) == r"72.9 $\pm$ 0.3"
    assert fmt_pm(2.0, 0.0, 2) == r"2.00 $\pm$ 0.00"
    assert fmt_pm(70.306, math.nan, 1) == "70.3" and fmt_pm(math.nan, 0.1, 1) == "--"
    assert (fmt_signed(15.47), fmt_signed(-0.0228), fmt_signed(0.5)) == ("+15.5", "-0.0", "+0.5")
    assert (fmt_diff(-0.036), fmt_diff(0.04), fmt_diff(0.0), fmt_diff(-0.72), fmt_diff(1.25)) == \
        ("-0.0", "+0.0", "0.0", "-0.7", "+1.2")
    assert (fmt_p(0.0004), fmt_p(0.00123), fmt_p(0.0021)) == ("$<0.001$", "0.001", "0.002")
    assert fmt_ci(3.2412, 2.4987, 3.9433) == "3.24 [2.50, 3.94]"
    assert fmt_ci(0.6, float("nan"), float("nan")) == "0.60 [no CI: one seed]" and fmt_ci(float("nan"), 1, 2) == "--"


def test_rank_ties_keep_order_or_go_to_lower_sd() -> None:
    assert rank_styles([0.5, 0.7, 0.7], higher_is_better=True) == ["", "best", "second"]
    assert rank_styles([0.5, 0.7, 0.7], higher_is_better=True, sds=[0.0, 0.3, 0.1]) == ["", "second", "best"]
    assert rank_styles([0.02, 0.01, math.nan], higher_is_better=False) == ["second", "best", ""]


def test_small_table_exact_latex() -> None:
    summary = pd.DataFrame({
        "optimizer": ["AdamW", "AdamW", "SGD", "SGD"], "method": ["Baseline", "AEES", "Baseline", "Fixed ×0.5"],
        "n": [5, 5, 5, 3],
        "best_val_accuracy_mean": [0.5845, 0.6169, 0.5729, 0.5747], "best_val_accuracy_std": [0.0037, 0.0067, 0.0089, 0.0061],
        "final_val_accuracy_mean": [0.5625, 0.5797, 0.5194, 0.5329], "final_val_accuracy_std": [0.0081, 0.0086, 0.0158, 0.0068],
        "drop_val_accuracy_mean": [0.0220, 0.0372, 0.0534, 0.0417], "drop_val_accuracy_std": [0.0104, 0.0039, 0.0128, 0.0079],
        "peak_epoch_mean": [17.4, 17.8, 20.2, 20.4], "peak_epoch_std": [1.5166, 2.49, 3.5637, 3.7815]})
    cells, styles = format_table(summary, block_col="optimizer", block_header="Optimizer")
    assert to_latex(cells, styles, column_format="llcccc") == "\n".join([
        r"\begin{tabular}{llcccc}", r"\toprule",
        r"Optimizer & Method & $n$ & Best (\%) & Final (\%) & Drop (pp) & Peak epoch \\", r"\midrule",
        r"AdamW & Baseline & 5 & \emph{58.5 $\pm$ 0.4} & \emph{56.2 $\pm$ 0.8} & \textbf{2.2 $\pm$ 1.0} & 17.4 $\pm$ 1.5 \\",
        r" & AEES & 5 & \textbf{61.7 $\pm$ 0.7} & \textbf{58.0 $\pm$ 0.9} & \emph{3.7 $\pm$ 0.4} & 17.8 $\pm$ 2.5 \\",
        r"\midrule",
        r"SGD & Baseline & 5 & \emph{57.3 $\pm$ 0.9} & \emph{51.9 $\pm$ 1.6} & \emph{5.3 $\pm$ 1.3} & 20.2 $\pm$ 3.6 \\",
        r" & Fixed $\times$0.5 & 3 & \textbf{57.5 $\pm$ 0.6} & \textbf{53.3 $\pm$ 0.7} & \textbf{4.2 $\pm$ 0.8} & 20.4 $\pm$ 3.8 \\",
        r"\bottomrule", r"\end{tabular}", ""])


def test_t1_t2_reproduce_published_cells_and_styling(tmp_path) -> None:
    summary = renamed(pd.read_csv(REF / "cifar_clean" / "cifar_clean_summary.csv"), CIFAR_COLS)
    summary["method"] = summary["method"].str.replace("Fixed ", "Fixed ×")
    cells, styles = format_table(summary, order=ROW_ORDERS["T1"], digits=1)
    tex = to_latex(cells, styles)
    # INVENTORY T1: italic AdamW+Cosine 72.8 (0.72754 > 0.72750), not AEES+Cosine 72.8.
    assert r"AEES + Linear & 5 & \textbf{72.9 $\pm$ 0.3} & \textbf{72.7 $\pm$ 0.4} & 0.2 $\pm$ 0.1 & 190.0 $\pm$ 10.9 \\" in tex
    assert r"AdamW + Cosine & 5 & \emph{72.8 $\pm$ 0.3} & 72.5 $\pm$ 0.2 & 0.2 $\pm$ 0.1 & 190.4 $\pm$ 7.7 \\" in tex
    assert r"AEES + Cosine & 5 & 72.8 $\pm$ 0.3 & \emph{72.7 $\pm$ 0.3} & \textbf{0.1 $\pm$ 0.1} & 186.8 $\pm$ 11.5 \\" in tex
    assert marks(cells, styles, "Drop (pp)") == ("AEES + Cosine", "AdamW + Linear")
    assert not styles["Peak epoch"].astype(bool).any()
    cells, styles = format_table(summary, order=ROW_ORDERS["T2"], digits=1)
    assert [marks(cells, styles, c) for c in ("Best (\\%)", "Final (\\%)", "Drop (pp)")] == [
        ("AEES", r"Fixed $\times$0.5"), (r"Fixed $\times$0.5", r"Fixed $\times$1.0"),
        (r"Fixed $\times$1.0", r"Fixed $\times$0.5")]
    tex_path, csv_path = write_table(cells, styles, tmp_path / "t2.tex", caption="Fixed", label="tab:t2")
    assert tex_path.read_text().startswith("\\begin{table}\n\\centering\n\\caption{Fixed}\n\\label{tab:t2}\n")
    table = pd.read_csv(csv_path, keep_default_na=False)
    assert list(table.columns[-3:]) == ["Best (\\%)_style", "Final (\\%)_style", "Drop (pp)_style"]
    assert table.loc[3, "Best (\\%)"] == r"72.1 $\pm$ 0.2" and table.loc[3, "Best (\\%)_style"] == "best"


@pytest.mark.parametrize("setting,expected", [
    ("asym20", {"AdamW": [("Cosine + AEES", "AEES"), ("Cosine", "Cosine + AEES"), ("Cosine", "Baseline")],
                "SGD": [("Cosine", "Cosine + AEES"), ("Cosine", "Cosine + AEES"), ("Cosine", "Cosine + AEES")]}),
    ("sym20", {"AdamW": [("AEES", "Cosine + AEES"), ("Cosine + AEES", "Cosine"), ("Cosine", "Cosine + AEES")],
               "SGD": [("Cosine + AEES", "AEES"), ("Cosine", "Cosine + AEES"), ("Cosine", "Cosine + AEES")]}),
    ("sym40", {"AdamW": [("AEES", "Cosine + AEES"), ("Cosine + AEES", "Cosine"), ("Cosine", "Cosine + AEES")],
               "SGD": [("Cosine + AEES", "AEES"), ("Cosine", "Cosine + AEES"), ("Cosine", "Cosine + AEES")]}),
])
def test_t4_t6_styling_per_optimizer_block(setting: str, expected: dict) -> None:
    summary = renamed(pd.read_csv(REF / "cifar_noisy" / "cifar_noisy_main_tables_summary.csv"), CIFAR_COLS)
    summary = summary[summary["task"] == setting]
    cells, styles = format_table(summary, order=ROW_ORDERS["T4"], block_col="optimizer", digits=1)
    for block, start in (("AdamW", 0), ("SGD", 4)):
        part = slice(start, start + 4)
        got = [marks(cells[part], styles[part], c) for c in ("Best (\\%)", "Final (\\%)", "Drop (pp)")]
        assert got == expected[block], (setting, block)
    assert cells.attrs["midrule_before"] == [4]


@pytest.mark.parametrize("table,csv,expected", [
    ("T15", "sst2", [("AEES", "AEES + WL"), ("AEES + WL", "AEES"), ("AEES + WL", "AdamW + WL")]),
    ("T16", "sst2", [("AEES-Noise + WL", "AEES + WL"), ("AEES-Noise + WL", "AEES + WL"),
                     ("AEES-LR + WL", "AEES + WL")]),
    ("T17", "agnews", [("AdamW + WL", "AEES"), ("AdamW + WL", "AEES + WL"), ("AEES + WL", "AdamW + WL")]),
    ("T18", "agnews_noise", [("AEES + WL", "AEES"), ("AEES + WL", "AEES"), ("AEES + WL", "AEES")]),
    ("T19", "agnews_noise", [("AEES + WL", "AEES-Noise + WL"), ("AEES + WL", "AEES-Noise + WL"),
                             ("AEES-Noise + WL", "AEES + WL")]),
])
def test_nlp_tables_two_decimals_and_styling(table: str, csv: str, expected: list) -> None:
    summary = renamed(pd.read_csv(REF / "nlp_tables" / f"{csv}_summary.csv"), NLP_COLS)
    to_display = {v: k for k, v in NLP_LABELS.items()}
    summary["method"] = summary["label"].map(to_display)
    for label, thesis in NLP_LABELS.items():
        axis = "AEES-Dual" if label.startswith("AEES") and not label.startswith("AEES-") else ""
        assert summary_label(task="sst2", method=label, aees_axis=axis,
                             scheduler="warmup_linear" if label.endswith("WL") else "none") == thesis
    cells, styles = format_table(summary, order=ROW_ORDERS[table], digits=2, n_col=False)
    assert [marks(cells, styles, c) for c in ("Best (\\%)", "Final (\\%)", "Drop (pp)")] == expected
    if table == "T15":
        assert list(cells.loc[2]) == ["AEES", r"91.03 $\pm$ 0.55", r"90.25 $\pm$ 1.03", r"0.78 $\pm$ 0.61",
                                      r"2.00 $\pm$ 1.22"]


def test_checkpoint_table_ties_by_lower_sd() -> None:
    """T11 from the per-seed CSV: published cells and marks; sym40 AdamW Corr. noisy 1.9 vs 1.9 goes to lower SD."""
    detailed = pd.read_csv(REF / "checkpointing" / "checkpoint_diagnostics_detailed.csv")
    published = pd.read_csv(REF / "checkpointing" / "checkpoint_diagnostics_main.csv")
    metrics = ["selected_epoch", "val_acc", "corr_noisy", "corr_clean", "train_clean"]
    keys = ["setting_label", "optimizer_label", "variant_label"]
    summary = group_stats(detailed, by=keys, metrics=metrics)
    summary = summary.set_index(keys).loc[list(published.set_index(keys).index)].reset_index()
    summary["block"] = summary["setting_label"] + " / " + summary["optimizer_label"]
    columns = [Column("Epoch", "selected_epoch", 1.0, None), Column("Val acc.", "val_acc", 100.0, None),
               Column("Corr. noisy", "corr_noisy", 100.0, "min"), Column("Corr. clean", "corr_clean", 100.0, "max"),
               Column("Train clean", "train_clean", 100.0, None)]
    cells, styles = format_table(summary, columns=columns, label_col="variant_label", block_col="block",
                                 tie_break_sd=True, n_col=False)
    for ours, theirs in zip(["Epoch", "Val acc.", "Corr. noisy", "Corr. clean", "Train clean"], metrics):
        assert list(cells[ours]) == list(published[theirs])
    sym40_adamw = slice(8, 12)
    assert list(cells["Corr. noisy"][sym40_adamw]) == [r"3.6 $\pm$ 1.7", r"3.1 $\pm$ 1.1", r"1.9 $\pm$ 0.2",
                                                       r"1.9 $\pm$ 0.4"]
    assert list(styles["Corr. noisy"][sym40_adamw]) == ["", "", "best", "second"]
    assert list(styles["Corr. clean"][0:4]) == ["", "second", "", "best"]    # asym20 AdamW
    assert list(styles["Corr. noisy"][12:16]) == ["second", "", "best", ""]  # sym40 SGD
