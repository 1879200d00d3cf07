"""conv_matrix and conv_transpose_matrix: PyTorch's Jacobians, SciPy's layout, no copy."""

import numpy as np
import pytest
import scipy.sparse as sp

import convmat
from convmat import _native
from conftest import cases, has, load, padding_of, tolerance


@pytest.mark.parametrize("case", cases("matrix"), ids=lambda c: c["name"])
def test_conv_matrix_is_the_jacobian_of_pytorchs_conv(case):
    name = case["name"]
    w, dense = load(name, "w"), load(name, "dense")
    C = convmat.conv_matrix(w, tuple(case["input_size"]), stride=tuple(case["stride"]),
                            padding=padding_of(case), dilation=tuple(case["dilation"]),
                            groups=case["groups"])
    assert isinstance(C, sp.csr_array)
    assert C.shape == dense.shape and C.dtype == np.float64
    np.testing.assert_array_equal(C.toarray(), dense)
    # no stored zeros: exactly the Jacobian's structure
    assert C.nnz == np.count_nonzero(dense)


@pytest.mark.parametrize("case", cases("conv_transpose"), ids=lambda c: c["name"])
def test_conv_transpose_matrix_applies_pytorchs_transposed_convolution(case):
    name = case["name"]
    y, w, want = load(name, "x"), load(name, "w"), load(name, "y")
    b = load(name, "b") if has(name, "b") else 0
    rank = w.ndim - 2
    batched = y.ndim == rank + 2
    items = y if batched else y[None]
    T = convmat.conv_transpose_matrix(w, items.shape[2:], stride=tuple(case["stride"]),
                                      padding=padding_of(case),
                                      output_padding=tuple(case["output_padding"]),
                                      dilation=tuple(case["dilation"]), groups=case["groups"])
    assert T.dtype == w.dtype
    outs = want if batched else want[None]
    bias = np.reshape(b, (-1,) + (1,) * rank) if np.ndim(b) else 0
    for item, out in zip(items, outs):
        got = (T @ item.ravel()).reshape(out.shape) + bias
        np.testing.assert_allclose(got, out, **tolerance(w.dtype))


def test_the_transposed_layers_matrix_is_the_forward_matrix_transposed(rng):
    w = rng.standard_normal((4, 3, 3, 2))
    C = convmat.conv_matrix(w, (7, 6), stride=2, padding=1)
    # the transposed convolution with the same weight maps C's outputs back
    out = convmat.conv(np.zeros((3, 7, 6)), w, stride=2, padding=1).shape[1:]
    assert out == (4, 4)
    T = convmat.conv_transpose_matrix(w, out, stride=2, padding=1)
    assert T.shape == C.T.shape
    np.testing.assert_array_equal(T.toarray(), C.T.toarray())


def test_the_arrays_are_handed_to_scipy_without_a_copy():
    parts = _native.conv_matrix_parts(np.ones((2, 1, 3, 3), np.float32), (5, 5), padding=1)
    data, indices, indptr, shape = parts
    C = convmat._csr(parts)
    assert np.shares_memory(C.data, data)
    assert np.shares_memory(C.indices, indices)
    assert np.shares_memory(C.indptr, indptr)
    assert C.indices.dtype == np.int32 and C.data.dtype == np.float32
    assert shape == (50, 25)


def test_float32_stays_float32_and_float64_float64():
    for dt in (np.float32, np.float64):
        C = convmat.conv_matrix(np.ones((1, 1, 3), dt), (8,))
        assert C.dtype == dt
        assert convmat.conv(np.ones((1, 8), dt), np.ones((1, 1, 3), dt)).dtype == dt
