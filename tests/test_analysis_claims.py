"""The claims table (C1): the verdict rule, the thesis's own verdicts, and an archive built from the published
numbers."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from lib.analysis.claims import CLAIMS, Claim, cell_verdict, evaluate, from_seeds, from_summary, thesis_cell, \
    verdict, verdicts
from lib.analysis.registry import REGISTRY
from lib.analysis.render import build, open_archive
from published_archive import WITH_FIXED, write_archive

GREATER = Claim("X", "a beats b", "test", "T1", "best", "a", "b")
WITHIN = Claim("Y", "a costs about what b costs", "test", "T14", "sec_per_epoch", "a", "b", kind="within", margin=5.0)


def cell(effect: float, lo: float, hi: float, n: int = 5) -> dict:
    return {"effect": effect, "ci_low": lo, "ci_high": hi, "p": 0.01, "n": n, "test": "t"}


def test_verdict_rule() -> None:
    assert verdict([cell(2, 1, 3), cell(1, 0.5, 2)], GREATER) == "holds"
    assert verdict([cell(2, 1, 3), cell(-2, -3, -1)], GREATER) == "does not hold"
    assert verdict([cell(2, 1, 3), cell(0.2, -0.5, 1)], GREATER) == "not testable at this n"
    assert verdict([cell(2, math.nan, math.nan, n=1)], GREATER) == "not testable at this n"
    less = Claim("Z", "a drops less", "test", "T18", "drop", "a", "b", kind="less")
    assert cell_verdict(cell(-2, -3, -1), less) == "supports" and cell_verdict(cell(2, 1, 3), less) == "contradicts"
    assert cell_verdict(cell(0.5, -1, 2), WITHIN) == "supports"
    assert cell_verdict(cell(8, 6, 10), WITHIN) == "contradicts"
    assert cell_verdict(cell(3, 1, 7), WITHIN) == "inconclusive"


def test_statistics_of_a_cell() -> None:
    a = pd.Series([61.0, 62.0, 63.0], index=[0, 1, 2])
    b = pd.Series([58.0, 58.5, 60.0, 70.0], index=[0, 1, 2, 3])  # seed 3 has no partner: left out
    paired = from_seeds(a, b)
    assert paired["n"] == 3 and paired["effect"] == pytest.approx(3.1666667)
    assert 2.0 <= paired["ci_low"] <= paired["ci_high"] <= 4.0 and paired["p"] < 0.05
    welch = from_summary(4.58 * 1.155, 0.02, 3, 4.58, 0.02, 3, relative=True)
    assert welch["effect"] == pytest.approx(15.5) and 10 < welch["ci_low"] < 15.5 < welch["ci_high"] < 21
    single = from_summary(62.0, math.nan, 1, 58.0, math.nan, 1)
    assert single["n"] == 1 and math.isnan(single["ci_low"])


def test_every_claim_holds_on_the_thesis_numbers() -> None:
    """The thesis's evidence, from reference/thesis-results only, gives the thesis's verdict: holds."""
    for claim in CLAIMS:
        cells = evaluate(claim, thesis_cell)
        assert verdict(cells.to_dict("records"), claim) == "holds", (claim.id, cells.to_dict("records"))
    t10 = evaluate(CLAIMS[1], thesis_cell)  # the noisy best-fixed comparison reads T10's published paired CI
    assert t10.loc[t10["block"] == "sym40 SGD", "ci_low"].item() == pytest.approx(4.00)


@pytest.fixture(scope="module")
def published(tmp_path_factory) -> Path:
    return write_archive(tmp_path_factory.mktemp("published"), WITH_FIXED)


def test_an_archive_with_the_thesis_numbers_gives_the_thesis_verdicts(published: Path, tmp_path: Path) -> None:
    """Five seeds per cell with the published means and SDs, through the real run picking: every accuracy claim
    holds. The timing claims (C4.*) have no runs here and are not testable."""
    built = build(open_archive(published, tmp_path), "C1")
    got = dict(zip([c.id for c in CLAIMS], built.cells["Verdict"]))
    accuracy = {c.id for c in CLAIMS if c.metric != "sec_per_epoch"}
    assert {k: v for k, v in got.items() if k in accuracy} == {k: "holds" for k in accuracy}
    assert {k: v for k, v in got.items() if k not in accuracy} == {k: "not testable at this n"
                                                                  for k in got if k not in accuracy}
    assert built.status == "partial" and built.missing == ["C4.1 (no runs)", "C4.2 (no runs)", "C4.3 (no runs)"]
    builders = {i: s.build for i, s in REGISTRY.items()}
    assert verdicts(open_archive(published, tmp_path).runs, builders).to_dict() == got
    row = built.cells.iloc[0]
    assert row["This archive"].startswith("6 of 6 cells in the claimed direction") and "n = 5" in row["This archive"]
    assert row["Thesis"].endswith("(holds)")
    nums = built.numbers
    assert set(nums["block"]) == {c.id for c in CLAIMS if c.metric != "sec_per_epoch"} | {"C4.1", "C4.2", "C4.3"}
    effect = nums[(nums["block"] == "C1.1") & (nums["row"] == "sym40 SGD AEES") & (nums["metric"] == "effect")]
    assert effect["mean"].item() == pytest.approx(55.6 - 50.1, abs=0.1)


def test_one_seed_per_cell_is_not_testable(published: Path, tmp_path: Path) -> None:
    """n = 1 cells say so (no CI), whatever the direction."""
    one = tmp_path / "one"
    one.mkdir()
    for path in published.glob("*_seed0.json"):
        (one / path.name).write_text(path.read_text())
    built = build(open_archive(one, tmp_path / "out"), "C1")
    assert set(built.cells["Verdict"]) == {"not testable at this n"}
    assert "n = 1: no CI below two seeds per cell" in built.cells["This archive"].iloc[0]
    assert "nan" not in " ".join(built.cells["This archive"])
