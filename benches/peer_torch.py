"""PyTorch (CPU) peer timings for the cases of benches/formulations.rs and
benches/upsample.rs, on as many threads as convmat's criterion run: one, or
RAYON_NUM_THREADS when it is set (as the benches read it).

    python benches/peer_torch.py
    RAYON_NUM_THREADS=2 python benches/peer_torch.py

Same machine, same session as `cargo bench --bench formulations`; prints the median
of repeated runs in milliseconds, under the criterion group names.
"""

import os
import timeit

import numpy as np
import torch
import torch.nn.functional as F

torch.set_num_threads(int(os.environ.get("RAYON_NUM_THREADS", "1")))

# group: (function, input shape, weight shape, keyword arguments)
CASES = {
    "conv2d_dl_8x64x56_k3": (F.conv2d, (8, 64, 56, 56), (64, 64, 3, 3), dict(padding=1)),
    "conv2d_reflect_8x64x56_k3": ("reflect", (8, 64, 56, 56), (64, 64, 3, 3), dict(padding=1)),
    "conv2d_s2_8x64x56_k3": (F.conv2d, (8, 64, 56, 56), (128, 64, 3, 3), dict(stride=2, padding=1)),
    "conv2d_1ch_256_k5": (F.conv2d, (1, 1, 256, 256), (1, 1, 5, 5), dict(padding=2)),
    "convT2d_dl_8x64x28_k4s2": (F.conv_transpose2d, (8, 64, 28, 28), (64, 32, 4, 4), dict(stride=2, padding=1)),
    "convT2d_1ch_128_k4s2": (F.conv_transpose2d, (1, 1, 128, 128), (1, 1, 4, 4), dict(stride=2, padding=1)),
    # a large kernel on one channel: convmat's FFT against PyTorch's direct convolution
    "fftconv_512_k31": (F.conv2d, (1, 1, 512, 512), (1, 1, 31, 31), dict(padding="same")),
}


def median_ms(fn, repeat=15):
    fn()  # warm-up (oneDNN picks and caches its kernel)
    once = timeit.timeit(fn, number=1)
    number = max(1, int(0.2 / max(once, 1e-6)))
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return 1e3 * float(np.median(times)) / number


def measure():
    """Median milliseconds per case, keyed by criterion group name."""
    out = {}
    with torch.no_grad():
        for name, (fn, x_shape, w_shape, kw) in CASES.items():
            x = torch.randn(*x_shape)
            w = torch.randn(*w_shape)
            if isinstance(fn, str):
                # nn.Conv2d with a padding mode: what a CycleGAN generator calls
                layer = torch.nn.Conv2d(w_shape[1], w_shape[0], w_shape[2:], bias=False,
                                        padding_mode=fn, **kw)
                layer.weight.copy_(w)
                out[name] = median_ms(lambda: layer(x))
            else:
                out[name] = median_ms(lambda: fn(x, w, None, **kw))
    return out


def measure_fftconv():
    """fftconv_512_k31 alone (F.conv2d), keyed by criterion group name."""
    fn, x_shape, w_shape, kw = CASES["fftconv_512_k31"]
    with torch.no_grad():
        x = torch.randn(*x_shape)
        w = torch.randn(*w_shape)
        return {"fftconv_512_k31": median_ms(lambda: fn(x, w, None, **kw), repeat=7)}


def measure_upsample():
    """Median milliseconds of the up-sampling cases (benches/upsample.rs), keyed by
    criterion group name."""
    out = {}
    with torch.no_grad():
        x = torch.randn(8, 64, 112, 112)
        out["maxpool_idx_8x64x112"] = median_ms(lambda: F.max_pool2d(x, 2, return_indices=True))
        v, i = F.max_pool2d(x, 2, return_indices=True)
        out["maxunpool_8x64x56"] = median_ms(lambda: F.max_unpool2d(v, i, 2))
        out["avgpool_8x64x112_k2"] = median_ms(lambda: F.avg_pool2d(x, 2))
        y = torch.randn(8, 64, 56, 56)
        out["bilinear_8x64x56_x2"] = median_ms(
            lambda: F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=False))
        out["bilinear_ac_8x64x56_x2"] = median_ms(
            lambda: F.interpolate(y, scale_factor=2, mode="bilinear", align_corners=True))
        out["nearest_8x64x56_x2"] = median_ms(
            lambda: F.interpolate(y, scale_factor=2, mode="nearest"))
        out["bicubic_8x64x56_x2"] = median_ms(
            lambda: F.interpolate(y, scale_factor=2, mode="bicubic", align_corners=False))
        deep = torch.randn(8, 256, 56, 56)
        out["pixelshuffle_8x256x56_r2"] = median_ms(lambda: F.pixel_shuffle(deep, 2))
    return out


def describe():
    return f"torch {torch.__version__}, {torch.get_num_threads()} thread(s), mkldnn {torch.backends.mkldnn.is_available()}"


if __name__ == "__main__":
    print(describe())
    for name, ms in {**measure(), **measure_upsample()}.items():
        print(f"{name:32s} median {ms:9.3f} ms")
