"""Every library error is a Python exception with the library's message; from_torch
reads a layer's attributes by duck typing."""

from types import SimpleNamespace

import numpy as np
import pytest

import convmat


def test_bad_geometry_is_a_value_error_with_pytorchs_message():
    with pytest.raises(ValueError, match="expected input.*to have 2 channels"):
        convmat.conv(np.ones((1, 1, 4, 4)), np.ones((1, 2, 3, 3)))
    with pytest.raises(ValueError):
        convmat.conv_matrix(np.ones((1, 1, 9, 9)), (4, 4))  # kernel larger than the input
    with pytest.raises(ValueError, match="padding_mode|reflect"):
        convmat.conv(np.ones((1, 1, 4)), np.ones((1, 1, 3)), padding=1, padding_mode="mirror")
    with pytest.raises(ValueError, match="method"):
        convmat.conv(np.ones((1, 1, 4)), np.ones((1, 1, 3)), method="gemm")
    with pytest.raises(ValueError, match="stride"):
        convmat.conv(np.ones((1, 1, 4)), np.ones((1, 1, 3)), stride=-1)


def test_a_dtype_that_is_not_float_is_a_type_error():
    with pytest.raises(TypeError, match="float32 or float64"):
        convmat.conv(np.ones((1, 1, 4), np.int64), np.ones((1, 1, 3), np.int64))
    with pytest.raises(TypeError, match="float32 or float64"):
        convmat.conv(np.ones((1, 1, 4), np.float32), np.ones((1, 1, 3), np.float64))
    with pytest.raises(TypeError):
        convmat.conv_matrix(np.ones((1, 1, 3), np.int32), (5,))


def test_a_matrix_past_the_memory_budget_is_a_memory_error():
    # 512 channels in and out on 1024²: about 2.4 · 10¹² stored entries
    w = np.ones((512, 512, 3, 3), np.float32)
    with pytest.raises(MemoryError, match="budget|bytes"):
        convmat.conv_matrix(w, (1024, 1024), padding=1)


def test_from_torch_reads_a_conv_layer():
    w = np.arange(2 * 3 * 3 * 3, dtype=np.float64).reshape(2, 3, 3, 3)
    layer = SimpleNamespace(weight=w, stride=(2, 1), padding=(1, 0), dilation=(1, 1),
                            groups=1, padding_mode="reflect", transposed=False,
                            output_padding=(0, 0))
    got = convmat.from_torch(layer, (6, 5))
    want = convmat.conv_matrix(w, (6, 5), stride=(2, 1), padding=(1, 0),
                               padding_mode="reflect")
    assert (got != want).nnz == 0 and got.shape == want.shape


def test_from_torch_reads_a_transposed_layer_and_a_tensor_like_weight():
    class Tensor:  # what torch.Tensor offers: detach().cpu().numpy()
        def __init__(self, a):
            self.a = a

        def detach(self):
            return self

        def cpu(self):
            return self

        def numpy(self):
            return self.a

    w = np.ones((2, 3, 4, 4), np.float32)
    layer = SimpleNamespace(weight=Tensor(w), stride=(2, 2), padding=(1, 1), dilation=(1, 1),
                            groups=1, output_padding=(1, 1), transposed=True)
    got = convmat.from_torch(layer, (3, 3))
    want = convmat.conv_transpose_matrix(w, (3, 3), stride=2, padding=1, output_padding=1)
    assert got.shape == want.shape == (3 * 7 * 7, 2 * 3 * 3)
    assert (got != want).nnz == 0


def test_analyze_reports_rank_zero_columns_and_conditioning():
    # 4×4, 3×3, stride 2, no padding: one output, reading 9 of 16 inputs
    r = convmat.analyze(np.ones((1, 1, 3, 3)), (4, 4), stride=2)
    assert (r["rows"], r["cols"], r["rank"], r["nullity"]) == (1, 16, 1, 15)
    assert len(r["zero_columns"]) == 7 and [0, 3, 3] in r["zero_positions"]
    # a full, well-posed layer: full column rank, σ values the SVD of the dense C gives
    w = np.array([[[[0, 0.1, 0], [0.1, 0.6, 0.1], [0, 0.1, 0]]]])
    r = convmat.analyze(w, (5, 5), padding=1)
    s = np.linalg.svd(convmat.conv_matrix(w, (5, 5), padding=1).toarray(), compute_uv=False)
    assert r["full_column_rank"] is True and r["sigma_min_exact"] is True
    np.testing.assert_allclose([r["sigma_max"], r["sigma_min"]], [s[0], s[-1]], rtol=1e-12)
    np.testing.assert_allclose(r["condition"], s[0] / s[-1], rtol=1e-10)


def test_from_torch_refuses_a_pooling_layer_and_reads_recompute_scale_factor():
    pool = SimpleNamespace(kernel_size=(2, 2), stride=(2, 2), padding=(0, 0),
                           dilation=(1, 1), ceil_mode=False, return_indices=True)
    with pytest.raises(TypeError, match="not linear"):
        convmat.from_torch(pool, (4, 4), indices=np.zeros((1, 1, 2, 2), np.int64))
    up = SimpleNamespace(mode="bilinear", size=None, scale_factor=(1.7, 1.7),
                         align_corners=False, recompute_scale_factor=True)
    got = convmat.from_torch(up, (5, 5))
    want = convmat.upsample_matrix("bilinear", (5, 5), scale_factor=(1.7, 1.7),
                                   align_corners=False, recompute_scale_factor=True)
    assert (got != want).nnz == 0
    assert (got != convmat.upsample_matrix("bilinear", (5, 5), scale_factor=(1.7, 1.7),
                                           align_corners=False)).nnz > 0


def test_an_operator_output_past_the_memory_budget_is_a_memory_error():
    A = convmat.upsample_operator("nearest", (1, 1), size=(10**6, 10**6))
    with pytest.raises(MemoryError):
        A @ np.ones(1)
    with pytest.raises(ValueError, match="channels"):
        convmat.upsample_operator("nearest", (2, 2), scale_factor=2, channels=2**62)


def test_an_int_kernel_needs_a_spatial_dimension():
    with pytest.raises(ValueError, match="kernel_size"):
        convmat.max_pool(np.ones((4,)), 2)
