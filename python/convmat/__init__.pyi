"""Type stubs of the convmat package's public functions."""

from typing import Any, Dict, Literal, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt
import scipy.sparse
from scipy.sparse.linalg import LinearOperator

Dims = Union[int, Sequence[int]]
Padding = Union[int, Sequence[int], Literal["same", "valid"]]
FloatArray = Union[npt.NDArray[np.float32], npt.NDArray[np.float64]]
IndexArray = npt.NDArray[np.int64]
DType = Union[type, np.dtype, str]

def conv(
    input: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: Optional[npt.ArrayLike] = None,
    stride: Dims = 1,
    padding: Padding = 0,
    dilation: Dims = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    method: str = "auto",
) -> FloatArray: ...
def conv_transpose(
    input: npt.ArrayLike,
    weight: npt.ArrayLike,
    bias: Optional[npt.ArrayLike] = None,
    stride: Dims = 1,
    padding: Dims = 0,
    output_padding: Dims = 0,
    groups: int = 1,
    dilation: Dims = 1,
    method: str = "auto",
) -> FloatArray: ...
def interpolate(
    input: npt.ArrayLike,
    size: Optional[Dims] = None,
    scale_factor: Optional[Union[float, Sequence[float]]] = None,
    mode: str = "nearest",
    align_corners: Optional[bool] = None,
    recompute_scale_factor: Optional[bool] = None,
) -> FloatArray: ...
def max_pool(
    input: npt.ArrayLike,
    kernel_size: Dims,
    stride: Optional[Dims] = None,
    padding: Dims = 0,
    dilation: Dims = 1,
    ceil_mode: bool = False,
) -> Tuple[FloatArray, IndexArray]: ...
def max_unpool(
    input: npt.ArrayLike,
    indices: npt.ArrayLike,
    kernel_size: Dims,
    stride: Optional[Dims] = None,
    padding: Dims = 0,
    output_size: Optional[Dims] = None,
) -> FloatArray: ...
def pad(
    input: npt.ArrayLike, pad: Sequence[int], mode: str = "constant", value: float = 0.0
) -> FloatArray: ...
def unfold(
    input: npt.ArrayLike, kernel_size: Dims, dilation: Dims = 1, padding: Dims = 0, stride: Dims = 1
) -> FloatArray: ...
def fold(
    input: npt.ArrayLike,
    output_size: Dims,
    kernel_size: Dims,
    dilation: Dims = 1,
    padding: Dims = 0,
    stride: Dims = 1,
) -> FloatArray: ...
def conv_matrix(
    weight: npt.ArrayLike,
    input_size: Dims,
    stride: Dims = 1,
    padding: Padding = 0,
    dilation: Dims = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
) -> scipy.sparse.csr_array: ...
def conv_transpose_matrix(
    weight: npt.ArrayLike,
    input_size: Dims,
    stride: Dims = 1,
    padding: Dims = 0,
    output_padding: Dims = 0,
    *,
    groups: int = 1,
    dilation: Dims = 1,
) -> scipy.sparse.csr_array: ...
def upsample_matrix(
    mode: str,
    input_size: Dims,
    size: Optional[Dims] = None,
    scale_factor: Optional[Union[float, Sequence[float]]] = None,
    align_corners: Optional[bool] = None,
    recompute_scale_factor: Optional[bool] = None,
    channels: int = 1,
    dtype: DType = ...,
) -> scipy.sparse.csr_array: ...
def max_unpool_matrix(
    indices: npt.ArrayLike,
    kernel_size: Dims,
    stride: Optional[Dims] = None,
    padding: Dims = 0,
    output_size: Optional[Dims] = None,
    dtype: DType = ...,
) -> scipy.sparse.csr_array: ...
def pad_matrix(
    input_shape: Sequence[int], pad: Sequence[int], mode: str = "constant", dtype: DType = ...
) -> scipy.sparse.csr_array: ...
def operator(
    weight: npt.ArrayLike,
    input_size: Dims,
    stride: Dims = 1,
    padding: Padding = 0,
    dilation: Dims = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    transposed: bool = False,
    output_padding: Dims = 0,
    method: str = "auto",
) -> LinearOperator: ...
def upsample_operator(
    mode: str,
    input_size: Dims,
    size: Optional[Dims] = None,
    scale_factor: Optional[Union[float, Sequence[float]]] = None,
    align_corners: Optional[bool] = None,
    recompute_scale_factor: Optional[bool] = None,
    channels: int = 1,
    dtype: DType = ...,
) -> LinearOperator: ...
def max_unpool_operator(
    indices: npt.ArrayLike,
    kernel_size: Dims,
    stride: Optional[Dims] = None,
    padding: Dims = 0,
    output_size: Optional[Dims] = None,
    dtype: DType = ...,
) -> LinearOperator: ...
def deconv(
    observed: npt.ArrayLike,
    weight: npt.ArrayLike,
    input_size: Dims,
    solver: str = "lsqr",
    stride: Dims = 1,
    padding: Padding = 0,
    dilation: Dims = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    operator: str = "auto",
    truth: Optional[npt.ArrayLike] = None,
    **options: Any,
) -> Tuple[FloatArray, Dict[str, Any]]: ...
def spectrum(
    weight: npt.ArrayLike,
    input_size: Dims,
    stride: Dims = 1,
    padding: Padding = 0,
    dilation: Dims = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    top: Optional[int] = None,
    method: str = "auto",
) -> Tuple[npt.NDArray[np.float64], Dict[str, Any]]: ...
def analyze(
    weight: npt.ArrayLike,
    input_size: Dims,
    stride: Dims = 1,
    padding: Padding = 0,
    dilation: Dims = 1,
    groups: int = 1,
    padding_mode: str = "zeros",
    svd_max_elements: Optional[int] = None,
    power_iterations: Optional[int] = None,
) -> Dict[str, Any]: ...
def from_torch(
    module: Any,
    input_size: Dims,
    indices: Optional[npt.ArrayLike] = None,
    channels: int = 1,
    matrix_free: bool = False,
) -> Union[scipy.sparse.csr_array, LinearOperator]: ...
def simd_level() -> Literal["avx512", "avx2", "scalar"]: ...
