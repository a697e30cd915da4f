"""C1: the thesis's claims, each tested on the archive by the code that tests it on the published numbers.

A claim (``CLAIMS``) is one comparison the thesis draws in its results and conclusions: row ``a``
against row ``b`` of one thesis table, on one metric, in each of the table's cells (``blocks``) the
claim covers. The thesis's evidence comes from its published numbers (``reference.thesis_numbers``:
means, SDs, n; the paired statistics of T10 where the thesis published them); the archive's from its
runs, picked as the table builders pick them: seed-paired differences with a percentile-bootstrap
95 % CI and a paired t-test (``aggregate.paired_stats``), or Welch's test from the summary where runs
are not seed-paired (the timing repeats of T14). One verdict rule serves both (``verdict``):

* a cell *supports* the claim when its 95 % CI lies wholly on the claimed side (for ``within``: inside
  ± the margin), *contradicts* it when the CI lies wholly on the other side, else it is inconclusive;
  a cell with fewer than two seeds (or timing repeats) has no CI and cannot be tested;
* the claim **holds** when every cell supports it, **does not hold** when any cell contradicts it,
  and is **not testable at this n** otherwise.

``tests/test_analysis_claims.py`` builds an archive from the published means and SDs and expects
every verdict to be ``holds``, so the rule and the cell picking reproduce the thesis's own reading.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass

import pandas as pd
from scipy import stats

from lib.analysis.aggregate import paired_stats
from lib.analysis.build import NUMBER_COLUMNS, Built, Runs
from lib.analysis.labels import latex_label
from lib.analysis.reference import thesis_numbers
from lib.analysis.tables_cifar import cifar_rows
from lib.analysis.tables_nlp import nlp_rows

BEST_FIXED = "best fixed multiplier"
FIXED = ("Fixed ×0.5", "Fixed ×1.0", "Fixed ×2.0")
NOISY_BLOCKS = tuple(f"{s} {o}" for s in ("asym20", "sym20", "sym40") for o in ("AdamW", "SGD"))
CONFIDENCE = 0.95
METRIC_COLUMNS = {"best": "best_val_accuracy", "final": "final_val_accuracy", "drop": "drop_val_accuracy"}
NLP_KEYS = {"T15": "sst2", "T16": "sst2", "T17": "agnews", "T18": "agnews_noise", "T19": "agnews_noise"}
UNITS = {"best": "pp", "final": "pp", "drop": "pp", "sec_per_epoch": "%"}


@dataclass(frozen=True)
class Claim:
    """One claim: ``a`` vs ``b`` on ``metric`` in every block of ``table`` listed in ``blocks``."""

    id: str
    text: str
    source: str  # where the thesis makes it: section and table
    table: str  # the thesis table whose numbers it reads (``thesis_numbers`` keys)
    metric: str  # best / final / drop (percent, pp) or sec_per_epoch (effect in % of b)
    a: str
    b: str
    blocks: tuple[str, ...] = ("",)
    kind: str = "greater"  # greater: a > b; less: a < b; within: |effect| < margin
    margin: float = 0.0


CLAIMS = (
    Claim("C1.1", "AEES raises the best validation accuracy over the flat baseline in every noisy CIFAR-100 "
          "setting, with AdamW and with SGD.", "Noisy CIFAR-100, summary; T4-T6", "T4-T6", "best", "AEES",
          "Baseline", NOISY_BLOCKS),
    Claim("C1.2", "AEES's best accuracy beats the best fixed LR multiplier's (chosen afterwards by mean best) in "
          "every noisy setting: a static rescaling does not explain the gain.", "Noisy CIFAR-100, summary; T8, T10",
          "T9", "best", "AEES", BEST_FIXED, NOISY_BLOCKS),
    Claim("C1.3", "Under 40 % symmetric noise AEES alone loses more of its peak by the last epoch than on top of a "
          "cosine decay.", "Noisy CIFAR-100, sym40; T6", "T6", "drop", "AEES", "Cosine + AEES",
          ("sym40 AdamW", "sym40 SGD")),
    Claim("C1.4", "A decay schedule is needed for the final accuracy: Cosine + AEES ends above AEES alone in every "
          "noisy setting.", "Noisy CIFAR-100, summary; T4-T6", "T4-T6", "final", "Cosine + AEES", "AEES",
          NOISY_BLOCKS),
    Claim("C2.1", "On clean CIFAR-100, AEES raises the best accuracy over flat AdamW.", "Clean CIFAR-100; T1", "T1",
          "best", "AEES", "AdamW"),
    Claim("C2.2", "On clean CIFAR-100, AEES's best accuracy beats the best fixed LR multiplier's.",
          "Clean CIFAR-100; T2", "T2", "best", "AEES", BEST_FIXED),
    Claim("C3.1", "On SST-2, AEES raises the best accuracy over flat AdamW.", "SST-2; T15", "T15", "best", "AEES",
          "AdamW"),
    Claim("C3.2", "On AG News with 20 % label noise, AEES + warmup-linear ends above AdamW + warmup-linear.",
          "Noisy AG News; T18", "T18", "final", "AEES + WL", "AdamW + WL"),
    Claim("C3.3", "On AG News with 20 % label noise, AEES + warmup-linear drops less from its peak than "
          "AdamW + warmup-linear.", "Noisy AG News; T18", "T18", "drop", "AEES + WL", "AdamW + WL", kind="less"),
    Claim("C3.4", "On noisy AG News the σ axis carries the final accuracy: AEES-Noise + warmup-linear ends above "
          "AEES-LR + warmup-linear.", "Axis ablations; T19", "T19", "final", "AEES-Noise + WL", "AEES-LR + WL"),
    Claim("C4.1", "With AdamW on CIFAR-100, every AEES variant (LR, noise, dual) costs time per epoch.",
          "Computational cost; T13, T14", "T14", "sec_per_epoch", "", "baseline_none",
          ("CIFAR-100 AdamW",)),
    Claim("C4.2", "With SGD on CIFAR-100, LR-only AEES costs about nothing per epoch (within ±5 %).",
          "Computational cost; T13, T14", "T14", "sec_per_epoch", "aees_lr_only_none", "baseline_none",
          ("CIFAR-100 SGD",), kind="within", margin=5.0),
    Claim("C4.3", "On the NLP tasks every AEES variant costs time per epoch.", "Computational cost; T13, T14", "T14",
          "sec_per_epoch", "", "baseline_none", ("SST-2 AdamW", "AG News AdamW")),
)
AEES_CONFIGS = ("aees_lr_only_none", "aees_noise_only_none", "aees_both_none")  # C4.1, C4.3: a = each of these


def cells_of(claim: Claim) -> list[tuple[str, str]]:
    """(block, row a) of every cell the claim compares."""
    rows = AEES_CONFIGS if claim.metric == "sec_per_epoch" and not claim.a else (claim.a,)
    return [(block, a) for block in claim.blocks for a in rows]


def table_of(claim: Claim, block: str) -> str:
    """The thesis table holding a block: T4-T6 split by noise setting."""
    if claim.table != "T4-T6":
        return claim.table
    return {"asym20": "T4", "sym20": "T5", "sym40": "T6"}[block.split(" ")[0]]


# --- statistics of one cell ---
def from_seeds(a: pd.Series, b: pd.Series) -> dict[str, float]:
    """Seed-paired a − b: mean, percentile-bootstrap CI, paired t-test (over the seeds both have)."""
    seeds = sorted(set(a.index) & set(b.index))
    res = paired_stats(a.loc[seeds].to_numpy(float), b.loc[seeds].to_numpy(float))
    return {"effect": res["diff_mean"], "ci_low": res["ci_low"], "ci_high": res["ci_high"], "p": res["p_value"],
            "n": len(seeds), "test": "paired t, bootstrap CI"}


def from_summary(ma: float, sa: float, na: float, mb: float, sb: float, nb: float,
                 relative: bool = False) -> dict[str, float]:
    """Welch's a − b from means, sample SDs and counts (``relative``: in % of b)."""
    n = int(min(na, nb)) if not (math.isnan(na) or math.isnan(nb)) else 0
    scale = 100.0 / mb if relative else 1.0
    out = {"effect": (ma - mb) * scale, "ci_low": math.nan, "ci_high": math.nan, "p": math.nan, "n": n,
           "test": "Welch t from summary"}
    if n >= 2 and not (math.isnan(sa) or math.isnan(sb)):
        va, vb = sa ** 2 / na, sb ** 2 / nb
        se = math.sqrt(va + vb)
        if se == 0:
            out.update(ci_low=out["effect"], ci_high=out["effect"])
            return out
        df = (va + vb) ** 2 / (va ** 2 / (na - 1) + vb ** 2 / (nb - 1))
        half = stats.t.ppf(0.5 + CONFIDENCE / 2, df) * se * scale
        out.update(ci_low=out["effect"] - half, ci_high=out["effect"] + half,
                   p=float(stats.ttest_ind_from_stats(ma, sa, na, mb, sb, nb, equal_var=False).pvalue))
    return out


