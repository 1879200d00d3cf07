"""Ratios of convmat's criterion medians to a peer's, measured now on this machine.

    cargo bench --bench sparse_matrix && python benches/ratios.py scipy
    cargo bench --bench formulations  && python benches/ratios.py torch
                                         python benches/ratios.py boundary
    cargo bench --bench upsample      && python benches/ratios.py torch-upsample
    cargo bench --bench deconv        && python benches/ratios.py scipy-deconv
    cargo bench --bench spectrum      && python benches/ratios.py numpy-spectrum
    cargo bench --bench deconv -- wiener_512_psf9 && python benches/ratios.py skimage-wiener
    cargo bench --bench formulations -- fftconv_512_k31 && python benches/ratios.py fft

Reads the medians criterion saved under target/criterion/<group>/<function>/new/,
times the peer on the same cases (benches/peer_scipy.py or benches/peer_torch.py),
and prints a Markdown table: ratio = convmat time / peer time (below 1: convmat is
faster).
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
CRITERION = os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "..", "target")), "criterion")

# convmat (group, function) compared with the peer's case of the same group
SCIPY_PAIRS = [
    ("build_C_256_k5", "csr_f64_usize", "scipy_f64"),
    ("build_C_256_k5", "csr_f64_u32", "scipy_f64"),
    ("build_C_256_k5", "csr_f32_u32", "scipy_f32"),
    ("spmv_C_256_k5_f64", "csr_usize", "scipy"),
    ("spmv_C_256_k5_f64", "csr_u32", "scipy"),
    ("spmv_C_256_k5_f32", "csr_usize", "scipy"),
    ("spmv_C_256_k5_f32", "csr_u32", "scipy"),
    ("spmvT_C_256_k5_f64", "csr_usize", "scipy"),
    ("spmvT_C_256_k5_f64", "csr_u32", "scipy"),
    ("spmvT_C_256_k5_f64", "csr_explicit_transpose", "scipy"),
]

CONV = ["im2col", "winograd", "phase", "direct", "sparse", "sparse_build"]
CONVT = ["col2im", "scatter", "phase", "winograd", "zero-insert", "sparse", "sparse_build"]
TORCH_GROUPS = {
    "conv2d_dl_8x64x56_k3": CONV,
    "conv2d_reflect_8x64x56_k3": CONV,
    "conv2d_s2_8x64x56_k3": CONV,
    "conv2d_1ch_256_k5": CONV,
    "convT2d_dl_8x64x28_k4s2": CONVT,
    "convT2d_1ch_128_k4s2": CONVT,
    "fftconv_512_k31": ["fft", "fft_prepared", "direct", "im2col"],
}
# fftconv_512_k31 against SciPy's fftconvolve and PyTorch's conv2d
FFT_FUNCTIONS = ["fft", "fft_prepared", "direct", "im2col"]
UPSAMPLE_GROUPS = {
    "maxpool_idx_8x64x112": ["direct"],
    "maxunpool_8x64x56": ["direct", "matrix", "matrix_build"],
    "avgpool_8x64x112_k2": ["direct", "matrix", "matrix_build"],
    "bilinear_8x64x56_x2": ["direct", "matrix", "matrix_build"],
    "bilinear_ac_8x64x56_x2": ["direct", "matrix", "matrix_build"],
    "nearest_8x64x56_x2": ["direct", "matrix", "matrix_build"],
    "bicubic_8x64x56_x2": ["direct", "matrix", "matrix_build"],
    "pixelshuffle_8x256x56_r2": ["direct", "matrix", "copy"],
}


def criterion_median_ms(group, function):
    path = os.path.join(CRITERION, group, function, "new", "estimates.json")
    if not os.path.exists(path):
        return None
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"] / 1e6


def table(rows):
    print("| case | convmat | median (ms) | peer (ms) | ratio |")
    print("|---|---|---:|---:|---:|")
    for group, function, ours, theirs in rows:
        if ours is None:
            print(f"| {group} | {function} | (not run) | {theirs:.3f} | |")
        else:
            print(f"| {group} | {function} | {ours:.3f} | {theirs:.3f} | {ours / theirs:.3g} |")


def main():
    peer = sys.argv[1] if len(sys.argv) > 1 else "scipy"
    if peer == "scipy":
        import peer_scipy as module

        measured = module.measure()
        rows = [
            (g, f, criterion_median_ms(g, f), measured[f"{g}/{p}"]) for g, f, p in SCIPY_PAIRS
        ]
    elif peer == "torch":
        import peer_torch as module

        measured = module.measure()
        rows = [
            (g, f, criterion_median_ms(g, f), measured[g])
            for g, functions in TORCH_GROUPS.items()
            for f in functions
        ]
    elif peer == "scipy-deconv":
        import peer_scipy as module

        measured = module.measure_deconv()
        print(f"SciPy LSQR: istop {measured['istop']}, {measured['itn']} iterations, "
              f"relative error {measured['relative_error']:.3e}")
        functions = ["lsqr_direct", "lsqr_separable", "lsqr_matrix", "lsmr_direct", "cgls_direct",
                     "cholesky", "cholesky_separable"]
        rows = [
            ("lsqr_gauss5_64", f, criterion_median_ms("lsqr_gauss5_64", f), measured["lsqr_gauss5_64"])
            for f in functions
        ]
    elif peer == "numpy-spectrum":
        import peer_numpy as module

        measured = module.measure()
        group = "spectrum_64ch_k3_32"
        rows = [
            (group, f, criterion_median_ms(group, f), measured[group]["numpy_sedghi"])
            for f in ["sedghi_fft", "spectral_norm", "lanczos_top1"]
        ]
    elif peer == "skimage-wiener":
        import peer_scipy as module

        measured = module.measure_wiener()
        functions = ["spectral_wiener", "spectral_wiener_prepared"]
        rows = [
            ("wiener_512_psf9", f, criterion_median_ms("wiener_512_psf9", f),
             measured["wiener_512_psf9"])
            for f in functions
        ]
        print(f"peer: {measured['describe']}, restoration.wiener(image, psf, balance=0.01)\n")
        table(rows)
        return
    elif peer == "torch-upsample":
        import peer_torch as module

        measured = module.measure_upsample()
        rows = [
            (g, f, criterion_median_ms(g, f), measured[g])
            for g, functions in UPSAMPLE_GROUPS.items()
            for f in functions
        ]
    elif peer == "fft":
        import peer_scipy
        import peer_torch

        scipy_ms = peer_scipy.measure_fftconv()["fftconv_512_k31"]
        torch_ms = peer_torch.measure_fftconv()["fftconv_512_k31"]
        print(f"peers: {peer_scipy.describe()}; {peer_torch.describe()}\n")
        print("| case | convmat | median (ms) | SciPy fftconvolve (ms) | ratio | PyTorch conv2d (ms) | ratio |")
        print("|---|---|---:|---:|---:|---:|---:|")
        for f in FFT_FUNCTIONS:
            ours = criterion_median_ms("fftconv_512_k31", f)
            if ours is None:
                print(f"| fftconv_512_k31 | {f} | (not run) | {scipy_ms:.3f} | | {torch_ms:.3f} | |")
            else:
                print(f"| fftconv_512_k31 | {f} | {ours:.3f} | {scipy_ms:.3f} | {ours / scipy_ms:.3g} "
                      f"| {torch_ms:.3f} | {ours / torch_ms:.3g} |")
        return
    elif peer == "boundary":
        # no peer: what reflect padding costs convmat over its own zero padding
        print("reflect padding over zero padding, same layer (conv2d_reflect / conv2d_dl)\n")
        print("| formulation | zeros (ms) | reflect (ms) | cost |")
        print("|---|---:|---:|---:|")
        for f in CONV:
            z = criterion_median_ms("conv2d_dl_8x64x56_k3", f)
            r = criterion_median_ms("conv2d_reflect_8x64x56_k3", f)
            if z is None or r is None:
                print(f"| {f} | (not run) | | |")
            else:
                print(f"| {f} | {z:.3f} | {r:.3f} | {100 * (r / z - 1):+.1f} % |")
        return
    else:
        sys.exit(f"unknown peer {peer!r}: use scipy, scipy-deconv, skimage-wiener, torch, "
                 "torch-upsample, numpy-spectrum, fft or boundary")
    print(f"peer: {module.describe()}\n")
    table(rows)


if __name__ == "__main__":
    main()
