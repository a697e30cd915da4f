"""Papermill smoke runs of train_cifar100 on the offline stand-in (tiny budgets)."""

import pytest

from lib import config
from protocol_keys import CIFAR_CONFIG_KEYS, EPISODE_KEYS, TOP_KEYS

TINY = {"profile": "mini", "epochs": 2, "episode_length": 3, "standin_n_train": 256,
        "standin_n_test": 128, "model_width": 8, "batch_size": 64}


@pytest.fixture(autouse=True)
def isolated_data(tmp_path_factory, monkeypatch):
    monkeypatch.setenv("AEES_DATA_DIR", str(tmp_path_factory.getbasetemp() / "data"))


@pytest.mark.slow
def test_baseline_noisy_run_has_every_thesis_key(run_notebook):
    result, nb = run_notebook("train_cifar100", {**TINY, "label_noise_type": "asymmetric",
                                                  "label_noise_rate": 0.2, "run_id": "smoke/1"})
    assert TOP_KEYS <= set(result) and CIFAR_CONFIG_KEYS <= set(result["config"])
    assert result["method_name"] == "Baseline" and result["episode_logs"] is None
    assert result["controller_logs"] is None and result["total_steps"] == 2 * 4
    assert result["dataset_name"] == "CIFAR-100 (offline stand-in)" and result["config"]["data_standin"]
    diag = result["config"]["diagnostics"]
    assert diag["label_noise"]["num_corrupted_examples"] == round(256 * 0.2)
    assert set(diag["final_subset_accuracies"]) == {
        "train_all_accuracy", "train_clean_accuracy", "train_corrupted_accuracy_vs_noisy_labels",
        "train_corrupted_accuracy_vs_clean_labels", "final_val_accuracy"}
    assert len(result["epoch_subset_train_accuracies"]["train_clean_accuracy"]) == 2
    assert result["peak_checkpoint_diagnostics"]["epoch"] in (1, 2)
    assert result["provenance"]["papermill_run_id"] == "smoke/1"
    assert result["config"]["profile"] == "mini"
    assert "epochs" in result["config"]["explicit_parameters"]
    assert result["runtime_metrics"]["total_steps"] == 8
    assert nb.exists() and "epoch   2/2" in nb.read_text()


@pytest.mark.slow
def test_adaptive_run_is_deterministic_and_logs_episodes(run_notebook):
    params = {**TINY, "control_mode": "adaptive", "lr_candidates": "0.5,1,2", "seed": 1}
    a, _ = run_notebook("train_cifar100", params, subdir="a")
    b, _ = run_notebook("train_cifar100", params, subdir="b")
    for key in ("train_losses", "train_accuracies", "val_accuracies", "episode_logs"):
        assert a[key] == b[key], key
    logs = a["episode_logs"]
    assert EPISODE_KEYS <= set(logs)
    assert len(logs["episode_rewards"]) == 3  # 8 steps / 3 = 2 full + 1 partial episode
    assert logs["episode_end_steps"] == [2, 5, 7]
    assert a["controller_logs"]["_logged_episode_count"] == 3
    assert a["config"]["candidate_config_names"] == ["lr0p5_n0", "lr1_n0", "lr2_n0"]
    assert a["method_name"] == "AdaptiveScheduler"


@pytest.mark.slow
def test_random_run(run_notebook):
    result, _ = run_notebook("train_cifar100", {**TINY, "control_mode": "random",
                                                "lr_candidates": [0.5, 2.0], "lr_scheduler": "cosine"})
    assert result["method_name"] == "RandomScheduler"
    assert "non_contextual_random_note" in result["controller_logs"]
    assert result["epoch_lrs"][1] == pytest.approx(1e-3 * 0.5)  # cosine over T=2: epoch 1 at 0.5


def _notebook_namespace(injected: str) -> dict:
    """What the kernel holds after the committed notebook's first cell, its parameters cell and
    papermill's injected cell (``injected``): the bad-parameter check needs no kernel."""
    import nbformat

    from lib import ROOT
    nb = nbformat.read(ROOT / "notebooks" / "train_cifar100.ipynb", as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    params = next(c for c in code if "parameters" in c.metadata.get("tags", []))
    namespace: dict = {}
    for source in (code[0].source, params.source, injected):
        exec(source, namespace)  # noqa: S102 - the committed notebook's own cells
    return namespace


@pytest.mark.parametrize(("injected", "message"), [
    ("optimizer = 'Adam'", "optimizer: must be one of AdamW, SGD"),
    ("epoch = 3", "unknown parameter.*epoch"),
])
def test_bad_parameter_fails_before_data(injected, message):
    from lib.notebook import resolve_from_namespace
    namespace = _notebook_namespace(f"profile = 'mini'\n{injected}\n")
    with pytest.raises(config.ConfigError, match=message):
        resolve_from_namespace("cifar100", namespace, namespace["_before"])
    good = _notebook_namespace("profile = 'mini'\nepochs = 3\n")
    assert resolve_from_namespace("cifar100", good, good["_before"]).epochs == 3


def test_notebook_parameters_cell_is_generated_from_config():
    import nbformat

    from lib import ROOT
    from lib.notebook import parameters_cell
    nb = nbformat.read(ROOT / "notebooks" / "train_cifar100.ipynb", as_version=4)
    cells = [c for c in nb.cells if "parameters" in c.metadata.get("tags", [])]
    assert len(cells) == 1 and cells[0].source == parameters_cell("cifar100")
    assert all(not c.get("outputs") for c in nb.cells if c.cell_type == "code")
    names = {line.split("=")[0].split(":")[0].strip() for line in cells[0].source.splitlines()
             if "=" in line and not line.startswith("#")}
    assert names == set(config.field_docs("cifar100")) | {"profile", "run_id"}
