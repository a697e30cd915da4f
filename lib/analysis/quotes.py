r"""Numbers that prose (README.md, docs/) quotes from the archive, checked against the archive.

A quoted number carries an HTML comment right after it (invisible on GitHub and in rendered
Markdown) that names where it comes from: an artifact id, a block, a row and a metric of that
artifact's long-form numbers (``Built.numbers``, display units: %, pp, epochs), optionally scaled::

    AdamW 71.0<!-- archive T6 | sym40 AdamW | Baseline | best --> % to
    61.0<!-- archive T6 | sym40 AdamW | Baseline | final --> %
    memorised 0.79<!-- archive T11 | sym40 SGD | Baseline | best-epoch weights corr_noisy | x0.01 -->

``check_quotes(text, numbers_of)`` compares each quoted number with the archive's value rounded to
the quoted number of decimals, so a caption cannot keep a number the archive no longer has; the
test ``tests/test_analysis_quotes.py`` runs it on README.md and docs/*.md against results/mini.
``untagged_numbers(paragraph)`` lists the decimal numbers of a paragraph that carry no tag, for
paragraphs that quote the archive (the stand-in figure captions).
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable

import pandas as pd

NUMBER = r"[-+−]?\d+(?:\.\d+)?"
TAG = re.compile(rf"(?P<value>{NUMBER})<!--\s*archive\s+(?P<id>[A-Z]\d+)\s*\|(?P<block>[^|]*)\|(?P<row>[^|]*)\|"
                 r"(?P<metric>[^|]*?)(?:\|\s*x(?P<scale>[0-9.e-]+)\s*)?-->")
QUOTE_COLUMNS = ["id", "block", "row", "metric", "quoted", "archive", "ok", "detail"]


def _decimals(text: str) -> int:
    return len(text.split(".")[1]) if "." in text else 0


def find_quotes(text: str) -> pd.DataFrame:
    """Every tagged number of ``text``: id, block, row, metric, scale, the quoted text."""
    rows = [{"id": m["id"], "block": m["block"].strip(), "row": m["row"].strip(), "metric": m["metric"].strip(),
             "scale": float(m["scale"]) if m["scale"] else 1.0, "text": m["value"].replace("−", "-")}
            for m in TAG.finditer(text)]
    return pd.DataFrame(rows, columns=["id", "block", "row", "metric", "scale", "text"])


def check_quotes(text: str, numbers_of: Callable[[str], pd.DataFrame | None]) -> pd.DataFrame:
    """One row per tagged number: the quoted value, the archive's (rounded as quoted), ``ok`` and why not.

    ``numbers_of(id)`` returns an artifact's long-form numbers (``block, row, metric, mean, ...``), e.g.
    ``lambda a: build(ctx, a).numbers``.
    """
    out, cache = [], {}
    for q in find_quotes(text).itertuples():
        if q.id not in cache:
            cache[q.id] = numbers_of(q.id)
        nums = cache[q.id]
        hit = pd.DataFrame() if nums is None else \
            nums[(nums["block"] == q.block) & (nums["row"] == q.row) & (nums["metric"] == q.metric)]
        quoted = float(q.text)
        if hit.empty:
            out.append({"id": q.id, "block": q.block, "row": q.row, "metric": q.metric, "quoted": quoted,
                        "archive": math.nan, "ok": False, "detail": "no such number in the archive"})
            continue
        value = round(float(hit["mean"].iloc[0]) * q.scale, _decimals(q.text))
        ok = math.isclose(value, quoted, abs_tol=1e-9)
        out.append({"id": q.id, "block": q.block, "row": q.row, "metric": q.metric, "quoted": quoted,
                    "archive": value, "ok": ok, "detail": "" if ok else f"the archive has {value:g}"})
    return pd.DataFrame(out, columns=QUOTE_COLUMNS)


def untagged_numbers(paragraph: str) -> list[str]:
    """Decimal numbers (``70.2``, ``-7.4``) of a paragraph without an archive tag right after them."""
    tagged = {m.start("value") for m in TAG.finditer(paragraph)}
    return [m.group(0) for m in re.finditer(rf"(?<![\w.]){NUMBER}", paragraph)
            if "." in m.group(0) and m.start() not in tagged and not paragraph[m.end():].startswith("<!--")]
