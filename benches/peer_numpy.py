"""NumPy peer timings for benches/spectrum.rs: all singular values of a 64→64 3×3
convolution with circular padding on 32×32 by Sedghi, Gupta & Long's recipe — the
2-D FFT of the kernel zero-padded to the input size, then the SVD (no vectors) of
every frequency's 64×64 matrix, batched:

    np.linalg.svd(np.fft.fft2(w, (32, 32), axes=(2, 3)).transpose(2, 3, 0, 1),
                  compute_uv=False)

    python benches/peer_numpy.py

Same machine, same session as `cargo bench --bench spectrum`, one thread
(OPENBLAS/OMP/MKL_NUM_THREADS=1); prints the median of repeated runs in
milliseconds under the criterion group's name, and checks that NumPy's values
equal convmat's recipe on the same weights (benches/common: the multiplicative hash).
"""

import os

for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(var, "1")

import json
import sys
import timeit

import numpy as np

from machine import cpu_model


def values(n, salt):
    """benches/common/mod.rs `values::<f64>(n, salt)`."""
    i = np.arange(n, dtype=np.int64)
    return ((i * 2654435761 + salt) % 1000) / 500.0 - 1.0


def weight():
    return values(64 * 64 * 9, 7).reshape(64, 64, 3, 3)


def sedghi(w, size=(32, 32)):
    symbols = np.fft.fft2(w, size, axes=(2, 3)).transpose(2, 3, 0, 1)
    return np.linalg.svd(symbols, compute_uv=False)


def measure(repeat=7):
    w = weight()
    s = np.sort(sedghi(w).ravel())[::-1]
    times = timeit.repeat(lambda: sedghi(w), number=1, repeat=repeat)
    return {"spectrum_64ch_k3_32": {"numpy_sedghi": 1e3 * float(np.median(times))},
            "sigma_max": float(s[0]), "count": int(s.size)}


def describe():
    cpu = cpu_model()
    blas = np.show_config(mode="dicts").get("Build Dependencies", {}).get("lapack", {})
    return f"numpy {np.__version__} ({blas.get('name', '?')} {blas.get('version', '')}), {cpu}, one thread"


if __name__ == "__main__":
    print(describe())
    json.dump(measure(), sys.stdout, indent=1)
    print()
