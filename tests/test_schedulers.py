"""Epoch-level schedulers of protocol 6.1: the per-epoch LR factors of the torch schedulers."""

import math

import pytest
import torch

from lr_trace import lr_trace

from lib.control import build_epoch_scheduler, epoch_factor


def factors(name, epochs, span=None, warmup=0):
    """The LR in effect for each epoch (base LR 1)."""
    return lr_trace(torch.optim.SGD, lambda opt: build_epoch_scheduler(opt, name, span or epochs, warmup), epochs)


def test_none_is_constant():
    assert factors("none", 5) == [1.0] * 5


def test_cosine_matches_closed_form_and_ends_near_zero():
    got = factors("cosine", 200)
    want = [(1 + math.cos(math.pi * e / 200)) / 2 for e in range(200)]
    assert got == pytest.approx(want, abs=1e-12)
    assert got[0] == 1.0 and got[-1] == pytest.approx(6.2e-5, rel=0.01)


def test_linear_starts_below_one_and_reaches_zero_in_last_epoch():
    got = factors("linear", 10)
    assert got == pytest.approx([1 - (e + 1) / 10 for e in range(10)])
    assert got[0] == pytest.approx(0.9) and got[-1] == 0.0


def test_warmup_linear_with_zero_warmup_equals_linear():
    assert factors("warmup_linear", 10) == factors("linear", 10)


def test_warmup_linear_with_warmup():
    got = factors("warmup_linear", 10, warmup=3)
    # s = e+1: s/W while s <= W, then 1 - (s-W)/(T-W)
    assert got == pytest.approx([1 / 3, 2 / 3, 1.0] + [1 - (s - 3) / 7 for s in range(4, 11)])


def test_closed_form_table():
    assert epoch_factor("linear", 199, 200) == 0.0
    assert epoch_factor("warmup_linear", 0, 5, warmup_epochs=10) == pytest.approx(0.25)  # W clamped to T-1
    with pytest.raises(ValueError, match="lr_scheduler"):
        epoch_factor("step", 0, 10)
