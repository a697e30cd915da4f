"""Write the analysis notebooks' sources from the artifact registry: `python scripts/build_analysis_notebooks.py`.

    python scripts/build_analysis_notebooks.py              # write notebooks/analysis_*.ipynb, reproduction_report,
                                                            # explore_aees (sources, no outputs)
    python scripts/build_analysis_notebooks.py --execute    # ... and execute them in place (analysis: against
                                                            # results/mini; explore_aees: on the stand-in), the
                                                            # committed state nbval compares against

One notebook per thesis chapter; each calls ``lib.analysis.render.show`` once per artifact.
Cells that print table numbers carry the ``nbval-check-output`` tag (``pytest --nbval-lax``
compares exactly those); figure cells are executed but not compared.
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.analysis.build import STANDIN_LABEL  # noqa: E402
from lib.analysis.chapters import CHAPTER_TEXT, COVERAGE_NOTE, SHAPE_NOTE  # noqa: E402
from lib.analysis.reference import SOURCES  # noqa: E402
from lib.analysis.kernel import QuietKernelManager  # noqa: E402
from lib.analysis.registry import REGISTRY, artifact_ids  # noqa: E402
from lib.notebook import KERNEL_NAME, kernel_metadata  # noqa: E402
from lib.vocab import CHAPTERS  # noqa: E402

CHECK = {"tags": ["nbval-check-output"]}
PARAMS = ('archive = "results/mini"  # RunResult directory (relative to the repo root, or absolute); '
          'a thesis archive works too\n'
          'figures = ""              # output root (relative to the repo root, or absolute); empty: figures/ '
          'or env AEES_FIGURES_DIR')

SHAPE_CHECKS = ("from lib.analysis.shape import checks_summary, shape_checks\n\n"
                "checks = shape_checks(ctx.runs)\n"
                "print(checks_summary(checks))\n"
                "unmet = checks.loc[~checks[\"passed\"], [\"name\", \"blocking\", \"value\", \"op\", \"threshold\", "
                "\"detail\"]]\n"
                "print(unmet.to_string(index=False, float_format=\"{:.3g}\".format) if len(unmet) else \"all met\")")


def code(src: str, check: bool = False) -> nbf.NotebookNode:
    return nbf.v4.new_code_cell(src, metadata=dict(CHECK) if check else {})


def header(title: str, intro: str, name: str) -> list[nbf.NotebookNode]:
    return [
        nbf.v4.new_markdown_cell(
            f"# {title}\n\n{intro}\n\nEvery table is written to `figures/<chapter>/` as `.tex` + `.csv`, every "
            "figure as `.png` + `.pdf`, and recorded in `figures/index.csv` (status, input and code hashes, "
            "archive). An artifact with no runs in the archive prints one line and is recorded as "
            f"`missing-runs`. Tables and figures of a stand-in archive are labelled *{STANDIN_LABEL}*.\n\n"
            f"Point it at another archive (e.g. a directory of thesis RunResult JSON files):\n\n"
            f"    papermill notebooks/{name}.ipynb out.ipynb -p archive /path/to/archived_results"),
        nbf.v4.new_code_cell(PARAMS, metadata={"tags": ["parameters"]}),
        code("from lib.analysis.render import open_archive, show, show_archive, show_chapter_status\n\n"
             "ctx = open_archive(archive, figures)\nshow_archive(ctx)", check=True),
    ]


def chapter_notebook(chapter: str) -> nbf.NotebookNode:
    title, intro = CHAPTER_TEXT[chapter]
    cells = header(f"Analysis: {title}", intro, f"analysis_{chapter}")
    for art in artifact_ids(chapter):
        spec = REGISTRY[art]
        if art == "X1":
            cells.append(nbf.v4.new_markdown_cell(COVERAGE_NOTE))
            cells.append(code("from lib.analysis.controller import coverage, coverage_summary\n\n"
                              "print(coverage_summary(coverage(ctx.runs)))", check=True))
        cells.append(nbf.v4.new_markdown_cell(f"## {art}. {spec.title}"))
        cells.append(code(f'show(ctx, "{art}")', check=spec.kind == "table"))
        if art == "X5":
            cells.append(nbf.v4.new_markdown_cell(SHAPE_NOTE))
            cells.append(code(SHAPE_CHECKS, check=True))
    cells.append(nbf.v4.new_markdown_cell(f"## Status: {title}"))
    cells.append(code(f'show_chapter_status(ctx, "{chapter}")', check=True))
    return finish(cells, f"analysis_{chapter}")


def reproduction_notebook() -> nbf.NotebookNode:
    intro = ("The thesis's published numbers (`reference/thesis-results/`) beside this archive's, with deltas "
             "(archive − thesis), per table. Accuracies in %, drops in pp, peak epochs in epochs, times in s. Only "
             "numbers that both sides have are listed; the first line of each table says how many published "
             f"numbers found a counterpart. A stand-in archive is labelled *{STANDIN_LABEL}* on every table: its "
             "numbers come from a tiny offline data set and are not expected to match. Last, beyond the thesis, the "
             "shape check X5: the same comparison for quantities derived from the published noisy CIFAR-100 "
             "summary (relative peak epoch = peak epoch ÷ epochs and the final corrupted-label fit, both fractions).")
    cells = header("Reproduction report: thesis vs this archive", intro, "reproduction_report")
    cells[2] = code("from lib.analysis.render import open_archive, show_archive, show_reproduction, "
                    "write_reproduction\n\nctx = open_archive(archive, figures)\nshow_archive(ctx)", check=True)
    tables = [a for a in artifact_ids() if a in SOURCES]  # the thesis tables, and X5 (derived from them)
    for art in tables:
        cells.append(nbf.v4.new_markdown_cell(f"## {art}. {REGISTRY[art].title}"))
        cells.append(code(f'show_reproduction(ctx, "{art}")', check=True))
    cells.append(nbf.v4.new_markdown_cell("## All comparisons in one file"))
    cells.append(code(f"path = write_reproduction(ctx, {tables!r})\nprint(path.relative_to(ctx.out))", check=True))
    return finish(cells, "reproduction_report")


EXPLORE = [
    ("md", "# Exploring AEES on the offline stand-in\n\n"
     "A few minutes on a CPU. AEES (*Adaptive Episodic Exploration Scheduling*, `pulseopt.AEES`) wraps an "
     "optimizer; once per **episode** of a fixed number of steps, a discounted-UCB bandit per axis picks an LR "
     "multiplier (and a gradient-noise σ), and the episode's **reward** (how much the smoothed loss fell) updates "
     "it. Here a small CNN trains for a few hundred steps on the CIFAR-100 **offline stand-in** "
     f"(*{STANDIN_LABEL}*), so every number below shows mechanics, not results.\n\n"
     "Next: `train_cifar100.ipynb` runs the real thing (one run per execution); the `analysis_*` notebooks "
     "build the thesis tables and figures from a results archive."),
    ("code", "%matplotlib inline\nimport matplotlib.pyplot as plt\n\n"
     "from lib.train.explore import compare_settings, reward_by_hand, short_run\n\n"
     "run = short_run(lr_candidates=(0.5, 1.0, 2.0), episode_length=20, steps=300, seed=0)\n"
     "print(f\"{len(run.step_losses)} steps, {len(run.logs['episode_rewards'])} episodes of "
     "{run.settings['episode_length']} steps\")"),
    ("md", "## 1. One episode's reward, by hand\n\nThe reward of an episode (protocol 5.6): an EMA (α = 0.1) "
     "of the episode's step losses, started at its first loss; reward = log(EMA_start + ε) − log(EMA_end + ε) "
     "− λ · instability (λ = 0 in the thesis), clipped to [−1, 1]. Recomputed from the step losses of the first "
     "episode, beside the value pulseopt logged:"),
    ("code", "k = 0\nlosses = run.episode_losses(k)\nhand = reward_by_hand(losses)\n"
     "print(f\"steps {run.logs['episode_start_steps'][k]}..{run.logs['episode_end_steps'][k]}\")\n"
     "print(f\"by hand : EMA {hand['ema_start']:.4f} -> {hand['ema_end']:.4f}, reward {hand['reward']:+.6f}\")\n"
     "print(f\"pulseopt: EMA {run.logs['episode_ema_loss_starts'][k]:.4f} -> "
     "{run.logs['episode_ema_loss_ends'][k]:.4f}, reward {run.logs['episode_rewards'][k]:+.6f}\")"),
    ("check", "print('identical for every episode:', all(\n"
     "    abs(reward_by_hand(run.episode_losses(i))['reward'] - r) < 1e-12\n"
     "    for i, r in enumerate(run.logs['episode_rewards'])))"),
    ("code", "fig, ax = plt.subplots(figsize=(6, 3))\nax.plot(losses, '.', label='step loss')\n"
     "ax.plot(hand['ema'], label='EMA (α = 0.1)')\nax.set(xlabel='step in episode', ylabel='loss', "
     "title=f\"episode 1: reward {hand['reward']:+.4f}\")\nax.legend();"),
    ("md", "## 2. Arms and rewards over the run\n\nWarm-up tries every arm once; afterwards UCB trades the mean "
     "reward of an arm against how rarely (discounted) it was tried. Rewards shrink as the loss flattens, so the "
     "same arm earns less later: the discount (γ = 0.95 per update) keeps old rewards from dominating."),
    ("code", "eps = run.episodes()\nfig, ax = plt.subplots(figsize=(7, 3))\n"
     "ax.step(eps['episode'], eps['lr_multiplier'], where='mid', label='LR multiplier')\n"
     "ax.set(xlabel='episode', ylabel='LR multiplier')\ntw = ax.twinx()\n"
     "tw.plot(eps['episode'], eps['reward'], 'o-', color='grey', ms=3)\ntw.set_ylabel('reward', color='grey')\n"
     "eps.groupby('lr_multiplier')['reward'].agg(['count', 'mean']).round(4)"),
    ("md", "## 3. Episode length\n\nThe same 300 steps cut into short or long episodes: short episodes mean many "
     "decisions from noisy rewards; long ones mean few decisions, each better informed. (The thesis used 200 "
     "steps per episode: 391 episodes over 200 CIFAR epochs.)"),
    ("code", "compare_settings({f'episode {n}': dict(episode_length=n) for n in (5, 20, 50)},\n"
     "                 steps=300, seeds=(0, 1))"),
    ("md", "## 4. Candidate sets, and the joint pairs AEES-Dual tries\n\nWith both axes active (AEES-Dual) in "
     "`independent` mode, the LR and σ bandits receive the same reward; with equal axis sizes they lock into the "
     "pairing drawn during warm-up and try only 3 of the 9 joint pairs (see `analysis_controller`). One σ "
     "controller per LR arm (`conditional`) explores the product."),
    ("code", "compare_settings({\n    'LR only {0.5, 1, 2}': dict(),\n"
     "    'Dual 3x3, independent': dict(noise_candidates=(0.0, 0.005, 0.01)),\n"
     "    'Dual 3x3, conditional': dict(noise_candidates=(0.0, 0.005, 0.01), structured_control_mode='conditional'),\n"
     "    'Dual 3x2, independent': dict(noise_candidates=(0.0, 0.005)),\n}, steps=300, seeds=(0, 1))"),
]


def explore_notebook() -> nbf.NotebookNode:
    cells = []
    for kind, src in EXPLORE:
        cells.append(nbf.v4.new_markdown_cell(src) if kind == "md" else code(src, check=kind == "check"))
    return finish(cells, "explore_aees")


def finish(cells: list[nbf.NotebookNode], name: str) -> nbf.NotebookNode:
    nb = nbf.v4.new_notebook()
    nb.metadata.update(kernel_metadata())
    for i, cell in enumerate(cells):
        cell.id = f"{name.replace('_', '-')}-{i}"
    nb.cells = cells
    return nb


def notebooks() -> dict[str, nbf.NotebookNode]:
    out = {f"analysis_{c}": chapter_notebook(c) for c in CHAPTERS}
    out["reproduction_report"] = reproduction_notebook()
    out["explore_aees"] = explore_notebook()
    return out


def execute(path: Path) -> None:
    """Run a notebook in place from notebooks/ (as nbval does), without timing metadata."""
    from nbclient import NotebookClient

    nb = nbf.read(path, as_version=4)
    NotebookClient(nb, kernel_name=KERNEL_NAME, timeout=600, record_timing=False,
                   kernel_manager_class=QuietKernelManager,
                   resources={"metadata": {"path": str(path.parent)}}).execute()
    nbf.write(nb, path)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--execute", action="store_true", help="execute every notebook in place (results/mini)")
    parser.add_argument("--only", default="", help="comma-separated notebook names (default: all)")
    args = parser.parse_args()
    os.environ.setdefault("MPLBACKEND", "Agg")
    # The kernels import this checkout's ``lib`` (not another one an editable install may point to).
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    wanted = [w for w in args.only.split(",") if w]
    for name, nb in notebooks().items():
        if wanted and name not in wanted:
            continue
        path = ROOT / "notebooks" / f"{name}.ipynb"
        nbf.write(nb, path)
        run = args.execute
        if run:
            execute(path)
        print(f"wrote {path.relative_to(ROOT)}" + (" (executed)" if run else ""))


if __name__ == "__main__":
    main()
