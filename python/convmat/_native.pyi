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
