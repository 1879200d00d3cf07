"""The type stubs name every public function with the package's own parameters."""

import ast
import inspect
import os

import convmat

STUB = os.path.join(os.path.dirname(__file__), "..", "convmat", "__init__.pyi")


def test_every_public_function_has_a_stub_with_its_parameters():
    with open(STUB) as f:
        tree = ast.parse(f.read())
    stubs = {n.name: n for n in tree.body if isinstance(n, ast.FunctionDef)}
    assert set(convmat.__all__) <= set(stubs), set(convmat.__all__) - set(stubs)
    for name in convmat.__all__:
        a = stubs[name].args
        stub_params = [p.arg for p in a.args + a.kwonlyargs]
        if a.kwarg:
            stub_params.append(a.kwarg.arg)
        real = list(inspect.signature(getattr(convmat, name)).parameters)
        assert stub_params == real, (name, stub_params, real)
