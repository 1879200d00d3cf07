"""convmat against PyTorch call for call, in one process: on a shared, noisy machine
both see the same moment, so the per-pair ratio is steadier than two medians taken
minutes apart.

    pip install ./python && RAYON_NUM_THREADS=1 python benches/pair_torch.py
    RAYON_NUM_THREADS=2 python benches/pair_torch.py     # two threads each
    python benches/pair_torch.py conv2d_s2 convT2d_dl     # only cases whose names contain one

As many threads on each side as RAYON_NUM_THREADS (default one); randn data; 40
pairs per case and method after 3 warm-up calls; prints a line naming the processor
and each side's SIMD level (CONVMAT_SIMD and ONEDNN_MAX_CPU_ISA lower them), then
each side's median and the median (and quartiles) of the per-pair ratios convmat /
PyTorch, and each side's page faults per call. convmat's side
includes allocating its output array: where PyTorch's call before it has freed
its own buffers, glibc may have handed the memory back to the kernel, and
convmat's output then costs a fault per 4 KiB page (`convT2d_dl_8x64x28_k4s2`:
about 750 a call, 3.2 MB, PyTorch about 2000); criterion's benches reuse their
output buffer. OpenMP's threads are told to sleep between
calls (OMP_WAIT_POLICY=PASSIVE, unless set): spinning, PyTorch's second thread would
take the core convmat's second thread needs right after it.
"""

import os
import resource
import statistics
import sys
import time

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

import numpy as np  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import convmat  # noqa: E402
from machine import cpu_model  # noqa: E402

torch.set_num_threads(int(os.environ.get("RAYON_NUM_THREADS", "1")))


def minor_faults():
    """The process's page faults so far that needed no disk (every thread's)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


rng = np.random.default_rng(0)

# what every ratio below is to be quoted with: the processor and each side's level
onednn = os.environ.get("ONEDNN_MAX_CPU_ISA", "its widest")
print(f"# {cpu_model()}; convmat at {convmat.simd_level()}; PyTorch {torch.__version__}, "
      f"ATen at {torch.backends.cpu.get_cpu_capability()}, oneDNN at {onednn}; "
      f"{torch.get_num_threads()} thread(s) each")

# criterion group: (direction, input shape, weight shape, keyword arguments, padding
# mode, convmat methods); the shapes as in benches/formulations.rs
CASES = {
    "conv2d_s2_8x64x56_k3": ("conv", (8, 64, 56, 56), (128, 64, 3, 3), dict(stride=2, padding=1), "zeros", ["phase", "im2col", "winograd", "auto"]),
    # a wide stride-2 layer (112 output columns): phase writes its output in bands of rows
    "conv2d_s2_1x64x224_k3": ("conv", (1, 64, 224, 224), (128, 64, 3, 3), dict(stride=2, padding=1), "zeros", ["phase", "winograd", "auto"]),
    "conv2d_dl_8x64x56_k3": ("conv", (8, 64, 56, 56), (64, 64, 3, 3), dict(stride=1, padding=1), "zeros", ["phase", "winograd", "auto"]),
    "conv2d_reflect_8x64x56_k3": ("conv", (8, 64, 56, 56), (64, 64, 3, 3), dict(padding=1), "reflect", ["phase", "winograd"]),
    "convT2d_dl_8x64x28_k4s2": ("convT", (8, 64, 28, 28), (64, 32, 4, 4), dict(stride=2, padding=1), "zeros", ["phase", "winograd", "col2im", "auto"]),
    "convT2d_1ch_128_k4s2": ("convT", (1, 1, 128, 128), (1, 1, 4, 4), dict(stride=2, padding=1), "zeros", ["phase"]),
}

# arguments: parts of case names; only the cases containing one of them run
wanted = sys.argv[1:]
for name, (direction, xs, ws, kw, mode, methods) in CASES.items():
    if wanted and not any(part in name for part in wanted):
        continue
    x = rng.standard_normal(xs).astype(np.float32)
    w = rng.standard_normal(ws).astype(np.float32) * 0.1
    xt, wt = torch.from_numpy(x), torch.from_numpy(w)
    if direction == "convT":
        theirs_call = lambda: F.conv_transpose2d(xt, wt, **kw)  # noqa: E731
        ours_call = lambda m: convmat.conv_transpose(x, w, method=m, **kw)  # noqa: E731
    elif mode == "zeros":
        theirs_call = lambda: F.conv2d(xt, wt, **kw)  # noqa: E731
        ours_call = lambda m: convmat.conv(x, w, method=m, **kw)  # noqa: E731
    else:
        # nn.Conv2d with a padding mode: what a CycleGAN generator calls
        layer = torch.nn.Conv2d(ws[1], ws[0], ws[2:], bias=False, padding_mode=mode, **kw)
        with torch.no_grad():
            layer.weight.copy_(wt)
        theirs_call = lambda: layer(xt)  # noqa: E731
        ours_call = lambda m: convmat.conv(x, w, method=m, padding_mode=mode, **kw)  # noqa: E731
    with torch.no_grad():
        for m in methods:
            for _ in range(3):
                ours_call(m)
                theirs_call()
            ours, theirs, ratios = [], [], []
            faults = [0, 0]
            for _ in range(40):
                f0 = minor_faults()
                t0 = time.perf_counter()
                ours_call(m)
                t1 = time.perf_counter()
                f1 = minor_faults()
                theirs_call()
                t2 = time.perf_counter()
                faults[0] += f1 - f0
                faults[1] += minor_faults() - f1
                ours.append(t1 - t0)
                theirs.append(t2 - t1)
                ratios.append((t1 - t0) / (t2 - t1))
            q1, q3 = np.percentile(ratios, [25, 75])
            print(
                f"{name} {m}: convmat median {statistics.median(ours) * 1e3:.3f} ms, "
                f"torch {statistics.median(theirs) * 1e3:.3f} ms, paired ratio median "
                f"{statistics.median(ratios):.3f} (quartiles {q1:.3f} - {q3:.3f}); page faults "
                f"a call: convmat {faults[0] / 40:.0f}, torch {faults[1] / 40:.0f}"
            )