def cell_verdict(cell: dict[str, float], claim: Claim) -> str:
    """``supports`` / ``contradicts`` / ``inconclusive`` / ``untestable`` (no CI)."""
    lo, hi = cell["ci_low"], cell["ci_high"]
    if cell["n"] < 2 or math.isnan(lo) or math.isnan(hi):
        return "untestable"
    if claim.kind == "within":
        m = claim.margin
        return "supports" if -m < lo and hi < m else "contradicts" if lo >= m or hi <= -m else "inconclusive"
    sign = 1.0 if claim.kind == "greater" else -1.0
    lo, hi = sorted((sign * lo, sign * hi))
    return "supports" if lo > 0 else "contradicts" if hi < 0 else "inconclusive"


def verdict(cells: list[dict[str, float]], claim: Claim) -> str:
    """``holds`` (every cell supports), ``does not hold`` (a cell contradicts), else ``not testable at this n``."""
    marks = [cell_verdict(c, claim) for c in cells]
    if cells and all(m == "supports" for m in marks):
        return "holds"
    if "contradicts" in marks:
        return "does not hold"
    return "not testable at this n"


def in_direction(cell: dict[str, float], claim: Claim) -> bool:
    e = cell["effect"]
    if claim.kind == "within":
        return abs(e) < claim.margin
    return e > 0 if claim.kind == "greater" else e < 0


