"""lib.bench: the overhead/speed-up arithmetic, decision comparison, CSV, and a micro CPU run."""

from __future__ import annotations

import math

import pandas as pd
import pytest

from lib.bench import COLUMNS, Settings, format_table, run_bench, targets, write_csv
from lib.bench.__main__ import main
from lib.bench.cifar import CifarSize
from lib.bench.core import Measurement, compare_logs, rows, variants
from lib.bench.text import TextSize

REQUIRED = ["task", "variant", "device", "samples_per_s", "aees_overhead_pct", "decisions_identical"]
LOGS = {"selected_combined_names": ["lr=1", "lr=2"], "episode_rewards": [0.1, -0.2],
        "mean_update_norms": [1.0, 2.0]}


def _meas(ms: float, iso: float | None = None, logs: dict | None = None) -> Measurement:
    """A measurement of 2 rounds x 10 steps of batch 100 at ``ms`` per step."""
    return Measurement(times=[ms * 10 / 1e3] * 2, iso=[iso / 1e3] * 3 if iso else [], steps=10,
                       batch_size=100, logs=logs)


def test_rows_arithmetic() -> None:
    specs = variants()
    norms = {**LOGS, "mean_update_norms": [1.0000001, 2.0]}  # fused rounding: not a decision
    meas = {v.name: Measurement(note="skipped: test") for v in specs}
    meas.update({
        "thesis_plain": _meas(10.0), "thesis_stock_aees": _meas(12.0, logs=LOGS),
        "project_plain": _meas(4.0, iso=1.0), "project_stock_aees": _meas(5.0, iso=1.4, logs=LOGS),
        "project_fast_aees": _meas(4.2, iso=1.1, logs=norms),
        "project_fast_aees_nonorm": _meas(4.0, iso=1.0, logs={**LOGS, "episode_rewards": [0.1, -0.3]}),
    })
    df = pd.DataFrame(rows("cifar", specs, meas, device="cpu", device_name="x", model="m", rounds=2))
    r = df.set_index("variant")
    assert r.loc["project_plain", "samples_per_s"] == pytest.approx(100 / 4.0e-3)
    assert r.loc["thesis_stock_aees", "aees_overhead_pct"] == pytest.approx(20.0)
    assert r.loc["project_stock_aees", "aees_overhead_pct"] == pytest.approx(25.0)
    assert r.loc["project_stock_aees", "aees_overhead_isolated_pct"] == pytest.approx(10.0)
    assert r.loc["project_fast_aees", "overhead_vs_stock"] == pytest.approx(0.2)
    assert r.loc["project_fast_aees", "overhead_vs_stock_isolated"] == pytest.approx(0.25)
    assert r.loc["project_fast_aees", "speedup_vs_thesis"] == pytest.approx(12.0 / 4.2)
    assert r.loc["project_plain", "speedup_vs_thesis"] == pytest.approx(2.5)
    assert r.loc["project_fast_aees", "decisions_identical"] is True
    assert r.loc["project_fast_aees", "episodes"] == 2
    assert r.loc["project_fast_aees_nonorm", "decisions_identical"] is False
    assert "arms equal" in r.loc["project_fast_aees_nonorm", "note"]
    assert r.loc["project_stock_aees", "decisions_identical"] is None
    assert math.isnan(r.loc["project_plain_optins", "samples_per_s"])
    assert r.loc["project_plain_optins", "note"] == "skipped: test"
    lines = targets(df)
    assert any("project_fast_aees overhead / stock overhead = 0.25" in x and "PASS" in x for x in lines)
    assert any("project_fast_aees_nonorm" in x and "FAIL" in x for x in lines)  # decisions differ


def test_compare_logs() -> None:
    assert compare_logs(LOGS, dict(LOGS)) == (True, 2, "")
    other = {**LOGS, "selected_combined_names": ["lr=1", "lr=0.5"]}
    same, episodes, note = compare_logs(LOGS, other)
    assert (same, episodes) == (False, 2) and "arms differ" in note
    assert compare_logs(None, LOGS) == (None, None, "")


def test_settings_and_cli_reject_bad_values(capsys) -> None:
    with pytest.raises(ValueError, match="tasks"):
        Settings(tasks=("cifar", "imagenet"))
    with pytest.raises(ValueError, match="rounds"):
        Settings(rounds=0)
    assert main(["--device", "cpu", "--tasks", "nope"]) == 2
    assert "tasks: unknown" in capsys.readouterr().err


@pytest.mark.slow
def test_micro_run_writes_the_csv(tmp_path) -> None:
    settings = Settings(
        device="cpu", rounds=1, iso_rounds=1, iso_cycles=2, data_dir=tmp_path / "data",
        cifar=CifarSize(width=4, batch_size=16, steps=2, thesis_warmup=1, episode_length=2),
        text=TextSize(layers=1, dim=16, heads=2, hidden=32, vocab=200, batch_size=4, length=16,
                      steps=2, episode_length=2))
    df = run_bench(settings, log=lambda _: None)
    path = write_csv(df, tmp_path / "bench" / "latest.csv")
    back = pd.read_csv(path)
    assert list(back.columns) == COLUMNS and set(REQUIRED) <= set(back.columns)
    assert len(back) == 2 * len(variants())
    ran = back[back.note.isna() | ~back.note.fillna("").str.startswith("skipped")]
    assert set(ran.task) == {"cifar", "text"} and len(ran) == 12  # 6 variants per task on CPU
    assert (ran.samples_per_s > 0).all() and ran.samples_per_s.map(math.isfinite).all()
    assert (ran.device == "cpu").all()
    fast = back[back.variant.str.startswith("project_fast_aees") & ~back.variant.str.endswith("optins")]
    assert fast.decisions_identical.astype(str).eq("True").all()
    assert (fast.episodes >= 2).all()  # 4 steps / episode length 2
    optins = back[back.variant.str.endswith("optins")]
    assert optins.note.str.startswith("skipped on CPU").all() and optins.samples_per_s.isna().all()
    table = format_table(df)
    assert "project_fast_aees" in table and "== text" in table
