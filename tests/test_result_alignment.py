"""Results fastconv allocates start on a 64-byte cache line from 4 KiB on (_plans.py,
empty_aligned: NumPy's start 16 bytes past one, which splits every vector store of a
kernel over two lines), whatever the heap's state; they are ordinary C-contiguous,
writeable arrays of the right dtype and shape, with the values of a call into an
out= array of any alignment."""

import numpy as np
import pytest

import fastconv
from fastconv._plans import empty_aligned
from kernel_checks import at_offset


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
@pytest.mark.parametrize("shape", [(0,), (3,), (1023,), (1024,), (5, 7, 9, 11), (2, 0, 4096)])
def test_empty_aligned(shape, dtype):
    held = [np.empty(k, np.uint8) for k in (1, 17, 4100, 70000)]  # vary the heap
    a = empty_aligned(shape, dtype)
    assert a.shape == shape and a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable
    if a.nbytes >= 4096:
        assert a.ctypes.data % 64 == 0
    a[...] = 1  # all of it is writable memory
    assert a.sum() == a.size
    del held


@pytest.mark.parametrize("shape", [(2**31, 2**31), (1, 2**31 - 1, 2**31 - 1, 4096)])
def test_empty_aligned_beyond_any_buffer(shape):
    """The size in bytes is worked out in C (_core.empty_aligned): one that does not fit an
    index is NumPy's error, never a view of a buffer of the wrapped size ((2**31, 2**31)
    float32 is 2**64 bytes, 0 once wrapped)."""
    with pytest.raises(ValueError, match="too big"):
        empty_aligned(shape, np.float32)


@pytest.mark.parametrize("dtype", [np.float16, np.float32, np.float64])
def test_results_on_a_line_and_equal_to_out(dtype, rng):
    x = rng.standard_normal((4, 16, 16, 3)).astype(dtype)
    w = rng.standard_normal((3, 3, 3, 32)).astype(dtype)
    calls = {
        "conv2d": lambda out=None: fastconv.conv2d(x, w, 1, "SAME", out=out),
        "depthwise": lambda out=None: fastconv.depthwise_conv2d(
            x, w[..., :3, :2].copy(), [1, 1, 1, 1], "SAME", out=out
        ),
        "max_pool": lambda out=None: fastconv.max_pool2d(x, 2, 1, "SAME", out=out),
    }
    for name, call in calls.items():
        got = call()
        assert got.nbytes >= 4096 and got.ctypes.data % 64 == 0, name
        assert got.dtype == dtype and got.flags.c_contiguous and got.flags.writeable
        for offset in (0, 16, 32, 48):
            out = at_offset(np.zeros_like(got), offset)
            assert call(out) is out
            np.testing.assert_array_equal(out, got, err_msg=f"{name} {offset}")
