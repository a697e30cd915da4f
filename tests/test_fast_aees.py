"""FastAEES makes the same decisions as stock pulseopt.AEES, bit for bit, and resumes exactly."""

from __future__ import annotations

import io
import math
from typing import Any

import pulseopt
import pytest
import torch
import torch.nn.functional as F

from lib.control import internals
from lib.control.fast import FastAEES

STEPS = 250  # 12 full episodes of 20 steps and a trailing partial one of 10
EPISODE = 20
LR3 = [0.5, 1.0, 2.0]
NOISE3 = [0.0, 0.01, 0.05]
CONFIGS: dict[str, dict[str, Any]] = {
    "lr_only": {"lr_candidates": LR3},
    "noise_only": {"noise_candidates": NOISE3},
    "dual": {"lr_candidates": LR3, "noise_candidates": NOISE3},
    "conditional": {
        "lr_candidates": LR3, "noise_candidates": NOISE3, "structured_control_mode": "conditional"
    },
    "trend": {"lr_candidates": LR3, "noise_candidates": NOISE3, "context_mode": "trend"},
}
DATA_X = torch.randn(128, 12, generator=torch.Generator().manual_seed(0))
DATA_Y = torch.randint(0, 5, (128,), generator=torch.Generator().manual_seed(1))


def _build(cls: type, dtype: torch.dtype, config: dict[str, Any], **kw: Any):
    torch.manual_seed(7)
    model = torch.nn.Sequential(
        torch.nn.Linear(12, 24), torch.nn.ReLU(), torch.nn.Linear(24, 5)
    ).to(dtype)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-2, weight_decay=0.01)
    sched = torch.optim.lr_scheduler.StepLR(opt, step_size=60, gamma=0.5)
    aees = cls(opt, episode_length=EPISODE, lr_scheduler=sched, seed=11, **config, **kw)
    return model, opt, sched, aees


def _spy(aees) -> list[tuple[float, float | None]]:
    """Record every (loss, update_norm) the episode manager receives."""
    seen: list[tuple[float, float | None]] = []
    manager = aees.episode_manager
    original = manager.on_step_end

    def on_step_end(loss: float, update_norm: float | None = None) -> None:
        seen.append((loss, update_norm))
        original(loss, update_norm=update_norm)

    manager.on_step_end = on_step_end
    return seen


def _train(model, opt, aees, dtype, start: int, stop: int, finalize: bool = True) -> list[str]:
    names = []
    for step in range(start, stop):
        names.append(aees.step_start(step).name)
        opt.zero_grad()
        i = (step * 16) % 128
        loss = F.cross_entropy(model(DATA_X[i : i + 16].to(dtype)), DATA_Y[i : i + 16])
        loss.backward()
        aees.step_end(loss)
    if finalize:
        aees.finalize()
    return names


def _run(cls, dtype, config, **kw):
    model, opt, _, aees = _build(cls, dtype, config, **kw)
    seen = _spy(aees)
    names = _train(model, opt, aees, dtype, 0, STEPS)
    return model, aees, seen, names


def _comparable_state(aees) -> tuple[dict[str, Any], dict[str, torch.Tensor]]:
    state = internals.aees_state_dict(aees)
    gens = {k: v["state"] for k, v in state.pop("noise_generators").items()}
    state.pop("extra")
    norms = state["episode_manager"]["logs"].pop("mean_update_norms")
    return state, gens, norms


