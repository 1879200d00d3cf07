"""conv and conv_transpose equal PyTorch's F.conv*d / F.conv_transpose*d on the
repository's fixtures, by every formulation that computes the case."""

import numpy as np
import pytest

import convmat
from conftest import cases, has, load, padding_of, tolerance

CONV_METHODS = ["auto", "direct", "im2col", "phase", "fft", "sparse"]
TRANSPOSE_METHODS = ["auto", "scatter", "col2im", "phase", "zero-insert", "fft", "sparse"]


@pytest.mark.parametrize("case", cases("conv"), ids=lambda c: c["name"])
@pytest.mark.parametrize("method", CONV_METHODS)
def test_conv_equals_pytorch(case, method):
    name = case["name"]
    x, w, want = load(name, "x"), load(name, "w"), load(name, "y")
    b = load(name, "b") if has(name, "b") else None
    got = convmat.conv(x, w, b, stride=tuple(case["stride"]), padding=padding_of(case),
                       dilation=tuple(case["dilation"]), groups=case["groups"], method=method)
    assert got.dtype == x.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, **tolerance(x.dtype))


@pytest.mark.parametrize("case", cases("conv_transpose"), ids=lambda c: c["name"])
@pytest.mark.parametrize("method", TRANSPOSE_METHODS)
def test_conv_transpose_equals_pytorch(case, method):
    name = case["name"]
    y, w, want = load(name, "x"), load(name, "w"), load(name, "y")
    b = load(name, "b") if has(name, "b") else None
    got = convmat.conv_transpose(y, w, b, stride=tuple(case["stride"]),
                                 padding=padding_of(case),
                                 output_padding=tuple(case["output_padding"]),
                                 groups=case["groups"], dilation=tuple(case["dilation"]),
                                 method=method)
    assert got.dtype == y.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, **tolerance(y.dtype))


def test_winograd_on_a_3x3_layer_is_within_float32_rounding(rng):
    x = rng.standard_normal((2, 8, 12, 12)).astype(np.float32)
    w = rng.standard_normal((8, 8, 3, 3)).astype(np.float32)
    exact = convmat.conv(x.astype(np.float64), w.astype(np.float64), padding=1, method="direct")
    got = convmat.conv(x, w, padding=1, method="winograd")
    assert got.dtype == np.float32
    np.testing.assert_allclose(got, exact, rtol=1e-3, atol=1e-4)


@pytest.mark.parametrize("case", [c for c in cases("conv_transpose") if "k4s2" in c["name"]],
                         ids=lambda c: c["name"])
def test_the_transposed_winograd_equals_pytorch_on_the_decoder_layers(case):
    name = case["name"]
    y, w, want = load(name, "x"), load(name, "w"), load(name, "y")
    b = load(name, "b") if has(name, "b") else None
    got = convmat.conv_transpose(y, w, b, stride=tuple(case["stride"]), padding=padding_of(case),
                                 output_padding=tuple(case["output_padding"]),
                                 groups=case["groups"], method="winograd")
    assert got.dtype == y.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, **tolerance(y.dtype))


def test_every_padding_mode_is_its_matrix_and_the_operators_adjoint_its_transpose(rng):
    x = rng.standard_normal((1, 2, 6, 7))
    w = rng.standard_normal((3, 2, 3, 3))
    for mode in ["zeros", "reflect", "replicate", "circular", "symmetric"]:
        y = convmat.conv(x, w, padding=1, padding_mode=mode)
        C = convmat.conv_matrix(w, (6, 7), padding=1, padding_mode=mode)
        np.testing.assert_allclose(C @ x.ravel(), y.ravel(), rtol=1e-12, atol=1e-12)
        v = rng.standard_normal(C.shape[0])
        A = convmat.operator(w, (6, 7), padding=1, padding_mode=mode)
        np.testing.assert_allclose(A.rmatvec(v), C.T @ v, rtol=1e-12, atol=1e-12)
