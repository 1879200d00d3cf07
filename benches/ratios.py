"""Ratios of convmat's criterion medians to SciPy's, measured now on this machine.

    cargo bench --bench sparse_matrix && python benches/ratios.py

Reads the medians criterion saved under target/criterion/<group>/<function>/new/,
times SciPy on the same cases (benches/peer_scipy.py), and prints a Markdown table:
ratio = convmat time / SciPy time (below 1 means convmat is faster).
"""

import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import peer_scipy  # noqa: E402

CRITERION = os.path.join(HERE, "..", "target", "criterion")

# convmat function compared with the SciPy case of the same group
PAIRS = [
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


def criterion_median_ms(group, function):
    path = os.path.join(CRITERION, group, function, "new", "estimates.json")
    with open(path) as f:
        return json.load(f)["median"]["point_estimate"] / 1e6


def main():
    scipy_ms = peer_scipy.measure()
    print(f"peer: {peer_scipy.describe()}\n")
    print("| case | convmat | median (ms) | SciPy (ms) | ratio |")
    print("|---|---|---:|---:|---:|")
    for group, function, peer in PAIRS:
        ours = criterion_median_ms(group, function)
        theirs = scipy_ms[f"{group}/{peer}"]
        print(f"| {group} | {function} | {ours:.3f} | {theirs:.3f} | {ours / theirs:.3f} |")


if __name__ == "__main__":
    main()
