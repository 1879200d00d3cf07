"""The package's docstring examples run and hold."""

import doctest

import convmat


def test_every_docstring_example_holds():
    result = doctest.testmod(convmat, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted >= 8
    assert result.failed == 0
