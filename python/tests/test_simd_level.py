"""convmat.simd_level() names the level the kernels run at, as CONVMAT_SIMD asks."""

import os
import subprocess
import sys

import convmat


def _level_in_a_new_process(asked):
    """convmat.simd_level() in a fresh interpreter with CONVMAT_SIMD=asked (unset
    for None)."""
    env = {k: v for k, v in os.environ.items() if k != "CONVMAT_SIMD"}
    if asked is not None:
        env["CONVMAT_SIMD"] = asked
    code = "import convmat; print(convmat.simd_level())"
    # from this folder, so that the installed package is imported, not ../convmat
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                         text=True, check=True, cwd=os.path.dirname(__file__))
    return out.stdout.strip()


def test_simd_level_names_the_level_in_use_and_follows_convmat_simd():
    widest = _level_in_a_new_process(None)
    assert widest in ("avx512", "avx2", "scalar")
    # each level up to the widest is taken when asked for; one above it is not
    # (the widest stays), nor a name that is no level
    order = ["scalar", "avx2", "avx512"]
    for level in order:
        want = level if order.index(level) <= order.index(widest) else widest
        assert _level_in_a_new_process(level) == want, level
    assert _level_in_a_new_process("sse9") == widest
    # this process: as CONVMAT_SIMD here says
    assert convmat.simd_level() == _level_in_a_new_process(os.environ.get("CONVMAT_SIMD"))
