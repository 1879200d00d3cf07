"""Type stubs of convmat's native module (the Rust library's bindings)."""

from typing import Literal, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

Dims = Union[int, Sequence[int]]
Padding = Union[int, Sequence[int], Literal["same", "valid"]]
FloatArray = Union[npt.NDArray[np.float32], npt.NDArray[np.float64]]

def conv(
    input: FloatArray,
    weight: FloatArray,
    bias: Optional[FloatArray] = None,
    stride: Optional[Dims] = None,
    padding: Optional[Padding] = None,
    dilation: Optional[Dims] = None,
    groups: int = 1,
    padding_mode: str = "zeros",
    method: str = "auto",
) -> FloatArray: ...
def conv_transpose(
    input: FloatArray,
    weight: FloatArray,
    bias: Optional[FloatArray] = None,
    stride: Optional[Dims] = None,
    padding: Optional[Padding] = None,
    output_padding: Optional[Dims] = None,
    groups: int = 1,
    dilation: Optional[Dims] = None,
    method: str = "auto",
) -> FloatArray: ...
def conv_matrix_parts(
    weight: FloatArray,
    input_size: Dims,
    stride: Optional[Dims] = None,
    padding: Optional[Padding] = None,
    dilation: Optional[Dims] = None,
    groups: int = 1,
    padding_mode: str = "zeros",
    transposed: bool = False,
    output_padding: Optional[Dims] = None,
) -> Tuple[FloatArray, np.ndarray, np.ndarray, Tuple[int, int]]: ...

class Operator:
    @property
    def shape(self) -> Tuple[int, int]: ...
    @property
    def dtype(self) -> str: ...
    def matvec(self, x: FloatArray) -> FloatArray: ...
    def rmatvec(self, y: FloatArray) -> FloatArray: ...

def conv_operator(
    weight: FloatArray,
    input_size: Dims,
    stride: Optional[Dims] = None,
    padding: Optional[Padding] = None,
    dilation: Optional[Dims] = None,
    groups: int = 1,
    padding_mode: str = "zeros",
    transposed: bool = False,
    output_padding: Optional[Dims] = None,
    method: str = "auto",
) -> Operator: ...

def interpolate(
    input: FloatArray,
    size: Optional[Dims] = None,
    scale_factor: Optional[Union[float, Sequence[float]]] = None,
    mode: str = "nearest",
    align_corners: Optional[bool] = None,
    recompute_scale_factor: Optional[bool] = None,
) -> FloatArray: ...
def max_pool(
    input: FloatArray,
    kernel_size: Dims,
    stride: Optional[Dims] = None,
    padding: Optional[Dims] = None,
    dilation: Optional[Dims] = None,
    ceil_mode: bool = False,
) -> Tuple[FloatArray, npt.NDArray[np.int64]]: ...
def max_unpool(
    input: FloatArray,
    indices: npt.NDArray[np.int64],
    kernel_size: Dims,
    stride: Optional[Dims] = None,
    padding: Optional[Dims] = None,
    output_size: Optional[Dims] = None,
) -> FloatArray: ...
def pad(
    input: FloatArray, pad: Sequence[int], mode: str = "constant", value: float = 0.0
) -> FloatArray: ...
def unfold(
    input: FloatArray,
    kernel_size: Dims,
    dilation: Optional[Dims] = None,
    padding: Optional[Dims] = None,
    stride: Optional[Dims] = None,
) -> FloatArray: ...
def fold(
    input: FloatArray,
    output_size: Dims,
    kernel_size: Dims,
    dilation: Optional[Dims] = None,
    padding: Optional[Dims] = None,
    stride: Optional[Dims] = None,
) -> FloatArray: ...
def deconv(
    observed: FloatArray,
    weight: FloatArray,
    input_size: Dims,
    solver: str = "lsqr",
    stride: Optional[Dims] = None,
    padding: Optional[Padding] = None,
    dilation: Optional[Dims] = None,
    groups: int = 1,
    padding_mode: str = "zeros",
    operator: str = "auto",
    truth: Optional[FloatArray] = None,
    **options: object,
) -> Tuple[FloatArray, str]: ...
def upsample_matrix_parts(
    mode: str,
    input_size: Dims,
    size: Optional[Dims] = None,
    scale_factor: Optional[Union[float, Sequence[float]]] = None,
    align_corners: Optional[bool] = None,
    recompute_scale_factor: Optional[bool] = None,
    channels: int = 1,
    dtype: str = "float64",
) -> Tuple[FloatArray, np.ndarray, np.ndarray, Tuple[int, int]]: ...
def max_unpool_matrix_parts(
    indices: npt.NDArray[np.int64],
    kernel_size: Dims,
    stride: Optional[Dims] = None,
    padding: Optional[Dims] = None,
    output_size: Optional[Dims] = None,
    dtype: str = "float64",
) -> Tuple[FloatArray, np.ndarray, np.ndarray, Tuple[int, int]]: ...
def pad_matrix_parts(
    input_shape: Sequence[int], pad: Sequence[int], mode: str = "constant", dtype: str = "float64"
) -> Tuple[FloatArray, np.ndarray, np.ndarray, Tuple[int, int]]: ...
def upsample_operator(
    mode: str,
    input_size: Dims,
    size: Optional[Dims] = None,
    scale_factor: Optional[Union[float, Sequence[float]]] = None,
    align_corners: Optional[bool] = None,
    recompute_scale_factor: Optional[bool] = None,
    channels: int = 1,
    dtype: str = "float64",
) -> Operator: ...
def max_unpool_operator(
    indices: npt.NDArray[np.int64],
    kernel_size: Dims,
    stride: Optional[Dims] = None,
    padding: Optional[Dims] = None,
    output_size: Optional[Dims] = None,
    dtype: str = "float64",
) -> Operator: ...
def spectrum(
    weight: FloatArray,
    input_size: Dims,
    stride: Optional[Dims] = None,
    padding: Optional[Padding] = None,
    dilation: Optional[Dims] = None,
    groups: int = 1,
    padding_mode: str = "zeros",
    top: Optional[int] = None,
    method: str = "auto",
) -> Tuple[npt.NDArray[np.float64], str]: ...
def analyze(
    weight: FloatArray,
    input_size: Dims,
    stride: Optional[Dims] = None,
    padding: Optional[Padding] = None,
    dilation: Optional[Dims] = None,
    groups: int = 1,
    padding_mode: str = "zeros",
    svd_max_elements: Optional[int] = None,
    power_iterations: Optional[int] = None,
) -> str: ...
def simd_level() -> Literal["avx512", "avx2", "scalar"]: ...
