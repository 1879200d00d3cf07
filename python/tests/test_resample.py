"""The up-samplers, pooling, padding and patches equal PyTorch's on the repository's
fixtures (tests/fixtures/upsample, pad, and cases.json's unfold/fold)."""

import json
import os

import numpy as np
import pytest

import convmat
from conftest import FIXTURES, cases, load, tolerance


def fixture_cases(file, key, value):
    with open(os.path.join(FIXTURES, file)) as f:
        return [c for c in json.load(f)["cases"] if c[key] == value]


def part(folder, name, what):
    return np.load(os.path.join(FIXTURES, folder, f"{name}_{what}.npy"))


def tuple_or_none(v):
    return None if v is None else tuple(v)


@pytest.mark.parametrize("case", fixture_cases("upsample_cases.json", "op", "interpolate"),
                         ids=lambda c: c["name"])
def test_interpolate_equals_pytorch(case):
    x, want = part("upsample", case["name"], "x"), part("upsample", case["name"], "y")
    got = convmat.interpolate(x, size=tuple_or_none(case["size"]),
                              scale_factor=tuple_or_none(case["scale_factor"]),
                              mode=case["mode"], align_corners=case["align_corners"],
                              recompute_scale_factor=case["recompute_scale_factor"])
    assert got.dtype == x.dtype and got.shape == want.shape
    np.testing.assert_allclose(got, want, **tolerance(x.dtype))


@pytest.mark.parametrize("case", fixture_cases("upsample_cases.json", "op", "max_pool"),
                         ids=lambda c: c["name"])
def test_max_pool_equals_pytorch_values_and_indices(case):
    name = case["name"]
    x = part("upsample", name, "x")
    values, indices = convmat.max_pool(x, tuple(case["kernel"]),
                                       stride=tuple(case["stride"]) or None,
                                       padding=tuple(case["padding"]),
                                       dilation=tuple(case["dilation"]),
                                       ceil_mode=case["ceil_mode"])
    np.testing.assert_array_equal(values, part("upsample", name, "values"))
    np.testing.assert_array_equal(indices, part("upsample", name, "indices"))
    assert indices.dtype == np.int64


@pytest.mark.parametrize("case", fixture_cases("upsample_cases.json", "op", "max_unpool"),
                         ids=lambda c: c["name"])
def test_max_unpool_equals_pytorch(case):
    name = case["name"]
    values, indices = part("upsample", name, "values"), part("upsample", name, "indices")
    got = convmat.max_unpool(values, indices, tuple(case["kernel"]),
                             stride=tuple(case["stride"]) or None,
                             padding=tuple(case["padding"]),
                             output_size=tuple_or_none(case["output_size"]))
    np.testing.assert_array_equal(got, part("upsample", name, "out"))


@pytest.mark.parametrize("case", fixture_cases("pad_cases.json", "kind", "pad"),
                         ids=lambda c: c["name"])
def test_pad_equals_pytorch(case):
    x, want = part("pad", case["name"], "x"), part("pad", case["name"], "y")
    got = convmat.pad(x, case["pad"], mode=case["mode"], value=case["value"])
    assert got.dtype == x.dtype
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("case", fixture_cases("pad_cases.json", "kind", "refusal"),
                         ids=lambda c: c["name"])
def test_every_padding_pytorch_refuses_is_a_value_error(case):
    x = np.zeros(case["shape"], dtype=case["dtype"])
    with pytest.raises(ValueError):
        convmat.pad(x, case["pad"], mode=case["mode"], value=case["value"])


@pytest.mark.parametrize("case", cases("unfold_fold"), ids=lambda c: c["name"])
def test_unfold_and_fold_equal_pytorch(case):
    name = case["name"]
    opts = dict(dilation=tuple(case["dilation"]), padding=tuple(case["padding"]),
                stride=tuple(case["stride"]))
    x, cols = load(name, "x"), load(name, "cols")
    # the generator passed an int where the list has one value (PyTorch's _pair)
    k = case["kernel_size"]
    kernel = k[0] if len(k) == 1 else tuple(k)
    got = convmat.unfold(x, kernel, **opts)
    np.testing.assert_allclose(got, load(name, "unfold"), **tolerance(x.dtype))
    folded = convmat.fold(cols, tuple(case["input_size"]), kernel, **opts)
    np.testing.assert_allclose(folded, load(name, "fold"), **tolerance(x.dtype))


def test_indices_that_are_not_int64_are_converted_and_out_of_range_ones_refused():
    v, i = convmat.max_pool(np.arange(16.0).reshape(1, 1, 4, 4), 2)
    same = convmat.max_unpool(v, i.astype(np.int32), 2)
    np.testing.assert_array_equal(same, convmat.max_unpool(v, i, 2))
    with pytest.raises(ValueError):
        convmat.max_unpool(v, i + 100, 2)
