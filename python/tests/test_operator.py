"""operator(): a SciPy LinearOperator on convmat's matrix-free kernels."""

import numpy as np
import pytest
from scipy.sparse.linalg import LinearOperator, lsqr

import convmat


@pytest.mark.parametrize("mode", ["zeros", "reflect", "circular", "symmetric"])
def test_matvec_and_rmatvec_are_the_matrix_and_its_transpose(rng, mode):
    w = rng.standard_normal((3, 2, 3, 3))
    A = convmat.operator(w, (9, 8), stride=(2, 1), padding=1, padding_mode=mode)
    C = convmat.conv_matrix(w, (9, 8), stride=(2, 1), padding=1, padding_mode=mode)
    assert isinstance(A, LinearOperator) and A.shape == C.shape
    x, y = rng.standard_normal(C.shape[1]), rng.standard_normal(C.shape[0])
    np.testing.assert_allclose(A @ x, C @ x, rtol=1e-12, atol=1e-12)
    np.testing.assert_allclose(A.rmatvec(y), C.T @ y, rtol=1e-12, atol=1e-12)


def test_the_transposed_layers_operator_is_its_matrix(rng):
    w = rng.standard_normal((2, 3, 4, 4)).astype(np.float32)
    A = convmat.operator(w, (5, 5), stride=2, padding=1, transposed=True)
    T = convmat.conv_transpose_matrix(w, (5, 5), stride=2, padding=1)
    assert A.shape == T.shape and A.dtype == np.float32
    y = rng.standard_normal(T.shape[1]).astype(np.float32)
    x = rng.standard_normal(T.shape[0]).astype(np.float32)
    np.testing.assert_allclose(A @ y, T @ y, rtol=1e-5, atol=1e-5)
    np.testing.assert_allclose(A.rmatvec(x), T.T @ x, rtol=1e-5, atol=1e-5)


def test_scipys_lsqr_on_the_operator_matches_lsqr_on_the_explicit_matrix(rng):
    # a well-conditioned blur (a strong centre): both runs converge far below the
    # tolerance compared
    w = 0.05 * rng.standard_normal((1, 1, 5, 5))
    w[0, 0, 2, 2] += 1.0
    A = convmat.operator(w, (16, 16), padding=2)
    C = convmat.conv_matrix(w, (16, 16), padding=2)
    b = C @ rng.standard_normal(256) + 1e-3 * rng.standard_normal(256)
    got = lsqr(A, b, damp=1e-2, atol=1e-10, btol=1e-10, iter_lim=500)
    want = lsqr(C, b, damp=1e-2, atol=1e-10, btol=1e-10, iter_lim=500)
    assert got[1] == want[1]  # the same stop
    np.testing.assert_allclose(got[0], want[0], rtol=1e-8, atol=1e-10)


def test_a_vector_of_the_wrong_length_is_refused():
    A = convmat.operator(np.ones((1, 1, 3)), (10,))
    with pytest.raises(ValueError, match="8 elements|10"):
        A._matvec(np.ones(7))


def test_scipys_lsqr_on_the_operator_equals_convmats_lsqr(rng):
    w = 0.05 * rng.standard_normal((1, 1, 5, 5))
    w[0, 0, 2, 2] += 1.0
    x = rng.standard_normal((1, 1, 16, 16))
    y = convmat.conv(x, w, padding=2) + 1e-3 * rng.standard_normal((1, 1, 16, 16))
    A = convmat.operator(w, (16, 16), padding=2)
    scipy_x, istop, itn = lsqr(A, y.ravel(), damp=1e-2, atol=1e-10, btol=1e-10)[:3]
    ours, info = convmat.deconv(y, w, (16, 16), padding=2, solver="lsqr", damp=1e-2,
                                atol=1e-10, btol=1e-10)
    item = info["items"][0]
    assert item["istop"] == istop and abs(item["iterations"] - itn) <= 1
    np.testing.assert_allclose(ours.ravel(), scipy_x, rtol=1e-8, atol=1e-10)
