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
    ``phase``, ``zero-insert``, ``fft`` or ``sparse``.

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


def conv_transpose_matrix(weight, input_size, stride=1, padding=0, output_padding=0,
                          dilation=1, groups=1):
    """The matrix of ``conv_transpose(·, weight, ...)`` on one item of spatial size
    ``input_size`` (the transposed convolution's input): Cᵀ of the forward
    convolution it is the adjoint of.

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
    op = _native.conv_operator(weight, input_size, stride=stride, padding=padding,
                               dilation=dilation, groups=groups, padding_mode=padding_mode,
                               transposed=transposed, output_padding=output_padding,
                               method=method)
    dtype = _np.dtype(op.dtype)

    def matvec(v):
        return op.matvec(_np.ascontiguousarray(_np.ravel(v), dtype))

    def rmatvec(v):
        return op.rmatvec(_np.ascontiguousarray(_np.ravel(v), dtype))

    return _spla.LinearOperator(op.shape, matvec=matvec, rmatvec=rmatvec, dtype=dtype)


def from_torch(module, input_size):
    """The matrix of a PyTorch layer (``nn.Conv1d/2d/3d``, ``nn.ConvTranspose1d/2d/3d``)
    on one item of spatial size ``input_size``, read from the module's attributes
    (``weight``, ``stride``, ``padding``, ``dilation``, ``groups``,
    ``padding_mode``, ``output_padding``) by duck typing: torch is not imported.
    """
    weight = _to_numpy(module.weight)
    common = dict(stride=tuple(module.stride), dilation=tuple(module.dilation),
                  groups=int(module.groups))
    padding = module.padding if isinstance(module.padding, str) else tuple(module.padding)
    if hasattr(module, "output_padding") and getattr(module, "transposed", True):
        return conv_transpose_matrix(weight, input_size, padding=padding,
                                     output_padding=tuple(module.output_padding), **common)
    return conv_matrix(weight, input_size, padding=padding,
                       padding_mode=getattr(module, "padding_mode", "zeros"), **common)


def _to_numpy(t):
    """A tensor (or array) as a NumPy array, without importing torch."""
    if hasattr(t, "detach"):
        t = t.detach()
    if hasattr(t, "cpu"):
        t = t.cpu()
    if hasattr(t, "numpy"):
        return t.numpy()
    return _np.asarray(t)