# --- the two sources of evidence ---
def _summary(numbers: pd.DataFrame, block: str, row: str, metric: str) -> tuple[float, float, float]:
    hit = numbers[(numbers["block"] == block) & (numbers["row"] == row) & (numbers["metric"] == metric)]
    if hit.empty:
        return math.nan, math.nan, math.nan
    r = hit.iloc[0]
    return float(r["mean"]), float(r["std"]), float(r["n"])


def _best_fixed(numbers: pd.DataFrame, block: str) -> str:
    """The fixed multiplier with the highest mean best accuracy in a block (the thesis's retrospective choice)."""
    means = {f: _summary(numbers, block, f, "best")[0] for f in FIXED}
    means = {f: m for f, m in means.items() if not math.isnan(m)}
    return max(means, key=means.get) if means else FIXED[1]


def thesis_cell(claim: Claim, block: str, a: str) -> dict[str, float]:
    """The thesis's evidence for one cell: T10's published paired statistics for the noisy best-fixed
    comparison, else Welch's test from the published means, SDs and n."""
    if claim.b == BEST_FIXED and claim.table == "T9":
        t10 = thesis_numbers("T10")
        get = lambda m: _summary(t10, block, "paired", m)[0]  # noqa: E731
        p = get("p")
        return {"effect": get("delta_best"), "ci_low": get("ci_low"), "ci_high": get("ci_high"),
                "p": p if not math.isnan(p) else 0.001, "n": int(_summary(t10, block, "paired", "delta_best")[2]),
                "test": "paired t, bootstrap CI (published)"}
    numbers = thesis_numbers(table_of(claim, block))
    b = _best_fixed(numbers, block) if claim.b == BEST_FIXED else claim.b
    return from_summary(*_summary(numbers, block, a, claim.metric), *_summary(numbers, block, b, claim.metric),
                        relative=claim.metric == "sec_per_epoch")


class ArchiveEvidence:
    """The archive's evidence: per-seed values picked as the table builders pick them."""

    def __init__(self, runs: Runs, built: Built, builders: Mapping[str, Callable[[Runs], Built]]) -> None:
        self.runs, self.built, self.builders = runs, built, builders
        self._numbers: dict[str, pd.DataFrame] = {}

    def numbers(self, table: str) -> pd.DataFrame:
        if table not in self._numbers:
            b = self.builders[table](self.runs)
            self.built.inputs.extend(b.inputs)
            self._numbers[table] = b.numbers if b.numbers is not None else pd.DataFrame(columns=NUMBER_COLUMNS)
        return self._numbers[table]

    def seeds(self, table: str, block: str, row: str, metric: str) -> pd.Series:
        """Per-seed values (display units) of one table row, indexed by seed."""

        scratch = Built()
        if table in NLP_KEYS:
            rows = nlp_rows(self.runs, scratch, NLP_KEYS[table], (row,))
        else:
            setting, opt = block.split(" ") if block else ("clean", "AdamW")
            rows = cifar_rows(self.runs, scratch, (row,), setting=setting, optimizer=opt)
        self.built.inputs.extend(scratch.inputs)
        if rows.empty:
            return pd.Series(dtype=float)
        return (rows.set_index("seed")[METRIC_COLUMNS[metric]] * 100.0).astype(float)

    def cell(self, claim: Claim, block: str, a: str) -> dict[str, float]:
        table = table_of(claim, block)
        if claim.metric == "sec_per_epoch":  # timing repeats of one seed: not paired, Welch from the summary
            nums = self.numbers(table)
            return from_summary(*_summary(nums, block, a, claim.metric), *_summary(nums, block, claim.b, claim.metric),
                                relative=True)
        b = claim.b
        if b == BEST_FIXED:
            means = {f: self.seeds(table, block, f, "best").mean() for f in FIXED}
            means = {f: m for f, m in means.items() if not math.isnan(m)}
            b = max(means, key=means.get) if means else FIXED[1]
        va, vb = self.seeds(table, block, a, claim.metric), self.seeds(table, block, b, claim.metric)
        return from_seeds(va, vb) if len(va) and len(vb) else \
            {"effect": math.nan, "ci_low": math.nan, "ci_high": math.nan, "p": math.nan, "n": 0, "test": "no runs"}


