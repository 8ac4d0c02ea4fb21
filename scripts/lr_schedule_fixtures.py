#!/usr/bin/env python3
"""Learning rates of transformers' get_linear_schedule_with_warmup and torch's ReduceLROnPlateau,
step by step, for the trainer's schedule tests (host/src/trainer/scheduler.rs). Run once with the
project venv (scripts/setup-interop.sh installs transformers into it):

    .venv/bin/python scripts/lr_schedule_fixtures.py > host/tests/fixtures/lr_schedules.json

`linear`: the lr each optimizer step runs at (what the optimizer sees in step s, 0-based).
`plateau`: the lr after each epoch's scheduler.step(metric).
"""
import json
import math

import torch
from transformers import get_linear_schedule_with_warmup

BASE_LR = 0.01


def optimizer():
    return torch.optim.SGD([torch.nn.Parameter(torch.zeros(1))], lr=BASE_LR)


def linear(total_steps, warmup_steps=0, warmup_ratio=0.0):
    # transformers' TrainingArguments.get_warmup_steps
    warmup = warmup_steps if warmup_steps > 0 else math.ceil(total_steps * warmup_ratio)
    opt = optimizer()
    sched = get_linear_schedule_with_warmup(opt, warmup, total_steps)
    lrs = []
    for _ in range(total_steps):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        sched.step()
    return {"total_steps": total_steps, "warmup_steps": warmup_steps,
            "warmup_ratio": warmup_ratio, "lrs": lrs}


def plateau(metrics, **kw):
    opt = optimizer()
    sched = torch.optim.lr_scheduler.ReduceLROnPlateau(opt, **kw)
    lrs = []
    for m in metrics:
        sched.step(m)
        lrs.append(opt.param_groups[0]["lr"])
    return {"options": kw, "metrics": metrics, "lrs": lrs}


def main():
    falling = [1.0, 0.99995, 0.9, 0.95, 0.96, 0.97, 0.98, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    rising = [0.1, 0.2, 0.205, 0.21, 0.3, 0.3, 0.29, 0.31, 0.315, 0.32, 0.33]
    print(json.dumps({
        "base_lr": BASE_LR,
        "linear": [
            linear(10),
            linear(10, warmup_steps=3),
            linear(10, warmup_ratio=0.25),
            linear(7, warmup_ratio=0.5),
            linear(1),
        ],
        "plateau": [
            plateau(falling, mode="min", factor=0.5, patience=1),
            plateau(falling, mode="min", factor=0.5, patience=0, cooldown=2, min_lr=0.002),
            plateau(falling, mode="min", factor=0.1, patience=1, threshold=0.05,
                    threshold_mode="abs"),
            plateau(rising, mode="max", factor=0.5, patience=1, threshold=0.02),
            plateau(rising, mode="max", factor=0.1, patience=0, threshold=0.01,
                    threshold_mode="abs", min_lr=1e-4),
        ],
    }, indent=1))


if __name__ == "__main__":
    main()
