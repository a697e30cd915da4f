"""AEES control: optimizer wiring on pulseopt, schedulers, controller-log snapshots.

``lib.control.internals`` is the only module of the project that touches pulseopt internals.
"""

from lib.control.peers import evaluation_weights, is_schedule_free
from lib.control.schedulers import (
    build_epoch_scheduler,
    build_step_scheduler,
    epoch_factor,
    nlp_warmup_steps,
    step_factor,
)
from lib.control.snapshots import ControllerLogger
from lib.control.wiring import (
    METHOD_NAMES,
    build_aees,
    build_optimizer,
    candidate_blocks,
)
from lib.vocab import episode_logs

__all__ = [
    "METHOD_NAMES",
    "ControllerLogger",
    "evaluation_weights",
    "is_schedule_free",
    "build_aees",
    "build_epoch_scheduler",
    "build_optimizer",
    "build_step_scheduler",
    "candidate_blocks",
    "episode_logs",
    "epoch_factor",
    "nlp_warmup_steps",
    "step_factor",
]
