"""lib/results/runresult.py: the one declaration of the RunResult keys."""

import pytest

from lib.results import runresult


def test_keys_per_task_and_noise():
    cifar, sst2 = runresult.keys_for("cifar100", noisy=True), runresult.keys_for("sst2", noisy=False)
    assert runresult.THESIS_KEYS <= cifar and runresult.THESIS_KEYS <= sst2
    assert "peak_checkpoint_diagnostics" in cifar and "peak_checkpoint_diagnostics" not in sst2
    assert "epoch_train_tokens" in sst2 and "epoch_subset_train_accuracies" not in sst2
    assert not runresult.THESIS_KEYS & runresult.PROJECT_KEYS


def test_check_names_undeclared_and_missing_keys():
    result = dict.fromkeys(runresult.keys_for("agnews", noisy=False, at_save=False))
    assert runresult.check(dict(result), "agnews", noisy=False) == result
    result["surprise"] = 1
    del result["epoch_lrs"]
    with pytest.raises(RuntimeError, match=r"undeclared \['surprise'\], missing \['epoch_lrs'\]"):
        runresult.check(result, "agnews", noisy=False)


def test_the_fake_record_factory_follows_the_declaration():
    from runresult_factory import legacy_record, run_result

    assert set(run_result("cifar100", val_accuracies=[0.1, 0.3, 0.2])) == runresult.THESIS_KEYS
    full = run_result("agnews", keys="all", noisy=True, val_accuracies=[0.1, 0.3, 0.2])
    assert set(full) == runresult.keys_for("agnews", noisy=True)
    assert (full["best_val_accuracy"], full["final_val_accuracy"], full["total_epochs"]) == (0.3, 0.2, 3)
    with pytest.raises(KeyError, match="val_accuracy"):
        run_result("cifar100", val_accuracy=[0.1])
    assert "best_val_accuracy" not in legacy_record("sst2", missing=("best_val_accuracy",))
