#!/usr/bin/env python3
"""torch.optim.AdamW with two parameter groups (weight decay / no_decay) and
torch.nn.utils.clip_grad_norm_, step by step, for the optimizer's parity tests
(plugins/hf-matcher/tests/optim_adamw_torch.rs). Run once with the project venv:

    .venv/bin/python plugins/hf-matcher/scripts/adamw_fixtures.py \
        > plugins/hf-matcher/tests/fixtures/adamw_torch.json

Each scenario: named parameters (with "bias" and "LayerNorm.weight" names, and an embedding-like
2-D one whose gradient has a few non-zero rows per step, as a word embedding's), their initial
values, the gradients and learning rate of each step, and the parameters after each step, as
transformers' Trainer runs it: clip_grad_norm_ over all gradients, then optimizer.step().
Values are float32, written as exact decimals.
"""
import json

import torch

EMBEDDING = "embeddings.word_embeddings.weight"
SHAPES = {
    EMBEDDING: (12, 3),
    "encoder.layer.0.dense.weight": (4, 3),
    "encoder.layer.0.dense.bias": (4,),
    "encoder.layer.0.output.LayerNorm.weight": (3,),
    "encoder.layer.0.output.LayerNorm.bias": (3,),
    "classifier.weight": (2, 4),
}
# Rows of the embedding with a gradient, per step (a step without any: all rows idle).
ROWS = [[1, 4, 7], [4, 10], [], [0, 1, 11], [7], [2, 3]]
# Gradient scales: clipping (max_grad_norm 1) is active on the large ones only.
SCALES = [3.0, 0.1, 1.5, 0.05, 4.0, 0.5]
LRS = [0.05, 0.05, 0.04, 0.03, 0.02, 0.01]


def values(t):
    return [float(x) for x in t.detach().reshape(-1).tolist()]


def scenario(name, settings, seed):
    gen = torch.Generator().manual_seed(seed)
    params = {n: torch.nn.Parameter(torch.randn(s, generator=gen)) for n, s in SHAPES.items()}
    init = {n: values(p) for n, p in params.items()}
    no_decay = settings.get("no_decay", [])
    wd = settings.get("weight_decay", 0.01)
    betas = tuple(settings.get("betas", (0.9, 0.999)))
    eps = settings.get("eps", 1e-8)
    max_norm = settings.get("max_grad_norm")
    groups = [
        {"params": [p for n, p in params.items() if not any(s in n for s in no_decay)],
         "weight_decay": wd},
        {"params": [p for n, p in params.items() if any(s in n for s in no_decay)],
         "weight_decay": 0.0},
    ]
    opt = torch.optim.AdamW([g for g in groups if g["params"]], lr=LRS[0], betas=betas, eps=eps,
                            foreach=False)
    steps = []
    for rows, scale, lr in zip(ROWS, SCALES, LRS):
        grads = {}
        for n, p in params.items():
            g = torch.randn(p.shape, generator=gen) * scale
            if n == EMBEDDING:
                keep = torch.zeros(p.shape[0], 1)
                keep[rows] = 1.0
                g = g * keep
            p.grad = g
            grads[n] = values(g)
        total_norm = None
        if max_norm is not None:
            total_norm = float(torch.nn.utils.clip_grad_norm_(
                list(params.values()), max_norm, foreach=False))
        for group in opt.param_groups:
            group["lr"] = lr
        opt.step()
        opt.zero_grad()
        steps.append({"lr": lr, "rows": rows, "grads": grads, "total_norm": total_norm,
                      "params": {n: values(p) for n, p in params.items()}})
    clipped = [s["total_norm"] is not None and s["total_norm"] > max_norm for s in steps]
    if max_norm is not None:
        assert any(clipped) and not all(clipped), clipped
    return {"name": name, "settings": settings, "shapes": SHAPES, "embedding": EMBEDDING,
            "init": init, "steps": steps}


def main():
    out = {
        "torch": torch.__version__,
        "scenarios": [
            # [train.optimizer] with every key set, and [train.trainer] max_grad_norm.
            scenario("groups_betas_eps_clipped", {
                "weight_decay": 0.1,
                "no_decay": ["bias", "LayerNorm.weight"],
                "betas": [0.8, 0.95],
                "eps": 1e-6,
                "max_grad_norm": 1.0,
            }, seed=0),
            # "{}": medkit's optimizer (AdamW defaults on every parameter, no clipping).
            scenario("medkit_defaults", {}, seed=1),
        ],
    }
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
