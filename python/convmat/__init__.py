"""convmat: the matrix view of convolution, from Python.

The explicit sparse matrix C of a convolution layer as a SciPy sparse array, and
the layer's forward and transposed operations on NumPy arrays with PyTorch's
argument names and semantics — the same Rust library the ``convmat`` command
line runs.

>>> import numpy as np, convmat
>>> w = np.ones((1, 1, 3, 3))
>>> C = convmat.conv_matrix(w, (4, 4))
>>> C.shape, C.nnz
((4, 16), 36)
>>> x = np.arange(16.0).reshape(1, 1, 4, 4)
>>> bool(np.allclose(C @ x.ravel(), convmat.conv(x, w).ravel()))
True

Arrays keep their dtype (float32 or float64). Bad shapes and arguments raise
``ValueError`` (a dtype that is not a float: ``TypeError``), a result past the
memory budget ``MemoryError``, each with the library's message.
"""

from __future__ import annotations

import json as _json

import numpy as _np
import scipy.sparse as _sp
import scipy.sparse.linalg as _spla

from . import _native

__all__ = [
    "conv",
    "conv_transpose",
    "conv_matrix",
    "conv_transpose_matrix",
    "operator",
    "from_torch",
    "interpolate",
    "max_pool",
    "max_unpool",
    "pad",
    "unfold",
    "fold",
    "deconv",
    "upsample_matrix",
    "max_unpool_matrix",
    "pad_matrix",
    "spectrum",
    "analyze",
    "upsample_operator",
    "max_unpool_operator",
    "simd_level",
]


def conv(input, weight, bias=None, stride=1, padding=0, dilation=1, groups=1,
         padding_mode="zeros", method="auto"):
    """``F.conv1d/2d/3d`` (rank from the weight), with ``nn.Conv*d``'s
    ``padding_mode`` (``zeros``, ``reflect``, ``replicate``, ``circular``, and
    NumPy's ``symmetric``).

    ``input`` is ``(N, C_in, *size)`` or unbatched ``(C_in, *size)``; ``weight``
    ``(C_out, C_in/groups, *k)``; ``padding`` an int, a tuple or ``"same"`` /
    ``"valid"``. ``method`` picks the formulation: ``auto``, ``direct``,
    ``im2col``, ``phase``, ``winograd``, ``fft`` or ``sparse``.

    >>> import numpy as np, convmat
    >>> x = np.ones((1, 1, 5, 5), np.float32)
    >>> convmat.conv(x, np.ones((1, 1, 3, 3), np.float32), padding=1)[0, 0, 0]
    array([4., 6., 6., 6., 4.], dtype=float32)
    """
    return _native.conv(_np.asarray(input), _np.asarray(weight),
                        None if bias is None else _np.asarray(bias),
                        stride=stride, padding=padding, dilation=dilation, groups=groups,
                        padding_mode=padding_mode, method=method)


def conv_transpose(input, weight, bias=None, stride=1, padding=0, output_padding=0,
                   groups=1, dilation=1, method="auto"):
    """``F.conv_transpose1d/2d/3d``: the adjoint of ``conv`` (plus a bias), weight
    ``(C_in, C_out/groups, *k)``. ``method``: ``auto``, ``scatter``, ``col2im``,
    ``phase``, ``winograd`` (2-D 4×4 kernels with stride 2: F(4, 2) along rows,
    not exact on integers), ``zero-insert``, ``fft`` or ``sparse``.

    >>> import numpy as np, convmat
    >>> y = np.ones((1, 1, 2, 2))
    >>> convmat.conv_transpose(y, np.ones((1, 1, 3, 3)), stride=2)[0, 0, 2]
    array([2., 2., 4., 2., 2.])
    """
    return _native.conv_transpose(_np.asarray(input), _np.asarray(weight),
                                  None if bias is None else _np.asarray(bias),
                                  stride=stride, padding=padding,
                                  output_padding=output_padding, groups=groups,
                                  dilation=dilation, method=method)


