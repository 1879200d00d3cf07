"""SciPy peer timings for the cases of benches/sparse_matrix.rs, for
benches/deconv.rs SciPy's LSQR on the same deconvolution problem and
scikit-image's Wiener filter (`measure_wiener`), and for `fftconv_512_k31`
(benches/formulations.rs) `scipy.signal.fftconvolve`.

    python benches/peer_scipy.py

Same machine, same session as `cargo bench --bench sparse_matrix`; prints the median
of repeated runs in milliseconds for each case, under the criterion group names.
The matrix is the same as convmat's: one channel, 256×256, 5×5 kernel, padding 2,
rows = output positions, columns = input positions, taps in the padding not stored.
"""

import os

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import timeit

import numpy as np
import scipy
import scipy.sparse as sp

H = W = 256
K = 5
P = 2


def build_csr(w, dtype, index_dtype=None, H=H, W=W):
    """C from COO triplets computed with vectorised NumPy, then COO → CSR (a 'same'
    convolution: K×K kernel, padding P, H×W)."""
    oy, ox = np.meshgrid(np.arange(H), np.arange(W), indexing="ij")
    out = (oy * W + ox).ravel()
    rows, cols, vals = [], [], []
    for ky in range(K):
        for kx in range(K):
            iy = oy.ravel() + ky - P
            ix = ox.ravel() + kx - P
            ok = (iy >= 0) & (iy < H) & (ix >= 0) & (ix < W)
            rows.append(out[ok])
            cols.append((iy * W + ix)[ok])
            vals.append(np.full(int(ok.sum()), w[ky, kx], dtype=dtype))
    rows = np.concatenate(rows)
    cols = np.concatenate(cols)
    vals = np.concatenate(vals)
    return sp.coo_matrix((vals, (rows, cols)), shape=(H * W, H * W)).tocsr()


def gaussian5():
    """The normalised 5×5 Gaussian, σ = 1 (as benches/deconv.rs)."""
    r = np.arange(5) - 2.0
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / 2)
    return g / g.sum()


def image64():
    """benches/deconv.rs's test image."""
    r, c = np.meshgrid(np.arange(64.0), np.arange(64.0), indexing="ij")
    disc = np.where((r - 30) ** 2 + (c - 26) ** 2 < 200, 0.5, 0.0)
    return (0.25 + 0.25 * np.sin(r / 9) * np.cos(c / 7) + disc).ravel()


def measure_deconv(repeat=5):
    """lsqr_gauss5_64: SciPy's LSQR to atol = btol = 1e-10 — median ms, iterations,
    relative error of x."""
    import scipy.sparse.linalg as sla

    c = build_csr(gaussian5(), np.float64, H=64, W=64)
    x = image64()
    y = c @ x
    result = sla.lsqr(c, y, atol=1e-10, btol=1e-10)
    err = np.linalg.norm(result[0] - x) / np.linalg.norm(x)
    times = timeit.repeat(lambda: sla.lsqr(c, y, atol=1e-10, btol=1e-10), number=1, repeat=repeat)
    return {"lsqr_gauss5_64": 1e3 * float(np.median(times)), "itn": int(result[2]),
            "istop": int(result[1]), "relative_error": float(err)}


def gaussian9():
    """The normalised 9×9 Gaussian, σ = 2 (benches/deconv.rs's wiener_512_psf9)."""
    r = np.arange(9) - 4.0
    g = np.exp(-(r[:, None] ** 2 + r[None, :] ** 2) / 8)
    return g / g.sum()


def image512():
    """benches/deconv.rs's image512."""
    r, c = np.meshgrid(np.arange(512.0), np.arange(512.0), indexing="ij")
    disc = np.where((r - 240) ** 2 + (c - 208) ** 2 < 12800, 0.5, 0.0)
    return 0.25 + 0.25 * np.sin(r / 9) * np.cos(c / 7) + disc


def measure_wiener(repeat=31):
    """wiener_512_psf9: scikit-image's restoration.wiener(image, psf, balance=0.01) on
    512×512 f64 with a 9×9 PSF (periodic model, its default Laplacian regulariser) —
    median ms. Also its answer with an identity regulariser, which is convmat's Wiener
    filter with NSR = balance (returned for a check)."""
    import skimage
    from skimage import restoration

    image, psf = image512(), gaussian9()
    call = lambda: restoration.wiener(image, psf, 0.01)
    call()
    ms = median_ms(call, 1, repeat)
    delta = np.zeros_like(image)
    delta[0, 0] = 1.0
    identity = restoration.wiener(image, psf, 0.01, reg=delta, clip=False)
    return {"wiener_512_psf9": ms, "identity_regulariser": identity,
            "describe": f"scikit-image {skimage.__version__}, numpy {np.__version__}"}


def median_ms(fn, number, repeat=15):
    times = timeit.repeat(fn, number=number, repeat=repeat)
    return 1e3 * float(np.median(times)) / number


def measure():
    """Median milliseconds per case, keyed by criterion group name."""
    rng = np.random.default_rng(0)
    w64 = rng.uniform(-1, 1, (K, K))
    w32 = w64.astype(np.float32)
    c64 = build_csr(w64, np.float64)
    c32 = build_csr(w32, np.float32)
    assert c64.nnz == (256 * 5 - 6) ** 2, c64.nnz
    x64 = rng.uniform(-1, 1, H * W)
    x32 = x64.astype(np.float32)
    y64 = rng.uniform(-1, 1, H * W)
    ct = c64.T  # a CSC view: no copy

    cases = [
        ("build_C_256_k5/scipy_f64", lambda: build_csr(w64, np.float64), 3),
        ("build_C_256_k5/scipy_f32", lambda: build_csr(w32, np.float32), 3),
        ("spmv_C_256_k5_f64/scipy", lambda: c64 @ x64, 50),
        ("spmv_C_256_k5_f32/scipy", lambda: c32 @ x32, 50),
        ("spmvT_C_256_k5_f64/scipy", lambda: ct @ y64, 50),
    ]
    return {name: median_ms(fn, number) for name, fn, number in cases}


def measure_fftconv(repeat=15):
    """fftconv_512_k31: `scipy.signal.fftconvolve(x, w, mode="same")` in float32 on a
    512×512 image and a 31×31 kernel — median ms. (fftconvolve is a true convolution,
    F.conv2d a cross-correlation: the kernel flipped, the same work.)"""
    import scipy.signal

    rng = np.random.default_rng(0)
    x = rng.uniform(-1, 1, (512, 512)).astype(np.float32)
    w = rng.uniform(-1, 1, (31, 31)).astype(np.float32)
    y = scipy.signal.fftconvolve(x, w, mode="same")
    assert y.dtype == np.float32 and y.shape == (512, 512), (y.dtype, y.shape)
    return {"fftconv_512_k31": median_ms(lambda: scipy.signal.fftconvolve(x, w, mode="same"),
                                         20, repeat)}


def describe():
    return f"scipy {scipy.__version__}, numpy {np.__version__}"


if __name__ == "__main__":
    print(describe())
    for name, ms in measure().items():
        print(f"{name:32s} median {ms:9.3f} ms")
    print(measure_deconv())
    print(measure_fftconv())