def _assert_same(stock, fast, mode: str, dtype: torch.dtype) -> None:
    (m_s, a_s, seen_s, names_s), (m_f, a_f, seen_f, names_f) = stock, fast
    assert names_f == names_s
    assert [loss for loss, _ in seen_f] == [loss for loss, _ in seen_s]  # exact floats
    logs_s, logs_f = a_s.get_logs(), a_f.get_logs()
    norms_s, norms_f = logs_s.pop("mean_update_norms"), logs_f.pop("mean_update_norms")
    assert logs_f == logs_s
    assert len(logs_s["episode_rewards"]) == 13
    step_norms_s = [n for _, n in seen_s]
    step_norms_f = [n for _, n in seen_f]
    if mode == "exact":
        assert norms_f == norms_s and step_norms_f == step_norms_s
    elif mode == "fused":
        rtol = 1e-5 if dtype == torch.float32 else 2e-2
        assert norms_f == pytest.approx(norms_s, rel=rtol)
        assert step_norms_f == pytest.approx(step_norms_s, rel=rtol)
    else:
        assert all(n is None for n in norms_f + step_norms_f)
    state_s, gens_s, _ = _comparable_state(a_s)
    state_f, gens_f, _ = _comparable_state(a_f)
    assert state_f == state_s  # controllers (incl. rng states), episode manager, reward details
    assert gens_f.keys() == gens_s.keys()
    assert all(torch.equal(gens_f[k], gens_s[k]) for k in gens_s)
    for p_s, p_f in zip(m_s.parameters(), m_f.parameters(), strict=True):
        assert p_f.dtype == dtype and torch.equal(p_f, p_s)


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("control_mode", ["adaptive", "random"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_fused_matches_stock(name: str, control_mode: str, dtype: torch.dtype) -> None:
    config = {**CONFIGS[name], "control_mode": control_mode}
    stock = _run(pulseopt.AEES, dtype, config)
    fast = _run(FastAEES, dtype, config)
    _assert_same(stock, fast, "fused", dtype)
    assert len(set(stock[3])) > 1  # more than one arm was actually used


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["fp32", "bf16"])
@pytest.mark.parametrize("mode", ["exact", "off"])
def test_exact_and_off_norm_modes(mode: str, dtype: torch.dtype) -> None:
    config = CONFIGS["trend"]
    stock = _run(pulseopt.AEES, dtype, config)
    _assert_same(stock, _run(FastAEES, dtype, config, update_norm=mode), mode, dtype)


@pytest.mark.parametrize("mode", ["fused", "exact"])
def test_mixed_dtype_param_groups(mode: str) -> None:
    """Two param groups, fp32 and bf16: stock's per-group generators and norm order hold."""

    def run(cls, **kw):
        torch.manual_seed(3)
        w1 = torch.nn.Parameter(torch.randn(12, 16) * 0.3)
        w2 = torch.nn.Parameter((torch.randn(16, 5) * 0.3).bfloat16())
        opt = torch.optim.AdamW([{"params": [w1]}, {"params": [w2], "lr": 3e-3}], lr=1e-2)
        aees = cls(opt, episode_length=7, seed=5, **CONFIGS["dual"], **kw)
        seen = _spy(aees)
        for step in range(40):
            aees.step_start(step)
            opt.zero_grad()
            logits = (torch.relu(DATA_X[:32] @ w1).bfloat16() @ w2).float()
            loss = F.cross_entropy(logits, DATA_Y[:32])
            loss.backward()
            aees.step_end(loss)
        aees.finalize()
        return (w1, w2), aees.get_logs(), seen

    p_s, logs_s, seen_s = run(pulseopt.AEES)
    p_f, logs_f, seen_f = run(FastAEES, update_norm=mode)
    assert all(torch.equal(a, b) for a, b in zip(p_s, p_f, strict=True))
    assert [x for x, _ in seen_f] == [x for x, _ in seen_s]
    norms_s, norms_f = [n for _, n in seen_s], [n for _, n in seen_f]
    assert norms_f == norms_s if mode == "exact" else norms_f == pytest.approx(norms_s, rel=1e-2)
    del logs_s["mean_update_norms"], logs_f["mean_update_norms"]
    assert logs_f == logs_s and any(v > 0 for v in logs_s["selected_noise_values"])


def test_bad_update_norm_mode_is_rejected() -> None:
    opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    with pytest.raises(ValueError, match="update_norm must be one of"):
        FastAEES(opt, update_norm="approx")
    with pytest.raises(TypeError):
        FastAEES(opt, episode_len=3)  # unknown stock keyword


def _nan_run(nan_step: int, steps: int, *, python_float: bool = False):
    model, opt, _, aees = _build(FastAEES, torch.float32, CONFIGS["dual"])
    for step in range(steps):
        aees.step_start(step)
        opt.zero_grad()
        loss = F.cross_entropy(model(DATA_X[:16]), DATA_Y[:16])
        loss.backward()
        if step == nan_step:
            loss = float("nan") if python_float else loss * float("nan")
        aees.step_end(loss)
    return aees


def test_nonfinite_tensor_loss_raises_at_episode_close_and_is_not_stuck() -> None:
    with pytest.raises(ValueError, match="global step 5 is not finite"):
        _nan_run(nan_step=5, steps=EPISODE)
    # the failing step_end was the episode's last one; reproduce and inspect the object
    model, opt, _, aees = _build(FastAEES, torch.float32, CONFIGS["dual"])
    for step in range(EPISODE - 1):
        aees.step_start(step)
        opt.zero_grad()
        loss = F.cross_entropy(model(DATA_X[:16]), DATA_Y[:16])
        loss.backward()
        aees.step_end(loss * float("nan") if step == 5 else loss)
    with pytest.raises(ValueError, match="global step 5"):
        aees.finalize()
    assert aees.current_candidate is None
    assert internals.active_episode_steps(aees) == 5  # steps before the bad one are recorded
    aees.step_start(EPISODE)  # not stuck
    aees.step_end(torch.tensor(1.0))
    aees.finalize()
    assert aees.get_logs()["episode_end_steps"] == [5]


def test_nonfinite_python_loss_raises_immediately_and_is_not_stuck() -> None:
    with pytest.raises(ValueError, match="global step 3 must be finite"):
        _nan_run(nan_step=3, steps=5, python_float=True)
    stock_opt = torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1)
    with pytest.raises(ValueError, match="must be finite"):  # stock raises too
        stock = pulseopt.AEES(stock_opt)
        stock.step_start(0)
        stock.step_end(math.inf)
    fast = FastAEES(torch.optim.SGD([torch.nn.Parameter(torch.zeros(2))], lr=0.1))
    fast.step_start(0)
    with pytest.raises(ValueError):
        fast.step_end(math.inf)
    assert fast.current_candidate is None
    fast.step_start(1)
    fast.step_end(2.0)
    fast.finalize()
    assert fast.get_logs()["episode_start_losses"] == [2.0]


