"""train_sst2 / train_agnews: papermill smoke runs on the offline stand-ins (tiny budgets), the
pretokenize_only exit, no token anywhere, and the committed notebooks are the generated ones."""

import importlib.util
import json

import nbformat
import pytest
from papermill.translators import PythonTranslator

from lib import ROOT, config
from protocol_keys import NLP_CONFIG_KEYS, TOP_KEYS

TINY = {"profile": "mini", "epochs": 2, "episode_length": 5, "standin_n_train": 200, "batch_size": 16}
SIZES = {"sst2": {"standin_n_validation": 50}, "agnews": {"standin_n_test": 20}}
AEES = {"lr_candidates": "0.7,1,1.3", "noise_candidates": "0,0.0025,0.005"}
SECRET = "hf_fake_secret_value_123"
STEPS = {"sst2": 2 * 13, "agnews": 2 * 12}  # 200 / 16 -> 13; AG News 180 train -> 12 per epoch


@pytest.fixture(autouse=True)
def isolated_data(tmp_path_factory, monkeypatch):
    base = tmp_path_factory.getbasetemp()
    monkeypatch.setenv("AEES_DATA_DIR", str(base / "data"))
    return base


def params(task, base, **extra):
    return {**TINY, **SIZES[task], "cache_dir": str(base / "hf"), **extra}


def check(task, result, method):
    c = result["config"]
    assert TOP_KEYS <= set(result) and NLP_CONFIG_KEYS <= set(c)
    assert not {"control_mode", "control_regime", "optimizer", "hf_token"} & set(c)
    assert result["method_name"] == c["method"] == method and result["task_name"] == task
    assert result["total_steps"] == STEPS[task] and len(result["val_accuracies"]) == 2
    assert c["data_standin"] and "offline stand-in" in result["dataset_name"]
    assert c["profile"] == "mini" and "epochs" in c["explicit_parameters"]
    managed = method != "AdamW"
    assert (result["episode_logs"] is not None) == managed == ("candidate_config_names" in c)
    if managed:
        assert len(result["episode_logs"]["episode_rewards"]) == -(-STEPS[task] // 5)
        assert result["controller_logs"]["_logged_episode_count"] == -(-STEPS[task] // 5)


@pytest.mark.slow
@pytest.mark.parametrize("task", ["sst2", "agnews"])
def test_baseline(run_notebook, isolated_data, task):
    result, nb = run_notebook(f"train_{task}", params(task, isolated_data, run_id="smoke/nlp"))
    check(task, result, "AdamW")
    assert result["provenance"]["papermill_run_id"] == "smoke/nlp"
    assert "epoch   2/2" in nb.read_text() and "tok/s" in nb.read_text()


@pytest.mark.slow
def test_sst2_aees_trend_warmup_linear(run_notebook, isolated_data):
    result, _ = run_notebook("train_sst2", params("sst2", isolated_data, method="AdaptiveScheduler",
                                                  lr_scheduler="warmup_linear", context_mode="trend", **AEES))
    check("sst2", result, "AdaptiveScheduler")
    assert result["config"]["context_mode"] == "trend" and "context_buckets" in result["episode_logs"]
    assert result["controller_logs"]["lr_controller_logs"]["controller_type"] == "BucketedContextualController"
    assert result["config"]["scheduler_span_steps"] == STEPS["sst2"]


@pytest.mark.slow
def test_agnews_noisy_aees_leaks_no_token(run_notebook, isolated_data, monkeypatch):
    monkeypatch.setenv("HF_TOKEN", SECRET)  # inherited by the papermill kernel
    result, nb = run_notebook("train_agnews", params("agnews", isolated_data, method="AdaptiveScheduler",
                                                     label_noise_rate=0.2, seed=1, **AEES))
    check("agnews", result, "AdaptiveScheduler")
    assert result["config"]["label_noise_type"] == "symmetric"
    assert result["config"]["diagnostics"]["label_noise"]["num_corrupted_examples"] == 36  # 20 % of 180
    assert len(result["epoch_subset_train_accuracies"]["train_clean_accuracy"]) == 2
    out_json = nb.with_suffix(".json")
    assert SECRET not in out_json.read_text() and SECRET not in nb.read_text()


@pytest.mark.slow
@pytest.mark.parametrize("task", ["sst2", "agnews"])
def test_random(run_notebook, isolated_data, task):
    result, _ = run_notebook(f"train_{task}", params(task, isolated_data, method="RandomScheduler",
                                                     lr_scheduler="cosine", **AEES))
    check(task, result, "RandomScheduler")
    assert "non_contextual_random_note" in result["controller_logs"]


@pytest.mark.slow
def test_pretokenize_only_exits_cleanly_without_a_result(tmp_path, isolated_data):
    import papermill as pm

    out_nb, out_json = tmp_path / "p.ipynb", tmp_path / "p.json"
    pm.execute_notebook(str(ROOT / "notebooks" / "train_agnews.ipynb"), str(out_nb),
                        parameters=params("agnews", isolated_data, pretokenize_only=True,
                                          label_noise_rate=0.2, output=str(out_json),
                                          tokenized_dataset_dir=str(tmp_path / "tok")),
                        kernel_name="aees", cwd=str(tmp_path), progress_bar=False)
    assert not out_json.exists()
    assert any(p.name.startswith("train_splitseed42_noise0p2_noiseseed42-") for p in (tmp_path / "tok").iterdir())
    assert "pretokenize_only: training skipped" in out_nb.read_text()


@pytest.mark.parametrize("task", ["sst2", "agnews"])
def test_committed_notebook_is_generated_and_every_parameter_parses(task):
    spec = importlib.util.spec_from_file_location("build_notebooks", ROOT / "scripts" / "build_notebooks.py")
    builder = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(builder)
    committed = nbformat.read(ROOT / "notebooks" / f"train_{task}.ipynb", as_version=4)
    generated = builder.train_notebook(task)
    assert [c.source for c in committed.cells] == [c.source for c in generated.cells], \
        "run: .venv/bin/python scripts/build_notebooks.py"
    cell = next(c for c in committed.cells if "parameters" in c.metadata.get("tags", []))
    parsed = {p.name for p in PythonTranslator.inspect(cell)}
    assert parsed == set(config.field_docs(task)) | {"profile", "run_id"}
    assert "from lib.train import text as T" in json.dumps(committed.dict())
