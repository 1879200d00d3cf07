"""The Python package against SciPy and against convmat's own Rust benches
(issue 13's speed targets), same machine, same session:

    cargo bench --bench sparse_matrix -- 'build_C_256_k5|spmv_C_256_k5_f64'
    pip install ./python && python benches/peer_python.py

- `build_C_256_k5`: `convmat.conv_matrix` called from Python (one channel, 256×256,
  5×5, padding 2, float64, a SciPy csr_array at the end) against SciPy's COO → CSR
  build of the same matrix (`peer_scipy.build_csr`): target ≥ 20× faster.
- `spmv_C_256_k5_f64`: `convmat.operator(...)`'s matvec through SciPy's
  LinearOperator, and the native operator's matvec alone, against the Rust bench's
  `direct` (the same direct loops, no Python): the overhead, target ≤ 10 %.

Prints medians (ms) and ratios; one thread (RAYON_NUM_THREADS=1 unless set).
"""

import json
import os
import sys

os.environ.setdefault("RAYON_NUM_THREADS", "1")
os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import timeit

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import convmat  # noqa: E402
from convmat import _native  # noqa: E402
from peer_scipy import build_csr  # noqa: E402

CRITERION = os.path.join(
    os.environ.get("CARGO_TARGET_DIR", os.path.join(HERE, "..", "target")), "criterion")


def median_ms(fn, number, repeat=15):
    return 1e3 * float(np.median(timeit.repeat(fn, number=number, repeat=repeat))) / number


def criterion_ms(group, function):
    path = os.path.join(CRITERION, group, function, "new", "estimates.json")
    try:
        with open(path) as f:
            return json.load(f)["median"]["point_estimate"] / 1e6
    except OSError:
        return None


def main():
    rng = np.random.default_rng(1)
    w = rng.uniform(-1, 1, (1, 1, 5, 5))
    x = rng.uniform(-1, 1, 256 * 256)
    rows = []

    # the same matrix both ways
    ours = convmat.conv_matrix(w, (256, 256), padding=2)
    theirs = build_csr(w[0, 0], np.float64)
    assert (ours != theirs).nnz == 0, "the two builds differ"
    t_ours = median_ms(lambda: convmat.conv_matrix(w, (256, 256), padding=2), 5)
    t_scipy = median_ms(lambda: build_csr(w[0, 0], np.float64), 3)
    rust = criterion_ms("build_C_256_k5", "csr_f64_u32")
    rows.append(("build_C_256_k5", "convmat.conv_matrix (Python)", t_ours,
                 f"SciPy COO→CSR {t_scipy:.3f} ms: {t_scipy / t_ours:.1f}× faster",
                 f"Rust csr_f64_u32 {rust:.3f} ms" if rust else "Rust bench not run"))

    A = convmat.operator(w, (256, 256), padding=2)
    native = _native.conv_operator(w, (256, 256), padding=2)
    np.testing.assert_allclose(A @ x, ours @ x, rtol=1e-12, atol=1e-12)
    t_linop = median_ms(lambda: A.matvec(x), 50)
    t_native = median_ms(lambda: native.matvec(x), 50)
    rust = criterion_ms("spmv_C_256_k5_f64", "direct")
    for what, t in [("operator().matvec (LinearOperator)", t_linop),
                    ("_native.conv_operator().matvec", t_native)]:
        rows.append(("spmv_C_256_k5_f64", what, t,
                     f"Rust direct {rust:.3f} ms: overhead {100 * (t / rust - 1):+.1f} %"
                     if rust else "Rust bench not run", ""))

    print("| case | what | median (ms) | against | |")
    print("|---|---|---:|---|---|")
    for case, what, t, against, extra in rows:
        print(f"| {case} | {what} | {t:.3f} | {against} | {extra} |")


if __name__ == "__main__":
    main()