def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None,
                recompute_scale_factor=None):
    """``F.interpolate`` (``nearest``, ``nearest-exact``, ``linear``, ``bilinear``,
    ``trilinear``, ``bicubic``, ``area``), and the unpoolings ``nearest-unpool``
    and ``bed-of-nails`` (whole-number factors).

    >>> import numpy as np, convmat
    >>> x = np.array([[[1.0, 2.0]]])
    >>> convmat.interpolate(x, scale_factor=2, mode="linear", align_corners=True)
    array([[[1.        , 1.33333333, 1.66666667, 2.        ]]])
    """
    return _native.interpolate(_np.asarray(input), size=size, scale_factor=scale_factor,
                               mode=mode, align_corners=align_corners,
                               recompute_scale_factor=recompute_scale_factor)


def max_pool(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False):
    """``F.max_pool1d/2d/3d(..., return_indices=True)``: ``(values, indices)``, the
    indices int64 into each input plane (PyTorch's). The rank is the kernel's: a
    tuple's length, or for an int the input's dimensions less two (a batch
    ``(N, C, *size)``; give a tuple for an unbatched input).

    >>> import numpy as np, convmat
    >>> v, i = convmat.max_pool(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    >>> v.ravel(), i.ravel()
    (array([ 5.,  7., 13., 15.]), array([ 5,  7, 13, 15]))
    """
    input = _np.asarray(input)
    return _native.max_pool(input, _kernel(kernel_size, input.ndim - 2), stride=stride,
                            padding=padding, dilation=dilation, ceil_mode=ceil_mode)


