"""Tables as Styler HTML with real bold/italics, captions and the stand-in label; figures with alt text
(the report's <img alt>: tests/test_html_report.py)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from lib.analysis.build import STANDIN_LABEL
from lib.analysis.registry import REGISTRY, artifact_ids
from lib.analysis.display import alt_text, plain, table_html, untex
from lib.analysis.plots import new_figure
from lib.analysis.render import build, open_archive


def _table() -> tuple[pd.DataFrame, pd.DataFrame]:
    cells = pd.DataFrame({"Method": ["AdamW", "Fixed $\\times$0.5", "AEES"],
                          "Best (\\%)": ["70.3 $\\pm$ 0.4", "71.0 $\\pm$ 0.2", "72.1 $\\pm$ 0.3"],
                          "Drop (pp)": ["0.7 $\\pm$ 0.1", "--", "3.1 $\\pm$ 0.5"]})
    styles = pd.DataFrame({"Method": ["", "", ""], "Best (\\%)": ["", "second", "best"],
                           "Drop (pp)": ["best", "", "second"]})
    cells.attrs["midrule_before"] = [2]
    return cells, styles


def test_table_html_real_formatting_caption_and_label() -> None:
    cells, styles = _table()
    html = table_html(cells, styles, caption="T1. Clean CIFAR-100 main table", uid="T1", standin_label=STANDIN_LABEL)
    css = re.findall(r"([^{}]+)\{\s*([^}]*)\}", html.split("</style>")[0])

    def cells_with(prop: str) -> set[str]:
        return {sel.strip() for sels, props in css if prop in props for sel in sels.split(",") if "_row" in sel}

    assert cells_with("font-weight: bold") == {"#T_T1_row2_col1", "#T_T1_row0_col2"}
    assert cells_with("font-style: italic") == {"#T_T1_row1_col1", "#T_T1_row2_col2"}
    assert cells_with("border-top") == {f"#T_T1_row2_col{i}" for i in range(3)}  # block rule before row 2
    assert "<caption>T1. Clean CIFAR-100 main table" in html and f"[{STANDIN_LABEL}]" in html
    assert "72.1 ± 0.3" in html and "Fixed ×0.5" in html and ">Best (%)<" in html and ">–<" in html
    assert "$" not in html and "\\" not in html and "**" not in html
    assert html == table_html(cells, styles, caption="T1. Clean CIFAR-100 main table", uid="T1",
                              standin_label=STANDIN_LABEL)  # stable ids: nbval compares it
    text = plain(cells, styles)
    assert "**72.1 ± 0.3**" in text and "_71.0 ± 0.2_" in text and "**0.7 ± 0.1**" in text
    with pytest.raises(ValueError, match="uid"):
        table_html(cells, styles, caption="x", uid="T 1")


def test_alt_text_names_panels_axes_series_and_standin() -> None:
    fig, axes = new_figure(2)
    for ax, title in zip(axes, ("Sym. 40%, AdamW", "Sym. 40%, SGD+M")):
        ax.plot([1, 2], [3, 4], label="Baseline")
        ax.plot([1, 2], [4, 5], label="AEES")
        ax.set(title=title, xlabel="epoch", ylabel="val. accuracy (%)")
        ax.legend()
    text = alt_text(fig, "F7. Noisy CIFAR-100 sym40: validation curves", STANDIN_LABEL)
    assert text.startswith("F7. Noisy CIFAR-100 sym40: validation curves.")
    assert "Panel 'Sym. 40%, SGD+M'; val. accuracy (%) against epoch; series: Baseline, AEES." in text
    assert text.endswith("Offline stand-in — not thesis numbers.")


@pytest.mark.slow
def test_every_mini_table_renders_without_latex_left() -> None:
    """Every table of the committed mini archive: no LaTeX markup reaches the screen (~15 s)."""
    ctx = open_archive("results/mini", "/nonexistent-out")
    tables = [a for a in artifact_ids() if REGISTRY[a].kind == "table"]
    for art in tables:
        built = build(ctx, art)
        assert built.cells is not None, art
        html = table_html(built.cells, built.styles, caption=art, uid=art, standin_label=STANDIN_LABEL)
        body = html.split("</style>")[1]
        assert not re.search(r"\\[A-Za-z%_&#]|\$", body), (art, re.findall(r".{20}(?:\\[A-Za-z%_&#]|\$).{20}", body))
    assert untex("$<0.001$") == "<0.001" and untex("--") == "–"
