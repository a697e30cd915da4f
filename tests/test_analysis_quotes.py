"""Archive numbers quoted in prose: tagged quotes are checked against the archive, so a caption cannot go stale."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from lib import ROOT
from lib.analysis.quotes import check_quotes, find_quotes, untagged_numbers
from lib.analysis.render import build, open_archive

NUMBERS = pd.DataFrame([
    {"block": "sym40 AdamW", "row": "Baseline", "metric": "best", "mean": 71.04, "std": 0.0, "n": 1},
    {"block": "sym40 AdamW", "row": "Baseline", "metric": "final", "mean": 60.96, "std": 0.0, "n": 1},
    {"block": "sym40 SGD", "row": "Baseline", "metric": "best-epoch weights corr_noisy", "mean": 79.4, "std": 0.0,
     "n": 1}])


def numbers_of(art: str) -> pd.DataFrame | None:
    return NUMBERS if art == "T6" else None


def test_tagged_quotes_are_compared_at_their_precision() -> None:
    text = ("AdamW 71.0<!-- archive T6 | sym40 AdamW | Baseline | best --> % -> 59.2<!-- archive T6 | sym40 AdamW "
            "| Baseline | final --> %, memorised 0.79<!-- archive T6 | sym40 SGD | Baseline | best-epoch weights "
            "corr_noisy | x0.01 --> and 3<!-- archive T6 | sym40 SGD | AEES | best --> and 1.0<!-- archive T9 | a | "
            "b | c -->")
    assert find_quotes(text)["metric"].tolist()[2] == "best-epoch weights corr_noisy"
    got = check_quotes(text, numbers_of)
    assert got["ok"].tolist() == [True, False, True, False, False]
    assert got["detail"].iloc[1] == "the archive has 61" and got["archive"].iloc[1] == pytest.approx(61.0)
    assert got["detail"].iloc[3] == got["detail"].iloc[4] == "no such number in the archive"


def test_untagged_numbers_of_a_caption() -> None:
    caption = ("*F7, offline stand-in.* AdamW 70.2 % -> 59.2 %, SGD -7.4 points; Cosine ends 71.0<!-- archive T6 | "
               "sym40 AdamW | Cosine | final --> %, 7-8 points higher")
    assert untagged_numbers(caption) == ["70.2", "59.2", "-7.4"]


@pytest.fixture(scope="module")
def mini():
    return open_archive(ROOT / "results" / "mini", "/nonexistent-out")


@pytest.mark.parametrize("path", [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))],
                         ids=lambda p: Path(p).name)
def test_prose_quotes_match_the_committed_archive(mini, path: Path) -> None:
    """Every tagged number of README.md and docs/ equals the committed archive's value (rounded as quoted)."""
    cache: dict[str, pd.DataFrame | None] = {}

    def archive_numbers(art: str) -> pd.DataFrame | None:
        if art not in cache:
            cache[art] = build(mini, art).numbers
        return cache[art]

    got = check_quotes(path.read_text(encoding="utf-8"), archive_numbers)
    stale = got[~got["ok"]]
    assert stale.empty, stale.to_string()
