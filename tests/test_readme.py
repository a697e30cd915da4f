"""The README stays short, and every number in its prose is recomputed here from the project's sources."""

from __future__ import annotations

import re
import tomllib

from lib import ROOT
from lib.grids.definitions import GRIDS
from lib.data import fashion_mnist
from lib.grids.plan import grid_runs
from lib.profiles import PROFILES

README = (ROOT / "README.md").read_text(encoding="utf-8")
MAX_LINES = 250
NAMES = ("CIFAR-100", "ResNet-18", "SST-2", "SHA-256")
DERIVED = {"compute-overhead", "cifar-peak-rerun", "peers"}  # everything else: the thesis experiment grids


def _prose(text: str) -> str:
    """The README without code blocks, indented command lines, list markers and inline code."""
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    text = "\n".join(line for line in text.splitlines() if not line.startswith("    "))
    text = re.sub(r"^\d+\. ", "", text, flags=re.M)  # list markers
    return re.sub(r"`[^`]*`", "", text)


def run_counts() -> dict[str, int]:
    runs = {g: grid_runs(g, "thesis", parents="upper-bound") for g in GRIDS}
    timing = runs["compute-overhead"]
    thesis_timing = sum(r.cell.startswith("thesis_machinery") for r in timing)
    counts = {"experiments": sum(len(r) for g, r in runs.items() if g not in DERIVED),
              "peak": len(runs["cifar-peak-rerun"]), "timing_thesis": thesis_timing,
              "timing_project": len(timing) - thesis_timing, "peers": len(runs["peers"])}
    counts["total"] = sum(counts.values())
    counts["thesis_pipeline"] = counts["experiments"] + counts["timing_thesis"]
    return counts


def test_readme_is_short():
    assert len(README.splitlines()) <= MAX_LINES


def test_run_count_table_is_the_grid_definitions():
    c = run_counts()
    rows = dict(re.findall(r"^\| ([^|]+?) \| (\d+) \|", README, re.M))
    assert {k: int(v) for k, v in rows.items()} == {
        "the thesis experiment grids": c["experiments"], "the peak-checkpoint re-runs": c["peak"],
        "compute overhead, thesis machinery": c["timing_thesis"],
        "compute overhead, this project's machinery": c["timing_project"], "the peers": c["peers"]}
    assert f"**{c['total']} runs**" in README and f"rest of the {c['total']}" in README
    assert f"**{c['thesis_pipeline']} runs**" in README


def test_every_number_in_the_prose_is_checked():
    """Numbers in the README's prose: the run counts above, the Python version and the SHA family."""
    c = run_counts()
    python = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["requires-python"]
    allowed = {str(v) for v in c.values()} | {re.search(r">=([\d.]+)", python).group(1)}
    prose = _prose(README)
    for name in NAMES:  # names that hold digits, not claims
        prose = prose.replace(name, "")
    # the alias rows the README names are the definitions' aliases
    aliases = [a for g in GRIDS.values() for a in g.aliases]
    assert "Fixed ×1.0" in prose and any(a.label == "Fixed ×1.0" for a in aliases)
    assert "λ = 0" in prose and any(a.name.endswith("penalty_0p0") for a in aliases)
    prose = prose.replace("Fixed ×1.0", "").replace("λ = 0", "")
    # archive numbers tagged for lib.analysis.quotes are compared with the archive by test_analysis_quotes
    tagged = re.compile(r"\d+(?:[.,]\d+)*<!-- archive [^>]*-->")
    assert tagged.search(prose), "the README's figure captions quote the archive through tags"
    prose = tagged.sub("", prose)
    # the noise settings the captions name, and the real-image profile's sizes
    rates = {p.get("label_noise_rate") for c in GRIDS["cifar-noisy"].cells for p in [c.parameters("mini")]}
    allowed |= {str(round(100 * r)) for r in rates if r}
    fmnist = PROFILES["mini-fmnist"]["cifar100"]
    allowed |= {str(fmnist["fmnist_n_train"]), f"{fmnist['fmnist_n_test']:,}", str(fashion_mnist.NUM_CLASSES),
                str(28 + 2 * fashion_mnist.PAD)}
    found = set(re.findall(r"(?<![\w.])\d+(?:[.,]\d+)*(?![\w])", prose))
    assert found <= allowed, f"numbers in the README that no test checks: {sorted(found - allowed)}"


def test_readme_names_the_run_command_and_make_help():
    assert "python -m lib.run notebooks/train_cifar100.ipynb" in README and "--log-output" in README
    assert "make help" in README
