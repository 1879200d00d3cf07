"""Shared helpers: the repository's PyTorch fixtures (tests/fixtures), read without torch."""

import json
import os

import numpy as np
import pytest

FIXTURES = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "fixtures")


def load(name, part):
    return np.load(os.path.join(FIXTURES, "data", f"{name}_{part}.npy"))


def has(name, part):
    return os.path.exists(os.path.join(FIXTURES, "data", f"{name}_{part}.npy"))


def cases(op):
    with open(os.path.join(FIXTURES, "cases.json")) as f:
        return [c for c in json.load(f)["cases"] if c["op"] == op]


def padding_of(case):
    p = case["padding"]
    return p if isinstance(p, str) else tuple(p)


def tolerance(dtype):
    """Agreement with PyTorch's own result: float32 sums rounded differently."""
    return dict(rtol=1e-4, atol=1e-5) if dtype == np.float32 else dict(rtol=1e-10, atol=1e-12)


@pytest.fixture
def rng():
    return np.random.default_rng(7)
