"""Step-level schedulers of protocol 6.2 (SST-2 / AG News): the LR factor of the torch scheduler at
the first, a middle and the last optimizer step, stepped after every optimizer step."""

import math

import pytest
import torch

from lr_trace import lr_trace

from lib.control import build_step_scheduler, nlp_warmup_steps, step_factor


def factors(name, steps, span=None, warmup_steps=0):
    """The LR in effect for each optimizer step k = 0..steps-1 (base LR 1)."""
    return lr_trace(torch.optim.AdamW, lambda opt: build_step_scheduler(opt, name, span or steps, warmup_steps),
                    steps)


S = 40  # span = total steps


@pytest.mark.parametrize(
    ("name", "first", "middle", "last"),
    [
        ("none", 1.0, 1.0, 1.0),
        ("cosine", 1.0, 0.5, (1 + math.cos(math.pi * 39 / 40)) / 2),
        ("linear", 1.0, 0.5, 1 / 40),  # starts at 1, the last step runs at 1/S
        ("warmup_linear", 1.0, 0.5, 1 / 40),  # thesis "WL": zero warmup = linear decay
    ],
)
def test_factor_at_first_middle_and_last_step(name, first, middle, last):
    got = factors(name, S)
    assert got[0] == pytest.approx(first, abs=1e-12)
    assert got[S // 2] == pytest.approx(middle, abs=1e-12)
    assert got[-1] == pytest.approx(last, abs=1e-12)
    assert got == pytest.approx([step_factor(name, k, S) for k in range(S)], abs=1e-12)


def test_warmup_linear_with_warmup_steps_from_epochs():
    # 5 epochs of 8 steps, warmup_epochs=1 -> W = int(1 * 40 / 5) = 8 steps.
    w = nlp_warmup_steps(1, total_steps=40, epochs=5, span=40)
    assert w == 8
    got = factors("warmup_linear", 40, warmup_steps=w)
    assert got[0] == pytest.approx(1 / 8) and got[7] == pytest.approx(1.0)  # (k+1)/W
    assert got[8] == pytest.approx(1.0) and got[24] == pytest.approx(0.5)  # 1 - (k-W)/(S-W)
    assert got[-1] == pytest.approx(1 - 31 / 32)


def test_warmup_is_clamped_below_the_span():
    assert nlp_warmup_steps(10, total_steps=40, epochs=5, span=40) == 39
    assert nlp_warmup_steps(0, total_steps=40, epochs=5, span=40) == 0


def test_shorter_span_than_training():
    # scheduler_t_max = 20 steps of 40: linear reaches 0 at step 20 and stays there.
    got = factors("linear", 40, span=20)
    assert got[19] == pytest.approx(1 / 20) and got[20:] == [0.0] * 20


def test_unknown_scheduler_name():
    with pytest.raises(ValueError, match="lr_scheduler"):
        step_factor("step", 0, 10)
