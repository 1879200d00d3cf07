"""convmat against PyTorch call for call, in one process: on a shared, noisy machine
both see the same moment, so the per-pair ratio is steadier than two medians taken
minutes apart.

    pip install ./python && RAYON_NUM_THREADS=1 python benches/pair_torch.py

One thread each; randn data; 40 pairs per case and method after 3 warm-up calls;
prints each side's median and the median (and quartiles) of the per-pair ratios
convmat / PyTorch. convmat's side includes allocating its output array.
"""

import statistics
import time

import numpy as np
import torch
import torch.nn.functional as F

import convmat

torch.set_num_threads(1)
rng = np.random.default_rng(0)

# criterion group: (input shape, weight shape, keyword arguments, convmat methods)
CASES = {
    "conv2d_s2_8x64x56_k3": ((8, 64, 56, 56), (128, 64, 3, 3), dict(stride=2, padding=1), ["phase"]),
    "conv2d_dl_8x64x56_k3": ((8, 64, 56, 56), (64, 64, 3, 3), dict(stride=1, padding=1), ["phase", "winograd"]),
}

for name, (xs, ws, kw, methods) in CASES.items():
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32) * 0.1
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    for m in methods:
        for _ in range(3):
            convmat.conv(x, w, method=m, **kw)
            F.conv2d(xt, wt, **kw)
        ours, theirs, ratios = [], [], []
        for _ in range(40):
            t0 = time.perf_counter()
            convmat.conv(x, w, method=m, **kw)
            t1 = time.perf_counter()
            F.conv2d(xt, wt, **kw)
            t2 = time.perf_counter()
            ours.append(t1 - t0)
            theirs.append(t2 - t1)
            ratios.append((t1 - t0) / (t2 - t1))
        q1, q3 = np.percentile(ratios, [25, 75])
        print(
            f"{name} {m}: convmat median {statistics.median(ours) * 1e3:.2f} ms, "
            f"torch {statistics.median(theirs) * 1e3:.2f} ms, paired ratio median "
            f"{statistics.median(ratios):.3f} (quartiles {q1:.3f} - {q3:.3f})"
        )
