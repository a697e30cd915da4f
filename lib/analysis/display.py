"""How tables and figures look in a notebook and in the HTML report (the files are ``report.render``'s).

* A table is an HTML table made by pandas' Styler: the thesis's bold (best) and italic
  (second best) as real formatting, a rule where a block starts, a caption, and the
  stand-in label in the caption of a stand-in table. Its ``text/plain`` twin (what a
  terminal, nbval and a screen reader get) marks best as ``**x**`` and second as ``_x_``.
* A figure is a PNG with alternative text built from what the figure draws (panel
  titles, axis labels, legend entries) plus the stand-in label; ``html_report`` puts it
  into the ``alt`` attribute.

The cell text of a thesis table is LaTeX (``72.9 $\\pm$ 0.3``, ``Fixed $\\times$1.0``);
``untex`` spells it out for the screen. A LaTeX command it does not know stays visible
as it is (and ``tests/test_analysis_display.py`` checks that the mini archive has none).
"""

from __future__ import annotations

import base64
import html
import io
import re
from collections.abc import Sequence

import pandas as pd

# LaTeX of the table cells -> text for the screen.
TEXT = (("$\\pm$", "±"), ("\\%", "%"), ("$\\times$", "×"), ("$\\sigma$", "σ"), ("$\\Delta$", "Δ"), ("$n$", "n"),
        ("$<0.001$", "<0.001"), ("$\\downarrow$", "↓"), ("$\\uparrow$", "↑"), ("$p$", "p"), ("\\_", "_"),
        ("\\&", "&"), ("\\#", "#"))
CSS = {"best": "font-weight: bold;", "second": "font-style: italic;", "": ""}
MARK = {"best": "**{}**", "second": "_{}_"}
TABLE_STYLES = [
    {"selector": "", "props": "border-collapse: collapse; margin: 0.5em 0 1.5em 0; font-size: 0.9em;"},
    {"selector": "caption", "props": "caption-side: top; text-align: left; font-weight: bold; padding: 0.3em 0; "
                                     "white-space: nowrap;"},
    {"selector": "th", "props": "text-align: left; border-bottom: 1px solid #444; padding: 0.25em 0.8em;"},
    {"selector": "td", "props": "text-align: left; padding: 0.2em 0.8em; white-space: nowrap;"},
]
STANDIN_CSS = "color: #b00000;"


def untex(text: object) -> str:
    """Table-cell LaTeX as screen text: ``72.9 $\\pm$ 0.3`` -> ``72.9 ± 0.3``, ``\\%`` -> ``%``."""
    out = str(text)
    if out == "--":
        return "–"
    out = re.sub(r"\$\\sigma=([^$]*)\$", r"σ=\1", out)  # latex_label's "$\sigma=0.005$"
    for a, b in TEXT:
        out = out.replace(a, b)
    return out


def _screen(cells: pd.DataFrame) -> pd.DataFrame:
    df = cells.map(untex)
    df.columns = [untex(c) for c in cells.columns]
    return df


def plain(cells: pd.DataFrame, styles: pd.DataFrame | None = None) -> str:
    """A table as fixed-width text: LaTeX spelled out, **best** and _second_ marked."""
    df = _screen(cells)
    if styles is not None:
        for i, col in enumerate(cells.columns):
            if col in styles.columns:
                df.iloc[:, i] = [MARK[s].format(v) if s in MARK else v for v, s in zip(df.iloc[:, i], styles[col])]
    return df.to_string(index=False)


def table_html(cells: pd.DataFrame, styles: pd.DataFrame | None = None, *, caption: str, uid: str,
               standin_label: str | None = None, rules_before: Sequence[int] | None = None) -> str:
    """An HTML table via ``pandas.io.formats.style.Styler`` (no index; ``uid`` keeps the ids stable).

    ``styles`` holds ``best`` / ``second`` / ``""`` per cell (as ``build.Built.styles``);
    ``rules_before`` the data rows a block starts at (default ``cells.attrs["midrule_before"]``).
    """
    if not re.fullmatch(r"[A-Za-z0-9_-]+", uid):
        raise ValueError(f"table_html: uid must be letters, digits, '_' or '-', got {uid!r}")
    df = _screen(cells).reset_index(drop=True)
    if df.columns.duplicated().any():
        raise ValueError(f"table_html: duplicate column headers {list(df.columns)} in table {uid}")
    props = pd.DataFrame("", index=df.index, columns=df.columns)
    if styles is not None:
        marks = styles.reset_index(drop=True).reindex(columns=cells.columns).fillna("")
        props = pd.DataFrame(marks.map(lambda s: CSS.get(s, "")).to_numpy(), index=df.index, columns=df.columns)
    rules = cells.attrs.get("midrule_before", []) if rules_before is None else rules_before
    for row in rules:
        props.iloc[row] = props.iloc[row] + " border-top: 1px solid #999;"
    caption_html = html.escape(caption)
    if standin_label:
        caption_html += f'<br><span style="{STANDIN_CSS}">[{html.escape(standin_label)}]</span>'
    styler = (df.style.hide(axis="index").set_uuid(uid).set_caption(caption_html)
              .set_table_styles(TABLE_STYLES).apply(lambda _: props, axis=None))
    return styler.to_html()


def show_table(cells: pd.DataFrame, styles: pd.DataFrame | None = None, *, caption: str, uid: str,
               standin_label: str | None = None) -> None:
    """Display one table in a notebook: ``text/html`` (Styler) + ``text/plain`` (``plain``)."""
    from IPython.display import display

    text = caption + (f" [{standin_label}]" if standin_label else "") + "\n" + plain(cells, styles)
    display({"text/html": table_html(cells, styles, caption=caption, uid=uid, standin_label=standin_label),
             "text/plain": text}, raw=True)


def alt_text(fig, title: str, standin_label: str | None = None) -> str:
    """What a figure shows, in words: its title, then per panel the panel title, axes and legend entries."""
    parts = [title.rstrip(".") + "."]
    for ax in fig.get_axes():
        if not ax.get_visible() or not (ax.has_data() or ax.get_title()):
            continue
        bits = []
        if ax.get_title():
            bits.append(f"panel '{ax.get_title()}'")
        x, y = ax.get_xlabel(), ax.get_ylabel()
        if x and y:
            bits.append(f"{y} against {x}")
        elif x or y:
            bits.append(f"{'y' if y else 'x'} axis: {y or x}")
        legend = ax.get_legend()
        if legend is not None:
            names = [t.get_text() for t in legend.get_texts() if t.get_text()]
            if names:
                bits.append("series: " + ", ".join(names))
        if bits:
            text = "; ".join(bits)
            parts.append(text[0].upper() + text[1:] + ".")
    legends = [t.get_text() for leg in getattr(fig, "legends", []) for t in leg.get_texts() if t.get_text()]
    if legends:
        parts.append("Series: " + ", ".join(dict.fromkeys(legends)) + ".")
    if standin_label:
        parts.append(standin_label[0].upper() + standin_label[1:] + ".")
    return " ".join(parts)


def show_figure(fig, alt: str, dpi: int = 90) -> None:
    """Display a Figure as PNG whose output metadata carries ``alt`` (used by ``html_report``), text = ``alt``."""
    from IPython.display import display

    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    display({"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": alt},
            metadata={"image/png": {"alt": alt}}, raw=True)