def evaluate(claim: Claim, cell: Callable[[Claim, str, str], dict[str, float]]) -> pd.DataFrame:
    """One row per cell: block, row, effect, CI, p, n, test, the cell's verdict."""
    rows = []
    for block, a in cells_of(claim):
        c = cell(claim, block, a)
        rows.append({"block": block, "row": a, **c, "cell": cell_verdict(c, claim)})
    return pd.DataFrame(rows)


def evidence_text(cells: pd.DataFrame, claim: Claim) -> str:
    """One line: cells in the claimed direction, the effect range, n, and how many cells the test supports."""
    unit = UNITS[claim.metric]
    k = len(cells)
    seen = cells[cells["n"] > 0]
    if seen.empty:
        return "no runs"
    direction = sum(in_direction(c, claim) for _, c in seen.iterrows())
    lo, hi = seen["effect"].min(), seen["effect"].max()
    span = f"{lo:+.2f} {unit}" if k == 1 else f"{lo:+.2f} to {hi:+.2f} {unit}"
    ns = sorted({int(n) for n in seen["n"]})
    n = f"n = {ns[0]}" if len(ns) == 1 else f"n = {ns[0]}-{ns[-1]}"
    where = f"{direction} of {k} cells in the claimed direction" if k > 1 else \
        "in the claimed direction" if direction else \
        "no difference" if seen["effect"].iloc[0] == 0 and claim.kind != "within" else "against the claimed direction"
    if (cells["cell"] == "untestable").any():
        return f"{where}; effect {span}; {n}: no CI below two seeds per cell"
    sup = int((cells["cell"] == "supports").sum())
    test = cells["test"].iloc[0]
    return f"{where}; effect {span}; {n}; {test}: {sup} of {k} with the 95 % CI on the claimed side"


def claims_table(runs: Runs, built: Built,
                 builders: Mapping[str, Callable[[Runs], Built]]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Display rows and long-form numbers of every claim on ``runs`` (``builders``: artifact id -> builder,
    for the thesis tables whose rows the claims compare)."""
    archive = ArchiveEvidence(runs, built, builders)
    rows, numbers = [], []
    for claim in CLAIMS:
        theirs, ours = evaluate(claim, thesis_cell), evaluate(claim, archive.cell)
        rows.append({"Claim": f"{claim.id} {claim.text}", "Source": claim.source,
                     "Thesis": f"{evidence_text(theirs, claim)} ({verdict(theirs.to_dict('records'), claim)})",
                     "This archive": evidence_text(ours, claim),
                     "Verdict": verdict(ours.to_dict("records"), claim)})
        for _, c in ours.iterrows():
            row = f"{c['block']} {c['row']}".strip()
            for metric in ("effect", "ci_low", "ci_high", "p"):
                numbers.append({"block": claim.id, "row": row, "metric": metric, "mean": c[metric],
                                "std": math.nan, "n": int(c["n"])})
    return pd.DataFrame(rows), pd.DataFrame(numbers, columns=NUMBER_COLUMNS)


def c1(runs: Runs, builders: Mapping[str, Callable[[Runs], Built]]) -> Built:
    built = Built()
    cells, numbers = claims_table(runs, built, builders)
    built.inputs = sorted(set(built.inputs))
    if not built.inputs:
        return built
    built.expected = len(CLAIMS)
    built.missing = [f"{c.id} (no runs)" for c, text in zip(CLAIMS, cells["This archive"]) if text == "no runs"]
    built.cells = cells.map(latex_label)
    built.numbers = numbers
    return built


def verdicts(runs: Runs, builders: Mapping[str, Callable[[Runs], Built]]) -> pd.Series:
    """Claim id -> the archive's verdict (for prose and tests; ``builders`` as for :func:`claims_table`)."""
    cells, _ = claims_table(runs, Built(), builders)
    return pd.Series(cells["Verdict"].to_numpy(), index=[c.id for c in CLAIMS], name="verdict")


__all__ = ["CLAIMS", "Claim", "c1", "claims_table", "evaluate", "thesis_cell", "verdict", "verdicts",
           "from_seeds", "from_summary"]