def _resumed(save_cls, load_cls, config, stop: int, load_kw: dict[str, Any]):
    model, opt, sched, aees = _build(save_cls, torch.float32, config)
    _train(model, opt, aees, torch.float32, 0, stop, finalize=False)
    buffer = io.BytesIO()
    torch.save(
        {"model": model.state_dict(), "opt": opt.state_dict(), "sched": sched.state_dict(),
         "aees": internals.aees_state_dict(aees)},
        buffer,
    )
    buffer.seek(0)
    ckpt = torch.load(buffer)  # weights_only=True: the state is plain data and tensors
    model, opt, sched, aees = _build(load_cls, torch.float32, config, **load_kw)
    model.load_state_dict(ckpt["model"])
    opt.load_state_dict(ckpt["opt"])
    sched.load_state_dict(ckpt["sched"])
    internals.load_aees_state_dict(aees, ckpt["aees"], device="cpu")
    _train(model, opt, aees, torch.float32, stop, STEPS)
    return model, aees


@pytest.mark.parametrize(
    ("save_cls", "load_cls", "load_kw"),
    [
        (pulseopt.AEES, pulseopt.AEES, {}),
        (FastAEES, FastAEES, {}),
        (pulseopt.AEES, FastAEES, {"update_norm": "exact"}),
    ],
    ids=["stock", "fast", "stock-to-fast-exact"],
)
@pytest.mark.parametrize("name", ["trend", "conditional"])
@pytest.mark.parametrize("control_mode", ["adaptive", "random"])
def test_state_round_trip_mid_episode(save_cls, load_cls, load_kw, name, control_mode) -> None:
    config = {**CONFIGS[name], "control_mode": control_mode}
    ref_kw = load_kw if save_cls is load_cls else {}  # reference: the uninterrupted saver
    model_ref, opt_ref, _, ref = _build(save_cls, torch.float32, config, **ref_kw)
    _train(model_ref, opt_ref, ref, torch.float32, 0, STEPS)
    model, aees = _resumed(save_cls, load_cls, config, stop=135, load_kw=load_kw)  # mid-episode
    assert aees.get_logs() == ref.get_logs()
    state, gens, _ = _comparable_state(aees)
    state_ref, gens_ref, _ = _comparable_state(ref)
    assert state == state_ref
    assert gens.keys() == gens_ref.keys()
    assert all(torch.equal(gens[k], gens_ref[k]) for k in gens_ref)
    for p, p_ref in zip(model.parameters(), model_ref.parameters(), strict=True):
        assert torch.equal(p, p_ref)


def test_state_is_checked_on_load() -> None:
    _, _, _, fused = _build(FastAEES, torch.float32, CONFIGS["dual"])
    state = internals.aees_state_dict(fused)
    _, _, _, other_mode = _build(FastAEES, torch.float32, CONFIGS["dual"], update_norm="off")
    with pytest.raises(ValueError, match="update_norm='fused'"):
        internals.load_aees_state_dict(other_mode, state)
    _, _, _, other_config = _build(FastAEES, torch.float32, CONFIGS["lr_only"])
    with pytest.raises(ValueError, match="saved for"):
        internals.load_aees_state_dict(other_config, state)
    fused.step_start(0)
    with pytest.raises(RuntimeError, match="inside a step"):
        internals.aees_state_dict(fused)
