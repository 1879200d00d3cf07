"""deconv(): the command line's solvers and diagnostics, against SciPy on the same C."""

import numpy as np
import pytest
from scipy.sparse.linalg import lsqr

import convmat


@pytest.fixture
def blur(rng):
    w = np.exp(-0.5 * ((np.arange(5) - 2) / 1.2) ** 2)
    w = np.outer(w, w)[None, None] / np.outer(w, w).sum()
    x = rng.random((1, 1, 16, 16))
    y = convmat.conv(x, w, padding=2) + 1e-3 * rng.standard_normal((1, 1, 16, 16))
    return w, x, y


def test_lsqr_equals_scipys_lsqr_on_the_same_matrix(blur):
    w, x, y = blur
    got, info = convmat.deconv(y, w, (16, 16), padding=2, solver="lsqr", damp=0.05,
                               atol=1e-10, btol=1e-10)
    C = convmat.conv_matrix(w, (16, 16), padding=2)
    want = lsqr(C, y.ravel(), damp=0.05, atol=1e-10, btol=1e-10)
    assert got.shape == x.shape and got.dtype == np.float64
    np.testing.assert_allclose(got.ravel(), want[0], rtol=1e-6, atol=1e-8)
    item = info["items"][0]
    assert item["istop"] == want[1]
    # the same recurrence: the count differs by rounding near the tolerance only
    assert abs(item["iterations"] - want[2]) <= max(2, 0.05 * want[2])
    np.testing.assert_allclose(item["residual_norm"], np.linalg.norm(C @ got.ravel() - y.ravel()),
                               rtol=1e-6)


def test_cholesky_solves_the_damped_normal_equations(blur):
    w, x, y = blur
    lam = 0.05
    got, info = convmat.deconv(y, w, (16, 16), padding=2, solver="cholesky", damp=lam)
    C = convmat.conv_matrix(w, (16, 16), padding=2).toarray()
    want = np.linalg.solve(C.T @ C + lam**2 * np.eye(256), C.T @ y.ravel())
    np.testing.assert_allclose(got.ravel(), want, rtol=1e-9, atol=1e-10)
    assert info["solver"] == "cholesky"


def test_spectral_tikhonov_by_gcv_reports_its_choice(rng):
    w = np.full((1, 1, 3, 3), 1 / 9)
    x = rng.random((2, 1, 32, 32))  # a batch of two
    y = convmat.conv(x, w, padding=1, padding_mode="circular")
    y += 1e-2 * rng.standard_normal(y.shape)
    got, info = convmat.deconv(y, w, (32, 32), padding=1, padding_mode="circular",
                               solver="spectral", filter="tikhonov", reg_param="gcv", truth=x)
    assert got.shape == x.shape and len(info["items"]) == 2
    for item, xi, yi, gi in zip(info["items"], x, y, got):
        reg = item["regularization"]
        assert reg["criterion"] == "gcv" and reg["value"] > 0 and len(reg["curve"]) > 10
        # PSNR against the truth's range, as the library reports it: the estimate
        # is closer to the truth than the observation was
        peak = xi.max() - xi.min()
        observed = 10 * np.log10(peak**2 / np.mean((yi - xi) ** 2))
        np.testing.assert_allclose(
            item["psnr_db"], 10 * np.log10(peak**2 / np.mean((gi - xi) ** 2)), rtol=1e-9)
        assert item["psnr_db"] > observed


def test_float32_is_solved_in_float32(blur):
    w, x, y = blur
    got, _ = convmat.deconv(y.astype(np.float32), w.astype(np.float32), (16, 16), padding=2,
                            solver="cgls", max_iter=20)
    assert got.dtype == np.float32


def test_options_the_solver_does_not_take_and_unknown_names_are_refused(blur):
    w, _, y = blur
    with pytest.raises(ValueError, match='damp does not apply to solver "pinv"'):
        convmat.deconv(y, w, (16, 16), padding=2, solver="pinv", damp=0.1)
    with pytest.raises(ValueError, match='solver="gmres"'):
        convmat.deconv(y, w, (16, 16), padding=2, solver="gmres")
    with pytest.raises(TypeError, match='unexpected keyword argument "dampp"'):
        convmat.deconv(y, w, (16, 16), padding=2, dampp=0.1)
    with pytest.raises(ValueError):
        convmat.deconv(y, w, (17, 16), padding=2)  # y is not this layer's output
    with pytest.raises(ValueError):
        # the spectral solver needs a boundary the FFT or DCT diagonalises
        convmat.deconv(y, w, (16, 16), padding=2, solver="spectral")


class Stop(Exception):
    pass


def test_a_long_solve_stops_at_ctrl_c():
    import os
    import signal
    import threading
    import time

    rng = np.random.default_rng(3)
    w = np.ones((1, 1, 9, 9)) / 81
    y = rng.random((1, 1, 512, 512))

    def handler(signum, frame):
        raise Stop

    previous = signal.signal(signal.SIGINT, handler)
    try:
        timer = threading.Timer(0.3, lambda: os.kill(os.getpid(), signal.SIGINT))
        start = time.perf_counter()
        timer.start()
        # left alone this runs for minutes: 10⁶ iterations, no tolerance reached
        with pytest.raises(Stop):
            convmat.deconv(y, w, (512, 512), padding=4, solver="lsqr", atol=1e-300,
                           btol=1e-300, conlim=1e300, max_iter=10**6)
        elapsed = time.perf_counter() - start
        timer.join()
    finally:
        signal.signal(signal.SIGINT, previous)
    assert elapsed < 5, f"stopped after {elapsed:.1f} s"
