"""Write the training notebooks' sources (no outputs) from lib: `python scripts/build_notebooks.py`.

The parameters cell is generated from lib.config so that it always lists every field with its
meaning; tests/test_nlp_notebooks.py checks the committed notebooks are up to date.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat as nbf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from lib.notebook import kernel_metadata, parameters_cell  # noqa: E402


NLP_NOTE = ("\n\nWith `pretokenize_only=True` the run prepares the tokenized caches and stops: "
            "the later phases print one line each and no RunResult is written. A Hub token, if "
            "needed, comes from the environment (`HF_TOKEN`) and is never recorded.")

TRAIN = {
    "cifar100": {
        "title": "ResNet-18 on CIFAR-100",
        "module": "cifar",
        "example": ("papermill notebooks/train_cifar100.ipynb out.ipynb -p profile mini "
                    "-p control_mode adaptive -p label_noise_type symmetric "
                    "-p label_noise_rate 0.4 -p seed 3 -p output results/x.json"),
        "data": "Data (+ label noise)",
        "note": "",
    },
    "sst2": {
        "title": "DistilBERT on GLUE SST-2",
        "module": "text",
        "example": ("papermill notebooks/train_sst2.ipynb out.ipynb -p profile mini "
                    "-p method AdaptiveScheduler -p lr_scheduler warmup_linear -p context_mode trend "
                    "-p seed 0 -p output results/s.json"),
        "data": "Data: tokenized caches and loaders (pretokenize_only stops after this phase)",
        "note": NLP_NOTE,
    },
    "agnews": {
        "title": "DistilBERT on AG News",
        "module": "text",
        "example": ("papermill notebooks/train_agnews.ipynb out.ipynb -p profile mini "
                    "-p method AdaptiveScheduler -p label_noise_rate 0.2 -p seed 1 -p output results/a.json"),
        "data": "Data: tokenized caches, 90/10 split, label noise on the train part (pretokenize_only stops here)",
        "note": NLP_NOTE,
    },
}


def train_notebook(task: str) -> nbf.NotebookNode:
    spec = TRAIN[task]
    m = spec["module"]
    nb = nbf.v4.new_notebook()
    nb.metadata.update(kernel_metadata())
    cells = [
        nbf.v4.new_markdown_cell(
            f"# Train {spec['title']} (AEES thesis protocol)\n\n"
            "One run per execution. Parameters: the cell tagged `parameters` "
            f"(`papermill --help-notebook notebooks/train_{task}.ipynb`). Example:\n\n"
            f"    {spec['example']}\n\n"
            "With `profile=mini` the data are the **offline stand-in**: results verify the "
            "pipeline and show behaviour; they are not thesis numbers." + spec["note"]),
        nbf.v4.new_code_cell("from lib.notebook import snapshot_names\n\n_before = snapshot_names(globals())"),
        nbf.v4.new_code_cell(parameters_cell(task), metadata={"tags": ["parameters"]}),
        nbf.v4.new_code_cell(
            "# 1. Configure: profile defaults + the parameters above, validated (and the data looked for)\n"
            "#    before torch is imported, any data is read or the run is locked: a mistake is one line\n"
            f"from lib.notebook import resolve_from_namespace\n\ncfg = resolve_from_namespace({task!r}, globals(), _before)\n"
            + ("from lib.hf_cache import use_project_hf_cache\n"
               "use_project_hf_cache()  # .hf_cache/, before datasets / transformers are imported\n"
               if m == "text" else "")
            + f"from lib.train import {m} as T\n\nrun = T.start(cfg)\ncfg"),
        nbf.v4.new_code_cell(f"# 2. {spec['data']}\nT.load_data(run)"),
        nbf.v4.new_code_cell("# 3. Model\nT.build_model(run)"),
        nbf.v4.new_code_cell("# 4. Optimizer, AEES and LR schedule\nT.build_optimization(run)"),
        nbf.v4.new_code_cell("# 5. Train: one line per epoch\nT.fit(run)"),
        nbf.v4.new_code_cell("# 6. Save the RunResult JSON (atomic)\nresult = T.finish(run, output, papermill_run_id=run_id)"),
        nbf.v4.new_code_cell("# 7. Look: curves and, for AEES runs, the arms per episode\n"
                             "from lib.train.look import plot_run\n\n"
                             + ("if result is not None:  # None: pretokenize_only\n    " if spec["note"] else "")
                             + "plot_run(result);"),
    ]
    for i, cell in enumerate(cells):
        cell.id = f"{task}-{i}"
    nb.cells = cells
    return nb


def main() -> None:
    for task in TRAIN:
        path = ROOT / "notebooks" / f"train_{task}.ipynb"
        nbf.write(train_notebook(task), path)
        print(f"wrote {path.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
