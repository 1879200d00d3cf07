"""The up-samplers', max-unpooling's and padding's matrices and operators, and the
exact spectra, against the repository's fixtures (PyTorch's Jacobians, NumPy's SVD)."""

import json
import os

import numpy as np
import pytest
from scipy.sparse.linalg import LinearOperator

import convmat
from conftest import FIXTURES


def fixture_cases(file, key, value):
    with open(os.path.join(FIXTURES, file)) as f:
        d = json.load(f)
    cs = d["cases"] if isinstance(d, dict) else d
    return [c for c in cs if value is None or c.get(key) == value]


def part(folder, name, what):
    return np.load(os.path.join(FIXTURES, folder, f"{name}_{what}.npy"))


def tuple_or_none(v):
    return None if v is None else tuple(v)


@pytest.mark.parametrize("case", fixture_cases("upsample_cases.json", "op", "matrix"),
                         ids=lambda c: c["name"])
def test_upsample_matrix_is_pytorchs_jacobian_and_the_operator_applies_it(case, rng):
    args = dict(size=tuple_or_none(case["size"]),
                scale_factor=tuple_or_none(case["scale_factor"]),
                align_corners=case["align_corners"])
    U = convmat.upsample_matrix(case["mode"], tuple(case["input_size"]), **args)
    dense = part("upsample", case["name"], "dense")
    np.testing.assert_allclose(U.toarray(), dense, rtol=1e-12, atol=1e-14)
    A = convmat.upsample_operator(case["mode"], tuple(case["input_size"]), **args)
    assert isinstance(A, LinearOperator) and A.shape == U.shape
    x, y = rng.standard_normal(U.shape[1]), rng.standard_normal(U.shape[0])
    np.testing.assert_allclose(A @ x, U @ x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(A.rmatvec(y), U.T @ y, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("case", fixture_cases("pad_cases.json", "kind", "matrix"),
                         ids=lambda c: c["name"])
def test_pad_matrix_is_pytorchs_jacobian(case):
    P = convmat.pad_matrix(case["shape"], case["pad"], mode=case["mode"])
    np.testing.assert_array_equal(P.toarray(), part("pad", case["name"], "dense"))


@pytest.mark.parametrize("case", fixture_cases("upsample_cases.json", "op", "max_unpool"),
                         ids=lambda c: c["name"])
def test_max_unpool_matrix_and_operator_apply_pytorchs_unpooling(case):
    name = case["name"]
    values, indices = part("upsample", name, "values"), part("upsample", name, "indices")
    out = part("upsample", name, "out")
    args = dict(stride=tuple(case["stride"]) or None, padding=tuple(case["padding"]),
                output_size=tuple_or_none(case["output_size"]))
    kernel = tuple(case["kernel"])
    U = convmat.max_unpool_matrix(indices, kernel, **args)
    np.testing.assert_array_equal(U @ values.ravel(), out.ravel())
    A = convmat.max_unpool_operator(indices, kernel, **args)
    np.testing.assert_array_equal(A @ values.ravel(), out.ravel())
    np.testing.assert_array_equal(A.rmatvec(out.ravel()), U.T @ out.ravel())


@pytest.mark.parametrize("case", fixture_cases("spectrum_cases.json", "name", None),
                         ids=lambda c: c["name"])
def test_spectrum_equals_numpys_svd_of_the_dense_matrix(case):
    name = case["name"]
    w, want = part("spectrum", name, "w"), part("spectrum", name, "s")
    pad = case["padding"] if isinstance(case["padding"], str) else tuple(case["padding"])
    s, info = convmat.spectrum(w, tuple(case["input_size"]), stride=tuple(case["stride"]),
                               padding=pad, dilation=tuple(case["dilation"]),
                               groups=case["groups"], padding_mode=case["padding_mode"],
                               top=case["top"])
    assert info["method"] == case["method"]
    assert len(s) == (case["top"] or len(want))
    assert np.all(np.diff(s) <= 0)
    top = want[0]
    np.testing.assert_allclose(s, want[: len(s)], rtol=0, atol=1e-8 * top)
    np.testing.assert_allclose(info["sigma_max"], case["sigma_max"], rtol=1e-8)


def test_from_torch_reads_upsample_and_max_unpool_layers():
    from types import SimpleNamespace

    up = SimpleNamespace(mode="bilinear", size=None, scale_factor=(2.0, 2.0),
                         align_corners=True)
    U = convmat.from_torch(up, (3, 4), channels=2)
    want = convmat.upsample_matrix("bilinear", (3, 4), scale_factor=(2.0, 2.0),
                                   align_corners=True, channels=2)
    assert (U != want).nnz == 0
    x = np.arange(24.0)
    np.testing.assert_allclose(convmat.from_torch(up, (3, 4), channels=2, matrix_free=True) @ x,
                               want @ x)
    v, i = convmat.max_pool(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    unpool = SimpleNamespace(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0))
    M = convmat.from_torch(unpool, (2, 2), indices=i)
    np.testing.assert_array_equal(M @ v.ravel(), convmat.max_unpool(v, i, 2).ravel())
    with pytest.raises(ValueError, match="indices"):
        convmat.from_torch(unpool, (2, 2))


def test_the_up_samplers_matrices_are_handed_over_without_a_copy():
    from convmat import _native

    for parts in (_native.upsample_matrix_parts("bilinear", (3, 3), scale_factor=2.0),
                  _native.pad_matrix_parts([2, 3], [1, 1], mode="reflect")):
        U = convmat._csr(parts)
        for got, handed in zip((U.data, U.indices, U.indptr), parts[:3]):
            assert np.shares_memory(got, handed)
