"""Controller-state snapshots after each closed episode: the ``controller_logs`` of protocol 7.5.

Only public controller APIs (``get_state``) are used here; reaching the controllers inside
pulseopt's episode manager goes through :mod:`lib.control.internals`.
"""

from __future__ import annotations

from typing import Any

from pulseopt import BucketedContextualController, DiscountedUCBController, RandomController

from lib.control.internals import controllers_of

RANDOM_NOTE = ("RandomController: arms drawn uniformly per episode; rewards and context are "
               "computed and logged but ignored by the controllers.")


UCB_HISTORIES = ("value_estimates_history", "effective_counts_history",
                 "warmup_counts_history", "controller_updates_history")


def _ucb_histories() -> dict[str, list]:
    return {key: [] for key in UCB_HISTORIES}


def _append_ucb(hist: dict[str, list], state: dict[str, Any] | None, arm_values: list[float]) -> None:
    if state is None:
        for key in UCB_HISTORIES:
            hist[key].append(None)
        return
    keys = [str(v) for v in arm_values]
    hist["value_estimates_history"].append(dict(zip(keys, state["mean_rewards"], strict=True)))
    hist["effective_counts_history"].append(dict(zip(keys, state["counts"], strict=True)))
    hist["warmup_counts_history"].append(dict(zip(keys, state["warmup_counts"], strict=True)))
    hist["controller_updates_history"].append(state["total_updates"])


class _AxisLog:
    """The per-axis container of protocol 7.5 and its per-episode histories."""

    def __init__(self, controller: Any, axis: str, arm_values: list[float]) -> None:
        self.controller = controller
        self.arm_values = [float(v) for v in arm_values]
        self.log: dict[str, Any] = {
            "axis_name": axis,
            "arm_values": list(self.arm_values),
            "controller_created": controller is not None,
            "controller_type": type(controller).__name__ if controller is not None else "FixedAxis",
        }
        if controller is None:
            self.log["fixed_arm_value"] = self.arm_values[0]
        elif isinstance(controller, DiscountedUCBController):
            self.log.update(_ucb_histories())
        elif isinstance(controller, BucketedContextualController):
            self.log.update({
                "context_bucket_names": list(controller.bucket_names),
                "prior_from_global": controller.prior_from_global,
                "bucket_visit_counts_history": [],
                "bucket_reward_sums_history": [],
                "bucket_distinct_arm_counts_history": [],
                "global_prior_logs": _ucb_histories(),
                "bucket_controller_logs": {
                    name: {"bucket_id": name, "bucket_visit_count_history": [], **_ucb_histories()}
                    for name in controller.bucket_names
                },
            })
        elif not isinstance(controller, RandomController):
            raise TypeError(f"unsupported controller type {type(controller).__name__}")

    def snapshot(self) -> None:
        c = self.controller
        if isinstance(c, DiscountedUCBController):
            _append_ucb(self.log, c.get_state(), self.arm_values)
        elif isinstance(c, BucketedContextualController):
            state = c.get_state()
            self.log["bucket_visit_counts_history"].append(dict(state["bucket_visit_counts"]))
            self.log["bucket_reward_sums_history"].append(dict(state["bucket_reward_sums"]))
            self.log["bucket_distinct_arm_counts_history"].append(dict(state["bucket_distinct_arm_counts"]))
            _append_ucb(self.log["global_prior_logs"], state["global_prior_state"], self.arm_values)
            for name, bucket_log in self.log["bucket_controller_logs"].items():
                bucket_state = state["bucket_states"][name]
                _append_ucb(bucket_log, bucket_state, self.arm_values)
                bucket_log["bucket_visit_count_history"].append(
                    None if bucket_state is None else state["bucket_visit_counts"][name])


class ControllerLogger:
    """Builds ``controller_logs``; call :meth:`on_episode_closed` once per closed episode."""

    def __init__(self, aees: Any, *, structured_control_mode: str, context_mode: str,
                 control_mode: str, lr_candidates: list[float], noise_candidates: list[float]) -> None:
        lr_ctrl, noise_ctrl = controllers_of(aees)
        self.structured_control_mode = structured_control_mode
        self.context_mode = context_mode
        self.control_mode = control_mode
        self.count = 0
        self.lr = _AxisLog(lr_ctrl, "lr", lr_candidates)
        if isinstance(noise_ctrl, list):
            self.noise: _AxisLog | None = None
            self.noise_by_lr = {
                str(float(lr)): _AxisLog(ctrl, "noise", noise_candidates)
                for lr, ctrl in zip(lr_candidates, noise_ctrl, strict=True)
            }
            for lr, axis in self.noise_by_lr.items():
                axis.log["conditioned_on_lr_value"] = float(lr)
        else:
            self.noise = _AxisLog(noise_ctrl, "noise", noise_candidates)
            self.noise_by_lr = {}

    def on_episode_closed(self) -> None:
        self.count += 1
        for axis in [self.lr, self.noise, *self.noise_by_lr.values()]:
            if axis is not None:
                axis.snapshot()

    def logs(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "structured_control_mode": self.structured_control_mode,
            "context_mode": self.context_mode,
            "_logged_episode_count": self.count,
            "lr_controller_logs": self.lr.log,
        }
        if self.noise is not None:
            out["noise_controller_logs"] = self.noise.log
        else:
            out["noise_controller_logs_by_lr"] = {k: a.log for k, a in self.noise_by_lr.items()}
        if self.control_mode == "random":
            out["non_contextual_random_note"] = RANDOM_NOTE
        return out

    def state_dict(self) -> dict[str, Any]:
        """Histories so far (for checkpoints); controllers are restored separately."""
        axes = {"lr": self.lr.log, **({"noise": self.noise.log} if self.noise else {}),
                **{f"noise@{k}": a.log for k, a in self.noise_by_lr.items()}}
        return {"count": self.count, "axes": axes}

    def load_state_dict(self, state: dict[str, Any]) -> None:
        self.count = state["count"]
        self.lr.log = state["axes"]["lr"]
        if self.noise is not None:
            self.noise.log = state["axes"]["noise"]
        for k, a in self.noise_by_lr.items():
            a.log = state["axes"][f"noise@{k}"]