def max_unpool(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """``F.max_unpool1d/2d/3d``: each value back at its pooled position, zeros
    elsewhere (an int ``kernel_size`` read as in ``max_pool``).

    >>> import numpy as np, convmat
    >>> x = np.arange(16.0).reshape(1, 1, 4, 4)
    >>> v, i = convmat.max_pool(x, 2)
    >>> convmat.max_unpool(v, i, 2)[0, 0, 1]
    array([0., 5., 0., 7.])
    """
    input = _np.asarray(input)
    return _native.max_unpool(input, _np.asarray(indices, dtype=_np.int64),
                              _kernel(kernel_size, input.ndim - 2), stride=stride,
                              padding=padding, output_size=output_size)


def pad(input, pad, mode="constant", value=0.0):
    """``F.pad``: ``pad`` from the last dimension backwards, negative values crop;
    ``mode`` ``constant``, ``reflect``, ``replicate``, ``circular`` or NumPy's
    ``symmetric``.

    >>> import numpy as np, convmat
    >>> convmat.pad(np.array([[[1.0, 2.0, 3.0]]]), (2, 1), mode="reflect")
    array([[[3., 2., 1., 2., 3., 2.]]])
    """
    return _native.pad(_np.asarray(input), [int(p) for p in pad], mode=mode, value=value)


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """``F.unfold``: the patch matrix, ``(N, C·∏k, L)``.

    >>> import numpy as np, convmat
    >>> convmat.unfold(np.arange(9.0).reshape(1, 1, 3, 3), 2).shape
    (1, 4, 4)
    """
    return _native.unfold(_np.asarray(input), _kernel(kernel_size, 2), dilation=dilation,
                          padding=padding, stride=stride)


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """``F.fold``: the adjoint of ``unfold`` (overlapping patches summed).

    >>> import numpy as np, convmat
    >>> convmat.fold(np.ones((1, 4, 4)), (3, 3), 2)[0, 0]
    array([[1., 2., 1.],
           [2., 4., 2.],
           [1., 2., 1.]])
    """
    return _native.fold(_np.asarray(input), _kernel(output_size, 2), _kernel(kernel_size, 2),
                        dilation=dilation, padding=padding, stride=stride)


def deconv(observed, weight, input_size, solver="lsqr", stride=1, padding=0, dilation=1,
           groups=1, padding_mode="zeros", operator="auto", truth=None, **options):
    """Recovers the input ``x`` of a convolution from its output ``observed``:
    ``(x, info)``, by the command line's solvers (``lsqr``, ``lsmr``, ``cgls``,
    ``cholesky``, ``pinv``, ``richardson-lucy``, ``spectral``) and their options
    (``damp``, ``atol``, ``btol``, ``conlim``, ``max_iter``, ``tol``,
    ``clip_negative``, ``filter``, ``reg_param`` — a number or ``"gcv"``,
    ``"discrepancy"``, ``"lcurve"`` —, ``nsr``, ``keep``, ``noise_std``). ``info`` is
    the command line's ``deconv --json`` as a dict: per item the stop reason,
    iterations, residual norms, the chosen regularisation parameter with its curve,
    and with ``truth`` the error and PSNR.

    >>> import numpy as np, convmat
    >>> w = np.array([[[[0, 0.1, 0], [0.1, 0.6, 0.1], [0, 0.1, 0]]]])
    >>> x = np.random.default_rng(0).random((1, 1, 8, 8))
    >>> y = convmat.conv(x, w, padding=1)
    >>> x_hat, info = convmat.deconv(y, w, (8, 8), padding=1, solver="cholesky", damp=1e-8)
    >>> bool(np.abs(x_hat - x).max() < 1e-6), info["solver"], len(info["items"])
    (True, 'cholesky', 1)
    """
    x, info = _native.deconv(_np.asarray(observed), _np.asarray(weight), input_size,
                             solver=solver, stride=stride, padding=padding, dilation=dilation,
                             groups=groups, padding_mode=padding_mode, operator=operator,
                             truth=None if truth is None else _np.asarray(truth), **options)
    return x, _json.loads(info)


def upsample_matrix(mode, input_size, size=None, scale_factor=None, align_corners=None,
                    recompute_scale_factor=None, channels=1, dtype=_np.float64):
    """The matrix U of ``interpolate(x, size, scale_factor, mode, align_corners)`` on
    ``channels`` planes of spatial size ``input_size`` (``U @ x.ravel()`` for ``x``
    of shape ``(channels, *input_size)``), a ``csr_array``.

    >>> import convmat
    >>> U = convmat.upsample_matrix("nearest", (2, 2), scale_factor=2)
    >>> U.shape, U.nnz
    ((16, 4), 16)
    """
    return _csr(_native.upsample_matrix_parts(mode, input_size, size=size,
                                              scale_factor=scale_factor,
                                              align_corners=align_corners,
                                              recompute_scale_factor=recompute_scale_factor,
                                              channels=channels,
                                              dtype=_np.dtype(dtype).name))


def max_unpool_matrix(indices, kernel_size, stride=None, padding=0, output_size=None,
                      dtype=_np.float64):
    """The matrix of ``max_unpool(·, indices, kernel_size, ...)``: one block of rows
    per plane of ``indices`` (``(C, *size)`` or ``(N, C, *size)``, int64 as
    ``max_pool`` returns them); its transpose gathers the pooled positions back.

    >>> import numpy as np, convmat
    >>> _, i = convmat.max_pool(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    >>> convmat.max_unpool_matrix(i, 2).shape
    (16, 4)
    """
    indices = _np.asarray(indices, dtype=_np.int64)
    return _csr(_native.max_unpool_matrix_parts(indices, _kernel(kernel_size, indices.ndim - 2),
                                                stride=stride, padding=padding,
                                                output_size=output_size,
                                                dtype=_np.dtype(dtype).name))


def pad_matrix(input_shape, pad, mode="constant", dtype=_np.float64):
    """The matrix P of ``pad(x, pad, mode)`` for ``x`` of ``input_shape``
    (``P @ x.ravel() == pad(x, pad, mode).ravel()``; constant padding by zeros).

    >>> import convmat
    >>> convmat.pad_matrix((1, 3), (1, 1), mode="reflect").toarray()
    array([[0., 1., 0.],
           [1., 0., 0.],
           [0., 1., 0.],
           [0., 0., 1.],
           [0., 1., 0.]])
    """
    return _csr(_native.pad_matrix_parts(list(input_shape), [int(p) for p in pad], mode=mode,
                                         dtype=_np.dtype(dtype).name))


def spectrum(weight, input_size, stride=1, padding=0, dilation=1, groups=1,
             padding_mode="zeros", top=None, method="auto"):
    """The singular values of a convolution layer's matrix C, descending:
    ``(values, info)``. All of them exactly where a transform diagonalises C
    (``circular`` padding by the FFT; ``symmetric`` with a symmetric kernel by the
    DCT), else the ``top`` largest by Lanczos bidiagonalisation; ``info`` names the
    method, σ_max, the tolerance and whether it converged.

    >>> import numpy as np, convmat
    >>> w = np.ones((1, 1, 3, 3))
    >>> s, info = convmat.spectrum(w, (8, 8), padding=1, padding_mode="circular")
    >>> float(s[0]), len(s), info["method"]
    (9.0, 64, 'exact-fourier')
    """
    values, info = _native.spectrum(_np.asarray(weight), input_size, stride=stride,
                                    padding=padding, dilation=dilation, groups=groups,
                                    padding_mode=padding_mode, top=top, method=method)
    return values, _json.loads(info)


def analyze(weight, input_size, stride=1, padding=0, dilation=1, groups=1,
            padding_mode="zeros", svd_max_elements=None, power_iterations=None):
    """What ``y = C·x`` reveals about ``x``: rank and nullity, the input positions no
    output reads, σ_max, σ_min (exact by the SVD while C has at most
    ``svd_max_elements`` entries densified, else bounds), the condition number and
    a summary — ``convmat analyze --json`` as a dict. Rank and nullity are under
    ``rank``/``nullity`` when exact (the SVD ran), else ``rank_at_most``/
    ``nullity_at_least``; an infinite condition number is ``None`` (JSON has no ∞).

    >>> import numpy as np, convmat
    >>> r = convmat.analyze(np.ones((1, 1, 3, 3)), (4, 4), stride=2)
    >>> r["rows"], r["cols"], r["rank"], r["zero_positions"][0]
    (1, 16, 1, [0, 0, 3])
    """
    return _json.loads(_native.analyze(_np.asarray(weight), input_size, stride=stride,
                                       padding=padding, dilation=dilation, groups=groups,
                                       padding_mode=padding_mode,
                                       svd_max_elements=svd_max_elements,
                                       power_iterations=power_iterations))


def simd_level():
    """The SIMD level convmat's kernels run at in this process: ``"avx512"``,
    ``"avx2"`` or ``"scalar"`` — the environment variable ``CONVMAT_SIMD`` where
    it names a level this processor has (read once, at the first call that needs
    it), else the widest the processor has. Name it beside every timing.

    >>> import convmat
    >>> convmat.simd_level() in ("avx512", "avx2", "scalar")
    True
    """
    return _native.simd_level()


def _kernel(size, rank):
    """A kernel size as one value per spatial dimension: a tuple as given (its
    length is the rank), an int repeated ``rank`` times, as PyTorch's ``*2d``
    functions read ``kernel_size=2``."""
    if _np.ndim(size):
        return tuple(int(v) for v in size)
    if rank < 1:
        raise ValueError(f"kernel_size={size}: an int needs an input with at least one "
                         "spatial dimension after (N, C); give a tuple")
    return (int(size),) * rank


def _csr(parts):
    data, indices, indptr, shape = parts
    # the arrays come from Rust already in SciPy's layout: no copy
    return _sp.csr_array((data, indices, indptr), shape=shape, copy=False)


def conv_matrix(weight, input_size, stride=1, padding=0, dilation=1, groups=1,
                padding_mode="zeros"):
    """The matrix C of ``conv(·, weight, ...)`` on one item of spatial size
    ``input_size``: ``C @ x.ravel() == conv(x, weight, ...).ravel()`` for ``x`` of
    shape ``(C_in, *input_size)``, as a ``scipy.sparse.csr_array`` of the weight's
    dtype (int32 indices where they fit, else int64), handed over without a copy.

    >>> import numpy as np, convmat
    >>> C = convmat.conv_matrix(np.ones((2, 1, 3)), (5,), padding=1)
    >>> C.shape, C.dtype
    ((10, 5), dtype('float64'))
    """
    return _csr(_native.conv_matrix_parts(_np.asarray(weight), input_size, stride=stride,
                                          padding=padding, dilation=dilation, groups=groups,
                                          padding_mode=padding_mode))


def conv_transpose_matrix(weight, input_size, stride=1, padding=0, output_padding=0, *,
                          groups=1, dilation=1):
    """The matrix of ``conv_transpose(·, weight, ...)`` on one item of spatial size
    ``input_size`` (the transposed convolution's input): Cᵀ of the forward
    convolution it is the adjoint of. ``groups`` and ``dilation`` are keywords only
    (``conv_transpose`` takes them in PyTorch's order, groups first).

    >>> import numpy as np, convmat
    >>> T = convmat.conv_transpose_matrix(np.ones((1, 1, 3, 3)), (2, 2), stride=2)
    >>> T.shape
    (25, 4)
    """
    return _csr(_native.conv_matrix_parts(_np.asarray(weight), input_size, stride=stride,
                                          padding=padding, dilation=dilation, groups=groups,
                                          transposed=True, output_padding=output_padding))


def operator(weight, input_size, stride=1, padding=0, dilation=1, groups=1,
             padding_mode="zeros", transposed=False, output_padding=0, method="auto"):
    """A layer's matrix as a ``scipy.sparse.linalg.LinearOperator`` that never forms
    it: ``matvec`` runs the convolution (with ``transposed``, the transposed
    convolution) on one flattened item, ``rmatvec`` its adjoint, both by convmat's
    matrix-free kernels (``method`` as in ``conv`` / ``conv_transpose``) — so
    SciPy's own ``lsqr`` and ``svds`` work on it.

    >>> import numpy as np, convmat
    >>> w = np.ones((1, 1, 3, 3))
    >>> A = convmat.operator(w, (6, 6), padding=1)
    >>> x = np.arange(36.0)
    >>> bool(np.allclose(A @ x, convmat.conv_matrix(w, (6, 6), padding=1) @ x))
    True
    """
    weight = _np.asarray(weight)
    return _linear_operator(_native.conv_operator(weight, input_size, stride=stride, padding=padding,
                               dilation=dilation, groups=groups, padding_mode=padding_mode,
                               transposed=transposed, output_padding=output_padding,
                               method=method))


def upsample_operator(mode, input_size, size=None, scale_factor=None, align_corners=None,
                      recompute_scale_factor=None, channels=1, dtype=_np.float64):
    """``upsample_matrix`` as a ``LinearOperator`` that never forms it (``rmatvec``
    the adjoint: each output's weight summed back onto its inputs).

    >>> import numpy as np, convmat
    >>> A = convmat.upsample_operator("bilinear", (4, 4), scale_factor=2)
    >>> x = np.arange(16.0)
    >>> bool(np.allclose(A @ x, convmat.upsample_matrix("bilinear", (4, 4), scale_factor=2) @ x))
    True
    """
    return _linear_operator(_native.upsample_operator(
        mode, input_size, size=size, scale_factor=scale_factor, align_corners=align_corners,
        recompute_scale_factor=recompute_scale_factor, channels=channels,
        dtype=_np.dtype(dtype).name))


def max_unpool_operator(indices, kernel_size, stride=None, padding=0, output_size=None,
                        dtype=_np.float64):
    """``max_unpool_matrix`` as a ``LinearOperator`` that never forms it."""
    indices = _np.asarray(indices, dtype=_np.int64)
    return _linear_operator(_native.max_unpool_operator(
        indices, _kernel(kernel_size, indices.ndim - 2), stride=stride, padding=padding,
        output_size=output_size, dtype=_np.dtype(dtype).name))


def _linear_operator(op):
    """A native operator as SciPy's ``LinearOperator`` (vectors cast to its dtype)."""
    dtype = _np.dtype(op.dtype)

    def matvec(v):
        return op.matvec(_np.ascontiguousarray(_np.ravel(v), dtype))

    def rmatvec(v):
        return op.rmatvec(_np.ascontiguousarray(_np.ravel(v), dtype))

    return _spla.LinearOperator(op.shape, matvec=matvec, rmatvec=rmatvec, dtype=dtype)


def from_torch(module, input_size, indices=None, channels=1, matrix_free=False):
    """The matrix of a PyTorch layer on one item of spatial size ``input_size``
    (with ``matrix_free``, its ``LinearOperator`` instead), read from the module's
    attributes by duck typing — torch is not imported:

    - ``nn.Conv1d/2d/3d`` (``weight``, ``stride``, ``padding``, ``dilation``,
      ``groups``, ``padding_mode``);
    - ``nn.ConvTranspose1d/2d/3d`` (also ``output_padding``);
    - ``nn.Upsample`` (``mode``, ``size``, ``scale_factor``, ``align_corners``) on
      ``channels`` planes;
    - ``nn.MaxUnpool1d/2d/3d`` (``kernel_size``, ``stride``, ``padding``) with the
      pooling's ``indices``.

    >>> import numpy as np, convmat
    >>> from types import SimpleNamespace
    >>> up = SimpleNamespace(mode="nearest", size=None, scale_factor=2.0, align_corners=None)
    >>> convmat.from_torch(up, (3, 3), channels=2).shape
    (72, 18)
    """
    if hasattr(module, "weight"):
        weight = _to_numpy(module.weight)
        common = dict(stride=_tuple(module.stride), dilation=_tuple(module.dilation),
                      groups=int(module.groups))
        padding = module.padding if isinstance(module.padding, str) else _tuple(module.padding)
        if hasattr(module, "output_padding") and getattr(module, "transposed", True):
            common.update(padding=padding, output_padding=_tuple(module.output_padding))
            if matrix_free:
                return operator(weight, input_size, transposed=True, **common)
            return conv_transpose_matrix(weight, input_size, **common)
        common.update(padding=padding, padding_mode=getattr(module, "padding_mode", "zeros"))
        if matrix_free:
            return operator(weight, input_size, **common)
        return conv_matrix(weight, input_size, **common)
    if hasattr(module, "mode"):
        args = dict(size=_tuple_or_none(module.size),
                    scale_factor=_tuple_or_none(module.scale_factor),
                    align_corners=module.align_corners,
                    recompute_scale_factor=getattr(module, "recompute_scale_factor", None),
                    channels=channels)
        if matrix_free:
            return upsample_operator(module.mode, input_size, **args)
        return upsample_matrix(module.mode, input_size, **args)
    pooling = ("return_indices", "ceil_mode", "count_include_pad", "divisor_override")
    if hasattr(module, "kernel_size") and not any(hasattr(module, a) for a in pooling):
        if indices is None:
            raise ValueError("a max-unpooling layer needs the pooling's indices: "
                             "from_torch(module, input_size, indices=...)")
        indices = _to_numpy(indices)
        args = dict(stride=_tuple_or_none(module.stride), padding=_tuple(module.padding))
        if matrix_free:
            return max_unpool_operator(indices, _tuple(module.kernel_size), **args)
        return max_unpool_matrix(indices, _tuple(module.kernel_size), **args)
    raise TypeError(f"from_torch: {type(module).__name__} is not a layer convmat knows "
                    "(Conv*d, ConvTranspose*d, Upsample, MaxUnpool*d; a pooling layer is "
                    "not linear)")


def _tuple(v):
    return tuple(_np.atleast_1d(v).tolist())


def _tuple_or_none(v):
    return None if v is None else _tuple(v)


def _to_numpy(t):
    """A tensor (or array) as a NumPy array, without importing torch."""
    if hasattr(t, "detach"):
        t = t.detach()
    if hasattr(t, "cpu"):
        t = t.cpu()
    if hasattr(t, "numpy"):
        return t.numpy()
    return _np.asarray(t)
